//! The engine's answer to a request eider sends on its own connection: the head, read within a
//! bound, and what a refusal says.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use eider_runtime::RuntimeError;

use crate::model::ContainerId;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The most an answer's head (status line and headers) may take, and the most of a refusal's
/// body that is read: a head is a few hundred bytes, so anything longer is not the engine.
pub(crate) const MOST_ANSWER_BYTES: usize = 16 * 1024;

/// How long a refusal's body may take to arrive. The engine sends it at once; a body without a
/// length on a connection left open would otherwise wait for the whole request's patience.
const REFUSAL_BODY_PATIENCE: Duration = Duration::from_secs(2);

/// The status line and the one header eider reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AnswerHead {
    /// The status code (`101`, `404`...).
    pub(crate) status: u16,
    /// The words after the code (`UPGRADED`, `Not Found`).
    pub(crate) reason: String,
    /// `Content-Length`, when given.
    pub(crate) content_length: Option<usize>,
}

/// Reads the head of the answer on `connection`, at most [`MOST_ANSWER_BYTES`]; returns it and
/// the bytes that came after it in the same reads.
pub(crate) async fn read_answer_head<Connection>(
    connection: &mut Connection,
) -> io::Result<(AnswerHead, Bytes)>
where
    Connection: AsyncRead + Unpin,
{
    let mut buffer = vec![0; MOST_ANSWER_BYTES];
    let mut filled = 0;
    while filled < buffer.len() {
        let read = connection.read(&mut buffer[filled..]).await?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the engine closed the connection before the end of its answer's head",
            ));
        }
        // The blank line that ends the head may straddle two reads.
        let searched_from = filled.saturating_sub(3);
        filled += read;
        if let Some(position) = find(&buffer[searched_from..filled], b"\r\n\r\n") {
            let end = searched_from + position + 4;
            let head = parse_head(&buffer[..end]).ok_or_else(|| {
                let first_line = buffer[..end].split(|byte| *byte == b'\r').next();
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the engine's answer is not HTTP/1: {:?}",
                        String::from_utf8_lossy(first_line.unwrap_or_default())
                    ),
                )
            })?;
            return Ok((head, Bytes::copy_from_slice(&buffer[end..filled])));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "the engine's answer has a head longer than {} KiB",
            MOST_ANSWER_BYTES / 1024
        ),
    ))
}

/// The status line and `Content-Length` of a head (ending with its blank line); `None` when it
/// is not an HTTP/1 answer.
fn parse_head(head: &[u8]) -> Option<AnswerHead> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let (version, status_and_reason) = lines.next()?.split_once(' ')?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let (code, reason) = status_and_reason
        .split_once(' ')
        .unwrap_or((status_and_reason, ""));
    let status = code
        .parse()
        .ok()
        .filter(|status| (100..1000).contains(status))?;
    let content_length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok());
    Some(AnswerHead {
        status,
        reason: reason.to_owned(),
        content_length,
    })
}

/// The error for an answer `head` that refuses to attach to container `id`, with what the
/// engine said in the body: its `message` when it is JSON, else its text.
pub(crate) async fn refusal<Connection>(
    mut connection: Connection,
    head: &AnswerHead,
    after_head: Bytes,
    id: &ContainerId,
) -> RuntimeError
where
    Connection: AsyncRead + Unpin,
{
    let length = head
        .content_length
        .unwrap_or(MOST_ANSWER_BYTES)
        .min(MOST_ANSWER_BYTES);
    let mut body = after_head.to_vec();
    body.truncate(length);
    // An attach refusal comes after the engine took over the connection: without a length,
    // ended by closing the connection.
    let missing = u64::try_from(length - body.len()).unwrap_or(0);
    let mut rest = (&mut connection).take(missing);
    let reading = rest.read_to_end(&mut body);
    // What did not come in time, or a broken connection, leaves the body as it is.
    let _partial = tokio::time::timeout(REFUSAL_BODY_PATIENCE, reading).await;
    let mut message = format!(
        "the engine answered {} {} to the attach request for container {}",
        head.status, head.reason, id.0
    );
    if let Some(said) = engine_message(&body) {
        message.push_str(": ");
        message.push_str(&said);
    }
    RuntimeError::Refused {
        status: Some(head.status),
        message,
    }
}

/// What an error body says: the `message` of a JSON body, else its text; `None` when empty.
fn engine_message(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let json_message = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|json| json.get("message")?.as_str().map(str::to_owned));
    Some(json_message.unwrap_or_else(|| text.to_owned()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(status: u16, reason: &str, content_length: Option<usize>) -> AnswerHead {
        AnswerHead {
            status,
            reason: reason.to_owned(),
            content_length,
        }
    }

    #[tokio::test]
    async fn the_head_ends_at_its_blank_line_and_the_output_after_it_is_kept() {
        let (mut engine, mut client) = tokio::io::duplex(64);
        let answer = tokio::spawn(async move { read_answer_head(&mut client).await });
        // Written in pieces, the blank line split between two of them.
        for piece in [
            &b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r"[..],
            b"\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r",
            b"\n\x01\x00\x00\x00\x7f",
        ] {
            tokio::io::AsyncWriteExt::write_all(&mut engine, piece)
                .await
                .expect("write");
            tokio::task::yield_now().await;
        }
        let (head_read, after) = answer.await.expect("join").expect("a head");
        assert_eq!(head_read, head(101, "UPGRADED", None));
        assert_eq!(after.as_ref(), b"\x01\x00\x00\x00\x7f");
    }

    #[tokio::test]
    async fn a_head_longer_than_the_bound_is_refused() {
        let mut answer = b"HTTP/1.1 101 UPGRADED\r\n".to_vec();
        answer.extend(b"X-Filler: ".repeat(MOST_ANSWER_BYTES / 10));
        let error = read_answer_head(&mut answer.as_slice())
            .await
            .expect_err("too long");
        assert_eq!(
            error.to_string(),
            "the engine's answer has a head longer than 16 KiB"
        );
    }

    #[tokio::test]
    async fn an_answer_cut_short_or_not_http_is_an_error() {
        let cut = read_answer_head(&mut &b"HTTP/1.1 101 UPGR"[..]).await;
        assert_eq!(cut.expect_err("cut").kind(), io::ErrorKind::UnexpectedEof);
        let other = read_answer_head(&mut &b"SSH-2.0-OpenSSH\r\n\r\n"[..]).await;
        assert_eq!(
            other.expect_err("not HTTP").to_string(),
            "the engine's answer is not HTTP/1: \"SSH-2.0-OpenSSH\""
        );
    }

    #[test]
    fn heads_give_status_reason_and_length() {
        assert_eq!(
            parse_head(b"HTTP/1.0 200 OK\r\n\r\n"),
            Some(head(200, "OK", None))
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 404 Not Found\r\ncontent-length:  12 \r\n\r\n"),
            Some(head(404, "Not Found", Some(12)))
        );
        assert_eq!(parse_head(b"HTTP/1.1 42 Odd\r\n\r\n"), None);
        assert_eq!(parse_head(b"HTTP/2 200\r\n\r\n"), None);
    }

    #[tokio::test]
    async fn a_refusal_names_the_container_and_says_what_the_engine_said() {
        let id = ContainerId("3f2a".to_owned());
        // Text after the connection was taken over, ended by closing it.
        let error = refusal(
            &b"ntainer: 3f2a\r\n"[..],
            &head(404, "Not Found", None),
            Bytes::from_static(b"No such co"),
            &id,
        )
        .await;
        assert!(matches!(
            error,
            RuntimeError::Refused {
                status: Some(404),
                ..
            }
        ));
        assert_eq!(
            error.to_string(),
            "the engine answered 404 Not Found to the attach request for container 3f2a: \
             No such container: 3f2a"
        );
        // JSON with a length, on a connection left open.
        let (_engine, client) = tokio::io::duplex(64);
        let body = br#"{"message":"conflict: container is paused"}"#;
        let error = refusal(
            client,
            &head(409, "Conflict", Some(body.len())),
            Bytes::from_static(body),
            &id,
        )
        .await;
        assert_eq!(
            error.to_string(),
            "the engine answered 409 Conflict to the attach request for container 3f2a: \
             conflict: container is paused"
        );
    }
}
