//! A second Docker Engine of the test's own, beside the one `scripts/test-env.sh` runs, that a
//! test may stop, restart, freeze and resume without disturbing anything else.
//!
//! Everything it has lives under one short directory in `/tmp` (a Unix socket path is at most
//! 107 bytes): data root, exec root (which holds the containerd that dockerd starts for it, so
//! the main engine's containerd is never shared), pid file, socket and log. Dropping it removes
//! its containers, stops it, ends whatever process of it remains, unmounts what it mounted and
//! removes the directory, also when the test failed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::BUSYBOX;

/// How long a starting engine may take to answer its first ping.
const START_PATIENCE: Duration = Duration::from_secs(60);
/// How long a stopping engine may take before it is killed (it stops its containers first,
/// giving each its stop timeout of 10 s when it ignores SIGTERM).
const STOP_PATIENCE: Duration = Duration::from_secs(30);

/// A dockerd of the test's own.
pub struct DisposableEngine {
    root: PathBuf,
    live_restore: bool,
    daemon: Option<Child>,
    frozen: bool,
}

impl DisposableEngine {
    /// Starts an engine (with `--live-restore` when asked) and loads the busybox test image
    /// into it from the main engine.
    pub fn start(live_restore: bool) -> Self {
        let root = tempfile::Builder::new()
            .prefix("eider-engine-")
            .tempdir_in("/tmp")
            .expect("a directory for the disposable engine")
            .keep();
        let mut engine = Self {
            root,
            live_restore,
            daemon: None,
            frozen: false,
        };
        engine.launch();
        engine.load_image(BUSYBOX);
        engine
    }

    /// `unix://SOCKET`, for `DOCKER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.root.join("docker.sock")
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.join("dockerd.log"))
            .expect("the disposable engine's log");
        let mut command = Command::new("dockerd");
        command
            .arg("--data-root")
            .arg(self.root.join("data"))
            .arg("--exec-root")
            .arg(self.root.join("exec"))
            .arg("--pidfile")
            .arg(self.root.join("dockerd.pid"))
            .arg("--host")
            .arg(self.host())
            .args(["--bridge=none", "--iptables=false", "--ip-masq=false"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log, twice"))
            .stderr(log);
        if self.live_restore {
            command.arg("--live-restore");
        }
        self.daemon = Some(command.spawn().expect("start dockerd"));
        let deadline = Instant::now() + START_PATIENCE;
        while !self.answers() {
            if let Some(Some(status)) = self
                .daemon
                .as_mut()
                .map(|daemon| daemon.try_wait().ok().flatten())
            {
                panic!("dockerd exited with {status}:\n{}", self.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "dockerd did not answer within {START_PATIENCE:?}:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the engine answers `/_ping` within a second.
    pub fn answers(&self) -> bool {
        super::engine::answers_ping(&self.socket())
    }

    fn load_image(&self, image: &str) {
        let mut save = Command::new("docker")
            .args(["save", image])
            .env_remove("DOCKER_HOST")
            .stdout(Stdio::piped())
            .spawn()
            .expect("docker save");
        let archive = save.stdout.take().expect("piped docker save");
        let loaded = Command::new("docker")
            .arg("load")
            .env("DOCKER_HOST", self.host())
            .stdin(archive)
            .output()
            .expect("docker load");
        assert!(
            save.wait().expect("docker save ends").success(),
            "docker save {image} failed"
        );
        assert!(
            loaded.status.success(),
            "docker load {image} failed: {}",
            String::from_utf8_lossy(&loaded.stderr)
        );
    }

    /// Runs the docker CLI against this engine; its stdout lines.
    pub fn docker(&self, arguments: &[&str]) -> Vec<String> {
        super::docker_on(Some(&self.host()), arguments)
    }

    /// Everything labelled by eider in this engine: containers, then volumes.
    pub fn eider_leftovers(&self) -> Vec<String> {
        let mut found = self.docker(&["ps", "-a", "-q", "--filter", "label=eider.run-id"]);
        found.extend(self.docker(&["volume", "ls", "-q", "--filter", "label=eider.run-id"]));
        found
    }

    /// Waits until the engine lists a running container of eider's. A container's process runs
    /// a moment before the engine's list shows it running, and an engine with live restore that
    /// stops within that moment takes the container for one to stop (dockerd 20.10): a test
    /// restarts the engine only once the list shows it.
    pub fn wait_until_listed_running(&self) {
        let deadline = Instant::now() + START_PATIENCE;
        while self
            .docker(&["ps", "-q", "--filter", "label=eider.run-id"])
            .is_empty()
        {
            assert!(
                Instant::now() < deadline,
                "the engine did not list a running container of eider's within {START_PATIENCE:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the engine (SIGTERM) and waits until it has exited.
    pub fn stop(&mut self) {
        self.resume();
        let Some(mut daemon) = self.daemon.take() else {
            return;
        };
        signal(daemon.id(), "TERM");
        let deadline = Instant::now() + STOP_PATIENCE;
        loop {
            match daemon.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    let _ignored = daemon.kill();
                    let _ignored = daemon.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Stops the engine and starts it again with the same directories.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Freezes the engine (SIGSTOP): it accepts connections and answers nothing.
    pub fn freeze(&mut self) {
        if let Some(daemon) = &self.daemon {
            signal(daemon.id(), "STOP");
            self.frozen = true;
        }
    }

    /// Resumes a frozen engine (SIGCONT).
    pub fn resume(&mut self) {
        if self.frozen
            && let Some(daemon) = &self.daemon
        {
            signal(daemon.id(), "CONT");
            self.frozen = false;
        }
    }

    /// The last lines of the engine's log, to show why it did not come up.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.root.join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

impl Drop for DisposableEngine {
    fn drop(&mut self) {
        self.resume();
        if std::thread::panicking() {
            // What the engine did is often the reason a test failed.
            eprintln!("--- the disposable engine's log\n{}", self.log_tail());
        }
        if self.daemon.is_some() && self.answers() {
            // Containers outlive an engine with live restore: remove them while it answers.
            let _ignored = Command::new("sh")
                .arg("-c")
                .arg("ids=$(docker ps -aq) && [ -n \"$ids\" ] && docker rm -f $ids")
                .env("DOCKER_HOST", self.host())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        self.stop();
        // The engine's containerd and shims, should any have outlived it.
        for pid in processes_mentioning(&self.root) {
            signal(pid, "KILL");
        }
        for mount_point in mounts_under(&self.root) {
            let unmounted = Command::new("umount")
                .arg(&mount_point)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if !unmounted {
                let _ignored = Command::new("umount").arg("-l").arg(&mount_point).status();
            }
        }
        let _ignored = std::fs::remove_dir_all(&self.root);
    }
}

fn signal(pid: u32, name: &str) {
    let _ignored = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status();
}

/// Processes whose command line names `root` (the engine's containerd and shims).
fn processes_mentioning(root: &Path) -> Vec<u32> {
    let needle = root.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|line| String::from_utf8_lossy(&line).contains(&needle))
        })
        .collect()
}

/// Mount points at or under `root`, deepest first.
fn mounts_under(root: &Path) -> Vec<PathBuf> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<PathBuf> = table
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(PathBuf::from)
        .filter(|point| point.starts_with(root))
        .collect();
    points.sort_by_key(|point| std::cmp::Reverse(point.components().count()));
    points.dedup();
    points
}
