//! The proxy itself: a listener on an ephemeral loopback port, one thread per client connection,
//! each request matched against the rules and either relayed to the registry on a connection of
//! its own or answered with its fault. Dropping the proxy closes the listener and every client
//! connection.

use std::fmt::Write as _;
use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::http::{Copied, Head, copy_body};
use crate::rule::{Fault, Rule};

/// One request the proxy saw, and what became of it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query, without `?` (empty when there is none).
    pub query: String,
    /// When the request's head arrived.
    pub at: Instant,
    /// The fault applied, if a rule matched.
    pub fault: Option<Fault>,
    /// The status the client was sent, when it was sent one.
    pub status: Option<u16>,
    /// The `Authorization` header the client sent, if any: tests check where credentials go.
    pub authorization: Option<String>,
}

impl Recorded {
    /// Whether this is a `method` request (`"*"`: any) whose path matches `pattern` (see
    /// [`Rule::new`]).
    #[must_use]
    pub fn is(&self, method: &str, pattern: &str) -> bool {
        (method == "*" || self.method.eq_ignore_ascii_case(method))
            && crate::rule::glob_matches(pattern, &self.path)
    }
}

struct Shared {
    upstream: SocketAddr,
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<Recorded>>,
    clients: Mutex<Vec<TcpStream>>,
    stopping: AtomicBool,
}

/// A running proxy in front of one registry.
pub struct FaultProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    accepting: Option<JoinHandle<()>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test thread that panicked while holding the lock leaves data that is still good to read.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FaultProxy {
    /// A proxy on `127.0.0.1:0` relaying to `upstream` (`HOST:PORT`).
    ///
    /// # Panics
    /// When no loopback port can be bound or `upstream` is not an address: test setup failures.
    #[must_use]
    pub fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream
            .parse()
            .unwrap_or_else(|error| panic!("upstream `{upstream}` is not HOST:PORT: {error}"));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let address = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared {
            upstream,
            rules: Mutex::default(),
            log: Mutex::default(),
            clients: Mutex::default(),
            stopping: AtomicBool::new(false),
        });
        let accepting = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || accept(&listener, &shared))
        };
        Self {
            address,
            shared,
            accepting: Some(accepting),
        }
    }

    /// `127.0.0.1:PORT`, to use as the registry part of image references.
    #[must_use]
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Adds a rule; the first rule that matches a request decides its fate.
    pub fn add(&self, rule: Rule) {
        lock(&self.shared.rules).push(rule);
    }

    /// Removes every rule: from now on, everything passes through.
    pub fn clear(&self) {
        lock(&self.shared.rules).clear();
    }

    /// Every request seen so far, in order of arrival.
    #[must_use]
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.log).clone()
    }

    /// The requests seen so far that are `method` requests whose path matches `pattern`.
    #[must_use]
    pub fn matching(&self, method: &str, pattern: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|request| request.is(method, pattern))
            .collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which then sees `stopping`.
        let _ignored = TcpStream::connect(self.address);
        if let Some(accepting) = self.accepting.take() {
            let _ignored = accepting.join();
        }
        for client in lock(&self.shared.clients).drain(..) {
            let _ignored = client.shutdown(Shutdown::Both);
        }
    }
}

/// A loopback address where nothing listens (a port bound, then released).
///
/// # Panics
/// When no loopback port can be bound.
#[must_use]
pub fn unused_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener
        .local_addr()
        .expect("the listener's address")
        .to_string()
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        if let Ok(handle) = client.try_clone() {
            lock(&shared.clients).push(handle);
        }
        let shared = Arc::clone(shared);
        std::thread::spawn(move || serve(client, &shared));
    }
}

/// Serves one client connection, request after request, until either side closes it or a fault
/// cuts it.
fn serve(client: TcpStream, shared: &Shared) {
    let Ok(reading) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(reading);
    let mut writer = client;
    while let Ok(Some(head)) = Head::read(&mut reader) {
        let (method, target) = head.request_line();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let fault = take_fault(shared, method, path);
        let index = {
            let mut log = lock(&shared.log);
            log.push(Recorded {
                method: method.to_owned(),
                path: path.to_owned(),
                query: query.to_owned(),
                at: Instant::now(),
                fault: fault.clone(),
                status: None,
                authorization: head.header("Authorization").map(ToOwned::to_owned),
            });
            log.len() - 1
        };
        // Recorded before the answer goes out: a client that has its answer finds it logged.
        let record_status = |status: u16| lock(&shared.log)[index].status = Some(status);
        // A delayed request is relayed as any other, only later.
        if let Some(Fault::Delay(delay)) = fault {
            std::thread::sleep(delay);
        }
        let outcome = match fault {
            Some(Fault::Refuse) => Outcome::Close,
            Some(Fault::Answer {
                status,
                headers,
                body,
            }) => answer(
                &mut reader,
                &mut writer,
                &head,
                (status, &headers, &body),
                &record_status,
            ),
            Some(Fault::ResetRequestBody { after }) => relay(
                shared,
                &mut reader,
                &mut writer,
                &head,
                Some(after),
                None,
                &record_status,
            ),
            Some(Fault::ResetResponseBody { after }) => relay(
                shared,
                &mut reader,
                &mut writer,
                &head,
                None,
                Some(after),
                &record_status,
            ),
            Some(Fault::Delay(_)) | None => relay(
                shared,
                &mut reader,
                &mut writer,
                &head,
                None,
                None,
                &record_status,
            ),
        };
        if outcome == Outcome::Close {
            break;
        }
    }
    let _ignored = writer.shutdown(Shutdown::Both);
}

/// The fault of the first rule that matches, counting it against the rule's budget.
fn take_fault(shared: &Shared, method: &str, path: &str) -> Option<Fault> {
    let mut rules = lock(&shared.rules);
    let rule = rules.iter_mut().find(|rule| rule.matches(method, path))?;
    if let Some(remaining) = &mut rule.remaining {
        *remaining -= 1;
    }
    Some(rule.fault.clone())
}

#[derive(PartialEq, Eq)]
enum Outcome {
    /// Answered; the connection may carry the next request.
    Answered,
    /// The connection ends (after no answer, part of one, or one delimited by the close).
    Close,
}

fn answer(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
    request: &Head,
    (status, headers, body): (u16, &[(String, String)], &str),
    record_status: &dyn Fn(u16),
) -> Outcome {
    // The body is read first: a client still sending would see its write fail, not the answer.
    if copy_body(
        reader,
        &mut std::io::sink(),
        request.request_framing(),
        None,
    )
    .is_err()
    {
        return Outcome::Close;
    }
    let mut text = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in headers {
        let _infallible = write!(text, "{name}: {value}\r\n");
    }
    text.push_str("\r\n");
    if request.request_line().0 != "HEAD" {
        text.push_str(body);
    }
    record_status(status);
    if writer.write_all(text.as_bytes()).is_err() {
        return Outcome::Close;
    }
    Outcome::Answered
}

/// Relays one request to the registry on a new connection and its answer back, cutting the
/// request body after `request_limit` bytes or the answer's after `response_limit`.
fn relay(
    shared: &Shared,
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
    head: &Head,
    request_limit: Option<u64>,
    response_limit: Option<u64>,
    record_status: &dyn Fn(u16),
) -> Outcome {
    let Ok(upstream) = TcpStream::connect(shared.upstream) else {
        return Outcome::Close;
    };
    let Ok(upstream_reading) = upstream.try_clone() else {
        return Outcome::Close;
    };
    let mut upstream_writer = std::io::BufWriter::new(upstream);
    // One connection per request upstream: the registry closes it after answering, so the end
    // of every answer is where its framing says.
    if head
        .write(
            &mut upstream_writer,
            &["connection"],
            &[("Connection", "close")],
        )
        .is_err()
    {
        return Outcome::Close;
    }
    let copied = copy_body(
        reader,
        &mut upstream_writer,
        head.request_framing(),
        request_limit,
    );
    let flushed = upstream_writer.flush();
    if !matches!((copied, flushed), (Ok(Copied::Whole(_)), Ok(()))) {
        if let Ok(upstream) = upstream_writer.into_inner() {
            let _ignored = upstream.shutdown(Shutdown::Both);
        }
        return Outcome::Close;
    }
    let mut upstream_reader = BufReader::new(upstream_reading);
    let Ok(Some(answer)) = Head::read(&mut upstream_reader) else {
        return Outcome::Close;
    };
    record_status(answer.status());
    let framing = answer.response_framing(head.request_line().0);
    // The client's connection is the proxy's, kept open whatever the registry did with its own.
    if answer.write(writer, &["connection"], &[]).is_err() {
        return Outcome::Close;
    }
    match copy_body(&mut upstream_reader, writer, framing, response_limit) {
        Ok(Copied::Whole(_)) if framing != crate::http::Framing::Close => Outcome::Answered,
        Ok(_) | Err(_) => Outcome::Close,
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
