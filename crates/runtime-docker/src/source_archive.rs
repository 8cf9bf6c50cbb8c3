//! The source tree as a tar stream, to fill a copy that lives in the engine (a volume): the
//! engine extracts it as root, so a copy that containers wrote into as root is still removed
//! by the engine, by a non-root eider, and on a remote engine.
//!
//! The archive is exact: modes, owners, times and symbolic links (as links, never followed, so
//! nothing outside the tree is read). Fifos, sockets and devices are skipped and reported.

use std::fs::{self, Metadata};
use std::io::{self, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use crate::model::ArchiveStream;
use bytes::{Bytes, BytesMut};
use camino::Utf8PathBuf;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What went into an archive.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CopyStats {
    /// Regular files.
    pub files: u64,
    /// Directories, the root excluded.
    pub directories: u64,
    /// Symbolic links, kept as links.
    pub symlinks: u64,
    /// Bytes of file content.
    pub bytes: u64,
    /// Fifos, sockets and devices left out, relative to the root.
    pub skipped: Vec<Utf8PathBuf>,
}

/// Chunks of about this size go to the engine: large enough to keep system calls few, small
/// enough that a few in flight cost little memory.
const CHUNK_SIZE: usize = 256 * 1024;

/// Chunks buffered between the archiver thread and the upload.
const CHUNKS_IN_FLIGHT: usize = 4;

/// Starts archiving `root` on a blocking thread, its entries under `directory` or at the top of
/// the archive (as the engine that extracts it needs, see `archive::VolumeUpload`). The stream
/// yields the tar archive as it is written; the handle gives the counts (and the skipped special
/// files) when it is done.
pub(crate) fn archive_tree(
    root: Utf8PathBuf,
    directory: Option<&'static str>,
) -> (ArchiveStream, JoinHandle<io::Result<CopyStats>>) {
    let (sender, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let error_sender = sender.clone();
    let handle = tokio::task::spawn_blocking(move || {
        let writer = ChunkWriter {
            sender,
            buffer: BytesMut::with_capacity(CHUNK_SIZE),
        };
        let result = write_archive(root.as_std_path(), directory, writer);
        if let Err(error) = &result {
            // The upload must fail, not extract half a tree as if it were whole.
            let _ignored =
                error_sender.blocking_send(Err(io::Error::new(error.kind(), error.to_string())));
        }
        result
    });
    let stream = tokio_stream_from(receiver);
    (stream, handle)
}

fn tokio_stream_from(receiver: mpsc::Receiver<io::Result<Bytes>>) -> ArchiveStream {
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
    .boxed()
}

fn write_archive(
    root: &Path,
    directory: Option<&str>,
    writer: ChunkWriter,
) -> io::Result<CopyStats> {
    let mut builder = tar::Builder::new(writer);
    builder.follow_symlinks(false);
    let mut stats = CopyStats::default();
    let mut pending: Vec<PathBuf> = vec![PathBuf::new()];
    let top = Path::new(directory.unwrap_or(""));
    while let Some(relative) = pending.pop() {
        let directory = root.join(&relative);
        let mut entries: Vec<(PathBuf, Metadata)> = Vec::new();
        for entry in fs::read_dir(&directory).map_err(|error| at(&directory, &error))? {
            let entry = entry.map_err(|error| at(&directory, &error))?;
            let metadata = entry
                .metadata()
                .map_err(|error| at(&entry.path(), &error))?;
            entries.push((relative.join(entry.file_name()), metadata));
        }
        // A stable order makes two archives of the same tree the same.
        entries.sort_by(|left, right| left.0.cmp(&right.0));
        for (path, metadata) in entries {
            let full = root.join(&path);
            let file_type = metadata.file_type();
            let mut header = tar::Header::new_gnu();
            header.set_metadata_in_mode(&metadata, tar::HeaderMode::Complete);
            if file_type.is_dir() {
                builder
                    .append_data(&mut header, top.join(&path), io::empty())
                    .map_err(|error| at(&full, &error))?;
                stats.directories += 1;
                pending.push(path);
            } else if file_type.is_symlink() {
                let target = fs::read_link(&full).map_err(|error| at(&full, &error))?;
                header.set_size(0);
                builder
                    .append_link(&mut header, top.join(&path), &target)
                    .map_err(|error| at(&full, &error))?;
                stats.symlinks += 1;
            } else if file_type.is_file() {
                let file = fs::File::open(&full).map_err(|error| at(&full, &error))?;
                builder
                    .append_data(&mut header, top.join(&path), file)
                    .map_err(|error| at(&full, &error))?;
                stats.files += 1;
                stats.bytes += metadata.len();
            } else if file_type.is_fifo()
                || file_type.is_socket()
                || file_type.is_block_device()
                || file_type.is_char_device()
            {
                stats
                    .skipped
                    .push(Utf8PathBuf::from(path.to_string_lossy().into_owned()));
            }
        }
    }
    let mut writer = builder.into_inner()?;
    writer.flush()?;
    Ok(stats)
}

fn at(path: &Path, error: &io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

/// Sends what is written in chunks over a bounded channel: a slow engine slows the archiver
/// down instead of growing memory.
struct ChunkWriter {
    sender: mpsc::Sender<io::Result<Bytes>>,
    buffer: BytesMut,
}

impl ChunkWriter {
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = self.buffer.split().freeze();
        self.buffer.reserve(CHUNK_SIZE);
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK_SIZE {
            self.send_buffer()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree of a file two directories down, a link out of the tree and a fifo.
    fn sample_tree() -> tempfile::TempDir {
        let directory = tempfile::tempdir().expect("temporary directory");
        let root = directory.path();
        fs::create_dir_all(root.join("a/b")).expect("directories");
        fs::write(root.join("a/b/file.txt"), b"content").expect("file");
        std::os::unix::fs::symlink("/etc/passwd", root.join("outside")).expect("symlink");
        let made = std::process::Command::new("mkfifo")
            .arg(root.join("pipe"))
            .status()
            .expect("mkfifo");
        assert!(made.success());
        directory
    }

    /// The archive of `root` under `directory`: its counts, and each entry's name (with a
    /// link's target).
    async fn archived(
        root: &Path,
        directory: Option<&'static str>,
    ) -> (CopyStats, Vec<(String, Option<String>)>) {
        let root = Utf8PathBuf::from_path_buf(root.to_path_buf()).expect("UTF-8 path");
        let (mut stream, handle) = archive_tree(root, directory);
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.expect("chunk"));
        }
        let stats = handle.await.expect("join").expect("archive");
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut entries = Vec::new();
        for entry in archive.entries().expect("entries") {
            let entry = entry.expect("entry");
            let path = entry.path().expect("path").display().to_string();
            let target = entry
                .link_name()
                .expect("link")
                .map(|target| target.display().to_string());
            entries.push((path, target));
        }
        (stats, entries)
    }

    #[tokio::test]
    async fn the_archive_holds_files_directories_and_links_but_no_fifos() {
        let tree = sample_tree();
        let (stats, entries) = archived(tree.path(), Some("eider-volume")).await;
        assert_eq!((stats.files, stats.directories, stats.symlinks), (1, 2, 1));
        assert_eq!(stats.skipped, vec![Utf8PathBuf::from("pipe")]);
        let passwd = Some("/etc/passwd".to_owned());
        assert_eq!(
            entries,
            [
                ("eider-volume/a".to_owned(), None),
                ("eider-volume/outside".to_owned(), passwd),
                ("eider-volume/a/b".to_owned(), None),
                ("eider-volume/a/b/file.txt".to_owned(), None),
            ]
        );
    }

    #[tokio::test]
    async fn without_a_directory_the_entries_are_at_the_top_of_the_archive() {
        let tree = sample_tree();
        let (stats, entries) = archived(tree.path(), None).await;
        assert_eq!((stats.files, stats.directories, stats.symlinks), (1, 2, 1));
        let names: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["a", "outside", "a/b", "a/b/file.txt"]);
    }
}
