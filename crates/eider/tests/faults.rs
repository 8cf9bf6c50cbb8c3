//! Faults that real CI runners meet, against the real Docker Engine and registry prepared by
//! `scripts/test-env.sh`: eider killed or interrupted at awkward moments, containers that
//! misbehave (ignore SIGTERM, crash, daemonize, start containers of their own), and secrets
//! printed in every way a program may print them. `docs/reliability.md` maps each case to the
//! tests that prove it.
//!
//! Like the other `eider run` tests, each test uses names of its own ([`unique`]), leaves nothing
//! behind even when it fails (guards that remove by label), and never bounds a healthy run's
//! wall time tightly: a hang becomes a failure after a generous patience.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use support::{
    BUSYBOX, Project, Run, assert_no_leftovers, assert_no_leftovers_of_every_run,
    busybox_job as job, docker, drakefile, events::ContainerEvents, leftovers_of, sh, status_lines,
    terminal_job, unique, wait_until_running, wait_with_patience,
};

/// Turns a hang into a failed run, far above what a healthy run needs.
const GUARD_TIMEOUT: &str = "120s";

/// How long a test waits for eider or the engine to reach a state.
const PATIENCE: Duration = Duration::from_secs(60);

/// Sends `signal` (`-INT`, `-KILL`...) to process `pid`.
fn send(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid} failed");
}

/// Removes every container and volume of run `run_id` when dropped, so that a test that fails
/// half-way (after a `kill -9`, say) leaves nothing behind.
struct RunRemoval(String);

impl Drop for RunRemoval {
    fn drop(&mut self) {
        remove_labelled(&format!("label=eider.run-id={}", self.0));
    }
}

/// Removes the containers, then the volumes, matching a `docker` filter.
fn remove_labelled(filter: &str) {
    let quiet = |arguments: &[&str]| {
        Command::new("docker")
            .args(arguments)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .map(|output| {
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .map(ToOwned::to_owned)
                    .collect::<Vec<String>>()
            })
            .unwrap_or_default()
    };
    for container in quiet(&["ps", "-a", "-q", "--filter", filter]) {
        quiet(&["rm", "-f", "-v", &container]);
    }
    for volume in quiet(&["volume", "ls", "-q", "--filter", filter]) {
        quiet(&["volume", "rm", "-f", &volume]);
    }
}

/// A docker object removed when dropped: `docker ARGS... NAME`.
struct Removal(&'static [&'static str], String);

impl Drop for Removal {
    fn drop(&mut self) {
        let _ignored = Command::new("docker")
            .args(self.0)
            .arg(&self.1)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// An eider process that is killed (and reaped) when dropped, with everything labelled by its
/// pid, unless the test waited for it.
struct EiderProcess {
    child: Option<Child>,
    pid: u32,
}

impl EiderProcess {
    fn new(child: Child) -> Self {
        let pid = child.id();
        Self {
            child: Some(child),
            pid,
        }
    }

    /// Waits for eider to exit, within [`PATIENCE`]. A stream is empty in the result when
    /// [`Self::stdout_lines`] or [`Self::stderr_lines`] took it.
    fn wait(&mut self) -> Run {
        let mut child = self.child.take().expect("eider was not waited for yet");
        // `wait_with_patience` reads both pipes: give it an empty one for each taken.
        if child.stdout.is_none() {
            child.stdout = empty_pipe().map(std::process::ChildStdout::from);
        }
        if child.stderr.is_none() {
            child.stderr = empty_pipe().map(std::process::ChildStderr::from);
        }
        wait_with_patience(child, PATIENCE)
    }

    /// A reader of eider's stdout, line by line.
    fn stdout_lines(&mut self) -> mpsc::Receiver<String> {
        let stdout = self
            .child
            .as_mut()
            .and_then(|child| child.stdout.take())
            .expect("piped stdout");
        support::line_channel(stdout)
    }

    /// A reader of eider's stderr, line by line.
    fn stderr_lines(&mut self) -> mpsc::Receiver<String> {
        let stderr = self
            .child
            .as_mut()
            .and_then(|child| child.stderr.take())
            .expect("piped stderr");
        support::line_channel(stderr)
    }
}

/// The read end of a pipe whose writer is gone: it reads as empty.
fn empty_pipe() -> Option<std::os::fd::OwnedFd> {
    let mut empty = Command::new("true").stdout(Stdio::piped()).spawn().ok()?;
    let _ignored = empty.wait();
    empty.stdout.take().map(std::os::fd::OwnedFd::from)
}

impl Drop for EiderProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ignored = child.kill();
            let _ignored = child.wait();
        }
        remove_labelled(&format!("label=eider.pid={}", self.pid));
    }
}

/// Waits until a line of `lines` contains `text`; returns the lines seen so far.
fn wait_for_line(lines: &mpsc::Receiver<String>, text: &str, seen: &mut Vec<String>) {
    while !seen.iter().any(|line| line.contains(text)) {
        match lines.recv_timeout(PATIENCE) {
            Ok(line) => seen.push(line),
            Err(error) => panic!("eider never printed `{text}` ({error}): {seen:#?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2, 3. eider killed: the next run, or `eider clean`, sweeps only dead eiders' leftovers

#[test]
fn the_next_run_sweeps_what_a_killed_eider_left_and_nothing_of_a_live_one_or_foreign() {
    let (dead, live, next) = (unique("killed"), unique("live"), unique("next"));
    let project = Project::new(&drakefile(&format!(
        "{}{}{}",
        job(&dead, &[("side", "exec sleep 1000")], "exec sleep 1000"),
        job(&live, &[("side", "exec sleep 1000")], "exec sleep 1000"),
        job(&next, &[], "true"),
    )));
    let foreign = docker(&["create", "--label", "eider.job=not-eider", BUSYBOX]).concat();
    let _foreign = Removal(&["rm", "-f"], foreign.clone());

    let mut killed = EiderProcess::new(project.spawn(&["run", "--timeout", GUARD_TIMEOUT, &dead]));
    let killed_run = wait_until_running(&dead, 2, PATIENCE).remove(0);
    let _killed_run = RunRemoval(killed_run.clone());
    let mut running = EiderProcess::new(project.spawn(&[
        "run",
        "--grace-period",
        "1s",
        "--timeout",
        GUARD_TIMEOUT,
        &live,
    ]));
    let live_run = wait_until_running(&live, 2, PATIENCE).remove(0);
    let _live_run = RunRemoval(live_run.clone());

    send("-KILL", killed.pid);
    let killed_result = killed.wait();
    assert_eq!(
        killed_result.code, None,
        "eider was not killed by the signal"
    );

    let swept = project.run(&["--timeout", GUARD_TIMEOUT, &next]);
    swept.assert_code(0);
    assert_no_leftovers(&swept);
    assert!(
        leftovers_of(&killed_run).is_empty(),
        "the killed eider's containers are still there after the next run"
    );
    assert_eq!(
        leftovers_of(&live_run).len(),
        2,
        "the next run touched the containers of an eider that still runs"
    );
    assert_eq!(
        docker(&[
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            &format!("id={foreign}")
        ]),
        std::slice::from_ref(&foreign),
        "the next run removed a container that eider did not create"
    );

    send("-INT", running.pid);
    let stopped = running.wait();
    stopped.assert_code(130);
    assert!(leftovers_of(&live_run).is_empty());
}

#[test]
fn a_third_interrupt_exits_at_once_and_eider_clean_sweeps_what_is_left() {
    let name = unique("third-signal");
    let project = Project::new(&drakefile(&job(
        &name,
        &[("side", "exec sleep 1000")],
        "exec sleep 1000",
    )));
    // An hour of grace: only the later interrupts can end this run in time.
    let mut eider = EiderProcess::new(project.spawn(&["run", "--grace-period", "1h", &name]));
    let lines = eider.stderr_lines();
    let run_id = wait_until_running(&name, 2, PATIENCE).remove(0);
    let _run = RunRemoval(run_id.clone());
    let mut seen = Vec::new();
    send("-INT", eider.pid);
    // Signals sent in quick succession may arrive as one: each waits for the previous one's
    // notice.
    wait_for_line(&lines, "interrupt again", &mut seen);
    send("-INT", eider.pid);
    wait_for_line(&lines, "killing containers", &mut seen);
    send("-INT", eider.pid);
    let run = eider.wait();
    run.assert_code(130);

    let clean = project.command(&["clean"]);
    clean.assert_code(0);
    assert!(
        leftovers_of(&run_id).is_empty(),
        "eider clean left the interrupted run's containers"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Cancelled while an image is pulled

#[test]
fn ctrl_c_during_an_image_pull_ends_the_run_at_once_and_creates_nothing() {
    let name = unique("pull-cancel");
    let registry = support::stalled_registry();
    let image = format!("{}/eider-test/{name}:latest", registry.address());
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    sidecarContainers:
    - name: side
      image: {BUSYBOX}
      command: [sleep, '1000']
    primaryContainer:
      name: main
      image: {image}
      command: [echo, should not run]
"
    )));
    let recorder = ContainerEvents::record();
    let mut eider = EiderProcess::new(project.spawn(&["run", "--timeout", GUARD_TIMEOUT, &name]));
    let lines = eider.stderr_lines();
    let mut seen = Vec::new();
    wait_for_line(&lines, &format!("Pulling {image}"), &mut seen);
    // The engine is connected and waits for an answer that never comes.
    let deadline = std::time::Instant::now() + PATIENCE;
    while registry.requests().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the engine never reached the registry"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    send("-INT", eider.pid);
    let run = eider.wait();
    seen.extend(lines.try_iter());
    assert_eq!(run.code, Some(130), "{seen:#?}");
    let statuses: Vec<String> = seen
        .iter()
        .filter(|line| !line.starts_with('['))
        .map(|line| support::normalize_status(line))
        .collect();
    assert!(
        statuses.contains(&format!("INTERRUPTED {name} <time>")),
        "{statuses:#?}"
    );
    let events = recorder.of_job(&name);
    assert!(events.is_empty(), "containers were created: {events:?}");
    drop(registry);
}

#[test]
fn ctrl_c_between_create_and_start_leaves_no_container_behind() {
    let name = unique("start-cancel");
    let project = Project::new(&drakefile(&job(&name, &[], "sleep 1000")));
    // The start of the job's container is held back on its way to the engine: the container
    // then exists in Created when the interrupt comes.
    let proxy = support::proxy::RecordingProxy::holding_starts();
    let child = project
        .eider()
        .env("DOCKER_HOST", proxy.docker_host())
        .args([
            "run",
            "--timeout",
            GUARD_TIMEOUT,
            "--grace-period",
            "1s",
            &name,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start eider");
    let mut eider = EiderProcess::new(child);
    proxy.wait_for_held_start(PATIENCE);
    let created = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=eider.job={name}"),
        "--format",
        "{{.State}}",
    ]);
    assert_eq!(created, ["created"], "the container waits to start");
    send("-INT", eider.pid);
    // The request in flight completes: eider must stop what it started and remove it.
    proxy.release_starts();
    let run = eider.wait();
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    assert!(
        status_lines(&run).contains(&format!("INTERRUPTED {name} <time>")),
        "{}",
        run.stderr
    );
    assert_no_leftovers(&run);
}

// ---------------------------------------------------------------------------------------------
// 5. A sidecar that ignores SIGTERM

#[test]
fn on_ctrl_c_containers_get_sigterm_and_one_that_ignores_it_is_killed_after_the_grace_period() {
    let name = unique("ignores-term");
    let project = Project::new(&drakefile(&job(
        &name,
        // The shell is PID 1: without a handler, SIGTERM does nothing to it.
        &[(
            "stubborn",
            "trap '' TERM; echo ready; while :; do sleep 1; done",
        )],
        "trap 'echo got SIGTERM; exit 0' TERM; echo ready; while :; do sleep 0.1; done",
    )));
    let mut eider = EiderProcess::new(project.spawn(&[
        "run",
        "--grace-period",
        "2s",
        "--timeout",
        GUARD_TIMEOUT,
        &name,
    ]));
    let run_id = wait_until_running(&name, 2, PATIENCE).remove(0);
    let _run = RunRemoval(run_id.clone());
    // A container runs a moment before its shell has set its trap, and a shell that is PID 1
    // ignores a SIGTERM it has no trap for: interrupt only once both say they are ready.
    let stdout = eider.stdout_lines();
    let mut seen = Vec::new();
    wait_for_line(&stdout, &format!("[{name}/stubborn] ready"), &mut seen);
    wait_for_line(&stdout, &format!("[{name}/main] ready"), &mut seen);
    send("-INT", eider.pid);
    let run = eider.wait();
    run.assert_code(130);
    seen.extend(stdout.iter());
    let prefix = format!("[{name}/main] ");
    let main: Vec<&str> = seen
        .iter()
        .filter_map(|line| line.strip_prefix(&prefix))
        .collect();
    assert_eq!(main.last().copied(), Some("got SIGTERM"), "{seen:#?}");
    assert!(
        status_lines(&run).contains(&format!("INTERRUPTED {name} <time>")),
        "{}",
        run.stderr
    );
    assert!(
        leftovers_of(&run_id).is_empty(),
        "run {run_id} left something"
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Timeout in a pipeline

#[test]
fn a_timeout_in_a_pipeline_is_timed_out_and_cancels_every_pending_job() {
    let prefix = unique("pipeline-timeout");
    let (slow, after, other) = (
        format!("{prefix}-slow"),
        format!("{prefix}-after"),
        format!("{prefix}-other"),
    );
    let jobs = format!(
        "{}{}{}",
        job(
            &slow,
            &[("side", "exec sleep 1000")],
            "echo started; exec sleep 1000"
        ),
        job(&after, &[], "echo never"),
        job(&other, &[], "echo never"),
    );
    let text = format!(
        "{}pipelines:\n  {prefix}:\n    jobs:\n    - name: {slow}\n    - name: {after}\n      \
         dependencies: [{slow}]\n    - name: {other}\n",
        drakefile(&jobs)
    );
    let project = Project::new(&text);
    let report = project.state_path().join("report.json");
    let report_option = format!("json={}", report.display());
    let recorder = ContainerEvents::record();
    // One slot: `other` waits behind `slow`.
    let run = project.run(&[
        "-p",
        &prefix,
        "-c",
        "1",
        "--timeout",
        "2s",
        "--report",
        &report_option,
    ]);
    run.assert_code(1);
    assert_no_leftovers_of_every_run(&run);
    let status = status_lines(&run);
    for expected in [
        format!("Timed out {slow}: timed out after 2s"),
        format!("Cancelled {after}"),
        format!("Cancelled {other}"),
        format!("TIMEOUT {slow} <time> timed out after 2s"),
        format!("CANCELLED {after} not run"),
        format!("CANCELLED {other} not run"),
    ] {
        assert!(status.contains(&expected), "no `{expected}` in {status:#?}");
    }
    for pending in [&after, &other] {
        assert!(recorder.of_job(pending).is_empty());
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("the JSON report"))
            .expect("the report is JSON");
    let results: Vec<(String, String)> = json["runs"][0]["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|job| {
            (
                job["name"].as_str().unwrap_or_default().to_owned(),
                job["result"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            (slow.clone(), "timed-out".to_owned()),
            (after.clone(), "cancelled".to_owned()),
            (other.clone(), "cancelled".to_owned()),
        ]
    );
    assert_eq!(json["runs"][0]["succeeded"], false);
    assert_eq!(json["runs"][0]["interrupted"], false);
}

// ---------------------------------------------------------------------------------------------
// 10. Processes and containers that try to outlive the job

/// Whether a process of this machine has `marker` in its command line.
fn a_process_has_in_its_command_line(marker: &str) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        std::fs::read(entry.path().join("cmdline"))
            .is_ok_and(|line| String::from_utf8_lossy(&line).contains(marker))
    })
}

#[test]
fn a_process_the_primary_daemonizes_dies_with_the_job() {
    let name = unique("daemonizes");
    let marker = format!("daemon-marker-{name}");
    let project = Project::new(&drakefile(&job(
        &name,
        &[],
        // The marker is put together at run time, so that only the daemons' command lines
        // hold it whole, not the primary's own script.
        &format!(
            "m=\"daemon-\"\"marker-{name}\"
             setsid sh -c \"sleep 1000; echo $m\" >/dev/null 2>&1 &
             sh -c \"trap '' HUP; sleep 1000; echo $m\" >/dev/null 2>&1 &
             until [ \"$(ps -o args | grep -c '[d]aemon-marker-{name}')\" -ge 2 ]; do
               sleep 0.05
             done
             echo daemonized; exit 0"
        ),
    )));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    assert_eq!(run.lines_of(&name, "main"), ["daemonized"]);
    assert_no_leftovers(&run);
    // The container is gone, and its pid namespace with every process in it.
    assert!(
        !a_process_has_in_its_command_line(&marker),
        "a daemonized process of the job still runs"
    );
}

/// Builds the static `unix-request` helper into `directory`.
fn build_unix_request(directory: &Path) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faults/unix_request.rs");
    let output = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()))
        .args([
            "--edition",
            "2021",
            "-C",
            "target-feature=+crt-static",
            "-o",
        ])
        .arg(directory.join("unix-request"))
        .arg(&source)
        .output()
        .expect("run rustc");
    assert!(
        output.status.success(),
        "cannot build {}: {}",
        source.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_container_a_job_starts_through_the_docker_socket_is_named_in_a_warning() {
    let name = unique("socket-spawn");
    let spawned = format!("{name}-spawned");
    let _spawned = Removal(&["rm", "-f"], spawned.clone());
    let body = format!("{{\"Image\":\"{BUSYBOX}\",\"Cmd\":[\"sleep\",\"1000\"]}}");
    let script = format!(
        "body='{body}'
         printf 'POST /containers/create?name={spawned} HTTP/1.0\\r\\nHost: engine\\r\\nContent-Type: application/json\\r\\nContent-Length: %s\\r\\n\\r\\n%s' ${{#body}} \"$body\" | /src/unix-request /var/run/docker.sock | head -n 1
         printf 'POST /containers/{spawned}/start HTTP/1.0\\r\\nHost: engine\\r\\nContent-Length: 0\\r\\n\\r\\n' | /src/unix-request /var/run/docker.sock | head -n 1"
    );
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      mountDockerSocket: true
      sourceMountPath: /src
      command: {}
",
        sh(&script)
    )));
    build_unix_request(project.path());
    let run = project.run(&["--allow-docker-socket", "--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    let answers: Vec<String> = run
        .lines_of(&name, "main")
        .iter()
        .map(|line| line.trim_end().to_owned())
        .collect();
    assert_eq!(
        answers,
        ["HTTP/1.0 201 Created", "HTTP/1.0 204 No Content"],
        "the job could not start its container"
    );
    assert_no_leftovers(&run);
    let warning = status_lines(&run)
        .into_iter()
        .find(|line| {
            line.starts_with(&format!(
                "warning: {name}: containers that eider did not create"
            ))
        })
        .unwrap_or_else(|| panic!("no warning about the job's own container:\n{}", run.stderr));
    assert!(warning.contains(&spawned), "{warning}");
    // eider warned and left it: it cannot tell it from a container someone else made.
    assert_eq!(
        docker(&["ps", "-q", "--filter", &format!("name=^{spawned}$")]).len(),
        1
    );
}

// ---------------------------------------------------------------------------------------------
// 13. TTY on and off, stdout and stderr

#[test]
fn without_a_tty_the_streams_stay_apart_and_with_one_both_reach_stdout() {
    let (plain, terminal) = (unique("streams"), unique("streams-tty"));
    let script = "if [ -t 1 ]; then echo out-terminal; else echo out-pipe; fi
         if [ -t 2 ]; then echo err-terminal >&2; else echo err-pipe >&2; fi";
    let project = Project::new(&drakefile(&format!(
        "{}{}",
        job(&plain, &[], script),
        terminal_job(&terminal, script)
    )));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &plain, &terminal]);
    run.assert_code(0);
    // A terminal is one stream: what the process writes to stderr arrives on stdout, in order.
    assert_eq!(
        run.stdout,
        format!(
            "[{plain}/main] out-pipe\n[{terminal}/main] out-terminal\n\
             [{terminal}/main] err-terminal\n"
        )
    );
    assert_eq!(run.error_lines_of(&plain, "main"), ["err-pipe"]);
    assert!(
        run.error_lines_of(&terminal, "main").is_empty(),
        "{}",
        run.stderr
    );
    assert_no_leftovers(&run);
}

// ---------------------------------------------------------------------------------------------
// 14, 15. Secrets in every form, in every output, never on a command line

/// Percent-encoding of everything but unreserved characters, as URL encoders write it.
fn url_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// Base64 of `secret` after 0, 1 and 2 other bytes, without the characters that depend on what
/// surrounds it: what must never show wherever a program encodes it.
fn base64_forms(secret: &str) -> Vec<String> {
    ["", "x", "xy"]
        .into_iter()
        .map(|offset| {
            let encoded = Command::new("base64")
                .arg("-w0")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .and_then(|mut child| {
                    use std::io::Write;
                    child
                        .stdin
                        .take()
                        .expect("piped stdin")
                        .write_all(format!("{offset}{secret}").as_bytes())?;
                    child.wait_with_output()
                })
                .expect("run base64");
            let encoded = String::from_utf8_lossy(&encoded.stdout).into_owned();
            let skip = if offset.is_empty() { 0 } else { 4 };
            encoded[skip..encoded.len() - 4].to_owned()
        })
        .collect()
}

#[test]
fn secrets_never_appear_in_any_output_report_or_command_line() {
    const SECRET: &str = "s3cr%t&\"value/with+marks";
    const FOUR: &str = "k9zq";
    const PEM_LINE: &str = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu";
    let name = unique("secret-forms");
    let script = format!(
        "echo \"whole $SECRET end\"
         echo \"err $SECRET end\" >&2
         printf '%s' \"$SECRET\" | while IFS= read -r -n 1 c; do printf '%s' \"$c\"; usleep 20000; done
         echo ' one-byte-end'
         printf '%s\\n' \"$PEM\"
         for offset in '' x xy; do printf '%s%s' \"$offset\" \"$SECRET\" | base64 | tr -d '\\n'; echo; done
         printf '%s' \"$SECRET\" | sed 's/\"/\\\\\"/g'; echo ' json'
         echo '{url} url'
         echo \"short $FOUR end\"
         while [ ! -e /src/scanned ]; do sleep 0.05; done",
        url = url_encoded(SECRET)
    );
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /src
      command: {}
",
        sh(&script)
    )));
    project.write(
        "Drakesecrets.yaml",
        &format!(
            "SECRET: '{SECRET}'\nFOUR: {FOUR}\nPEM: |\n  -----BEGIN PRIVATE KEY-----\n  \
             {PEM_LINE}\n  -----END PRIVATE KEY-----\n"
        ),
    );
    let reports = project.state_path();
    let json = reports.join("report.json");
    let junit = reports.join("report.xml");
    let mut eider = EiderProcess::new(project.spawn(&[
        "run",
        "--timeout",
        GUARD_TIMEOUT,
        "--report",
        &format!("json={}", json.display()),
        "--report",
        &format!("junit={}", junit.display()),
        &name,
    ]));
    let run_id = wait_until_running(&name, 1, PATIENCE).remove(0);
    let _run = RunRemoval(run_id);
    // While the job runs: no process of this machine (eider, the engine, the container's) has
    // a secret on its command line.
    for secret in [SECRET, FOUR, PEM_LINE] {
        assert!(
            !a_process_has_in_its_command_line(secret),
            "a command line holds a secret"
        );
    }
    project.write("scanned", "");
    let run = eider.wait();
    run.assert_code(0);

    let main = run.lines_of(&name, "main");
    assert_eq!(main[0], "whole *** end");
    assert_eq!(main[1], "*** one-byte-end");
    assert!(main.contains(&"short *** end".to_owned()), "{main:#?}");
    assert_eq!(run.error_lines_of(&name, "main"), ["err *** end"]);
    let report_json = std::fs::read_to_string(&json).expect("the JSON report");
    let report_junit = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(report_junit.contains("whole *** end"), "{report_junit}");
    let mut forms = vec![
        SECRET.to_owned(),
        FOUR.to_owned(),
        PEM_LINE.to_owned(),
        "BEGIN PRIVATE KEY".to_owned(),
        url_encoded(SECRET),
        SECRET.replace('"', "\\\""),
        // As XML and JSON files would escape it.
        SECRET.replace('&', "&amp;").replace('"', "&quot;"),
    ];
    forms.extend(base64_forms(SECRET));
    for form in &forms {
        for (place, text) in [
            ("stdout", &run.stdout),
            ("stderr", &run.stderr),
            ("the JSON report", &report_json),
            ("the JUnit report", &report_junit),
        ] {
            assert!(
                !text.contains(form.as_str()),
                "{place} shows a form of a secret: {form}\n{text}"
            );
        }
    }
    assert_no_leftovers(&run);

    // A dry run reads no secret and shows none.
    let dry = project.run(&["--dry-run", &name]);
    dry.assert_code(0);
    for form in &forms {
        assert!(!dry.stdout.contains(form.as_str()) && !dry.stderr.contains(form.as_str()));
    }
}

// ---------------------------------------------------------------------------------------------
// 20. Permissions claimed by the project

#[test]
fn a_drakefile_that_claims_a_permission_is_refused_and_runs_nothing() {
    let name = unique("claims");
    for claim in [
        "    allowDockerSocket: true\n",
        "    allowPrivileged: true\n",
    ] {
        let project = Project::new(&drakefile(&format!(
            "  {name}:\n{claim}    primaryContainer:\n      name: main\n      image: {BUSYBOX}\n      \
             mountDockerSocket: true\n      command: [true]\n"
        )));
        let recorder = ContainerEvents::record();
        let run = project.run(&[&name]);
        run.assert_code(2);
        assert!(!run.stderr.contains("Running"), "{}", run.stderr);
        assert!(recorder.of_job(&name).is_empty());
    }
}

#[test]
fn repository_files_that_are_fifos_or_lead_to_dev_zero_are_refused_at_once() {
    let job_name = unique("unreadable-input");
    let project = Project::new(&drakefile(&job(&job_name, &[], "true")));
    let fifo = |relative: &str| {
        let path = project.path().join(relative);
        let _ignored = std::fs::remove_file(&path);
        let status = Command::new("mkfifo").arg(&path).status().expect("mkfifo");
        assert!(status.success());
    };
    let zero = |relative: &str| {
        let path = project.path().join(relative);
        let _ignored = std::fs::remove_file(&path);
        std::os::unix::fs::symlink("/dev/zero", path).expect("symlink");
    };
    let refused = |arguments: &[&str], expected: &str| {
        let run = wait_with_patience(project.spawn(arguments), PATIENCE);
        run.assert_code(2);
        assert!(run.stderr.contains(expected), "{}", run.stderr);
        assert_eq!(leftovers_of_job(&job_name), Vec::<String>::new());
    };
    for (make, what) in [
        (&fifo as &dyn Fn(&str), "a FIFO, not a regular file"),
        (&zero, "a character device, not a regular file"),
    ] {
        make("Other.yaml");
        let device = if what.contains("FIFO") {
            "a FIFO"
        } else {
            "a device"
        };
        refused(
            &["-f", "Other.yaml", "validate"],
            &format!("Other.yaml is {device}, not a regular file"),
        );
        make("Drakefile.lock");
        refused(&["run", "--locked", &job_name], what);
        make("ci-secrets.yaml");
        refused(&["run", "-s", "ci-secrets.yaml", &job_name], what);
        make("eider.toml");
        refused(&["package", &job_name], what);
    }
}

/// The containers of `job`, whatever their run.
fn leftovers_of_job(job: &str) -> Vec<String> {
    docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=eider.job={job}"),
        "--format",
        "{{.Names}}",
    ])
}
