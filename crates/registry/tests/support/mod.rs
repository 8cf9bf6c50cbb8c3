//! Shared helpers of the registry client's integration tests: throwaway `docker-registry`
//! servers on loopback, a scripted fake registry for the failures a real one will not produce,
//! and small images made on the spot.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the support module"
)]

pub mod fake;
pub mod image;
pub mod registry;

use std::sync::{Arc, Mutex};

use eider_registry::{PushEvent, PushProgress};

/// Records every push event, for assertions on what a push did and in which order.
#[derive(Clone, Default)]
pub struct EventLog {
    events: Arc<Mutex<Vec<PushEvent>>>,
}

impl EventLog {
    pub fn progress(&self) -> PushProgress {
        let events = Arc::clone(&self.events);
        Arc::new(move |event: &PushEvent| {
            events.lock().expect("event log lock").push(event.clone());
        })
    }

    pub fn events(&self) -> Vec<PushEvent> {
        self.events.lock().expect("event log lock").clone()
    }
}

/// An error and all its causes, one line each, as the CLI would show them.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str("\ncaused by: ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
