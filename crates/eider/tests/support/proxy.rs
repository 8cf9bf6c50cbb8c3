//! A recording proxy between eider and the engine: a Unix socket that relays every connection to
//! the engine and keeps what clients send, so that a test can read the requests eider made (a
//! container's create request shows exactly what the engine was asked), or check that it made
//! none. Point eider at it with `DOCKER_HOST` ([`RecordingProxy::docker_host`]). It can also
//! listen on a loopback TCP port ([`RecordingProxy::start_tcp`]), for eider on a `tcp://` engine.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tempfile::TempDir;

/// Where a proxy takes connections.
enum Listening {
    /// A socket in a directory of its own.
    Unix { directory: TempDir, socket: PathBuf },
    /// A port of 127.0.0.1.
    Tcp(SocketAddr),
}

/// What a client sent on one connection.
type Record = Arc<Mutex<Vec<u8>>>;

/// A Unix socket that relays every connection to the engine and records what clients send, so
/// a test can read the requests eider made. Its threads end with the test process.
pub struct RecordingProxy {
    listening: Listening,
    /// Client-to-engine bytes, one buffer per connection.
    connections: Arc<Mutex<Vec<Record>>>,
    /// Container starts held back on their way to the engine.
    starts: Arc<StartGate>,
}

/// What a proxy changes on the way.
#[derive(Clone, Copy, Default)]
struct Changes {
    /// Hold back every container start while a test acts.
    hold_starts: bool,
    /// Answer `null` where the engine's container state says `"OOMKilled":true`: what a client
    /// sees when the kernel's OOM notice reaches the engine after the exit.
    hide_out_of_memory: bool,
}

/// Holds back every container start request while closed, so that a test can act while a
/// container exists but has not started yet.
#[derive(Default)]
struct StartGate {
    /// Whether starts are held, and how many are held now.
    state: Mutex<(bool, usize)>,
    changed: std::sync::Condvar,
}

impl StartGate {
    fn new(closed: bool) -> Arc<Self> {
        let gate = Arc::new(Self::default());
        gate.state.lock().expect("start gate").0 = closed;
        gate
    }

    /// Blocks while the gate is closed, counted as one held start.
    fn pass(&self) {
        let mut state = self.state.lock().expect("start gate");
        if !state.0 {
            return;
        }
        state.1 += 1;
        self.changed.notify_all();
        while state.0 {
            state = self.changed.wait(state).expect("start gate");
        }
        state.1 -= 1;
    }
}

/// One HTTP request a client sent.
#[derive(Debug)]
pub struct Request {
    /// `GET`, `POST`...
    pub method: String,
    /// The path and query.
    pub target: String,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

/// A container creation request: the name eider gave and the body.
#[derive(Debug)]
pub struct CreateRequest {
    /// The container name in the query.
    pub name: String,
    /// The body as text.
    pub raw: String,
    /// The body.
    pub body: Value,
}

impl CreateRequest {
    /// `HostConfig.Privileged`.
    pub fn privileged(&self) -> Option<bool> {
        self.body["HostConfig"]["Privileged"].as_bool()
    }

    /// `HostConfig.Mounts` as `(type, source, target, read-only)`.
    pub fn mounts(&self) -> Vec<(String, String, String, bool)> {
        self.body["HostConfig"]["Mounts"]
            .as_array()
            .map(|mounts| {
                mounts
                    .iter()
                    .map(|mount| {
                        let text = |key: &str| mount[key].as_str().unwrap_or_default().to_owned();
                        (
                            text("Type"),
                            text("Source"),
                            text("Target"),
                            mount["ReadOnly"].as_bool().unwrap_or(false),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The socket of the engine the tests run against, found as eider finds it (`DOCKER_HOST`, a
/// Docker context...): a test engine on a TCP port has no socket to relay to.
pub fn engine_socket() -> PathBuf {
    let endpoint = eider_runtime_docker::Endpoint::of_process()
        .unwrap_or_else(|error| panic!("no engine for the tests: {error}"));
    match endpoint.address {
        eider_runtime_docker::EngineAddress::Unix(path) => path.into_std_path_buf(),
        eider_runtime_docker::EngineAddress::Tcp { .. } => {
            panic!("the tests' proxies relay to an engine's socket, not to {endpoint}")
        }
    }
}

impl RecordingProxy {
    /// A proxy listening on a new socket in a temporary directory.
    pub fn start() -> Self {
        Self::listen(Changes::default())
    }

    /// A proxy that holds back every container start until [`RecordingProxy::release_starts`].
    pub fn holding_starts() -> Self {
        Self::listen(Changes {
            hold_starts: true,
            ..Changes::default()
        })
    }

    /// A proxy through which no container state says it was killed for memory: the engine's
    /// events are all that tell.
    pub fn hiding_out_of_memory() -> Self {
        Self::listen(Changes {
            hide_out_of_memory: true,
            ..Changes::default()
        })
    }

    fn listen(changes: Changes) -> Self {
        let directory = tempfile::tempdir().expect("proxy directory");
        let socket = directory.path().join("engine.sock");
        let listener = UnixListener::bind(&socket).expect("bind the proxy socket");
        let connections: Arc<Mutex<Vec<Record>>> = Arc::default();
        let recorded = Arc::clone(&connections);
        let starts = StartGate::new(changes.hold_starts);
        let gate = Arc::clone(&starts);
        std::thread::spawn(move || {
            accept_and_relay(listener.incoming(), &recorded, &gate, changes);
        });
        Self {
            listening: Listening::Unix { directory, socket },
            connections,
            starts,
        }
    }

    /// A proxy listening on a free port of 127.0.0.1 (plain TCP, no TLS).
    pub fn start_tcp() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy port");
        let tcp_address = listener.local_addr().expect("the proxy's address");
        let connections: Arc<Mutex<Vec<Record>>> = Arc::default();
        let recorded = Arc::clone(&connections);
        let starts = StartGate::new(false);
        let gate = Arc::clone(&starts);
        std::thread::spawn(move || {
            accept_and_relay(listener.incoming(), &recorded, &gate, Changes::default());
        });
        Self {
            listening: Listening::Tcp(tcp_address),
            connections,
            starts,
        }
    }

    /// Waits until a container start is held back, panicking after `patience`.
    #[track_caller]
    pub fn wait_for_held_start(&self, patience: std::time::Duration) {
        let state = self.starts.state.lock().expect("start gate");
        let (state, timeout) = self
            .starts
            .changed
            .wait_timeout_while(state, patience, |state| state.1 == 0)
            .expect("start gate");
        assert!(
            !timeout.timed_out() || state.1 > 0,
            "no container start reached the proxy in {patience:?}"
        );
    }

    /// Lets the held starts (and every later one) through.
    pub fn release_starts(&self) {
        self.starts.state.lock().expect("start gate").0 = false;
        self.starts.changed.notify_all();
    }

    /// The value of `DOCKER_HOST` that points at the proxy.
    pub fn docker_host(&self) -> String {
        match &self.listening {
            Listening::Unix { socket, .. } => format!("unix://{}", socket.display()),
            Listening::Tcp(address) => format!("tcp://{address}"),
        }
    }

    /// The proxy's socket on this machine (a proxy started with `start`).
    #[track_caller]
    pub fn socket(&self) -> &Path {
        match &self.listening {
            Listening::Unix { socket, .. } => socket,
            Listening::Tcp(address) => panic!("the proxy listens on {address}, not on a socket"),
        }
    }

    /// Lets any user connect, for eider run as another user (a TCP port already does).
    pub fn open_to_everyone(&self) {
        let Listening::Unix { directory, socket } = &self.listening else {
            return;
        };
        for (path, mode) in [(directory.path(), 0o755), (socket.as_path(), 0o666)] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .expect("open the proxy socket");
        }
    }

    /// How many connections clients opened.
    pub fn connection_count(&self) -> usize {
        self.connections.lock().expect("proxy records").len()
    }

    /// Every request recorded so far, connection by connection.
    pub fn requests(&self) -> Vec<Request> {
        let connections = self.connections.lock().expect("proxy records");
        connections
            .iter()
            .flat_map(|record| parse_requests(&record.lock().expect("connection record")))
            .collect()
    }

    /// The container creation requests, in the order each connection sent them.
    pub fn creates(&self) -> Vec<CreateRequest> {
        self.requests()
            .into_iter()
            .filter(|request| {
                request.method == "POST" && request.target.contains("/containers/create")
            })
            .map(|request| {
                let name = request
                    .target
                    .split_once("name=")
                    .map(|(_, name)| name.split('&').next().unwrap_or(name).to_owned())
                    .unwrap_or_default();
                let raw = String::from_utf8_lossy(&request.body).into_owned();
                let body = serde_json::from_slice(&request.body).unwrap_or_else(|error| {
                    panic!("create request body is not JSON ({error}): {raw}")
                });
                CreateRequest { name, raw, body }
            })
            .collect()
    }

    /// The create request of container `container` of job `job`.
    #[track_caller]
    pub fn create_of(&self, job: &str, container: &str) -> CreateRequest {
        let suffix = format!("-{job}-{container}");
        let mut found: Vec<CreateRequest> = self
            .creates()
            .into_iter()
            .filter(|create| create.name.ends_with(&suffix))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "create requests of {job}/{container}: {found:?}"
        );
        found.remove(0)
    }

    /// Asserts that eider asked the engine to start no container.
    #[track_caller]
    pub fn assert_nothing_started(&self) {
        let starting: Vec<String> = self
            .requests()
            .into_iter()
            .filter(|request| request.method == "POST" && request.target.ends_with("/start"))
            .map(|request| request.target)
            .collect();
        assert!(starting.is_empty(), "eider asked the engine: {starting:?}");
    }

    /// Asserts that eider asked the engine to create nothing: no container, volume or image.
    #[track_caller]
    pub fn assert_nothing_created(&self) {
        let creating: Vec<String> = self
            .requests()
            .into_iter()
            .filter(|request| request.method == "POST" && request.target.contains("/create"))
            .map(|request| request.target)
            .collect();
        assert!(creating.is_empty(), "eider asked the engine: {creating:?}");
    }
}

/// A client connection the proxy relays: a Unix socket or a TCP stream.
trait ClientConnection: Read + Write + Send + Sized + 'static {
    /// A second handle on the same connection, for the other direction.
    fn duplicate(&self) -> std::io::Result<Self>;
    /// Tells the client that nothing more comes.
    fn end_writes(&self);
}

impl ClientConnection for UnixStream {
    fn duplicate(&self) -> std::io::Result<Self> {
        self.try_clone()
    }

    fn end_writes(&self) {
        let _ignored = self.shutdown(Shutdown::Write);
    }
}

impl ClientConnection for TcpStream {
    fn duplicate(&self) -> std::io::Result<Self> {
        self.try_clone()
    }

    fn end_writes(&self) {
        let _ignored = self.shutdown(Shutdown::Write);
    }
}

impl Drop for RecordingProxy {
    /// A test that failed half-way leaves no request held.
    fn drop(&mut self) {
        self.release_starts();
    }
}

/// Relays every connection of `clients`, recording each in `connections`, until accepting fails.
fn accept_and_relay<Client: ClientConnection>(
    clients: impl Iterator<Item = std::io::Result<Client>>,
    connections: &Mutex<Vec<Record>>,
    starts: &Arc<StartGate>,
    changes: Changes,
) {
    for client in clients {
        let Ok(client) = client else { break };
        let record = Arc::new(Mutex::new(Vec::new()));
        connections
            .lock()
            .expect("proxy records")
            .push(Arc::clone(&record));
        relay(client, record, Arc::clone(starts), changes);
    }
}

/// Copies bytes both ways between `client` and a new connection to the engine, recording what
/// the client sends.
fn relay<Client: ClientConnection>(
    client: Client,
    record: Record,
    starts: Arc<StartGate>,
    changes: Changes,
) {
    let engine = UnixStream::connect(engine_socket()).expect("connect to the engine");
    let mut client_reader = client.duplicate().expect("clone the client stream");
    let mut engine_writer = engine.try_clone().expect("clone the engine stream");
    std::thread::spawn(move || {
        let mut buffer = [0_u8; 16 * 1024];
        loop {
            match client_reader.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(count) => {
                    if is_container_start(&buffer[..count]) {
                        starts.pass();
                    }
                    record
                        .lock()
                        .expect("connection record")
                        .extend_from_slice(&buffer[..count]);
                    if engine_writer.write_all(&buffer[..count]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ignored = engine_writer.shutdown(Shutdown::Write);
    });
    let mut engine_reader = engine;
    let mut client_writer = client;
    std::thread::spawn(move || {
        if changes.hide_out_of_memory {
            copy_hiding_out_of_memory(&mut engine_reader, &mut client_writer);
        } else {
            let _ignored = std::io::copy(&mut engine_reader, &mut client_writer);
        }
        client_writer.end_writes();
    });
}

/// What the engine writes in a container's state when the kernel's OOM killer ended it, and the
/// answer of the same length (so that lengths and chunk sizes stay right) that says nothing.
const KILLED_FOR_MEMORY: &[u8] = b"\"OOMKilled\":true";
const NOT_SAID: &[u8] = b"\"OOMKilled\":null";

/// Copies `from` to `to`, writing [`NOT_SAID`] for each [`KILLED_FOR_MEMORY`]. Holds back only
/// an end that may begin the pattern, so streamed answers are never delayed.
fn copy_hiding_out_of_memory(from: &mut impl Read, to: &mut impl Write) {
    let mut buffer = [0_u8; 16 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let count = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(count) => count,
        };
        pending.extend_from_slice(&buffer[..count]);
        while let Some(at) = find(&pending, KILLED_FOR_MEMORY) {
            pending[at..at + NOT_SAID.len()].copy_from_slice(NOT_SAID);
        }
        let held = (1..KILLED_FOR_MEMORY.len())
            .rev()
            .find(|&length| pending.ends_with(&KILLED_FOR_MEMORY[..length]))
            .unwrap_or(0);
        let ready = pending.len() - held;
        if to.write_all(&pending[..ready]).is_err() || to.flush().is_err() {
            return;
        }
        pending.drain(..ready);
    }
    let _ignored = to.write_all(&pending);
}

/// Whether `bytes` (what a client just sent) begin a request to start a container.
fn is_container_start(bytes: &[u8]) -> bool {
    let Some(line_end) = find(bytes, b"\r\n") else {
        return false;
    };
    let line = String::from_utf8_lossy(&bytes[..line_end]);
    let mut parts = line.split(' ');
    parts.next() == Some("POST")
        && parts.next().is_some_and(|target| {
            target.contains("/containers/")
                && target
                    .split('?')
                    .next()
                    .is_some_and(|path| path.ends_with("/start"))
        })
}

/// Splits what a client sent on one connection into HTTP/1.1 requests; stops at a connection
/// upgrade (after which the bytes are a raw stream) or at an incomplete request.
pub fn parse_requests(mut bytes: &[u8]) -> Vec<Request> {
    let mut requests = Vec::new();
    // A head cut short is an error of the reader: the requests before it are all there is.
    while let Ok(Some(head)) = eider_fault_proxy::Head::read(&mut bytes) {
        let (method, target) = head.request_line();
        let (method, target) = (method.to_owned(), target.to_owned());
        let header = |name: &str| head.header(name);
        let body = if let Some(length) = header("content-length") {
            let length: usize = length.parse().expect("a numeric Content-Length");
            if bytes.len() < length {
                break;
            }
            let (body, rest) = bytes.split_at(length);
            bytes = rest;
            body.to_vec()
        } else if header("transfer-encoding").is_some_and(|value| value.contains("chunked")) {
            let Some((body, rest)) = dechunk(bytes) else {
                break;
            };
            bytes = rest;
            body
        } else {
            Vec::new()
        };
        let upgrade = header("upgrade").is_some();
        requests.push(Request {
            method,
            target,
            body,
        });
        if upgrade {
            break;
        }
    }
    requests
}

/// Decodes a chunked body; returns it and the bytes after it.
fn dechunk(mut bytes: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut body = Vec::new();
    loop {
        let line_end = find(bytes, b"\r\n")?;
        let size_text = String::from_utf8_lossy(&bytes[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        bytes = &bytes[line_end + 2..];
        if size == 0 {
            // No trailers: the empty line that ends the body.
            let trailer_end = find(bytes, b"\r\n")?;
            return Some((body, &bytes[trailer_end + 2..]));
        }
        if bytes.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&bytes[..size]);
        bytes = &bytes[size + 2..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
