//! The eider config file: defaults for `eider run` (and `eider manifests`, which prints what such
//! a run creates) that belong to the machine or the user, not to a project (the DrakeSpec has no
//! field for them).
//!
//! ```toml
//! [run]
//! timeout = "30m"
//! grace-period = "10s"
//! network = "ci"
//! allow-privileged = false
//! allow-docker-socket = false
//! log-limit = "4MiB"
//! engine-timeout = "60s"
//! backend = "docker"
//!
//! [kubernetes]
//! context = "ci"
//! namespace = "builds"
//! storage-class = "nfs"
//! shared-storage-size = "5Gi"
//! pending-timeout = "10m"
//! ```
//!
//! Permissions are only read from a file outside the project's source tree: a repository must
//! never be able to grant itself `privileged` or the Docker socket.

use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;

use crate::duration::PositiveDuration;
use crate::failure::Failure;

/// The file's content.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Defaults of `eider run`.
    #[serde(default)]
    pub run: RunConfig,
    /// The Kubernetes backend's settings.
    #[serde(default)]
    pub kubernetes: KubernetesConfig,
}

/// The `[kubernetes]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KubernetesConfig {
    /// The kubeconfig context.
    pub context: Option<String>,
    /// The namespace of everything eider creates.
    pub namespace: Option<String>,
    /// The storage class of shared-storage claims.
    pub storage_class: Option<String>,
    /// The size of shared-storage claims.
    pub shared_storage_size: Option<String>,
    /// How shared-storage claims are attached.
    pub shared_storage_access: Option<crate::cli::StorageAccess>,
    /// How long a Pod may stay Pending before its job fails.
    pub pending_timeout: Option<PositiveDuration>,
    /// The repository the source image is pushed to.
    pub registry: Option<String>,
    /// Secrets the nodes pull images with.
    #[serde(default)]
    pub image_pull_secrets: Vec<String>,
    /// The image of eider's helper Pods (copying the shared storage out).
    pub helper_image: Option<String>,
}

/// The `[run]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunConfig {
    /// Per-job timeout.
    pub timeout: Option<PositiveDuration>,
    /// Time between SIGTERM and SIGKILL.
    pub grace_period: Option<PositiveDuration>,
    /// Network of each job's first container.
    pub network: Option<String>,
    /// Honor `privileged: true`.
    #[serde(default)]
    pub allow_privileged: bool,
    /// Honor `mountDockerSocket: true`.
    #[serde(default)]
    pub allow_docker_socket: bool,
    /// Most bytes of output printed per job.
    pub log_limit: Option<crate::log_limit::LogLimit>,
    /// How long the engine may go without answering before a job is an infrastructure failure.
    pub engine_timeout: Option<PositiveDuration>,
    /// Where jobs run.
    pub backend: Option<crate::cli::BackendKind>,
}

/// A loaded config file and what was ignored in it.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The settings.
    pub config: Config,
    /// Things the user should know (ignored permissions).
    pub warnings: Vec<String>,
}

/// The default location: `$XDG_CONFIG_HOME/eider/config.toml`, else `~/.config/eider/config.toml`.
pub fn default_path() -> Option<Utf8PathBuf> {
    let base = std::env::var("XDG_CONFIG_HOME")
        .ok()
        .filter(|value| !value.is_empty())
        .map(Utf8PathBuf::from)
        .or_else(|| {
            std::env::var("HOME")
                .ok()
                .filter(|value| !value.is_empty())
                .map(|home| Utf8PathBuf::from(home).join(".config"))
        })?;
    Some(base.join("eider").join("config.toml"))
}

/// Reads the config file: `explicit` must exist; the default one may be absent.
pub fn load(explicit: Option<&Utf8Path>, source_root: &Utf8Path) -> Result<Loaded, Failure> {
    let (path, required) = match explicit {
        Some(path) => (path.to_owned(), true),
        None => match default_path() {
            Some(path) => (path, false),
            None => return Ok(Loaded::default()),
        },
    };
    let text = match fs_err::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if !required && error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Loaded::default());
        }
        Err(error) => {
            return Err(
                Failure::input(format!("cannot read the config file {path}"))
                    .with_cause(error.to_string()),
            );
        }
    };
    let mut config: Config = toml::from_str(&text).map_err(|error| {
        Failure::input(format!("invalid config file {path}")).with_cause(error.to_string())
    })?;
    let mut warnings = Vec::new();
    if is_inside(&path, source_root)
        && (config.run.allow_privileged || config.run.allow_docker_socket)
    {
        config.run.allow_privileged = false;
        config.run.allow_docker_socket = false;
        warnings.push(format!(
            "{path} is inside the project's source tree: its permissions \
             (allow-privileged, allow-docker-socket) are ignored"
        ));
    }
    Ok(Loaded { config, warnings })
}

/// Whether `path` lies in `directory`, comparing canonical paths so that `..` and symlinks
/// cannot hide a file inside the project.
fn is_inside(path: &Utf8Path, directory: &Utf8Path) -> bool {
    let canonical = |path: &Utf8Path| path.canonicalize_utf8().ok();
    match (canonical(path), canonical(directory)) {
        (Some(path), Some(directory)) => path.starts_with(directory),
        // A path that cannot be resolved is treated as inside: permissions are never granted
        // by a file eider cannot place.
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_inside_the_project_cannot_grant_permissions() {
        let project = tempfile::tempdir().expect("temporary directory");
        let root = Utf8Path::from_path(project.path()).expect("UTF-8 path");
        let path = root.join("eider.toml");
        fs_err::write(
            &path,
            "[run]\nallow-privileged = true\ntimeout = \"5m\"\nengine-timeout = \"15s\"\n",
        )
        .expect("write config");
        let loaded = load(Some(&path), root).expect("loads");
        assert!(!loaded.config.run.allow_privileged);
        let seconds =
            |duration: Option<PositiveDuration>| duration.map(|value| value.get().as_secs());
        assert_eq!(seconds(loaded.config.run.timeout), Some(300));
        assert_eq!(seconds(loaded.config.run.engine_timeout), Some(15));
        assert_eq!(loaded.warnings.len(), 1);
    }

    #[test]
    fn a_config_file_outside_the_project_grants_permissions() {
        let home = tempfile::tempdir().expect("temporary directory");
        let project = tempfile::tempdir().expect("temporary directory");
        let path = Utf8Path::from_path(home.path())
            .expect("UTF-8 path")
            .join("config.toml");
        fs_err::write(&path, "[run]\nallow-docker-socket = true\n").expect("write config");
        let root = Utf8Path::from_path(project.path()).expect("UTF-8 path");
        let loaded = load(Some(&path), root).expect("loads");
        assert!(loaded.config.run.allow_docker_socket);
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn unknown_keys_are_errors() {
        let home = tempfile::tempdir().expect("temporary directory");
        let path = Utf8Path::from_path(home.path())
            .expect("UTF-8 path")
            .join("config.toml");
        fs_err::write(&path, "[run]\ntimeot = \"5m\"\n").expect("write config");
        assert!(load(Some(&path), Utf8Path::new("/nonexistent")).is_err());
    }
}
