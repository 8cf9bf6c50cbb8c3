//! The client against a real `docker-registry` behind a fault-injecting proxy: which pull and push
//! faults are retried (and how), which fail fast, what the errors name, and that a push that
//! recovers leaves a complete image while one that fails leaves no tag.

mod support;

use std::time::Duration;

use eider_fault_proxy::{Fault, FaultProxy, Recorded, Rule, unused_address};
use eider_oci_types::Digest;
use eider_oci_types::media_type::OCI_MANIFEST;
use eider_registry::{
    BlobOutcome, ClientOptions, CredentialSource, Credentials, ManifestError, PushError,
    PushReport, PushRequest, Reference, RegistryClient, Repository, RequestError, RetryPolicy,
    UploadMode, no_progress,
};
use support::error_chain;
use support::image::{TestImage, make_image, temp_store};
use support::registry::{PASSWORD, TestRegistry, USER};

const MANIFESTS: &str = "/v2/*/manifests/*";
const BLOBS: &str = "/v2/*/blobs/sha256:*";
const UPLOADS: &str = "/v2/*/blobs/uploads/*";
const ATTEMPTS: u32 = 4;

fn options() -> ClientOptions {
    ClientOptions {
        credentials: CredentialSource::anonymous(),
        stall_timeout: Duration::from_secs(30),
        retry: RetryPolicy {
            max_attempts: ATTEMPTS,
            initial_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        },
        max_concurrent_uploads: 1,
        ..ClientOptions::default()
    }
}

fn client() -> RegistryClient {
    RegistryClient::new(options()).expect("client")
}

/// A registry of its own and a proxy in front of it.
fn registry_behind_proxy() -> (TestRegistry, FaultProxy) {
    let registry = TestRegistry::start();
    let proxy = FaultProxy::start(&registry.address());
    (registry, proxy)
}

fn repository_at(address: &str, name: &str) -> Repository {
    Repository::new(address, name).expect("valid repository")
}

fn reference_at(address: &str, name_and_target: &str) -> Reference {
    Reference::parse(&format!("{address}/{name_and_target}")).expect("valid reference")
}

fn push_request(repository: &Repository, image: &TestImage, tag: &str) -> PushRequest {
    PushRequest {
        repository: repository.clone(),
        blobs: image.blobs(),
        manifest: image.manifest.clone(),
        manifest_media_type: OCI_MANIFEST.to_owned(),
        tags: vec![tag.to_owned()],
    }
}

/// Pushes `image` straight to the registry (no proxy) as `name:tag`.
async fn seed(registry: &TestRegistry, image: &TestImage, name: &str, tag: &str) {
    let request = push_request(&repository_at(&registry.address(), name), image, tag);
    client()
        .push(&request, no_progress())
        .await
        .unwrap_or_else(|error| panic!("seed push: {}", error_chain(&error)));
}

/// The digest `skopeo` reads for `name:tag`, straight from the registry.
fn skopeo_digest(registry: &TestRegistry, name_and_tag: &str) -> String {
    let inspected = registry
        .skopeo_inspect(name_and_tag)
        .expect("skopeo runs (bash scripts/test-env.sh installs it)");
    inspected["Digest"].as_str().expect("a digest").to_owned()
}

/// Asserts the registry has no manifest under `name:tag`.
async fn assert_no_tag(registry: &TestRegistry, name_and_tag: &str) {
    let error = client()
        .fetch_manifest(&reference_at(&registry.address(), name_and_tag))
        .await
        .expect_err("no tag");
    let chain = error_chain(&error);
    assert!(chain.contains("404 Not Found: MANIFEST_UNKNOWN"), "{chain}");
}

/// The position of the last request in `requests` that is `method pattern`.
fn last_position(requests: &[Recorded], method: &str, pattern: &str) -> Option<usize> {
    requests
        .iter()
        .rposition(|request| request.is(method, pattern))
}

// Pull faults.

#[tokio::test]
async fn pull_5xx_is_retried_with_backoff_until_the_registry_answers() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "pull-5xx", "amd64", &[10_000]);
    seed(&registry, &image, "eider/pull", "v1").await;
    proxy.add(Rule::new("GET", MANIFESTS, Fault::status(503)).first(1));
    proxy.add(Rule::new("GET", MANIFESTS, Fault::status(502)).first(1));
    proxy.add(Rule::new("GET", MANIFESTS, Fault::status(500)).first(1));

    let manifest = client()
        .fetch_manifest(&reference_at(&proxy.address(), "eider/pull:v1"))
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    assert_eq!(manifest.digest, image.manifest_digest);
    let statuses: Vec<Option<u16>> = proxy
        .matching("GET", MANIFESTS)
        .iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(statuses, [Some(503), Some(502), Some(500), Some(200)]);
}

#[tokio::test]
async fn pull_429_waits_for_the_registry_s_retry_after() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "pull-429", "amd64", &[10_000]);
    seed(&registry, &image, "eider/pull", "v1").await;
    proxy.add(Rule::new("GET", MANIFESTS, Fault::too_many_requests("1")).first(1));

    let manifest = client()
        .fetch_manifest(&reference_at(&proxy.address(), "eider/pull:v1"))
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    assert_eq!(manifest.digest, image.manifest_digest);
    let tries = proxy.matching("GET", MANIFESTS);
    assert_eq!(tries.len(), 2, "{tries:?}");
    let waited = tries[1].at.duration_since(tries[0].at);
    // The backoff alone would be at most 20ms.
    assert!(waited >= Duration::from_secs(1), "waited {waited:?}");
}

#[tokio::test]
async fn pull_refused_connections_are_retried_a_bounded_number_of_times() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "pull-refused", "amd64", &[10_000]);
    seed(&registry, &image, "eider/pull", "v1").await;
    proxy.add(Rule::new("GET", MANIFESTS, Fault::Refuse).first(2));

    let reference = reference_at(&proxy.address(), "eider/pull:v1");
    let manifest = client()
        .fetch_manifest(&reference)
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    assert_eq!(manifest.digest, image.manifest_digest);
    assert_eq!(proxy.matching("GET", MANIFESTS).len(), 3);

    proxy.add(Rule::new("GET", MANIFESTS, Fault::Refuse));
    let error = client()
        .fetch_manifest(&reference)
        .await
        .expect_err("refused every time");
    assert_eq!(
        proxy.matching("GET", MANIFESTS).len(),
        3 + ATTEMPTS as usize
    );
    let chain = error_chain(&error);
    assert!(
        chain.starts_with(&format!("cannot fetch manifest {reference}")),
        "{chain}"
    );
}

#[tokio::test]
async fn pull_from_an_address_where_nothing_listens_fails_naming_the_image() {
    let reference = reference_at(&unused_address(), "eider/pull:v1");
    let error = client()
        .fetch_manifest(&reference)
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(
            &error,
            ManifestError::Request {
                source: RequestError::Connect { .. },
                ..
            }
        ),
        "{error:?}"
    );
    let chain = error_chain(&error);
    assert!(
        chain.starts_with(&format!(
            "cannot fetch manifest {reference}\ncaused by: cannot connect"
        )),
        "{chain}"
    );
}

#[tokio::test]
async fn pull_a_blob_cut_mid_body_is_downloaded_again_and_checked() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "pull-cut", "amd64", &[300_000]);
    seed(&registry, &image, "eider/pull", "v1").await;
    proxy.add(Rule::new("GET", BLOBS, Fault::ResetResponseBody { after: 100_000 }).first(1));

    let (_download_dir, download) = temp_store();
    let layer = &image.layers[0];
    let fetched = client()
        .fetch_blob(
            &repository_at(&proxy.address(), "eider/pull"),
            &layer.digest,
            Some(layer.size),
            &download,
            &|_| {},
        )
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    let bytes = std::fs::read(&fetched.path).expect("the fetched blob");
    assert_eq!(Digest::of(&bytes), layer.digest);
    assert_eq!(proxy.matching("GET", BLOBS).len(), 2);
}

#[tokio::test]
async fn pull_404_fails_fast_naming_the_image_and_the_registry_s_answer() {
    let (_registry, proxy) = registry_behind_proxy();
    let reference = reference_at(&proxy.address(), "eider/absent:v1");
    let error = client()
        .fetch_manifest(&reference)
        .await
        .expect_err("no such image");
    assert_eq!(proxy.matching("GET", MANIFESTS).len(), 1);
    let chain = error_chain(&error);
    assert!(
        chain.starts_with(&format!("cannot fetch manifest {reference}")),
        "{chain}"
    );
    assert!(chain.contains("404 Not Found: MANIFEST_UNKNOWN"), "{chain}");
}

#[tokio::test]
async fn pull_401_after_authenticating_fails_fast() {
    let registry = TestRegistry::start_authenticated();
    let proxy = FaultProxy::start(&registry.address());
    let reference = reference_at(&proxy.address(), "eider/private:v1");
    let client = RegistryClient::new(ClientOptions {
        credentials: CredentialSource::anonymous().with_credentials(
            &proxy.address(),
            Credentials::user_password(USER, "not-the-password"),
        ),
        ..options()
    })
    .expect("client");
    let error = client
        .fetch_manifest(&reference)
        .await
        .expect_err("wrong credentials");
    // Once without credentials (the challenge), once with them: no retry.
    assert_eq!(proxy.matching("GET", MANIFESTS).len(), 2);
    let chain = error_chain(&error);
    assert!(
        chain.starts_with(&format!("cannot fetch manifest {reference}")),
        "{chain}"
    );
    assert!(chain.contains("refused the credentials"), "{chain}");
    assert!(!chain.contains("not-the-password"), "{chain}");
    assert!(!chain.contains(PASSWORD), "{chain}");
}

#[tokio::test]
async fn pull_400_is_not_retried() {
    let (_registry, proxy) = registry_behind_proxy();
    proxy.add(Rule::new(
        "GET",
        MANIFESTS,
        Fault::registry_error(400, "NAME_INVALID", "invalid repository name"),
    ));
    let error = client()
        .fetch_manifest(&reference_at(&proxy.address(), "eider/pull:v1"))
        .await
        .expect_err("refused");
    assert_eq!(proxy.matching("GET", MANIFESTS).len(), 1);
    assert!(
        error_chain(&error).contains("400 Bad Request: NAME_INVALID"),
        "{}",
        error_chain(&error)
    );
}

// Push faults.

/// Asserts the manifest was put once every blob was confirmed: after the last blob request.
fn assert_manifest_last(proxy: &FaultProxy) {
    let requests = proxy.requests();
    let manifest_at = last_position(&requests, "PUT", MANIFESTS).expect("the manifest was put");
    let last_blob_at = requests
        .iter()
        .rposition(|request| request.path.contains("/blobs/"))
        .expect("blob requests");
    assert!(last_blob_at < manifest_at, "{requests:#?}");
    let successful_puts = requests
        .iter()
        .filter(|request| request.is("PUT", MANIFESTS) && request.status == Some(201))
        .count();
    assert_eq!(successful_puts, 1, "{requests:#?}");
}

/// Pushes `image` to `eider/push:TAG` through the proxy with `client`; a failure panics with
/// its causes.
async fn push_through(
    client: &RegistryClient,
    proxy: &FaultProxy,
    image: &TestImage,
    tag: &str,
) -> PushReport {
    let request = push_request(&repository_at(&proxy.address(), "eider/push"), image, tag);
    client
        .push(&request, no_progress())
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)))
}

/// Asserts that the registry itself serves `image` as `eider/push:TAG`, as skopeo reads it.
fn assert_served(registry: &TestRegistry, image: &TestImage, tag: &str) {
    assert_eq!(
        skopeo_digest(registry, &format!("eider/push:{tag}")),
        image.manifest_digest.to_string()
    );
}

#[tokio::test]
async fn push_a_connection_reset_mid_blob_restarts_the_blob_and_completes() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "push-reset", "amd64", &[400_000, 200_000]);
    proxy.add(Rule::new("PUT", UPLOADS, Fault::ResetRequestBody { after: 150_000 }).first(2));

    let report = push_through(&client(), &proxy, &image, "v1").await;
    assert_eq!(report.manifest_digest, image.manifest_digest);
    assert_manifest_last(&proxy);
    assert_served(&registry, &image, "v1");
}

#[tokio::test]
async fn push_a_416_to_a_chunk_restarts_the_upload() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "push-416", "amd64", &[700_000]);
    proxy.add(Rule::new("PATCH", UPLOADS, Fault::range_not_satisfiable()).first(1));

    let client = RegistryClient::new(ClientOptions {
        upload_mode: UploadMode::Chunked,
        chunk_size: 256 * 1024,
        ..options()
    })
    .expect("client");
    let report = push_through(&client, &proxy, &image, "v1").await;
    assert!(
        report
            .blobs
            .iter()
            .all(|blob| blob.outcome == BlobOutcome::Uploaded { chunked: true }),
        "{report:?}"
    );
    // The refused session was abandoned: a new one was opened.
    let sessions = proxy.matching("POST", UPLOADS).len();
    assert_eq!(sessions, 3, "{:#?}", proxy.requests());
    assert_manifest_last(&proxy);
    assert_served(&registry, &image, "v1");
}

#[tokio::test]
async fn push_a_lost_upload_session_restarts_the_blob() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "push-lost", "amd64", &[300_000]);
    proxy.add(Rule::new("PUT", UPLOADS, Fault::upload_unknown()).first(1));
    proxy.add(Rule::new("PATCH", UPLOADS, Fault::upload_unknown()).first(1));

    push_through(&client(), &proxy, &image, "v1").await;
    let chunked = RegistryClient::new(ClientOptions {
        upload_mode: UploadMode::Chunked,
        ..options()
    })
    .expect("client");
    let (_other_dir, other_store) = temp_store();
    let other = make_image(&other_store, "push-lost-chunked", "amd64", &[300_000]);
    push_through(&chunked, &proxy, &other, "v2").await;

    assert_served(&registry, &image, "v1");
    assert_served(&registry, &other, "v2");
    let lost: Vec<Recorded> = proxy
        .requests()
        .into_iter()
        .filter(|request| request.status == Some(404) && request.path.contains("/uploads/"))
        .collect();
    assert_eq!(lost.len(), 2, "{lost:#?}");
}

#[tokio::test]
async fn push_503_on_the_manifest_is_retried() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "push-manifest-503", "amd64", &[50_000]);
    proxy.add(Rule::new("PUT", MANIFESTS, Fault::status(503)).first(2));

    push_through(&client(), &proxy, &image, "v1").await;
    assert_eq!(proxy.matching("PUT", MANIFESTS).len(), 3);
    assert_manifest_last(&proxy);
    assert_served(&registry, &image, "v1");
}

#[tokio::test]
async fn push_a_manifest_refused_every_time_fails_naming_it_and_leaves_no_tag() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "push-manifest-down", "amd64", &[50_000]);
    proxy.add(Rule::new("PUT", MANIFESTS, Fault::status(503)));

    let repository = repository_at(&proxy.address(), "eider/push");
    let error = client()
        .push(&push_request(&repository, &image, "v1"), no_progress())
        .await
        .expect_err("the manifest is never accepted");
    assert!(matches!(error, PushError::Manifest { .. }), "{error:?}");
    let chain = error_chain(&error);
    assert!(
        chain.starts_with(&format!(
            "cannot push manifest {} to {repository} as v1",
            image.manifest_digest
        )),
        "{chain}"
    );
    assert!(chain.contains("503 Service Unavailable"), "{chain}");
    assert_eq!(proxy.matching("PUT", MANIFESTS).len(), ATTEMPTS as usize);
    assert_no_tag(&registry, "eider/push:v1").await;
}

#[tokio::test]
async fn push_a_blob_refused_every_time_fails_naming_it_and_never_puts_the_manifest() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "push-blob-down", "amd64", &[50_000]);
    proxy.add(Rule::new("PUT", UPLOADS, Fault::status(500)));

    let repository = repository_at(&proxy.address(), "eider/push");
    let error = client()
        .push(&push_request(&repository, &image, "v1"), no_progress())
        .await
        .expect_err("the blob is never accepted");
    let chain = error_chain(&error);
    assert!(
        chain.starts_with(&format!(
            "cannot push blob {} to {repository}",
            image.config.digest
        )),
        "{chain}"
    );
    assert!(chain.contains("500 Internal Server Error"), "{chain}");
    assert!(proxy.matching("PUT", MANIFESTS).is_empty());
    assert_no_tag(&registry, "eider/push:v1").await;
}

#[tokio::test]
async fn push_skips_blobs_the_registry_already_has() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "push-present", "amd64", &[200_000, 100_000]);
    seed(&registry, &image, "eider/push", "v1").await;

    let report = push_through(&client(), &proxy, &image, "v2").await;
    assert!(
        report
            .blobs
            .iter()
            .all(|blob| blob.outcome == BlobOutcome::AlreadyPresent),
        "{report:?}"
    );
    let uploads: Vec<Recorded> = proxy
        .requests()
        .into_iter()
        .filter(|request| request.path.contains("/uploads/"))
        .collect();
    assert!(uploads.is_empty(), "{uploads:#?}");
    assert_eq!(proxy.matching("HEAD", BLOBS).len(), 3);
    assert_served(&registry, &image, "v2");
}

#[tokio::test]
async fn push_confirms_each_uploaded_blob_before_the_manifest() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "push-unconfirmed", "amd64", &[100_000]);
    // A registry that says it stored a blob it did not: the upload is answered but never
    // reaches the registry.
    proxy.add(
        Rule::new(
            "PUT",
            UPLOADS,
            Fault::Answer {
                status: 201,
                headers: Vec::new(),
                body: String::new(),
            },
        )
        .first(1),
    );

    push_through(&client(), &proxy, &image, "v1").await;
    assert_manifest_last(&proxy);
    // Every blob answered to a HEAD with 200 before the manifest went.
    let requests = proxy.requests();
    let manifest_at = last_position(&requests, "PUT", MANIFESTS).expect("manifest put");
    for blob in image.blobs() {
        let confirmed = requests[..manifest_at].iter().any(|request| {
            request.method == "HEAD"
                && request.path.ends_with(&blob.digest.to_string())
                && request.status == Some(200)
        });
        assert!(confirmed, "{} never confirmed: {requests:#?}", blob.digest);
    }
    assert_served(&registry, &image, "v1");
}

#[tokio::test]
async fn push_a_blob_stored_under_another_digest_fails_and_leaves_no_tag() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "push-wrong-digest", "amd64", &[10_000]);
    let wrong = format!("sha256:{}", "0".repeat(64));
    proxy.add(Rule::new(
        "PUT",
        UPLOADS,
        Fault::Answer {
            status: 201,
            headers: vec![("Docker-Content-Digest".to_owned(), wrong.clone())],
            body: String::new(),
        },
    ));

    let repository = repository_at(&proxy.address(), "eider/push");
    let error = client()
        .push(&push_request(&repository, &image, "v1"), no_progress())
        .await
        .expect_err("the registry reports another digest");
    let chain = error_chain(&error);
    assert!(
        chain.starts_with(&format!(
            "cannot push blob {} to {repository}",
            image.config.digest
        )),
        "{chain}"
    );
    assert!(chain.contains(&wrong), "{chain}");
    assert!(proxy.matching("PUT", MANIFESTS).is_empty());
    assert_no_tag(&registry, "eider/push:v1").await;
}

#[tokio::test]
async fn push_a_streamed_upload_cut_mid_body_is_sent_again_from_the_file() {
    let (registry, proxy) = registry_behind_proxy();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "push-streamed", "amd64", &[300_000]);
    proxy.add(Rule::new("PATCH", UPLOADS, Fault::ResetRequestBody { after: 50_000 }).first(1));
    let repository = repository_at(&proxy.address(), "eider/push");
    let client = client();

    // The layer as a producer would stream it: in pieces, its digest at the end.
    let layer = image.layers[0].clone();
    let bytes = std::fs::read(&layer.path).expect("the layer");
    let (chunks, received) = tokio::sync::mpsc::channel(4);
    let (digest, digest_received) = tokio::sync::oneshot::channel();
    let producing = async move {
        for piece in bytes.chunks(16 * 1024) {
            if chunks
                .send(bytes::Bytes::copy_from_slice(piece))
                .await
                .is_err()
            {
                break;
            }
        }
        drop(chunks);
        let _ignored = digest.send(layer.digest.clone());
    };
    let (streamed, ()) = tokio::join!(
        client.upload_while_produced(&repository, received, digest_received),
        producing
    );
    assert!(streamed.is_err(), "the cut upload succeeded: {streamed:?}");

    // The push that follows sends the layer again from its file.
    let report = client
        .push(&push_request(&repository, &image, "v1"), no_progress())
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    let layer_report = report
        .blobs
        .iter()
        .find(|blob| blob.digest == image.layers[0].digest)
        .expect("the layer's report");
    assert_eq!(
        layer_report.outcome,
        BlobOutcome::Uploaded { chunked: false }
    );
    assert_manifest_last(&proxy);
    assert_served(&registry, &image, "v1");
}
