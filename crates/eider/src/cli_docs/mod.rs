//! The documents generated from the clap definitions of `cli.rs` and checked in under `docs/`:
//! the Markdown reference (`docs/cli.md`), the man pages (`docs/man/`) and the shell completion
//! scripts (`docs/completions/`, what `eider completions SHELL` prints). The tests here
//! regenerate all of them in memory and fail, naming the stale files, when the checked-in ones
//! differ; `EIDER_UPDATE_GOLDEN=1` rewrites them instead.

mod man;
mod markdown;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use clap_complete::aot::Generator;

use crate::cli::Cli;

/// Where the documents live: `docs/` at the root of the workspace.
const DOCS_DIRECTORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs");

/// The command that rewrites every document.
const REGENERATE: &str = "EIDER_UPDATE_GOLDEN=1 cargo test -p eider --bin eider cli_docs";

/// The folders under `docs/` whose every file is generated here.
const GENERATED_DIRECTORIES: [&str; 2] = ["man", "completions"];

/// Every shell `eider completions` knows, in the order of its help.
const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Elvish,
    Shell::Fish,
    Shell::PowerShell,
    Shell::Zsh,
];

/// Whether the run was asked to rewrite the documents instead of failing.
fn updating() -> bool {
    std::env::var_os("EIDER_UPDATE_GOLDEN").is_some_and(|value| !value.is_empty() && value != "0")
}

/// Every generated document, by its path under `docs/`.
fn documents() -> BTreeMap<String, String> {
    // As the man pages and the reference document it: the `help` subcommand is `--help`.
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    let mut documents = BTreeMap::new();
    documents.insert("cli.md".to_owned(), markdown::reference(&root, REGENERATE));
    for (file_name, page) in man::pages(&root) {
        documents.insert(format!("man/{file_name}"), page);
    }
    for shell in SHELLS {
        documents.insert(
            format!("completions/{}", shell.file_name(root.get_name())),
            crate::commands::completions::script(shell),
        );
    }
    documents
}

fn docs_path(relative: &str) -> PathBuf {
    Path::new(DOCS_DIRECTORY).join(relative)
}

#[test]
fn checked_in_completions_man_pages_and_cli_reference_are_current() {
    let update = updating();
    let mut stale = Vec::new();
    for (relative, expected) in documents() {
        let path = docs_path(&relative);
        // A missing or unreadable file is as stale as an outdated one.
        if fs_err::read_to_string(&path).ok().as_deref() == Some(expected.as_str()) {
            continue;
        }
        if update {
            if let Some(parent) = path.parent() {
                fs_err::create_dir_all(parent).expect("the docs directory can be created");
            }
            fs_err::write(&path, expected).expect("the document can be written");
        } else {
            stale.push(format!("  docs/{relative}"));
        }
    }
    assert!(
        stale.is_empty(),
        "these checked-in documents differ from what the clap definitions of \
         crates/eider/src/cli.rs generate:\n{}\nhint: regenerate them with `{REGENERATE}`",
        stale.join("\n")
    );
}

/// A man page or a completion script of a command that is gone would document what eider no
/// longer does.
#[test]
fn no_man_page_or_completion_script_is_left_of_what_no_longer_exists() {
    let update = updating();
    let documents = documents();
    let mut unexpected = Vec::new();
    for directory in GENERATED_DIRECTORIES {
        let Ok(entries) = fs_err::read_dir(docs_path(directory)) else {
            // The other test reports the missing directory.
            continue;
        };
        for entry in entries {
            let entry = entry.expect("the docs directory can be listed");
            let relative = format!("{directory}/{}", entry.file_name().to_string_lossy());
            if documents.contains_key(&relative) {
                continue;
            }
            if update {
                fs_err::remove_file(entry.path()).expect("the leftover can be removed");
            } else {
                unexpected.push(format!("  docs/{relative}"));
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "these files are generated from nothing any more:\n{}\nhint: remove them with \
         `{REGENERATE}`",
        unexpected.join("\n")
    );
}
