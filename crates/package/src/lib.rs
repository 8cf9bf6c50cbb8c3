//! Packaging DrakeSpec jobs as reproducible OCI images, and what goes with it: image references
//! resolved to digests ([`resolve`]), `Drakefile.lock` ([`lock`]), a job packaged on its primary
//! container's image and written where it was asked to go ([`build`]), a package checked blob
//! by blob ([`verify`]), a job pointed at its package to run from it ([`use_package`]), and a
//! project's tree published as an image a cluster can pull ([`source_image`]).
//!
//! The library prints nothing and never exits: progress goes to an [`Observer`] as typed
//! [`Event`]s, and every operation fails with an error enum of its own, for the caller to render.
//! Signals are the process's: a caller that wants the temporary files of an interrupted package
//! gone removes them with `eider_oci::temporary::remove_all`.

pub mod build;
mod engine_load;
pub mod keys;
mod location;
pub mod lock;
mod progress;
pub mod resolve;
mod run_from_package;
pub mod source_image;
mod sweep;
pub mod verify;

pub use build::{
    Description, PackageError, PackageRequest, Plan, Project, SECRETS_FILE_NAME, SecretsError,
};
pub use engine_load::EngineLoadError;
pub use location::{ImageLocation, LOCATION_FORMS, LocationError};
pub use lock::{LockFile, LockFileError};
pub use progress::{Event, NoObserver, Observer};
pub use resolve::{RegistryAccess, ResolveFrom};
pub use run_from_package::{JobNotFound, use_package};
pub use source_image::{
    SOURCE_PATH_IN_IMAGE, SourceImage, SourceImageError, SourceImageRequest, publish_source_image,
};
pub use sweep::sweep_cache;
