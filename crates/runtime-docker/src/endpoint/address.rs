//! Engine addresses as `DOCKER_HOST` and Docker contexts write them, read as the docker CLI reads
//! them: `unix://PATH`, `tcp://HOST:PORT` (and bollard's `http://`), `https://HOST:PORT`, or a
//! bare path or host.

use std::fmt;

use camino::Utf8PathBuf;

/// The engine's socket when an address names none, and Docker's usual place.
pub(crate) const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// The engine's plain TCP port when an address names none (IANA's `docker`).
const DEFAULT_PORT: u16 = 2375;

/// The engine's TLS port when an `https://` address names none (IANA's `docker-s`).
const DEFAULT_TLS_PORT: u16 = 2376;

/// Where an engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineAddress {
    /// A Unix socket.
    Unix(Utf8PathBuf),
    /// A TCP port.
    Tcp {
        /// The host as written: a name, an IPv4 address, or an IPv6 address in brackets.
        host: String,
        /// The port.
        port: u16,
    },
}

impl EngineAddress {
    /// `HOST:PORT` of a TCP address, as a connection and a `Host` header take it.
    pub(crate) fn authority(&self) -> Option<String> {
        match self {
            Self::Unix(_) => None,
            Self::Tcp { host, port } => Some(format!("{host}:{port}")),
        }
    }
}

impl fmt::Display for EngineAddress {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unix(path) => write!(formatter, "unix://{path}"),
            Self::Tcp { host, port } => write!(formatter, "tcp://{host}:{port}"),
        }
    }
}

/// An address read: where, and whether its scheme asks for TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedAddress {
    pub(crate) address: EngineAddress,
    /// Written `https://`.
    pub(crate) https: bool,
}

/// What is wrong with an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AddressProblem {
    /// A scheme the docker CLI knows and eider does not speak (`ssh`, `npipe`, `fd`).
    Unsupported {
        /// The scheme, without `://`.
        scheme: String,
    },
    /// Not an address.
    Invalid(String),
}

/// Reads `text` as the docker CLI reads `DOCKER_HOST`: a bare path (`/...`, `./...`) is a Unix
/// socket and any other bare text a TCP host; `unix://` alone is the default socket, `tcp://`
/// alone `localhost:2375`, a host without port gets 2375 (2376 after `https://`).
pub(crate) fn parse(text: &str) -> Result<ParsedAddress, AddressProblem> {
    let text = text.trim();
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None if text.starts_with('/') || text.starts_with("./") => ("unix".to_owned(), text),
        None => ("tcp".to_owned(), text),
    };
    let tcp = |default_port, https| {
        Ok(ParsedAddress {
            address: tcp_address(rest, default_port)?,
            https,
        })
    };
    match scheme.as_str() {
        "unix" => {
            if rest.contains("://") {
                return Err(AddressProblem::Invalid(
                    "a socket path cannot hold `://`".to_owned(),
                ));
            }
            let path = if rest.is_empty() {
                DEFAULT_SOCKET
            } else {
                rest
            };
            Ok(ParsedAddress {
                address: EngineAddress::Unix(Utf8PathBuf::from(path)),
                https: false,
            })
        }
        "tcp" | "http" => tcp(DEFAULT_PORT, false),
        "https" => tcp(DEFAULT_TLS_PORT, true),
        "ssh" | "npipe" | "fd" => Err(AddressProblem::Unsupported { scheme }),
        _ => Err(AddressProblem::Invalid(format!(
            "`{scheme}://` is not an engine address: use unix://PATH, tcp://HOST:PORT or \
             https://HOST:PORT"
        ))),
    }
}

/// `HOST[:PORT][/]` after a TCP scheme.
fn tcp_address(rest: &str, default_port: u16) -> Result<EngineAddress, AddressProblem> {
    let invalid = |reason: &str| AddressProblem::Invalid(reason.to_owned());
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if !path.is_empty() {
        return Err(invalid(
            "a path after the host is not supported: give only HOST:PORT",
        ));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (inner, after) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid("an IPv6 address lacks its closing `]`"))?;
        let port = match after {
            "" => None,
            after => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| invalid("only `:PORT` may follow an IPv6 address"))?,
            ),
        };
        (format!("[{inner}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (authority.to_owned(), None),
        }
    };
    if host.contains(':') && !host.starts_with('[') {
        return Err(invalid(
            "an IPv6 address must be written in brackets: [ADDRESS]:PORT",
        ));
    }
    if host
        .chars()
        .any(|character| character.is_whitespace() || matches!(character, '@' | '?' | '#'))
    {
        return Err(invalid("the host is not a host name or an IP address"));
    }
    let port = match port {
        None | Some("") => default_port,
        Some(port) => port
            .parse()
            .map_err(|_| invalid("the port is not a number from 0 to 65535"))?,
    };
    Ok(EngineAddress::Tcp {
        host: if host.is_empty() {
            "localhost".to_owned()
        } else {
            host
        },
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16, https: bool) -> ParsedAddress {
        ParsedAddress {
            address: EngineAddress::Tcp {
                host: host.to_owned(),
                port,
            },
            https,
        }
    }

    fn unix(path: &str) -> ParsedAddress {
        ParsedAddress {
            address: EngineAddress::Unix(Utf8PathBuf::from(path)),
            https: false,
        }
    }

    #[test]
    fn addresses_are_read_as_the_docker_cli_reads_them() {
        let cases = [
            ("unix:///run/engine.sock", unix("/run/engine.sock")),
            ("unix://", unix("/var/run/docker.sock")),
            ("/run/engine.sock", unix("/run/engine.sock")),
            ("./engine.sock", unix("./engine.sock")),
            ("tcp://127.0.0.1:2375", tcp("127.0.0.1", 2375, false)),
            ("tcp://engine", tcp("engine", 2375, false)),
            ("tcp://", tcp("localhost", 2375, false)),
            ("tcp://:2376", tcp("localhost", 2376, false)),
            ("TCP://engine:1/", tcp("engine", 1, false)),
            ("http://engine:2375/", tcp("engine", 2375, false)),
            ("engine:2375", tcp("engine", 2375, false)),
            ("https://engine", tcp("engine", 2376, true)),
            ("https://engine:443", tcp("engine", 443, true)),
            ("tcp://[::1]:2375", tcp("[::1]", 2375, false)),
            ("tcp://[::1]", tcp("[::1]", 2375, false)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn ssh_named_pipes_and_descriptors_are_known_but_unsupported() {
        for (text, scheme) in [
            ("ssh://user@engine", "ssh"),
            ("npipe:////./pipe/docker_engine", "npipe"),
            ("fd://", "fd"),
        ] {
            assert_eq!(
                parse(text),
                Err(AddressProblem::Unsupported {
                    scheme: scheme.to_owned()
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_addresses_say_what_is_wrong() {
        let cases = [
            (
                "tcp://engine:port",
                "the port is not a number from 0 to 65535",
            ),
            (
                "tcp://engine:70000",
                "the port is not a number from 0 to 65535",
            ),
            (
                "tcp://::1:2375",
                "an IPv6 address must be written in brackets",
            ),
            ("tcp://[::1:2375", "an IPv6 address lacks its closing `]`"),
            (
                "tcp://engine:2375/v1.40",
                "a path after the host is not supported",
            ),
            (
                "tcp://user@engine:2375",
                "the host is not a host name or an IP address",
            ),
            ("unix://tcp://engine", "a socket path cannot hold `://`"),
            ("gopher://engine", "`gopher://` is not an engine address"),
        ];
        for (text, expected) in cases {
            let Err(AddressProblem::Invalid(reason)) = parse(text) else {
                panic!("{text} is read as an address");
            };
            assert!(reason.starts_with(expected), "{text}: {reason}");
        }
    }

    #[test]
    fn addresses_show_as_urls_and_tcp_ones_have_an_authority() {
        let socket = EngineAddress::Unix(Utf8PathBuf::from("/run/engine.sock"));
        assert_eq!(socket.to_string(), "unix:///run/engine.sock");
        assert_eq!(socket.authority(), None);
        let port = EngineAddress::Tcp {
            host: "[::1]".to_owned(),
            port: 2376,
        };
        assert_eq!(port.to_string(), "tcp://[::1]:2376");
        assert_eq!(port.authority().as_deref(), Some("[::1]:2376"));
    }
}
