//! Throwaway Debian `docker-registry` servers: each on a free loopback port, with filesystem
//! storage in its own temp directory, optionally behind htpasswd (bcrypt) basic auth; killed
//! when dropped.

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};

const BINARY: &str = "docker-registry";
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The user the authenticated registries accept.
pub const USER: &str = "eider-user";
/// That user's password.
pub const PASSWORD: &str = "correct-horse-battery";

/// A running registry.
pub struct TestRegistry {
    child: Child,
    address: SocketAddr,
    directory: tempfile::TempDir,
}

impl TestRegistry {
    /// A registry without authentication.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// A registry that wants [`USER`] and [`PASSWORD`] (htpasswd, basic auth).
    pub fn start_authenticated() -> Self {
        Self::start_with(true)
    }

    fn start_with(authenticated: bool) -> Self {
        // A port found free can be taken before the registry binds it: try a few.
        let mut last_log = String::new();
        for _ in 0..5 {
            let directory = tempfile::tempdir().expect("registry temp dir");
            let root = utf8(directory.path());
            let port = free_port();
            let config = config_yaml(&root, port, authenticated);
            std::fs::write(root.join("config.yml"), config).expect("write registry config");
            if authenticated {
                let hash = bcrypt::hash(PASSWORD, 4).expect("bcrypt hash");
                std::fs::write(root.join("htpasswd"), format!("{USER}:{hash}\n"))
                    .expect("write htpasswd");
            }
            let log = std::fs::File::create(root.join("registry.log")).expect("registry log");
            let child = Command::new(BINARY)
                .arg("serve")
                .arg(root.join("config.yml"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log handle"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|error| {
                    panic!(
                        "cannot start `{BINARY}` ({error}); install Debian's docker-registry \
                         package (bash scripts/test-env.sh does)"
                    )
                });
            let mut registry = Self {
                child,
                address: SocketAddr::from(([127, 0, 0, 1], port)),
                directory,
            };
            if registry.wait_until_listening() {
                return registry;
            }
            last_log = std::fs::read_to_string(root.join("registry.log")).unwrap_or_default();
        }
        panic!("docker-registry did not start; its last log:\n{last_log}");
    }

    fn wait_until_listening(&mut self) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_status)) = self.child.try_wait() {
                return false;
            }
            if TcpStream::connect_timeout(&self.address, Duration::from_millis(200)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// What `skopeo inspect` (an independent client) reads of `name:tag` in this registry; an
    /// error when skopeo cannot be run at all.
    pub fn skopeo_inspect(&self, name_and_tag: &str) -> std::io::Result<serde_json::Value> {
        let output = Command::new("skopeo")
            .args(["inspect", "--tls-verify=false"])
            .arg(format!("docker://{}/{name_and_tag}", self.address))
            .output()?;
        assert!(
            output.status.success(),
            "skopeo inspect failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(serde_json::from_slice(&output.stdout).expect("skopeo prints JSON"))
    }

    /// Where the registry keeps its data, for tests that corrupt it.
    pub fn storage_root(&self) -> Utf8PathBuf {
        utf8(self.directory.path()).join("data")
    }

    /// The file the registry stores blob `digest` in.
    pub fn stored_blob(&self, digest: &eider_oci_types::Digest) -> Utf8PathBuf {
        let hex = digest.hex();
        self.storage_root()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The registry's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.directory.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ignored = self.child.kill();
        let _ignored = self.child.wait();
    }
}

fn config_yaml(root: &Utf8Path, port: u16, authenticated: bool) -> String {
    let mut config = format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {root}/data\n  delete:\n    enabled: true\n\
         \x20 maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: eider-test-secret\n"
    );
    if authenticated {
        let _ = write!(
            config,
            "auth:\n  htpasswd:\n    realm: eider-test\n    path: {root}/htpasswd\n"
        );
    }
    config
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn utf8(path: &std::path::Path) -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(path.to_owned()).expect("utf-8 temp path")
}
