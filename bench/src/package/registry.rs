//! A registry of the benchmark's own: Debian's `docker-registry` on a free loopback port, storing
//! into the benchmark's directory, stopped when dropped. Its own, so that the pushes measured
//! meet no blob left by anyone else and leave nothing behind.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The registry's program.
pub const PROGRAM: &str = "docker-registry";

/// How long the registry may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How much of its log an error shows.
const SHOWN_LOG_BYTES: usize = 1_500;

/// Why the registry could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Its files could not be written, or the program could not be started.
    #[error("cannot start `{PROGRAM}`")]
    Start(#[source] std::io::Error),
    /// It exited before answering.
    #[error("`{PROGRAM}` exited before it answered ({status}); its log ends with:\n{log}")]
    Exited {
        /// How it exited.
        status: std::process::ExitStatus,
        /// The end of its log.
        log: String,
    },
    /// It did not answer in time.
    #[error("`{PROGRAM}` did not answer on {address} within {}s", START_TIMEOUT.as_secs())]
    Silent {
        /// Where it should have answered.
        address: String,
    },
}

/// A running registry, killed when dropped.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    address: String,
    log: PathBuf,
}

impl Registry {
    /// Starts a registry storing under `directory` (its config and log go there too) and waits
    /// until it answers `GET /v2/`.
    pub fn start(directory: &Path) -> Result<Self, RegistryError> {
        let storage = directory.join("storage");
        fs_err::create_dir_all(&storage).map_err(RegistryError::Start)?;
        let address = free_address().map_err(RegistryError::Start)?;
        let config = directory.join("config.yml");
        fs_err::write(&config, config_text(&storage, &address)).map_err(RegistryError::Start)?;
        let log = directory.join("registry.log");
        let log_file = fs_err::File::create(&log).map_err(RegistryError::Start)?;
        let (log_file, _) = log_file.into_parts();
        let child = Command::new(PROGRAM)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(RegistryError::Start)?;
        let mut registry = Self {
            child,
            address: address.to_string(),
            log,
        };
        registry.wait_until_ready()?;
        Ok(registry)
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }

    fn wait_until_ready(&mut self) -> Result<(), RegistryError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = fs_err::read(&self.log).unwrap_or_default();
                let start = log.len().saturating_sub(SHOWN_LOG_BYTES);
                return Err(RegistryError::Exited {
                    status,
                    log: String::from_utf8_lossy(&log[start..]).into_owned(),
                });
            }
            if answers(&self.address) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(RegistryError::Silent {
                    address: self.address.clone(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Our own child, by its handle: nothing else is signalled.
        let _ignored = self.child.kill();
        let _ignored = self.child.wait();
    }
}

/// A loopback address no one listens on right now (another program could take it before the
/// registry does; unlikely enough for a benchmark).
fn free_address() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.local_addr()
}

fn config_text(storage: &Path, address: &SocketAddr) -> String {
    format!(
        "version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {}
  delete:
    enabled: true
http:
  addr: {address}
",
        storage.display()
    )
}

/// Whether `GET /v2/` answers 200.
fn answers(address: &str) -> bool {
    let Ok(address) = address.parse::<SocketAddr>() else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) else {
        return false;
    };
    let _ignored = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /v2/ HTTP/1.0\r\nHost: {address}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head).is_ok() && is_ok_status(&head)
}

/// `HTTP/1.x 200`.
fn is_ok_status(head: &[u8]) -> bool {
    head.starts_with(b"HTTP/1.") && head.get(8..12) == Some(b" 200")
}

#[cfg(test)]
mod tests {
    use super::is_ok_status;

    #[test]
    fn only_200_means_ready() {
        assert!(is_ok_status(b"HTTP/1.1 200 OK"));
        assert!(is_ok_status(b"HTTP/1.0 200 "));
        assert!(!is_ok_status(b"HTTP/1.1 401 Unauthorized"));
        assert!(!is_ok_status(b"garbage"));
    }
}
