//! The HTTP/1.1 server: records each request, checks the bearer token, answers injected
//! failures, and routes the core/v1 paths to the resource operations and exec.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::stream;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::api::{self, DeleteRequest, Query};
use crate::exec;
use crate::logs;
use crate::recording::RecordedRequest;
use crate::shared::{Shared, lock};
use crate::status::ApiError;
use crate::store::Kind;
use crate::watch::{self, WatchOptions};

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The largest request body the real server accepts.
const MAX_BODY: usize = 3 * 1024 * 1024;

/// Accepts connections until the double shuts down.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shared.shutdown.cancelled() => return,
        };
        let Ok((connection, _)) = accepted else {
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handle(&shared, request).await) }
            });
            // Upgrades: exec continues as a WebSocket on the same connection.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(connection), service)
                .with_upgrades()
                .await;
        });
    }
}

/// Decodes a query string (`+` and percent escapes).
pub(crate) fn parse_query(query: &str) -> Query {
    query_pairs(query).into_iter().collect::<BTreeMap<_, _>>()
}

/// The query's pairs in order, a name as often as it is given (exec's `command`).
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut index = 0;
        while index < bytes.len() {
            match bytes[index] {
                b'+' => out.push(b' '),
                b'%' if index + 2 < bytes.len() => {
                    let digit = |byte: u8| {
                        char::from(byte)
                            .to_digit(16)
                            .and_then(|digit| u8::try_from(digit).ok())
                    };
                    match (digit(bytes[index + 1]), digit(bytes[index + 2])) {
                        (Some(high), Some(low)) => {
                            out.push(high * 16 + low);
                            index += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                byte => out.push(byte),
            }
            index += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (decode(name), decode(value)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

fn is_true(query: &Query, name: &str) -> bool {
    query
        .get(name)
        .is_some_and(|value| value == "true" || value == "1")
}

fn json_response(code: u16, value: &Value) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::from(serde_json::to_vec(value).unwrap_or_default())).boxed_unsync(),
    );
    *response.status_mut() =
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error_response(error: &ApiError) -> Response<Body> {
    let mut response = json_response(error.code, &error.to_json());
    if let Some(seconds) = error.retry_after_seconds
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

fn stream_response(receiver: mpsc::Receiver<Bytes>, content_type: &'static str) -> Response<Body> {
    let chunks = stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((Ok::<_, Infallible>(Frame::data(chunk)), receiver))
    });
    let mut response = Response::new(BodyExt::boxed_unsync(StreamBody::new(chunks)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

async fn handle(shared: &Arc<Shared>, request: Request<Incoming>) -> Response<Body> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let raw_query = request.uri().query().unwrap_or("").to_owned();
    let query = parse_query(&raw_query);
    lock(&shared.requests).push(RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        query: raw_query,
        started: SystemTime::now(),
        watch: is_true(&query, "watch"),
        follow_log: path.ends_with("/log") && is_true(&query, "follow"),
    });
    if let Some(token) = &shared.settings.token {
        let expected = format!("Bearer {token}");
        let given = request
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        if given != Some(expected.as_str()) {
            return error_response(&ApiError::unauthorized());
        }
    }
    if let Some(error) = lock(&shared.faults).take(method.as_str(), &path) {
        return error_response(&error);
    }
    if let ["api", "v1", "namespaces", namespace, "pods", name, "exec"] = path
        .trim_matches('/')
        .split('/')
        .collect::<Vec<_>>()
        .as_slice()
    {
        if method != Method::GET && method != Method::POST {
            return error_response(&ApiError::method_not_allowed());
        }
        let pairs = query_pairs(request.uri().query().unwrap_or(""));
        return exec::handle(shared, request, namespace, name, &pairs)
            .unwrap_or_else(|error| error_response(&error));
    }
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return error_response(&ApiError::new(
                413,
                "RequestEntityTooLarge",
                "the request body is too large",
            ));
        }
    };
    match route(shared, &method, &path, &query, &body) {
        Ok(response) => response,
        Err(error) => error_response(&error),
    }
}

fn version(shared: &Shared) -> Value {
    let version = shared.settings.version;
    json!({
        "major": version.major.to_string(),
        "minor": version.minor.to_string(),
        "gitVersion": format!("v{}.{}.0", version.major, version.minor),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn namespace_object(name: &str) -> Value {
    json!({
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })
}

fn resource_list() -> Value {
    let verbs = json!([
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "watch"
    ]);
    let mut resources: Vec<Value> = Kind::ALL
        .iter()
        .map(|kind| {
            json!({"name": kind.resource(), "singularName": kind.name().to_ascii_lowercase(), "namespaced": true, "kind": kind.name(), "verbs": verbs})
        })
        .collect();
    resources.push(json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}));
    resources.push(json!({"name": "pods/exec", "singularName": "", "namespaced": true, "kind": "PodExecOptions", "verbs": ["create", "get"]}));
    resources.push(json!({"name": "namespaces", "singularName": "namespace", "namespaced": false, "kind": "Namespace", "verbs": ["get", "list"]}));
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": resources})
}

fn route(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    query: &Query,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let get = *method == Method::GET;
    match segments.as_slice() {
        ["version"] if get => Ok(json_response(200, &version(shared))),
        ["api"] if get => Ok(json_response(
            200,
            &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": shared.address.to_string()}]}),
        )),
        ["apis"] if get => Ok(json_response(
            200,
            &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
        )),
        ["api", "v1"] if get => Ok(json_response(200, &resource_list())),
        ["api", "v1", "namespaces"] if get => {
            let items: Vec<Value> = lock(&shared.store)
                .namespaces()
                .map(|name| namespace_object(name))
                .collect();
            let revision = lock(&shared.store).revision();
            Ok(json_response(
                200,
                &json!({"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"resourceVersion": revision.to_string()}, "items": items}),
            ))
        }
        ["api", "v1", "namespaces", namespace] if get => {
            if lock(&shared.store).has_namespace(namespace) {
                Ok(json_response(200, &namespace_object(namespace)))
            } else {
                Err(ApiError::not_found("namespaces", namespace))
            }
        }
        ["api", "v1", resource] => {
            let kind = Kind::from_resource(resource).ok_or_else(ApiError::unknown_path)?;
            if !get {
                return Err(ApiError::method_not_allowed());
            }
            collection_get(shared, kind, None, query)
        }
        ["api", "v1", "namespaces", namespace, resource] => {
            let kind = Kind::from_resource(resource).ok_or_else(ApiError::unknown_path)?;
            match *method {
                Method::GET => collection_get(shared, kind, Some(namespace), query),
                Method::POST => Ok(json_response(
                    201,
                    &api::create(shared, kind, namespace, body)?,
                )),
                Method::DELETE => {
                    let request = DeleteRequest::parse(query, body)?;
                    Ok(json_response(
                        200,
                        &api::delete_collection(shared, kind, namespace, query, &request)?,
                    ))
                }
                _ => Err(ApiError::method_not_allowed()),
            }
        }
        ["api", "v1", "namespaces", namespace, resource, name] => {
            let kind = Kind::from_resource(resource).ok_or_else(ApiError::unknown_path)?;
            match *method {
                Method::GET => Ok(json_response(
                    200,
                    &api::get(shared, kind, namespace, name)?,
                )),
                Method::PUT => Ok(json_response(
                    200,
                    &api::update(shared, kind, namespace, name, body)?,
                )),
                Method::DELETE => {
                    let request = DeleteRequest::parse(query, body)?;
                    Ok(json_response(
                        200,
                        &api::delete(shared, kind, namespace, name, &request)?,
                    ))
                }
                _ => Err(ApiError::method_not_allowed()),
            }
        }
        ["api", "v1", "namespaces", namespace, "pods", name, "log"] => {
            if !get {
                return Err(ApiError::method_not_allowed());
            }
            let receiver = logs::pod_log(shared, namespace, name, query)?;
            Ok(stream_response(receiver, "text/plain"))
        }
        _ => Err(ApiError::unknown_path()),
    }
}

fn collection_get(
    shared: &Arc<Shared>,
    kind: Kind,
    namespace: Option<&str>,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    if is_true(query, "watch") {
        let options = WatchOptions::parse(kind, namespace, query)?;
        Ok(stream_response(
            watch::start(shared, options),
            "application/json",
        ))
    } else {
        Ok(json_response(
            200,
            &api::list(shared, kind, namespace, query)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_decoded() {
        let query =
            parse_query("labelSelector=app%3Deider%2Ctier+in+%28a%29&watch=1&x&bad=%zz&end=%4");
        assert_eq!(
            query.get("labelSelector").map(String::as_str),
            Some("app=eider,tier in (a)")
        );
        assert_eq!(query.get("watch").map(String::as_str), Some("1"));
        assert_eq!(query.get("x").map(String::as_str), Some(""));
        assert_eq!(query.get("bad").map(String::as_str), Some("%zz"));
        assert_eq!(query.get("end").map(String::as_str), Some("%4"));
    }
}
