//! What comes back from a runtime: output, exits and pull progress.

use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;

use crate::RuntimeError;

/// Which stream a chunk of output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// The pseudo-TTY of a `tty: true` container: stdout and stderr merged by the terminal.
    Console,
}

/// A chunk of output, split wherever the backend split it (not at line ends).
#[derive(Debug, Clone)]
pub struct OutputChunk {
    /// The stream it came from.
    pub stream: StreamKind,
    /// The bytes, exactly as written.
    pub bytes: Bytes,
}

/// A container's output, until its main process exits.
pub type OutputStream = Pin<Box<dyn Stream<Item = Result<OutputChunk, RuntimeError>> + Send>>;

/// How a container's main process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    /// The exit code (128 + signal number when killed by a signal).
    pub code: i64,
    /// Whether the kernel's out-of-memory killer ended it.
    pub out_of_memory: bool,
}

/// What the engine says of a container it was asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    /// Created or running: its main process has not exited.
    Running,
    /// Its main process has exited.
    Exited(Exit),
    /// The engine does not know it (removed, or lost with the engine's state).
    Missing,
}

/// One step of an image pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullProgress {
    /// The layer it concerns, if any.
    pub layer: Option<String>,
    /// What the backend says (`Downloading`, `Pull complete`, ...).
    pub status: String,
    /// Bytes done and bytes in all, when known.
    pub bytes: Option<(u64, u64)>,
}

/// A tar archive, streamed.
pub type ArchiveStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;
