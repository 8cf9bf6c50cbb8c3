//! The container engines that tests run eider against, both prepared by `scripts/test-env.sh`:
//! the Docker Engine, and Podman's Docker-compatible API (`podman system service`) on a socket
//! of its own, with podman's own storage and settings ([`super::podman`]), apart from the
//! Docker Engine. What a test needs of an engine (pointing eider at it, its command-line tool,
//! what a run left in it) is asked of [`Engine`], so that one test body serves both.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::Run;

/// Where `scripts/test-env.sh` serves Podman's API.
pub const PODMAN_SOCKET: &str = "/run/eider-test/podman.sock";

/// An engine of the test environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The Docker Engine: `DOCKER_HOST` as the environment has it, else the usual socket.
    Docker,
    /// Podman's Docker-compatible API at [`PODMAN_SOCKET`].
    Podman,
}

impl Engine {
    /// Podman's API, which must answer: without it, the test fails saying how to start it.
    #[track_caller]
    pub fn podman() -> Self {
        assert!(
            answers_ping(Path::new(PODMAN_SOCKET)),
            "podman's API does not answer at unix://{PODMAN_SOCKET}: run `bash scripts/test-env.sh` \
             (as root), which starts it"
        );
        Self::Podman
    }

    /// Points `command`, an eider, at this engine.
    pub fn point(self, command: &mut Command) {
        if self == Self::Podman {
            command.env("DOCKER_HOST", format!("unix://{PODMAN_SOCKET}"));
            // Podman 4.3's API puts a container that names no network on podman's bridge (an
            // address, and rules in the host's firewall); the tests' containers get loopback
            // only, as the Docker Engine of the tests (which has no bridge) gives them.
            command.env("EIDER_NETWORK", "none");
        }
    }

    /// The engine's command-line tool, with the test environment's settings.
    pub fn cli(self) -> Command {
        match self {
            Self::Docker => Command::new("docker"),
            Self::Podman => super::podman::podman(),
        }
    }

    /// Runs the engine's command-line tool; its stdout lines. Panics when it fails.
    #[track_caller]
    pub fn run(self, arguments: &[&str]) -> Vec<String> {
        stdout_lines(self.cli(), arguments)
    }

    /// The containers and volumes in this engine labelled with run id `run_id`.
    pub fn leftovers_of(self, run_id: &str) -> Vec<String> {
        let filter = format!("label=eider.run-id={run_id}");
        let mut found = self.run(&["ps", "-a", "-q", "--filter", &filter]);
        found.extend(self.run(&["volume", "ls", "-q", "--filter", &filter]));
        found
    }

    /// Asserts that nothing created by the run remains in this engine.
    #[track_caller]
    pub fn assert_no_leftovers(self, run: &Run) {
        let id = super::run_id(run);
        let found = self.leftovers_of(&id);
        assert!(
            found.is_empty(),
            "run {id} left {found:?} behind in {self:?}"
        );
    }

    /// Waits until `count` containers of job `job` run, polling the engine; returns their run
    /// ids. Panics after `patience`.
    pub fn wait_until_running(self, job: &str, count: usize, patience: Duration) -> Vec<String> {
        let filter = format!("label=eider.job={job}");
        // `docker ps` has a method for one label; podman's templates index the labels' map.
        let run_id = match self {
            Self::Docker => "{{.Label \"eider.run-id\"}}",
            Self::Podman => "{{index .Labels \"eider.run-id\"}}",
        };
        let deadline = Instant::now() + patience;
        loop {
            let running = self.run(&[
                "ps",
                "--filter",
                &filter,
                "--filter",
                "status=running",
                "--format",
                run_id,
            ]);
            if running.len() >= count {
                return running;
            }
            assert!(
                Instant::now() < deadline,
                "{count} containers of job {job} never ran in {self:?} (found {running:?})"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Runs an engine's command-line tool `command` with `arguments`; its stdout lines. Panics
/// when it fails.
#[track_caller]
pub fn stdout_lines(mut command: Command, arguments: &[&str]) -> Vec<String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command
        .args(arguments)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(ToOwned::to_owned)
        .collect()
}

/// Whether an engine answers `/_ping` on the unix socket `socket` within a second.
pub fn answers_ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let timeout = Some(Duration::from_secs(1));
    if stream.set_read_timeout(timeout).is_err() || stream.set_write_timeout(timeout).is_err() {
        return false;
    }
    if stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    stream.read_to_string(&mut answer).is_ok() && answer.starts_with("HTTP/1.0 200")
}
