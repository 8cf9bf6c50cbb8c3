//! Small OCI images written into a blob store: gzip'd tar layers of pseudo-random bytes (so
//! they do not compress away), a config naming their diff IDs, and a manifest.

use std::io::Write as _;

use bytes::Bytes;
use camino::{Utf8Path, Utf8PathBuf};
use eider_oci_types::Digest;
use eider_oci_types::media_type::{OCI_INDEX, OCI_MANIFEST};
use eider_registry::{BlobSource, blob_path};

const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// An image whose blobs are in a store.
pub struct TestImage {
    pub manifest: Bytes,
    pub manifest_digest: Digest,
    pub config: BlobSource,
    pub layers: Vec<BlobSource>,
}

impl TestImage {
    /// Config first, then the layers.
    pub fn blobs(&self) -> Vec<BlobSource> {
        let mut blobs = vec![self.config.clone()];
        blobs.extend(self.layers.iter().cloned());
        blobs
    }
}

/// Writes an image with one layer per entry of `layer_sizes` (bytes of file content) into the
/// store at `store`; `seed` makes the contents differ between images.
pub fn make_image(
    store: &Utf8Path,
    seed: &str,
    architecture: &str,
    layer_sizes: &[usize],
) -> TestImage {
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for (index, size) in layer_sizes.iter().enumerate() {
        let tar = layer_tar(&format!("{seed}-{index}"), *size);
        diff_ids.push(Digest::of(&tar));
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&tar).expect("gzip a layer");
        let gzip = encoder.finish().expect("finish gzip");
        layers.push(write_blob(store, &gzip));
    }
    let config = serde_json::json!({
        "architecture": architecture,
        "os": "linux",
        "config": {"Labels": {"seed": seed}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let config = write_blob(store, &serde_json::to_vec(&config).expect("config json"));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(CONFIG_MEDIA_TYPE, &config),
        "layers": layers.iter().map(|layer| descriptor(LAYER_MEDIA_TYPE, layer)).collect::<Vec<_>>(),
    });
    let manifest = Bytes::from(serde_json::to_vec(&manifest).expect("manifest json"));
    TestImage {
        manifest_digest: Digest::of(&manifest),
        manifest,
        config,
        layers,
    }
}

/// An image index over `(manifest, architecture)` pairs.
pub fn make_index(manifests: &[(&TestImage, &str)]) -> Bytes {
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests.iter().map(|(image, architecture)| serde_json::json!({
            "mediaType": OCI_MANIFEST,
            "digest": image.manifest_digest,
            "size": image.manifest.len(),
            "platform": {"os": "linux", "architecture": architecture},
        })).collect::<Vec<_>>(),
    });
    Bytes::from(serde_json::to_vec(&index).expect("index json"))
}

fn descriptor(media_type: &str, blob: &BlobSource) -> serde_json::Value {
    serde_json::json!({"mediaType": media_type, "digest": blob.digest, "size": blob.size})
}

/// Stores `bytes` as a blob and describes it.
pub fn write_blob(store: &Utf8Path, bytes: &[u8]) -> BlobSource {
    let digest = Digest::of(bytes);
    let path = blob_path(store, &digest);
    std::fs::create_dir_all(path.parent().expect("blob directory")).expect("create blob directory");
    std::fs::write(&path, bytes).expect("write blob");
    BlobSource {
        digest,
        size: bytes.len() as u64,
        path,
        mount_from: None,
    }
}

fn layer_tar(seed: &str, size: usize) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let content = pseudo_random(seed, size);
    let mut header = tar::Header::new_ustar();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    builder
        .append_data(&mut header, "data.bin", content.as_slice())
        .expect("append to tar");
    builder.into_inner().expect("finish tar")
}

/// Bytes from a xorshift generator seeded by `seed`: incompressible, reproducible.
pub fn pseudo_random(seed: &str, size: usize) -> Vec<u8> {
    let mut state = seed.bytes().fold(0x9E37_79B9_7F4A_7C15_u64, |state, byte| {
        (state ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3)
    }) | 1;
    let mut bytes = Vec::with_capacity(size + 8);
    while bytes.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(size);
    bytes
}

/// A fresh, empty blob store in a temp directory.
pub fn temp_store() -> (tempfile::TempDir, Utf8PathBuf) {
    let directory = tempfile::tempdir().expect("temp store");
    let path = Utf8PathBuf::from_path_buf(directory.path().to_owned()).expect("utf-8 temp dir");
    (directory, path)
}
