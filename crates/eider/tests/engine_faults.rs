//! The container engine fails under a running job: it restarts (with and without live restore),
//! stays down, or freezes. Each test drives the real `eider` binary against a disposable second
//! engine of its own (never the main one) and checks the job's result, the exit code, the reports
//! and that nothing is left behind.
//!
//! Run with `cargo test -p eider --test engine_faults` (needs root: it starts dockerd).

mod support;

use std::io::Read;
use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::disposable_engine::DisposableEngine;
use support::{BUSYBOX, Project, drakefile, sh, unique};

/// Generous bound for anything a test waits for (an engine restart, a job's line).
const PATIENCE: Duration = Duration::from_secs(90);

/// eider's `--engine-timeout` in the tests where the engine goes away for good or freezes: low,
/// so that the tests are quick.
const SHORT_ENGINE_TIMEOUT: &str = "3s";

/// eider's `--engine-timeout` in the tests where the engine restarts: long enough for any
/// restart on a busy machine.
const RESTART_ENGINE_TIMEOUT: &str = "60s";

/// A job that prints a line, waits until the test creates `go` in the source, prints another
/// line and exits 7; SIGTERM ends it at once with 143, as it would most programs.
fn waiting_job(name: &str) -> Project {
    Project::new(&drakefile(&format!(
        "  {name}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /src
      command: {}
",
        sh("trap 'echo stopped; exit 143' TERM
echo before
until [ -f /src/go ]; do sleep 0.1; done
echo after
exit 7")
    )))
}

/// A running eider whose output is collected as it comes, so that a test can wait for a line.
/// Killed when dropped, should the test fail before it exits.
struct RunningEider {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// What an eider process ended with.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl RunningEider {
    /// `eider ARGS...` in `project` against `engine` with an engine timeout.
    fn start(
        project: &Project,
        engine: &DisposableEngine,
        engine_timeout: &str,
        arguments: &[&str],
    ) -> Self {
        let mut command = project.eider();
        command
            .env("DOCKER_HOST", engine.host())
            .env("EIDER_ENGINE_TIMEOUT", engine_timeout)
            .args(arguments)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("start eider");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            collect(
                child.stdout.take().expect("piped stdout"),
                Arc::clone(&stdout),
            ),
            collect(
                child.stderr.take().expect("piped stderr"),
                Arc::clone(&stderr),
            ),
        ];
        Self {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// Waits until stdout or stderr holds `text`.
    #[track_caller]
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (stdout, stderr) = self.output();
            if stdout.contains(text) || stderr.contains(text) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(200));
                let (stdout, stderr) = self.output();
                assert!(
                    stdout.contains(text) || stderr.contains(text),
                    "eider ended ({status}) without printing {text:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "eider did not print {text:?} within {PATIENCE:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn output(&self) -> (String, String) {
        let read =
            |text: &Arc<Mutex<String>>| text.lock().map(|text| text.clone()).unwrap_or_default();
        (read(&self.stdout), read(&self.stderr))
    }

    /// Waits for eider to exit (panics after [`PATIENCE`]: a hang fails the test).
    fn finish(mut self, started: Instant) -> Finished {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("poll eider") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "eider did not exit within {PATIENCE:?}\n--- stderr\n{}",
                self.output().1
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let took = started.elapsed();
        for reader in self.readers.drain(..) {
            let _ignored = reader.join();
        }
        let (stdout, stderr) = self.output();
        Finished {
            status,
            stdout,
            stderr,
            took,
        }
    }
}

impl Drop for RunningEider {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ignored = self.child.kill();
            let _ignored = self.child.wait();
        }
    }
}

fn collect(
    mut pipe: impl Read + Send + 'static,
    into: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0_u8; 4096];
        while let Ok(read) = pipe.read(&mut buffer) {
            if read == 0 {
                break;
            }
            if let Ok(mut text) = into.lock() {
                text.push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        }
    })
}

impl Finished {
    #[track_caller]
    fn assert_code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(expected),
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

#[test]
fn restart_with_live_restore_follows_the_job_to_its_true_exit_code() {
    let mut engine = DisposableEngine::start(true);
    let name = unique("live-restore");
    let project = waiting_job(&name);
    let started = Instant::now();
    let mut eider = RunningEider::start(&project, &engine, RESTART_ENGINE_TIMEOUT, &["run", &name]);
    eider.wait_for(&format!("[{name}/main] before"));
    engine.wait_until_listed_running();
    engine.restart();
    // eider attached again: what the job prints from now on reaches it.
    eider.wait_for("following it again");
    project.write("go", "");
    let finished = eider.finish(started);
    finished.assert_code(1);
    assert!(
        finished.stdout.contains(&format!("[{name}/main] after")),
        "the output after the restart is missing:\n{}",
        finished.stdout
    );
    assert!(
        finished.stderr.contains("exit code 7 in `main`"),
        "{}",
        finished.stderr
    );
    assert!(
        !finished.stderr.contains("infrastructure failure"),
        "{}",
        finished.stderr
    );
    assert_eq!(engine.eider_leftovers(), Vec::<String>::new());
}

#[test]
fn restart_without_live_restore_is_an_infrastructure_failure_not_the_exit_code_of_the_stop() {
    let mut engine = DisposableEngine::start(false);
    let name = unique("no-live-restore");
    let project = waiting_job(&name);
    let reports = tempfile::tempdir().expect("a directory for the reports");
    let json = reports.path().join("report.json");
    let junit = reports.path().join("report.xml");
    let json_target = format!("json={}", json.display());
    let junit_target = format!("junit={}", junit.display());
    let started = Instant::now();
    let mut eider = RunningEider::start(
        &project,
        &engine,
        RESTART_ENGINE_TIMEOUT,
        &[
            "run",
            "--report",
            &json_target,
            "--report",
            &junit_target,
            &name,
        ],
    );
    eider.wait_for(&format!("[{name}/main] before"));
    // The engine stops the container on its way down: the job ends with 143, the engine's doing.
    engine.restart();
    let finished = eider.finish(started);
    finished.assert_code(3);
    assert!(
        finished.stderr.contains("infrastructure failure"),
        "{}",
        finished.stderr
    );
    assert!(
        finished
            .stderr
            .contains("exit code 143 is the engine's doing"),
        "{}",
        finished.stderr
    );
    assert!(
        !finished.stderr.contains("exit code 143 in"),
        "{}",
        finished.stderr
    );
    let summary_line = finished
        .stderr
        .lines()
        .find(|line| line.trim_start().starts_with("INFRA") && line.contains(&name))
        .unwrap_or_else(|| panic!("no INFRA line in the summary:\n{}", finished.stderr));
    assert!(
        summary_line.contains("infrastructure failure"),
        "{summary_line}"
    );

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report"))
            .expect("JSON");
    let job = &report["runs"][0]["jobs"][0];
    assert_eq!(job["result"], "infrastructure-failure", "{report:#}");
    assert!(job.get("exitCode").is_none(), "{report:#}");
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(xml.contains("<error") && !xml.contains("<failure"), "{xml}");
    assert!(xml.contains("type=\"infrastructure-failure\""), "{xml}");

    // eider swept the stopped container once the engine was back.
    assert_eq!(engine.eider_leftovers(), Vec::<String>::new());
}

#[test]
fn engine_that_stays_down_ends_the_job_as_an_infrastructure_failure_within_the_engine_timeout() {
    let mut engine = DisposableEngine::start(false);
    let name = unique("engine-down");
    let project = waiting_job(&name);
    let started = Instant::now();
    let mut eider = RunningEider::start(&project, &engine, SHORT_ENGINE_TIMEOUT, &["run", &name]);
    eider.wait_for(&format!("[{name}/main] before"));
    engine.stop();
    let finished = eider.finish(started);
    finished.assert_code(3);
    assert!(
        finished
            .stderr
            .contains("the container engine did not answer for 3s"),
        "{}",
        finished.stderr
    );
    assert!(finished.took < PATIENCE, "took {:?}", finished.took);

    // What the engine kept is labelled: `eider clean` removes it once the engine is back.
    engine.restart();
    assert_clean_leaves_nothing(&project, &engine);
}

#[test]
fn frozen_engine_ends_the_job_as_an_infrastructure_failure_within_the_engine_timeout() {
    let mut engine = DisposableEngine::start(false);
    let name = unique("frozen");
    let project = waiting_job(&name);
    let started = Instant::now();
    let mut eider = RunningEider::start(&project, &engine, SHORT_ENGINE_TIMEOUT, &["run", &name]);
    eider.wait_for(&format!("[{name}/main] before"));
    engine.freeze();
    let finished = eider.finish(started);
    engine.resume();
    finished.assert_code(3);
    assert!(
        finished
            .stderr
            .contains("the container engine did not answer"),
        "{}",
        finished.stderr
    );
    // Cleanup did not wait on the frozen engine either: it left the job's container, labelled,
    // and said so.
    assert!(
        finished.stderr.contains("eider clean"),
        "{}",
        finished.stderr
    );
    assert!(finished.took < PATIENCE, "took {:?}", finished.took);

    assert_clean_leaves_nothing(&project, &engine);
}

/// `eider clean` against `engine` succeeds and leaves nothing of eider's there.
#[track_caller]
fn assert_clean_leaves_nothing(project: &Project, engine: &DisposableEngine) {
    let clean = project.command_with_engine(engine, &["clean"]);
    assert!(
        clean.status.success(),
        "eider clean failed:\n{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert_eq!(
        engine.eider_leftovers(),
        Vec::<String>::new(),
        "after eider clean, which said:\n{}{}",
        String::from_utf8_lossy(&clean.stdout),
        String::from_utf8_lossy(&clean.stderr)
    );
}

trait WithEngine {
    /// `eider ARGS...` to completion against `engine`.
    fn command_with_engine(
        &self,
        engine: &DisposableEngine,
        arguments: &[&str],
    ) -> std::process::Output;
}

impl WithEngine for Project {
    fn command_with_engine(
        &self,
        engine: &DisposableEngine,
        arguments: &[&str],
    ) -> std::process::Output {
        self.eider()
            .env("DOCKER_HOST", engine.host())
            .args(arguments)
            .output()
            .expect("run eider")
    }
}

#[test]
fn engine_that_stops_during_a_pull_ends_the_job_as_an_infrastructure_failure() {
    let mut engine = DisposableEngine::start(false);
    let registry = support::stalled_registry();
    let name = unique("pull-lost");
    let image = format!("{}/eider-test/{name}:latest", registry.address());
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    primaryContainer:
      name: main
      image: {image}
      command: [echo, never]
"
    )));
    let started = Instant::now();
    let mut eider = RunningEider::start(&project, &engine, SHORT_ENGINE_TIMEOUT, &["run", &name]);
    eider.wait_for(&format!("Pulling {image}"));
    let deadline = Instant::now() + PATIENCE;
    while registry.requests().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the engine never reached the registry"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The engine goes away while it waits for the registry: the pull's stream breaks.
    engine.stop();
    let finished = eider.finish(started);
    finished.assert_code(3);
    assert!(
        finished.stderr.contains("INFRA"),
        "the job is an infrastructure failure:\n{}",
        finished.stderr
    );
    assert!(
        !finished.stderr.contains("is not available"),
        "the image is blamed for the engine:\n{}",
        finished.stderr
    );
    drop(registry);
}
