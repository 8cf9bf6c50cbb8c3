//! The image model (our own serde structs: every map a `BTreeMap`, fields in a fixed order, so
//! the same image always serializes to the same bytes) and the assembly of a new image from a
//! base image, new layers and configuration changes.

mod assemble;
mod config;
mod manifest;

pub use assemble::{
    AssembleError, AssembledImage, BaseImage, ConfigChanges, ManifestFormat, NewLayer, assemble,
    epoch_to_rfc3339,
};
pub use config::{ContainerConfig, History, ImageConfiguration, RootFs};
pub use eider_oci_types::{Descriptor, Platform};
pub use manifest::{ImageIndex, ImageManifest, ManifestError, ParsedManifest, parse_manifest};
