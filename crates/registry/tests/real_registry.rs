//! Push and pull against real Debian `docker-registry` servers started on loopback for each
//! test (plain, and behind htpasswd basic auth), with `skopeo` as an independent reader.

mod support;

use std::time::Duration;

use camino::Utf8PathBuf;
use eider_oci_types::media_type::{OCI_INDEX, OCI_MANIFEST};
use eider_oci_types::{Digest, Platform};
use eider_registry::{
    BlobFetchError, BlobOutcome, ClientOptions, CredentialSource, Credentials,
    DockerConfigLocation, ManifestError, PushError, PushEvent, PushRequest, Reference,
    RegistryClient, Repository, RequestError, RetryPolicy, UploadMode, blob_path, no_progress,
};
use support::image::{TestImage, make_image, make_index, temp_store};
use support::registry::{PASSWORD, TestRegistry, USER};
use support::{EventLog, error_chain};

fn options(credentials: CredentialSource) -> ClientOptions {
    ClientOptions {
        credentials,
        stall_timeout: Duration::from_secs(30),
        retry: RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(1),
        },
        ..ClientOptions::default()
    }
}

fn client() -> RegistryClient {
    RegistryClient::new(options(CredentialSource::anonymous())).expect("client")
}

fn client_with(options: ClientOptions) -> RegistryClient {
    RegistryClient::new(options).expect("client")
}

fn repository(registry: &TestRegistry, name: &str) -> Repository {
    Repository::new(&registry.address(), name).expect("valid repository")
}

fn reference(registry: &TestRegistry, name_and_target: &str) -> Reference {
    Reference::parse(&format!("{}/{name_and_target}", registry.address())).expect("valid reference")
}

fn push_request(repository: &Repository, image: &TestImage, tags: &[&str]) -> PushRequest {
    PushRequest {
        repository: repository.clone(),
        blobs: image.blobs(),
        manifest: image.manifest.clone(),
        manifest_media_type: OCI_MANIFEST.to_owned(),
        tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
    }
}

fn read(path: &Utf8PathBuf) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("read {path}: {error}"))
}

#[tokio::test]
async fn a_pushed_image_is_pulled_back_byte_for_byte() {
    let registry = TestRegistry::start();
    let (_source_dir, source) = temp_store();
    let image = make_image(&source, "roundtrip", "amd64", &[300_000, 1_000]);
    let repository = repository(&registry, "eider/roundtrip");
    let client = client();

    let report = client
        .push(&push_request(&repository, &image, &["v1"]), no_progress())
        .await
        .unwrap_or_else(|error| panic!("{}\n{}", error_chain(&error), registry.log()));
    assert_eq!(report.manifest_digest, image.manifest_digest);
    assert_eq!(report.uploaded().count(), 3);
    assert!(
        report
            .blobs
            .iter()
            .all(|blob| blob.outcome == BlobOutcome::Uploaded { chunked: false }),
        "{report:?}"
    );

    let tagged = reference(&registry, "eider/roundtrip:v1");
    let manifest = client.fetch_manifest(&tagged).await.expect("fetch by tag");
    assert_eq!(manifest.bytes, image.manifest);
    assert_eq!(manifest.digest, image.manifest_digest);
    assert_eq!(manifest.media_type, OCI_MANIFEST);
    let by_digest = tagged.pinned(image.manifest_digest.clone());
    assert_eq!(
        client
            .fetch_manifest(&by_digest)
            .await
            .expect("fetch by digest"),
        manifest
    );
    let pulled = client
        .fetch_image_manifest(&tagged, &Platform::linux_amd64())
        .await
        .expect("image manifest");
    assert_eq!(pulled.manifest, manifest);
    assert_eq!(pulled.index, None);
    assert_eq!(
        client.resolve_digest(&tagged).await.expect("resolve tag"),
        image.manifest_digest
    );

    let (_target_dir, target) = temp_store();
    for blob in image.blobs() {
        let fetched = client
            .fetch_blob(&repository, &blob.digest, Some(blob.size), &target, &|_| {})
            .await
            .expect("fetch blob");
        assert!(fetched.downloaded);
        assert_eq!(fetched.path, blob_path(&target, &blob.digest));
        assert_eq!(read(&fetched.path), read(&blob.path));
        let again = client
            .fetch_blob(&repository, &blob.digest, Some(blob.size), &target, &|_| {})
            .await
            .expect("fetch blob again");
        assert!(
            !again.downloaded,
            "a blob in the store is not downloaded again"
        );
    }

    skopeo_agrees(&registry, "eider/roundtrip:v1", &image);
}

/// An independent client reads the pushed image the same way.
fn skopeo_agrees(registry: &TestRegistry, name_and_tag: &str, image: &TestImage) {
    let Ok(inspected) = registry.skopeo_inspect(name_and_tag) else {
        eprintln!("skopeo is not installed: the interoperability check is skipped");
        return;
    };
    assert_eq!(inspected["Digest"], image.manifest_digest.to_string());
    let layers: Vec<&str> = inspected["Layers"]
        .as_array()
        .expect("a list of layers")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    let expected: Vec<String> = image
        .layers
        .iter()
        .map(|layer| layer.digest.to_string())
        .collect();
    assert_eq!(layers, expected);
}

#[tokio::test]
async fn a_second_push_uploads_no_blob() {
    let registry = TestRegistry::start();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "twice", "amd64", &[200_000, 50_000]);
    let repository = repository(&registry, "eider/twice");
    let client = client();
    let request = push_request(&repository, &image, &["latest"]);
    let first = client
        .push(&request, no_progress())
        .await
        .expect("first push");
    assert_eq!(first.uploaded().count(), 3);

    let events = EventLog::default();
    let second = client
        .push(&request, events.progress())
        .await
        .expect("second push");
    assert_eq!(second.uploaded().count(), 0, "{second:?}");
    assert_eq!(second.uploaded_bytes(), 0);
    assert!(
        second
            .blobs
            .iter()
            .all(|blob| blob.outcome == BlobOutcome::AlreadyPresent)
    );
    assert!(
        !events.events().iter().any(|event| matches!(
            event,
            PushEvent::BlobStarted { .. } | PushEvent::BlobProgress { .. }
        )),
        "{:?}",
        events.events()
    );
    assert_eq!(second.manifest_digest, first.manifest_digest);
}

#[tokio::test]
async fn blobs_are_mounted_from_another_repository() {
    let registry = TestRegistry::start();
    let (_store_dir, store) = temp_store();
    let base = make_image(&store, "base", "amd64", &[150_000, 20_000]);
    let base_repository = repository(&registry, "library/base");
    let client = client();
    client
        .push(
            &push_request(&base_repository, &base, &["1"]),
            no_progress(),
        )
        .await
        .expect("push the base");

    // The application image: the base's layers, mountable, plus a layer and config of its own.
    // The base layers' files are not needed: they are mounted, never read.
    let own = make_image(&store, "app", "amd64", &[10_000]);
    for layer in &base.layers {
        std::fs::remove_file(&layer.path).expect("remove a base layer file");
    }
    let mut blobs = vec![own.config.clone()];
    blobs.extend(
        base.layers
            .iter()
            .map(|layer| layer.clone().with_mount_from("library/base")),
    );
    blobs.extend(own.layers.iter().cloned());
    let app_repository = repository(&registry, "team/app");
    let events = EventLog::default();
    let report = client
        .push(
            &PushRequest {
                repository: app_repository.clone(),
                blobs,
                manifest: own.manifest.clone(),
                manifest_media_type: OCI_MANIFEST.to_owned(),
                tags: vec!["1".to_owned()],
            },
            events.progress(),
        )
        .await
        .expect("push the app");
    let outcomes: Vec<&BlobOutcome> = report.blobs.iter().map(|blob| &blob.outcome).collect();
    let mounted = BlobOutcome::Mounted {
        from: "library/base".to_owned(),
    };
    let uploaded = BlobOutcome::Uploaded { chunked: false };
    assert_eq!(outcomes, vec![&uploaded, &mounted, &mounted, &uploaded]);
    assert_eq!(
        events
            .events()
            .iter()
            .filter(|event| matches!(event, PushEvent::BlobMounted { .. }))
            .count(),
        2
    );
    // The mounted blobs are really there.
    let (_target_dir, target) = temp_store();
    for layer in &base.layers {
        client
            .fetch_blob(
                &app_repository,
                &layer.digest,
                Some(layer.size),
                &target,
                &|_| {},
            )
            .await
            .expect("a mounted blob can be fetched");
    }
}

#[tokio::test]
async fn chunked_uploads_are_accepted_by_a_real_registry() {
    let registry = TestRegistry::start();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "chunked", "amd64", &[700_000]);
    let repository = repository(&registry, "eider/chunked");
    let client = client_with(ClientOptions {
        upload_mode: UploadMode::Chunked,
        chunk_size: 256 * 1024,
        ..options(CredentialSource::anonymous())
    });
    let events = EventLog::default();
    let report = client
        .push(
            &push_request(&repository, &image, &["c"]),
            events.progress(),
        )
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    assert!(
        report
            .blobs
            .iter()
            .all(|blob| blob.outcome == BlobOutcome::Uploaded { chunked: true })
    );
    let layer = &image.layers[0];
    let sent_for_layer: Vec<u64> = events
        .events()
        .iter()
        .filter_map(|event| match event {
            PushEvent::BlobProgress { digest, sent, .. } if *digest == layer.digest => Some(*sent),
            _ => None,
        })
        .collect();
    assert_eq!(sent_for_layer.last(), Some(&layer.size));
    assert!(sent_for_layer.windows(2).all(|pair| pair[0] <= pair[1]));

    let (_target_dir, target) = temp_store();
    let fetched = client
        .fetch_blob(
            &repository,
            &layer.digest,
            Some(layer.size),
            &target,
            &|_| {},
        )
        .await
        .expect("fetch the chunked blob");
    assert_eq!(read(&fetched.path), read(&layer.path));
}

#[tokio::test]
async fn an_authenticated_registry_takes_the_right_credentials_and_refuses_others() {
    let registry = TestRegistry::start_authenticated();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "auth", "amd64", &[40_000]);
    let repository = repository(&registry, "private/app");
    let request = push_request(&repository, &image, &["v1"]);

    let good = client_with(options(CredentialSource::anonymous().with_credentials(
        &registry.address(),
        Credentials::user_password(USER, PASSWORD),
    )));
    let report = good
        .push(&request, no_progress())
        .await
        .unwrap_or_else(|error| panic!("{}\n{}", error_chain(&error), registry.log()));
    assert_eq!(report.uploaded().count(), 2);
    let tagged = reference(&registry, "private/app:v1");
    let manifest = good
        .fetch_manifest(&tagged)
        .await
        .expect("authenticated pull");
    assert_eq!(manifest.bytes, image.manifest);

    let wrong_password = "wrong-password-123";
    let bad = client_with(options(CredentialSource::anonymous().with_credentials(
        &registry.address(),
        Credentials::user_password(USER, wrong_password),
    )));
    let error = bad
        .push(&request, no_progress())
        .await
        .expect_err("wrong password");
    let chain = error_chain(&error);
    let PushError::Blob { source, .. } = &error else {
        panic!("expected a blob error: {chain}");
    };
    assert!(
        matches!(source, RequestError::Unauthorized { .. }),
        "{chain}"
    );
    assert!(chain.contains(&registry.address()), "{chain}");
    assert!(chain.contains("private/app"), "{chain}");
    assert!(chain.contains("refused the credentials"), "{chain}");
    // The first refused request is a `HEAD`, which has no body for the registry's error code.
    assert!(chain.contains("401 Unauthorized"), "{chain}");
    let debug = format!("{error:?}");
    assert!(
        !chain.contains(wrong_password) && !debug.contains(wrong_password),
        "{debug}"
    );

    let pull_error = bad
        .fetch_manifest(&tagged)
        .await
        .expect_err("wrong password");
    let pull_chain = error_chain(&pull_error);
    assert!(
        pull_chain.ends_with(&format!(
            "caused by: {} refused the credentials for repository:private/app:pull (401 \
             Unauthorized: UNAUTHORIZED: authentication required)",
            registry.address()
        )),
        "{pull_chain}"
    );
    assert!(
        matches!(
            &pull_error,
            ManifestError::Request {
                source: RequestError::Unauthorized { .. },
                ..
            }
        ),
        "{}",
        error_chain(&pull_error)
    );

    let anonymous = client();
    let error = anonymous
        .fetch_manifest(&tagged)
        .await
        .expect_err("no credentials");
    let chain = error_chain(&error);
    assert!(
        chain.contains(&format!(
            "{} requires authentication and no credentials are configured for it (401 Unauthorized",
            registry.address()
        )),
        "{chain}"
    );
}

#[tokio::test]
async fn credentials_come_from_the_docker_config_and_its_helper() {
    use std::os::unix::fs::PermissionsExt as _;

    let registry = TestRegistry::start_authenticated();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "helper", "amd64", &[5_000]);
    let repository = repository(&registry, "private/helper");
    let config_dir = tempfile::tempdir().expect("config dir");
    let config_path = Utf8PathBuf::from_path_buf(config_dir.path().to_owned()).expect("utf-8");

    // A credential store helper speaking the protocol, found through the helper search path.
    let helper = config_path.join("docker-credential-eidertest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread -r server || true\n[ \"$1\" = get ] || exit 2\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n"
        ),
    )
    .expect("write helper");
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(
        config_path.join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{}}}},"credsStore":"eidertest"}}"#,
            registry.address()
        ),
    )
    .expect("write config");
    let source =
        CredentialSource::docker_config(DockerConfigLocation::Directory(config_path.clone()))
            .with_helper_search_path(config_path.as_str());
    client_with(options(source))
        .push(&push_request(&repository, &image, &["v1"]), no_progress())
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));

    // An inline `auth` entry works the same way.
    let auth = base64_user_password(USER, PASSWORD);
    std::fs::write(
        config_path.join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
            registry.address()
        ),
    )
    .expect("write config");
    let source = CredentialSource::docker_config(DockerConfigLocation::Directory(config_path));
    let manifest = client_with(options(source))
        .fetch_manifest(&reference(&registry, "private/helper:v1"))
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    assert_eq!(manifest.bytes, image.manifest);
}

fn base64_user_password(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[tokio::test]
async fn an_interrupted_push_leaves_no_tag_and_completes_when_retried() {
    let registry = TestRegistry::start();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "interrupted", "amd64", &[400_000, 300_000, 200_000]);
    let repository = repository(&registry, "eider/interrupted");
    let request = push_request(&repository, &image, &["v1"]);
    let tagged = reference(&registry, "eider/interrupted:v1");
    let client = std::sync::Arc::new(client_with(ClientOptions {
        max_concurrent_uploads: 1,
        ..options(CredentialSource::anonymous())
    }));

    // Stop the push as soon as its first blob is confirmed.
    let (first_blob_done, first_blob_seen) = tokio::sync::oneshot::channel::<Digest>();
    let first_blob_done = std::sync::Mutex::new(Some(first_blob_done));
    let progress: eider_registry::PushProgress = std::sync::Arc::new(move |event: &PushEvent| {
        if let PushEvent::BlobUploaded { digest, .. } = event
            && let Some(sender) = first_blob_done.lock().expect("lock").take()
        {
            let _ignored = sender.send(digest.clone());
        }
    });
    let task = tokio::spawn({
        let client = std::sync::Arc::clone(&client);
        let request = request.clone();
        async move { client.push(&request, progress).await }
    });
    let first_digest = first_blob_seen.await.expect("the first blob is uploaded");
    task.abort();
    assert!(task.await.expect_err("aborted").is_cancelled());

    let error = client
        .fetch_manifest(&tagged)
        .await
        .expect_err("no tag after an interrupted push");
    let chain = error_chain(&error);
    assert!(chain.contains("404 Not Found: MANIFEST_UNKNOWN"), "{chain}");

    let events = EventLog::default();
    let report = client
        .push(&request, events.progress())
        .await
        .unwrap_or_else(|error| panic!("{}", error_chain(&error)));
    let first = report
        .blobs
        .iter()
        .find(|blob| blob.digest == first_digest)
        .expect("the first blob is in the report");
    assert_eq!(first.outcome, BlobOutcome::AlreadyPresent);
    assert!(report.uploaded().count() >= 1, "{report:?}");
    assert_eq!(
        client.resolve_digest(&tagged).await.expect("tagged now"),
        image.manifest_digest
    );
    // The manifest went last: after every blob was confirmed.
    let events = events.events();
    let manifest_at = events
        .iter()
        .position(|event| matches!(event, PushEvent::ManifestPushed { .. }))
        .expect("the manifest was pushed");
    let last_blob_at = events
        .iter()
        .rposition(|event| {
            matches!(
                event,
                PushEvent::BlobPresent { .. }
                    | PushEvent::BlobUploaded { .. }
                    | PushEvent::BlobMounted { .. }
            )
        })
        .expect("blob events");
    assert!(last_blob_at < manifest_at, "{events:?}");
}

#[tokio::test]
async fn corrupted_content_is_detected_on_pull() {
    let registry = TestRegistry::start();
    let (_store_dir, store) = temp_store();
    let image = make_image(&store, "corrupt", "amd64", &[60_000]);
    let repository = repository(&registry, "eider/corrupt");
    let client = client();
    client
        .push(&push_request(&repository, &image, &["v1"]), no_progress())
        .await
        .expect("push");

    // Same size, other bytes: only the digest can tell.
    let layer = &image.layers[0];
    let stored = registry.stored_blob(&layer.digest);
    let mut bytes = read(&stored);
    bytes[1000] ^= 0xff;
    std::fs::write(&stored, &bytes).expect("corrupt the stored layer");
    let (_target_dir, target) = temp_store();
    let error = client
        .fetch_blob(
            &repository,
            &layer.digest,
            Some(layer.size),
            &target,
            &|_| {},
        )
        .await
        .expect_err("a corrupted blob");
    assert!(
        matches!(error, BlobFetchError::DigestMismatch { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&layer.digest.to_string()) && message.contains(&repository.to_string()),
        "{message}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(target.join("blobs/sha256"))
        .expect("blob directory")
        .collect();
    assert!(
        leftovers.is_empty(),
        "nothing is left in the store: {leftovers:?}"
    );

    let stored_manifest = registry.stored_blob(&image.manifest_digest);
    // Still valid JSON, so the registry serves it; only the digest tells.
    let mut bytes = read(&stored_manifest);
    bytes.insert(1, b' ');
    std::fs::write(&stored_manifest, &bytes).expect("corrupt the stored manifest");
    for target in [
        format!("eider/corrupt@{}", image.manifest_digest),
        "eider/corrupt:v1".to_owned(),
    ] {
        let error = client
            .fetch_manifest(&reference(&registry, &target))
            .await
            .expect_err("a corrupted manifest");
        assert!(
            matches!(error, ManifestError::DigestMismatch { .. }),
            "{target}: {error:?}"
        );
    }
}

#[tokio::test]
async fn an_index_is_resolved_to_the_wanted_platform() {
    let registry = TestRegistry::start();
    let (_store_dir, store) = temp_store();
    let amd64 = make_image(&store, "multi-amd64", "amd64", &[3_000]);
    let arm64 = make_image(&store, "multi-arm64", "arm64", &[3_000]);
    let repository = repository(&registry, "eider/multi");
    let client = client();
    for image in [&amd64, &arm64] {
        client
            .push(&push_request(&repository, image, &[]), no_progress())
            .await
            .expect("push by digest");
    }
    let index = make_index(&[(&arm64, "arm64"), (&amd64, "amd64")]);
    let report = client
        .push(
            &PushRequest {
                repository: repository.clone(),
                blobs: Vec::new(),
                manifest: index.clone(),
                manifest_media_type: OCI_INDEX.to_owned(),
                tags: vec!["multi".to_owned()],
            },
            no_progress(),
        )
        .await
        .expect("push the index");

    let tagged = reference(&registry, "eider/multi:multi");
    assert_eq!(
        client.resolve_digest(&tagged).await.expect("resolve"),
        report.manifest_digest,
        "a tag resolves to the index's digest"
    );
    let pulled = client
        .fetch_image_manifest(&tagged, &Platform::linux_amd64())
        .await
        .expect("amd64 manifest");
    assert_eq!(pulled.manifest.digest, amd64.manifest_digest);
    assert_eq!(pulled.manifest.bytes, amd64.manifest);
    assert_eq!(
        pulled.index.as_ref().map(|index| &index.bytes),
        Some(&index)
    );
    let arm = client
        .fetch_image_manifest(&tagged, &Platform::parse("linux/arm64").expect("platform"))
        .await
        .expect("arm64 manifest");
    assert_eq!(arm.manifest.digest, arm64.manifest_digest);

    let error = client
        .fetch_image_manifest(&tagged, &Platform::parse("linux/s390x").expect("platform"))
        .await
        .expect_err("no such platform");
    assert_eq!(
        error.to_string(),
        format!(
            "image index {tagged} has no manifest for linux/s390x (it has: linux/arm64, linux/amd64)"
        )
    );
}

#[tokio::test]
async fn a_missing_manifest_error_names_the_reference_status_and_registry_code() {
    let registry = TestRegistry::start();
    let error = client()
        .fetch_manifest(&reference(&registry, "eider/absent:nope"))
        .await
        .expect_err("absent");
    let chain = error_chain(&error);
    assert_eq!(
        chain,
        format!(
            "cannot fetch manifest {0}/eider/absent:nope\ncaused by: GET \
             http://{0}/v2/eider/absent/manifests/nope answered 404 Not Found: MANIFEST_UNKNOWN: \
             manifest unknown",
            registry.address()
        )
    );
}
