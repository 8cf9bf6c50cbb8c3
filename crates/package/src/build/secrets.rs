//! A package never holds a secret. The secrets file itself never enters a layer; beyond that,
//! the value of a secret found anywhere in the image (the config's environment and labels, a
//! file of a new layer, e.g. a committed `.env`) stops the package, naming the secret and where
//! it was found, never its value. The spec wants configuration injected at run time.

use aho_corasick::AhoCorasick;
use camino::Utf8PathBuf;
use eider_engine::environment::{EnvironmentError, load_secrets_file};
use eider_engine::mask::MIN_SECRET_LENGTH;
use eider_oci::{BlobStore, ConfigChanges, Descriptor};

/// A secrets file that cannot be read, or a secret the package would hold.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// A secrets file cannot be read.
    #[error(transparent)]
    Load(EnvironmentError),
    /// The secrets cannot be searched for.
    #[error("cannot search for the secrets")]
    Matcher(#[source] aho_corasick::BuildError),
    /// The package would hold a secret's value (never shown).
    #[error("the package would hold the value of secret `{name}`, in {place}")]
    Found {
        /// The secret's name.
        name: String,
        /// Where its value was found.
        place: Place,
    },
    /// A layer cannot be read back to be searched.
    #[error("cannot read the layer {created_by}")]
    ReadLayer {
        /// The layer.
        created_by: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The search of the layers stopped.
    #[error("cannot check the layers for secrets")]
    Task(#[source] tokio::task::JoinError),
}

/// Where in an image a secret's value was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The value of an environment variable of the config.
    Environment(String),
    /// The value of a label of the config.
    Label(String),
    /// A word of the config's command.
    Command,
    /// A file of a new layer.
    Layer(String),
}

impl std::fmt::Display for Place {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Environment(name) => write!(formatter, "environment variable `{name}`"),
            Self::Label(name) => write!(formatter, "label `{name}`"),
            Self::Command => formatter.write_str("the command"),
            Self::Layer(created_by) => write!(formatter, "a file of the layer `{created_by}`"),
        }
    }
}

/// The values to look for, with their names.
pub struct Secrets {
    names: Vec<String>,
    matcher: Option<AhoCorasick>,
}

impl Secrets {
    /// The secrets of every file of `files`. Values shorter than [`MIN_SECRET_LENGTH`] are not
    /// looked for (they would match everywhere), as in masking.
    pub fn load(files: &[Utf8PathBuf]) -> Result<Secrets, SecretsError> {
        let lookup = |name: &str| std::env::var(name).ok();
        let mut names = Vec::new();
        let mut values = Vec::new();
        for path in files {
            let file = load_secrets_file(path, &lookup).map_err(SecretsError::Load)?;
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
            Some(AhoCorasick::new(&values).map_err(SecretsError::Matcher)?)
        };
        Ok(Secrets { names, matcher })
    }

    /// Whether there is no secret to look for.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// Refuses a config that holds a secret's value.
    pub fn check_config(&self, changes: &ConfigChanges) -> Result<(), SecretsError> {
        let Some(matcher) = &self.matcher else {
            return Ok(());
        };
        let places = changes
            .env
            .iter()
            .map(|(name, value)| (Place::Environment(name.clone()), value))
            .chain(
                changes
                    .labels
                    .iter()
                    .map(|(name, value)| (Place::Label(name.clone()), value)),
            )
            .chain(
                changes
                    .entrypoint
                    .iter()
                    .chain(changes.cmd.iter())
                    .flatten()
                    .map(|word| (Place::Command, word)),
            );
        for (place, text) in places {
            if let Some(found) = matcher.find(text.as_str()) {
                return Err(self.refusal(found.pattern().as_usize(), place));
            }
        }
        Ok(())
    }

    /// Refuses layers that hold a secret's value, reading each one whole (decompressed).
    pub fn check_layers(
        &self,
        store: &BlobStore,
        layers: &[(String, Descriptor)],
    ) -> Result<(), SecretsError> {
        let Some(matcher) = &self.matcher else {
            return Ok(());
        };
        for (created_by, layer) in layers {
            let unreadable = |source: std::io::Error| SecretsError::ReadLayer {
                created_by: created_by.clone(),
                source,
            };
            let reader = eider_oci::open_layer(store, layer).map_err(unreadable)?;
            if let Some(found) = matcher.stream_find_iter(reader).next() {
                let found = found.map_err(unreadable)?;
                return Err(
                    self.refusal(found.pattern().as_usize(), Place::Layer(created_by.clone()))
                );
            }
        }
        Ok(())
    }

    /// [`Secrets::check_layers`] of the layers eider built, on a blocking thread.
    pub async fn check_new_layers(
        self,
        store: &BlobStore,
        layers: &[(String, eider_oci::BuiltLayer)],
    ) -> Result<(), SecretsError> {
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
            .map_err(SecretsError::Task)?
    }

    fn refusal(&self, pattern: usize, place: Place) -> SecretsError {
        let name = self.names.get(pattern).map_or("?", String::as_str);
        SecretsError::Found {
            name: name.to_owned(),
            place,
        }
    }
}
