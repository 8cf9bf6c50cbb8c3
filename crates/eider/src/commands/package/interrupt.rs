//! Ctrl-C and SIGTERM while packaging. Packaging writes temporary files of hundreds of
//! megabytes (blobs being compressed or copied, base images being exported) from threads that
//! cannot be cancelled halfway; on a signal they are all removed and eider exits at once with
//! 130 or 143. What a `kill -9` leaves is swept by the next `eider package` or `eider clean`.
//!
//! Signals belong to the process, not to the packaging library: the library registers its
//! temporary files (`eider_oci::temporary`), and this watch removes them and exits.

use eider_oci::temporary;
use tokio::sync::oneshot;

use crate::exit_code;
use crate::failure::Failure;
use crate::render::Output;

/// Listens for signals until dropped. It listens on a thread of its own: the packaging thread
/// may be busy hashing or compressing for seconds, and the signal must be answered at once.
pub struct InterruptWatch {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InterruptWatch {
    /// Starts listening.
    pub fn start(output: Output) -> Result<Self, Failure> {
        let (stop, stopped) = oneshot::channel();
        let (ready, listening) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("eider-signals".to_owned())
            .spawn(move || listen(stopped, &ready, output))
            .map_err(|error| {
                Failure::runtime("cannot listen for signals").with_cause(error.to_string())
            })?;
        // Packaging starts only once a signal would be heard.
        match listening.recv() {
            Ok(Ok(())) => Ok(Self {
                stop: Some(stop),
                thread: Some(thread),
            }),
            Ok(Err(failure)) => Err(failure),
            Err(error) => {
                Err(Failure::runtime("cannot listen for signals").with_cause(error.to_string()))
            }
        }
    }
}

impl Drop for InterruptWatch {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ignored = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ignored = thread.join();
        }
    }
}

fn listen(
    stopped: oneshot::Receiver<()>,
    ready: &std::sync::mpsc::Sender<Result<(), Failure>>,
    output: Output,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = match crate::commands::async_runtime() {
        Ok(runtime) => runtime,
        Err(failure) => {
            let _ignored = ready.send(Err(failure));
            return;
        }
    };
    runtime.block_on(async {
        let listeners = signal(SignalKind::interrupt())
            .and_then(|interrupt| Ok((interrupt, signal(SignalKind::terminate())?)));
        let (mut interrupt, mut terminate) = match listeners {
            Ok(listeners) => listeners,
            Err(error) => {
                let _ignored =
                    ready
                        .send(Err(Failure::runtime("cannot listen for signals")
                            .with_cause(error.to_string())));
                return;
            }
        };
        let _ignored = ready.send(Ok(()));
        let code = tokio::select! {
            _ = stopped => return,
            _ = interrupt.recv() => exit_code::INTERRUPTED,
            _ = terminate.recv() => exit_code::TERMINATED,
        };
        let left = temporary::remove_all();
        if left.is_empty() {
            output.note("interrupted: packaging stopped, its temporary files removed");
        } else {
            let paths: Vec<&str> = left.iter().map(|path| path.as_str()).collect();
            output.note(&format!(
                "interrupted: packaging stopped; could not remove {}",
                paths.join(", ")
            ));
        }
        std::process::exit(i32::from(code));
    });
}
