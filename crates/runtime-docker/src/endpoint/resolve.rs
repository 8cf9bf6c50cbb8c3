//! Which engine, found as the docker CLI finds it: `DOCKER_HOST`; else the context named by
//! `DOCKER_CONTEXT`, else the current context of `config.json` (`default` meaning none); else
//! the rootless engine's socket (`$XDG_RUNTIME_DIR/docker.sock`) when it is there; else
//! `/var/run/docker.sock`.

use std::fmt;

use camino::{Utf8Path, Utf8PathBuf};

use super::address::{self, AddressProblem, EngineAddress, ParsedAddress};
use super::context::{self, ContextChoice, DEFAULT_CONTEXT};
use super::environment::EngineEnvironment;
use super::tls::TlsSettings;

/// An engine to connect to, and why this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Where it listens.
    pub address: EngineAddress,
    /// TLS, on a TCP port that asks for it.
    pub tls: Option<TlsSettings>,
    /// What named it.
    pub origin: EndpointOrigin,
}

impl Endpoint {
    /// The engine the process's environment names.
    pub fn of_process() -> Result<Self, EndpointError> {
        Self::resolve(&EngineEnvironment::of_process()?)
    }

    /// The engine `environment` names, reading the docker CLI's configuration directory it
    /// points at.
    pub fn resolve(environment: &EngineEnvironment) -> Result<Self, EndpointError> {
        if let Some(host) = environment.get("DOCKER_HOST") {
            return from_environment(host, EndpointOrigin::DockerHost, environment);
        }
        let chosen = match environment.get("DOCKER_CONTEXT") {
            Some(name) => Some((name.to_owned(), ContextChoice::DockerContext)),
            None => match environment.config_directory() {
                Some(directory) => context::current_context(&directory)?,
                None => None,
            },
        };
        match chosen {
            Some((name, chosen_by)) if name != DEFAULT_CONTEXT => {
                from_context(name, chosen_by, environment)
            }
            _ => Ok(default_endpoint(environment)),
        }
    }

    /// The socket of an engine on this machine, as bound into containers allowed to mount it:
    /// this endpoint's socket, or Docker's usual place for an engine on a TCP port.
    #[must_use]
    pub fn socket_path(&self) -> Utf8PathBuf {
        match &self.address {
            EngineAddress::Unix(path) => path.clone(),
            EngineAddress::Tcp { .. } => Utf8PathBuf::from(address::DEFAULT_SOCKET),
        }
    }
}

/// `unix:///path`, `tcp://host:port`, `tcp://host:port over TLS`.
impl fmt::Display for Endpoint {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.address)?;
        if self.tls.is_some() {
            formatter.write_str(" over TLS")?;
        }
        Ok(())
    }
}

/// What named an endpoint: what a user changes to choose another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointOrigin {
    /// `DOCKER_HOST`.
    DockerHost,
    /// A Docker context.
    Context {
        /// Its name.
        name: String,
        /// What chose it.
        chosen_by: ContextChoice,
        /// Its `meta.json`.
        meta: Utf8PathBuf,
    },
    /// The rootless engine's socket in `XDG_RUNTIME_DIR`, found there.
    RootlessSocket,
    /// Nothing: Docker's usual socket.
    Default,
}

impl fmt::Display for EndpointOrigin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DockerHost => formatter.write_str("from DOCKER_HOST"),
            Self::Context {
                name,
                chosen_by,
                meta,
            } => write!(formatter, "from context `{name}`, {chosen_by} ({meta})"),
            Self::RootlessSocket => {
                formatter.write_str("the rootless engine's socket in XDG_RUNTIME_DIR")
            }
            Self::Default => {
                formatter.write_str("the default: neither DOCKER_HOST nor a context names one")
            }
        }
    }
}

/// No endpoint can be made of the environment and the docker CLI's configuration.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// A variable is not text.
    #[error("{variable} is not valid UTF-8")]
    NotUnicode {
        /// Its name.
        variable: &'static str,
    },
    /// An address is not one.
    #[error("invalid engine address `{address}` ({origin}): {reason}")]
    InvalidAddress {
        /// As written.
        address: String,
        /// Where it was written.
        origin: EndpointOrigin,
        /// What is wrong.
        reason: String,
    },
    /// An address of a kind eider does not speak.
    #[error("`{scheme}://` engine addresses are not supported: `{address}` ({origin})")]
    UnsupportedScheme {
        /// `ssh`, `npipe`, `fd`.
        scheme: String,
        /// As written.
        address: String,
        /// Where it was written.
        origin: EndpointOrigin,
    },
    /// A context was named and there is nowhere to look for it.
    #[error(
        "cannot look for context `{name}` ({chosen_by}): neither DOCKER_CONFIG nor HOME is set"
    )]
    NoConfigDirectory {
        /// The context.
        name: String,
        /// What named it.
        chosen_by: ContextChoice,
    },
    /// `config.json` is there and cannot be read.
    #[error("cannot read the Docker config {path}")]
    ReadConfig {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `config.json` is not JSON of the expected shape.
    #[error("the Docker config {path} is not valid")]
    InvalidConfig {
        /// The file.
        path: Utf8PathBuf,
        /// Where and why.
        #[source]
        source: serde_json::Error,
    },
    /// The context named is not in the store.
    #[error("context `{name}` ({chosen_by}) does not exist: there is no {meta}")]
    UnknownContext {
        /// The context.
        name: String,
        /// What named it.
        chosen_by: ContextChoice,
        /// The file it would have.
        meta: Utf8PathBuf,
    },
    /// A context's `meta.json` is there and cannot be read.
    #[error("cannot read context `{name}`: {meta}")]
    ReadContext {
        /// The context.
        name: String,
        /// Its file.
        meta: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A context's `meta.json` is not JSON of the expected shape.
    #[error("context `{name}` is not valid: {meta}")]
    InvalidContext {
        /// The context.
        name: String,
        /// Its file.
        meta: Utf8PathBuf,
        /// Where and why.
        #[source]
        source: serde_json::Error,
    },
    /// A context without a Docker endpoint (one made for another tool).
    #[error("context `{name}` has no Docker endpoint: {meta} has no Endpoints.docker.Host")]
    NoDockerEndpoint {
        /// The context.
        name: String,
        /// Its file.
        meta: Utf8PathBuf,
    },
    /// TLS asked for, and nowhere to look for its files.
    #[error(
        "TLS to the engine at {address} ({origin}) needs its certificates: neither \
         DOCKER_CERT_PATH, DOCKER_CONFIG nor HOME is set"
    )]
    NoCertificateDirectory {
        /// The engine.
        address: EngineAddress,
        /// What named it.
        origin: EndpointOrigin,
    },
}

/// The endpoint of `host` (`DOCKER_HOST`), with TLS as the variables say: `DOCKER_TLS_VERIFY`
/// verifies the engine with the files of `DOCKER_CERT_PATH` (default: the configuration
/// directory); `DOCKER_TLS` alone, TLS without verification; `https://`, TLS verified.
fn from_environment(
    host: &str,
    origin: EndpointOrigin,
    environment: &EngineEnvironment,
) -> Result<Endpoint, EndpointError> {
    let ParsedAddress { address, https } = parse(host, &origin)?;
    let verify_asked = environment.get("DOCKER_TLS_VERIFY").is_some();
    let tls_asked = environment.get("DOCKER_TLS").is_some();
    let tls = match &address {
        EngineAddress::Tcp { .. } if verify_asked || tls_asked || https => {
            let Some(directory) = environment
                .get("DOCKER_CERT_PATH")
                .map(Utf8PathBuf::from)
                .or_else(|| environment.config_directory())
            else {
                return Err(EndpointError::NoCertificateDirectory { address, origin });
            };
            Some(TlsSettings {
                directory,
                verify: verify_asked || !tls_asked,
            })
        }
        _ => None,
    };
    Ok(Endpoint {
        address,
        tls,
        origin,
    })
}

/// The endpoint of context `name`: TLS when its store holds TLS files for it, it skips
/// verification, or its address is `https://`; the variables of TLS are not read, as for the
/// docker CLI.
fn from_context(
    name: String,
    chosen_by: ContextChoice,
    environment: &EngineEnvironment,
) -> Result<Endpoint, EndpointError> {
    let Some(directory) = environment.config_directory() else {
        return Err(EndpointError::NoConfigDirectory { name, chosen_by });
    };
    let stored = context::read_context(&directory, &name, &chosen_by)?;
    let origin = EndpointOrigin::Context {
        name,
        chosen_by,
        meta: stored.meta.clone(),
    };
    let ParsedAddress { address, https } = parse(&stored.host, &origin)?;
    let tls = match &address {
        EngineAddress::Tcp { .. }
            if https
                || stored.skip_tls_verify
                || TlsSettings::any_file_in(&stored.tls_directory) =>
        {
            Some(TlsSettings {
                directory: stored.tls_directory,
                verify: !stored.skip_tls_verify,
            })
        }
        _ => None,
    };
    Ok(Endpoint {
        address,
        tls,
        origin,
    })
}

/// The rootless engine's socket when there is one, else Docker's usual socket.
fn default_endpoint(environment: &EngineEnvironment) -> Endpoint {
    let rootless = environment
        .get("XDG_RUNTIME_DIR")
        .map(|directory| Utf8Path::new(directory).join("docker.sock"))
        .filter(|socket| is_socket(socket));
    let (path, origin) = match rootless {
        Some(socket) => (socket, EndpointOrigin::RootlessSocket),
        None => (
            Utf8PathBuf::from(address::DEFAULT_SOCKET),
            EndpointOrigin::Default,
        ),
    };
    Endpoint {
        address: EngineAddress::Unix(path),
        tls: None,
        origin,
    }
}

fn is_socket(path: &Utf8Path) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    std::fs::metadata(path).is_ok_and(|metadata| metadata.file_type().is_socket())
}

fn parse(text: &str, origin: &EndpointOrigin) -> Result<ParsedAddress, EndpointError> {
    address::parse(text).map_err(|problem| match problem {
        AddressProblem::Unsupported { scheme } => EndpointError::UnsupportedScheme {
            scheme,
            address: text.to_owned(),
            origin: origin.clone(),
        },
        AddressProblem::Invalid(reason) => EndpointError::InvalidAddress {
            address: text.to_owned(),
            origin: origin.clone(),
            reason,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::context::tests::{meta_path, tls_directory, write_context};

    /// A docker CLI configuration directory of a test.
    struct Config {
        directory: tempfile::TempDir,
    }

    impl Config {
        fn new() -> Self {
            Self {
                directory: tempfile::tempdir().expect("a directory"),
            }
        }

        fn path(&self) -> &Utf8Path {
            Utf8Path::from_path(self.directory.path()).expect("a UTF-8 temporary directory")
        }

        /// The environment with `DOCKER_CONFIG` pointing here, and `pairs`.
        fn environment(&self, pairs: &[(&str, &str)]) -> EngineEnvironment {
            EngineEnvironment::from_pairs(
                pairs
                    .iter()
                    .copied()
                    .chain([("DOCKER_CONFIG", self.path().as_str())]),
            )
        }

        fn write_config(&self, content: &str) -> Utf8PathBuf {
            let path = self.path().join("config.json");
            fs_err::write(&path, content).expect("config.json");
            path
        }

        /// Context `name` whose Docker endpoint is `host`.
        fn context(&self, name: &str, host: &str) -> Utf8PathBuf {
            write_context(
                self.path(),
                name,
                &format!(
                    r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
                ),
            )
        }
    }

    fn resolve(environment: &EngineEnvironment) -> Endpoint {
        Endpoint::resolve(environment).expect("an endpoint")
    }

    fn unix(path: &str) -> EngineAddress {
        EngineAddress::Unix(Utf8PathBuf::from(path))
    }

    fn tcp(host: &str, port: u16) -> EngineAddress {
        EngineAddress::Tcp {
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn docker_host_wins_over_docker_context_and_the_current_context() {
        let config = Config::new();
        config.write_config(r#"{"currentContext":"absent"}"#);
        let endpoint = resolve(&config.environment(&[
            ("DOCKER_HOST", "unix:///run/chosen.sock"),
            ("DOCKER_CONTEXT", "also-absent"),
        ]));
        assert_eq!(endpoint.address, unix("/run/chosen.sock"));
        assert_eq!(endpoint.origin, EndpointOrigin::DockerHost);
        assert_eq!(endpoint.tls, None);
    }

    #[test]
    fn docker_context_wins_over_the_current_context_of_config_json() {
        let config = Config::new();
        config.write_config(r#"{"currentContext":"absent","auths":{}}"#);
        let meta = config.context("remote", "tcp://engine.example:2375");
        let endpoint = resolve(&config.environment(&[("DOCKER_CONTEXT", "remote")]));
        assert_eq!(endpoint.address, tcp("engine.example", 2375));
        assert_eq!(
            endpoint.origin,
            EndpointOrigin::Context {
                name: "remote".to_owned(),
                chosen_by: ContextChoice::DockerContext,
                meta: meta.clone(),
            }
        );
        assert_eq!(
            endpoint.origin.to_string(),
            format!("from context `remote`, named by DOCKER_CONTEXT ({meta})")
        );
    }

    #[test]
    fn the_current_context_of_config_json_chooses_the_engine() {
        let config = Config::new();
        let file = config.write_config(r#"{"currentContext":"local"}"#);
        let meta = config.context("local", "unix:///run/local.sock");
        let endpoint = resolve(&config.environment(&[]));
        assert_eq!(endpoint.address, unix("/run/local.sock"));
        assert_eq!(
            endpoint.origin.to_string(),
            format!("from context `local`, the current context of {file} ({meta})")
        );
    }

    #[test]
    fn config_json_is_found_in_dot_docker_of_home_without_docker_config() {
        let home = Config::new();
        let dot_docker = home.path().join(".docker");
        fs_err::create_dir(&dot_docker).expect(".docker");
        fs_err::write(
            dot_docker.join("config.json"),
            r#"{"currentContext":"local"}"#,
        )
        .expect("config.json");
        write_context(
            &dot_docker,
            "local",
            r#"{"Endpoints":{"docker":{"Host":"unix:///run/home.sock"}}}"#,
        );
        let endpoint = resolve(&EngineEnvironment::from_pairs([(
            "HOME",
            home.path().as_str(),
        )]));
        assert_eq!(endpoint.address, unix("/run/home.sock"));
    }

    #[test]
    fn the_context_named_default_is_the_default_endpoint() {
        let config = Config::new();
        config.write_config(r#"{"currentContext":"default"}"#);
        for environment in [
            config.environment(&[]),
            config.environment(&[("DOCKER_CONTEXT", "default")]),
        ] {
            let endpoint = resolve(&environment);
            assert_eq!(endpoint.address, unix("/var/run/docker.sock"));
            assert_eq!(endpoint.origin, EndpointOrigin::Default);
        }
    }

    #[test]
    fn without_any_choice_the_rootless_socket_is_used_when_it_is_there() {
        let config = Config::new();
        let runtime = tempfile::tempdir().expect("a runtime directory");
        let runtime_path = runtime.path().to_str().expect("UTF-8");
        let environment = config.environment(&[("XDG_RUNTIME_DIR", runtime_path)]);
        // No socket yet (and a plain file is no socket): Docker's usual one.
        let endpoint = resolve(&environment);
        assert_eq!(endpoint.address, unix("/var/run/docker.sock"));
        assert_eq!(
            endpoint.origin.to_string(),
            "the default: neither DOCKER_HOST nor a context names one"
        );
        let socket = runtime.path().join("docker.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("a socket");
        let endpoint = resolve(&environment);
        assert_eq!(
            endpoint.address,
            unix(&format!("{runtime_path}/docker.sock"))
        );
        assert_eq!(endpoint.origin, EndpointOrigin::RootlessSocket);
    }

    #[test]
    fn docker_tls_verify_turns_on_verified_tls_with_the_files_of_docker_cert_path() {
        let config = Config::new();
        let endpoint = resolve(&config.environment(&[
            ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", "/certs"),
        ]));
        assert_eq!(endpoint.address, tcp("127.0.0.1", 2376));
        assert_eq!(
            endpoint.tls,
            Some(TlsSettings {
                directory: Utf8PathBuf::from("/certs"),
                verify: true,
            })
        );
        assert_eq!(endpoint.to_string(), "tcp://127.0.0.1:2376 over TLS");
        // Without DOCKER_CERT_PATH, the files are looked for in the configuration directory;
        // any value turns verification on, as for the docker CLI ("0" too).
        let endpoint = resolve(&config.environment(&[
            ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
            ("DOCKER_TLS_VERIFY", "0"),
        ]));
        assert_eq!(
            endpoint.tls,
            Some(TlsSettings {
                directory: config.path().to_owned(),
                verify: true,
            })
        );
    }

    #[test]
    fn plain_tcp_without_tls_variables_and_tls_variables_ignored_on_a_socket() {
        let config = Config::new();
        let plain = resolve(&config.environment(&[("DOCKER_HOST", "tcp://127.0.0.1:2375")]));
        assert_eq!(plain.tls, None);
        assert_eq!(plain.to_string(), "tcp://127.0.0.1:2375");
        let socket = resolve(&config.environment(&[
            ("DOCKER_HOST", "unix:///run/engine.sock"),
            ("DOCKER_TLS_VERIFY", "1"),
        ]));
        assert_eq!(socket.tls, None);
    }

    #[test]
    fn docker_tls_alone_skips_verification_and_https_verifies() {
        let config = Config::new();
        let unverified = resolve(
            &config.environment(&[("DOCKER_HOST", "tcp://engine:2376"), ("DOCKER_TLS", "1")]),
        );
        assert_eq!(unverified.tls.map(|tls| tls.verify), Some(false));
        let https = resolve(&config.environment(&[("DOCKER_HOST", "https://engine")]));
        assert_eq!(https.address, tcp("engine", 2376));
        assert_eq!(https.tls.map(|tls| tls.verify), Some(true));
    }

    #[test]
    fn a_context_with_tls_files_speaks_tls_with_them_and_ignores_the_tls_variables() {
        let config = Config::new();
        config.context("secure", "tcp://engine:2376");
        let environment = config.environment(&[
            ("DOCKER_CONTEXT", "secure"),
            ("DOCKER_CERT_PATH", "/elsewhere"),
        ]);
        // No TLS files in the store: plain TCP.
        assert_eq!(resolve(&environment).tls, None);
        let directory = tls_directory(config.path(), "secure");
        fs_err::create_dir_all(&directory).expect("the context's TLS directory");
        fs_err::write(directory.join("ca.pem"), "").expect("ca.pem");
        assert_eq!(
            resolve(&environment).tls,
            Some(TlsSettings {
                directory,
                verify: true,
            })
        );
    }

    #[test]
    fn a_context_that_skips_tls_verification_speaks_tls_unverified() {
        let config = Config::new();
        write_context(
            config.path(),
            "lax",
            r#"{"Endpoints":{"docker":{"Host":"tcp://engine:2376","SkipTLSVerify":true}}}"#,
        );
        let endpoint = resolve(&config.environment(&[("DOCKER_CONTEXT", "lax")]));
        assert_eq!(endpoint.tls.map(|tls| tls.verify), Some(false));
    }

    fn error(environment: &EngineEnvironment) -> String {
        eider_error_chain::chain_text(&Endpoint::resolve(environment).expect_err("no endpoint"))
    }

    #[test]
    fn a_context_that_does_not_exist_is_an_error_naming_it_what_chose_it_and_its_file() {
        let config = Config::new();
        let file = config.write_config(r#"{"currentContext":"gone"}"#);
        let meta = meta_path(config.path(), "gone");
        assert_eq!(
            error(&config.environment(&[])),
            format!(
                "context `gone` (the current context of {file}) does not exist: there is no \
                 {meta}"
            )
        );
        let meta = meta_path(config.path(), "nope");
        assert_eq!(
            error(&config.environment(&[("DOCKER_CONTEXT", "nope")])),
            format!("context `nope` (named by DOCKER_CONTEXT) does not exist: there is no {meta}")
        );
    }

    #[test]
    fn a_broken_meta_json_is_an_error_naming_the_context_the_file_and_the_place() {
        let config = Config::new();
        let meta = write_context(config.path(), "broken", "{\"Endpoints\": {\"docker\": [}");
        assert_eq!(
            error(&config.environment(&[("DOCKER_CONTEXT", "broken")])),
            format!("context `broken` is not valid: {meta}: expected value at line 1 column 27")
        );
        let meta = write_context(
            config.path(),
            "kubernetes-only",
            r#"{"Endpoints":{"kubernetes":{}}}"#,
        );
        assert_eq!(
            error(&config.environment(&[("DOCKER_CONTEXT", "kubernetes-only")])),
            format!(
                "context `kubernetes-only` has no Docker endpoint: {meta} has no \
                 Endpoints.docker.Host"
            )
        );
    }

    #[test]
    fn a_broken_config_json_is_an_error_naming_the_file() {
        let config = Config::new();
        let file = config.write_config(r#"{"currentContext": 3}"#);
        assert_eq!(
            error(&config.environment(&[])),
            format!(
                "the Docker config {file} is not valid: invalid type: integer `3`, expected a \
                 string at line 1 column 20"
            )
        );
        // DOCKER_CONTEXT spares the file a reading.
        config.context("named", "unix:///run/named.sock");
        let endpoint = resolve(&config.environment(&[("DOCKER_CONTEXT", "named")]));
        assert_eq!(endpoint.address, unix("/run/named.sock"));
    }

    #[test]
    fn addresses_that_cannot_be_used_are_errors_naming_where_they_were_written() {
        let config = Config::new();
        assert_eq!(
            error(&config.environment(&[("DOCKER_HOST", "ssh://user@engine")])),
            "`ssh://` engine addresses are not supported: `ssh://user@engine` (from DOCKER_HOST)"
        );
        let meta = config.context("typo", "tcp://engine:23y5");
        assert_eq!(
            error(&config.environment(&[("DOCKER_CONTEXT", "typo")])),
            format!(
                "invalid engine address `tcp://engine:23y5` (from context `typo`, named by \
                 DOCKER_CONTEXT ({meta})): the port is not a number from 0 to 65535"
            )
        );
    }

    #[test]
    fn a_context_and_tls_need_somewhere_to_look() {
        let named = EngineEnvironment::from_pairs([("DOCKER_CONTEXT", "remote")]);
        assert_eq!(
            error(&named),
            "cannot look for context `remote` (named by DOCKER_CONTEXT): neither DOCKER_CONFIG \
             nor HOME is set"
        );
        let tls = EngineEnvironment::from_pairs([
            ("DOCKER_HOST", "tcp://engine:2376"),
            ("DOCKER_TLS_VERIFY", "1"),
        ]);
        assert_eq!(
            error(&tls),
            "TLS to the engine at tcp://engine:2376 (from DOCKER_HOST) needs its certificates: \
             neither DOCKER_CERT_PATH, DOCKER_CONFIG nor HOME is set"
        );
        // Nothing chosen and nowhere to look: the default, as for the docker CLI.
        let endpoint = resolve(&EngineEnvironment::default());
        assert_eq!(endpoint.address, unix("/var/run/docker.sock"));
    }
}
