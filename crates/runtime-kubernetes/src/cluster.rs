//! Finding the cluster as kubectl does, and checking that its API server can run eider's Pods.

use std::time::Duration;

use kube::config::KubeConfigOptions;

/// The oldest Kubernetes that runs native sidecar containers (init containers that keep
/// running), which a job's sidecars are.
pub const OLDEST_SUPPORTED: (u32, u32) = (1, 29);

/// Which cluster, and how eider uses it.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// The kubeconfig context; the current context when unset.
    pub context: Option<String>,
    /// The namespace of everything eider creates; the context's (or the service account's)
    /// when unset.
    pub namespace: Option<String>,
    /// How the run's shared storage is claimed.
    pub shared_storage: crate::SharedStorageClaim,
    /// How long a Pod may stay Pending (scheduling, pulling, creating its containers) before
    /// its job fails: a cluster that cannot run a Pod often says so only by never running it.
    pub pending_timeout: Duration,
    /// The image that carries the project's source, pinned by digest, when the run brought the
    /// source to the cluster (see the packager's source image).
    pub source_image: Option<String>,
    /// Secrets (of the namespace) the nodes pull images with, besides its defaults.
    pub image_pull_secrets: Vec<String>,
    /// The image of eider's own short-lived Pods that work on a claim (copying the shared
    /// storage out): it must have `sleep` and `tar`.
    pub helper_image: String,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            context: None,
            namespace: None,
            shared_storage: crate::SharedStorageClaim {
                storage_class: None,
                size: DEFAULT_SHARED_STORAGE_SIZE.to_owned(),
                many_nodes: true,
            },
            pending_timeout: DEFAULT_PENDING_TIMEOUT,
            source_image: None,
            image_pull_secrets: Vec::new(),
            helper_image: eider_runtime::DEFAULT_HELPER_IMAGE.to_owned(),
        }
    }
}

/// The size of the run's shared-storage claim unless told otherwise.
pub const DEFAULT_SHARED_STORAGE_SIZE: &str = "1Gi";

/// How long a Pod may stay Pending unless told otherwise: long enough for a large image on a
/// slow node, short enough that a job that cannot run says so well before its timeout.
pub const DEFAULT_PENDING_TIMEOUT: Duration = Duration::from_secs(600);

/// Why eider cannot use the cluster.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No kubeconfig, no in-cluster service account, or a context that does not exist.
    #[error("cannot find the cluster: {message}")]
    Configuration {
        /// What the kubeconfig loader said.
        message: String,
    },
    /// The API server did not answer.
    #[error("cannot reach the Kubernetes API server at {server}")]
    Unreachable {
        /// Its address.
        server: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// The API server is older than native sidecar containers.
    #[error(
        "the cluster runs Kubernetes {found}, and eider needs {}.{} or later (native sidecar \
         containers)",
        OLDEST_SUPPORTED.0,
        OLDEST_SUPPORTED.1
    )]
    TooOld {
        /// The version it reported.
        found: String,
    },
}

/// A client for the cluster the settings name, and the namespace to use there.
pub(crate) async fn connect(
    settings: &ClusterSettings,
) -> Result<(kube::Client, String), ConnectError> {
    let configuration = configuration(settings.context.as_deref()).await?;
    let namespace = settings
        .namespace
        .clone()
        .unwrap_or_else(|| configuration.default_namespace.clone());
    let server = configuration.cluster_url.to_string();
    let client =
        kube::Client::try_from(configuration).map_err(|error| ConnectError::Configuration {
            message: eider_error_chain::chain_text(&error),
        })?;
    let version = client
        .apiserver_version()
        .await
        .map_err(|source| ConnectError::Unreachable { server, source })?;
    check_version(&version.major, &version.minor, &version.git_version)?;
    Ok((client, namespace))
}

/// The kubeconfig as kubectl reads it (`KUBECONFIG`, then `~/.kube/config`), at `context` or
/// its current context; the Pod's service account when eider itself runs in a cluster.
async fn configuration(context: Option<&str>) -> Result<kube::Config, ConnectError> {
    let failed = |error: &dyn std::error::Error| ConnectError::Configuration {
        message: eider_error_chain::chain_text(error),
    };
    match context {
        None => kube::Config::infer().await.map_err(|error| failed(&error)),
        Some(context) => {
            let options = KubeConfigOptions {
                context: Some(context.to_owned()),
                ..KubeConfigOptions::default()
            };
            kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|error| failed(&error))
        }
    }
}

/// Refuses a server older than [`OLDEST_SUPPORTED`]. Providers write minors such as `29+`.
fn check_version(major: &str, minor: &str, shown: &str) -> Result<(), ConnectError> {
    let number = |text: &str| {
        text.trim_end_matches(|character: char| !character.is_ascii_digit())
            .parse::<u32>()
            .ok()
    };
    let found = || {
        if shown.is_empty() {
            format!("{major}.{minor}")
        } else {
            shown.to_owned()
        }
    };
    match (number(major), number(minor)) {
        (Some(major), Some(minor)) if (major, minor) >= OLDEST_SUPPORTED => Ok(()),
        _ => Err(ConnectError::TooOld { found: found() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_from_1_29_on_are_accepted_and_older_ones_named() {
        assert!(check_version("1", "29", "v1.29.0").is_ok());
        assert!(check_version("1", "33+", "v1.33.2-eks").is_ok());
        assert!(check_version("2", "0", "").is_ok());
        let error = check_version("1", "28", "v1.28.9").expect_err("too old");
        assert_eq!(
            error.to_string(),
            "the cluster runs Kubernetes v1.28.9, and eider needs 1.29 or later (native sidecar \
             containers)"
        );
        assert!(check_version("", "", "").is_err());
    }
}
