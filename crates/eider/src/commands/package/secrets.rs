//! A package never holds a secret. The secrets file itself never enters a layer; beyond that,
//! the value of a secret found anywhere in the image (the config's environment and labels, a
//! file of a new layer, e.g. a committed `.env`) stops the package, naming the secret and where
//! it was found, never its value. The spec wants configuration injected at run time.

use aho_corasick::AhoCorasick;
use camino::Utf8PathBuf;
use eider_engine::environment::load_secrets_file;
use eider_engine::mask::MIN_SECRET_LENGTH;
use eider_oci::{BlobStore, ConfigChanges, Descriptor};

use crate::failure::Failure;

/// The values to look for, with their names.
pub struct Secrets {
    names: Vec<String>,
    matcher: Option<AhoCorasick>,
}

impl Secrets {
    /// The secrets of every file of `files`. Values shorter than [`MIN_SECRET_LENGTH`] are not
    /// looked for (they would match everywhere), as in masking.
    pub fn load(files: &[Utf8PathBuf]) -> Result<Secrets, Failure> {
        let lookup = |name: &str| std::env::var(name).ok();
        let mut names = Vec::new();
        let mut values = Vec::new();
        for path in files {
            let file = load_secrets_file(path, &lookup)
                .map_err(|error| Failure::input(error.to_string()))?;
            for (name, value) in file.variables {
                if value.len() >= MIN_SECRET_LENGTH {
                    names.push(name);
                    values.push(value);
                }
            }
        }
        let matcher = if values.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&values).map_err(|error| {
                Failure::runtime("cannot search for the secrets").with_cause(error.to_string())
            })?)
        };
        Ok(Secrets { names, matcher })
    }

    /// Whether there is no secret to look for.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// Refuses a config that holds a secret's value.
    pub fn check_config(&self, changes: &ConfigChanges) -> Result<(), Failure> {
        let Some(matcher) = &self.matcher else {
            return Ok(());
        };
        let places = changes
            .env
            .iter()
            .map(|(name, value)| (format!("environment variable `{name}`"), value))
            .chain(
                changes
                    .labels
                    .iter()
                    .map(|(name, value)| (format!("label `{name}`"), value)),
            )
            .chain(
                changes
                    .entrypoint
                    .iter()
                    .chain(changes.cmd.iter())
                    .flatten()
                    .map(|word| ("the command".to_owned(), word)),
            );
        for (place, text) in places {
            if let Some(found) = matcher.find(text.as_str()) {
                return Err(self.refusal(found.pattern().as_usize(), &place));
            }
        }
        Ok(())
    }

    /// Refuses layers that hold a secret's value, reading each one whole (decompressed).
    pub fn check_layers(
        &self,
        store: &BlobStore,
        layers: &[(String, Descriptor)],
    ) -> Result<(), Failure> {
        let Some(matcher) = &self.matcher else {
            return Ok(());
        };
        for (created_by, layer) in layers {
            let unreadable = |error: std::io::Error| {
                Failure::runtime(format!("cannot read the layer {created_by}"))
                    .with_cause(error.to_string())
            };
            let reader = eider_oci::open_layer(store, layer).map_err(unreadable)?;
            if let Some(found) = matcher.stream_find_iter(reader).next() {
                let found = found.map_err(unreadable)?;
                return Err(self.refusal(
                    found.pattern().as_usize(),
                    &format!("a file of the layer `{created_by}`"),
                ));
            }
        }
        Ok(())
    }

    /// [`Secrets::check_layers`] of the layers eider built, on a blocking thread.
    pub async fn check_new_layers(
        self,
        store: &BlobStore,
        layers: &[(String, eider_oci::BuiltLayer)],
    ) -> Result<(), Failure> {
        let new_blobs: Vec<(String, Descriptor)> = layers
            .iter()
            .map(|(created_by, built)| {
                (
                    created_by.clone(),
                    Descriptor::new(
                        built.blob.media_type.clone(),
                        built.blob.digest.clone(),
                        built.blob.size,
                    ),
                )
            })
            .collect();
        let store = store.clone();
        tokio::task::spawn_blocking(move || self.check_layers(&store, &new_blobs))
            .await
            .map_err(|error| {
                Failure::runtime("cannot check the layers for secrets")
                    .with_cause(error.to_string())
            })?
    }

    fn refusal(&self, pattern: usize, place: &str) -> Failure {
        let name = self.names.get(pattern).map_or("?", String::as_str);
        Failure::input(format!(
            "the package would hold the value of secret `{name}`, in {place}"
        ))
        .with_hint(
            "secrets are given to a job when it runs, never built into its image: remove the \
             value from the source (or ignore the file in .drakeignore) and from the Drakefile",
        )
    }
}
