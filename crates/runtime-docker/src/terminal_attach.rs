//! The output of a terminal (`tty: true`) container, read as raw bytes on eider's own
//! connection to the engine.
//!
//! The engine sends a terminal's output as it comes, not in the 8-byte-header frames it uses for
//! separate stdout and stderr. bollard 0.21 decodes both kinds with one decoder that guesses on
//! each read: a read starting with byte 0, 1 or 2 is taken for a frame header, which drops 8
//! bytes and may wait for a length made of output bytes (holding all output until the container
//! exits). So eider sends the attach request itself and passes on every byte after the answer's
//! head, decoding nothing.

use std::path::PathBuf;

use bytes::Bytes;
use eider_runtime::{OutputChunk, OutputStream, RuntimeError, StreamKind};

use crate::model::ContainerId;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::engine_answer::{AnswerHead, read_answer_head, refusal};

/// Bytes asked of each read of the output.
const READ_CAPACITY: usize = 64 * 1024;

/// Where the engine listens, when eider can speak to it over a plain byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawEndpoint {
    /// A Unix socket.
    Unix(PathBuf),
    /// A TCP address without TLS, `host:port`.
    Tcp(String),
}

impl RawEndpoint {
    /// The endpoint bollard connects to for this `DOCKER_HOST`, read the way bollard reads it.
    /// `None` for anything else (TLS, SSH): those keep bollard's attachment, since speaking
    /// them here would mean a second TLS or SSH client beside bollard's.
    pub(crate) fn of_docker_host(host: &str) -> Option<Self> {
        if let Some(path) = host.strip_prefix("unix://") {
            return Some(Self::Unix(PathBuf::from(path)));
        }
        let address = host
            .strip_prefix("tcp://")
            .or_else(|| host.strip_prefix("http://"))?;
        let authority = address.split('/').next().unwrap_or(address);
        if authority.is_empty() {
            return None;
        }
        // bollard's requests go to the scheme's default port when none is given.
        let has_port = !authority.ends_with(']')
            && authority
                .rsplit_once(':')
                .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
        Some(Self::Tcp(if has_port {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        }))
    }
}

/// Attaches to the output of terminal container `id`: raw bytes, as [`StreamKind::Console`]
/// chunks, until the container's main process exits. `patience` bounds the time until the
/// engine has answered.
pub(crate) async fn attach_terminal(
    endpoint: &RawEndpoint,
    id: &ContainerId,
    patience: std::time::Duration,
) -> Result<OutputStream, RuntimeError> {
    let exchange = async {
        match endpoint {
            RawEndpoint::Unix(path) => {
                let connection = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(|source| unreachable(&format!("unix://{}", path.display()), source))?;
                upgrade(connection, "docker", id).await
            }
            RawEndpoint::Tcp(address) => {
                let connection = tokio::net::TcpStream::connect(address.as_str())
                    .await
                    .map_err(|source| unreachable(&format!("tcp://{address}"), source))?;
                upgrade(connection, address, id).await
            }
        }
    };
    tokio::time::timeout(patience, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(RuntimeError::Other(format!(
                "the engine did not answer the attach request for container {} within {} seconds",
                id.0,
                patience.as_secs()
            )))
        })
}

fn unreachable(endpoint: &str, source: std::io::Error) -> RuntimeError {
    RuntimeError::Unreachable {
        endpoint: endpoint.to_owned(),
        source: Box::new(source),
    }
}

/// Sends the attach request on `connection` and, once the engine has switched it to a raw
/// stream, returns every byte that follows as output.
async fn upgrade<Connection>(
    mut connection: Connection,
    host: &str,
    id: &ContainerId,
) -> Result<OutputStream, RuntimeError>
where
    Connection: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let exchange_failed = |error: std::io::Error| {
        RuntimeError::Other(format!("cannot attach to container {}: {error}", id.0))
    };
    connection
        .write_all(attach_request(host, id).as_bytes())
        .await
        .map_err(exchange_failed)?;
    let (head, after_head) = read_answer_head(&mut connection)
        .await
        .map_err(exchange_failed)?;
    match head {
        // 101 switches protocols; engines from before the upgrade answer 200 and stream raw
        // bytes all the same.
        AnswerHead {
            status: 101 | 200, ..
        } => {}
        head => return Err(refusal(connection, &head, after_head, id).await),
    }
    // Output that came in the same read as the head goes first.
    let output = std::io::Cursor::new(after_head).chain(connection);
    let chunks = tokio_util::io::ReaderStream::with_capacity(output, READ_CAPACITY).map(|read| {
        read.map(|bytes: Bytes| OutputChunk {
            stream: StreamKind::Console,
            bytes,
        })
        .map_err(RuntimeError::Io)
    });
    Ok(Box::pin(chunks))
}

/// The request that turns a connection into the container's output stream. The path carries no
/// API version, like every request bollard sends here (see `connect.rs`): each engine answers
/// in its own, and a fixed one would be refused by engines that no longer support it.
fn attach_request(host: &str, id: &ContainerId) -> String {
    format!(
        "POST /containers/{}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n\
         Host: {host}\r\n\
         Content-Length: 0\r\n\
         Connection: Upgrade\r\n\
         Upgrade: tcp\r\n\
         \r\n",
        path_segment(&id.0)
    )
}

/// `text` safe in a URL path: bytes other than letters, digits, `-`, `.` and `_` encoded.
fn path_segment(text: &str) -> String {
    use std::fmt::Write as _;
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_') {
            encoded.push(char::from(byte));
        } else {
            let _infallible = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_read_as_bollard_reads_them() {
        let cases = [
            (
                "unix:///var/run/docker.sock",
                Some(RawEndpoint::Unix("/var/run/docker.sock".into())),
            ),
            (
                "tcp://127.0.0.1:2375",
                Some(RawEndpoint::Tcp("127.0.0.1:2375".to_owned())),
            ),
            (
                "http://engine:2375/",
                Some(RawEndpoint::Tcp("engine:2375".to_owned())),
            ),
            (
                "tcp://engine",
                Some(RawEndpoint::Tcp("engine:80".to_owned())),
            ),
            (
                "tcp://[::1]:2375",
                Some(RawEndpoint::Tcp("[::1]:2375".to_owned())),
            ),
            ("tcp://[::1]", Some(RawEndpoint::Tcp("[::1]:80".to_owned()))),
            ("tcp://", None),
            ("https://engine:2376", None),
            ("ssh://user@engine", None),
        ];
        for (host, expected) in cases {
            assert_eq!(RawEndpoint::of_docker_host(host), expected, "{host}");
        }
    }

    #[test]
    fn the_attach_request_asks_for_both_streams_and_an_upgrade() {
        let request = attach_request("docker", &ContainerId("abc/1".to_owned()));
        assert_eq!(
            request,
            "POST /containers/abc%2F1/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n\
             Host: docker\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
        );
    }

    /// Output pieces that each start like a multiplexed frame header (stream 0, 1 or 2).
    const FRAME_LIKE_PIECES: [&[u8]; 3] =
        [b"\x01abc", b"\x00\x02xyz\r\n", b"\x02\x00\x00\x00\xff\xff"];

    /// Plays the engine on `connection`: reads the request, switches to a raw stream with the
    /// first piece in the same write as the head, then writes the others one by one and closes.
    async fn serve_attach<Connection>(mut connection: Connection) -> String
    where
        Connection: AsyncRead + AsyncWrite + Unpin,
    {
        let mut request = Vec::new();
        while !request.ends_with(b"\r\n\r\n") {
            let mut byte = [0; 1];
            connection
                .read_exact(&mut byte)
                .await
                .expect("read the request");
            request.push(byte[0]);
        }
        let mut first = b"HTTP/1.1 101 UPGRADED\r\n\
            Content-Type: application/vnd.docker.raw-stream\r\n\
            Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
            .to_vec();
        first.extend_from_slice(FRAME_LIKE_PIECES[0]);
        connection.write_all(&first).await.expect("answer");
        for piece in &FRAME_LIKE_PIECES[1..] {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            connection.write_all(piece).await.expect("write output");
        }
        String::from_utf8_lossy(&request).into_owned()
    }

    /// Attaches through `endpoint` and returns the output, checking every chunk is console output.
    async fn collect_output(endpoint: &RawEndpoint) -> Vec<u8> {
        let id = ContainerId("3f2a".to_owned());
        let patience = std::time::Duration::from_secs(10);
        let mut stream = attach_terminal(endpoint, &id, patience)
            .await
            .expect("attach");
        let mut output = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.expect("a chunk");
            assert_eq!(chunk.stream, StreamKind::Console);
            output.extend_from_slice(&chunk.bytes);
        }
        output
    }

    #[tokio::test]
    async fn output_on_a_unix_socket_passes_through_raw_even_where_reads_start_with_0_1_or_2() {
        let directory = tempfile::tempdir().expect("a directory");
        let socket = directory.path().join("engine.sock");
        let listener = tokio::net::UnixListener::bind(&socket).expect("bind");
        let engine = tokio::spawn(async move {
            let (connection, _) = listener.accept().await.expect("accept");
            serve_attach(connection).await
        });
        let output = collect_output(&RawEndpoint::Unix(socket)).await;
        assert_eq!(output, FRAME_LIKE_PIECES.concat());
        let request = engine.await.expect("the engine");
        assert!(
            request.starts_with("POST /containers/3f2a/attach?"),
            "{request}"
        );
        assert!(request.contains("\r\nHost: docker\r\n"), "{request}");
    }

    #[tokio::test]
    async fn output_over_tcp_passes_through_raw_even_where_reads_start_with_0_1_or_2() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let engine = tokio::spawn(async move {
            let (connection, _) = listener.accept().await.expect("accept");
            serve_attach(connection).await
        });
        let output = collect_output(&RawEndpoint::Tcp(address.clone())).await;
        assert_eq!(output, FRAME_LIKE_PIECES.concat());
        let request = engine.await.expect("the engine");
        assert!(
            request.contains(&format!("\r\nHost: {address}\r\n")),
            "{request}"
        );
    }

    #[tokio::test]
    async fn an_engine_that_does_not_listen_is_unreachable() {
        let directory = tempfile::tempdir().expect("a directory");
        let socket = directory.path().join("absent.sock");
        let id = ContainerId("3f2a".to_owned());
        let result = attach_terminal(
            &RawEndpoint::Unix(socket),
            &id,
            std::time::Duration::from_secs(10),
        )
        .await;
        let Err(RuntimeError::Unreachable { endpoint, .. }) = result else {
            panic!("an engine that does not listen is unreachable");
        };
        assert_eq!(
            endpoint,
            format!("unix://{}", directory.path().join("absent.sock").display())
        );
    }
}
