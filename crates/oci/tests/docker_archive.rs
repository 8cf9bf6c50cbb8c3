//! Docker archives: the layout `docker load` reads, layers decompressed and checked against their
//! diffIDs, and (when an engine answers) loaded and run for real.

mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use eider_oci::{
    AssembledImage, BaseImage, BlobStore, Compression, ConfigChanges, Digest, DockerArchiveError,
    LayerSpec, ManifestFormat, NewLayer, Platform, assemble, build_layer, write_docker_archive,
};
use support::{Scratch, has_tool, run, skip, tar_entries, temporary_store, write};

const EPOCH: u64 = 1_700_000_000;
const BUSYBOX: &str = "/bin/busybox";

/// A runnable image when busybox is installed (its static binary as the first layer), else an
/// image of the source layer only.
fn image(store: &BlobStore, compression: Compression) -> AssembledImage {
    let mut layers = Vec::new();
    let busybox = camino::Utf8Path::new(BUSYBOX);
    if busybox.is_file() {
        let tools = Scratch::new();
        fs_err::create_dir_all(tools.join("bin")).expect("mkdir");
        fs_err::copy(busybox, tools.join("bin/busybox")).expect("copy busybox");
        let layer = build_layer(
            &LayerSpec::whole_tree(tools.path.clone(), "/")
                .with_epoch(EPOCH)
                .with_compression(compression),
            store,
        )
        .expect("tools layer");
        layers.push(NewLayer {
            blob: layer.blob,
            created_by: "test: busybox".to_owned(),
        });
    }
    let source = Scratch::new();
    write(&source.path, "hello.txt", "hello from the package\n");
    let layer = build_layer(
        &LayerSpec::whole_tree(source.path.clone(), "/src")
            .with_epoch(EPOCH)
            .with_compression(compression),
        store,
    )
    .expect("source layer");
    layers.push(NewLayer {
        blob: layer.blob,
        created_by: "eider: source at /src".to_owned(),
    });
    let changes = ConfigChanges {
        entrypoint: Some(vec![BUSYBOX.to_owned(), "cat".to_owned()]),
        cmd: Some(vec!["/src/hello.txt".to_owned()]),
        labels: BTreeMap::from([("dev.eider.job".to_owned(), "hello".to_owned())]),
        ..ConfigChanges::default()
    };
    assemble(
        &BaseImage::scratch(&Platform::linux_amd64()),
        &layers,
        &changes,
        EPOCH,
        ManifestFormat::Oci,
    )
    .expect("assembles")
}

#[test]
fn the_archive_holds_manifest_config_and_plain_tar_layers() {
    for compression in [Compression::Gzip, Compression::Zstd] {
        let (_store_directory, store) = temporary_store();
        let image = image(&store, compression);
        let output = Scratch::new();
        let archive = output.join("image.tar");
        let tags = vec!["eider-test/archive:v1".to_owned()];
        write_docker_archive(&archive, &image.config, &image.layers, &tags, &[&store])
            .expect("written");

        let entries = tar_entries(&fs_err::read(&archive).expect("read archive"));
        let find = |path: &str| {
            entries
                .iter()
                .find(|entry| entry.path == path)
                .unwrap_or_else(|| panic!("{path} is in the archive"))
        };
        let manifest: serde_json::Value =
            serde_json::from_slice(&find("manifest.json").content).expect("JSON");
        let config_path = format!("blobs/sha256/{}", image.config_descriptor.digest.hex());
        assert_eq!(manifest[0]["Config"], config_path);
        assert_eq!(manifest[0]["RepoTags"][0], "eider-test/archive:v1");
        assert_eq!(find(&config_path).content, image.config);
        let layers = manifest[0]["Layers"].as_array().expect("layers");
        assert_eq!(layers.len(), image.diff_ids.len());
        for (layer, diff_id) in layers.iter().zip(&image.diff_ids) {
            let path = layer.as_str().expect("path");
            let content = &find(path).content;
            assert_eq!(
                &Digest::of(content),
                diff_id,
                "{compression}: {path} is the plain tar"
            );
            assert!(!tar_entries(content).is_empty());
        }
        assert_eq!(
            fs_err::read_dir(&output.path).expect("list").count(),
            1,
            "no temporary file is left"
        );
    }
}

#[test]
fn a_layer_that_does_not_match_its_diff_id_is_refused_and_nothing_is_left() {
    let (_store_directory, store) = temporary_store();
    let image = image(&store, Compression::Gzip);
    let mut config: eider_oci::ImageConfiguration =
        serde_json::from_slice(&image.config).expect("config");
    let last = config.rootfs.diff_ids.len() - 1;
    config.rootfs.diff_ids[last] = Digest::of(b"not this layer");
    let config = serde_json::to_vec(&config).expect("serializes");
    let output = Scratch::new();
    let error = write_docker_archive(
        &output.join("image.tar"),
        &config,
        &image.layers,
        &[],
        &[&store],
    )
    .expect_err("refused");
    assert!(
        matches!(error, DockerArchiveError::DiffId { .. }),
        "{error:?}"
    );
    assert_eq!(
        fs_err::read_dir(&output.path).expect("list").count(),
        0,
        "neither the archive nor a temporary file is left"
    );
}

/// Removes the image from the engine when dropped, whatever happens in the test.
struct LoadedImage(String);

impl Drop for LoadedImage {
    fn drop(&mut self) {
        let _removed = Command::new("docker")
            .args(["image", "rm", "--force", &self.0])
            .output();
    }
}

#[test]
fn docker_loads_and_runs_the_archive() {
    let engine_answers = Command::new("docker")
        .arg("version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !has_tool("docker", "--version") || !engine_answers {
        skip("no Docker engine answers `docker version`");
        return;
    }
    let (_store_directory, store) = temporary_store();
    let image = image(&store, Compression::Gzip);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let tag = format!("eider-oci-test/archive:{}-{nanos}", std::process::id());
    let output = Scratch::new();
    let archive = output.join("image.tar");
    write_docker_archive(
        &archive,
        &image.config,
        &image.layers,
        std::slice::from_ref(&tag),
        &[&store],
    )
    .expect("written");

    let loaded = LoadedImage(tag.clone());
    let load = run(Command::new("docker")
        .args(["load", "--input"])
        .arg(&archive));
    assert!(
        String::from_utf8_lossy(&load.stdout).contains(&tag),
        "{}",
        String::from_utf8_lossy(&load.stdout)
    );
    let inspect = run(Command::new("docker").args([
        "image",
        "inspect",
        "--format",
        "{{json .RootFS.Layers}} {{.Id}}",
        &loaded.0,
    ]));
    let inspected = String::from_utf8(inspect.stdout).expect("UTF-8");
    let (layers, id) = inspected.trim().split_once(' ').expect("two fields");
    let expected: Vec<String> = image.diff_ids.iter().map(ToString::to_string).collect();
    assert_eq!(
        serde_json::from_str::<Vec<String>>(layers).expect("JSON"),
        expected
    );
    assert_eq!(
        id,
        image.config_descriptor.digest.to_string(),
        "the engine's image id is the config digest"
    );

    if camino::Utf8Path::new(BUSYBOX).is_file() {
        let ran = run(Command::new("docker").args(["run", "--rm", "--network", "none", &loaded.0]));
        assert_eq!(
            String::from_utf8_lossy(&ran.stdout),
            "hello from the package\n"
        );
    } else {
        skip("busybox is not installed: the loaded image is not run");
    }
}
