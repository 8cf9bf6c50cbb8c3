//! The OCI basics that eider's image code (`eider-oci`) and its registry client
//! (`eider-registry`) share, so that a digest, a media type, a descriptor or a platform is one
//! type on both sides: [`Digest`] (always a valid `sha256:` digest), the [`media_type`] names,
//! [`Descriptor`] and [`Platform`].
//!
//! A leaf: it depends on no other eider crate, and on nothing heavier than serde and sha2.

mod descriptor;
mod digest;
pub mod media_type;

pub use descriptor::{Descriptor, Platform, PlatformError};
pub use digest::{Digest, DigestError, Hasher, HashingWriter};
