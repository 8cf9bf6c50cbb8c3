//! What comes back from a backend: output, exits, the end of a job and pull progress.

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

/// How a job's primary ended, as far as the backend can tell.
#[derive(Debug)]
pub enum PrimaryEnd {
    /// Its main process exited on its own: the exit decides the job's result.
    Exited(Exit),
    /// The backend failed the job (it stopped, restarted, or lost the container): the job's
    /// result says nothing about its code.
    BackendFailed {
        /// What happened, in the backend's words.
        message: String,
        /// Whether the backend stopped answering for good: cleanup then asks nothing more of it
        /// than whether it is back.
        lost: bool,
    },
    /// The backend answered with an error about the container itself.
    Error {
        /// What was being done (`lost track of the container`).
        what: String,
        /// The backend's error.
        error: RuntimeError,
    },
}

/// How the containers of a job that still run are ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The primary exited: the sidecars still running are killed (the spec has them
    /// terminated forcibly).
    PrimaryExited,
    /// Everything is stopped: SIGTERM, then SIGKILL after the grace period.
    Stop(std::time::Duration),
    /// Everything is killed at once.
    Kill,
}

/// What ending a job found.
#[derive(Debug, Default)]
pub struct JobEnd {
    /// How each started sidecar ended, in launch order, when known (not after [`Ending::Stop`]).
    pub sidecar_exits: Vec<(String, Exit)>,
    /// What the user should know about things the job left that eider does not remove.
    pub warnings: Vec<String>,
}
