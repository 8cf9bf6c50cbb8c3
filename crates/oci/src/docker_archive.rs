//! `docker-archive:FILE`: a tar file that `docker load` reads (Docker 20.10 and later): a
//! `manifest.json` naming the config, the tags and the layers, the config, and each layer as
//! an uncompressed tar (what the engine expects and checks against the config's diffIDs).
//!
//! Layers are decompressed while they are written, straight into the archive: the size of each
//! is known only at its end, so its header is written as a placeholder and filled in afterwards
//! (the archive is a file, so it can seek). Each layer's diffID is checked on the way. The
//! archive is written under a temporary name and renamed when complete.

use std::collections::BTreeSet;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::blob_store::{BlobStore, BlobStoreError, TemporaryFile, find_blob};
use crate::decompress::decoder;
use crate::image::{Descriptor, ImageConfiguration};
use crate::layer::{HeaderKind, write_header};
use crate::media_type::layer_encoding;
use eider_oci_types::{Digest, HashingWriter};

/// Every entry's modification time: the archive is a transport, but need not vary.
const ARCHIVE_EPOCH: u64 = 0;

/// Layer tar streams at least this large would need a PAX size record before their header,
/// which cannot be filled in afterwards.
const LARGEST_LAYER: u64 = 0o777_7777_7777;

/// Why a Docker archive cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum DockerArchiveError {
    /// The config does not parse.
    #[error("the image config is not valid")]
    Config(#[source] serde_json::Error),
    /// The config lists another number of diffIDs than there are layers.
    #[error("the image has {layers} layers but its config lists {diff_ids} diffIDs")]
    LayerCount {
        /// Layers given.
        layers: usize,
        /// Number of diffIDs in the config.
        diff_ids: usize,
    },
    /// A layer's media type is not a known layer type.
    #[error("layer {digest} has media type `{media_type}`, which is not a known layer type")]
    MediaType {
        /// The layer.
        digest: Digest,
        /// Its media type.
        media_type: String,
    },
    /// A layer does not decompress to the tar stream the config names.
    #[error("layer {digest} decompresses to {found}, but the config lists {expected}")]
    DiffId {
        /// The layer.
        digest: Digest,
        /// The diffID in the config.
        expected: Digest,
        /// The digest of the decompressed stream.
        found: Digest,
    },
    /// A layer does not decompress.
    #[error("cannot decompress layer {digest}")]
    Decompress {
        /// The layer.
        digest: Digest,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A layer's tar stream is 8 GiB or more.
    #[error("layer {digest} is 8 GiB or more uncompressed, more than a Docker archive entry holds")]
    TooLarge {
        /// The layer.
        digest: Digest,
    },
    /// The archive could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The archive being written (its temporary name).
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A blob store failed.
    #[error(transparent)]
    Store(#[from] BlobStoreError),
}

/// One image in `manifest.json`, with Docker's field names.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveManifest<'a> {
    config: String,
    repo_tags: &'a [String],
    layers: Vec<String>,
}

/// Writes the image (its `config` bytes and its `layers`, found in `sources`) as a Docker
/// archive at `destination`, tagged with `repo_tags` (`name:tag`; none loads it untagged).
pub fn write_docker_archive(
    destination: &Utf8Path,
    config: &[u8],
    layers: &[Descriptor],
    repo_tags: &[String],
    sources: &[&BlobStore],
) -> Result<(), DockerArchiveError> {
    let parsed: ImageConfiguration =
        serde_json::from_slice(config).map_err(DockerArchiveError::Config)?;
    let diff_ids = &parsed.rootfs.diff_ids;
    if diff_ids.len() != layers.len() {
        return Err(DockerArchiveError::LayerCount {
            layers: layers.len(),
            diff_ids: diff_ids.len(),
        });
    }
    let directory = destination
        .parent()
        .filter(|parent| !parent.as_str().is_empty())
        .unwrap_or(Utf8Path::new("."));
    let mut temporary =
        TemporaryFile::create(directory).map_err(|source| DockerArchiveError::Write {
            path: directory.to_owned(),
            source,
        })?;
    let path = temporary.path().to_owned();
    let write_error = |source: io::Error| DockerArchiveError::Write {
        path: path.clone(),
        source,
    };
    let file = temporary.file.try_clone().map_err(write_error)?;
    let mut archive = Archive {
        output: BufWriter::with_capacity(256 * 1024, file),
        position: 0,
    };

    archive.directory("blobs/").map_err(write_error)?;
    archive.directory("blobs/sha256/").map_err(write_error)?;
    let config_name = format!("blobs/sha256/{}", Digest::of(config).hex());
    archive.file(&config_name, config).map_err(write_error)?;

    let mut written = BTreeSet::new();
    let mut layer_names = Vec::with_capacity(layers.len());
    for (layer, diff_id) in layers.iter().zip(diff_ids) {
        let name = format!("blobs/sha256/{}", diff_id.hex());
        // A layer listed twice is stored once: both entries name the same file.
        if written.insert(diff_id.clone()) {
            archive.layer(&name, layer, diff_id, sources, &path)?;
        }
        layer_names.push(name);
    }

    let manifest = [ArchiveManifest {
        config: config_name,
        repo_tags,
        layers: layer_names,
    }];
    let manifest = serde_json::to_vec(&manifest).map_err(DockerArchiveError::Config)?;
    archive
        .file("manifest.json", &manifest)
        .map_err(write_error)?;
    archive.finish().map_err(write_error)?;
    temporary
        .persist(destination)
        .map_err(|source| DockerArchiveError::Write {
            path: destination.to_owned(),
            source,
        })
}

/// The archive being written, with the offset reached (for filling in layer headers).
struct Archive {
    output: BufWriter<fs_err::File>,
    position: u64,
}

impl Archive {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.output.write_all(bytes)?;
        self.position += bytes.len() as u64;
        Ok(())
    }

    fn header(&mut self, kind: HeaderKind, name: &str, mode: u32, size: u64) -> io::Result<()> {
        let mut header = Vec::with_capacity(512);
        write_header(&mut header, kind, name, "", mode, size, ARCHIVE_EPOCH)?;
        self.write(&header)
    }

    fn pad(&mut self, size: u64) -> io::Result<()> {
        let remainder = (size % 512) as usize;
        if remainder != 0 {
            self.write(&[0; 512][..512 - remainder])?;
        }
        Ok(())
    }

    fn directory(&mut self, name: &str) -> io::Result<()> {
        self.header(HeaderKind::Directory, name, 0o755, 0)
    }

    fn file(&mut self, name: &str, content: &[u8]) -> io::Result<()> {
        self.header(HeaderKind::File, name, 0o644, content.len() as u64)?;
        self.write(content)?;
        self.pad(content.len() as u64)
    }

    /// Streams a layer, decompressed, into the archive, then fills in its header.
    fn layer(
        &mut self,
        name: &str,
        layer: &Descriptor,
        diff_id: &Digest,
        sources: &[&BlobStore],
        path: &Utf8Path,
    ) -> Result<(), DockerArchiveError> {
        let write_error = |source: io::Error| DockerArchiveError::Write {
            path: path.to_owned(),
            source,
        };
        let encoding =
            layer_encoding(&layer.media_type).ok_or_else(|| DockerArchiveError::MediaType {
                digest: layer.digest.clone(),
                media_type: layer.media_type.clone(),
            })?;
        let source = find_blob(sources, &layer.digest, layer.size)?;
        let blob = source.open(&layer.digest, Some(layer.size))?;
        let decompress_error = |source: io::Error| DockerArchiveError::Decompress {
            digest: layer.digest.clone(),
            source,
        };
        let mut reader = decoder(encoding, io::BufReader::new(blob)).map_err(decompress_error)?;

        let header_position = self.position;
        self.write(&[0; 512]).map_err(write_error)?;
        let mut hashing = HashingWriter::new(&mut self.output);
        copy_distinguishing_errors(&mut reader, &mut hashing).map_err(|error| match error {
            CopyError::Read(source) => decompress_error(source),
            CopyError::Write(source) => write_error(source),
        })?;
        let (_, found, size) = hashing.finish();
        self.position += size;
        if &found != diff_id {
            return Err(DockerArchiveError::DiffId {
                digest: layer.digest.clone(),
                expected: diff_id.clone(),
                found,
            });
        }
        if size > LARGEST_LAYER {
            return Err(DockerArchiveError::TooLarge {
                digest: layer.digest.clone(),
            });
        }
        self.pad(size).map_err(write_error)?;

        let mut header = Vec::with_capacity(512);
        write_header(
            &mut header,
            HeaderKind::File,
            name,
            "",
            0o644,
            size,
            ARCHIVE_EPOCH,
        )
        .map_err(write_error)?;
        self.fill_in(header_position, &header).map_err(write_error)
    }

    /// Overwrites the placeholder at `position` with `header`, then goes back to the end.
    fn fill_in(&mut self, position: u64, header: &[u8]) -> io::Result<()> {
        // The buffer must reach the file before the file's offset moves.
        self.output.flush()?;
        let file = self.output.get_mut();
        file.seek(SeekFrom::Start(position))?;
        file.write_all(header)?;
        file.seek(SeekFrom::End(0))?;
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.write(&[0; 1024])?;
        self.output.flush()
    }
}

enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// `io::copy`, telling a read error (bad compressed data) from a write error (a full disk).
fn copy_distinguishing_errors(
    reader: &mut dyn io::Read,
    writer: &mut impl Write,
) -> Result<(), CopyError> {
    let mut buffer = vec![0_u8; 256 * 1024];
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(CopyError::Read(error)),
        };
        writer
            .write_all(&buffer[..read])
            .map_err(CopyError::Write)?;
    }
}
