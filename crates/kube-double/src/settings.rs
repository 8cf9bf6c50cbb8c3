//! What a double is started with: the server version, the namespaces, the one node and the
//! images it cannot pull.

use std::collections::BTreeMap;
use std::time::Duration;

/// The version `/version` reports, as a real API server's `major` and `minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerVersion {
    /// The major version (always 1 for Kubernetes).
    pub major: u32,
    /// The minor version, such as 33.
    pub minor: u32,
}

impl Default for ServerVersion {
    fn default() -> Self {
        Self {
            major: 1,
            minor: 33,
        }
    }
}

/// The single node every Pod is scheduled to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSettings {
    /// The node's name, reported in `spec.nodeName` once a Pod is bound.
    pub name: String,
    /// The value of the node's `kubernetes.io/os` label.
    pub os: String,
    /// The value of the node's `kubernetes.io/arch` label.
    pub arch: String,
    /// Allocatable CPU, in millicores.
    pub cpu_millis: u64,
    /// Allocatable memory, in bytes.
    pub memory_bytes: u64,
}

impl Default for NodeSettings {
    fn default() -> Self {
        Self {
            name: "double-node".to_owned(),
            os: "linux".to_owned(),
            arch: "amd64".to_owned(),
            cpu_millis: 4000,
            memory_bytes: 8 << 30,
        }
    }
}

/// Everything a [`crate::KubeDouble`] is started with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The version the server reports; clients that refuse old servers can be tested with 1.28.
    pub version: ServerVersion,
    /// The namespaces that exist; creating an object elsewhere answers 404.
    pub namespaces: Vec<String>,
    /// The one node Pods run on.
    pub node: NodeSettings,
    /// An image whose reference contains any of these substrings cannot be pulled.
    pub unpullable_images: Vec<String>,
    /// The bearer token every request must carry; `None` accepts anonymous requests.
    pub token: Option<String>,
    /// How long the scheduler waits before it looks at a new Pod.
    pub scheduling_delay: Duration,
    /// The default command (`CMD`) of an image, by image reference as written in the Pod;
    /// images not listed run `sh`. No image has an entrypoint.
    pub image_commands: BTreeMap<String, Vec<String>>,
    /// How often a watch that allows bookmarks gets one.
    pub bookmark_interval: Duration,
    /// How many past events a watch can resume from; older resource versions answer 410.
    pub history_limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            version: ServerVersion::default(),
            namespaces: vec!["default".to_owned()],
            node: NodeSettings::default(),
            unpullable_images: vec!["does-not-exist".to_owned()],
            token: None,
            scheduling_delay: Duration::ZERO,
            image_commands: BTreeMap::new(),
            bookmark_interval: Duration::from_secs(5),
            history_limit: 10_000,
        }
    }
}

impl Settings {
    /// Whether the node can pull `image`.
    #[must_use]
    pub fn can_pull(&self, image: &str) -> bool {
        !self
            .unpullable_images
            .iter()
            .any(|needle| image.contains(needle.as_str()))
    }

    /// The default command of `image`: the configured one, else `sh`.
    #[must_use]
    pub fn image_command(&self, image: &str) -> Vec<String> {
        self.image_commands
            .get(image)
            .cloned()
            .unwrap_or_else(|| vec!["sh".to_owned()])
    }
}
