//! The image configuration (what `docker inspect` shows of an image): platform, the container
//! defaults, the layers' diffIDs and the history.
//!
//! Fields carried over from a base image: `author`, `architecture`, `os`, `os.version`,
//! `os.features`, `variant`, `rootfs`, `history`, and in `config`: `User`, `ExposedPorts`,
//! `Env`, `Entrypoint`, `Cmd`, `Volumes`, `WorkingDir`, `Labels`, `StopSignal`, `ArgsEscaped`,
//! `Healthcheck`, `OnBuild` and `Shell`. Everything else (Docker's `container`,
//! `container_config`, `docker_version`, `Hostname`, `Image`...) is dropped: those fields
//! describe how the base was built, not how to run the image, and would carry one machine's
//! details into every package.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize};

use eider_oci_types::Digest;

/// An image configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfiguration {
    /// When the image was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Who made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The CPU architecture.
    pub architecture: String,
    /// The operating system.
    pub os: String,
    /// The operating system's version.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required operating system features.
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub os_features: Vec<String>,
    /// The CPU variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Defaults for containers run from the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    /// The layers' diffIDs.
    pub rootfs: RootFs,
    /// One entry per layer (and per configuration step that made none).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub history: Vec<History>,
}

/// The defaults of a container run from the image (Docker's field names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// `user`, `user:group`, `uid` or `uid:gid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Ports as `port/protocol` (a JSON object whose values are `{}`).
    #[serde(
        default,
        with = "set_as_object",
        skip_serializing_if = "BTreeSet::is_empty"
    )]
    pub exposed_ports: BTreeSet<String>,
    /// `NAME=value` entries, in order.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<String>,
    /// The entrypoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// The command (arguments of the entrypoint when there is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// Volume mount points (a JSON object whose values are `{}`).
    #[serde(
        default,
        with = "set_as_object",
        skip_serializing_if = "BTreeSet::is_empty"
    )]
    pub volumes: BTreeSet<String>,
    /// The working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Labels.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// The signal that stops the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Windows: the command line is already escaped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_escaped: Option<bool>,
    /// Docker's health check, kept as found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
    /// Docker's `ONBUILD` triggers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
    /// Docker's `SHELL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// The layers of the root file system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The digests of the uncompressed layers, base first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub diff_ids: Vec<Digest>,
}

impl RootFs {
    /// `layers` with no diffIDs.
    #[must_use]
    pub fn empty() -> Self {
        Self {
            kind: "layers".to_owned(),
            diff_ids: Vec::new(),
        }
    }
}

/// One step of the image's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// When (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// What made the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// A comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Whether the step made no layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_layer: Option<bool>,
}

/// Sets that the image config encodes as objects with `{}` values (`ExposedPorts`, `Volumes`).
mod set_as_object {
    use std::collections::{BTreeMap, BTreeSet};

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// `{}`.
    #[derive(Serialize, Deserialize)]
    struct Empty {}

    pub(super) fn serialize<S: Serializer>(
        set: &BTreeSet<String>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(set.iter().map(|key| (key, Empty {})))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeSet<String>, D::Error> {
        // Values are ignored whatever they are: only the keys carry meaning.
        let map = Option::<BTreeMap<String, serde_json::Value>>::deserialize(deserializer)?;
        Ok(map.unwrap_or_default().into_keys().collect())
    }
}

/// Docker writes `null` for empty lists and maps.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_docker_config_with_nulls_and_extra_fields_parses() {
        let text = r#"{
            "architecture": "amd64", "os": "linux", "docker_version": "20.10.24",
            "container": "abc", "container_config": {"Hostname": "abc"},
            "config": {"Hostname": "", "Env": ["PATH=/bin"], "Cmd": ["sh"], "Entrypoint": null,
                "Labels": null, "ExposedPorts": {"80/tcp": {}}, "OnBuild": null, "Image": "sha256:x"},
            "rootfs": {"type": "layers", "diff_ids": null},
            "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh", "empty_layer": true}]
        }"#;
        let config: ImageConfiguration = serde_json::from_str(text).expect("parses");
        let container = config.config.as_ref().expect("config");
        assert_eq!(container.env, ["PATH=/bin"]);
        assert_eq!(container.entrypoint, None);
        assert!(container.labels.is_empty());
        assert!(config.rootfs.diff_ids.is_empty());
        let json =
            String::from_utf8(serde_json::to_vec(&config).expect("serializes")).expect("UTF-8");
        assert_eq!(
            json,
            r#"{"architecture":"amd64","os":"linux","config":{"ExposedPorts":{"80/tcp":{}},"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[]},"history":[{"created":"2024-01-01T00:00:00Z","created_by":"/bin/sh","empty_layer":true}]}"#
        );
    }
}
