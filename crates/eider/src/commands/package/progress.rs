//! Progress of a package on a terminal: a spinner while layers are built, a byte bar while a
//! push uploads. Nothing is drawn when stderr is not a terminal (CI logs get the status lines
//! only).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eider_registry::{PushEvent, PushProgress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner with `message`, ticking until dropped.
pub struct Spinner(ProgressBar);

impl Spinner {
    /// Starts it.
    pub fn start(message: &str) -> Spinner {
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
pub struct PushBar {
    bar: ProgressBar,
}

impl PushBar {
    /// A bar for a push of `total` bytes to `destination`.
    pub fn new(destination: &str, total: u64) -> PushBar {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("Pushing {msg} [{bar:30}] {bytes}/{total_bytes}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(destination.to_owned());
        PushBar { bar }
    }

    /// The callback for the registry client.
    pub fn callback(&self) -> PushProgress {
        let bar = self.bar.clone();
        // Bytes counted per blob: a retried blob starts again from zero.
        let sent: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
        Arc::new(move |event: &PushEvent| {
            let Ok(mut sent) = sent.lock() else {
                return;
            };
            match event {
                PushEvent::BlobPresent { digest, size }
                | PushEvent::BlobMounted { digest, size, .. }
                | PushEvent::BlobUploaded { digest, size, .. } => {
                    sent.insert(digest.clone(), *size);
                }
                PushEvent::BlobStarted { digest, .. } => {
                    sent.insert(digest.clone(), 0);
                }
                PushEvent::BlobProgress {
                    digest,
                    sent: bytes,
                    ..
                } => {
                    sent.insert(digest.clone(), *bytes);
                }
                _ => {}
            }
            bar.set_position(sent.values().sum());
        })
    }
}

impl Drop for PushBar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
