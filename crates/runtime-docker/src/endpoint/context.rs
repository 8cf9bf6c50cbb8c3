//! Docker contexts as the docker CLI stores them: the current one in `config.json`
//! (`currentContext`), each one's metadata in `contexts/meta/<sha256 of the name>/meta.json`
//! (`Endpoints.docker.Host`, `SkipTLSVerify`) and its TLS files in
//! `contexts/tls/<sha256 of the name>/docker/`.

use std::fmt;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;
use sha2::Digest as _;

use super::EndpointError;

/// The most a `config.json` or `meta.json` may hold: far beyond any real one.
const MOST_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The context name that means the endpoint of the environment, without a context.
pub(crate) const DEFAULT_CONTEXT: &str = "default";

/// What chose a context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextChoice {
    /// `DOCKER_CONTEXT`.
    DockerContext,
    /// `currentContext` in this `config.json`.
    ConfigFile(Utf8PathBuf),
}

impl fmt::Display for ContextChoice {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DockerContext => formatter.write_str("named by DOCKER_CONTEXT"),
            Self::ConfigFile(path) => write!(formatter, "the current context of {path}"),
        }
    }
}

/// The Docker endpoint of a context, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContextEndpoint {
    /// `Endpoints.docker.Host`.
    pub(crate) host: String,
    /// `Endpoints.docker.SkipTLSVerify`.
    pub(crate) skip_tls_verify: bool,
    /// The `meta.json` it was read from.
    pub(crate) meta: Utf8PathBuf,
    /// Where its TLS files are, when it has any.
    pub(crate) tls_directory: Utf8PathBuf,
}

/// `currentContext` of `config_directory/config.json`; `None` without the file or the key.
pub(crate) fn current_context(
    config_directory: &Utf8Path,
) -> Result<Option<(String, ContextChoice)>, EndpointError> {
    /// The one key of `config.json` read here; the rest is other tools' business.
    #[derive(Deserialize)]
    struct Config {
        #[serde(rename = "currentContext", default)]
        current_context: Option<String>,
    }
    let path = config_directory.join("config.json");
    let bytes = match eider_regular_file::read_regular(&path, MOST_FILE_BYTES) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(EndpointError::ReadConfig { path, source }),
    };
    let config: Config =
        serde_json::from_slice(&bytes).map_err(|source| EndpointError::InvalidConfig {
            path: path.clone(),
            source,
        })?;
    Ok(config
        .current_context
        .filter(|name| !name.is_empty())
        .map(|name| (name, ContextChoice::ConfigFile(path))))
}

/// The Docker endpoint of context `name`, chosen by `chosen_by`.
pub(crate) fn read_context(
    config_directory: &Utf8Path,
    name: &str,
    chosen_by: &ContextChoice,
) -> Result<ContextEndpoint, EndpointError> {
    #[derive(Deserialize)]
    struct Meta {
        #[serde(rename = "Endpoints", default)]
        endpoints: Endpoints,
    }
    #[derive(Deserialize, Default)]
    struct Endpoints {
        docker: Option<DockerEndpoint>,
    }
    #[derive(Deserialize)]
    struct DockerEndpoint {
        #[serde(rename = "Host", default)]
        host: Option<String>,
        #[serde(rename = "SkipTLSVerify", default)]
        skip_tls_verify: bool,
    }
    let key = store_key(name);
    let contexts = config_directory.join("contexts");
    let meta = contexts.join("meta").join(&key).join("meta.json");
    let bytes = match eider_regular_file::read_regular(&meta, MOST_FILE_BYTES) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(EndpointError::UnknownContext {
                name: name.to_owned(),
                chosen_by: chosen_by.clone(),
                meta,
            });
        }
        Err(source) => {
            return Err(EndpointError::ReadContext {
                name: name.to_owned(),
                meta,
                source,
            });
        }
    };
    let parsed: Meta =
        serde_json::from_slice(&bytes).map_err(|source| EndpointError::InvalidContext {
            name: name.to_owned(),
            meta: meta.clone(),
            source,
        })?;
    let Some(DockerEndpoint {
        host: Some(host),
        skip_tls_verify,
    }) = parsed
        .endpoints
        .docker
        .filter(|docker| docker.host.as_ref().is_some_and(|host| !host.is_empty()))
    else {
        return Err(EndpointError::NoDockerEndpoint {
            name: name.to_owned(),
            meta,
        });
    };
    Ok(ContextEndpoint {
        host,
        skip_tls_verify,
        meta,
        tls_directory: contexts.join("tls").join(&key).join("docker"),
    })
}

/// The directory name of a context in the store: the SHA-256 of its name, in hexadecimal (names
/// may hold characters a file name may not).
fn store_key(name: &str) -> String {
    use std::fmt::Write as _;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let mut key = String::with_capacity(64);
    for byte in digest {
        let _infallible = write!(key, "{byte:02x}");
    }
    key
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes context `name` into the store under `config_directory` as the docker CLI does:
    /// its `meta.json` with `meta` as content; returns the file.
    pub(crate) fn write_context(
        config_directory: &Utf8Path,
        name: &str,
        meta: &str,
    ) -> Utf8PathBuf {
        let directory = config_directory
            .join("contexts")
            .join("meta")
            .join(store_key(name));
        fs_err::create_dir_all(&directory).expect("context directory");
        let path = directory.join("meta.json");
        fs_err::write(&path, meta).expect("meta.json");
        path
    }

    /// Where context `name`'s `meta.json` is.
    pub(crate) fn meta_path(config_directory: &Utf8Path, name: &str) -> Utf8PathBuf {
        config_directory
            .join("contexts")
            .join("meta")
            .join(store_key(name))
            .join("meta.json")
    }

    /// The directory of context `name`'s Docker TLS files.
    pub(crate) fn tls_directory(config_directory: &Utf8Path, name: &str) -> Utf8PathBuf {
        config_directory
            .join("contexts")
            .join("tls")
            .join(store_key(name))
            .join("docker")
    }

    #[test]
    fn a_context_is_stored_under_the_sha256_of_its_name() {
        assert_eq!(
            store_key("default"),
            "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f"
        );
    }
}
