//! One HTTP exchange with a registry: the scheme (HTTPS, plain HTTP only for loopback and named
//! insecure hosts), the authentication dance on a 401, streaming file bodies, and a watchdog that
//! ends an exchange when nothing moves for the stall timeout.
//!
//! reqwest's own read timeout is not used: it runs from the start of the request to the response
//! headers without resetting, so it would cut off any upload that takes longer than it.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use camino::Utf8PathBuf;
use futures_util::StreamExt as _;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use crate::auth::{Access, Authenticator, Scheme, basic_header, bearer_header, parse_token_answer};
use crate::challenge::{AuthChallenge, choose_challenge};
use crate::credentials::Credentials;
use crate::request_error::{RequestError, display_url, parse_error_body};
use crate::retry::parse_retry_after;

/// How much of an error body is read to find the registry's error entries.
const MAX_ERROR_BODY: u64 = 64 * 1024;
/// File bodies are read in pieces of this size.
const FILE_READ_SIZE: usize = 256 * 1024;
/// Token server answers are small; anything larger is refused.
const MAX_TOKEN_BODY: u64 = 1024 * 1024;

/// Reports how many bytes of a file body have been handed to the connection so far.
pub(crate) type SentBytes = Arc<dyn Fn(u64) + Send + Sync>;

/// What a request sends.
pub(crate) enum RequestBody {
    Empty,
    Bytes(Bytes),
    /// `length` bytes of `path` from `offset`, streamed, reopened for each try.
    File {
        path: Utf8PathBuf,
        offset: u64,
        length: u64,
        sent: Option<SentBytes>,
    },
    /// Bytes produced while they are sent (chunked transfer encoding): the first try takes
    /// them, so a second one fails.
    Stream(std::sync::Mutex<Option<ByteStream>>),
}

/// A body of bytes produced as it is sent.
pub(crate) type ByteStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// One request to a registry, rebuilt for each try.
pub(crate) struct Exchange<'a> {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: RequestBody,
    pub(crate) access: &'a Access,
}

impl<'a> Exchange<'a> {
    pub(crate) fn new(method: Method, url: Url, access: &'a Access) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: RequestBody::Empty,
            access,
        }
    }

    pub(crate) fn header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    pub(crate) fn body(mut self, body: RequestBody) -> Self {
        self.body = body;
        self
    }
}

/// When something last moved over a connection, for the stall watchdog.
#[derive(Clone)]
pub(crate) struct Activity {
    origin: Instant,
    last_millis: Arc<AtomicU64>,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            origin: Instant::now(),
            last_millis: Arc::new(AtomicU64::new(0)),
        }
    }

    pub(crate) fn touch(&self) {
        let elapsed = self.origin.elapsed().as_millis() as u64;
        self.last_millis.store(elapsed, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.origin + Duration::from_millis(self.last_millis.load(Ordering::Relaxed))
    }
}

/// The HTTP side of a client.
pub(crate) struct Transport {
    http: reqwest::Client,
    insecure_registries: Vec<String>,
    pub(crate) stall_timeout: Duration,
    authenticator: Authenticator,
}

impl Transport {
    pub(crate) fn new(
        http: reqwest::Client,
        insecure_registries: Vec<String>,
        stall_timeout: Duration,
        authenticator: Authenticator,
    ) -> Self {
        Self {
            http,
            insecure_registries,
            stall_timeout,
            authenticator,
        }
    }

    /// `http(s)://REGISTRY/v2/`.
    pub(crate) fn api_base(&self, registry: &str) -> Result<Url, RequestError> {
        let scheme = if self.allows_plain_http(registry) {
            "http"
        } else {
            "https"
        };
        let base = format!("{scheme}://{registry}/v2/");
        Url::parse(&base).map_err(|_| RequestError::InvalidLocation {
            url: registry.to_owned(),
            location: base,
        })
    }

    /// Plain HTTP is for registries on this machine and for hosts the user named insecure.
    pub(crate) fn allows_plain_http(&self, registry: &str) -> bool {
        is_loopback(registry)
            || self
                .insecure_registries
                .iter()
                .any(|insecure| insecure == registry || host_of(registry) == insecure.as_str())
    }

    /// Sends `exchange`, authenticating when the registry asks for it. Any status other than
    /// 401 is returned for the caller to judge; a 401 after authenticating is an error.
    pub(crate) async fn send(
        &self,
        exchange: &Exchange<'_>,
    ) -> Result<reqwest::Response, RequestError> {
        let access = exchange.access;
        let mut authorization = self.known_authorization(access).await?;
        let mut authenticated = false;
        loop {
            let response = self.send_once(exchange, authorization.as_ref()).await?;
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            let status = response.status();
            let challenges: Vec<String> = response
                .headers()
                .get_all(header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|value| value.to_str().ok().map(str::to_owned))
                .collect();
            let errors = parse_error_body(&self.read_error_body(response).await);
            if authenticated {
                // Fresh authentication was refused too: the credentials or their access.
                self.authenticator.forget_token(access);
                return Err(self.refusal(access, status, errors).await?);
            }
            let Some(challenge) = choose_challenge(challenges.iter().map(String::as_str)) else {
                return Err(if challenges.is_empty() {
                    RequestError::Status {
                        method: exchange.method.to_string(),
                        url: display_url(&exchange.url),
                        status,
                        errors,
                        retry_after: None,
                    }
                } else {
                    RequestError::UnsupportedChallenge {
                        registry: access.registry.clone(),
                        challenge: challenges.join(", "),
                    }
                });
            };
            let rejected = authorization.take();
            authorization = Some(
                self.answer(access, challenge, rejected.as_ref(), status, errors)
                    .await?,
            );
            authenticated = true;
        }
    }

    /// The error for a registry that refused what it was sent.
    async fn refusal(
        &self,
        access: &Access,
        status: StatusCode,
        errors: Vec<crate::request_error::RegistryErrorEntry>,
    ) -> Result<RequestError, RequestError> {
        let credentials = self.authenticator.credentials(&access.registry).await?;
        Ok(match credentials {
            None => RequestError::CredentialsRequired {
                registry: access.registry.clone(),
                status,
                errors,
            },
            Some(_) => RequestError::Unauthorized {
                registry: access.registry.clone(),
                scope: access.describe(),
                status,
                errors,
            },
        })
    }

    /// The authorization to send before any challenge, from what earlier exchanges taught.
    async fn known_authorization(
        &self,
        access: &Access,
    ) -> Result<Option<HeaderValue>, RequestError> {
        match self.authenticator.scheme(&access.registry) {
            None => Ok(None),
            Some(Scheme::Basic) => match self.authenticator.credentials(&access.registry).await? {
                Some(Credentials::UserPassword { username, password }) => {
                    Ok(basic_header(&username, &password))
                }
                _ => Ok(None),
            },
            Some(Scheme::Bearer { realm, service }) => self
                .bearer_token(access, &realm, service.as_deref(), None, None)
                .await
                .map(Some),
        }
    }

    /// The authorization that answers `challenge`.
    async fn answer(
        &self,
        access: &Access,
        challenge: AuthChallenge,
        rejected: Option<&HeaderValue>,
        status: StatusCode,
        errors: Vec<crate::request_error::RegistryErrorEntry>,
    ) -> Result<HeaderValue, RequestError> {
        match challenge {
            AuthChallenge::Basic => {
                self.authenticator
                    .remember_scheme(&access.registry, Scheme::Basic);
                match self.authenticator.credentials(&access.registry).await? {
                    Some(Credentials::UserPassword { username, password }) => {
                        basic_header(&username, &password).ok_or_else(|| {
                            RequestError::Unauthorized {
                                registry: access.registry.clone(),
                                scope: access.describe(),
                                status,
                                errors: Vec::new(),
                            }
                        })
                    }
                    // An identity token can only be exchanged at a token server.
                    Some(Credentials::IdentityToken(_)) | None => {
                        Err(RequestError::CredentialsRequired {
                            registry: access.registry.clone(),
                            status,
                            errors,
                        })
                    }
                }
            }
            AuthChallenge::Bearer {
                realm,
                service,
                scope,
            } => {
                self.authenticator.remember_scheme(
                    &access.registry,
                    Scheme::Bearer {
                        realm: realm.clone(),
                        service: service.clone(),
                    },
                );
                self.bearer_token(
                    access,
                    &realm,
                    service.as_deref(),
                    scope.as_deref(),
                    rejected,
                )
                .await
            }
        }
    }

    /// A bearer token for `access`: the cached one unless it is the one just `rejected`, else a
    /// new one. One fetch per scope set at a time, so parallel uploads that all meet the same
    /// challenge share one token.
    async fn bearer_token(
        &self,
        access: &Access,
        realm: &str,
        service: Option<&str>,
        challenge_scope: Option<&str>,
        rejected: Option<&HeaderValue>,
    ) -> Result<HeaderValue, RequestError> {
        let lock = self.authenticator.token_lock(access);
        let _only_fetch = lock.lock().await;
        if let Some(cached) = self.authenticator.cached_token(access)
            && Some(&cached) != rejected
        {
            return Ok(cached);
        }
        self.fetch_token(access, realm, service, challenge_scope)
            .await
    }

    /// Gets a bearer token for `access` from the token server `realm`, with the registry's
    /// credentials when there are some, and caches it.
    async fn fetch_token(
        &self,
        access: &Access,
        realm: &str,
        service: Option<&str>,
        challenge_scope: Option<&str>,
    ) -> Result<HeaderValue, RequestError> {
        let registry = &access.registry;
        let invalid_realm = || RequestError::InvalidToken {
            registry: registry.clone(),
            realm: realm.to_owned(),
        };
        let mut url = Url::parse(realm).map_err(|_| invalid_realm())?;
        let credentials = self.authenticator.credentials(registry).await?;
        // Credentials go over plain HTTP only to a token server that may be spoken to that way
        // itself (loopback, or named insecure), whatever the registry is.
        let realm_host = url.host_str().unwrap_or_default().to_owned();
        let realm_authority = match url.port() {
            Some(port) => format!("{realm_host}:{port}"),
            None => realm_host.clone(),
        };
        if url.scheme() != "https"
            && credentials.is_some()
            && !self.allows_plain_http(&realm_authority)
            && !self.allows_plain_http(&realm_host)
        {
            return Err(RequestError::InsecureTokenServer {
                registry: registry.clone(),
                realm: display_url(&url),
            });
        }
        let scopes = access.scopes_with(challenge_scope);
        let request = match &credentials {
            // OAuth2 refresh-token grant, as the Docker CLI does with an identity token.
            Some(Credentials::IdentityToken(token)) => {
                let mut form = vec![
                    ("grant_type", "refresh_token".to_owned()),
                    ("refresh_token", token.expose().to_owned()),
                    ("client_id", "eider".to_owned()),
                    ("scope", scopes.join(" ")),
                ];
                if let Some(service) = service {
                    form.push(("service", service.to_owned()));
                }
                self.http.post(url.clone()).form(&form)
            }
            other => {
                {
                    let mut query = url.query_pairs_mut();
                    if let Some(service) = service {
                        query.append_pair("service", service);
                    }
                    for scope in &scopes {
                        query.append_pair("scope", scope);
                    }
                    if let Some(Credentials::UserPassword { username, .. }) = other {
                        query.append_pair("account", username);
                    }
                }
                let mut request = self.http.get(url.clone());
                if let Some(Credentials::UserPassword { username, password }) = other
                    && let Some(header) = basic_header(username, password)
                {
                    request = request.header(header::AUTHORIZATION, header);
                }
                request
            }
        };
        let method = if matches!(credentials, Some(Credentials::IdentityToken(_))) {
            "POST"
        } else {
            "GET"
        };
        let activity = Activity::new();
        let response = self
            .guard(request.send(), &activity, method, &url)
            .await?
            .map_err(|source| self.transport_error(method, &url, source))?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let errors = parse_error_body(&self.read_error_body(response).await);
            return Err(match credentials {
                None => RequestError::CredentialsRequired {
                    registry: registry.clone(),
                    status,
                    errors,
                },
                Some(_) => RequestError::Unauthorized {
                    registry: registry.clone(),
                    scope: scopes.join(" "),
                    status,
                    errors,
                },
            });
        }
        if !status.is_success() {
            return Err(self.status_error(method, &url, response).await);
        }
        let body = self
            .read_body(response, MAX_TOKEN_BODY, method, &url)
            .await?;
        let (token, lifetime) = parse_token_answer(&body).ok_or_else(invalid_realm)?;
        let header = bearer_header(&token).ok_or_else(invalid_realm)?;
        self.authenticator
            .cache_token(access, header.clone(), lifetime);
        Ok(header)
    }

    /// One try of `exchange`, under the stall watchdog.
    async fn send_once(
        &self,
        exchange: &Exchange<'_>,
        authorization: Option<&HeaderValue>,
    ) -> Result<reqwest::Response, RequestError> {
        let method = exchange.method.as_str();
        let activity = Activity::new();
        let mut request = self
            .http
            .request(exchange.method.clone(), exchange.url.clone())
            .headers(exchange.headers.clone());
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization.clone());
        }
        request = match &exchange.body {
            RequestBody::Empty => {
                // Upload endpoints (and proxies before them) want `Content-Length: 0` on a
                // bodiless `POST`/`PUT`, which the client does not send by itself.
                if exchange.method == Method::GET || exchange.method == Method::HEAD {
                    request
                } else {
                    request.header(header::CONTENT_LENGTH, 0).body(Bytes::new())
                }
            }
            RequestBody::Bytes(bytes) => request.body(bytes.clone()),
            RequestBody::File {
                path,
                offset,
                length,
                sent,
            } => {
                let body =
                    file_body(path, *offset, *length, activity.clone(), sent.clone()).await?;
                request.header(header::CONTENT_LENGTH, *length).body(body)
            }
            RequestBody::Stream(stream) => {
                let taken = stream.lock().ok().and_then(|mut stream| stream.take());
                let Some(stream) = taken else {
                    return Err(RequestError::StreamSpent {
                        method: method.to_owned(),
                        url: exchange.url.to_string(),
                    });
                };
                let watched = activity.clone();
                request.body(reqwest::Body::wrap_stream(stream.map(move |piece| {
                    watched.touch();
                    piece
                })))
            }
        };
        self.guard(request.send(), &activity, method, &exchange.url)
            .await?
            .map_err(|source| self.transport_error(method, &exchange.url, source))
    }

    /// Runs `future` until it ends, or until `activity` shows nothing moved for the stall timeout.
    pub(crate) async fn guard<F: Future>(
        &self,
        future: F,
        activity: &Activity,
        method: &str,
        url: &Url,
    ) -> Result<F::Output, RequestError> {
        let mut future = std::pin::pin!(future);
        activity.touch();
        loop {
            let deadline = activity.last() + self.stall_timeout;
            tokio::select! {
                output = &mut future => return Ok(output),
                () = tokio::time::sleep_until(deadline.into()) => {
                    if activity.last() + self.stall_timeout <= Instant::now() {
                        return Err(RequestError::Stalled {
                            method: method.to_owned(),
                            url: display_url(url),
                            timeout: self.stall_timeout,
                        });
                    }
                }
            }
        }
    }

    pub(crate) fn transport_error(
        &self,
        method: &str,
        url: &Url,
        source: reqwest::Error,
    ) -> RequestError {
        // The URL is shown by this error, without its query; reqwest's copy would repeat it whole.
        let source = source.without_url();
        if source.is_connect() {
            RequestError::Connect {
                url: display_url(url),
                source,
            }
        } else {
            RequestError::Transport {
                method: method.to_owned(),
                url: display_url(url),
                source,
            }
        }
    }

    /// The error for a response whose status the caller did not expect.
    pub(crate) async fn status_error(
        &self,
        method: &str,
        url: &Url,
        response: reqwest::Response,
    ) -> RequestError {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        let errors = parse_error_body(&self.read_error_body(response).await);
        RequestError::Status {
            method: method.to_owned(),
            url: display_url(url),
            status,
            errors,
            retry_after,
        }
    }

    /// The start of an error body; a body that cannot be read is as good as none.
    async fn read_error_body(&self, response: reqwest::Response) -> Bytes {
        let url = response.url().clone();
        self.read_body(response, MAX_ERROR_BODY, "GET", &url)
            .await
            .unwrap_or_default()
    }

    /// Reads a whole body of at most `limit` bytes, each piece under the stall timeout.
    pub(crate) async fn read_body(
        &self,
        mut response: reqwest::Response,
        limit: u64,
        method: &str,
        url: &Url,
    ) -> Result<Bytes, RequestError> {
        let mut body = BytesMut::new();
        while let Some(chunk) = self.next_chunk(&mut response, method, url).await? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(RequestError::BodyTooLarge {
                    url: display_url(url),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// The next piece of a response body, or `None` at its end.
    pub(crate) async fn next_chunk(
        &self,
        response: &mut reqwest::Response,
        method: &str,
        url: &Url,
    ) -> Result<Option<Bytes>, RequestError> {
        match tokio::time::timeout(self.stall_timeout, response.chunk()).await {
            Ok(Ok(chunk)) => Ok(chunk),
            Ok(Err(source)) => Err(self.transport_error(method, url, source)),
            Err(_) => Err(RequestError::Stalled {
                method: method.to_owned(),
                url: display_url(url),
                timeout: self.stall_timeout,
            }),
        }
    }
}

/// A streaming body over `length` bytes of `path` from `offset`.
async fn file_body(
    path: &Utf8PathBuf,
    offset: u64,
    length: u64,
    activity: Activity,
    sent: Option<SentBytes>,
) -> Result<reqwest::Body, RequestError> {
    let read_error = |source| RequestError::ReadFile {
        path: path.clone(),
        source,
    };
    let mut file = tokio::fs::File::open(path).await.map_err(read_error)?;
    if offset > 0 {
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(read_error)?;
    }
    let reader = file.take(length);
    let mut total = 0_u64;
    let stream =
        tokio_util::io::ReaderStream::with_capacity(reader, FILE_READ_SIZE).map(move |piece| {
            if let Ok(bytes) = &piece {
                total += bytes.len() as u64;
                activity.touch();
                if let Some(sent) = &sent {
                    sent(total);
                }
            }
            piece
        });
    Ok(reqwest::Body::wrap_stream(stream))
}

/// The host of `HOST[:PORT]` or `[V6]:PORT`.
fn host_of(registry: &str) -> &str {
    if let Some(bracketed) = registry.strip_prefix('[') {
        return bracketed
            .split_once(']')
            .map_or(bracketed, |(host, _)| host);
    }
    registry.split_once(':').map_or(registry, |(host, _)| host)
}

/// Whether `registry` is on this machine: `localhost`, 127.0.0.0/8 or `::1`.
pub(crate) fn is_loopback(registry: &str) -> bool {
    let host = host_of(registry);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognized() {
        for registry in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.8.9.10",
            "[::1]:5000",
            "[::1]",
        ] {
            assert!(is_loopback(registry), "{registry}");
        }
        for registry in [
            "10.0.0.1:5000",
            "registry.example",
            "localhost.example:5000",
            "[::2]:5000",
            "128.0.0.1",
        ] {
            assert!(!is_loopback(registry), "{registry}");
        }
    }

    fn transport(insecure: &[&str]) -> Transport {
        Transport::new(
            crate::client::http_client(&crate::client::ClientOptions::default())
                .expect("http client"),
            insecure.iter().map(|host| (*host).to_owned()).collect(),
            Duration::from_secs(1),
            Authenticator::new(crate::docker_config::CredentialSource::anonymous()),
        )
    }

    #[test]
    fn https_is_the_default_and_http_needs_loopback_or_a_named_host() {
        let transport = transport(&["insecure.example", "other.example:5000"]);
        let base = |registry: &str| transport.api_base(registry).expect("valid").to_string();
        assert_eq!(base("registry.example"), "https://registry.example/v2/");
        assert_eq!(base("127.0.0.1:5000"), "http://127.0.0.1:5000/v2/");
        assert_eq!(base("[::1]:5000"), "http://[::1]:5000/v2/");
        assert_eq!(
            base("insecure.example:443"),
            "http://insecure.example:443/v2/"
        );
        assert_eq!(base("other.example:5000"), "http://other.example:5000/v2/");
        assert_eq!(base("other.example:6000"), "https://other.example:6000/v2/");
    }

    #[tokio::test]
    async fn credentials_never_go_to_a_remote_token_server_over_plain_http() {
        let transport = Transport::new(
            crate::client::http_client(&crate::client::ClientOptions::default())
                .expect("http client"),
            Vec::new(),
            Duration::from_secs(1),
            Authenticator::new(
                crate::docker_config::CredentialSource::anonymous()
                    .with_credentials("127.0.0.1:5000", Credentials::user_password("alice", "pw")),
            ),
        );
        let access = Access::pull("127.0.0.1:5000", "app");
        // Refused before any connection: the host below is never contacted.
        let error = transport
            .fetch_token(&access, "http://auth.example/token", None, None)
            .await
            .expect_err("plain http to a remote token server");
        assert_eq!(
            error.to_string(),
            "refusing to send credentials for 127.0.0.1:5000 to token server \
             http://auth.example/token over plain http (name the host as an insecure registry \
             to allow it)"
        );
    }

    #[tokio::test]
    async fn the_watchdog_ends_an_exchange_where_nothing_moves() {
        let transport = transport(&[]);
        let url = Url::parse("http://127.0.0.1:1/v2/").expect("valid");
        let activity = Activity::new();
        let started = Instant::now();
        let outcome = transport
            .guard(std::future::pending::<()>(), &activity, "GET", &url)
            .await;
        assert!(matches!(outcome, Err(RequestError::Stalled { .. })));
        assert!(started.elapsed() >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn the_watchdog_lets_a_moving_exchange_run_past_the_timeout() {
        let transport = transport(&[]);
        let url = Url::parse("http://127.0.0.1:1/v2/").expect("valid");
        let activity = Activity::new();
        let ticking = activity.clone();
        let work = async move {
            for _ in 0..6 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                ticking.touch();
            }
            "done"
        };
        let outcome = transport.guard(work, &activity, "PUT", &url).await;
        assert_eq!(outcome.ok(), Some("done"));
    }
}
