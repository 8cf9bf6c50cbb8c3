//! The output of a terminal (`tty: true`) container, read as raw bytes on eider's own
//! connection to the engine.
//!
//! The engine sends a terminal's output as it comes, not in the 8-byte-header frames it uses for
//! separate stdout and stderr. bollard 0.21 decodes both kinds with one decoder that guesses on
//! each read: a read starting with byte 0, 1 or 2 is taken for a frame header, which drops 8
//! bytes and may wait for a length made of output bytes (holding all output until the container
//! exits). So eider sends the attach request itself and passes on every byte after the answer's
//! head, decoding nothing.

use bytes::Bytes;
use eider_runtime::{OutputChunk, OutputStream, RuntimeError, StreamKind};

use crate::model::ContainerId;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::endpoint::{RawConnection, Transport};
use crate::engine_answer::{AnswerHead, read_answer_head, refusal};

/// Bytes asked of each read of the output.
const READ_CAPACITY: usize = 64 * 1024;

/// Attaches to the output of terminal container `id` on a connection of its own to the engine
/// of `transport`: raw bytes, as [`StreamKind::Console`] chunks, until the container's main
/// process exits. `patience` bounds the time until the engine has answered.
pub(crate) async fn attach_terminal(
    transport: &Transport,
    id: &ContainerId,
    patience: std::time::Duration,
) -> Result<OutputStream, RuntimeError> {
    let exchange = async {
        let host = transport.host_header();
        let connection = transport
            .open()
            .await
            .map_err(|source| unreachable(transport, source))?;
        match connection {
            RawConnection::Unix(connection) => upgrade(connection, &host, id).await,
            RawConnection::Tcp(connection) => upgrade(connection, &host, id).await,
            RawConnection::Tls(connection) => upgrade(*connection, &host, id).await,
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

fn unreachable(transport: &Transport, source: std::io::Error) -> RuntimeError {
    RuntimeError::Unreachable {
        endpoint: transport.endpoint().to_string(),
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
    let chunks = tokio_util::io::ReaderStream::with_capacity(output, READ_CAPACITY)
        // A TLS connection closed without TLS's own goodbye (`close_notify`, which an engine
        // behind a proxy may never send) ends the output as a closed socket or TCP connection
        // does: the container's exit is known from the engine, not from this stream.
        .take_while(|read| {
            std::future::ready(!matches!(
                read,
                Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof
            ))
        })
        .map(|read| {
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
    use camino::Utf8PathBuf;
    use rustls::pki_types::pem::PemObject as _;

    use super::*;
    use crate::endpoint::{Endpoint, EndpointOrigin, EngineAddress, TlsSettings};

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

    /// A transport to `address`, with `tls`.
    fn transport(address: EngineAddress, tls: Option<TlsSettings>) -> Transport {
        Transport::new(Endpoint {
            address,
            tls,
            origin: EndpointOrigin::DockerHost,
        })
        .expect("a transport")
    }

    fn socket(path: &std::path::Path) -> EngineAddress {
        EngineAddress::Unix(Utf8PathBuf::from_path_buf(path.to_owned()).expect("a UTF-8 path"))
    }

    fn port(address: std::net::SocketAddr) -> EngineAddress {
        EngineAddress::Tcp {
            host: address.ip().to_string(),
            port: address.port(),
        }
    }

    /// Attaches through `transport` and returns the output, checking every chunk is console
    /// output.
    async fn collect_output(transport: &Transport) -> Vec<u8> {
        let id = ContainerId("3f2a".to_owned());
        let patience = std::time::Duration::from_secs(10);
        let mut stream = attach_terminal(transport, &id, patience)
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
        let path = directory.path().join("engine.sock");
        let listener = tokio::net::UnixListener::bind(&path).expect("bind");
        let engine = tokio::spawn(async move {
            let (connection, _) = listener.accept().await.expect("accept");
            serve_attach(connection).await
        });
        let output = collect_output(&transport(socket(&path), None)).await;
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
        let address = listener.local_addr().expect("address");
        let engine = tokio::spawn(async move {
            let (connection, _) = listener.accept().await.expect("accept");
            serve_attach(connection).await
        });
        let output = collect_output(&transport(port(address), None)).await;
        assert_eq!(output, FRAME_LIKE_PIECES.concat());
        let request = engine.await.expect("the engine");
        assert!(
            request.contains(&format!("\r\nHost: {address}\r\n")),
            "{request}"
        );
    }

    #[tokio::test]
    async fn output_over_tls_passes_through_raw_even_where_reads_start_with_0_1_or_2() {
        let material = crate::endpoint::tls_material(&["127.0.0.1"]);
        let directory = tempfile::tempdir().expect("a directory");
        std::fs::write(directory.path().join("ca.pem"), &material.ca).expect("ca.pem");
        let server = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(
            vec![
                rustls::pki_types::CertificateDer::from_pem_slice(material.certificate.as_bytes())
                    .expect("certificate"),
            ],
            rustls::pki_types::PrivateKeyDer::from_pem_slice(material.key.as_bytes()).expect("key"),
        )
        .expect("a server configuration");
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let engine = tokio::spawn(async move {
            let (connection, _) = listener.accept().await.expect("accept");
            let connection = acceptor.accept(connection).await.expect("a TLS handshake");
            serve_attach(connection).await
        });
        let tls = TlsSettings {
            directory: Utf8PathBuf::from_path_buf(directory.path().to_owned()).expect("UTF-8"),
            verify: true,
        };
        let output = collect_output(&transport(port(address), Some(tls))).await;
        assert_eq!(output, FRAME_LIKE_PIECES.concat());
        let request = engine.await.expect("the engine");
        assert!(
            request.starts_with("POST /containers/3f2a/attach?"),
            "{request}"
        );
    }

    #[tokio::test]
    async fn an_engine_that_does_not_listen_is_unreachable() {
        let directory = tempfile::tempdir().expect("a directory");
        let path = directory.path().join("absent.sock");
        let id = ContainerId("3f2a".to_owned());
        let result = attach_terminal(
            &transport(socket(&path), None),
            &id,
            std::time::Duration::from_secs(10),
        )
        .await;
        let Err(RuntimeError::Unreachable { endpoint, .. }) = result else {
            panic!("an engine that does not listen is unreachable");
        };
        assert_eq!(endpoint, format!("unix://{}", path.display()));
    }
}
