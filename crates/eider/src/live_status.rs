//! The compact live status of running jobs, drawn on the last line of a terminal: cleared before
//! any other output is written and drawn again after it, so it never mixes with job output.

use std::io::Write;
use std::time::Instant;

/// Longest status line drawn, so that it never wraps on an ordinary terminal.
const MAX_WIDTH: usize = 100;

/// The running jobs and whether their line is on screen.
#[derive(Debug, Default)]
pub struct LiveStatus {
    running: Vec<(String, Instant)>,
    visible: bool,
}

impl LiveStatus {
    /// A job started.
    pub fn started(&mut self, job: &str) {
        self.running.push((job.to_owned(), Instant::now()));
    }

    /// A job ended.
    pub fn finished(&mut self, job: &str) {
        self.running.retain(|(name, _)| name != job);
    }

    /// Removes the line from the screen, if it is there.
    pub fn clear(&mut self, terminal: &mut impl Write) {
        if self.visible {
            let _ignored = terminal
                .write_all(b"\r\x1b[K")
                .and_then(|()| terminal.flush());
            self.visible = false;
        }
    }

    /// Draws the line when jobs run.
    pub fn draw(&mut self, terminal: &mut impl Write) {
        if self.running.is_empty() {
            return;
        }
        let line = self.line(Instant::now());
        if terminal
            .write_all(line.as_bytes())
            .and_then(|()| terminal.flush())
            .is_ok()
        {
            self.visible = true;
        }
    }

    /// `running 2: build 3.2s, test 1.0s`, cut to the width.
    fn line(&self, now: Instant) -> String {
        let jobs: Vec<String> = self
            .running
            .iter()
            .map(|(name, started)| {
                format!(
                    "{name} {:.1}s",
                    now.saturating_duration_since(*started).as_secs_f64()
                )
            })
            .collect();
        let mut line = format!("running {}: {}", jobs.len(), jobs.join(", "));
        if line.chars().count() > MAX_WIDTH {
            line = line.chars().take(MAX_WIDTH - 3).collect::<String>() + "...";
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_cleared_before_anything_else_is_written() {
        let mut status = LiveStatus::default();
        let mut screen = Vec::new();
        status.draw(&mut screen);
        assert!(screen.is_empty(), "nothing runs: nothing drawn");
        status.started("build");
        status.draw(&mut screen);
        status.clear(&mut screen);
        status.clear(&mut screen);
        let text = String::from_utf8(screen).expect("UTF-8");
        assert!(text.starts_with("running 1: build 0.0s"), "{text}");
        assert_eq!(
            text.matches("\r\x1b[K").count(),
            1,
            "cleared once: {text:?}"
        );
        status.finished("build");
        let mut after = Vec::new();
        status.draw(&mut after);
        assert!(after.is_empty());
    }

    #[test]
    fn a_long_line_is_cut() {
        let mut status = LiveStatus::default();
        for index in 0..50 {
            status.started(&format!("job-number-{index}"));
        }
        let line = status.line(Instant::now());
        assert_eq!(line.chars().count(), MAX_WIDTH);
        assert!(line.ends_with("..."));
    }
}
