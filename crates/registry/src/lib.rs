//! eider's client of the OCI distribution API: pulls base images (manifests, blobs into a blob
//! store) and pushes packaged images (blobs skipped when present, mounted across repositories,
//! uploaded in one streaming request each, several at once; the manifest last).
//!
//! It deals in the OCI basics of `eider-oci-types` (digests, media types, platforms), bytes, and
//! blob files in a store laid out as `ROOT/blobs/sha256/HEX`; it depends on no other eider
//! crate, so that reading and writing registries needs nothing of the image builder.
//! Credentials come from the Docker configuration or the caller and never appear in errors or
//! `Debug` output.

mod auth;
mod blob_pull;
mod blob_store;
mod blob_stream;
mod blob_upload;
mod challenge;
mod client;
mod credential_helper;
mod credentials;
mod docker_config;
mod manifest_pull;
mod media_type;
mod platform;
mod progress;
mod push;
mod reference;
mod request_error;
mod retry;
mod transport;

pub use blob_pull::{BlobFetchError, FetchedBlob};
pub use blob_store::{blob_directory, blob_path};
pub use client::{ClientError, ClientOptions, RegistryClient, UploadMode};
pub use credential_helper::HelperError;
pub use credentials::{Credentials, CredentialsFormatError, Secret};
pub use docker_config::{CredentialError, CredentialSource, DockerConfigLocation};
pub use manifest_pull::{Manifest, ManifestError, PulledManifest};
pub use progress::{PushEvent, PushProgress, no_progress};
pub use push::{BlobOutcome, BlobReport, BlobSource, PushError, PushReport, PushRequest};
pub use reference::{
    DEFAULT_TAG, DOCKER_HUB_REGISTRY, Reference, ReferenceError, ReferenceErrorKind, Repository,
};
pub use request_error::{RegistryErrorEntry, RequestError};
pub use retry::RetryPolicy;
