//! `pods/{name}/exec`: a command run beside a running container, streamed over a WebSocket
//! with the channel protocol of the API server (`v5.channel.k8s.io`, `v4.channel.k8s.io`): every
//! binary message starts with its channel, 0 stdin, 1 stdout, 2 stderr, 3 the `Status` that ends
//! the session (`Success`, or `Failure` with the exit code), 4 terminal resizes; v5 adds 255, a
//! stream's end. The command runs as a host process in the container's process group, with its
//! environment, working directory and claims (see [`crate::claims`]).
//!
//! Not served: terminals (`tty=true` is refused), the older channel protocols.

use std::process::Stdio;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Incoming;
use hyper::header::{
    CONNECTION, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_PROTOCOL, UPGRADE,
};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::shared::{Shared, lock};
use crate::status::ApiError;
use crate::store::{Kind, ObjectKey, uid_of};

/// The channel protocols served, in no order: the client's order of preference decides.
const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
/// v5 only: the stream whose number follows has ended.
const CLOSE: u8 = 255;

/// How much output goes in one message.
const CHUNK: usize = 32 * 1024;

/// What the query asks for.
// The flags are the query's, each on its own.
#[allow(clippy::struct_excessive_bools)]
struct ExecRequest {
    command: Vec<String>,
    container: Option<String>,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
}

impl ExecRequest {
    fn parse(pairs: &[(String, String)]) -> Self {
        let flag = |name: &str| {
            pairs
                .iter()
                .any(|(key, value)| key == name && (value == "true" || value == "1"))
        };
        Self {
            command: pairs
                .iter()
                .filter(|(key, _)| key == "command")
                .map(|(_, value)| value.clone())
                .collect(),
            container: pairs
                .iter()
                .find(|(key, _)| key == "container")
                .map(|(_, value)| value.clone()),
            stdin: flag("stdin"),
            stdout: flag("stdout"),
            stderr: flag("stderr"),
            tty: flag("tty"),
        }
    }
}

/// Everything the session needs, found before the connection is upgraded.
struct Session {
    argv: Vec<String>,
    request: ExecRequest,
    environment: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    working_directory: std::path::PathBuf,
    process_group: i32,
}

type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, std::convert::Infallible>;

/// Answers an exec request: an error, or `101 Switching Protocols` and the session on the
/// upgraded connection.
pub(crate) fn handle(
    shared: &Arc<Shared>,
    request: Request<Incoming>,
    namespace: &str,
    name: &str,
    pairs: &[(String, String)],
) -> Result<Response<Body>, ApiError> {
    let exec = ExecRequest::parse(pairs);
    let session = session(shared, namespace, name, exec)?;
    let headers = request.headers();
    let has = |header: hyper::header::HeaderName, token: &str| {
        headers
            .get_all(header)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|value| value.trim().eq_ignore_ascii_case(token))
    };
    let key = headers
        .get("sec-websocket-key")
        .map(|key| key.as_bytes().to_vec());
    let (true, true, Some(key)) = (has(UPGRADE, "websocket"), has(CONNECTION, "upgrade"), key)
    else {
        return Err(ApiError::bad_request("Upgrade request required"));
    };
    let offered: Vec<String> = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|value| value.trim().to_owned())
        .collect();
    let Some(protocol) = offered
        .iter()
        .find(|offered| PROTOCOLS.contains(&offered.as_str()))
        .cloned()
    else {
        return Err(ApiError::bad_request(format!(
            "unable to upgrade connection: none of the subprotocols {offered:?} is served \
             (served: {})",
            PROTOCOLS.join(", ")
        )));
    };
    let mut response = Response::new(Empty::<Bytes>::new().boxed_unsync());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let answer = response.headers_mut();
    answer.insert(UPGRADE, HeaderValue::from_static("websocket"));
    answer.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    let accept = HeaderValue::from_str(&derive_accept_key(&key))
        .map_err(|_| ApiError::bad_request("invalid Sec-WebSocket-Key"))?;
    answer.insert(SEC_WEBSOCKET_ACCEPT, accept);
    let version = protocol.clone();
    answer.insert(
        SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_str(&protocol).map_err(|_| ApiError::bad_request("invalid protocol"))?,
    );
    let shutdown = shared.shutdown.clone();
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(request).await else {
            return;
        };
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        tokio::select! {
            () = run(socket, session, version.starts_with("v5")) => {}
            () = shutdown.cancelled() => {}
        }
    });
    Ok(response)
}

/// Checks the request against the Pod as the API server and the kubelet do.
fn session(
    shared: &Shared,
    namespace: &str,
    name: &str,
    request: ExecRequest,
) -> Result<Session, ApiError> {
    let pod = lock(&shared.store)
        .get(&ObjectKey::new(Kind::Pod, namespace, name))
        .cloned()
        .ok_or_else(|| ApiError::not_found("pods", name))?;
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending");
    if phase == "Succeeded" || phase == "Failed" {
        return Err(ApiError::bad_request(format!(
            "cannot exec into a container in a completed pod; current phase is {phase}"
        )));
    }
    let names: Vec<String> = ["/spec/containers", "/spec/initContainers"]
        .iter()
        .filter_map(|pointer| pod.pointer(pointer).and_then(Value::as_array))
        .flatten()
        .filter_map(|container| container.get("name").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    let container = match &request.container {
        Some(container) => container.clone(),
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    if !names.contains(&container) {
        return Err(ApiError::bad_request(format!(
            "container {container} is not valid for pod {name}"
        )));
    }
    if request.command.is_empty() {
        return Err(ApiError::bad_request("you must specify at least 1 command"));
    }
    if !request.stdin && !request.stdout && !request.stderr {
        return Err(ApiError::bad_request(
            "you must specify at least one of stdin, stdout, stderr",
        ));
    }
    if request.tty {
        return Err(ApiError::bad_request(
            "tty is not served by this double: it runs no terminals",
        ));
    }
    let uid = uid_of(&pod).unwrap_or_default().to_owned();
    let targets = lock(&shared.exec_targets);
    let target = targets
        .get(&(uid, container.clone()))
        .filter(|target| target.process.exit_code().is_none())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "unable to upgrade connection: container not found (\"{container}\")"
            ))
        })?;
    Ok(Session {
        argv: request
            .command
            .iter()
            .map(|argument| target.mounts.rewrite(argument))
            .collect(),
        environment: target.environment.clone(),
        working_directory: target.working_directory.clone(),
        process_group: target.process.process_group,
        request,
    })
}

/// A message on `channel`.
fn message(channel: u8, data: &[u8]) -> Message {
    let mut bytes = Vec::with_capacity(data.len() + 1);
    bytes.push(channel);
    bytes.extend_from_slice(data);
    Message::binary(bytes)
}

/// The `Status` that ends a session, as the kubelet writes it.
fn final_status(outcome: Result<i32, String>, argv: &[String]) -> Value {
    match outcome {
        Ok(0) => json!({"metadata": {}, "status": "Success"}),
        Ok(code) => json!({
            "metadata": {},
            "status": "Failure",
            "message": format!(
                "command terminated with non-zero exit code: error executing command {argv:?}, exit code {code}"
            ),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
        }),
        Err(error) => {
            let message = format!(
                "Internal error occurred: error executing command in container: failed to exec in container: {error}"
            );
            json!({
                "metadata": {},
                "status": "Failure",
                "message": message,
                "reason": "InternalError",
                "details": {"causes": [{"message": message}]},
                "code": 500,
            })
        }
    }
}

/// One end of the process's output, read in chunks; none once it has ended.
async fn next_chunk(stream: &mut Option<impl AsyncRead + Unpin>) -> Option<Vec<u8>> {
    let reader = stream.as_mut()?;
    let mut buffer = vec![0; CHUNK];
    match reader.read(&mut buffer).await {
        Ok(0) | Err(_) => None,
        Ok(count) => {
            buffer.truncate(count);
            Some(buffer)
        }
    }
}

/// Runs the command and relays its streams until it ends, then sends its status and closes.
async fn run<S>(socket: WebSocketStream<S>, session: Session, v5: bool)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut incoming) = socket.split();
    let piped = |wanted: bool| {
        if wanted {
            Stdio::piped()
        } else {
            Stdio::null()
        }
    };
    let (program, arguments) = session.argv.split_first().unzip();
    let mut command = tokio::process::Command::new(program.map_or("", String::as_str));
    command
        .args(arguments.unwrap_or_default())
        .env_clear()
        .envs(session.environment.iter().map(|(key, value)| (key, value)))
        .current_dir(&session.working_directory)
        .stdin(piped(session.request.stdin))
        .stdout(piped(session.request.stdout))
        .stderr(piped(session.request.stderr))
        // In the container's group: what stops the container stops the exec too.
        .process_group(session.process_group)
        .kill_on_drop(true);
    // The server's first message, on its lowest output channel, says the streams are open.
    let first = if session.request.stdout {
        STDOUT
    } else {
        STDERR
    };
    if sink.send(message(first, &[])).await.is_err() {
        return;
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            let status = final_status(
                Err(format!("exec: {:?}: {error}", session.argv[0])),
                &session.argv,
            );
            let _ = sink
                .send(message(STATUS, status.to_string().as_bytes()))
                .await;
            let _ = sink.close().await;
            return;
        }
    };
    // Input goes through a task of its own: a command that reads slowly must not hold the
    // output back.
    let (input, mut input_queue) = mpsc::channel::<Option<Vec<u8>>>(16);
    if let Some(mut stdin) = child.stdin.take() {
        tokio::spawn(async move {
            while let Some(Some(data)) = input_queue.recv().await {
                if stdin.write_all(&data).await.is_err() {
                    break;
                }
            }
        });
    } else {
        // Input nobody asked for goes nowhere, at once.
        drop(input_queue);
    }
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut client_open = true;
    while stdout.is_some() || stderr.is_some() {
        tokio::select! {
            chunk = next_chunk(&mut stdout) , if stdout.is_some() => match chunk {
                Some(data) => if sink.send(message(STDOUT, &data)).await.is_err() { return; },
                None => stdout = None,
            },
            chunk = next_chunk(&mut stderr), if stderr.is_some() => match chunk {
                Some(data) => if sink.send(message(STDERR, &data)).await.is_err() { return; },
                None => stderr = None,
            },
            received = incoming.next(), if client_open => match received {
                Some(Ok(Message::Binary(data))) => match data.first() {
                    Some(&STDIN) => { let _ = input.send(Some(data[1..].to_vec())).await; }
                    Some(&CLOSE) if v5 && data.get(1) == Some(&STDIN) => {
                        let _ = input.send(None).await;
                    }
                    // Resizes mean nothing without a terminal.
                    _ => {}
                },
                Some(Ok(Message::Close(_)) | Err(_)) | None => {
                    // v4 has no stream end: a client closes the socket to end the input.
                    let _ = input.send(None).await;
                    client_open = false;
                }
                Some(Ok(_)) => {}
            },
        }
    }
    drop(input);
    let outcome = match child.wait().await {
        Ok(status) => Ok(exit_code(status)),
        Err(error) => Err(error.to_string()),
    };
    let status = final_status(outcome, &session.argv);
    let _ = sink
        .send(message(STATUS, status.to_string().as_bytes()))
        .await;
    let _ = sink.close().await;
}

/// The exit code, 128 + the signal when a signal ended the process.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(9))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_final_status_says_success_or_the_exit_code() {
        let argv = vec!["tar".to_owned()];
        assert_eq!(final_status(Ok(0), &argv)["status"], "Success");
        let failed = final_status(Ok(2), &argv);
        assert_eq!(failed["reason"], "NonZeroExitCode");
        assert_eq!(failed["details"]["causes"][0]["message"], "2");
        assert_eq!(
            final_status(Err("no such file".to_owned()), &argv)["reason"],
            "InternalError"
        );
    }
}
