//! The project's packaging settings: the `[package]` table of `eider.toml` beside the
//! Drakefile (the DrakeSpec has no field for them).
//!
//! ```toml
//! [package]
//! # Files and directories (relative to the project) that go into a layer of their own, below
//! # the source: they change less often, so their layer is reused between versions.
//! dependencies = ["Cargo.lock", "vendor"]
//! # Where the source goes in the image when the job's container has no sourceMountPath.
//! path = "/src"
//!
//! [package.jobs.build]
//! dependencies = ["package-lock.json", "node_modules"]
//! ```

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;

/// The file's name, beside the Drakefile.
pub const SETTINGS_FILE: &str = "eider.toml";

/// Where the source goes when neither the job nor the settings nor `--path` say.
pub const DEFAULT_SOURCE_PATH: &str = "/src";

/// The `[package]` table.
#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PackageSettings {
    /// Dependency paths of every job without its own list.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Where the source goes when the job's container has no `sourceMountPath`.
    pub path: Option<String>,
    /// Per-job settings.
    #[serde(default)]
    pub jobs: BTreeMap<String, JobSettings>,
}

/// `[package.jobs.NAME]`.
#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct JobSettings {
    /// This job's dependency paths, instead of the table's.
    pub dependencies: Option<Vec<String>>,
    /// Where this job's source goes, instead of the table's.
    pub path: Option<String>,
}

/// Packaging settings that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid settings.
    #[error("invalid packaging settings in {path}")]
    Parse {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: toml::de::Error,
    },
    /// A dependency path leaves the project.
    #[error(
        "invalid packaging settings in {path}: dependency `{dependency}` must be a path inside \
         the project, relative to it"
    )]
    Dependency {
        /// The file.
        path: Utf8PathBuf,
        /// The path given.
        dependency: String,
    },
}

/// The whole file: only `[package]` is packaging's; other tables are left to their readers.
#[derive(Debug, Default, Deserialize)]
struct SettingsFile {
    #[serde(default)]
    package: PackageSettings,
}

impl PackageSettings {
    /// The settings in `project/eider.toml`; defaults when there is no such file.
    pub fn load(project: &Utf8Path) -> Result<PackageSettings, SettingsError> {
        let path = project.join(SETTINGS_FILE);
        // The repository's file: a FIFO or a link to a device is refused, never read forever.
        let read = eider_regular_file::read_regular(&path, eider_regular_file::MAX_PROJECT_FILE)
            .and_then(|bytes| {
                String::from_utf8(bytes).map_err(|error| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, error.utf8_error())
                })
            });
        let text = match read {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(PackageSettings::default());
            }
            Err(source) => return Err(SettingsError::Read { path, source }),
        };
        let file: SettingsFile = match toml::from_str(&text) {
            Ok(file) => file,
            Err(source) => return Err(SettingsError::Parse { path, source }),
        };
        for dependency in file.package.dependencies.iter().chain(
            file.package
                .jobs
                .values()
                .flat_map(|job| job.dependencies.iter().flatten()),
        ) {
            check_relative(&path, dependency)?;
        }
        Ok(file.package)
    }

    /// The dependency paths of `job`.
    pub fn dependencies_of(&self, job: &str) -> &[String] {
        self.jobs
            .get(job)
            .and_then(|settings| settings.dependencies.as_deref())
            .unwrap_or(&self.dependencies)
    }

    /// Where the source of `job` goes when its container does not say.
    pub fn path_of(&self, job: &str) -> Option<&str> {
        self.jobs
            .get(job)
            .and_then(|settings| settings.path.as_deref())
            .or(self.path.as_deref())
    }
}

/// A dependency path must stay inside the project.
fn check_relative(file: &Utf8Path, dependency: &str) -> Result<(), SettingsError> {
    let path = Utf8Path::new(dependency);
    let escapes = path.is_absolute()
        || path
            .components()
            .any(|component| matches!(component, camino::Utf8Component::ParentDir));
    if dependency.is_empty() || escapes {
        return Err(SettingsError::Dependency {
            path: file.to_owned(),
            dependency: dependency.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<PackageSettings, SettingsError> {
        let project = tempfile::tempdir().expect("temporary directory");
        let root = Utf8Path::from_path(project.path()).expect("UTF-8 path");
        fs_err::write(root.join(SETTINGS_FILE), text).expect("write settings");
        PackageSettings::load(root)
    }

    #[test]
    fn jobs_have_their_own_dependencies_or_the_table_s() {
        let settings = load(
            "[run]\ntimeout = \"5m\"\n[package]\ndependencies = [\"Cargo.lock\"]\npath = \"/app\"\n\
             [package.jobs.web]\ndependencies = [\"package-lock.json\", \"node_modules\"]\n",
        )
        .expect("valid settings");
        assert_eq!(settings.dependencies_of("build"), ["Cargo.lock"]);
        assert_eq!(
            settings.dependencies_of("web"),
            ["package-lock.json", "node_modules"]
        );
        assert_eq!(settings.path_of("web"), Some("/app"));
    }

    #[test]
    fn no_file_means_defaults() {
        let project = tempfile::tempdir().expect("temporary directory");
        let root = Utf8Path::from_path(project.path()).expect("UTF-8 path");
        assert_eq!(
            PackageSettings::load(root).expect("defaults"),
            PackageSettings::default()
        );
    }

    #[test]
    fn dependencies_outside_the_project_and_unknown_keys_are_refused() {
        assert!(load("[package]\ndependencies = [\"../secrets\"]\n").is_err());
        assert!(load("[package]\ndependencies = [\"/etc\"]\n").is_err());
        assert!(load("[package]\ndependencis = [\"a\"]\n").is_err());
    }
}
