//! Source images published to the test registries of `scripts/test-env.sh`, read back with
//! `skopeo` and `umoci`, which owe nothing to eider.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use camino::{Utf8Path, Utf8PathBuf};
use eider_error_chain::chain_text;
use eider_oci::{Descriptor, ImageIndex, ParsedManifest, Platform, media_type};
use eider_package::{
    NoObserver, Observer, RegistryAccess, SOURCE_PATH_IN_IMAGE, SourceImage, SourceImageError,
    SourceImageRequest, publish_source_image,
};
use eider_registry::{
    BlobSource, ClientOptions, CredentialSource, PushRequest, Reference, RegistryClient,
    Repository, no_progress,
};
use tempfile::TempDir;

/// Where `scripts/test-env.sh` records the test registries' addresses (`KEY=VALUE` lines).
const REGISTRIES_FILE: &str = "/var/lib/eider-test/registries.env";

/// A setting of the test environment: the variable, else `REGISTRIES_FILE`'s line.
fn test_environment(key: &str) -> String {
    if let Ok(value) = std::env::var(key) {
        return value;
    }
    let content = std::fs::read_to_string(REGISTRIES_FILE)
        .unwrap_or_else(|error| panic!("{REGISTRIES_FILE}: {error} (run scripts/test-env.sh)"));
    content
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("{REGISTRIES_FILE} has no {key} (run scripts/test-env.sh)"))
        .to_owned()
}

fn plain_registry() -> String {
    test_environment("EIDER_TEST_PLAIN_REGISTRY")
}

/// busybox-static, one platform (linux/amd64), in the open test registry.
fn busybox() -> Reference {
    Reference::parse(&format!("{}/eider-test/busybox:latest", plain_registry())).expect("reference")
}

/// A repository name no other test (or run) uses.
fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("eider-test/{prefix}-{}-{nanos}", std::process::id())
}

fn observer() -> Arc<dyn Observer> {
    Arc::new(NoObserver)
}

/// A project tree: files, a subdirectory, an executable, a symlink, an ignored file and the
/// secrets file.
struct Tree {
    directory: TempDir,
    cache: TempDir,
}

impl Tree {
    fn new() -> Self {
        let tree = Self {
            directory: tempfile::tempdir().expect("tree"),
            cache: tempfile::tempdir().expect("cache"),
        };
        tree.write("hello.txt", "hello from the tree\n");
        tree.write("sub/dir/data.txt", "nested data\n");
        tree.write("run.sh", "#!/bin/sh\necho run\n");
        std::fs::set_permissions(
            tree.path().join("run.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
        std::os::unix::fs::symlink("hello.txt", tree.path().join("link")).expect("symlink");
        tree.write(".gitignore", "ignored.log\n");
        tree.write("ignored.log", "build noise\n");
        tree.write("Drakesecrets.yaml", "TOKEN: never-in-a-source-image-5521\n");
        tree
    }

    fn path(&self) -> &Utf8Path {
        Utf8Path::from_path(self.directory.path()).expect("UTF-8 temporary directory")
    }

    fn write(&self, relative: &str, content: &str) {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent directory");
        }
        std::fs::write(&path, content).expect("write");
    }

    fn request(&self, base: Reference, repository: &str) -> SourceImageRequest {
        let repository = Repository::new(base.registry(), repository).expect("repository");
        self.request_to(base, repository)
    }

    fn request_to(&self, base: Reference, repository: Repository) -> SourceImageRequest {
        SourceImageRequest {
            cache_directory: Some(
                Utf8PathBuf::from_path_buf(self.cache.path().to_owned()).expect("UTF-8 cache"),
            ),
            ..SourceImageRequest::new(self.path().to_owned(), base, repository)
        }
    }
}

async fn publish(request: &SourceImageRequest) -> SourceImage {
    publish_source_image(request, &observer())
        .await
        .unwrap_or_else(|error| panic!("publish: {}", chain_text(&error)))
}

/// The size of busybox's one layer, as its manifest says.
async fn busybox_layer_size() -> u64 {
    let manifest = client()
        .fetch_manifest(&busybox())
        .await
        .expect("busybox manifest");
    let ParsedManifest::Image(manifest) =
        eider_oci::parse_manifest(&manifest.bytes, Some(&manifest.media_type)).expect("parses")
    else {
        panic!("busybox is a single image");
    };
    manifest.layers.iter().map(|layer| layer.size).sum()
}

fn client() -> RegistryClient {
    RegistryClient::new(ClientOptions {
        credentials: CredentialSource::anonymous(),
        ..ClientOptions::default()
    })
    .expect("client")
}

fn run(command: &mut Command) {
    let output = command.output().expect("run the command");
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The root file system of `image` (pinned), copied with skopeo and unpacked with umoci.
fn unpack(image: &Reference, credentials: Option<&str>, into: &Path) -> std::path::PathBuf {
    let layout = into.join("layout");
    let rootfs = into.join("rootfs");
    let mut copy = Command::new("skopeo");
    copy.args(["copy", "--quiet", "--src-tls-verify=false"]);
    if let Some(credentials) = credentials {
        copy.args(["--src-creds", credentials]);
    }
    run(copy
        .arg(format!("docker://{image}"))
        .arg(format!("oci:{}:image", layout.display())));
    run(Command::new("umoci")
        .args(["raw", "unpack", "--rootless", "--image"])
        .arg(format!("{}:image", layout.display()))
        .arg(&rootfs));
    rootfs
}

/// The tree's files are in the image with their content and modes; what packaging leaves out
/// is not; the base's files are still there.
fn assert_tree_in(rootfs: &Path) {
    assert!(
        rootfs.join("bin/busybox").is_file(),
        "the base's busybox is in the image"
    );
    let source = rootfs.join(SOURCE_PATH_IN_IMAGE.trim_start_matches('/'));
    let read = |relative: &str| {
        std::fs::read_to_string(source.join(relative))
            .unwrap_or_else(|error| panic!("{relative}: {error}"))
    };
    assert_eq!(read("hello.txt"), "hello from the tree\n");
    assert_eq!(read("sub/dir/data.txt"), "nested data\n");
    assert_eq!(read("run.sh"), "#!/bin/sh\necho run\n");
    let mode = |relative: &str| {
        std::fs::symlink_metadata(source.join(relative))
            .unwrap_or_else(|error| panic!("{relative}: {error}"))
            .permissions()
            .mode()
    };
    assert_eq!(mode("run.sh") & 0o111, 0o111, "run.sh stays executable");
    assert_eq!(mode("hello.txt") & 0o111, 0, "hello.txt is not executable");
    assert_eq!(
        std::fs::read_link(source.join("link")).expect("link is a symlink"),
        Path::new("hello.txt")
    );
    assert!(
        !source.join("Drakesecrets.yaml").exists(),
        "the secrets file is never in the image"
    );
    assert!(
        !source.join("ignored.log").exists(),
        "ignored files are left out"
    );
}

#[tokio::test]
async fn the_tree_is_published_on_busybox_and_an_unchanged_tree_sends_nothing() {
    let tree = Tree::new();
    let request = tree.request(busybox(), &unique("source-image"));

    let first = publish(&request).await;
    assert_eq!(first.reference.repository(), &request.repository);
    let digest = first.reference.digest().expect("pinned by digest").clone();
    assert_eq!(first.tag, format!("source-{}", &digest.hex()[..16]));
    assert_eq!(first.platforms, [Platform::linux_amd64()]);
    assert!(first.uploaded_bytes > 0, "the source layer was sent");
    assert!(
        first.uploaded_bytes < busybox_layer_size().await,
        "busybox's layer is mounted, not sent: {} bytes sent",
        first.uploaded_bytes
    );
    let tagged = Reference::with_tag(request.repository.clone(), &first.tag).expect("tag");
    assert_eq!(
        client().resolve_digest(&tagged).await.expect("tagged"),
        digest
    );

    let unpacked = tempfile::tempdir().expect("unpack directory");
    assert_tree_in(&unpack(&first.reference, None, unpacked.path()));

    let again = publish(&request).await;
    assert_eq!(again.reference, first.reference, "same tree, same digest");
    assert_eq!(again.uploaded_bytes, 0);
    assert_eq!(again.uploaded_blobs, 0);

    tree.write("sub/dir/data.txt", "changed data\n");
    let changed = publish(&request).await;
    assert_ne!(
        changed.reference, first.reference,
        "another tree, another digest"
    );
    assert_ne!(changed.tag, first.tag);
    assert!(changed.uploaded_bytes > 0);
    assert!(changed.uploaded_bytes < busybox_layer_size().await);
}

#[tokio::test]
async fn the_same_tree_gives_the_same_digest_from_another_cache() {
    let tree = Tree::new();
    let repository = unique("source-image-cache");
    let first = publish(&tree.request(busybox(), &repository)).await;
    let other_cache = tempfile::tempdir().expect("cache");
    let mut request = tree.request(busybox(), &repository);
    request.cache_directory =
        Some(Utf8PathBuf::from_path_buf(other_cache.path().to_owned()).expect("UTF-8"));
    let second = publish(&request).await;
    assert_eq!(second.reference, first.reference);
    assert_eq!(second.uploaded_bytes, 0);
}

#[tokio::test]
async fn a_missing_base_image_is_named() {
    let tree = Tree::new();
    let missing = Reference::parse(&format!(
        "{}/{}:latest",
        plain_registry(),
        unique("no-such-base")
    ))
    .expect("reference");
    let request = tree.request(missing.clone(), &unique("source-image-missing"));
    let error = publish_source_image(&request, &observer())
        .await
        .expect_err("no such base");
    assert!(
        matches!(&error, SourceImageError::BaseNotFound { reference, .. } if *reference == missing.to_string()),
        "{error:?}"
    );
    assert!(error.to_string().contains(&missing.to_string()), "{error}");
}

#[tokio::test]
async fn a_secret_value_in_the_tree_stops_the_publish() {
    let tree = Tree::new();
    tree.write(".env", "TOKEN=never-in-a-source-image-5521\n");
    let request = tree.request(busybox(), &unique("source-image-secret"));
    let error = publish_source_image(&request, &observer())
        .await
        .expect_err("the tree holds a secret");
    assert!(
        matches!(error, SourceImageError::Secrets(_)),
        "{}",
        chain_text(&error)
    );
    assert!(!chain_text(&error).contains("never-in-a-source-image-5521"));
}

/// An index of busybox for two platforms (the same image twice: the registry does not look)
/// and an attestation, in a repository of its own on the open registry.
async fn index_base() -> (Reference, Descriptor) {
    let client = client();
    let busybox = busybox();
    let image = client.fetch_manifest(&busybox).await.expect("busybox");
    let ParsedManifest::Image(manifest) =
        eider_oci::parse_manifest(&image.bytes, Some(&image.media_type)).expect("parses")
    else {
        panic!("busybox is a single image");
    };
    let repository = Repository::new(busybox.registry(), &unique("index-base")).expect("repo");
    // Every blob is mounted from busybox's repository: no file is needed.
    let nowhere = Utf8Path::new("/nonexistent");
    let blobs = std::iter::once(&manifest.config)
        .chain(&manifest.layers)
        .map(|blob| {
            BlobSource::in_store(nowhere, &blob.digest, blob.size)
                .with_mount_from(busybox.repository().name())
        })
        .collect();
    client
        .push(
            &PushRequest {
                repository: repository.clone(),
                blobs,
                manifest: image.bytes.clone(),
                manifest_media_type: image.media_type.clone(),
                tags: Vec::new(),
            },
            no_progress(),
        )
        .await
        .expect("push busybox");
    let entry = |platform: &str| {
        let mut entry = Descriptor::new(
            image.media_type.clone(),
            image.digest.clone(),
            image.bytes.len() as u64,
        );
        entry.platform = Some(Platform::parse(platform).expect("platform"));
        entry
    };
    let mut attestation = entry("unknown/unknown");
    attestation.annotations.insert(
        "vnd.docker.reference.type".to_owned(),
        "attestation-manifest".to_owned(),
    );
    let mut index = ImageIndex::new();
    index.manifests = vec![entry("linux/amd64"), entry("linux/arm64/v8"), attestation];
    let bytes = serde_json::to_vec(&index).expect("index");
    client
        .push(
            &PushRequest {
                repository: repository.clone(),
                blobs: Vec::new(),
                manifest: bytes.into(),
                manifest_media_type: media_type::OCI_INDEX.to_owned(),
                tags: vec!["multi".to_owned()],
            },
            no_progress(),
        )
        .await
        .expect("push the index");
    let reference = Reference::with_tag(repository, "multi").expect("reference");
    (reference, entry("linux/amd64"))
}

#[tokio::test]
async fn an_index_base_gives_an_index_with_one_image_per_platform() {
    let (base, _) = index_base().await;
    let tree = Tree::new();
    let request = tree.request(base, &unique("source-image-index"));
    let published = publish(&request).await;
    let amd64 = Platform::linux_amd64();
    let arm64 = Platform::parse("linux/arm64/v8").expect("platform");
    assert_eq!(published.platforms, [amd64.clone(), arm64.clone()]);

    let client = client();
    let top = client
        .fetch_manifest(&published.reference)
        .await
        .expect("the index");
    assert_eq!(top.media_type, media_type::OCI_INDEX);
    let ParsedManifest::Index(index) =
        eider_oci::parse_manifest(&top.bytes, Some(&top.media_type)).expect("parses")
    else {
        panic!("an index base gives an index");
    };
    let platforms: Vec<_> = index
        .manifests
        .iter()
        .map(|entry| entry.platform.clone())
        .collect();
    assert_eq!(platforms, [Some(amd64), Some(arm64)], "no attestation");
    for entry in &index.manifests {
        let child = client
            .fetch_manifest(&published.reference.pinned(entry.digest.clone()))
            .await
            .expect("each image is in the repository");
        assert_eq!(child.media_type, media_type::OCI_MANIFEST);
    }

    let unpacked = tempfile::tempdir().expect("unpack directory");
    assert_tree_in(&unpack(&published.reference, None, unpacked.path()));

    let again = publish(&request).await;
    assert_eq!(again.reference, published.reference);
    assert_eq!(again.uploaded_bytes, 0);
}

#[tokio::test]
async fn a_base_from_another_registry_is_copied_with_the_targets_credentials() {
    let registry = test_environment("EIDER_TEST_AUTH_REGISTRY");
    let user = test_environment("EIDER_TEST_AUTH_REGISTRY_USER");
    let password = test_environment("EIDER_TEST_AUTH_REGISTRY_PASSWORD");
    let tree = Tree::new();
    let repository = Repository::new(&registry, &unique("source-image-auth")).expect("repo");
    let mut request = tree.request_to(busybox(), repository);

    request.registry = RegistryAccess {
        credentials: vec![format!("{user}:not-{password}")],
        ..RegistryAccess::default()
    };
    let refused = publish_source_image(&request, &observer())
        .await
        .expect_err("wrong password");
    let shown = chain_text(&refused);
    assert!(shown.contains(&registry), "{shown}");
    assert!(!shown.contains(&password), "{shown}");

    // Without a host, the credentials go to the target only: busybox's registry asks for none.
    request.registry = RegistryAccess {
        credentials: vec![format!("{user}:{password}")],
        ..RegistryAccess::default()
    };
    let published = publish(&request).await;
    assert!(
        published.uploaded_bytes > busybox_layer_size().await,
        "busybox's layer is copied across: {} bytes sent",
        published.uploaded_bytes
    );
    let unpacked = tempfile::tempdir().expect("unpack directory");
    assert_tree_in(&unpack(
        &published.reference,
        Some(&format!("{user}:{password}")),
        unpacked.path(),
    ));
    let again = publish(&request).await;
    assert_eq!(again.reference, published.reference);
    assert_eq!(again.uploaded_bytes, 0);
}
