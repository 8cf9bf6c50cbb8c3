//! The registry client: its options, and building the HTTP stack they describe (rustls with the
//! operating system's roots, HTTP/1.1, connect timeout).

use std::sync::Arc;
use std::time::Duration;

use rustls_platform_verifier::BuilderVerifierExt as _;

use crate::auth::Authenticator;
use crate::docker_config::CredentialSource;
use crate::retry::RetryPolicy;
use crate::transport::Transport;

/// How blob contents are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMode {
    /// One `PUT` per blob with the whole content, falling back to chunks when the registry
    /// refuses the size (413).
    Monolithic,
    /// `PATCH` chunks, then a closing `PUT`, for registries that want it.
    Chunked,
}

/// What a [`RegistryClient`] is built from.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Where credentials come from.
    pub credentials: CredentialSource,
    /// Hosts (`HOST` or `HOST:PORT`) reached over plain HTTP although they are not loopback.
    pub insecure_registries: Vec<String>,
    /// The time limit for opening a connection.
    pub connect_timeout: Duration,
    /// The time an exchange may go without sending or receiving anything before it is abandoned.
    pub stall_timeout: Duration,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// Blobs uploaded at once.
    pub max_concurrent_uploads: usize,
    /// How blobs are sent.
    pub upload_mode: UploadMode,
    /// The chunk size for chunked uploads (it halves after a 413, down to 256 KiB).
    pub chunk_size: u64,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            credentials: CredentialSource::default(),
            insecure_registries: Vec::new(),
            connect_timeout: Duration::from_secs(30),
            stall_timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            max_concurrent_uploads: 3,
            upload_mode: UploadMode::Monolithic,
            chunk_size: 16 * 1024 * 1024,
            user_agent: concat!("eider/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// A client of the OCI distribution API, for any number of registries; cheap to share by
/// reference across tasks. Credentials and tokens are remembered per registry.
pub struct RegistryClient {
    pub(crate) transport: Transport,
    pub(crate) options: ClientOptions,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RegistryClient")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RegistryClient {
    /// A client with `options`.
    pub fn new(options: ClientOptions) -> Result<Self, ClientError> {
        let http = http_client(&options)?;
        let transport = Transport::new(
            http,
            options.insecure_registries.clone(),
            options.stall_timeout,
            Authenticator::new(options.credentials.clone()),
        );
        Ok(Self { transport, options })
    }
}

pub(crate) fn http_client(options: &ClientOptions) -> Result<reqwest::Client, ClientError> {
    // ring rather than aws-lc: no C toolchain beyond ring's, and the provider is passed in here
    // rather than installed process-wide.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(ClientError::Tls)?
        .with_platform_verifier()
        .map_err(ClientError::Tls)?
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(options.connect_timeout)
        .user_agent(options.user_agent.clone())
        .http1_only()
        .build()
        .map_err(ClientError::Build)
}

/// A client that could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The TLS configuration (the operating system's certificate roots) could not be set up.
    #[error("cannot set up tls")]
    Tls(#[source] rustls::Error),
    /// The HTTP client could not be built.
    #[error("cannot build the http client")]
    Build(#[source] reqwest::Error),
}
