//! Which backend runs the jobs, from the command line, the config file and the defaults; and
//! connecting to it. The one place that names every backend.

use std::time::Duration;

use eider_runtime_docker::{
    ConnectError as DockerConnectError, DEFAULT_RESPONSE_TIMEOUT, DockerRuntime, EndpointError,
};
use eider_runtime_kubernetes::{
    ClusterSettings, ConnectError, DEFAULT_PENDING_TIMEOUT, DEFAULT_SHARED_STORAGE_SIZE,
    KubernetesRuntime, SharedStorageClaim,
};

use eider_runtime::DEFAULT_HELPER_IMAGE;

use crate::cli::{
    BackendKind, BackendOptions, ClusterSourceOptions, RunOptions, SharedStorageOptions,
    StorageAccess,
};
use crate::config::{Config, KubernetesConfig};
use crate::duration::PositiveDuration;
use crate::failure::Failure;

/// A backend, connected.
pub enum Backend {
    /// The Docker Engine.
    Docker(DockerRuntime),
    /// A Kubernetes cluster.
    Kubernetes(KubernetesRuntime),
}

/// The backend chosen and its settings: the command line first, then the config file, then
/// the defaults.
#[derive(Debug, Clone)]
pub struct BackendChoice {
    /// Which backend.
    pub kind: BackendKind,
    /// How long the container engine may go without answering (a request, a liveness probe, a
    /// restart) before the job it serves ends as an infrastructure failure.
    pub response_timeout: Duration,
    /// The network of each job's first container on Docker; the engine's default when unset.
    pub network: Option<String>,
    /// The cluster, on Kubernetes.
    pub cluster: ClusterSettings,
    /// How the source reaches the cluster, on Kubernetes.
    pub source: SourceDelivery,
}

/// How the project's source reaches a cluster: as an image, pushed to a registry it pulls from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDelivery {
    /// The repository the source image is pushed to; none when not given.
    pub registry: Option<String>,
    /// The image the source image is built on: the helper image, which has `cp`.
    pub base: String,
}

impl SourceDelivery {
    /// The command line's choice over the config file's.
    pub fn of(options: &ClusterSourceOptions, config: &Config) -> Self {
        Self {
            registry: options
                .registry
                .clone()
                .or_else(|| config.kubernetes.registry.clone()),
            base: helper_image(options, config),
        }
    }
}

/// The image of eider's helper containers on a cluster: the command line's, else the config
/// file's, else the default.
pub fn helper_image(options: &ClusterSourceOptions, config: &Config) -> String {
    options
        .helper_image
        .clone()
        .or_else(|| config.kubernetes.helper_image.clone())
        .unwrap_or_else(|| DEFAULT_HELPER_IMAGE.to_owned())
}

/// The image pull secrets: the command line's, else the config file's.
pub fn image_pull_secrets(options: &ClusterSourceOptions, config: &Config) -> Vec<String> {
    if options.image_pull_secrets.is_empty() {
        config.kubernetes.image_pull_secrets.clone()
    } else {
        options.image_pull_secrets.clone()
    }
}

impl BackendChoice {
    /// The choice of a command that only finds and removes things (`eider clean`).
    pub fn of(options: &BackendOptions, config: &Config) -> Self {
        let kubernetes = &config.kubernetes;
        Self {
            kind: options
                .backend
                .or(config.run.backend)
                .unwrap_or(BackendKind::Docker),
            response_timeout: config
                .run
                .engine_timeout
                .map_or(DEFAULT_RESPONSE_TIMEOUT, PositiveDuration::get),
            network: config.run.network.clone(),
            cluster: ClusterSettings {
                context: options
                    .context
                    .clone()
                    .or_else(|| kubernetes.context.clone()),
                namespace: options
                    .namespace
                    .clone()
                    .or_else(|| kubernetes.namespace.clone()),
                shared_storage: shared_storage_claim(&SharedStorageOptions::default(), kubernetes),
                pending_timeout: kubernetes
                    .pending_timeout
                    .map_or(DEFAULT_PENDING_TIMEOUT, PositiveDuration::get),
                source_image: None,
                image_pull_secrets: kubernetes.image_pull_secrets.clone(),
                helper_image: helper_image(&ClusterSourceOptions::default(), config),
            },
            source: SourceDelivery::of(&ClusterSourceOptions::default(), config),
        }
    }

    /// The choice of `eider run`.
    pub fn for_run(options: &RunOptions, config: &Config) -> Self {
        let mut choice = Self::of(&options.backend, config);
        if let Some(timeout) = options.engine_timeout {
            choice.response_timeout = timeout.get();
        }
        if let Some(network) = &options.network {
            choice.network = Some(network.clone());
        }
        choice.cluster.shared_storage =
            shared_storage_claim(&options.shared_storage, &config.kubernetes);
        choice.source = SourceDelivery::of(&options.cluster_source, config);
        choice.cluster.image_pull_secrets = image_pull_secrets(&options.cluster_source, config);
        choice.cluster.helper_image = helper_image(&options.cluster_source, config);
        choice
    }

    /// How many jobs of a pipeline run at once unless told: as many as this machine has cores
    /// on Docker, where they share them; more on a cluster, whose nodes bring their own.
    pub fn default_concurrency(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        match self.kind {
            BackendKind::Docker => cores,
            BackendKind::Kubernetes => cores.max(CLUSTER_CONCURRENCY),
        }
    }

    /// Connects, with a hint when the backend cannot be used.
    pub async fn connect(&self) -> Result<Backend, Failure> {
        match self.kind {
            BackendKind::Docker => {
                let pull_retry = crate::registry_retry::pull_retry()?;
                let runtime = DockerRuntime::connect_with_timeout(self.response_timeout)
                    .await
                    .map_err(|error| docker_connect_failure(&error))?;
                Ok(Backend::Docker(
                    runtime
                        .with_pull_retry(pull_retry)
                        .with_job_network(self.network.clone()),
                ))
            }
            BackendKind::Kubernetes => KubernetesRuntime::connect(self.cluster.clone())
                .await
                .map(Backend::Kubernetes)
                .map_err(|error| cluster_failure(&error)),
        }
    }
}

/// A run's failure to connect to the Docker Engine: a configuration that names no usable engine
/// (a context that does not exist, a broken `meta.json`, unusable TLS files) is bad input; an
/// engine that cannot be used is an infrastructure failure.
fn docker_connect_failure(error: &DockerConnectError) -> Failure {
    let message = error.to_string();
    let failure = if error.is_configuration() {
        Failure::input(message)
    } else {
        Failure::infrastructure(message)
    };
    failure
        .with_sources_of(error)
        .with_hint(docker_connect_hint(error))
}

/// What to do when the Docker Engine cannot be used.
pub fn docker_connect_hint(error: &DockerConnectError) -> &'static str {
    match error {
        DockerConnectError::Endpoint(error)
            if matches!(**error, EndpointError::UnsupportedScheme { .. }) =>
        {
            "forward the engine's socket over SSH (`ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock \
             HOST`) and point DOCKER_HOST at it (`unix:///tmp/docker.sock`)"
        }
        DockerConnectError::Endpoint(_) => {
            "correct the file or variable named above, or choose another engine with DOCKER_HOST, \
             DOCKER_CONTEXT or `docker context use NAME`"
        }
        DockerConnectError::Tls { .. } => {
            "the engine's TLS files are ca.pem, cert.pem and key.pem in DOCKER_CERT_PATH (default \
             ~/.docker), or those of the context (`docker context create NAME --docker \
             host=...,ca=...,cert=...,key=...`)"
        }
        DockerConnectError::TlsRefused { .. } => {
            "check the TLS files: ca.pem must be the authority that signed the engine's \
             certificate, and the engine must accept cert.pem (DOCKER_CERT_PATH, or the files of \
             the context)"
        }
        DockerConnectError::Unreachable { .. } | DockerConnectError::TimedOut { .. } => {
            "start the Docker Engine (`dockerd`, or `bash scripts/test-env.sh` in eider's \
             repository), or point DOCKER_HOST or a Docker context (`docker context use NAME`) at \
             one"
        }
    }
}

/// How a run on a cluster claims its shared storage: the command line first, then the config
/// file, then the defaults. `eider manifests` prints the claim that `eider run` makes.
pub fn shared_storage_claim(
    options: &SharedStorageOptions,
    config: &KubernetesConfig,
) -> SharedStorageClaim {
    SharedStorageClaim {
        storage_class: options
            .storage_class
            .clone()
            .or_else(|| config.storage_class.clone()),
        size: options
            .shared_storage_size
            .clone()
            .or_else(|| config.shared_storage_size.clone())
            .unwrap_or_else(|| DEFAULT_SHARED_STORAGE_SIZE.to_owned()),
        many_nodes: options
            .shared_storage_access
            .or(config.shared_storage_access)
            .is_none_or(|access| access == StorageAccess::ReadWriteMany),
    }
}

/// How many jobs of a pipeline run at once on a cluster unless told.
pub const CLUSTER_CONCURRENCY: usize = 16;

fn cluster_failure(error: &ConnectError) -> Failure {
    let failure = Failure::infrastructure(error.to_string());
    match error {
        ConnectError::Configuration { .. } => failure.with_hint(
            "point KUBECONFIG at the cluster's kubeconfig (or write ~/.kube/config), or pick a \
             context with --context",
        ),
        ConnectError::Unreachable { source, .. } => failure
            .with_cause(eider_error_chain::chain_text(source))
            .with_hint("check that the cluster runs and that the kubeconfig's server is right"),
        ConnectError::TooOld { .. } => failure.with_hint(
            "run on a newer cluster, or run the jobs on the local engine (--backend docker)",
        ),
    }
}
