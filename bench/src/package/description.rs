//! What `eider package --json` says about a run, as far as the benchmark checks it: the digest
//! (the same input must give the same package), whether the layers were reused (an empty cache
//! must build them, a warm one must not) and how many blobs a push uploaded (an empty
//! repository must receive them).

use serde_json::Value;

/// The parts of `eider package --json` the benchmark reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// The manifest's digest.
    pub digest: String,
    /// The layers eider added, bottom first.
    pub layers: Vec<Layer>,
    /// Blobs uploaded, summed over the registry outputs; `None` without one.
    pub uploaded_blobs: Option<u64>,
}

/// One layer eider added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// Its compressed size.
    pub size: u64,
    /// Whether an earlier build's blob was reused.
    pub reused: bool,
}

impl Description {
    /// Reads the JSON eider printed.
    pub fn parse(stdout: &[u8]) -> Result<Self, String> {
        let value: Value = serde_json::from_slice(stdout)
            .map_err(|error| format!("`eider package --json` printed no JSON: {error}"))?;
        let digest = value
            .get("digest")
            .and_then(Value::as_str)
            .filter(|digest| digest.starts_with("sha256:"))
            .ok_or("no `digest` in the description")?
            .to_owned();
        let layers = value
            .get("layers")
            .and_then(Value::as_array)
            .ok_or("no `layers` in the description")?
            .iter()
            .map(|layer| {
                Some(Layer {
                    size: layer.get("size")?.as_u64()?,
                    reused: layer.get("reused")?.as_bool()?,
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or("a layer without `size` or `reused`")?;
        let uploaded: Vec<u64> = value
            .get("outputs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|output| output.get("uploadedBlobs").and_then(Value::as_u64))
            .collect();
        let uploaded_blobs = (!uploaded.is_empty()).then(|| uploaded.iter().sum());
        Ok(Self {
            digest,
            layers,
            uploaded_blobs,
        })
    }

    /// Whether every layer eider added came from the cache.
    pub fn all_reused(&self) -> bool {
        self.layers.iter().all(|layer| layer.reused)
    }

    /// Whether none did.
    pub fn none_reused(&self) -> bool {
        !self.layers.iter().any(|layer| layer.reused)
    }

    /// The compressed size of the layers eider added.
    pub fn layer_bytes(&self) -> u64 {
        self.layers.iter().map(|layer| layer.size).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::{Description, Layer};

    #[test]
    fn reads_the_digest_the_layers_and_the_uploads() {
        let json = br#"{
          "digest": "sha256:aa",
          "job": "app",
          "layers": [{"digest": "sha256:bb", "size": 700, "reused": false, "files": 3}],
          "outputs": [{"destination": "oci:/tmp/out:app"},
                      {"destination": "docker://127.0.0.1:5000/a:app", "uploadedBlobs": 3}]
        }"#;
        let description = Description::parse(json).expect("valid");
        assert_eq!(
            description,
            Description {
                digest: "sha256:aa".to_owned(),
                layers: vec![Layer {
                    size: 700,
                    reused: false
                }],
                uploaded_blobs: Some(3),
            }
        );
        assert!(description.none_reused());
        assert!(!description.all_reused());
        assert_eq!(description.layer_bytes(), 700);
    }

    #[test]
    fn without_a_registry_output_nothing_was_uploaded() {
        let json = br#"{"digest": "sha256:aa", "layers": [], "outputs": [{"destination": "x"}]}"#;
        let description = Description::parse(json).expect("valid");
        assert_eq!(description.uploaded_blobs, None);
    }

    #[test]
    fn a_digest_line_is_not_a_description() {
        assert!(Description::parse(b"sha256:aa\n").is_err());
        assert!(Description::parse(br#"{"layers": []}"#).is_err());
    }
}
