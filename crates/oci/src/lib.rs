//! Reproducible OCI images without a daemon: layers built from directory trees (byte-for-byte
//! the same for the same tree, wherever and whenever it is built), reused from a cache when the
//! tree has not changed, assembled on a base image into a config and a manifest, and written as
//! an OCI image layout or a Docker archive; plus a reader of OCI layouts (as base images) and a
//! verifier of stored images.
//!
//! Everything is synchronous, on `std` I/O: callers in async code run it on a blocking thread.
//! Nothing here touches the network or a container engine.
//!
//! The pieces, in the order a package is made:
//! 1. [`LayerSpec`] says what goes into a layer; [`LayerCache::build_layer`] (or
//!    [`build_layer`]) streams it into a [`BlobStore`] as a [`LayerBlob`].
//! 2. [`assemble`] puts a [`BaseImage`], the [`NewLayer`]s and the [`ConfigChanges`] together
//!    into an [`AssembledImage`].
//! 3. [`OciLayout::write_image`] or [`write_docker_archive`] writes it out.
//! 4. [`verify_image`] checks a stored image.
//!
//! The bytes produced follow the rules of [`NORMALIZATION_VERSION`], recorded in every image.

mod blob_store;
mod decompress;
mod docker_archive;
mod file_stamp;
pub mod image;
mod layer;
mod layout;
mod normalization;
pub mod temporary;
mod verified;
mod verify;

pub use blob_store::{BlobStore, BlobStoreError, BlobWriter, MAX_SMALL_BLOB, find_blob};
pub use decompress::open_layer;
// The basics shared with the registry client live in a leaf crate of their own.
pub use docker_archive::{DockerArchiveError, write_docker_archive};
pub use eider_oci_types::{
    Descriptor, Digest, DigestError, Hasher, HashingWriter, Platform, PlatformError, media_type,
};
pub use image::{
    AssembleError, AssembledImage, BaseImage, ConfigChanges, ImageConfiguration, ImageIndex,
    ImageManifest, ManifestFormat, NewLayer, ParsedManifest, assemble, epoch_to_rfc3339,
    parse_manifest,
};
pub use layer::{
    BuiltLayer, Compression, LayerBlob, LayerCache, LayerError, LayerSpec, Reuse, Selection,
    build_layer, compress_tar,
};
pub use layout::{LayoutError, OciLayout, OciLayoutReference, REF_NAME_ANNOTATION, ResolvedImage};
pub use normalization::{NORMALIZATION_LABEL, NORMALIZATION_VERSION};

pub use verified::VerifiedBlobs;
pub use verify::{BlobRole, Finding, VerifyOptions, verify_image, verify_image_reusing};
