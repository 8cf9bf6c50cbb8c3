//! Forwards one container's output to the event stream: whole lines, masked, attributed.

use std::sync::Arc;

use eider_runtime::{OutputStream, RuntimeError, StreamKind};
use futures_util::StreamExt;

use crate::event::{Event, EventSender, OutputSource, OutputStreamKind};
use crate::lines::LineAssembler;
use crate::mask::Masker;

/// Reads the attached stream until the container's main process exits. Each stream has its own
/// line assembler, so stdout and stderr lines never mix.
pub async fn forward(
    mut stream: OutputStream,
    source: Arc<OutputSource>,
    masker: Arc<Masker>,
    events: EventSender,
) -> Result<(), RuntimeError> {
    let mut stdout = LineAssembler::new(Arc::clone(&masker));
    let mut stderr = LineAssembler::new(masker);
    let send = |stream: OutputStreamKind, lines| Event::Output {
        source: Arc::clone(&source),
        stream,
        lines,
    };
    let mut result = Ok(());
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                result = Err(error);
                break;
            }
        };
        let (assembler, kind) = match chunk.stream {
            StreamKind::Stdout | StreamKind::Console => (&mut stdout, OutputStreamKind::Stdout),
            StreamKind::Stderr => (&mut stderr, OutputStreamKind::Stderr),
        };
        if let Some(lines) = assembler.push(chunk.bytes) {
            events.send(send(kind, lines)).await;
        }
    }
    // An unterminated last line is still output (it is what a failing command often prints).
    if let Some(lines) = stdout.finish() {
        events.send(send(OutputStreamKind::Stdout, lines)).await;
    }
    if let Some(lines) = stderr.finish() {
        events.send(send(OutputStreamKind::Stderr, lines)).await;
    }
    result
}
