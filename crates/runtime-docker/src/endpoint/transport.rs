//! Connections to an endpoint: bollard's clients for the Engine API (on a Unix socket, plain
//! TCP, or TLS with eider's own rustls configuration, built once), and raw byte streams for the
//! requests eider sends itself (a terminal's attach), over the same TLS.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bollard::{API_DEFAULT_VERSION, BollardRequest, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::{TcpStream, UnixStream};

use super::tls::{self, TlsError};
use super::{Endpoint, EngineAddress};

/// An endpoint, ready to connect to.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    endpoint: Endpoint,
    /// The endpoint's TLS, built from its files.
    tls: Option<Arc<ClientConfig>>,
}

/// A raw connection to the engine.
pub(crate) enum RawConnection {
    /// On a Unix socket.
    Unix(UnixStream),
    /// On plain TCP.
    Tcp(TcpStream),
    /// TLS on TCP.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Transport {
    /// `endpoint`, with its TLS files read.
    pub(crate) fn new(endpoint: Endpoint) -> Result<Self, TlsError> {
        let tls = endpoint.tls.as_ref().map(tls::client_config).transpose()?;
        Ok(Self { endpoint, tls })
    }

    /// The endpoint.
    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// A new client, sharing no connection with any other, whose requests fail when the engine
    /// has not started answering within `timeout` (whole seconds, at least one).
    pub(crate) fn client(&self, timeout: Duration) -> Result<Docker, bollard::errors::Error> {
        let seconds = timeout.as_secs().max(1);
        let address = &self.endpoint.address;
        match (address, &self.tls) {
            (EngineAddress::Unix(_), _) => {
                Docker::connect_with_unix(&address.to_string(), seconds, API_DEFAULT_VERSION)
            }
            (EngineAddress::Tcp { .. }, None) => {
                Docker::connect_with_http(&address.to_string(), seconds, API_DEFAULT_VERSION)
            }
            (EngineAddress::Tcp { host, port }, Some(config)) => {
                tls_client(&format!("{host}:{port}"), config, seconds)
            }
        }
    }

    /// A new raw connection.
    pub(crate) async fn open(&self) -> io::Result<RawConnection> {
        let (host, port) = match &self.endpoint.address {
            EngineAddress::Unix(path) => {
                return UnixStream::connect(path).await.map(RawConnection::Unix);
            }
            EngineAddress::Tcp { host, port } => (host, port),
        };
        let connection = TcpStream::connect(format!("{host}:{port}")).await?;
        let Some(config) = &self.tls else {
            return Ok(RawConnection::Tcp(connection));
        };
        let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?
            .to_owned();
        let connection = tokio_rustls::TlsConnector::from(Arc::clone(config))
            .connect(name, connection)
            .await?;
        Ok(RawConnection::Tls(Box::new(connection)))
    }

    /// The `Host` header of a request sent on a raw connection.
    pub(crate) fn host_header(&self) -> String {
        self.endpoint
            .address
            .authority()
            .unwrap_or_else(|| "docker".to_owned())
    }
}

/// A bollard client whose requests go through hyper with `config`: bollard's own TLS (its `ssl`
/// feature) would trust the system's authorities beside the engine's `ca.pem`, where the docker
/// CLI trusts only it, and read the system's certificates again for every client (a liveness
/// probe makes one each time).
fn tls_client(
    authority: &str,
    config: &Arc<ClientConfig>,
    seconds: u64,
) -> Result<Docker, bollard::errors::Error> {
    let mut connector = HttpConnector::new();
    connector.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(ClientConfig::clone(config))
        .https_only()
        .enable_http1()
        .wrap_connector(connector);
    // Like bollard's own clients: no idle connection kept, so that each request finds the
    // engine as it is now.
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector);
    Docker::connect_with_custom_transport(
        move |request: BollardRequest| {
            let answer = client.request(request);
            async move { answer.await.map_err(bollard::errors::Error::from) }
        },
        Some(format!("https://{authority}")),
        seconds,
        API_DEFAULT_VERSION,
    )
}
