//! A scripted HTTP/1.1 server on loopback, for the registry behaviours a real `docker-registry`
//! will not produce on demand (413, 503 with `Retry-After`, lost sessions, silence). Every
//! request is recorded; a handler decides each answer.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use eider_fault_proxy::Head;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A request as the server read it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names in lowercase.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    pub fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(self.target.as_str(), |(path, _)| path)
    }

    /// A query parameter, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        self.query_all(name).into_iter().next()
    }

    /// Every value of a repeated query parameter, percent-decoded.
    pub fn query_all(&self, name: &str) -> Vec<String> {
        let Some((_, query)) = self.target.split_once('?') else {
            return Vec::new();
        };
        query
            .split('&')
            .filter_map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (key == name).then(|| percent_decode(value))
            })
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// An answer; `hang` answers nothing and holds the connection open.
#[derive(Debug, Clone, Default)]
pub struct FakeResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub hang: bool,
}

impl FakeResponse {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            ..Self::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// A registry error body with one entry.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::status(status)
            .header("Content-Type", "application/json")
            .body(format!(
                r#"{{"errors":[{{"code":"{code}","message":"{message}"}}]}}"#
            ))
    }

    pub fn hang() -> Self {
        Self {
            hang: true,
            ..Self::default()
        }
    }
}

type Handler = dyn Fn(&RecordedRequest) -> FakeResponse + Send + Sync;

/// The running server; stops when dropped.
pub struct FakeServer {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    pub async fn start(
        handler: impl Fn(&RecordedRequest) -> FakeResponse + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let handler = Arc::clone(&handler);
                let recorded = Arc::clone(&recorded);
                tokio::spawn(serve_connection(stream, handler, recorded));
            }
        });
        Self {
            address,
            requests,
            task,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().expect("requests lock").clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_connection(
    stream: TcpStream,
    handler: Arc<Handler>,
    recorded: Arc<Mutex<Vec<RecordedRequest>>>,
) {
    let mut stream = BufReader::new(stream);
    while let Some(request) = read_request(&mut stream).await {
        recorded
            .lock()
            .expect("requests lock")
            .push(request.clone());
        let response = handler(&request);
        if response.hang {
            // Holds the connection without a word until the client gives up.
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            return;
        }
        let mut head = format!("HTTP/1.1 {} Fake\r\n", response.status);
        let mut has_length = false;
        for (name, value) in &response.headers {
            has_length |= name.eq_ignore_ascii_case("content-length");
            let _ = write!(head, "{name}: {value}\r\n");
        }
        if !has_length {
            let _ = write!(head, "Content-Length: {}\r\n", response.body.len());
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        if request.method != "HEAD" {
            bytes.extend_from_slice(&response.body);
        }
        if stream.get_mut().write_all(&bytes).await.is_err() {
            return;
        }
    }
}

/// Reads one request: its head up to the blank line that ends it, parsed by the fault proxy's
/// HTTP/1.1 head parser (the one test support uses everywhere), then its body by
/// `Content-Length`.
async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<RecordedRequest> {
    let mut bytes = Vec::new();
    loop {
        let start = bytes.len();
        if stream.read_until(b'\n', &mut bytes).await.ok()? == 0 {
            return None;
        }
        if matches!(&bytes[start..], b"\r\n" | b"\n") {
            break;
        }
    }
    let head = Head::read(&mut bytes.as_slice()).ok()??;
    let (method, target) = head.request_line();
    let (method, target) = (method.to_owned(), target.to_owned());
    let headers: BTreeMap<String, String> = head
        .headers
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(RecordedRequest {
        method,
        target,
        headers,
        body,
    })
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 3 <= bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
                if let Ok(byte) = u8::from_str_radix(hex, 16) {
                    decoded.push(byte);
                    index += 3;
                } else {
                    decoded.push(b'%');
                    index += 1;
                }
            }
            b'+' => {
                decoded.push(b' ');
                index += 1;
            }
            byte => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}
