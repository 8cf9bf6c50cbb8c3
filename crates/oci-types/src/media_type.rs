//! Media types of the OCI image specification and of Docker's image manifest v2 schema 2, and
//! the mapping between their layer types (the blobs are the same bytes; only the names differ).

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI layer, uncompressed tar.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI layer, gzip-compressed tar.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI layer, zstd-compressed tar.
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// OCI non-distributable layer, uncompressed tar (deprecated by the specification, still met).
pub const OCI_NONDISTRIBUTABLE_LAYER_TAR: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
/// OCI non-distributable layer, gzip-compressed tar (deprecated, still met).
pub const OCI_NONDISTRIBUTABLE_LAYER_GZIP: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
/// OCI non-distributable layer, zstd-compressed tar (deprecated, still met).
pub const OCI_NONDISTRIBUTABLE_LAYER_ZSTD: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

/// Docker image manifest v2 schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (the Docker counterpart of an OCI index).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker layer, gzip-compressed tar.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker layer, uncompressed tar (not in the schema, but written by some tools).
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
/// Docker foreign layer (the counterpart of OCI non-distributable layers).
pub const DOCKER_FOREIGN_LAYER_GZIP: &str =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/// Docker image manifest v2 schema 1 (signed): obsolete, refused.
pub const DOCKER_MANIFEST_SCHEMA1_SIGNED: &str =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
/// Docker image manifest v2 schema 1 (unsigned): obsolete, refused.
pub const DOCKER_MANIFEST_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";

/// How a layer blob is compressed, from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerEncoding {
    /// Plain tar.
    Tar,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

/// The encoding of a layer media type, `None` for what is not a known layer type.
#[must_use]
pub fn layer_encoding(media_type: &str) -> Option<LayerEncoding> {
    match media_type {
        OCI_LAYER_TAR | OCI_NONDISTRIBUTABLE_LAYER_TAR | DOCKER_LAYER_TAR => {
            Some(LayerEncoding::Tar)
        }
        OCI_LAYER_GZIP
        | OCI_NONDISTRIBUTABLE_LAYER_GZIP
        | DOCKER_LAYER_GZIP
        | DOCKER_FOREIGN_LAYER_GZIP => Some(LayerEncoding::Gzip),
        OCI_LAYER_ZSTD | OCI_NONDISTRIBUTABLE_LAYER_ZSTD => Some(LayerEncoding::Zstd),
        _ => None,
    }
}

/// The OCI name of a layer media type (itself when it is already OCI).
#[must_use]
pub fn oci_layer(media_type: &str) -> Option<&'static str> {
    Some(match media_type {
        OCI_LAYER_TAR | DOCKER_LAYER_TAR => OCI_LAYER_TAR,
        OCI_LAYER_GZIP | DOCKER_LAYER_GZIP => OCI_LAYER_GZIP,
        OCI_LAYER_ZSTD => OCI_LAYER_ZSTD,
        OCI_NONDISTRIBUTABLE_LAYER_TAR => OCI_NONDISTRIBUTABLE_LAYER_TAR,
        OCI_NONDISTRIBUTABLE_LAYER_GZIP | DOCKER_FOREIGN_LAYER_GZIP => {
            OCI_NONDISTRIBUTABLE_LAYER_GZIP
        }
        OCI_NONDISTRIBUTABLE_LAYER_ZSTD => OCI_NONDISTRIBUTABLE_LAYER_ZSTD,
        _ => return None,
    })
}

/// The Docker name of a layer media type; `None` for zstd, which Docker's schema lacks.
#[must_use]
pub fn docker_layer(media_type: &str) -> Option<&'static str> {
    Some(match media_type {
        OCI_LAYER_TAR | DOCKER_LAYER_TAR => DOCKER_LAYER_TAR,
        OCI_LAYER_GZIP | DOCKER_LAYER_GZIP => DOCKER_LAYER_GZIP,
        OCI_NONDISTRIBUTABLE_LAYER_GZIP | DOCKER_FOREIGN_LAYER_GZIP => DOCKER_FOREIGN_LAYER_GZIP,
        _ => return None,
    })
}

/// Whether the media type is an image index or a manifest list.
#[must_use]
pub fn is_index(media_type: &str) -> bool {
    matches!(media_type, OCI_INDEX | DOCKER_MANIFEST_LIST)
}

/// Whether the media type is an image manifest (OCI or Docker schema 2).
#[must_use]
pub fn is_manifest(media_type: &str) -> bool {
    matches!(media_type, OCI_MANIFEST | DOCKER_MANIFEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_types_map_both_ways() {
        assert_eq!(docker_layer(OCI_LAYER_GZIP), Some(DOCKER_LAYER_GZIP));
        assert_eq!(oci_layer(DOCKER_LAYER_GZIP), Some(OCI_LAYER_GZIP));
        assert_eq!(docker_layer(OCI_LAYER_ZSTD), None);
        assert_eq!(oci_layer(OCI_LAYER_ZSTD), Some(OCI_LAYER_ZSTD));
        assert_eq!(
            oci_layer(DOCKER_FOREIGN_LAYER_GZIP),
            Some(OCI_NONDISTRIBUTABLE_LAYER_GZIP)
        );
        assert_eq!(oci_layer("text/plain"), None);
    }

    #[test]
    fn encodings_come_from_the_suffix() {
        assert_eq!(layer_encoding(DOCKER_LAYER_GZIP), Some(LayerEncoding::Gzip));
        assert_eq!(layer_encoding(OCI_LAYER_ZSTD), Some(LayerEncoding::Zstd));
        assert_eq!(layer_encoding(OCI_LAYER_TAR), Some(LayerEncoding::Tar));
        assert_eq!(layer_encoding(OCI_CONFIG), None);
    }
}
