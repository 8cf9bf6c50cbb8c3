//! The engine over TLS, for the tests of `tcp://` endpoints with TLS: a port of 127.0.0.1 that
//! speaks TLS, asks every client for a certificate of its authority (as `dockerd --tlsverify`
//! does), and relays each connection to the tests' engine socket. The authority and the
//! certificates are made here, fresh for each test.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tempfile::TempDir;

/// A certificate authority of a test.
pub struct Authority {
    certificate: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

/// A certificate and its key, as PEM.
pub struct Issued {
    pub certificate: String,
    pub key: String,
}

impl Authority {
    /// A new authority, named `name`.
    pub fn new(name: &str) -> Self {
        let key = rcgen::KeyPair::generate().expect("an authority's key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let certificate = params
            .self_signed(&key)
            .expect("a self-signed authority")
            .pem();
        Self {
            certificate,
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// The authority's certificate, as `ca.pem` holds it.
    pub fn certificate(&self) -> &str {
        &self.certificate
    }

    /// A certificate for `names` (host names or IP addresses; none for a client).
    pub fn issue(&self, names: &[&str]) -> Issued {
        let key = rcgen::KeyPair::generate().expect("a key");
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let certificate = rcgen::CertificateParams::new(names)
            .expect("params")
            .signed_by(&key, &self.issuer)
            .expect("a certificate");
        Issued {
            certificate: certificate.pem(),
            key: key.serialize_pem(),
        }
    }

    /// A directory as `DOCKER_CERT_PATH` names one: `ca.pem` (this authority) and a client's
    /// `cert.pem` and `key.pem` it issued.
    pub fn client_files(&self) -> TempDir {
        let directory = tempfile::tempdir().expect("a certificate directory");
        let client = self.issue(&[]);
        for (file, content) in [
            ("ca.pem", self.certificate()),
            ("cert.pem", &client.certificate),
            ("key.pem", &client.key),
        ] {
            std::fs::write(directory.path().join(file), content).expect("a certificate file");
        }
        directory
    }
}

/// The tests' engine behind TLS on a port of 127.0.0.1. Its thread ends with the test process.
pub struct TlsEngine {
    address: SocketAddr,
    handshakes: Arc<AtomicUsize>,
}

impl TlsEngine {
    /// Listens with a certificate of `authority` for 127.0.0.1, and takes only clients with a
    /// certificate `authority` issued.
    pub fn start(authority: &Authority) -> Self {
        let server = authority.issue(&["127.0.0.1"]);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(
                CertificateDer::from_pem_slice(authority.certificate().as_bytes())
                    .expect("the authority"),
            )
            .expect("a root");
        let clients = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::clone(&provider),
        )
        .build()
        .expect("a client verifier");
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocols")
            .with_client_cert_verifier(clients)
            .with_single_cert(
                vec![
                    CertificateDer::from_pem_slice(server.certificate.as_bytes())
                        .expect("the server's certificate"),
                ],
                PrivateKeyDer::from_pem_slice(server.key.as_bytes()).expect("the server's key"),
            )
            .expect("a server configuration");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let address = listener.local_addr().expect("the port's address");
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&handshakes);
        let engine = super::proxy::engine_socket();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the TLS engine");
            runtime.block_on(serve(listener, acceptor, &engine, &counted));
        });
        Self {
            address,
            handshakes,
        }
    }

    /// `tcp://127.0.0.1:PORT`, for `DOCKER_HOST` or a context.
    pub fn docker_host(&self) -> String {
        format!("tcp://{}", self.address)
    }

    /// How many clients completed a handshake.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

/// Accepts clients until the process ends, relaying each to `engine`.
async fn serve(
    listener: std::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    engine: &Path,
    handshakes: &Arc<AtomicUsize>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    loop {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        let acceptor = acceptor.clone();
        let engine = engine.to_owned();
        let handshakes = Arc::clone(handshakes);
        tokio::spawn(async move {
            // A client that refuses the certificate, or has none, just goes away.
            let Ok(mut client) = acceptor.accept(client).await else {
                return;
            };
            handshakes.fetch_add(1, Ordering::SeqCst);
            let mut engine = tokio::net::UnixStream::connect(&engine)
                .await
                .expect("connect to the engine");
            let _ended = tokio::io::copy_bidirectional(&mut client, &mut engine).await;
        });
    }
}
