//! A job packaged as a reproducible OCI image. The primary container's image is the base (its
//! layers reused, never rebuilt); a layer of the job's dependencies (paths listed in
//! `eider.toml`) and one of the source go on top; the config runs the job's command with its
//! environment and says where the image came from. Sidecars keep their own images, recorded by
//! digest. The same source, Drakefile and base give the same digest, anywhere.
//!
//! [`Plan::prepare`] decides everything that needs no engine or registry; [`Plan::package`]
//! makes the package and writes it to every destination.

mod base;
mod config;
mod description;
mod error;
mod layers;
mod package;
mod plan;
mod provenance;
mod publish;
mod request;
mod secrets;
mod settings;
mod stream_upload;

pub use base::{BaseError, BaseStep};
pub use description::{BaseDescription, Description, LayerDescription, SidecarImage};
pub use error::PackageError;
pub use plan::{Plan, SECRETS_FILE_NAME};
pub(crate) use plan::{absolute, secrets_files};
pub use provenance::ProvenanceError;
pub use publish::{ArchiveError, PublishError, Published};
pub use request::{PackageRequest, Project};
pub(crate) use secrets::Secrets;
pub use secrets::{Place, SecretsError};
pub use settings::SettingsError;
pub use stream_upload::BuildError;
pub(crate) use stream_upload::build_layer;
