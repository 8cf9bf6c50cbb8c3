//! Signals during a run: the first SIGINT/SIGTERM stops gracefully, the second kills.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use eider_engine::{Cancellation, Event, EventSender};

use crate::exit_code;
use crate::failure::Failure;

/// First SIGINT/SIGTERM: stop gracefully; second: kill at once (cleanup still runs); third:
/// exit now, leaving the rest to `eider clean`.
pub fn watch_signals(
    cancellation: Cancellation,
    signal: Arc<AtomicU8>,
    events: EventSender,
) -> Result<(), Failure> {
    use tokio::signal::unix::{SignalKind, signal as listen};
    let listen_failed = |error: std::io::Error| {
        Failure::runtime("cannot listen for signals").with_cause(error.to_string())
    };
    let mut interrupt = listen(SignalKind::interrupt()).map_err(listen_failed)?;
    let mut terminate = listen(SignalKind::terminate()).map_err(listen_failed)?;
    tokio::spawn(async move {
        for count in 0_u8.. {
            let code = tokio::select! {
                _ = interrupt.recv() => exit_code::INTERRUPTED,
                _ = terminate.recv() => exit_code::TERMINATED,
            };
            match count {
                // Cancel first, then tell, from a task of its own: the notice may wait behind a
                // burst of output, and the next signal must still be heard at once.
                0 => {
                    signal.store(code, Ordering::SeqCst);
                    cancellation.graceful.cancel();
                    notify(
                        &events,
                        "interrupted: stopping containers (interrupt again to kill them)",
                    );
                }
                1 => {
                    cancellation.immediate.cancel();
                    notify(&events, "killing containers, then cleaning up");
                }
                _ => std::process::exit(i32::from(signal.load(Ordering::SeqCst))),
            }
        }
    });
    Ok(())
}

/// Sends a warning without waiting for it to be rendered.
fn notify(events: &EventSender, message: &'static str) {
    let events = events.clone();
    tokio::spawn(async move {
        events
            .send(Event::Warning {
                job: None,
                message: message.to_owned(),
            })
            .await;
    });
}
