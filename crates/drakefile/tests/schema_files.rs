//! The JSON Schemas checked in under `schema/` are exactly what `json_schema_text` generates, so
//! editors that point at them never see a stale field set.
//!
//! Regenerate them with `EIDER_UPDATE_GOLDEN=1 cargo test -p drakefile --test schema_files`.

use std::path::{Path, PathBuf};

use drakefile::SpecVersion;
use drakefile::schema::{file_name, json_schema_text};

/// Where the checked-in schemas live: `schema/` at the root of the workspace.
const SCHEMA_DIRECTORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema");

const REGENERATE_HINT: &str = "hint: regenerate them with `EIDER_UPDATE_GOLDEN=1 cargo test -p drakefile --test schema_files`";

/// Whether the run was asked to rewrite the files instead of failing.
fn updating() -> bool {
    std::env::var_os("EIDER_UPDATE_GOLDEN").is_some_and(|value| !value.is_empty() && value != "0")
}

fn schema_path(version: SpecVersion) -> PathBuf {
    Path::new(SCHEMA_DIRECTORY).join(file_name(version))
}

#[test]
fn checked_in_schemas_are_current() {
    let update = updating();
    let mut stale = Vec::new();
    for version in SpecVersion::ALL {
        let path = schema_path(version);
        let expected = json_schema_text(version);
        // A missing or unreadable file is as stale as an outdated one.
        let actual = fs_err::read_to_string(&path).ok();
        if actual.as_deref() == Some(expected.as_str()) {
            continue;
        }
        if update {
            fs_err::create_dir_all(SCHEMA_DIRECTORY).expect("the schema directory can be created");
            fs_err::write(&path, expected).expect("the schema file can be written");
        } else {
            stale.push(format!("  schema/{}", file_name(version)));
        }
    }
    assert!(
        stale.is_empty(),
        "these checked-in JSON Schemas differ from what `drakefile::schema::json_schema_text` \
         generates:\n{}\n{REGENERATE_HINT}",
        stale.join("\n")
    );
}

/// A schema file for a version eider no longer supports would mislead editors.
#[test]
fn no_schema_for_an_unsupported_version() {
    let expected: Vec<String> = SpecVersion::ALL.into_iter().map(file_name).collect();
    let Ok(entries) = fs_err::read_dir(SCHEMA_DIRECTORY) else {
        // `checked_in_schemas_are_current` reports the missing directory.
        return;
    };
    let mut unexpected = Vec::new();
    for entry in entries {
        let name = entry
            .expect("the schema directory can be listed")
            .file_name();
        let name = name.to_string_lossy();
        if name.starts_with("drakefile-")
            && name.ends_with(".json")
            && !expected.iter().any(|file| *file == name)
        {
            unexpected.push(format!("  schema/{name}"));
        }
    }
    assert!(
        unexpected.is_empty(),
        "these schema files belong to no supported DrakeSpec version; delete them:\n{}",
        unexpected.join("\n")
    );
}
