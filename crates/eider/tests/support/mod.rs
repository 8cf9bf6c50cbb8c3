//! Shared helpers of the tests that run `eider run` against the real Docker Engine prepared by
//! `scripts/test-env.sh` (or against Podman's compatible API: [`Engine`]): temporary projects,
//! the real binary, and the check that nothing labelled by eider is left behind.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the support module"
)]

pub mod disposable_engine;
pub mod engine;
pub mod events;
pub mod packaging;
pub mod podman;
pub mod proxy;
pub mod tls_engine;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

pub use engine::Engine;

/// The image built by `scripts/test-env.sh` from busybox-static: CMD `/bin/sh`, no entrypoint.
pub const BUSYBOX: &str = "eider-test/busybox:latest";
/// Same rootfs; ENTRYPOINT `["/bin/echo", "from-entrypoint"]`, CMD `["from-cmd"]`, WORKDIR
/// `/image-workdir`.
pub const ENTRYPOINT_IMAGE: &str = "eider-test/entrypoint:latest";
/// Same rootfs; neither ENTRYPOINT nor CMD, like an image made with `docker import` or from
/// scratch: its containers run only what the job says.
pub const NO_COMMAND_IMAGE: &str = "eider-test/no-command:latest";
/// Where `scripts/test-env.sh` records the test registries' addresses (`KEY=VALUE` lines).
const REGISTRIES_FILE: &str = "/var/lib/eider-test/registries.env";

/// A setting of the test environment: the variable from the environment, else the line of
/// `REGISTRIES_FILE` that `scripts/test-env.sh` wrote.
pub fn test_environment(key: &str) -> String {
    if let Ok(value) = std::env::var(key) {
        return value;
    }
    let content = std::fs::read_to_string(REGISTRIES_FILE)
        .unwrap_or_else(|error| panic!("{REGISTRIES_FILE}: {error} (run scripts/test-env.sh)"));
    content
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("{REGISTRIES_FILE} has no {key} (run scripts/test-env.sh)"))
        .to_owned()
}

/// The address (`127.0.0.1:PORT`) of the open test registry.
pub fn registry() -> String {
    test_environment("EIDER_TEST_PLAIN_REGISTRY")
}

/// A registry that never answers: the fault proxy in front of the open test registry, holding
/// every request back, so that a pull from it is stuck for as long as the test wants. Dropping
/// it closes every connection (the pull then fails). `requests()` tells that the engine came.
pub fn stalled_registry() -> eider_fault_proxy::FaultProxy {
    let proxy = eider_fault_proxy::FaultProxy::start(&registry());
    proxy.add(eider_fault_proxy::Rule::new(
        "*",
        "*",
        eider_fault_proxy::Fault::Delay(std::time::Duration::from_secs(3600)),
    ));
    proxy
}

/// `BUSYBOX` pushed to the open test registry.
pub fn registry_image() -> String {
    format!("{}/eider-test/busybox:latest", registry())
}

/// A temporary project: a directory with a Drakefile and private state and config directories,
/// so runs never share state with the user's or with each other.
pub struct Project {
    pub directory: TempDir,
    state: TempDir,
    config: TempDir,
    /// The engine its eiders use.
    engine: Engine,
}

impl Project {
    /// A project whose Drakefile is `drakefile`.
    pub fn new(drakefile: &str) -> Self {
        let project = Self {
            directory: tempfile::tempdir().expect("temporary project directory"),
            state: tempfile::tempdir().expect("temporary state directory"),
            config: tempfile::tempdir().expect("temporary config directory"),
            engine: Engine::Docker,
        };
        project.write("Drakefile.yaml", drakefile);
        project
    }

    /// The same project, its eiders pointed at `engine`.
    #[must_use]
    pub fn on(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
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
    /// caller, no color, a private config directory; pointed at the project's engine.
    pub fn eider(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_eider"));
        command.current_dir(self.path());
        for (name, _) in std::env::vars() {
            if name.starts_with("EIDER_") {
                command.env_remove(name);
            }
        }
        // Diagnostics are drawn COLUMNS wide when it is set: the default width keeps what tests
        // read independent of the caller's terminal.
        command
            .env_remove("COLUMNS")
            .env("NO_COLOR", "1")
            .env("XDG_CONFIG_HOME", self.config_home())
            .env("XDG_CACHE_HOME", self.state_path().join("cache"))
            .stdin(Stdio::null());
        self.engine.point(&mut command);
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

/// A job of busybox containers: the sidecars `(name, script)` in order, then the primary `main`
/// running `primary`.
pub fn busybox_job(name: &str, sidecars: &[(&str, &str)], primary: &str) -> String {
    shell_job(name, BUSYBOX, sidecars, primary)
}

/// A job whose containers of `image` run shell scripts: the sidecars `(name, script)` in order,
/// then the primary `main` running `primary`.
pub fn shell_job(name: &str, image: &str, sidecars: &[(&str, &str)], primary: &str) -> String {
    use std::fmt::Write as _;
    let mut yaml = format!("  {name}:\n");
    if !sidecars.is_empty() {
        yaml.push_str("    sidecarContainers:\n");
        for (sidecar, script) in sidecars {
            let _ = write!(
                yaml,
                "    - name: {sidecar}\n      image: {image}\n      command: {}\n",
                sh(script)
            );
        }
    }
    let _ = write!(
        yaml,
        "    primaryContainer:\n      name: main\n      image: {image}\n      command: {}\n",
        sh(primary)
    );
    yaml
}

/// A job whose busybox primary `main` runs `script` with a terminal (`tty: true`).
pub fn terminal_job(name: &str, script: &str) -> String {
    format!(
        "  {name}:\n    primaryContainer:\n      name: main\n      image: {BUSYBOX}\n      \
         tty: true\n      command: {}\n",
        sh(script)
    )
}

/// A Drakefile of the latest version with the given `jobs:` body (indented by two spaces).
pub fn drakefile(jobs: &str) -> String {
    format!("specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n{jobs}")
}

/// Containers and volumes labelled by eider for run-id-carrying resources of this test process's
/// children: every test asserts there are none of a given run left.
pub fn leftovers_of(run_id: &str) -> Vec<String> {
    Engine::Docker.leftovers_of(run_id)
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
    Engine::Docker.assert_no_leftovers(run);
}

/// Runs git in a directory as a test user, with fixed dates and no signing; returns its stdout.
pub use eider_git::run_for_test as git;

/// Runs the docker CLI and returns its stdout lines.
pub fn docker(arguments: &[&str]) -> Vec<String> {
    docker_on(None, arguments)
}

/// Runs the docker CLI against the engine at `host` (`DOCKER_HOST`; the default one when
/// `None`) and returns its stdout lines.
pub fn docker_on(host: Option<&str>, arguments: &[&str]) -> Vec<String> {
    let mut command = Engine::Docker.cli();
    if let Some(host) = host {
        command.env("DOCKER_HOST", host);
    }
    engine::stdout_lines(command, arguments)
}

/// Every run id that eider printed in its summaries, in order: one per pipeline run.
pub fn run_ids(run: &Run) -> Vec<String> {
    let marker = "(run ";
    run.stderr
        .match_indices(marker)
        .map(|(start, _)| {
            let start = start + marker.len();
            run.stderr
                .get(start..start + 10)
                .unwrap_or_else(|| panic!("a truncated run id in stderr:\n{}", run.stderr))
                .to_owned()
        })
        .collect()
}

/// Asserts that nothing created by any of the runs whose summaries eider printed remains in the
/// engine; returns their ids.
#[track_caller]
pub fn assert_no_leftovers_of_every_run(run: &Run) -> Vec<String> {
    let ids = run_ids(run);
    assert!(!ids.is_empty(), "no run id in stderr:\n{}", run.stderr);
    for id in &ids {
        let found = leftovers_of(id);
        assert!(found.is_empty(), "run {id} left {found:?} behind");
    }
    ids
}

/// A name no other test, in this process or another, uses: `prefix-PID-N`. Valid as a job or
/// pipeline name and as a label value.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `["sh", "-c", SCRIPT]` as a YAML flow sequence, double-quoted with escapes so that line
/// breaks stay line breaks.
pub fn sh(script: &str) -> String {
    let mut quoted = String::with_capacity(script.len() + 2);
    for character in script.chars() {
        match character {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            other => quoted.push(other),
        }
    }
    format!("[\"sh\", \"-c\", \"{quoted}\"]")
}

/// The lines of `stream` (a child's pipe), read on a thread of their own, so that a test can
/// wait for one while the child runs; the channel closes at the stream's end.
pub fn line_channel(
    stream: impl std::io::Read + Send + 'static,
) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// Waits until `count` containers of job `job` run, polling the engine; returns their run ids.
/// Panics after `patience`.
pub fn wait_until_running(job: &str, count: usize, patience: std::time::Duration) -> Vec<String> {
    Engine::Docker.wait_until_running(job, count, patience)
}

/// Waits for a child eider whose stdout and stderr are piped; kills it and panics when it has
/// not exited within `patience`, so that a hang fails the test instead of stalling it.
pub fn wait_with_patience(mut child: std::process::Child, patience: std::time::Duration) -> Run {
    use std::io::Read;
    // Read both pipes on threads of their own, so a chatty child never blocks on a full pipe.
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ignored = stdout.read_to_end(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ignored = stderr.read_to_end(&mut text);
        text
    });
    let deadline = std::time::Instant::now() + patience;
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll eider") {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ignored = child.kill();
            let _ignored = child.wait();
            panic!("eider did not exit within {patience:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Run::from(Output {
        status,
        stdout: out.join().expect("read stdout"),
        stderr: err.join().expect("read stderr"),
    })
}

impl Project {
    /// Starts `eider ARGS...` without waiting, stdout and stderr piped.
    pub fn spawn(&self, arguments: &[&str]) -> std::process::Child {
        self.eider()
            .args(arguments)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start eider")
    }

    /// Runs `eider ARGS...` (any command) to completion.
    pub fn command(&self, arguments: &[&str]) -> Run {
        Run::from(self.eider().args(arguments).output().expect("run eider"))
    }
}

/// eider's own lines on stderr (status, notes, errors, summary; not container output), with
/// words separated by one space, durations shown as `<time>` and run ids as `<run>`.
pub fn status_lines(run: &Run) -> Vec<String> {
    run.stderr
        .lines()
        .filter(|line| !line.starts_with('['))
        .map(normalize_status)
        .collect()
}

/// One line of eider's stderr as [`status_lines`] shows it.
pub fn normalize_status(line: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for word in line.split_whitespace() {
        let redacted = if words.last().is_some_and(|previous| previous == "(run") {
            "<run>)".to_owned()
        } else {
            let core = word.trim_end_matches([':', ')', ',']);
            if is_duration(core) {
                format!("<time>{}", &word[core.len()..])
            } else {
                word.to_owned()
            }
        };
        words.push(redacted);
    }
    words.join(" ")
}

/// `0.81s`, `12.34s`: how eider prints durations.
fn is_duration(word: &str) -> bool {
    let Some(number) = word.strip_suffix('s') else {
        return false;
    };
    let Some((whole, fraction)) = number.split_once('.') else {
        return false;
    };
    !whole.is_empty()
        && fraction.len() == 2
        && whole
            .bytes()
            .chain(fraction.bytes())
            .all(|byte| byte.is_ascii_digit())
}
