//! The log limit of one job: how many bytes of output all its containers together may still
//! print, and the one notice when they have printed it.
//!
//! Output is counted in whole lines (masked, without eider's prefix): the line that would cross
//! the limit is dropped whole, so what is printed is never more than the limit and never ends in
//! the middle of a line. Past the limit the containers' output is still read, and discarded, so
//! that a job never blocks on a full pipe and runs to its end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use tokio::sync::Mutex;

use crate::event::{Event, EventSender, OutputSource, OutputStreamKind};

/// The output a job may still print.
#[derive(Debug)]
pub struct OutputBudget {
    /// The limit in bytes; `None` when output is unlimited.
    limit: Option<u64>,
    /// Bytes printed so far. Held while the lines it admitted are sent, so that no container's
    /// lines reach the event stream after the notice that the limit was reached.
    printed: Mutex<u64>,
    /// Set once the limit was reached: the notice was sent and every later line is discarded.
    reached: AtomicBool,
}

impl OutputBudget {
    /// A budget of `limit` bytes for one job; `None` for no limit.
    #[must_use]
    pub fn new(limit: Option<u64>) -> Self {
        Self {
            limit,
            printed: Mutex::new(0),
            reached: AtomicBool::new(false),
        }
    }

    /// Whether the limit was reached: the job's further output is discarded.
    #[must_use]
    pub fn is_reached(&self) -> bool {
        self.reached.load(Ordering::Acquire)
    }

    /// Sends the complete `lines` (each ending with `\n`) of `source` as far as the budget
    /// allows; when a line does not fit, sends the lines before it, then
    /// [`Event::OutputLimitReached`], once per job.
    pub async fn send(
        &self,
        events: &EventSender,
        source: &Arc<OutputSource>,
        stream: OutputStreamKind,
        lines: Bytes,
    ) {
        let output = |lines| Event::Output {
            source: Arc::clone(source),
            stream,
            lines,
        };
        let Some(limit) = self.limit else {
            events.send(output(lines)).await;
            return;
        };
        let mut printed = self.printed.lock().await;
        if self.is_reached() {
            return;
        }
        let remaining = limit.saturating_sub(*printed);
        let length = lines.len() as u64;
        if length <= remaining {
            *printed += length;
            events.send(output(lines)).await;
            return;
        }
        let fitting = usize::try_from(remaining).map_or(lines.len(), |remaining| {
            memchr::memrchr(b'\n', &lines[..remaining]).map_or(0, |last| last + 1)
        });
        if fitting > 0 {
            *printed += fitting as u64;
            events.send(output(lines.slice(..fitting))).await;
        }
        self.reached.store(true, Ordering::Release);
        events
            .send(Event::OutputLimitReached {
                source: Arc::clone(source),
                limit,
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(container: &str) -> Arc<OutputSource> {
        Arc::new(OutputSource {
            run_id: "0123456789".to_owned(),
            job: "job".to_owned(),
            container: container.to_owned(),
        })
    }

    /// Sends each `(container, lines)` through a budget of `limit`; returns what came out, the
    /// notice as `"!container"`.
    async fn through(limit: Option<u64>, batches: &[(&str, &str)]) -> (Vec<String>, bool) {
        let (events, mut receiver) = crate::event::channel();
        let budget = OutputBudget::new(limit);
        for (container, lines) in batches {
            budget
                .send(
                    &events,
                    &source(container),
                    OutputStreamKind::Stdout,
                    Bytes::copy_from_slice(lines.as_bytes()),
                )
                .await;
        }
        drop(events);
        let mut delivered = Vec::new();
        while let Some(event) = receiver.recv().await {
            match event {
                Event::Output { source, lines, .. } => delivered.push(format!(
                    "{}:{}",
                    source.container,
                    String::from_utf8_lossy(&lines)
                )),
                Event::OutputLimitReached { source, limit } => {
                    delivered.push(format!("!{}:{limit}", source.container));
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
        (delivered, budget.is_reached())
    }

    #[tokio::test]
    async fn without_a_limit_everything_passes() {
        let (received, reached) = through(None, &[("a", "one\ntwo\n"), ("b", "three\n")]).await;
        assert_eq!(received, ["a:one\ntwo\n", "b:three\n"]);
        assert!(!reached);
    }

    #[tokio::test]
    async fn the_line_crossing_the_limit_is_dropped_whole_and_one_notice_follows() {
        // 4 + 4 bytes fit in 10; "three\n" would cross the limit.
        let (received, reached) = through(
            Some(10),
            &[("a", "one\n"), ("b", "two\nthree\nfour\n"), ("a", "five\n")],
        )
        .await;
        assert_eq!(received, ["a:one\n", "b:two\n", "!b:10"]);
        assert!(reached);
    }

    #[tokio::test]
    async fn output_exactly_at_the_limit_is_printed_and_the_next_line_is_not() {
        let (received, _) = through(Some(8), &[("a", "one\ntwo\n"), ("a", "x\n")]).await;
        assert_eq!(received, ["a:one\ntwo\n", "!a:8"]);
    }

    #[tokio::test]
    async fn a_zero_limit_prints_nothing_but_the_notice() {
        let (received, reached) = through(Some(0), &[("a", "one\n"), ("a", "two\n")]).await;
        assert_eq!(received, ["!a:0"]);
        assert!(reached);
    }
}
