//! Layers from trees on disk: the exact bytes (golden digests), reproducibility across trees
//! made differently, what goes in and what never does, and that standard tools read the result.

mod support;

use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use camino::Utf8PathBuf;
use eider_oci::{Compression, Descriptor, Digest, LayerError, LayerSpec, build_layer, open_layer};
use support::{
    Scratch, chmod, has_tool, layer_paths, layer_tar, noise, run, set_all_mtimes, skip,
    tar_entries, temporary_store, text, write,
};

const EPOCH: u64 = 1_700_000_000;

/// The fixed tree of the golden tests: files of several kinds and sizes (one spans several
/// compression chunks), an executable, a symbolic link, a hard link and a long path.
fn golden_tree(root: &camino::Utf8Path) {
    write(root, "README.md", "# golden\n");
    write(root, "bin/run", "#!/bin/sh\necho run\n");
    chmod(root, "bin/run", 0o755);
    write(
        root,
        "data/big.bin",
        [noise(1_200_000, 7), text(1_500_000)].concat(),
    );
    write(
        root,
        &format!("deep/{}/file.txt", "d".repeat(120)),
        "long\n",
    );
    std::os::unix::fs::symlink("../README.md", root.join("data/readme-link")).expect("symlink");
    fs_err::hard_link(root.join("README.md"), root.join("data/readme-hard")).expect("hard link");
}

fn golden_layer(compression: Compression) -> eider_oci::LayerBlob {
    let tree = Scratch::new();
    golden_tree(&tree.path);
    let (_store_directory, store) = temporary_store();
    let spec = LayerSpec::whole_tree(tree.path.clone(), "/src")
        .with_epoch(EPOCH)
        .with_compression(compression);
    build_layer(&spec, &store).expect("layer builds").blob
}

#[test]
fn golden_gzip_layer_digest() {
    let layer = golden_layer(Compression::Gzip);
    // Pinned on purpose: a change here changes every image eider makes. If it is intended,
    // bump NORMALIZATION_VERSION and update these.
    assert_eq!(
        layer.diff_id.to_string(),
        "sha256:6676bbd01fa301add3a0aa181427d376e3a7b736c79b056d5abbd8f0c259b4cd",
        "the tar stream changed"
    );
    assert_eq!(
        layer.digest.to_string(),
        "sha256:f0d65a0d30cdde557416c92b6c64788e47f968c1613421c3242596639dffe1b7",
        "the gzip bytes changed"
    );
    assert_eq!(
        layer.media_type,
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
}

#[test]
fn golden_zstd_layer_digest() {
    let layer = golden_layer(Compression::Zstd);
    assert_eq!(
        layer.diff_id.to_string(),
        "sha256:6676bbd01fa301add3a0aa181427d376e3a7b736c79b056d5abbd8f0c259b4cd",
        "the tar stream does not depend on the compression"
    );
    assert_eq!(
        layer.digest.to_string(),
        "sha256:505436913722515d14d5189d235ea14f122ccb3629e74239c1a0f933bac58da8",
        "the zstd bytes changed"
    );
    assert_eq!(
        layer.media_type,
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
}

/// The same content made in two ways: other creation order, permission noise, other times.
fn make_tree(root: &camino::Utf8Path, variant: bool) {
    let files: Vec<(String, Vec<u8>)> = (0..40)
        .map(|index| {
            (
                format!("dir{}/file{index:02}.txt", index % 5),
                text(100 + index * 37),
            )
        })
        .collect();
    let ordered: Vec<&(String, Vec<u8>)> = if variant {
        files.iter().rev().collect()
    } else {
        files.iter().collect()
    };
    for (path, content) in ordered {
        write(root, path, content);
        chmod(root, path, if variant { 0o664 } else { 0o600 });
    }
    write(root, "tool.sh", "#!/bin/sh\n");
    chmod(root, "tool.sh", if variant { 0o775 } else { 0o700 });
    for index in 0..5 {
        chmod(
            root,
            &format!("dir{index}"),
            if variant { 0o775 } else { 0o700 },
        );
    }
    std::os::unix::fs::symlink("dir1", root.join("alias")).expect("symlink");
    let time = UNIX_EPOCH + Duration::from_secs(if variant { 1_000_000 } else { 2_000_000_000 });
    set_all_mtimes(root, time);
}

#[test]
fn the_same_tree_made_differently_gives_the_same_layer() {
    for compression in [Compression::Gzip, Compression::Zstd] {
        let (_store_directory, store) = temporary_store();
        let layers: Vec<_> = [false, true]
            .into_iter()
            .map(|variant| {
                let tree = Scratch::new();
                make_tree(&tree.path, variant);
                let spec = LayerSpec::whole_tree(tree.path.clone(), "/src")
                    .with_epoch(EPOCH)
                    .with_compression(compression);
                build_layer(&spec, &store).expect("layer builds").blob
            })
            .collect();
        assert_eq!(layers[0], layers[1], "{compression}");
    }
}

#[test]
fn entries_are_sorted_normalized_and_owned_by_root() {
    let tree = Scratch::new();
    make_tree(&tree.path, true);
    let (_store_directory, store) = temporary_store();
    let spec = LayerSpec::whole_tree(tree.path.clone(), "/opt/app").with_epoch(EPOCH);
    let layer = build_layer(&spec, &store).expect("builds").blob;
    let entries = tar_entries(&layer_tar(&store, &layer));
    let paths: Vec<&str> = entries.iter().map(|entry| entry.path.as_str()).collect();
    assert_eq!(
        &paths[..4],
        ["opt/", "opt/app/", "opt/app/alias", "opt/app/dir0/"]
    );
    let mut sorted = paths.clone();
    sorted.sort_by_key(|path| path.trim_end_matches('/').as_bytes().to_vec());
    assert_eq!(paths, sorted, "byte-wise order");
    for entry in &entries {
        assert_eq!(entry.mtime, EPOCH, "{}", entry.path);
        assert_eq!((entry.uid, entry.gid), (0, 0), "{}", entry.path);
        let expected_mode = match (entry.kind, entry.path.as_str()) {
            ('5', _) | (_, "opt/app/tool.sh") => 0o755,
            ('2', _) => 0o777,
            _ => 0o644,
        };
        assert_eq!(entry.mode, expected_mode, "{}", entry.path);
    }
    let link = entries
        .iter()
        .find(|entry| entry.path == "opt/app/alias")
        .expect("link");
    assert_eq!((link.kind, link.link.as_deref()), ('2', Some("dir1")));
}

#[test]
fn the_root_destination_has_no_root_entry() {
    let tree = Scratch::new();
    write(&tree.path, "a/b.txt", "b");
    let (_store_directory, store) = temporary_store();
    let layer = build_layer(&LayerSpec::whole_tree(tree.path.clone(), "/"), &store)
        .expect("builds")
        .blob;
    assert_eq!(layer_paths(&store, &layer), ["a/", "a/b.txt"]);
}

#[test]
fn hard_links_become_link_entries_to_the_first_name() {
    let tree = Scratch::new();
    write(&tree.path, "b/original.txt", "shared content");
    fs_err::hard_link(tree.join("b/original.txt"), tree.join("a-link.txt")).expect("link");
    fs_err::hard_link(tree.join("b/original.txt"), tree.join("c.txt")).expect("link");
    let (_store_directory, store) = temporary_store();
    let layer = build_layer(&LayerSpec::whole_tree(tree.path.clone(), "/src"), &store)
        .expect("builds")
        .blob;
    let entries = tar_entries(&layer_tar(&store, &layer));
    let find = |path: &str| {
        entries
            .iter()
            .find(|entry| entry.path == path)
            .unwrap_or_else(|| panic!("{path} missing"))
    };
    let first = find("src/a-link.txt");
    assert_eq!(
        (first.kind, first.content.as_slice()),
        ('0', &b"shared content"[..])
    );
    for other in ["src/b/original.txt", "src/c.txt"] {
        let link = find(other);
        assert_eq!(link.kind, '1', "{other}");
        assert_eq!(link.link.as_deref(), Some("src/a-link.txt"), "{other}");
        assert_eq!(link.size, 0);
    }
}

#[test]
fn long_paths_and_link_targets_survive() {
    let tree = Scratch::new();
    let long_directory = format!("{}/{}", "x".repeat(90), "y".repeat(90));
    write(&tree.path, &format!("{long_directory}/file.txt"), "deep");
    let long_target = format!("../{}", "t".repeat(150));
    std::os::unix::fs::symlink(&long_target, tree.join("link")).expect("symlink");
    let (_store_directory, store) = temporary_store();
    let layer = build_layer(&LayerSpec::whole_tree(tree.path.clone(), "/src"), &store)
        .expect("builds")
        .blob;
    let entries = tar_entries(&layer_tar(&store, &layer));
    let file = entries
        .iter()
        .find(|entry| entry.path == format!("src/{long_directory}/file.txt"))
        .expect("long path read back whole");
    assert_eq!(file.content, b"deep");
    let link = entries
        .iter()
        .find(|entry| entry.path == "src/link")
        .expect("link");
    assert_eq!(link.link.as_deref(), Some(long_target.as_str()));
}

#[test]
fn a_name_that_is_not_utf8_is_refused() {
    let tree = Scratch::new();
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff-name");
    std::fs::write(tree.path.as_std_path().join(name), "x").expect("write");
    let (_store_directory, store) = temporary_store();
    let error = build_layer(&LayerSpec::whole_tree(tree.path.clone(), "/src"), &store)
        .expect_err("refused");
    assert!(matches!(error, LayerError::NotUtf8 { .. }), "{error:?}");
    assert!(error.to_string().contains("bad-"), "{error}");
    assert!(error.to_string().contains("not UTF-8"), "{error}");
}

#[test]
fn a_fifo_is_refused_with_its_path() {
    let tree = Scratch::new();
    write(&tree.path, "ok.txt", "ok");
    fs_err::create_dir_all(tree.join("run")).expect("mkdir");
    run(Command::new("mkfifo").arg(tree.join("run/pipe")));
    let (_store_directory, store) = temporary_store();
    let error = build_layer(&LayerSpec::whole_tree(tree.path.clone(), "/src"), &store)
        .expect_err("refused");
    let message = error.to_string();
    assert!(
        message.contains(tree.join("run/pipe").as_str()),
        "{message}"
    );
    assert!(message.contains("it is a FIFO"), "{message}");
    assert!(
        fs_err::read_dir(store.blob_directory())
            .expect("list")
            .next()
            .is_none(),
        "no blob is left behind"
    );
}

#[test]
fn a_socket_is_refused() {
    let tree = Scratch::new();
    let _listener =
        std::os::unix::net::UnixListener::bind(tree.join("agent.sock")).expect("socket");
    let (_store_directory, store) = temporary_store();
    let error = build_layer(&LayerSpec::whole_tree(tree.path.clone(), "/src"), &store)
        .expect_err("refused");
    assert!(
        matches!(
            error,
            LayerError::SpecialFile {
                kind: "a socket",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn ignore_files_are_honored_and_secrets_never_included() {
    let tree = Scratch::new();
    let root = &tree.path;
    write(root, "src/main.rs", "fn main() {}");
    write(root, ".gitignore", "*.log\ntarget/\n!keep.log\n");
    write(root, "debug.log", "noise");
    write(root, "keep.log", "kept");
    write(root, "target/out.bin", "built");
    write(root, ".dockerignore", "notes/\n");
    write(root, "notes/todo.txt", "private");
    write(root, "src/.drakeignore", "scratch.rs\n");
    write(root, "src/scratch.rs", "experiment");
    write(root, ".git/config", "[core]");
    write(root, "vendor/.git", "gitdir: ../.git/modules/vendor");
    write(root, "vendor/lib.rs", "lib");
    write(root, "Drakesecrets.yaml", "token: secret");
    write(root, "jobs/Drakesecrets.yaml", "token: secret");
    write(root, "config/app.secrets", "PASSWORD=hunter2");
    fs_err::hard_link(
        root.join("config/app.secrets"),
        root.join("config/copy.txt"),
    )
    .expect("link");
    let (_store_directory, store) = temporary_store();
    let spec = LayerSpec::whole_tree(root.clone(), "/src").with_secrets_file("config/app.secrets");
    let layer = build_layer(&spec, &store).expect("builds").blob;
    assert_eq!(
        layer_paths(&store, &layer),
        [
            "src/",
            "src/.dockerignore",
            "src/.gitignore",
            "src/config/",
            "src/jobs/",
            "src/keep.log",
            "src/src/",
            "src/src/.drakeignore",
            "src/src/main.rs",
            "src/vendor/",
            "src/vendor/lib.rs",
        ]
    );
    let tar = layer_tar(&store, &layer);
    assert!(
        !tar.windows(7).any(|window| window == b"hunter2"),
        "the secrets file's content is nowhere in the layer"
    );
}

#[test]
fn ignore_files_can_be_turned_off() {
    let tree = Scratch::new();
    write(&tree.path, ".gitignore", "*.log\n");
    write(&tree.path, "debug.log", "noise");
    write(&tree.path, ".git/HEAD", "ref");
    let (_store_directory, store) = temporary_store();
    let spec = LayerSpec::whole_tree(tree.path.clone(), "/src").with_ignore_files(false);
    let layer = build_layer(&spec, &store).expect("builds").blob;
    assert_eq!(
        layer_paths(&store, &layer),
        ["src/", "src/.gitignore", "src/debug.log"],
        "`.git` stays out regardless"
    );
}

#[test]
fn a_path_selection_takes_the_paths_and_their_parents_only() {
    let tree = Scratch::new();
    let root = &tree.path;
    write(root, ".gitignore", "node_modules/\n");
    write(root, "package-lock.json", "{}");
    write(root, "package.json", "{}");
    write(root, "node_modules/left-pad/index.js", "module.exports = 1");
    write(root, "web/vendor/lib.js", "lib");
    write(root, "web/app.js", "app");
    let (_store_directory, store) = temporary_store();
    let spec = LayerSpec::paths(
        root.clone(),
        vec![
            Utf8PathBuf::from("package-lock.json"),
            Utf8PathBuf::from("node_modules"),
            Utf8PathBuf::from("web/vendor"),
        ],
        "/src",
    );
    let layer = build_layer(&spec, &store).expect("builds").blob;
    assert_eq!(
        layer_paths(&store, &layer),
        [
            "src/",
            "src/node_modules/",
            "src/node_modules/left-pad/",
            "src/node_modules/left-pad/index.js",
            "src/package-lock.json",
            "src/web/",
            "src/web/vendor/",
            "src/web/vendor/lib.js",
        ]
    );
}

#[test]
fn bad_selections_and_destinations_are_refused() {
    let tree = Scratch::new();
    write(&tree.path, "a.txt", "a");
    let (_store_directory, store) = temporary_store();
    let missing = LayerSpec::paths(tree.path.clone(), vec!["absent.lock".into()], "/src");
    assert!(matches!(
        build_layer(&missing, &store),
        Err(LayerError::MissingPath { .. })
    ));
    for path in ["../escape", "/etc/passwd", "./a.txt"] {
        let spec = LayerSpec::paths(tree.path.clone(), vec![path.into()], "/src");
        assert!(
            matches!(
                build_layer(&spec, &store),
                Err(LayerError::SelectedPath { .. })
            ),
            "{path}"
        );
    }
    let relative = LayerSpec::whole_tree(tree.path.clone(), "src");
    assert!(matches!(
        build_layer(&relative, &store),
        Err(LayerError::Destination { .. })
    ));
    let far_future = LayerSpec::whole_tree(tree.path.clone(), "/src").with_epoch(u64::MAX);
    assert!(matches!(
        build_layer(&far_future, &store),
        Err(LayerError::Epoch { .. })
    ));
}

#[test]
fn gnu_tar_and_gzip_read_the_layer() {
    if !has_tool("tar", "--version") || !has_tool("gzip", "--version") {
        skip("GNU tar or gzip is not installed");
        return;
    }
    let tree = Scratch::new();
    golden_tree(&tree.path);
    let (_store_directory, store) = temporary_store();
    let spec = LayerSpec::whole_tree(tree.path.clone(), "/src").with_epoch(EPOCH);
    let layer = build_layer(&spec, &store).expect("builds").blob;
    let blob = store.blob_path(&layer.digest);
    run(Command::new("gzip").arg("-t").arg(&blob));
    let listing = run(Command::new("tar")
        .args(["--numeric-owner", "-tvzf"])
        .arg(&blob));
    let listing = String::from_utf8(listing.stdout).expect("UTF-8");
    assert!(
        listing.contains("src/data/readme-link -> ../README.md"),
        "{listing}"
    );
    assert!(
        listing.contains("src/data/readme-hard link to src/README.md"),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("src/deep/{}/file.txt", "d".repeat(120))),
        "{listing}"
    );
    assert!(listing.contains("-rwxr-xr-x 0/0"), "{listing}");
    assert!(
        listing.contains("2023-11-14"),
        "every time is the epoch: {listing}"
    );
    let extracted = Scratch::new();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&blob)
        .arg("-C")
        .arg(&extracted.path));
    assert_eq!(
        fs_err::read(extracted.join("src/data/big.bin")).expect("extracted"),
        fs_err::read(tree.join("data/big.bin")).expect("original")
    );
}

#[test]
fn zstd_tool_reads_the_zstd_layer() {
    if !has_tool("zstd", "--version") {
        skip("zstd is not installed");
        return;
    }
    let tree = Scratch::new();
    golden_tree(&tree.path);
    let (_store_directory, store) = temporary_store();
    let spec = LayerSpec::whole_tree(tree.path.clone(), "/src").with_compression(Compression::Zstd);
    let layer = build_layer(&spec, &store).expect("builds").blob;
    let blob = store.blob_path(&layer.digest);
    run(Command::new("zstd").arg("-t").arg(&blob));
    // One frame per 1 MiB chunk: the tool decodes them all, in order, into the whole tar stream.
    let decoded = run(Command::new("zstd").arg("-d").arg("-c").arg(&blob)).stdout;
    assert!(
        decoded.len() > 2 << 20,
        "the golden tree spans several chunks"
    );
    assert_eq!(Digest::of(&decoded), layer.diff_id);
}

#[test]
fn the_crate_reads_every_frame_of_a_zstd_layer() {
    let tree = Scratch::new();
    golden_tree(&tree.path);
    let (_store_directory, store) = temporary_store();
    let spec = LayerSpec::whole_tree(tree.path.clone(), "/src").with_compression(Compression::Zstd);
    let layer = build_layer(&spec, &store).expect("builds").blob;
    let descriptor = Descriptor::new(layer.media_type.clone(), layer.digest.clone(), layer.size);
    let mut decoded = Vec::new();
    open_layer(&store, &descriptor)
        .expect("opens")
        .read_to_end(&mut decoded)
        .expect("decodes");
    assert!(
        decoded.len() > 2 << 20,
        "the golden tree spans several chunks"
    );
    assert_eq!(Digest::of(&decoded), layer.diff_id);
}

#[test]
fn excluded_paths_stay_out_with_their_content() {
    let tree = Scratch::new();
    write(&tree.path, "src/main.rs", "fn main() {}");
    write(&tree.path, "out/image/index.json", "{}");
    write(&tree.path, "out.txt", "kept: only `out` itself is excluded");
    let (_store_directory, store) = temporary_store();
    let spec = LayerSpec::whole_tree(tree.path.clone(), "/src").excluding("out");
    let layer = build_layer(&spec, &store).expect("builds").blob;
    assert_eq!(
        layer_paths(&store, &layer),
        ["src/", "src/out.txt", "src/src/", "src/src/main.rs"]
    );
    let absolute = LayerSpec::whole_tree(tree.path.clone(), "/src").excluding(tree.join("out"));
    assert_eq!(build_layer(&absolute, &store).expect("builds").blob, layer);
}

#[test]
fn a_source_root_given_as_a_link_is_followed_and_a_file_refused() {
    let tree = Scratch::new();
    write(&tree.path, "real/a.txt", "a");
    std::os::unix::fs::symlink("real", tree.join("alias")).expect("symlink");
    let (_store_directory, store) = temporary_store();
    let through_link = build_layer(&LayerSpec::whole_tree(tree.join("alias"), "/src"), &store)
        .expect("builds")
        .blob;
    assert_eq!(layer_paths(&store, &through_link), ["src/", "src/a.txt"]);
    let error = build_layer(
        &LayerSpec::whole_tree(tree.join("real/a.txt"), "/src"),
        &store,
    )
    .expect_err("a file is not a tree");
    assert!(matches!(error, LayerError::SourceRoot { .. }), "{error:?}");
    let error = build_layer(&LayerSpec::whole_tree(tree.join("absent"), "/src"), &store)
        .expect_err("no tree");
    assert!(error.to_string().contains("absent"), "{error}");
}

#[test]
fn a_malformed_ignore_file_is_an_error_not_a_silent_inclusion() {
    let tree = Scratch::new();
    write(&tree.path, ".dockerignore", "secret[z-a]\n");
    write(&tree.path, "secretz", "hidden");
    let (_store_directory, store) = temporary_store();
    let error = build_layer(&LayerSpec::whole_tree(tree.path.clone(), "/src"), &store)
        .expect_err("refused");
    assert!(matches!(error, LayerError::Walk { .. }), "{error:?}");
    let causes = format!("{:?}", std::error::Error::source(&error));
    assert!(
        causes.contains(".dockerignore"),
        "the cause names the file: {causes}"
    );
}
