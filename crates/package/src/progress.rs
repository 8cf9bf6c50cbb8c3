//! What packaging, locking and verifying report while they work, as typed events: the caller
//! draws them (status lines, a spinner, a byte bar) or ignores them. Nothing here prints.

use camino::Utf8Path;
use eider_oci::{BuiltLayer, Digest};
use eider_registry::PushEvent;

/// Something that happened while an operation of this crate ran.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Credentials were given without a host, and the operation writes to no registry: they
    /// went to no one.
    UnscopedCredentialsUnused,
    /// The base image of a package is in the cache.
    BaseReady {
        /// The image as named.
        name: &'a str,
        /// The registry's manifest digest, or the engine's image id.
        digest: &'a Digest,
    },
    /// Building the layers of a package starts.
    LayersStarted,
    /// Building the layers ended, built or not.
    LayersEnded,
    /// A layer of a package is ready (reported once every layer is).
    LayerReady {
        /// What the layer holds (its history entry).
        created_by: &'a str,
        /// The layer.
        layer: &'a BuiltLayer,
    },
    /// A push of the package starts.
    PushStarted {
        /// Where it goes.
        destination: &'a str,
        /// The bytes of every blob it may send.
        bytes: u64,
    },
    /// The push goes on.
    Push(&'a PushEvent),
    /// The push ended, pushed or not.
    PushEnded,
    /// The package was written to a destination.
    Written {
        /// The destination.
        destination: &'a str,
    },
    /// The Drakefile a package is checked against changed since the package was made, but not
    /// the packaged job.
    DrakefileChanged {
        /// The Drakefile.
        path: &'a Utf8Path,
        /// The job.
        job: &'a str,
    },
}

/// Receives the events of an operation.
pub trait Observer: Send + Sync {
    /// Takes one event.
    fn event(&self, event: &Event<'_>);
}

/// An observer that ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl Observer for NoObserver {
    fn event(&self, _event: &Event<'_>) {}
}

/// Reports the end event when dropped, so that a phase that fails half-way still ends for the
/// observer (its spinner or bar goes away).
pub(crate) struct Phase<'a> {
    observer: &'a dyn Observer,
    end: fn() -> Event<'static>,
}

impl<'a> Phase<'a> {
    /// Reports `start` and, when dropped, `end`.
    pub(crate) fn start(
        observer: &'a dyn Observer,
        start: &Event<'_>,
        end: fn() -> Event<'static>,
    ) -> Self {
        observer.event(start);
        Self { observer, end }
    }
}

impl Drop for Phase<'_> {
    fn drop(&mut self) {
        self.observer.event(&(self.end)());
    }
}
