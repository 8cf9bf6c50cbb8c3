//! The push and pull behaviours a real registry will not show on demand, against a scripted
//! registry on loopback: 413 then chunks, 503 with `Retry-After`, a lost upload session, a
//! permanent refusal, a registry that never answers, and bearer tokens from a token server.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eider_oci_types::media_type::OCI_MANIFEST;
use eider_oci_types::{Digest, Platform};
use eider_registry::{
    BlobOutcome, ClientOptions, CredentialSource, Credentials, PushError, PushEvent, PushRequest,
    Reference, RegistryClient, Repository, RequestError, RetryPolicy, Secret, no_progress,
};
use support::fake::{FakeResponse, FakeServer, RecordedRequest};
use support::image::{TestImage, make_image, temp_store};
use support::{EventLog, error_chain};

/// What the scripted registry should do wrong.
#[derive(Default, Clone)]
struct Faults {
    /// Answer this many `HEAD`s with 503 and `Retry-After: 0` first.
    unavailable_heads: usize,
    /// Refuse request bodies larger than this with 413.
    max_body: Option<usize>,
    /// Answer the first monolithic `PUT` with 404 (the session is gone).
    lose_first_session: bool,
    /// Answer every monolithic `PUT` with 400 `DIGEST_INVALID`.
    refuse_digests: bool,
    /// Demand bearer tokens from `/token`, which wants these credentials.
    bearer: Option<(String, String)>,
}

/// A small distribution registry in memory: blobs, upload sessions, manifests.
#[derive(Default)]
struct Distribution {
    faults: Faults,
    blobs: BTreeMap<String, Vec<u8>>,
    sessions: BTreeMap<String, Vec<u8>>,
    manifests: BTreeMap<String, (String, Vec<u8>)>,
    next_session: usize,
    tokens_issued: Vec<RecordedRequest>,
}

const TOKEN: &str = "fake-token-value";

impl Distribution {
    fn handle(&mut self, request: &RecordedRequest, address: &str) -> FakeResponse {
        if let Some((user, password)) = self.faults.bearer.clone() {
            if request.path() == "/token" {
                return self.issue_token(request, &user, &password);
            }
            if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
                return FakeResponse::error(401, "UNAUTHORIZED", "authentication required").header(
                    "WWW-Authenticate",
                    &format!(r#"Bearer realm="http://{address}/token",service="fake""#),
                );
            }
        }
        let path = request.path().to_owned();
        if let Some(limit) = self.faults.max_body
            && request.body.len() > limit
        {
            return FakeResponse::error(413, "SIZE_INVALID", "too large");
        }
        if let Some((_, rest)) = path.split_once("/blobs/uploads/") {
            return self.upload(request, rest, &path);
        }
        if let Some((_, digest)) = path.split_once("/blobs/") {
            return match (request.method.as_str(), self.blobs.get(digest)) {
                ("HEAD", _) if self.faults.unavailable_heads > 0 => {
                    self.faults.unavailable_heads -= 1;
                    FakeResponse::status(503).header("Retry-After", "0")
                }
                ("HEAD", Some(blob)) => FakeResponse::status(200)
                    .header("Content-Length", &blob.len().to_string())
                    .header("Docker-Content-Digest", digest),
                ("GET", Some(blob)) => FakeResponse::status(200).body(blob.clone()),
                _ => FakeResponse::error(404, "BLOB_UNKNOWN", "blob unknown to registry"),
            };
        }
        if let Some((_, target)) = path.split_once("/manifests/") {
            return match request.method.as_str() {
                "PUT" => {
                    let digest = Digest::of(&request.body).to_string();
                    let media_type = request
                        .header("content-type")
                        .unwrap_or_default()
                        .to_owned();
                    self.manifests
                        .insert(target.to_owned(), (media_type, request.body.clone()));
                    FakeResponse::status(201).header("Docker-Content-Digest", &digest)
                }
                _ => match self.manifests.get(target) {
                    Some((media_type, body)) => FakeResponse::status(200)
                        .header("Content-Type", media_type)
                        .header("Docker-Content-Digest", &Digest::of(body).to_string())
                        .body(body.clone()),
                    None => FakeResponse::error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
                },
            };
        }
        FakeResponse::status(404)
    }

    fn upload(&mut self, request: &RecordedRequest, session: &str, path: &str) -> FakeResponse {
        let prefix = &path[..path.len() - session.len()];
        match (request.method.as_str(), session) {
            ("POST", "") => {
                self.next_session += 1;
                let id = format!("session-{}", self.next_session);
                self.sessions.insert(id.clone(), Vec::new());
                FakeResponse::status(202)
                    .header("Location", &format!("{prefix}{id}?_state=opaque"))
                    .header("Range", "0-0")
            }
            ("PATCH", id) => {
                let Some(data) = self.sessions.get_mut(id) else {
                    return FakeResponse::error(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown");
                };
                let expected = format!("{}-{}", data.len(), data.len() + request.body.len() - 1);
                if request.header("content-range") != Some(expected.as_str()) {
                    return FakeResponse::status(416);
                }
                data.extend_from_slice(&request.body);
                FakeResponse::status(202)
                    .header(
                        "Location",
                        &format!("{prefix}{id}?_state=after-{}", data.len()),
                    )
                    .header("Range", &format!("0-{}", data.len() - 1))
            }
            ("PUT", id) => {
                if self.faults.lose_first_session && !request.body.is_empty() {
                    self.faults.lose_first_session = false;
                    self.sessions.remove(id);
                    return FakeResponse::error(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown");
                }
                if self.faults.refuse_digests {
                    return FakeResponse::error(
                        400,
                        "DIGEST_INVALID",
                        "provided digest did not match uploaded content",
                    );
                }
                let Some(mut data) = self.sessions.remove(id) else {
                    return FakeResponse::error(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown");
                };
                data.extend_from_slice(&request.body);
                let digest = request.query("digest").unwrap_or_default();
                if Digest::of(&data).to_string() != digest {
                    return FakeResponse::error(400, "DIGEST_INVALID", "digest mismatch");
                }
                self.blobs.insert(digest.clone(), data);
                FakeResponse::status(201).header("Docker-Content-Digest", &digest)
            }
            _ => FakeResponse::status(405),
        }
    }

    fn issue_token(
        &mut self,
        request: &RecordedRequest,
        user: &str,
        password: &str,
    ) -> FakeResponse {
        use base64::Engine as _;
        if request.method == "POST" {
            // The OAuth2 refresh-token grant: `password` is the identity token expected.
            let form = RecordedRequest {
                target: format!("/?{}", String::from_utf8_lossy(&request.body)),
                ..request.clone()
            };
            if form.query("grant_type").as_deref() != Some("refresh_token")
                || form.query("refresh_token").as_deref() != Some(password)
            {
                return FakeResponse::error(401, "UNAUTHORIZED", "bad refresh token");
            }
            self.tokens_issued.push(form);
            return FakeResponse::status(200)
                .header("Content-Type", "application/json")
                .body(format!(r#"{{"access_token":"{TOKEN}","expires_in":300}}"#));
        }
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        if request.header("authorization") != Some(expected.as_str()) {
            return FakeResponse::error(401, "UNAUTHORIZED", "bad credentials");
        }
        self.tokens_issued.push(request.clone());
        FakeResponse::status(200)
            .header("Content-Type", "application/json")
            .body(format!(r#"{{"token":"{TOKEN}","expires_in":300}}"#))
    }
}

struct Fake {
    server: FakeServer,
    state: Arc<Mutex<Distribution>>,
}

impl Fake {
    async fn start(faults: Faults) -> Self {
        let state = Arc::new(Mutex::new(Distribution {
            faults,
            ..Distribution::default()
        }));
        let address = Arc::new(Mutex::new(String::new()));
        let handler_state = Arc::clone(&state);
        let handler_address = Arc::clone(&address);
        let server = FakeServer::start(move |request| {
            let address = handler_address.lock().expect("address lock").clone();
            handler_state
                .lock()
                .expect("state lock")
                .handle(request, &address)
        })
        .await;
        *address.lock().expect("address lock") = server.address();
        Self { server, state }
    }

    fn repository(&self) -> Repository {
        Repository::new(&self.server.address(), "team/app").expect("valid repository")
    }

    fn requests(&self, method: &str) -> Vec<RecordedRequest> {
        self.server
            .requests()
            .into_iter()
            .filter(|request| request.method == method)
            .collect()
    }
}

fn options() -> ClientOptions {
    ClientOptions {
        credentials: CredentialSource::anonymous(),
        stall_timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            max_attempts: 4,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(1),
        },
        ..ClientOptions::default()
    }
}

fn request(repository: &Repository, image: &TestImage) -> PushRequest {
    PushRequest {
        repository: repository.clone(),
        blobs: image.blobs(),
        manifest: image.manifest.clone(),
        manifest_media_type: OCI_MANIFEST.to_owned(),
        tags: vec!["v1".to_owned()],
    }
}

#[tokio::test]
async fn a_blob_is_sent_in_one_put_with_its_length() {
    let fake = Fake::start(Faults::default()).await;
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "monolithic", "amd64", &[500_000]);
    let client = RegistryClient::new(options()).expect("client");
    client
        .push(&request(&fake.repository(), &image), no_progress())
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    let layer = &image.layers[0];
    let puts: Vec<RecordedRequest> = fake
        .requests("PUT")
        .into_iter()
        .filter(|put| put.query("digest") == Some(layer.digest.to_string()))
        .collect();
    assert_eq!(puts.len(), 1);
    assert_eq!(
        puts[0].header("content-length"),
        Some(layer.size.to_string().as_str())
    );
    assert_eq!(puts[0].header("transfer-encoding"), None);
    assert_eq!(
        puts[0].query("_state").as_deref(),
        Some("opaque"),
        "the session's query is kept"
    );
    assert!(fake.requests("PATCH").is_empty());
    // Upload sessions are opened with an explicit empty body.
    assert!(
        fake.requests("POST")
            .iter()
            .all(|post| post.header("content-length") == Some("0"))
    );
}

#[tokio::test]
async fn a_refused_size_falls_back_to_chunks_that_shrink_until_accepted() {
    let fake = Fake::start(Faults {
        max_body: Some(300_000),
        ..Faults::default()
    })
    .await;
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "chunks", "amd64", &[900_000]);
    let client = RegistryClient::new(ClientOptions {
        chunk_size: 1024 * 1024,
        ..options()
    })
    .expect("client");
    let report = client
        .push(&request(&fake.repository(), &image), no_progress())
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    let layer = &image.layers[0];
    let outcome = &report
        .blobs
        .iter()
        .find(|blob| blob.digest == layer.digest)
        .expect("the layer")
        .outcome;
    assert_eq!(outcome, &BlobOutcome::Uploaded { chunked: true });
    // The small config fits in one request and is not chunked.
    assert_eq!(
        report.blobs[0].outcome,
        BlobOutcome::Uploaded { chunked: false }
    );
    let stored = fake
        .state
        .lock()
        .expect("state")
        .blobs
        .get(&layer.digest.to_string())
        .cloned();
    assert_eq!(stored, Some(std::fs::read(&layer.path).expect("layer")));
    // 1 MiB chunks refused, halved to 512 KiB, refused, halved to 256 KiB: accepted.
    let size = usize::try_from(layer.size).expect("small layer");
    let quarter = 256 * 1024;
    let patches: Vec<usize> = fake
        .requests("PATCH")
        .iter()
        .map(|patch| patch.body.len())
        .collect();
    assert_eq!(
        patches,
        vec![
            size,
            2 * quarter,
            quarter,
            quarter,
            quarter,
            size - 3 * quarter
        ]
    );
}

#[tokio::test]
async fn transient_errors_are_retried_after_the_registry_s_delay() {
    let fake = Fake::start(Faults {
        unavailable_heads: 2,
        ..Faults::default()
    })
    .await;
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "retry", "amd64", &[1_000]);
    let client = RegistryClient::new(ClientOptions {
        max_concurrent_uploads: 1,
        ..options()
    })
    .expect("client");
    let events = EventLog::default();
    let report = client
        .push(&request(&fake.repository(), &image), events.progress())
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    assert_eq!(report.uploaded().count(), 2);
    let retries: Vec<(u32, Duration, String)> = events
        .events()
        .into_iter()
        .filter_map(|event| match event {
            PushEvent::BlobRetrying {
                attempt,
                delay,
                reason,
                ..
            } => Some((attempt, delay, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(retries.len(), 2, "{retries:?}");
    assert_eq!(retries[0].0, 1);
    assert_eq!(retries[1].0, 2);
    assert!(retries.iter().all(|(_, delay, _)| *delay == Duration::ZERO));
    assert!(
        retries[0].2.contains("503 Service Unavailable"),
        "{}",
        retries[0].2
    );
}

#[tokio::test]
async fn a_lost_upload_session_restarts_the_blob() {
    let fake = Fake::start(Faults {
        lose_first_session: true,
        ..Faults::default()
    })
    .await;
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "lost", "amd64", &[20_000]);
    let client = RegistryClient::new(ClientOptions {
        max_concurrent_uploads: 1,
        ..options()
    })
    .expect("client");
    let report = client
        .push(&request(&fake.repository(), &image), no_progress())
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    assert_eq!(report.uploaded().count(), 2);
    // Two blobs, one of them twice: three sessions.
    assert_eq!(fake.requests("POST").len(), 3);
    assert_eq!(fake.state.lock().expect("state").blobs.len(), 2);
}

#[tokio::test]
async fn a_permanent_refusal_fails_fast_and_names_registry_repository_and_digest() {
    let fake = Fake::start(Faults {
        refuse_digests: true,
        ..Faults::default()
    })
    .await;
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "refused", "amd64", &[1_000]);
    let client = RegistryClient::new(ClientOptions {
        max_concurrent_uploads: 1,
        ..options()
    })
    .expect("client");
    let error = client
        .push(&request(&fake.repository(), &image), no_progress())
        .await
        .expect_err("the registry refuses");
    let chain = error_chain(&error);
    let PushError::Blob { digest, .. } = &error else {
        panic!("a blob error: {chain}");
    };
    assert!(
        chain.starts_with(&format!(
            "cannot push blob {digest} to {}/team/app",
            fake.server.address()
        )),
        "{chain}"
    );
    assert!(
        chain.contains("answered 400 Bad Request: DIGEST_INVALID: provided digest did not match uploaded content"),
        "{chain}"
    );
    assert_eq!(fake.requests("PUT").len(), 1, "not retried");
    assert!(
        fake.state.lock().expect("state").manifests.is_empty(),
        "no manifest after a failure"
    );
}

#[tokio::test]
async fn a_registry_that_never_answers_is_given_up_after_the_stall_timeout() {
    let server = FakeServer::start(|_request| FakeResponse::hang()).await;
    let client = RegistryClient::new(ClientOptions {
        stall_timeout: Duration::from_millis(500),
        retry: RetryPolicy::none(),
        ..options()
    })
    .expect("client");
    let reference =
        Reference::parse(&format!("{}/team/app:v1", server.address())).expect("reference");
    let started = Instant::now();
    let error = client
        .fetch_manifest(&reference)
        .await
        .expect_err("silence");
    let chain = error_chain(&error);
    assert!(
        chain.contains("stalled: nothing sent or received for"),
        "{chain}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn bearer_tokens_are_fetched_with_credentials_once_per_scope() {
    let fake = Fake::start(Faults {
        bearer: Some(("robot".to_owned(), "token-password".to_owned())),
        ..Faults::default()
    })
    .await;
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "bearer", "amd64", &[2_000, 3_000]);
    let address = fake.server.address();
    let mut blobs = image.blobs();
    blobs[1] = blobs[1].clone().with_mount_from("library/base");
    let client = RegistryClient::new(ClientOptions {
        credentials: CredentialSource::anonymous().with_credentials(
            &address,
            Credentials::user_password("robot", "token-password"),
        ),
        ..options()
    })
    .expect("client");
    client
        .push(
            &PushRequest {
                blobs,
                ..request(&fake.repository(), &image)
            },
            no_progress(),
        )
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    let reference = Reference::parse(&format!("{address}/team/app:v1")).expect("reference");
    client
        .fetch_manifest(&reference)
        .await
        .expect("pull with a token");

    let issued = fake.state.lock().expect("state").tokens_issued.clone();
    let scopes: BTreeSet<Vec<String>> = issued
        .iter()
        .map(|request| {
            assert_eq!(request.query("service").as_deref(), Some("fake"));
            assert_eq!(request.query("account").as_deref(), Some("robot"));
            let mut scopes = request.query_all("scope");
            scopes.sort();
            scopes
        })
        .collect();
    let expected: BTreeSet<Vec<String>> = [
        vec!["repository:team/app:pull,push".to_owned()],
        vec![
            "repository:library/base:pull".to_owned(),
            "repository:team/app:pull,push".to_owned(),
        ],
        vec!["repository:team/app:pull".to_owned()],
    ]
    .into_iter()
    .collect();
    assert_eq!(scopes, expected);
    // One token per scope set, however many requests used it.
    assert_eq!(issued.len(), 3, "{issued:?}");

    let wrong = RegistryClient::new(ClientOptions {
        credentials: CredentialSource::anonymous()
            .with_credentials(&address, Credentials::user_password("robot", "nope-secret")),
        ..options()
    })
    .expect("client");
    let error = wrong
        .fetch_manifest(&reference)
        .await
        .expect_err("bad credentials");
    let chain = error_chain(&error);
    assert!(
        matches!(
            &error,
            eider_registry::ManifestError::Request {
                source: RequestError::Unauthorized { .. },
                ..
            }
        ),
        "{chain}"
    );
    assert!(chain.contains("UNAUTHORIZED: bad credentials"), "{chain}");
    assert!(!chain.contains("nope-secret") && !format!("{error:?}").contains("nope-secret"));
}

#[tokio::test]
async fn an_identity_token_is_exchanged_with_the_refresh_token_grant() {
    let fake = Fake::start(Faults {
        bearer: Some(("<token>".to_owned(), "refresh-secret".to_owned())),
        ..Faults::default()
    })
    .await;
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "identity", "amd64", &[1_000]);
    let client = RegistryClient::new(ClientOptions {
        credentials: CredentialSource::anonymous().with_credentials(
            &fake.server.address(),
            Credentials::IdentityToken(Secret::new("refresh-secret")),
        ),
        ..options()
    })
    .expect("client");
    client
        .push(&request(&fake.repository(), &image), no_progress())
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    let issued = fake.state.lock().expect("state").tokens_issued.clone();
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert_eq!(
        issued[0].query("scope").as_deref(),
        Some("repository:team/app:pull,push")
    );
    assert_eq!(issued[0].query("service").as_deref(), Some("fake"));
}

#[tokio::test]
async fn a_blob_file_is_needed_only_when_the_registry_lacks_the_blob() {
    let fake = Fake::start(Faults::default()).await;
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "local", "amd64", &[1_000, 2_000]);
    let client = RegistryClient::new(options()).expect("client");
    let repository = fake.repository();
    client
        .push(&request(&repository, &image), no_progress())
        .await
        .expect("first push");
    // The registry has every blob now: their files are not needed again.
    for blob in image.blobs() {
        std::fs::remove_file(&blob.path).expect("remove blob file");
    }
    client
        .push(&request(&repository, &image), no_progress())
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));

    let other = make_image(&store, "missing", "amd64", &[1_000]);
    std::fs::remove_file(&other.layers[0].path).expect("remove layer file");
    let error = client
        .push(&request(&repository, &other), no_progress())
        .await
        .expect_err("a missing file for a blob to upload");
    assert!(matches!(error, PushError::BlobFile { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "cannot read blob {} for {repository} from {}",
            other.layers[0].digest, other.layers[0].path
        )
    );
}

#[test]
fn client_futures_can_be_spawned() {
    fn assert_send<T: Send>(_future: &T) {}
    let client = RegistryClient::new(options()).expect("client");
    let repository = Repository::new("127.0.0.1:1", "app").expect("repository");
    let reference = Reference::parse("127.0.0.1:1/app:v1").expect("reference");
    let store = camino::Utf8PathBuf::from("/nonexistent");
    let request = PushRequest {
        repository: repository.clone(),
        blobs: Vec::new(),
        manifest: bytes::Bytes::new(),
        manifest_media_type: OCI_MANIFEST.to_owned(),
        tags: Vec::new(),
    };
    let progress = |_sent: u64| {};
    assert_send(&client.push(&request, no_progress()));
    assert_send(&client.fetch_manifest(&reference));
    assert_send(&client.fetch_image_manifest(&reference, &Platform::linux_amd64()));
    assert_send(&client.resolve_digest(&reference));
    assert_send(&client.fetch_blob(&repository, &Digest::of(b""), None, &store, &progress));
}

#[test]
fn client_options_never_show_credentials() {
    let options = ClientOptions {
        credentials: CredentialSource::anonymous()
            .with_credentials(
                "r.example",
                Credentials::user_password("alice", "s3cret-pw"),
            )
            .with_credentials(
                "t.example",
                Credentials::IdentityToken(Secret::new("s3cret-token")),
            ),
        ..ClientOptions::default()
    };
    let client = RegistryClient::new(options.clone()).expect("client");
    for shown in [format!("{options:?}"), format!("{client:?}")] {
        assert!(shown.contains("alice"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
