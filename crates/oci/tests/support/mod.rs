//! Helpers shared by the integration tests: trees on disk, reading layers back, and finding the
//! external tools (skopeo, umoci, GNU tar, gzip, docker) that check the output.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the helpers"
)]

use std::io::Read;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use camino::{Utf8Path, Utf8PathBuf};
use eider_oci::{BlobStore, LayerBlob};

/// A temporary directory with a UTF-8 path, removed when dropped.
pub struct Scratch {
    _directory: tempfile::TempDir,
    pub path: Utf8PathBuf,
}

impl Scratch {
    pub fn new() -> Self {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = Utf8PathBuf::try_from(directory.path().to_path_buf()).expect("UTF-8 path");
        Self {
            _directory: directory,
            path,
        }
    }

    pub fn join(&self, path: &str) -> Utf8PathBuf {
        self.path.join(path)
    }
}

/// A blob store in a temporary directory (kept as long as the returned scratch lives).
pub fn temporary_store() -> (Scratch, BlobStore) {
    let scratch = Scratch::new();
    let store = BlobStore::create(scratch.path.clone()).expect("store");
    (scratch, store)
}

/// Writes a file, creating its parents.
pub fn write(root: &Utf8Path, relative: &str, content: impl AsRef<[u8]>) {
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent).expect("create parents");
    }
    fs_err::write(&path, content).expect("write file");
}

/// Sets the permission bits of a path.
pub fn chmod(root: &Utf8Path, relative: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(root.join(relative), std::fs::Permissions::from_mode(mode))
        .expect("chmod");
}

/// Sets the modification time of every entry under `root` (not following links) to `time`,
/// contents before their directories so that setting one does not disturb another.
pub fn set_all_mtimes(root: &Utf8Path, time: SystemTime) {
    let mut paths = Vec::new();
    collect(root, &mut paths);
    paths.reverse();
    for path in paths {
        let metadata = fs_err::symlink_metadata(&path).expect("stat");
        if metadata.file_type().is_symlink() {
            continue;
        }
        let file = std::fs::File::open(&path).expect("open for times");
        file.set_modified(time).expect("set mtime");
    }
}

fn collect(path: &Utf8Path, paths: &mut Vec<Utf8PathBuf>) {
    paths.push(path.to_owned());
    let metadata = fs_err::symlink_metadata(path).expect("stat");
    if metadata.is_dir() {
        let mut children: Vec<Utf8PathBuf> = fs_err::read_dir(path)
            .expect("list")
            .map(|entry| Utf8PathBuf::try_from(entry.expect("entry").path()).expect("UTF-8 name"))
            .collect();
        children.sort();
        for child in children {
            collect(&child, paths);
        }
    }
}

/// A time well in the past (an hour ago): old enough to count as settled.
pub fn an_hour_ago() -> SystemTime {
    SystemTime::now() - Duration::from_secs(3600)
}

/// Deterministic bytes that do not compress (xorshift).
pub fn noise(length: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.max(1);
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[1]
        })
        .collect()
}

/// Deterministic text that compresses well.
pub fn text(length: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(length + 64);
    let mut line = 0_u64;
    while bytes.len() < length {
        bytes.extend_from_slice(
            format!("line {line}: the quick brown fox {}\n", line % 97).as_bytes(),
        );
        line += 1;
    }
    bytes.truncate(length);
    bytes
}

/// The uncompressed tar stream of a stored layer.
pub fn layer_tar(store: &BlobStore, layer: &LayerBlob) -> Vec<u8> {
    let compressed = fs_err::read(store.blob_path(&layer.digest)).expect("read blob");
    let mut tar = Vec::new();
    if layer.media_type.ends_with("+zstd") {
        tar = zstd::stream::decode_all(&compressed[..]).expect("zstd decodes");
    } else {
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_end(&mut tar)
            .expect("gzip decodes");
    }
    tar
}

/// One entry of a tar stream as the `tar` crate reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarEntry {
    pub path: String,
    pub kind: char,
    pub mode: u32,
    pub size: u64,
    pub mtime: u64,
    pub uid: u64,
    pub gid: u64,
    pub link: Option<String>,
    pub content: Vec<u8>,
}

/// Every entry of a tar stream, in order.
pub fn tar_entries(tar: &[u8]) -> Vec<TarEntry> {
    let mut archive = tar::Archive::new(tar);
    let mut entries = Vec::new();
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        let header = entry.header().clone();
        let path = String::from_utf8(entry.path_bytes().into_owned()).expect("UTF-8 path");
        let link = entry
            .link_name_bytes()
            .map(|bytes| String::from_utf8(bytes.into_owned()).expect("UTF-8 link"));
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("content");
        assert!(header.username_bytes().is_none_or(<[u8]>::is_empty));
        assert!(header.groupname_bytes().is_none_or(<[u8]>::is_empty));
        entries.push(TarEntry {
            path,
            kind: char::from(header.entry_type().as_byte()),
            mode: header.mode().expect("mode"),
            size: header.size().expect("size"),
            mtime: header.mtime().expect("mtime"),
            uid: header.uid().expect("uid"),
            gid: header.gid().expect("gid"),
            link,
            content,
        });
    }
    entries
}

/// The paths of a layer's entries, in order.
pub fn layer_paths(store: &BlobStore, layer: &LayerBlob) -> Vec<String> {
    tar_entries(&layer_tar(store, layer))
        .into_iter()
        .map(|entry| entry.path)
        .collect()
}

/// Whether a command can be run (`program --version` succeeds).
pub fn has_tool(program: &str, version_argument: &str) -> bool {
    Command::new(program)
        .arg(version_argument)
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Prints why a check is skipped.
pub fn skip(reason: &str) {
    eprintln!("note: skipped: {reason}");
}

/// Runs a command, failing the test with its output when it fails.
pub fn run(command: &mut Command) -> Output {
    let output = command.output().expect("command runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
