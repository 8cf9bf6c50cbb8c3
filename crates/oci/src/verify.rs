//! Checking an image in a blob store (or layout): every blob is there with the size its
//! descriptor states and the content its digest names, the manifest and config agree (as many
//! diffIDs as layers), and optionally each layer decompresses to the tar stream its diffID
//! names. Problems are collected, not stopped at: a report lists them all.

use std::fmt;
use std::io::{self, Read};

use eider_error_chain::chain_text;
use eider_regular_file::read_bounded;

use crate::blob_store::{BlobStore, BlobStoreError, MAX_SMALL_BLOB};
use crate::decompress::decoder;
use crate::file_stamp::FileStamp;
use crate::image::{Descriptor, ImageConfiguration, ParsedManifest, parse_manifest};
use crate::media_type::layer_encoding;
use crate::verified::VerifiedBlobs;
use eider_oci_types::{Digest, Hasher, HashingWriter};

/// What a blob is to the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobRole {
    /// An image index.
    Index,
    /// An image manifest.
    Manifest,
    /// The image config.
    Config,
    /// The layer at this position (0 is the base's first).
    Layer(usize),
}

impl fmt::Display for BlobRole {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Index => formatter.write_str("index"),
            Self::Manifest => formatter.write_str("manifest"),
            Self::Config => formatter.write_str("config"),
            Self::Layer(position) => write!(formatter, "layer {}", position + 1),
        }
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The blob is not in the store.
    Missing {
        /// What it is.
        role: BlobRole,
        /// Its digest.
        digest: Digest,
    },
    /// The blob has another size than its descriptor states.
    Size {
        /// What it is.
        role: BlobRole,
        /// Its digest.
        digest: Digest,
        /// The size stated.
        expected: u64,
        /// The size found.
        found: u64,
    },
    /// The blob's content does not hash to its digest.
    Digest {
        /// What it is.
        role: BlobRole,
        /// The digest it is stored under.
        digest: Digest,
        /// The digest of its content.
        found: Digest,
    },
    /// The blob could not be read, or (a layer) decompressed.
    Unreadable {
        /// What it is.
        role: BlobRole,
        /// Its digest.
        digest: Digest,
        /// Why.
        problem: String,
    },
    /// A manifest or config does not parse.
    Invalid {
        /// What it is.
        role: BlobRole,
        /// Its digest.
        digest: Digest,
        /// Why.
        problem: String,
    },
    /// A layer's media type is not a known layer type (its diffID cannot be checked).
    MediaType {
        /// The layer.
        role: BlobRole,
        /// Its digest.
        digest: Digest,
        /// The media type.
        media_type: String,
    },
    /// The manifest lists another number of layers than the config lists diffIDs.
    LayerCount {
        /// The manifest.
        manifest: Digest,
        /// Layers in the manifest.
        layers: usize,
        /// Number of diffIDs in the config.
        diff_ids: usize,
    },
    /// A layer decompresses to another tar stream than its diffID names.
    DiffId {
        /// The layer.
        role: BlobRole,
        /// Its digest.
        digest: Digest,
        /// The diffID in the config.
        expected: Digest,
        /// The digest of the decompressed stream.
        found: Digest,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { role, digest } => write!(formatter, "{role} {digest} is missing"),
            Self::Size {
                role,
                digest,
                expected,
                found,
            } => write!(
                formatter,
                "{role} {digest} has {found} bytes, its descriptor says {expected}"
            ),
            Self::Digest {
                role,
                digest,
                found,
            } => write!(
                formatter,
                "{role} {digest} is corrupt: its content hashes to {found}"
            ),
            Self::Unreadable {
                role,
                digest,
                problem,
            } => write!(formatter, "{role} {digest} cannot be read: {problem}"),
            Self::Invalid {
                role,
                digest,
                problem,
            } => write!(formatter, "{role} {digest} is not valid: {problem}"),
            Self::MediaType {
                role,
                digest,
                media_type,
            } => write!(
                formatter,
                "{role} {digest} has media type `{media_type}`, not a known layer type"
            ),
            Self::LayerCount {
                manifest,
                layers,
                diff_ids,
            } => write!(
                formatter,
                "manifest {manifest} lists {layers} layers but its config lists {diff_ids} diffIDs"
            ),
            Self::DiffId {
                role,
                digest,
                expected,
                found,
            } => write!(
                formatter,
                "{role} {digest} decompresses to {found}, but the config lists {expected}"
            ),
        }
    }
}

/// What to check besides digests, sizes and consistency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Decompress every layer and check it against its diffID (reads each layer once either
    /// way; decompressing costs CPU).
    pub diff_ids: bool,
}

impl VerifyOptions {
    /// With or without the diffID check.
    #[must_use]
    pub fn with_diff_ids(mut self, check: bool) -> Self {
        self.diff_ids = check;
        self
    }
}

/// Checks the image (or index of images) whose manifest is `manifest` in `store`. An empty
/// list means every check passed.
#[must_use]
pub fn verify_image(store: &BlobStore, manifest: &Digest, options: &VerifyOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    verify_manifest(store, manifest, None, options, None, &mut findings, 0);
    findings
}

/// [`verify_image`], except that a layer whose file `verified` says was found whole, and has
/// not been written to since, is not read again; the layers found whole now are added to it
/// (to keep, call [`VerifiedBlobs::save`]). Manifests and configs are small: they are always
/// read and hashed.
#[must_use]
pub fn verify_image_reusing(
    store: &BlobStore,
    manifest: &Digest,
    options: &VerifyOptions,
    verified: &mut VerifiedBlobs,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    verify_manifest(
        store,
        manifest,
        None,
        options,
        Some(verified),
        &mut findings,
        0,
    );
    findings
}

/// Indexes nested deeper than this are not followed.
const MOST_NESTED_INDEXES: usize = 4;

fn verify_manifest(
    store: &BlobStore,
    digest: &Digest,
    size: Option<u64>,
    options: &VerifyOptions,
    mut verified: Option<&mut VerifiedBlobs>,
    findings: &mut Vec<Finding>,
    depth: usize,
) {
    let Some(bytes) = read_small(store, BlobRole::Manifest, digest, size, findings) else {
        return;
    };
    let parsed = match parse_manifest(&bytes, None) {
        Ok(parsed) => parsed,
        Err(error) => {
            findings.push(Finding::Invalid {
                role: BlobRole::Manifest,
                digest: digest.clone(),
                problem: chain_text(&error),
            });
            return;
        }
    };
    let manifest = match parsed {
        ParsedManifest::Image(manifest) => manifest,
        ParsedManifest::Index(index) => {
            if depth >= MOST_NESTED_INDEXES {
                findings.push(Finding::Invalid {
                    role: BlobRole::Index,
                    digest: digest.clone(),
                    problem: format!("indexes nest more than {MOST_NESTED_INDEXES} deep"),
                });
                return;
            }
            for entry in &index.manifests {
                verify_manifest(
                    store,
                    &entry.digest,
                    Some(entry.size),
                    options,
                    verified.as_deref_mut(),
                    findings,
                    depth + 1,
                );
            }
            return;
        }
    };
    let config_digest = &manifest.config.digest;
    let diff_ids = read_small(
        store,
        BlobRole::Config,
        config_digest,
        Some(manifest.config.size),
        findings,
    )
    .and_then(
        |bytes| match serde_json::from_slice::<ImageConfiguration>(&bytes) {
            Ok(config) => Some(config.rootfs.diff_ids),
            Err(error) => {
                findings.push(Finding::Invalid {
                    role: BlobRole::Config,
                    digest: config_digest.clone(),
                    problem: error.to_string(),
                });
                None
            }
        },
    );
    if let Some(diff_ids) = &diff_ids
        && diff_ids.len() != manifest.layers.len()
    {
        findings.push(Finding::LayerCount {
            manifest: digest.clone(),
            layers: manifest.layers.len(),
            diff_ids: diff_ids.len(),
        });
    }
    for (position, layer) in manifest.layers.iter().enumerate() {
        let diff_id = if options.diff_ids {
            diff_ids
                .as_ref()
                .and_then(|diff_ids| diff_ids.get(position))
        } else {
            None
        };
        verify_layer(
            store,
            BlobRole::Layer(position),
            layer,
            diff_id,
            verified.as_deref_mut(),
            findings,
        );
    }
}

/// Reads a manifest or config whole, recording what is wrong with it; `None` when it cannot
/// be parsed at all.
fn read_small(
    store: &BlobStore,
    role: BlobRole,
    digest: &Digest,
    size: Option<u64>,
    findings: &mut Vec<Finding>,
) -> Option<Vec<u8>> {
    let file = open(store, role, digest, size, findings)?;
    let bytes = match read_bounded(file, MAX_SMALL_BLOB, &format!("the {role}")) {
        Ok(bytes) => bytes,
        Err(error) => {
            findings.push(Finding::Unreadable {
                role,
                digest: digest.clone(),
                problem: error.to_string(),
            });
            return None;
        }
    };
    let found = Digest::of(&bytes);
    if &found != digest {
        findings.push(Finding::Digest {
            role,
            digest: digest.clone(),
            found,
        });
    }
    Some(bytes)
}

/// Opens a blob, recording a missing blob or a wrong size (the blob is still returned then, so
/// its digest is checked too).
fn open(
    store: &BlobStore,
    role: BlobRole,
    digest: &Digest,
    size: Option<u64>,
    findings: &mut Vec<Finding>,
) -> Option<fs_err::File> {
    let file = match store.open(digest, None) {
        Ok(file) => file,
        Err(BlobStoreError::Missing { .. }) => {
            findings.push(Finding::Missing {
                role,
                digest: digest.clone(),
            });
            return None;
        }
        Err(error) => {
            findings.push(Finding::Unreadable {
                role,
                digest: digest.clone(),
                problem: chain_text(&error),
            });
            return None;
        }
    };
    if let Some(expected) = size {
        match file.metadata() {
            Ok(metadata) if metadata.len() != expected => findings.push(Finding::Size {
                role,
                digest: digest.clone(),
                expected,
                found: metadata.len(),
            }),
            Ok(_) => {}
            Err(error) => findings.push(Finding::Unreadable {
                role,
                digest: digest.clone(),
                problem: error.to_string(),
            }),
        }
    }
    Some(file)
}

/// Hashes a layer blob and, when `diff_id` is given, its decompressed stream, in one read;
/// unless `verified` says that its file, untouched since, was found to hold them.
fn verify_layer(
    store: &BlobStore,
    role: BlobRole,
    layer: &Descriptor,
    diff_id: Option<&Digest>,
    verified: Option<&mut VerifiedBlobs>,
    findings: &mut Vec<Finding>,
) {
    let digest = &layer.digest;
    let Some(file) = open(store, role, digest, Some(layer.size), findings) else {
        return;
    };
    // The stamp of the file opened (not of whatever the path names later): the one read.
    let stamp = verified
        .as_ref()
        .and_then(|_| FileStamp::of_file(file.file()))
        .filter(|stamp| stamp.size == layer.size);
    if let (Some(verified), Some(stamp)) = (verified, stamp) {
        if verified.holds(&stamp, digest, diff_id) {
            verified.touch(&stamp);
            return;
        }
        let read_started = std::time::SystemTime::now();
        let known = findings.len();
        let file = hash_layer(file, role, layer, diff_id, findings);
        // Whole, and not written to while it was read.
        if findings.len() == known
            && file
                .and_then(|file| FileStamp::of_file(file.file()))
                .is_some_and(|after| after == stamp)
        {
            verified.record(stamp, digest, diff_id, read_started);
        }
        return;
    }
    hash_layer(file, role, layer, diff_id, findings);
}

/// Hashes the open layer blob `file` and, when `diff_id` is given, its decompressed stream, in
/// one read; returns the file when it was read to its end.
fn hash_layer(
    file: fs_err::File,
    role: BlobRole,
    layer: &Descriptor,
    diff_id: Option<&Digest>,
    findings: &mut Vec<Finding>,
) -> Option<fs_err::File> {
    let digest = &layer.digest;
    let mut tee = HashingReader {
        inner: io::BufReader::with_capacity(256 * 1024, file),
        hasher: Hasher::new(),
    };
    let unreadable = |problem: String| Finding::Unreadable {
        role,
        digest: digest.clone(),
        problem,
    };
    if let Some(expected) = diff_id {
        match layer_encoding(&layer.media_type) {
            Some(encoding) => {
                let mut tar = HashingWriter::new(io::sink());
                let decoded = decoder(encoding, &mut tee)
                    .and_then(|mut reader| io::copy(&mut reader, &mut tar));
                match decoded {
                    Ok(_) => {
                        let (_, found, _) = tar.finish();
                        if &found != expected {
                            findings.push(Finding::DiffId {
                                role,
                                digest: digest.clone(),
                                expected: expected.clone(),
                                found,
                            });
                        }
                    }
                    Err(error) => {
                        findings.push(unreadable(format!("it does not decompress: {error}")));
                    }
                }
            }
            None => findings.push(Finding::MediaType {
                role,
                digest: digest.clone(),
                media_type: layer.media_type.clone(),
            }),
        }
    }
    // Whatever the decoder left unread (or all of it, without the diffID check).
    if let Err(error) = io::copy(&mut tee, &mut io::sink()) {
        findings.push(unreadable(error.to_string()));
        return None;
    }
    let (found, _) = tee.hasher.finish();
    if &found != digest {
        findings.push(Finding::Digest {
            role,
            digest: digest.clone(),
            found,
        });
    }
    Some(tee.inner.into_inner())
}

/// A reader that hashes what it reads.
struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.hasher.update(&buffer[..read]);
        Ok(read)
    }
}
