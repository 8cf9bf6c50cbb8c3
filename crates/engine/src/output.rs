//! Forwards one container's output to the event stream: whole lines, masked, attributed.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use eider_runtime::{OutputStream, RuntimeError, StreamKind};
use futures_util::StreamExt;

use crate::event::{EventSender, OutputSource, OutputStreamKind};
use crate::lines::LineAssembler;
use crate::mask::Masker;
use crate::output_budget::OutputBudget;

/// Reads the attached stream until the container's main process exits. Each stream has its own
/// line assembler, so stdout and stderr lines never mix. Lines go out through the job's
/// `budget`; once it is spent, chunks are read and dropped unassembled.
pub async fn forward(
    mut stream: OutputStream,
    source: Arc<OutputSource>,
    masker: Arc<Masker>,
    budget: Arc<OutputBudget>,
    events: EventSender,
) -> Result<(), RuntimeError> {
    let mut stdout = LineAssembler::new(Arc::clone(&masker));
    let mut stderr = LineAssembler::new(masker);
    let mut result = Ok(());
    // Whether the container has a terminal (`tty: true`), whose line discipline ends every
    // line with "\r\n".
    let mut terminal = false;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                result = Err(error);
                break;
            }
        };
        if budget.is_reached() {
            continue;
        }
        let (assembler, kind) = match chunk.stream {
            StreamKind::Stdout | StreamKind::Console => (&mut stdout, OutputStreamKind::Stdout),
            StreamKind::Stderr => (&mut stderr, OutputStreamKind::Stderr),
        };
        terminal |= chunk.stream == StreamKind::Console;
        if let Some(lines) = assembler.push(chunk.bytes) {
            let lines = if terminal {
                without_terminal_line_ends(lines)
            } else {
                lines
            };
            budget.send(&events, &source, kind, lines).await;
        }
    }
    // An unterminated last line is still output (it is what a failing command often prints).
    if let Some(lines) = stdout.finish() {
        let lines = if terminal {
            without_terminal_line_ends(lines)
        } else {
            lines
        };
        budget
            .send(&events, &source, OutputStreamKind::Stdout, lines)
            .await;
    }
    if let Some(lines) = stderr.finish() {
        budget
            .send(&events, &source, OutputStreamKind::Stderr, lines)
            .await;
    }
    result
}

/// Lines as the program wrote them: a terminal turns each `\n` into `\r\n`, which would leave a
/// carriage return at the end of every line eider prints (and in every CI log and `grep`).
/// Other carriage returns (progress bars redrawing a line) are kept. No copy when there is
/// nothing to remove.
fn without_terminal_line_ends(lines: Bytes) -> Bytes {
    if memchr::memmem::find(&lines, b"\r\n").is_none() {
        return lines;
    }
    let mut plain = BytesMut::with_capacity(lines.len());
    let mut start = 0;
    for end in memchr::memmem::find_iter(&lines, b"\r\n") {
        plain.extend_from_slice(&lines[start..end]);
        start = end + 1;
    }
    plain.extend_from_slice(&lines[start..]);
    plain.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_line_ends_become_newlines() {
        let lines = Bytes::from_static(b"one\r\ntwo\r\n");
        assert_eq!(without_terminal_line_ends(lines), "one\ntwo\n");
    }

    #[test]
    fn other_carriage_returns_are_kept() {
        let lines = Bytes::from_static(b"10%\r50%\r100%\r\r\n\n");
        assert_eq!(without_terminal_line_ends(lines), "10%\r50%\r100%\r\n\n");
    }

    #[test]
    fn lines_without_carriage_returns_are_not_copied() {
        let lines = Bytes::from_static(b"plain\n");
        assert_eq!(
            without_terminal_line_ends(lines.clone()).as_ptr(),
            lines.as_ptr()
        );
    }
}
