//! What a run keeps beside its jobs (shared storage, copies of the source), and what a backend
//! can find again by label.

use std::fmt;

use camino::Utf8PathBuf;

use crate::Labels;

/// Where a source image (the project's tree as an image, for backends whose machines cannot
/// see the user's files) holds the tree: the packager puts it there, a backend copies it out.
pub const SOURCE_PATH_IN_IMAGE: &str = "/eider/source";

/// The image a backend's helper containers run unless told otherwise: small, on every common
/// platform, with `sh`, `cp` and `tar`. Source images are built on it, and shared storage is
/// copied out of a cluster with it.
pub const DEFAULT_HELPER_IMAGE: &str = "docker.io/library/busybox:1.37";

/// Storage a backend made for a run: the shared storage, or a copy of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    /// The backend's name of it, unique among everything that exists.
    pub name: String,
    /// An image the run uses, present already, through which the backend may reach the storage
    /// (to fill it or copy it out) without pulling anything.
    pub image: String,
}

impl fmt::Display for Storage {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.name)
    }
}

/// What storage is for and who it serves.
#[derive(Debug, Clone, Copy)]
pub struct StorageRequest<'a> {
    /// The run it belongs to.
    pub run_id: &'a str,
    /// The job execution it serves alone (`(job, execution)`), or none for the whole run.
    pub job: Option<(&'a str, usize)>,
    /// Labels it carries.
    pub labels: &'a Labels,
    /// An image the run uses, present already (see [`Storage::image`]).
    pub image: &'a str,
}

/// What went into a copy of the source.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Fifos, sockets and devices left out, relative to the root.
    pub skipped: Vec<Utf8PathBuf>,
}

/// Something a backend created and labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// What it is.
    pub kind: ResourceKind,
    /// How the backend names it in requests (an id or a name).
    pub id: String,
    /// How it is shown to people.
    pub shown: String,
    /// What the backend calls such a thing (`container`, `volume`).
    pub noun: &'static str,
    /// All its labels.
    pub labels: Labels,
}

/// The kinds of things a backend creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// What runs: a container, a Pod.
    Workload,
    /// What stores: a volume, a claim.
    Storage,
}
