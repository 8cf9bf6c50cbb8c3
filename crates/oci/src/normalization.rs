//! The version of the rules that make images reproducible. Any change to the bytes this crate
//! produces for the same input (tar headers, ordering, compressor, chunk size, levels, JSON)
//! must bump it: the version is recorded in every image, and keys the layer cache.

/// The current version of the normalization rules.
pub const NORMALIZATION_VERSION: u32 = 1;

/// The label (in the image config) and annotation (on the manifest) that record the version.
pub const NORMALIZATION_LABEL: &str = "dev.eider.normalization";
