//! OCI image layouts: written images are what skopeo and umoci expect, tags replace each other,
//! a layout reads back as a base image, and verification catches damage.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use eider_oci::image::ImageConfiguration;
use eider_oci::{
    AssembledImage, BaseImage, BlobStore, ConfigChanges, Descriptor, Finding, ImageIndex,
    LayerSpec, LayoutError, ManifestFormat, NewLayer, OciLayout, Platform, VerifiedBlobs,
    VerifyOptions, assemble, build_layer, media_type, verify_image, verify_image_reusing,
};
use support::{Scratch, has_tool, run, skip, temporary_store, write};

const EPOCH: u64 = 1_700_000_000;

/// An image of one source layer on an empty base, its layer in `store`.
fn source_image(store: &BlobStore, base: &BaseImage, content: &str) -> AssembledImage {
    let tree = Scratch::new();
    write(&tree.path, "hello.txt", content);
    write(&tree.path, "bin/tool", "#!/bin/sh\n");
    let layer = build_layer(
        &LayerSpec::whole_tree(tree.path.clone(), "/src").with_epoch(EPOCH),
        store,
    )
    .expect("layer builds");
    let changes = ConfigChanges {
        entrypoint: Some(vec!["/src/bin/tool".to_owned()]),
        env: vec![("GREETING".to_owned(), "hello".to_owned())],
        working_dir: Some("/src".to_owned()),
        labels: BTreeMap::from([("dev.eider.job".to_owned(), "greet".to_owned())]),
        annotations: BTreeMap::from([(
            "org.opencontainers.image.title".to_owned(),
            "greet".to_owned(),
        )]),
        ..ConfigChanges::default()
    };
    assemble(
        base,
        &[NewLayer {
            blob: layer.blob,
            created_by: "eider: source at /src".to_owned(),
        }],
        &changes,
        EPOCH,
        ManifestFormat::Oci,
    )
    .expect("assembles")
}

fn scratch_base() -> BaseImage {
    BaseImage::scratch(&Platform::linux_amd64())
}

#[test]
fn a_written_layout_has_the_marker_the_blobs_and_a_tagged_index() {
    let (_store_directory, store) = temporary_store();
    let image = source_image(&store, &scratch_base(), "hello");
    let directory = Scratch::new();
    let layout = OciLayout::create(directory.join("image")).expect("layout");
    layout
        .write_image(&image, Some("v1"), &[&store])
        .expect("written");

    assert_eq!(
        fs_err::read_to_string(directory.join("image/oci-layout")).expect("marker"),
        r#"{"imageLayoutVersion":"1.0.0"}"#
    );
    let index: ImageIndex =
        serde_json::from_slice(&fs_err::read(directory.join("image/index.json")).expect("index"))
            .expect("parses");
    assert_eq!(index.manifests.len(), 1);
    assert_eq!(index.manifests[0].digest, *image.digest());
    assert_eq!(
        index.manifests[0].annotations["org.opencontainers.image.ref.name"],
        "v1"
    );
    for digest in image
        .layers
        .iter()
        .map(|layer| &layer.digest)
        .chain([image.digest(), &image.config_descriptor.digest])
    {
        assert!(
            layout.store().blob_path(digest).is_file(),
            "blob {digest} is in the layout"
        );
    }
    assert!(
        verify_image(
            layout.store(),
            image.digest(),
            &VerifyOptions::default().with_diff_ids(true)
        )
        .is_empty()
    );
}

#[test]
fn tags_replace_their_own_entry_only() {
    let (_store_directory, store) = temporary_store();
    let first = source_image(&store, &scratch_base(), "one");
    let second = source_image(&store, &scratch_base(), "two");
    let directory = Scratch::new();
    let layout = OciLayout::create(directory.path.clone()).expect("layout");
    layout
        .write_image(&first, Some("latest"), &[&store])
        .expect("written");
    layout
        .write_image(&first, Some("v1"), &[&store])
        .expect("written");
    layout
        .write_image(&second, Some("latest"), &[&store])
        .expect("written");
    assert_eq!(layout.tags().expect("tags"), ["v1", "latest"]);
    let resolved = layout
        .resolve(Some("latest"), &Platform::linux_amd64())
        .expect("resolves");
    assert_eq!(resolved.manifest_descriptor.digest, *second.digest());
    let resolved = layout
        .resolve(Some("v1"), &Platform::linux_amd64())
        .expect("resolves");
    assert_eq!(resolved.manifest_descriptor.digest, *first.digest());
    assert!(matches!(
        layout.resolve(None, &Platform::linux_amd64()),
        Err(LayoutError::Ambiguous { count: 2, .. })
    ));
    let missing = layout
        .resolve(Some("v2"), &Platform::linux_amd64())
        .expect_err("no such tag");
    assert!(
        missing.to_string().contains("tags: v1, latest"),
        "{missing}"
    );
}

#[test]
fn a_missing_blob_leaves_the_previous_index_in_place() {
    let (_store_directory, store) = temporary_store();
    let first = source_image(&store, &scratch_base(), "one");
    let directory = Scratch::new();
    let layout = OciLayout::create(directory.path.clone()).expect("layout");
    layout
        .write_image(&first, Some("v1"), &[&store])
        .expect("written");
    let index_before = fs_err::read(directory.join("index.json")).expect("index");

    let (_other_directory, other_store) = temporary_store();
    let second = source_image(&other_store, &scratch_base(), "two");
    let error = layout
        .write_image(&second, Some("v1"), &[&store])
        .expect_err("the layer is in no store given");
    assert!(
        error.to_string().contains("none of the blob stores"),
        "{error}"
    );
    assert_eq!(
        fs_err::read(directory.join("index.json")).expect("index"),
        index_before,
        "the index still names only blobs that are there"
    );
}

#[test]
fn a_layout_is_a_base_image_source_and_its_layers_are_reused() {
    let (_store_directory, store) = temporary_store();
    let base_image = source_image(&store, &scratch_base(), "base");
    let base_directory = Scratch::new();
    let base_layout = OciLayout::create(base_directory.path.clone()).expect("layout");
    base_layout
        .write_image(&base_image, None, &[&store])
        .expect("written");

    let resolved = base_layout
        .resolve(None, &Platform::linux_amd64())
        .expect("the only image resolves without a tag");
    assert_eq!(resolved.manifest_descriptor.digest, *base_image.digest());
    let on_top = source_image(&store, &resolved.base, "app");
    assert_eq!(on_top.layers.len(), 2);
    assert_eq!(
        on_top.layers[0], base_image.layers[0],
        "the base layer is listed as is"
    );
    let config: ImageConfiguration = serde_json::from_slice(&on_top.config).expect("config");
    assert_eq!(config.rootfs.diff_ids.len(), 2);
    assert_eq!(config.history.len(), 2);

    let directory = Scratch::new();
    let layout = OciLayout::create(directory.path.clone()).expect("layout");
    layout
        .write_image(&on_top, Some("app"), &[base_layout.store(), &store])
        .expect("written");
    assert!(
        verify_image(
            layout.store(),
            on_top.digest(),
            &VerifyOptions::default().with_diff_ids(true)
        )
        .is_empty()
    );
}

#[test]
fn an_index_in_a_layout_resolves_to_the_platform_asked_for() {
    let (_store_directory, store) = temporary_store();
    let image = source_image(&store, &scratch_base(), "multi");
    let directory = Scratch::new();
    let layout = OciLayout::create(directory.path.clone()).expect("layout");
    layout
        .write_image(&image, None, &[&store])
        .expect("written");

    let mut amd64 = image.manifest_descriptor.clone();
    amd64.platform = Some(Platform::linux_amd64());
    let mut arm64 = Descriptor::new(
        media_type::OCI_MANIFEST,
        eider_oci::Digest::of(b"elsewhere"),
        9,
    );
    arm64.platform = Some(Platform::new("linux", "arm64"));
    let platform_index = ImageIndex {
        manifests: vec![arm64, amd64],
        ..ImageIndex::new()
    };
    let (digest, size) = layout
        .store()
        .write(&serde_json::to_vec(&platform_index).expect("serializes"))
        .expect("stored");
    let top = ImageIndex {
        manifests: vec![Descriptor {
            annotations: BTreeMap::from([(
                eider_oci::REF_NAME_ANNOTATION.to_owned(),
                "multi".to_owned(),
            )]),
            ..Descriptor::new(media_type::OCI_INDEX, digest, size)
        }],
        ..ImageIndex::new()
    };
    fs_err::write(
        directory.join("index.json"),
        serde_json::to_vec(&top).expect("serializes"),
    )
    .expect("index");

    let resolved = layout
        .resolve(Some("multi"), &Platform::linux_amd64())
        .expect("resolves through the index");
    assert_eq!(resolved.manifest_descriptor.digest, *image.digest());
    let error = layout
        .resolve(Some("multi"), &Platform::new("linux", "s390x"))
        .expect_err("no such platform");
    assert!(
        error.to_string().contains("linux/arm64, linux/amd64"),
        "{error}"
    );
}

#[test]
fn verification_reports_every_damaged_blob() {
    let (_store_directory, store) = temporary_store();
    let image = source_image(&store, &scratch_base(), "to be damaged");
    let directory = Scratch::new();
    let layout = OciLayout::create(directory.path.clone()).expect("layout");
    layout
        .write_image(&image, Some("v1"), &[&store])
        .expect("written");
    let blobs = layout.store();
    let options = VerifyOptions::default().with_diff_ids(true);
    assert_eq!(verify_image(blobs, image.digest(), &options), []);

    // Same size, one byte flipped: only the digest tells.
    let layer = &image.layers[0];
    let path = blobs.blob_path(&layer.digest);
    let mut bytes = fs_err::read(&path).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs_err::remove_file(&path).expect("unlink (the blob may be a hard link)");
    fs_err::write(&path, &bytes).expect("corrupt");
    fs_err::remove_file(blobs.blob_path(&image.config_descriptor.digest)).expect("remove");

    let findings = verify_image(blobs, image.digest(), &options);
    assert!(
        findings.iter().any(
            |finding| matches!(finding, Finding::Digest { digest, .. } if digest == &layer.digest)
        ),
        "{findings:#?}"
    );
    assert!(
        findings
            .iter()
            .any(|finding| matches!(finding, Finding::Missing { digest, .. } if digest == &image.config_descriptor.digest)),
        "{findings:#?}"
    );
    let text: Vec<String> = findings.iter().map(ToString::to_string).collect();
    assert!(
        text.iter().any(|line| line.contains("is corrupt")),
        "{text:?}"
    );

    let truncated = &bytes[..bytes.len() - 10];
    fs_err::write(&path, truncated).expect("truncate");
    let findings = verify_image(blobs, image.digest(), &options);
    assert!(
        findings
            .iter()
            .any(|finding| matches!(finding, Finding::Size { .. })),
        "{findings:#?}"
    );
}

#[test]
fn a_layer_found_whole_before_is_checked_again_once_written_to() {
    use std::io::{Seek as _, Write as _};

    let (_store_directory, store) = temporary_store();
    let image = source_image(&store, &scratch_base(), "reused");
    let directory = Scratch::new();
    let layout = OciLayout::create(directory.path.clone()).expect("layout");
    layout
        .write_image(&image, Some("v1"), &[&store])
        .expect("written");
    let blobs = layout.store();
    let options = VerifyOptions::default().with_diff_ids(true);
    let cache = Scratch::new();
    let record = cache.path.join("verified-blobs.json");
    // Not recorded while the files are younger than the file system clock's coarsest tick.
    let mut verified = VerifiedBlobs::in_directory(&cache.path);
    assert_eq!(
        verify_image_reusing(blobs, image.digest(), &options, &mut verified),
        []
    );
    verified.save();
    assert!(!record.exists());
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    let mut verified = VerifiedBlobs::in_directory(&cache.path);
    assert_eq!(
        verify_image_reusing(blobs, image.digest(), &options, &mut verified),
        []
    );
    verified.save();
    let layer = &image.layers[0];
    let recorded = fs_err::read_to_string(&record).expect("the record is written");
    assert!(recorded.contains(&layer.digest.to_string()), "{recorded}");
    assert!(
        !recorded.contains(&image.config_descriptor.digest.to_string()),
        "only layers are recorded: {recorded}"
    );

    // Written in place, same size, its modification time set back: its change time tells.
    let path = blobs.blob_path(&layer.digest);
    let modified = fs_err::metadata(&path)
        .and_then(|metadata| metadata.modified())
        .expect("modification time");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    let bytes = fs_err::read(&path).expect("read");
    let middle = bytes.len() / 2;
    file.seek(std::io::SeekFrom::Start(middle as u64))
        .expect("seek");
    file.write_all(&[bytes[middle] ^ 0xff]).expect("write");
    file.set_modified(modified).expect("set the time back");
    drop(file);
    let mut verified = VerifiedBlobs::in_directory(&cache.path);
    let findings = verify_image_reusing(blobs, image.digest(), &options, &mut verified);
    assert!(
        findings.iter().any(
            |finding| matches!(finding, Finding::Digest { digest, .. } if digest == &layer.digest)
        ),
        "{findings:#?}"
    );
}

#[test]
fn verification_catches_a_layer_that_is_not_its_diff_id() {
    let (_store_directory, store) = temporary_store();
    let image = source_image(&store, &scratch_base(), "diff");
    // A manifest whose config claims another diffID for the layer.
    let mut config: ImageConfiguration = serde_json::from_slice(&image.config).expect("config");
    config.rootfs.diff_ids[0] = eider_oci::Digest::of(b"another tar");
    let config_bytes = serde_json::to_vec(&config).expect("serializes");
    let (config_digest, config_size) = store.write(&config_bytes).expect("stored");
    let manifest = eider_oci::ImageManifest {
        schema_version: 2,
        media_type: Some(media_type::OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: Descriptor::new(media_type::OCI_CONFIG, config_digest, config_size),
        layers: image.layers.clone(),
        subject: None,
        annotations: BTreeMap::new(),
    };
    let (manifest_digest, _) = store
        .write(&serde_json::to_vec(&manifest).expect("serializes"))
        .expect("stored");
    assert_eq!(
        verify_image(&store, &manifest_digest, &VerifyOptions::default()),
        [],
        "without decompressing, nothing is wrong"
    );
    let findings = verify_image(
        &store,
        &manifest_digest,
        &VerifyOptions::default().with_diff_ids(true),
    );
    assert!(
        matches!(findings.as_slice(), [Finding::DiffId { .. }]),
        "{findings:#?}"
    );
}

#[test]
fn skopeo_inspects_the_layout() {
    if !has_tool("skopeo", "--version") {
        skip("skopeo is not installed");
        return;
    }
    let (_store_directory, store) = temporary_store();
    let image = source_image(&store, &scratch_base(), "inspected");
    let directory = Scratch::new();
    let layout = OciLayout::create(directory.path.clone()).expect("layout");
    layout
        .write_image(&image, Some("v1"), &[&store])
        .expect("written");
    let output = run(Command::new("skopeo")
        .arg("inspect")
        .arg(format!("oci:{}:v1", directory.path)));
    let inspected: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(inspected["Digest"], image.digest().to_string());
    assert_eq!(inspected["Architecture"], "amd64");
    assert_eq!(inspected["Os"], "linux");
    assert_eq!(inspected["Created"], "2023-11-14T22:13:20Z");
    assert_eq!(inspected["Labels"]["dev.eider.job"], "greet");
    assert_eq!(inspected["Labels"]["dev.eider.normalization"], "1");
    assert_eq!(inspected["Layers"][0], image.layers[0].digest.to_string());
    let raw = run(Command::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!("oci:{}:v1", directory.path)));
    assert_eq!(
        raw.stdout, image.manifest,
        "the manifest is served byte for byte"
    );

    // skopeo can also copy it to another layout, checking every digest on the way.
    let copy = Scratch::new();
    run(Command::new("skopeo")
        .arg("copy")
        .arg(format!("oci:{}:v1", directory.path))
        .arg(format!("oci:{}:copied", copy.path)));
}

#[test]
fn umoci_unpacks_the_layout() {
    if !has_tool("umoci", "--version") {
        skip("umoci is not installed");
        return;
    }
    let (_store_directory, store) = temporary_store();
    let base_image = source_image(&store, &scratch_base(), "from the base");
    let base = BaseImage::parse(&base_image.manifest, &base_image.config).expect("base");
    let image = source_image(&store, &base, "unpacked");
    let directory = Scratch::new();
    let layout = OciLayout::create(directory.join("layout")).expect("layout");
    layout
        .write_image(&image, Some("v1"), &[&store])
        .expect("written");
    let bundle = directory.join("bundle");
    run(Command::new("umoci")
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:v1", directory.join("layout")))
        .arg(&bundle));
    assert_eq!(
        fs_err::read_to_string(bundle.join("rootfs/src/hello.txt")).expect("unpacked"),
        "unpacked",
        "the top layer wins over the base"
    );
    assert!(bundle.join("rootfs/src/bin/tool").is_file());
    let runtime_config: serde_json::Value =
        serde_json::from_slice(&fs_err::read(bundle.join("config.json")).expect("config"))
            .expect("JSON");
    assert_eq!(runtime_config["process"]["cwd"], "/src");
    assert_eq!(runtime_config["process"]["args"][0], "/src/bin/tool");
    let env = runtime_config["process"]["env"].to_string();
    assert!(env.contains("GREETING=hello"), "{env}");
}
