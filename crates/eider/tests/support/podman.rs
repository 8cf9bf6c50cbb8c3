//! podman as `scripts/test-env.sh` prepared it: its own storage and settings, apart from the
//! Docker Engine, to run Kubernetes Pod YAML for real (`podman kube play`).

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Where `scripts/test-env.sh` keeps podman's storage and settings.
const PODMAN_DIR: &str = "/var/lib/eider-test/podman";

/// The test image as podman names it.
pub const IMAGE: &str = "localhost/eider-test/busybox:latest";

/// `podman` with the test environment's storage and settings.
pub fn podman() -> Command {
    let mut command = Command::new("podman");
    command
        .env("CONTAINERS_CONF", format!("{PODMAN_DIR}/containers.conf"))
        .args(["--root", &format!("{PODMAN_DIR}/root")])
        .args(["--runroot", &format!("{PODMAN_DIR}/runroot")])
        .args(["--cgroup-manager", "cgroupfs", "--events-backend", "file"]);
    command
}

fn run(arguments: &[&str]) -> Output {
    podman().args(arguments).output().unwrap_or_else(|error| {
        panic!("cannot run podman ({error}): run `bash scripts/test-env.sh`")
    })
}

/// A Pod played from YAML, removed when dropped.
pub struct PlayedPod {
    name: String,
}

impl PlayedPod {
    /// Plays the Pods of `yaml` (a file) with loopback only, as the Docker Engine's containers
    /// have; `name` is the Pod's.
    pub fn play(yaml: &Path, name: &str) -> Self {
        let played = PlayedPod {
            name: name.to_owned(),
        };
        let output = run(&["kube", "play", "--network", "none", &yaml.to_string_lossy()]);
        assert!(
            output.status.success(),
            "podman kube play failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        played
    }

    /// Waits for container `container` of the Pod to exit; its exit code and its output.
    pub fn wait(&self, container: &str) -> (i64, String) {
        let name = format!("{}-{container}", self.name);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let state = run(&[
                "inspect",
                "--format",
                "{{.State.Status}} {{.State.ExitCode}}",
                &name,
            ]);
            let state = String::from_utf8_lossy(&state.stdout).trim().to_owned();
            if let Some(code) = state.strip_prefix("exited ") {
                let logs = run(&["logs", &name]);
                let mut text = String::from_utf8_lossy(&logs.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&logs.stderr));
                return (code.parse().expect("an exit code"), text);
            }
            assert!(Instant::now() < deadline, "{name} did not exit: {state}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for PlayedPod {
    fn drop(&mut self) {
        let _removed = run(&["pod", "rm", "--force", &self.name]);
    }
}
