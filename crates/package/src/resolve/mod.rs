//! Image references resolved to digests, and the registry client they are resolved through.

mod image;
mod registry_access;

pub use image::{
    ImageSource, NotLocal, ResolveError, ResolveFrom, Resolved, connect_daemon, is_image_id,
    pinned_reference, resolve,
};
pub use registry_access::{AccessError, RegistryAccess, registry_of};
