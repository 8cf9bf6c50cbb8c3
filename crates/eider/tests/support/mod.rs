//! Shared helpers of the tests that run `eider run` against the real Docker Engine prepared by
//! `scripts/test-env.sh`: temporary projects, the real binary, and the check that nothing
//! labelled by eider is left behind.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the support module"
)]

pub mod proxy;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// The image built by `scripts/test-env.sh` from busybox-static: CMD `/bin/sh`, no entrypoint.
pub const BUSYBOX: &str = "eider-test/busybox:latest";
/// Same rootfs; ENTRYPOINT `["/bin/echo", "from-entrypoint"]`, CMD `["from-cmd"]`, WORKDIR
/// `/image-workdir`.
pub const ENTRYPOINT_IMAGE: &str = "eider-test/entrypoint:latest";
/// `BUSYBOX` pushed to the local registry on 127.0.0.1:5000.
pub const REGISTRY_IMAGE: &str = "127.0.0.1:5000/eider-test/busybox:latest";

/// A temporary project: a directory with a Drakefile and private state and config directories,
/// so runs never share state with the user's or with each other.
pub struct Project {
    pub directory: TempDir,
    state: TempDir,
    config: TempDir,
}

impl Project {
    /// A project whose Drakefile is `drakefile`.
    pub fn new(drakefile: &str) -> Self {
        let project = Self {
            directory: tempfile::tempdir().expect("temporary project directory"),
            state: tempfile::tempdir().expect("temporary state directory"),
            config: tempfile::tempdir().expect("temporary config directory"),
        };
        project.write("Drakefile.yaml", drakefile);
        project
    }

    /// The project's directory.
    pub fn path(&self) -> &Path {
        self.directory.path()
    }

    /// A private directory of the test (a home for a user without one).
    pub fn state_path(&self) -> &Path {
        self.state.path()
    }

    /// The directory used as `XDG_CONFIG_HOME`.
    pub fn config_home(&self) -> &Path {
        self.config.path()
    }

    /// Writes a file relative to the project directory, creating parent directories.
    pub fn write(&self, relative: &str, content: &str) -> PathBuf {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directory");
        }
        std::fs::write(&path, content).expect("write project file");
        path
    }

    /// `eider` in the project directory, with a clean environment: no `EIDER_*` variable of the
    /// caller, no color, a private config directory.
    pub fn eider(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_eider"));
        command.current_dir(self.path());
        for (name, _) in std::env::vars() {
            if name.starts_with("EIDER_") {
                command.env_remove(name);
            }
        }
        command
            .env("NO_COLOR", "1")
            .env("XDG_CONFIG_HOME", self.config_home())
            .stdin(Stdio::null());
        command
    }

    /// Runs `eider run ARGS...` to completion.
    pub fn run(&self, arguments: &[&str]) -> Run {
        let output = self
            .eider()
            .arg("run")
            .args(arguments)
            .output()
            .expect("run eider");
        Run::from(output)
    }
}

/// The result of one eider process.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn assert_code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// The lines of stdout that container `job/container` wrote, without the prefix.
    pub fn lines_of(&self, job: &str, container: &str) -> Vec<String> {
        let prefix = format!("[{job}/{container}] ");
        self.stdout
            .lines()
            .filter_map(|line| line.strip_prefix(&prefix).map(ToOwned::to_owned))
            .collect()
    }

    /// The lines of stderr that container `job/container` wrote, without the prefix.
    pub fn error_lines_of(&self, job: &str, container: &str) -> Vec<String> {
        let prefix = format!("[{job}/{container}] ");
        self.stderr
            .lines()
            .filter_map(|line| line.strip_prefix(&prefix).map(ToOwned::to_owned))
            .collect()
    }
}

/// A Drakefile of the latest version with the given `jobs:` body (indented by two spaces).
pub fn drakefile(jobs: &str) -> String {
    format!("specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n{jobs}")
}

/// Containers and volumes labelled by eider for run-id-carrying resources of this test process's
/// children: every test asserts there are none of a given run left.
pub fn leftovers_of(run_id: &str) -> Vec<String> {
    let filter = format!("label=eider.run-id={run_id}");
    let mut found = docker(&["ps", "-a", "-q", "--filter", &filter]);
    found.extend(docker(&["volume", "ls", "-q", "--filter", &filter]));
    found
}

/// The run id that eider printed in its summary (`(run 0123456789)`).
pub fn run_id(run: &Run) -> String {
    let marker = "(run ";
    let start = run
        .stderr
        .find(marker)
        .unwrap_or_else(|| panic!("no run id in stderr:\n{}", run.stderr))
        + marker.len();
    run.stderr[start..start + 10].to_owned()
}

/// Asserts that nothing created by the run remains in the engine.
#[track_caller]
pub fn assert_no_leftovers(run: &Run) {
    let id = run_id(run);
    let found = leftovers_of(&id);
    assert!(found.is_empty(), "run {id} left {found:?} behind");
}

/// Runs the docker CLI and returns its stdout lines.
pub fn docker(arguments: &[&str]) -> Vec<String> {
    let output = Command::new("docker")
        .args(arguments)
        .output()
        .expect("run the docker CLI");
    assert!(
        output.status.success(),
        "docker {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(ToOwned::to_owned)
        .collect()
}
