//! TLS to an engine on a TCP port, set up as the docker CLI sets it up from a directory of PEM
//! files: `ca.pem` (the only authority the engine's certificate may come from; without it, the
//! system's), `cert.pem` and `key.pem` (the client's certificate, when both are there). A file
//! that is not there is not used; a file that is there and cannot be used is an error naming it.

use std::fmt;
use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::BuilderVerifierExt as _;

/// The most a PEM file may hold: far beyond any certificate chain.
const MOST_FILE_BYTES: u64 = 1024 * 1024;

/// TLS to an engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The directory of `ca.pem`, `cert.pem` and `key.pem`: `DOCKER_CERT_PATH` (else the
    /// configuration directory), or a context's TLS directory.
    pub directory: Utf8PathBuf,
    /// Whether the engine's certificate is verified: not with a context's `SkipTLSVerify`, nor
    /// with `DOCKER_TLS` alone.
    pub verify: bool,
}

impl TlsSettings {
    /// Whether any of the files is in `directory`: a context without them speaks plain TCP.
    pub(crate) fn any_file_in(directory: &Utf8Path) -> bool {
        [CA_FILE, CERTIFICATE_FILE, KEY_FILE]
            .iter()
            .any(|file| directory.join(file).exists())
    }
}

impl fmt::Display for TlsSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.verify {
            write!(formatter, "TLS with the files of {}", self.directory)
        } else {
            write!(
                formatter,
                "TLS without verifying the engine, with the files of {}",
                self.directory
            )
        }
    }
}

const CA_FILE: &str = "ca.pem";
const CERTIFICATE_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";

/// The TLS files of an endpoint cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file is there and cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not PEM, or holds nothing of what it should.
    #[error("{path} holds no PEM {what}")]
    Empty {
        /// The file.
        path: Utf8PathBuf,
        /// What it should hold: `certificate`, `private key`.
        what: &'static str,
    },
    /// A file's PEM is broken.
    #[error("{path} is not valid PEM")]
    Pem {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// Half of a client certificate.
    #[error("{present} has no partner: {missing} is missing (a client certificate needs both)")]
    HalfAPair {
        /// The file that is there.
        present: Utf8PathBuf,
        /// The file that is not.
        missing: Utf8PathBuf,
    },
    /// rustls refused the material (a certificate it cannot read, a key of a kind it does not
    /// know, a key that does not match the certificate).
    #[error("the TLS files of {directory} cannot be used")]
    Refused {
        /// The directory.
        directory: Utf8PathBuf,
        /// Why.
        #[source]
        source: rustls::Error,
    },
}

/// The client configuration for `settings`. Built once per connection to an engine: reading
/// the files (and, without `ca.pem`, the system's roots) is not for every request.
pub(crate) fn client_config(settings: &TlsSettings) -> Result<Arc<ClientConfig>, TlsError> {
    let directory = &settings.directory;
    let refused = |source| TlsError::Refused {
        directory: directory.clone(),
        source,
    };
    // ring, passed in rather than installed process-wide, as for the registry client.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(refused)?;
    let ca_file = directory.join(CA_FILE);
    let builder = if !settings.verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(UnverifiedEngine { provider }))
    } else if let Some(bytes) = read_if_present(&ca_file)? {
        // Only the given authority, as the docker CLI does: an engine's certificate signed by
        // some public authority is not the engine the files were made for.
        let mut roots = rustls::RootCertStore::empty();
        for certificate in certificates(&ca_file, &bytes)? {
            roots.add(certificate).map_err(refused)?;
        }
        builder.with_root_certificates(roots)
    } else {
        builder.with_platform_verifier().map_err(refused)?
    };
    let certificate_file = directory.join(CERTIFICATE_FILE);
    let key_file = directory.join(KEY_FILE);
    let config = match (
        read_if_present(&certificate_file)?,
        read_if_present(&key_file)?,
    ) {
        (Some(chain), Some(key)) => builder
            .with_client_auth_cert(
                certificates(&certificate_file, &chain)?,
                private_key(&key_file, &key)?,
            )
            .map_err(refused)?,
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) => {
            return Err(TlsError::HalfAPair {
                present: certificate_file,
                missing: key_file,
            });
        }
        (None, Some(_)) => {
            return Err(TlsError::HalfAPair {
                present: key_file,
                missing: certificate_file,
            });
        }
    };
    Ok(Arc::new(config))
}

/// The bytes of `path`; `None` when there is no such file.
fn read_if_present(path: &Utf8Path) -> Result<Option<Vec<u8>>, TlsError> {
    match eider_regular_file::read_regular(path, MOST_FILE_BYTES) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TlsError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn certificates(path: &Utf8Path, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            path: path.to_owned(),
            source,
        })?;
    if certificates.is_empty() {
        return Err(TlsError::Empty {
            path: path.to_owned(),
            what: "certificate",
        });
    }
    Ok(certificates)
}

fn private_key(path: &Utf8Path, bytes: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(bytes).map_err(|source| match source {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::Empty {
            path: path.to_owned(),
            what: "private key",
        },
        source => TlsError::Pem {
            path: path.to_owned(),
            source,
        },
    })
}

/// Accepts any certificate of the engine, as a context's `SkipTLSVerify` and `DOCKER_TLS`
/// without `DOCKER_TLS_VERIFY` ask. The handshake's signatures are still checked: the engine
/// must hold the key of the certificate it shows.
#[derive(Debug)]
struct UnverifiedEngine {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for UnverifiedEngine {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A certificate authority and an end entity it signed, as PEM.
    pub(crate) struct Material {
        pub(crate) ca: String,
        pub(crate) certificate: String,
        pub(crate) key: String,
    }

    /// A fresh authority and a certificate for `names` signed by it (a server's, or a client's).
    pub(crate) fn material(names: &[&str]) -> Material {
        let ca_key = rcgen::KeyPair::generate().expect("ca key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("self-signed ca");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate().expect("key");
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let certificate = rcgen::CertificateParams::new(names)
            .expect("params")
            .signed_by(&key, &issuer)
            .expect("signed");
        Material {
            ca: ca.pem(),
            certificate: certificate.pem(),
            key: key.serialize_pem(),
        }
    }

    fn settings(directory: &Utf8Path) -> TlsSettings {
        TlsSettings {
            directory: directory.to_owned(),
            verify: true,
        }
    }

    fn utf8(directory: &tempfile::TempDir) -> &Utf8Path {
        Utf8Path::from_path(directory.path()).expect("a UTF-8 temporary directory")
    }

    #[test]
    fn the_three_files_make_a_configuration_with_a_client_certificate() {
        let directory = tempfile::tempdir().expect("directory");
        let directory = utf8(&directory);
        let material = material(&["client"]);
        fs_err::write(directory.join("ca.pem"), &material.ca).expect("ca");
        fs_err::write(directory.join("cert.pem"), &material.certificate).expect("cert");
        fs_err::write(directory.join("key.pem"), &material.key).expect("key");
        let config = client_config(&settings(directory)).expect("a configuration");
        assert!(config.client_auth_cert_resolver.has_certs());
        assert!(TlsSettings::any_file_in(directory));
    }

    #[test]
    fn files_that_are_not_there_are_not_used() {
        let directory = tempfile::tempdir().expect("directory");
        let directory = utf8(&directory);
        assert!(!TlsSettings::any_file_in(directory));
        // Without ca.pem, the system's roots; without cert.pem and key.pem, no client
        // certificate.
        let config = client_config(&settings(directory)).expect("a configuration");
        assert!(!config.client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn half_a_client_certificate_is_an_error_naming_both_files() {
        let directory = tempfile::tempdir().expect("directory");
        let directory = utf8(&directory);
        fs_err::write(
            directory.join("cert.pem"),
            material(&["client"]).certificate,
        )
        .expect("cert");
        let error = client_config(&settings(directory)).expect_err("half a pair");
        assert_eq!(
            error.to_string(),
            format!(
                "{directory}/cert.pem has no partner: {directory}/key.pem is missing (a client \
                 certificate needs both)"
            )
        );
    }

    #[test]
    fn a_file_without_pem_is_an_error_naming_it() {
        let directory = tempfile::tempdir().expect("directory");
        let directory = utf8(&directory);
        fs_err::write(directory.join("ca.pem"), "not a certificate\n").expect("ca");
        let error = client_config(&settings(directory)).expect_err("no certificate");
        assert_eq!(
            error.to_string(),
            format!("{directory}/ca.pem holds no PEM certificate")
        );
        let material = material(&["client"]);
        fs_err::write(directory.join("ca.pem"), &material.ca).expect("ca");
        fs_err::write(directory.join("cert.pem"), &material.certificate).expect("cert");
        fs_err::write(directory.join("key.pem"), &material.certificate).expect("key");
        let error = client_config(&settings(directory)).expect_err("no key");
        assert_eq!(
            error.to_string(),
            format!("{directory}/key.pem holds no PEM private key")
        );
    }
}
