//! A new image from a base image, new layers and configuration changes. The base's layers are
//! listed unchanged (same blobs, same digests); the config and manifest are built from the
//! inputs alone (the epoch for every time, no host or tool details), so the same inputs always
//! give the same bytes and digests.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use super::config::{ContainerConfig, History, ImageConfiguration, RootFs};
use super::manifest::{ImageManifest, ManifestError, ParsedManifest, parse_manifest};
use crate::blob_store::{BlobStore, BlobStoreError};
use crate::layer::LayerBlob;
use crate::media_type;
use crate::normalization::{NORMALIZATION_LABEL, NORMALIZATION_VERSION};
use eider_oci_types::Digest;
use eider_oci_types::{Descriptor, Platform};

/// The image a package is built on: its manifest (for the layer descriptors) and its config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    /// The base's manifest.
    pub manifest: ImageManifest,
    /// The base's config.
    pub config: ImageConfiguration,
}

/// A layer to add on top of the base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLayer {
    /// The layer's blob.
    pub blob: LayerBlob,
    /// What the history says made it, e.g. `eider: source at /src`.
    pub created_by: String,
}

/// How the new image's config differs from the base's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigChanges {
    /// A new entrypoint. As with Docker's `ENTRYPOINT`, setting it also replaces the base's
    /// command, by [`ConfigChanges::cmd`] (none when that is `None`).
    pub entrypoint: Option<Vec<String>>,
    /// A new command.
    pub cmd: Option<Vec<String>>,
    /// Environment variables in order: one the base sets is replaced where it stands, a new one
    /// is appended.
    pub env: Vec<(String, String)>,
    /// A new working directory.
    pub working_dir: Option<String>,
    /// A new user.
    pub user: Option<String>,
    /// Labels added to (or replacing) the base's.
    pub labels: BTreeMap<String, String>,
    /// Annotations of the manifest (OCI format only: Docker's schema has none).
    pub annotations: BTreeMap<String, String>,
}

/// Which media types the manifest uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ManifestFormat {
    /// OCI image manifest and config.
    #[default]
    Oci,
    /// Docker image manifest v2 schema 2, for engines that predate OCI (no zstd layers).
    Docker,
}

/// The assembled image: config and manifest as bytes, with their descriptors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledImage {
    /// The config, as stored.
    pub config: Vec<u8>,
    /// The config's descriptor.
    pub config_descriptor: Descriptor,
    /// The manifest, as stored.
    pub manifest: Vec<u8>,
    /// The manifest's descriptor: its digest is the image's digest.
    pub manifest_descriptor: Descriptor,
    /// The layers, base first, as the manifest lists them.
    pub layers: Vec<Descriptor>,
    /// The layers' diffIDs, in the same order.
    pub diff_ids: Vec<Digest>,
}

impl AssembledImage {
    /// The image's digest (the manifest's).
    #[must_use]
    pub fn digest(&self) -> &Digest {
        &self.manifest_descriptor.digest
    }

    /// Stores the config and the manifest in `store` (the layers are there already).
    pub fn write_to(&self, store: &BlobStore) -> Result<(), BlobStoreError> {
        store.write(&self.config)?;
        store.write(&self.manifest)?;
        Ok(())
    }
}

/// Why an image cannot be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    /// The base manifest does not parse.
    #[error("the base image's manifest is not usable")]
    Manifest(#[from] ManifestError),
    /// The base manifest is an index: a platform must be chosen first.
    #[error("the base image's manifest is an index; select one platform's manifest first")]
    BaseIsIndex,
    /// The base config does not parse.
    #[error("the base image's config is not a valid image config")]
    Config(#[source] serde_json::Error),
    /// The base config is not the one the manifest names.
    #[error("the base image's config hashes to {found}, but its manifest names {expected}")]
    ConfigDigest {
        /// The digest in the manifest.
        expected: Digest,
        /// The digest of the bytes given.
        found: Digest,
    },
    /// The base lists a different number of layers and diffIDs.
    #[error("the base image has {layers} layers but its config lists {diff_ids} diffIDs")]
    BaseLayerCount {
        /// Layers in the manifest.
        layers: usize,
        /// Number of diffIDs in the config.
        diff_ids: usize,
    },
    /// A layer's media type has no name in the manifest format asked for.
    #[error("layer {digest} of type `{media_type}` cannot be listed in a {format} manifest")]
    LayerMediaType {
        /// The layer.
        digest: Digest,
        /// Its media type.
        media_type: String,
        /// `OCI` or `Docker`.
        format: &'static str,
    },
    /// An environment variable name is empty or contains `=`.
    #[error("`{name}` is not a valid environment variable name")]
    EnvironmentName {
        /// The name given.
        name: String,
    },
}

impl BaseImage {
    /// Parses a base image's manifest and config, checking that the config is the one the
    /// manifest names.
    pub fn parse(manifest: &[u8], config: &[u8]) -> Result<Self, AssembleError> {
        let ParsedManifest::Image(manifest) = parse_manifest(manifest, None)? else {
            return Err(AssembleError::BaseIsIndex);
        };
        let found = Digest::of(config);
        if found != manifest.config.digest {
            return Err(AssembleError::ConfigDigest {
                expected: manifest.config.digest,
                found,
            });
        }
        let config = serde_json::from_slice(config).map_err(AssembleError::Config)?;
        Ok(Self { manifest, config })
    }

    /// No base: an empty image for `platform`.
    #[must_use]
    pub fn scratch(platform: &Platform) -> Self {
        let config = ImageConfiguration {
            created: None,
            author: None,
            architecture: platform.architecture.clone(),
            os: platform.os.clone(),
            os_version: platform.os_version.clone(),
            os_features: platform.os_features.clone(),
            variant: platform.variant.clone(),
            config: None,
            rootfs: RootFs::empty(),
            history: Vec::new(),
        };
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(media_type::OCI_MANIFEST.to_owned()),
            artifact_type: None,
            config: Descriptor::new(media_type::OCI_CONFIG, Digest::of(b"{}"), 2),
            layers: Vec::new(),
            subject: None,
            annotations: BTreeMap::new(),
        };
        Self { manifest, config }
    }
}

/// `epoch` (seconds since 1970) as RFC 3339 in UTC, e.g. `2024-05-01T12:00:00Z`.
#[must_use]
pub fn epoch_to_rfc3339(epoch: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(epoch)).to_string()
}

/// Assembles the image: the base's layers then `layers`, the base's config with `changes`,
/// `created` and the new history entries at `epoch`, and the normalization version as a label
/// (and, in the OCI format, an annotation).
pub fn assemble(
    base: &BaseImage,
    layers: &[NewLayer],
    changes: &ConfigChanges,
    epoch: u64,
    format: ManifestFormat,
) -> Result<AssembledImage, AssembleError> {
    let base_diff_ids = &base.config.rootfs.diff_ids;
    if base.manifest.layers.len() != base_diff_ids.len() {
        return Err(AssembleError::BaseLayerCount {
            layers: base.manifest.layers.len(),
            diff_ids: base_diff_ids.len(),
        });
    }
    let created = epoch_to_rfc3339(epoch);

    let mut descriptors = Vec::with_capacity(base.manifest.layers.len() + layers.len());
    for layer in &base.manifest.layers {
        descriptors.push(layer_descriptor(layer.clone(), format)?);
    }
    for layer in layers {
        let descriptor = Descriptor::new(
            layer.blob.media_type.clone(),
            layer.blob.digest.clone(),
            layer.blob.size,
        );
        descriptors.push(layer_descriptor(descriptor, format)?);
    }
    let mut diff_ids = base_diff_ids.clone();
    diff_ids.extend(layers.iter().map(|layer| layer.blob.diff_id.clone()));

    let mut history = base.config.history.clone();
    history.extend(layers.iter().map(|layer| History {
        created: Some(created.clone()),
        author: None,
        created_by: Some(layer.created_by.clone()),
        comment: None,
        empty_layer: None,
    }));

    let config = ImageConfiguration {
        created: Some(created),
        author: base.config.author.clone(),
        architecture: base.config.architecture.clone(),
        os: base.config.os.clone(),
        os_version: base.config.os_version.clone(),
        os_features: base.config.os_features.clone(),
        variant: base.config.variant.clone(),
        config: Some(container_config(
            base.config.config.clone().unwrap_or_default(),
            changes,
        )?),
        rootfs: RootFs {
            kind: "layers".to_owned(),
            diff_ids: diff_ids.clone(),
        },
        history,
    };
    let config_bytes = to_json(&config);
    let (manifest_type, config_type) = match format {
        ManifestFormat::Oci => (media_type::OCI_MANIFEST, media_type::OCI_CONFIG),
        ManifestFormat::Docker => (media_type::DOCKER_MANIFEST, media_type::DOCKER_CONFIG),
    };
    let config_descriptor = Descriptor::new(
        config_type,
        Digest::of(&config_bytes),
        config_bytes.len() as u64,
    );

    let annotations = match format {
        ManifestFormat::Oci => {
            let mut annotations = changes.annotations.clone();
            annotations.insert(
                NORMALIZATION_LABEL.to_owned(),
                NORMALIZATION_VERSION.to_string(),
            );
            annotations
        }
        ManifestFormat::Docker => BTreeMap::new(),
    };
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(manifest_type.to_owned()),
        artifact_type: None,
        config: config_descriptor.clone(),
        layers: descriptors.clone(),
        subject: None,
        annotations,
    };
    let manifest_bytes = to_json(&manifest);
    let manifest_descriptor = Descriptor::new(
        manifest_type,
        Digest::of(&manifest_bytes),
        manifest_bytes.len() as u64,
    );
    Ok(AssembledImage {
        config: config_bytes,
        config_descriptor,
        manifest: manifest_bytes,
        manifest_descriptor,
        layers: descriptors,
        diff_ids,
    })
}

fn container_config(
    mut config: ContainerConfig,
    changes: &ConfigChanges,
) -> Result<ContainerConfig, AssembleError> {
    if let Some(entrypoint) = &changes.entrypoint {
        config.entrypoint = Some(entrypoint.clone());
        config.cmd.clone_from(&changes.cmd);
    } else if let Some(cmd) = &changes.cmd {
        config.cmd = Some(cmd.clone());
    }
    for (name, value) in &changes.env {
        if name.is_empty() || name.contains('=') {
            return Err(AssembleError::EnvironmentName { name: name.clone() });
        }
        let entry = format!("{name}={value}");
        let existing = config
            .env
            .iter_mut()
            .find(|existing| existing.split('=').next() == Some(name.as_str()));
        match existing {
            Some(existing) => *existing = entry,
            None => config.env.push(entry),
        }
    }
    if let Some(working_dir) = &changes.working_dir {
        config.working_dir = Some(working_dir.clone());
    }
    if let Some(user) = &changes.user {
        config.user = Some(user.clone());
    }
    config.labels.extend(changes.labels.clone());
    config.labels.insert(
        NORMALIZATION_LABEL.to_owned(),
        NORMALIZATION_VERSION.to_string(),
    );
    Ok(config)
}

/// The descriptor with the layer media type of `format`; the blob is untouched. Docker's schema
/// has no annotations on layers, so they are left out there.
fn layer_descriptor(
    mut descriptor: Descriptor,
    format: ManifestFormat,
) -> Result<Descriptor, AssembleError> {
    let converted = match format {
        ManifestFormat::Oci => media_type::oci_layer(&descriptor.media_type),
        ManifestFormat::Docker => media_type::docker_layer(&descriptor.media_type),
    };
    let Some(converted) = converted else {
        return Err(AssembleError::LayerMediaType {
            digest: descriptor.digest,
            media_type: descriptor.media_type,
            format: match format {
                ManifestFormat::Oci => "OCI",
                ManifestFormat::Docker => "Docker",
            },
        });
    };
    converted.clone_into(&mut descriptor.media_type);
    if format == ManifestFormat::Docker {
        descriptor.annotations.clear();
    }
    Ok(descriptor)
}

/// Compact JSON. Serializing these structs cannot fail: every map has string keys.
fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Compression;

    fn blob(name: &[u8], compression: Compression) -> LayerBlob {
        LayerBlob {
            diff_id: Digest::of(&[name, b"-tar"].concat()),
            digest: Digest::of(name),
            size: 10,
            media_type: compression.media_type().to_owned(),
        }
    }

    fn base() -> BaseImage {
        let config = r#"{"architecture":"amd64","os":"linux","container":"leak",
            "config":{"Env":["PATH=/usr/bin","LANG=C"],"Cmd":["sh"],"Labels":{"base":"yes"}},
            "rootfs":{"type":"layers","diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111"]},
            "history":[{"created_by":"base"}]}"#;
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{}","size":{}}},"layers":[{{"mediaType":"{}","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":5}}]}}"#,
            media_type::DOCKER_MANIFEST,
            media_type::DOCKER_CONFIG,
            Digest::of(config.as_bytes()),
            config.len(),
            media_type::DOCKER_LAYER_GZIP,
        );
        BaseImage::parse(manifest.as_bytes(), config.as_bytes()).expect("base parses")
    }

    fn changes() -> ConfigChanges {
        ConfigChanges {
            entrypoint: Some(vec!["/src/run".to_owned()]),
            env: vec![
                ("MODE".to_owned(), "test".to_owned()),
                ("LANG".to_owned(), "C.UTF-8".to_owned()),
            ],
            working_dir: Some("/src".to_owned()),
            labels: BTreeMap::from([("job".to_owned(), "build".to_owned())]),
            annotations: BTreeMap::from([(
                "org.opencontainers.image.title".to_owned(),
                "build".to_owned(),
            )]),
            ..ConfigChanges::default()
        }
    }

    fn new_layers() -> Vec<NewLayer> {
        vec![NewLayer {
            blob: blob(b"source", Compression::Gzip),
            created_by: "eider: source at /src".to_owned(),
        }]
    }

    #[test]
    fn the_config_carries_the_base_and_the_changes() {
        let image = assemble(
            &base(),
            &new_layers(),
            &changes(),
            86_400,
            ManifestFormat::Oci,
        )
        .expect("assembles");
        let config: ImageConfiguration = serde_json::from_slice(&image.config).expect("parses");
        let container = config.config.expect("container config");
        assert_eq!(
            container.env,
            ["PATH=/usr/bin", "LANG=C.UTF-8", "MODE=test"]
        );
        assert_eq!(container.entrypoint, Some(vec!["/src/run".to_owned()]));
        assert_eq!(
            container.cmd, None,
            "a new entrypoint drops the base's command"
        );
        assert_eq!(container.working_dir.as_deref(), Some("/src"));
        assert_eq!(container.labels["base"], "yes");
        assert_eq!(container.labels["job"], "build");
        assert_eq!(container.labels[NORMALIZATION_LABEL], "1");
        assert_eq!(config.created.as_deref(), Some("1970-01-02T00:00:00Z"));
        assert_eq!(config.rootfs.diff_ids.len(), 2);
        assert_eq!(config.history.len(), 2);
        assert_eq!(
            config.history[1].created_by.as_deref(),
            Some("eider: source at /src")
        );
        assert!(!String::from_utf8_lossy(&image.config).contains("leak"));
    }

    #[test]
    fn the_manifest_reuses_base_layers_and_converts_their_type() {
        let image = assemble(&base(), &new_layers(), &changes(), 0, ManifestFormat::Oci)
            .expect("assembles");
        let ParsedManifest::Image(manifest) =
            parse_manifest(&image.manifest, None).expect("parses")
        else {
            panic!("expected an image");
        };
        assert_eq!(
            manifest.media_type.as_deref(),
            Some(media_type::OCI_MANIFEST)
        );
        assert_eq!(manifest.config.media_type, media_type::OCI_CONFIG);
        assert_eq!(manifest.config.digest, Digest::of(&image.config));
        assert_eq!(manifest.layers.len(), 2);
        assert_eq!(manifest.layers[0].media_type, media_type::OCI_LAYER_GZIP);
        assert_eq!(manifest.layers[0].digest, base().manifest.layers[0].digest);
        assert_eq!(manifest.annotations[NORMALIZATION_LABEL], "1");
        assert_eq!(image.digest(), &Digest::of(&image.manifest));
    }

    #[test]
    fn assembly_is_deterministic() {
        let first = assemble(&base(), &new_layers(), &changes(), 7, ManifestFormat::Oci)
            .expect("assembles");
        let second = assemble(&base(), &new_layers(), &changes(), 7, ManifestFormat::Oci)
            .expect("assembles");
        assert_eq!(first, second);
        let later = assemble(&base(), &new_layers(), &changes(), 8, ManifestFormat::Oci)
            .expect("assembles");
        assert_ne!(first.digest(), later.digest());
    }

    #[test]
    fn the_docker_format_uses_docker_types_and_refuses_zstd() {
        let image = assemble(
            &base(),
            &new_layers(),
            &changes(),
            0,
            ManifestFormat::Docker,
        )
        .expect("assembles");
        let text = String::from_utf8(image.manifest.clone()).expect("UTF-8");
        assert!(text.contains(media_type::DOCKER_MANIFEST));
        assert!(text.contains(media_type::DOCKER_CONFIG));
        assert!(!text.contains("vnd.oci"));
        assert!(!text.contains("annotations"));
        let zstd = vec![NewLayer {
            blob: blob(b"z", Compression::Zstd),
            created_by: "z".to_owned(),
        }];
        assert!(matches!(
            assemble(&base(), &zstd, &changes(), 0, ManifestFormat::Docker),
            Err(AssembleError::LayerMediaType { .. })
        ));
    }

    #[test]
    fn a_command_alone_keeps_the_entrypoint_and_bad_names_are_refused() {
        let only_cmd = ConfigChanges {
            cmd: Some(vec!["make".to_owned()]),
            ..ConfigChanges::default()
        };
        let image = assemble(&base(), &[], &only_cmd, 0, ManifestFormat::Oci).expect("assembles");
        let config: ImageConfiguration = serde_json::from_slice(&image.config).expect("parses");
        assert_eq!(
            config.config.expect("container").cmd,
            Some(vec!["make".to_owned()])
        );
        let bad = ConfigChanges {
            env: vec![("A=B".to_owned(), "x".to_owned())],
            ..ConfigChanges::default()
        };
        assert!(matches!(
            assemble(&base(), &[], &bad, 0, ManifestFormat::Oci),
            Err(AssembleError::EnvironmentName { .. })
        ));
    }

    #[test]
    fn a_base_whose_config_is_not_the_named_one_is_refused() {
        let base = base();
        let manifest = serde_json::to_vec(&base.manifest).expect("serializes");
        assert!(matches!(
            BaseImage::parse(&manifest, b"{}"),
            Err(AssembleError::ConfigDigest { .. })
        ));
    }

    #[test]
    fn a_scratch_base_gives_an_image_of_the_new_layers_only() {
        let image = assemble(
            &BaseImage::scratch(&Platform::linux_amd64()),
            &new_layers(),
            &ConfigChanges::default(),
            0,
            ManifestFormat::Oci,
        )
        .expect("assembles");
        assert_eq!(image.layers.len(), 1);
        assert_eq!(image.diff_ids.len(), 1);
    }
}
