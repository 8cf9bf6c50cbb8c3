//! A container's output, from the API server's log stream. The stream is asked for with a
//! timestamp on every line, so that when it breaks before the container ends (a connection to
//! a node lost, an idle stream timed out) it is asked for again from the last line received,
//! and the lines already passed on are skipped.

use std::time::Duration;

use bytes::Bytes;
use eider_runtime::{OutputChunk, OutputStream, RuntimeError, StreamKind};
use futures_util::{AsyncBufRead, AsyncBufReadExt as _};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::LogParams;
use tokio::sync::{mpsc, watch};

use crate::error::{is_not_found, runtime_error};
use crate::pod_watch::PodState;
use crate::status;

/// The longest timestamp prefix of a line (`2024-01-01T00:00:00.123456789Z `, with room).
const MAX_PREFIX: usize = 64;

/// How many requests in a row may fail before the output ends with an error.
const MAX_FAILURES: u32 = 5;

/// How long to wait for the watch to report a container ended after its log stream did,
/// before the stream is asked for again.
const END_CONFIRMATION: Duration = Duration::from_secs(1);

/// Chunks in flight between the request and the engine.
const CHANNEL_CHUNKS: usize = 64;

/// The output of container `container` of Pod `pod`, until it ends. `state` is what the run's
/// watch sees of the Pod: it tells a log stream that ended with its container from one that
/// broke.
pub(crate) fn follow(
    pods: Api<Pod>,
    pod: String,
    container: String,
    kind: StreamKind,
    state: watch::Receiver<PodState>,
) -> OutputStream {
    let (sender, receiver) = mpsc::channel(CHANNEL_CHUNKS);
    tokio::spawn(async move {
        let source = Source {
            pods,
            pod,
            container,
            kind,
        };
        source.pump(state, &sender).await;
    });
    Box::pin(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|item| (item, receiver)) },
    ))
}

struct Source {
    pods: Api<Pod>,
    pod: String,
    container: String,
    kind: StreamKind,
}

type Sender = mpsc::Sender<Result<OutputChunk, RuntimeError>>;

impl Source {
    async fn pump(&self, mut state: watch::Receiver<PodState>, sender: &Sender) {
        let mut position = Position::default();
        let mut failures = 0;
        loop {
            // A stream asked for once the container has ended holds everything that is left;
            // a stream asked for before may have broken before the end.
            let ended_before = self.has_ended(&state);
            let params = LogParams {
                container: Some(self.container.clone()),
                follow: true,
                timestamps: true,
                // Whole seconds, as the API server reads them, down (the client would round to
                // the nearest second, which may skip lines): the lines passed on already are
                // skipped by their timestamps.
                since_time: position
                    .last
                    .and_then(|last| Timestamp::from_second(last.as_second()).ok()),
                ..LogParams::default()
            };
            match self.pods.log_stream(&self.pod, &params).await {
                Ok(reader) => {
                    failures = 0;
                    if !self.read(reader, &mut position, sender).await || ended_before {
                        return;
                    }
                }
                Err(error) if is_not_found(&error) => return,
                Err(error) => {
                    failures += 1;
                    if failures >= MAX_FAILURES {
                        let _ = sender.send(Err(runtime_error(error))).await;
                        return;
                    }
                }
            }
            // The watch reports a container's end a moment after its stream ends: wait for it
            // a little, then ask again (from where the output stopped) either way.
            let _ = tokio::time::timeout(
                END_CONFIRMATION * (failures + 1),
                state.wait_for(|state| self.ended(state)),
            )
            .await;
        }
    }

    /// Passes the stream's lines on, without their timestamps; false once nobody listens.
    async fn read(
        &self,
        reader: impl AsyncBufRead,
        position: &mut Position,
        sender: &Sender,
    ) -> bool {
        let mut reader = std::pin::pin!(reader);
        let mut line = LineState::default();
        loop {
            let (pieces, length) = match reader.fill_buf().await {
                Ok([]) | Err(_) => {
                    line.end(position);
                    return true;
                }
                Ok(buffer) => (line.split(buffer, position), buffer.len()),
            };
            reader.consume_unpin(length);
            for piece in pieces {
                let chunk = OutputChunk {
                    stream: self.kind,
                    bytes: piece,
                };
                if sender.send(Ok(chunk)).await.is_err() {
                    return false;
                }
            }
        }
    }

    /// Whether the watch has reported the container ended (or its Pod gone).
    fn has_ended(&self, state: &watch::Receiver<PodState>) -> bool {
        self.ended(&state.borrow())
    }

    fn ended(&self, state: &PodState) -> bool {
        match state {
            PodState::Gone => true,
            PodState::Unseen => false,
            PodState::Present(pod) => status::container(pod, &self.container)
                .and_then(status::exit)
                .is_some(),
        }
    }
}

/// Where the output stands: the timestamp of the last whole line passed on, how many whole
/// lines with that same timestamp were, and the line begun but not ended when a stream broke.
#[derive(Debug, Default)]
struct Position {
    last: Option<Timestamp>,
    at_last: usize,
    /// Lines with the last timestamp seen again in the current stream.
    seen_again: usize,
    /// A line whose stream broke before its end: its timestamp and the bytes passed on.
    open: Option<(Timestamp, usize)>,
}

impl Position {
    /// Whether a line stamped `stamp` was passed on whole already.
    fn passed(&mut self, stamp: Timestamp) -> bool {
        match self.last {
            Some(last) if stamp < last => true,
            Some(last) if stamp == last => {
                self.seen_again += 1;
                self.seen_again <= self.at_last
            }
            _ => false,
        }
    }

    /// Records a line stamped `stamp` passed on whole.
    fn commit(&mut self, stamp: Timestamp) {
        if self.last == Some(stamp) {
            self.at_last += 1;
        } else {
            self.last = Some(stamp);
            self.at_last = 1;
        }
        self.seen_again = self.at_last;
        self.open = None;
    }
}

/// The line being read.
#[derive(Debug)]
struct Body {
    /// Whether it is passed on (not passed on whole before).
    pass: bool,
    /// Its timestamp, when it has one.
    stamp: Option<Timestamp>,
    /// Bytes of it passed on by an earlier stream, skipped now.
    skip: usize,
    /// Bytes of it read so far in this stream.
    read: usize,
}

/// Where the reader stands in the current line.
#[derive(Debug, Default)]
struct LineState {
    /// In the timestamp at the start of a line: the bytes so far.
    prefix: Vec<u8>,
    /// In the text of a line.
    body: Option<Body>,
    /// Whether the current stream has begun (the count of repeated lines starts anew).
    begun: bool,
}

impl LineState {
    /// The pieces of `buffer` to pass on, in order.
    fn split(&mut self, mut buffer: &[u8], position: &mut Position) -> Vec<Bytes> {
        if !self.begun {
            self.begun = true;
            position.seen_again = 0;
        }
        let mut pieces = Vec::new();
        while !buffer.is_empty() {
            if let Some(body) = &mut self.body {
                let newline = memchr::memchr(b'\n', buffer);
                let (text, rest) = buffer.split_at(newline.map_or(buffer.len(), |end| end + 1));
                if body.pass {
                    let from = body.skip.saturating_sub(body.read).min(text.len());
                    if from < text.len() {
                        pieces.push(Bytes::copy_from_slice(&text[from..]));
                    }
                }
                body.read += text.len();
                if newline.is_some() {
                    if let (true, Some(stamp)) = (body.pass, body.stamp) {
                        position.commit(stamp);
                    }
                    self.body = None;
                }
                buffer = rest;
                continue;
            }
            if let Some(at) = memchr::memchr2(b' ', b'\n', buffer) {
                self.prefix.extend_from_slice(&buffer[..=at]);
                buffer = &buffer[at + 1..];
                let stamp = (self.prefix.last() == Some(&b' '))
                    .then(|| std::str::from_utf8(&self.prefix[..self.prefix.len() - 1]).ok())
                    .flatten()
                    .and_then(|text| text.parse::<Timestamp>().ok());
                if let Some(stamp) = stamp {
                    self.body = Some(Self::begin(stamp, position));
                    self.prefix.clear();
                } else {
                    // Not a timestamp: a server that does not stamp lines.
                    if self.prefix.last() == Some(&b' ') {
                        self.body = Some(Body {
                            pass: true,
                            stamp: None,
                            skip: 0,
                            read: 0,
                        });
                    }
                    pieces.push(Bytes::from(std::mem::take(&mut self.prefix)));
                }
            } else {
                self.prefix.extend_from_slice(buffer);
                buffer = &[];
                if self.prefix.len() > MAX_PREFIX {
                    pieces.push(Bytes::from(std::mem::take(&mut self.prefix)));
                    self.body = Some(Body {
                        pass: true,
                        stamp: None,
                        skip: 0,
                        read: 0,
                    });
                }
            }
        }
        pieces
    }

    /// A line stamped `stamp` begins.
    fn begin(stamp: Timestamp, position: &mut Position) -> Body {
        if position.passed(stamp) {
            return Body {
                pass: false,
                stamp: Some(stamp),
                skip: 0,
                read: 0,
            };
        }
        let skip = match position.open.take() {
            Some((open, passed)) if open == stamp => passed,
            _ => 0,
        };
        Body {
            pass: true,
            stamp: Some(stamp),
            skip,
            read: 0,
        }
    }

    /// The stream ended: a line begun and not ended is remembered with what of it was passed on.
    fn end(&mut self, position: &mut Position) {
        if let Some(Body {
            pass: true,
            stamp: Some(stamp),
            skip,
            read,
        }) = self.body.take()
        {
            position.open = Some((stamp, skip.max(read)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pieces: &[Bytes]) -> String {
        pieces
            .iter()
            .map(|piece| String::from_utf8_lossy(piece).into_owned())
            .collect()
    }

    #[test]
    fn timestamps_are_taken_off_across_chunk_boundaries() {
        let mut position = Position::default();
        let mut line = LineState::default();
        let stream = b"2024-05-01T10:00:00.000000001Z one\n2024-05-01T10:00:00.000000002Z two\n2024-05-01T10:00:01Z last";
        let mut out = Vec::new();
        for chunk in stream.chunks(7) {
            out.extend(line.split(chunk, &mut position));
        }
        assert_eq!(text(&out), "one\ntwo\nlast");
    }

    #[test]
    fn a_stream_asked_again_skips_the_lines_passed_on_already() {
        let mut position = Position::default();
        let first = b"2024-05-01T10:00:00Z a\n2024-05-01T10:00:01Z b\n2024-05-01T10:00:01Z c\n";
        let out = LineState::default().split(first, &mut position);
        assert_eq!(text(&out), "a\nb\nc\n");
        // Asked again from the last timestamp (servers count from the whole second).
        let again = b"2024-05-01T10:00:00Z a\n2024-05-01T10:00:01Z b\n2024-05-01T10:00:01Z c\n2024-05-01T10:00:01Z d\n2024-05-01T10:00:02Z e\n";
        let out = LineState::default().split(again, &mut position);
        assert_eq!(text(&out), "d\ne\n");
    }

    #[test]
    fn a_line_cut_in_the_middle_is_completed_not_repeated_nor_lost() {
        let mut position = Position::default();
        let mut first = LineState::default();
        let out = first.split(
            b"2024-05-01T10:00:00Z a\n2024-05-01T10:00:01Z hal",
            &mut position,
        );
        first.end(&mut position);
        assert_eq!(text(&out), "a\nhal");
        let mut again = LineState::default();
        let out = again.split(
            b"2024-05-01T10:00:00Z a\n2024-05-01T10:00:01Z half\n2024-05-01T10:00:02Z b\n",
            &mut position,
        );
        assert_eq!(text(&out), "f\nb\n");
        // Only the stamp of a line arrived before the break: the line comes whole after.
        let mut third = LineState::default();
        let out = third.split(b"2024-05-01T10:00:03Z ", &mut position);
        third.end(&mut position);
        assert!(out.is_empty());
        let out = LineState::default().split(
            b"2024-05-01T10:00:02Z b\n2024-05-01T10:00:03Z c\n",
            &mut position,
        );
        assert_eq!(text(&out), "c\n");
    }

    #[test]
    fn lines_without_a_timestamp_pass_whole() {
        let mut position = Position::default();
        let out = LineState::default().split(b"plain line\nmore\n", &mut position);
        assert_eq!(text(&out), "plain line\nmore\n");
    }
}
