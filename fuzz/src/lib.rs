//! What the fuzz targets share: the invariants every Drakefile report must keep, and the way a
//! flat fuzz input becomes a set of linked blobs (a manifest that names its config by digest).

pub mod linked_blobs;
pub mod report_invariants;
