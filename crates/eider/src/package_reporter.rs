//! The events of packaging, locking and verifying on stderr: status lines, a warning about
//! credentials that went nowhere, and on a terminal a spinner while layers are built and a byte
//! bar while a push uploads. Nothing is drawn when stderr is not a terminal (CI logs get the
//! status lines only).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use eider_oci::Digest;
use eider_package::Event;
use eider_registry::PushEvent;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::render::Output;

/// Shows the events of one command.
pub struct PackageReporter {
    output: Output,
    spinner: Mutex<Option<Spinner>>,
    push: Mutex<Option<PushBar>>,
}

impl PackageReporter {
    /// A reporter writing through `output`.
    pub fn new(output: Output) -> Self {
        Self {
            output,
            spinner: Mutex::new(None),
            push: Mutex::new(None),
        }
    }
}

impl eider_package::Observer for PackageReporter {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::UnscopedCredentialsUnused => self.output.warning(
                "--registry-auth USER:PASSWORD is not used: it names no registry, and this \
                 command writes to none (give it as HOST=USER:PASSWORD for the images it reads)",
            ),
            Event::BaseReady { name, digest } => {
                self.output.note(&format!("Base {name} ({digest})"));
            }
            Event::LayersStarted => {
                *lock(&self.spinner) = Some(Spinner::start("Building layers"));
            }
            Event::LayersEnded => drop(lock(&self.spinner).take()),
            Event::LayerReady { created_by, layer } => {
                let how = match layer.reuse {
                    eider_oci::Reuse::Built => "built",
                    eider_oci::Reuse::SameContent => "reused (same content)",
                    eider_oci::Reuse::SameFiles => "reused (unchanged files)",
                };
                self.output.note(&format!(
                    "Layer {} {how}: {} files, {} bytes",
                    created_by.trim_start_matches("eider: "),
                    layer.entries,
                    layer.blob.size
                ));
            }
            Event::PushStarted { destination, bytes } => {
                *lock(&self.push) = Some(PushBar::new(destination, *bytes));
            }
            Event::Push(event) => {
                if let Some(bar) = lock(&self.push).as_mut() {
                    bar.show(event);
                }
            }
            Event::PushEnded => drop(lock(&self.push).take()),
            Event::Written { destination } => self.output.note(&format!("Wrote {destination}")),
            Event::DrakefileChanged { path, job } => self.output.note(&format!(
                "note: {path} changed since the package was made, but not job `{job}`"
            )),
            _ => {}
        }
    }
}

/// What a mutex holds, even after a panic elsewhere: a progress display is never worth one.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A spinner with a message, ticking until dropped.
struct Spinner(ProgressBar);

impl Spinner {
    /// Starts it.
    fn start(message: &str) -> Spinner {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        Spinner(bar)
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// A bar of the bytes a push has to send: blobs the registry has count as done at once.
struct PushBar {
    bar: ProgressBar,
    /// Bytes counted per blob: a retried blob starts again from zero.
    sent: HashMap<Digest, u64>,
}

impl PushBar {
    /// A bar for a push of `total` bytes to `destination`.
    fn new(destination: &str, total: u64) -> PushBar {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("Pushing {msg} [{bar:30}] {bytes}/{total_bytes}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(destination.to_owned());
        PushBar {
            bar,
            sent: HashMap::new(),
        }
    }

    /// Moves the bar to what `event` says was sent.
    fn show(&mut self, event: &PushEvent) {
        match event {
            PushEvent::BlobPresent { digest, size }
            | PushEvent::BlobMounted { digest, size, .. }
            | PushEvent::BlobUploaded { digest, size, .. } => {
                self.sent.insert(digest.clone(), *size);
            }
            PushEvent::BlobStarted { digest, .. } => {
                self.sent.insert(digest.clone(), 0);
            }
            PushEvent::BlobProgress {
                digest,
                sent: bytes,
                ..
            } => {
                self.sent.insert(digest.clone(), *bytes);
            }
            _ => {}
        }
        self.bar.set_position(self.sent.values().sum());
    }
}

impl Drop for PushBar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
