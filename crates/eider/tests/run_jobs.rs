//! `eider run` and `eider clean` against the real Docker Engine and registry prepared by
//! `scripts/test-env.sh`: how a job's containers are launched, connected, waited for, timed out,
//! interrupted and removed, and how their output reaches eider's own streams.
//!
//! Tests run in parallel, also with other test processes on the same engine: every job, image
//! tag and label value a test uses is unique to it ([`unique`]), and every run is checked to have
//! left nothing labelled behind. No test asserts a wall-clock time: where a run must end
//! promptly, a generous `--timeout` turns a hang into a failure that says so.

mod support;

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::events::ContainerEvents;
use support::{
    BUSYBOX, ENTRYPOINT_IMAGE, Project, Run, assert_no_leftovers, busybox_job as job, docker,
    drakefile, leftovers_of, normalize_status, registry, registry_image, sh, status_lines,
    terminal_job, unique, wait_until_running,
};

/// Turns a hang (a sidecar never killed, a wait never ending) into a failed run well within the
/// test's patience, without bounding how long a healthy run may take on a slow machine.
const GUARD_TIMEOUT: &str = "120s";

/// How long a test waits for the engine to reach a state (containers running).
const ENGINE_PATIENCE: Duration = Duration::from_secs(60);

/// A project whose Drakefile has the one job `name` (see [`job`]).
fn project_with_job(name: &str, sidecars: &[(&str, &str)], primary: &str) -> Project {
    Project::new(&drakefile(&job(name, sidecars, primary)))
}

/// Expected lines, owned, to compare with [`status_lines`].
fn lines(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|line| (*line).to_owned()).collect()
}

/// Runs eider (already configured) to completion; also returns its process id, which labels
/// everything it creates (`eider.pid`), so a test can check that a run that never printed a run
/// id created nothing.
fn run_with_pid(mut command: Command) -> (Run, u32) {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start eider");
    let pid = child.id();
    let output = child.wait_with_output().expect("wait for eider");
    (Run::from(output), pid)
}

/// Asserts that no container or volume carries the process id `pid` of an eider that has
/// exited.
#[track_caller]
fn assert_nothing_labelled_by(pid: u32) {
    let filter = format!("label=eider.pid={pid}");
    let mut found = docker(&["ps", "-a", "-q", "--filter", &filter]);
    found.extend(docker(&["volume", "ls", "-q", "--filter", &filter]));
    assert!(found.is_empty(), "eider (pid {pid}) left {found:?} behind");
}

/// Removes a docker object when dropped, so that a failing test cleans up too.
struct Removal(Vec<&'static str>, String);

impl Drop for Removal {
    fn drop(&mut self) {
        let _ignored = Command::new("docker")
            .args(&self.0)
            .arg(&self.1)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

// ---------------------------------------------------------------------------------------------
// Launch order and the shared localhost

#[test]
fn sidecars_start_in_list_order_before_the_primary() {
    // Containers start without waiting for each other's readiness, so nothing inside them can
    // tell the order reliably. The engine's own event stream can: eider creates and starts each
    // container before it creates the next, and the engine reports those steps in order.
    let name = unique("order");
    let project = project_with_job(
        &name,
        &[("first", "exec sleep 1000"), ("second", "exec sleep 1000")],
        "true",
    );
    let recorder = ContainerEvents::record();
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    let launches: Vec<String> = recorder
        .labelled("eider.job", &name)
        .into_iter()
        .filter(|event| matches!(event.action.as_str(), "create" | "start"))
        .map(|event| {
            let container = event.attributes.get("eider.container").cloned();
            format!("{} {}", event.action, container.unwrap_or_default())
        })
        .collect();
    assert_eq!(
        launches,
        lines(&[
            "create first",
            "start first",
            "create second",
            "start second",
            "create main",
            "start main",
        ])
    );
    assert_no_leftovers(&run);
}

#[test]
fn the_primary_reaches_a_sidecar_on_localhost() {
    let name = unique("localhost");
    let project = project_with_job(
        &name,
        &[(
            "server",
            "mkdir /www && echo served > /www/index.html && exec httpd -f -p 127.0.0.1:8081 -h /www",
        )],
        // No readiness wait in the spec: the primary retries until the server answers.
        "for attempt in $(seq 600); do
           if wget -q -O - http://localhost:8081/; then exit 0; fi
           sleep 0.1
         done
         exit 1",
    );
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    assert_eq!(run.stdout, format!("[{name}/main] served\n"));
    assert_no_leftovers(&run);
}

#[test]
fn every_container_of_a_job_shares_one_localhost() {
    let name = unique("localhost-two");
    let server = |port: u16, content: &str| {
        format!(
            "mkdir /www && echo {content} > /www/index.html && \
             exec httpd -f -p 127.0.0.1:{port} -h /www"
        )
    };
    let (one, two) = (server(8082, "one"), server(8083, "two"));
    let project = project_with_job(
        &name,
        &[("one", &one), ("two", &two)],
        "for attempt in $(seq 600); do
           if a=$(wget -q -O - http://127.0.0.1:8082/) && b=$(wget -q -O - http://127.0.0.1:8083/)
           then echo \"$a $b\"; exit 0; fi
           sleep 0.1
         done
         exit 1",
    );
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    assert_eq!(run.stdout, format!("[{name}/main] one two\n"));
    assert_no_leftovers(&run);
}

#[test]
fn sidecars_that_exit_early_neither_fail_the_job_nor_split_its_localhost() {
    // Regression: each container joined the first one's network namespace, and the engine
    // refuses to start a container into the namespace of one that has exited, so a one-shot
    // first sidecar made the job fail (or not) depending on timing.
    let name = unique("early-exit");
    let project = project_with_job(
        &name,
        &[
            ("once", "echo once; exit 7"),
            (
                "server",
                "mkdir /www && echo served > /www/index.html && \
                 exec httpd -f -p 127.0.0.1:8084 -h /www",
            ),
            ("twice", "true"),
        ],
        "for attempt in $(seq 600); do
           if wget -q -O - http://127.0.0.1:8084/; then exit 0; fi
           sleep 0.1
         done
         exit 1",
    );
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    assert_eq!(run.lines_of(&name, "main"), ["served"]);
    assert_eq!(run.lines_of(&name, "once"), ["once"]);
    // The job's result is the primary's, but the crash is not silent: the one sidecar that
    // failed is named, the one that exited 0 and the one eider killed are not.
    let warnings: Vec<String> = status_lines(&run)
        .into_iter()
        .filter(|line| line.starts_with("warning:"))
        .collect();
    assert_eq!(
        warnings,
        [format!(
            "warning: {name}: sidecar `once` exited with code 7 while the job ran"
        )]
    );
    assert_no_leftovers(&run);
}

// ---------------------------------------------------------------------------------------------
// The primary decides

#[test]
fn the_job_succeeds_when_the_primary_exits_0_and_its_running_sidecar_is_killed() {
    let name = unique("primary-ok");
    // `sleep` as PID 1 ignores SIGTERM: only a kill ends it.
    let project = project_with_job(&name, &[("forever", "exec sleep 1000")], "exit 0");
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    assert_eq!(
        status_lines(&run),
        lines(&[
            &format!("Running {name}"),
            &format!("Passed {name} in <time>"),
            "Summary 1 of 1 job passed (run <run>)",
            &format!("PASS {name} <time>"),
        ])
    );
    assert_no_leftovers(&run);
}

#[test]
fn a_failing_primary_fails_the_job_naming_job_container_and_code() {
    let name = unique("primary-fails");
    let project = project_with_job(&name, &[("forever", "exec sleep 1000")], "exit 3");
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(1);
    assert_eq!(
        status_lines(&run),
        lines(&[
            &format!("Running {name}"),
            &format!("Failed {name} in <time>: container `main` exited with code 3"),
            "Summary 0 of 1 job passed (run <run>)",
            &format!("FAIL {name} <time> exit code 3 in `main`"),
        ])
    );
    assert_no_leftovers(&run);
}

#[test]
fn exit_codes_1_255_and_137_are_reported_as_they_are() {
    // A shell that is PID 1 cannot kill itself with SIGKILL (the kernel protects a namespace's
    // init), so a child shell is killed and the primary exits with its status, 128 + 9.
    for (code, script) in [
        (1, "exit 1"),
        (255, "exit 255"),
        (137, "sh -c 'kill -9 $$'; exit $?"),
    ] {
        let name = unique("exit-code");
        let project = project_with_job(&name, &[], script);
        let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
        run.assert_code(1);
        assert_eq!(
            status_lines(&run),
            lines(&[
                &format!("Running {name}"),
                &format!("Failed {name} in <time>: container `main` exited with code {code}"),
                "Summary 0 of 1 job passed (run <run>)",
                &format!("FAIL {name} <time> exit code {code} in `main`"),
            ]),
            "for {script}"
        );
        assert_no_leftovers(&run);
    }
}

#[test]
fn a_primary_killed_for_memory_is_reported_as_out_of_memory() {
    assert_killed_for_memory(None);
}

/// The kernel's OOM notice can reach the engine after the exit, when the container's state no
/// longer changes: eider still says why the job ended, from the engine's events.
#[test]
fn a_kill_for_memory_that_the_engine_learns_after_the_exit_is_reported_as_out_of_memory() {
    let proxy = support::proxy::RecordingProxy::hiding_out_of_memory();
    assert_killed_for_memory(Some(&proxy.docker_host()));
}

/// Runs a job whose primary outgrows its memory limit on the engine at `docker_host` (the
/// tests' engine when `None`) and checks that it is reported as killed for memory.
#[track_caller]
fn assert_killed_for_memory(docker_host: Option<&str>) {
    let name = unique("out-of-memory");
    // The shell keeps 100 MB of output in a variable, far above the limit even if the engine
    // lets the container swap as much again.
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      resources:
        memory: {{requestedMegabytes: 8, maxMegabytes: 8}}
      command: {}
",
        sh("x=$(head -c 100000000 /dev/zero | tr '\\0' x); echo survived")
    )));
    let mut eider = project.eider();
    if let Some(host) = docker_host {
        eider.env("DOCKER_HOST", host);
    }
    let run = support::Run::from(
        eider
            .args(["run", "--timeout", GUARD_TIMEOUT, &name])
            .output()
            .expect("run eider"),
    );
    run.assert_code(1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        status_lines(&run),
        lines(&[
            &format!("Running {name}"),
            &format!("Failed {name} in <time>: container `main` ran out of memory (exit code 137)"),
            "Summary 0 of 1 job passed (run <run>)",
            &format!("FAIL {name} <time> out of memory in `main` (exit code 137)"),
        ])
    );
    assert_no_leftovers(&run);
}

#[test]
fn jobs_run_in_order_and_stop_at_the_first_failure() {
    let (first, second, third) = (unique("first"), unique("second"), unique("third"));
    let project = Project::new(&drakefile(&format!(
        "{}{}{}",
        job(&first, &[], "echo first ran"),
        job(&second, &[], "echo second ran; exit 1"),
        job(&third, &[], "echo third ran"),
    )));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &first, &second, &third]);
    run.assert_code(1);
    assert_eq!(
        run.stdout,
        format!("[{first}/main] first ran\n[{second}/main] second ran\n")
    );
    assert_eq!(
        status_lines(&run),
        lines(&[
            &format!("Running {first}"),
            &format!("Passed {first} in <time>"),
            &format!("Running {second}"),
            &format!("Failed {second} in <time>: container `main` exited with code 1"),
            "Summary 1 of 3 jobs passed (run <run>)",
            &format!("PASS {first} <time>"),
            &format!("FAIL {second} <time> exit code 1 in `main`"),
            &format!("SKIP {third} not run"),
        ])
    );
    assert_no_leftovers(&run);
}

// ---------------------------------------------------------------------------------------------
// Timeouts

fn assert_timed_out_after_2s(run: &Run, name: &str) {
    run.assert_code(1);
    assert_eq!(
        status_lines(run),
        lines(&[
            &format!("Running {name}"),
            &format!("Timed out {name}: timed out after 2s"),
            "Summary 0 of 1 job passed (run <run>)",
            &format!("TIMEOUT {name} <time> timed out after 2s"),
        ])
    );
    assert_eq!(run.stdout, format!("[{name}/main] started\n"));
    assert_no_leftovers(run);
}

#[test]
fn a_job_that_outlives_its_timeout_fails_and_everything_is_removed() {
    let name = unique("timeout");
    let project = project_with_job(
        &name,
        &[("forever", "exec sleep 1000")],
        "echo started; exec sleep 60",
    );
    let run = project.run(&["--timeout", "2s", &name]);
    assert_timed_out_after_2s(&run, &name);
}

#[test]
fn the_timeout_can_come_from_the_config_file() {
    let name = unique("timeout-config");
    let project = project_with_job(
        &name,
        &[("forever", "exec sleep 1000")],
        "echo started; exec sleep 60",
    );
    let config = project.config_home().join("eider");
    std::fs::create_dir_all(&config).expect("create the config directory");
    std::fs::write(config.join("config.toml"), "[run]\ntimeout = \"2s\"\n")
        .expect("write the config file");
    let run = project.run(&[&name]);
    assert_timed_out_after_2s(&run, &name);
}

#[test]
fn a_zero_timeout_in_the_config_file_is_refused_as_the_flag_refuses_it() {
    let name = unique("zero-timeout");
    let project = project_with_job(&name, &[], "echo ran");
    let config = project.config_home().join("eider");
    std::fs::create_dir_all(&config).expect("create the config directory");
    std::fs::write(config.join("config.toml"), "[run]\ntimeout = \"0s\"\n")
        .expect("write the config file");
    let run = project.run(&[&name]);
    run.assert_code(2);
    assert!(run.stderr.contains("config.toml"), "{}", run.stderr);
    assert!(
        run.stderr.contains("`0s`: must be longer than zero"),
        "{}",
        run.stderr
    );
    assert!(run.lines_of(&name, "main").is_empty(), "{}", run.stdout);
    let flag = project.run(&["--timeout", "0s", &name]);
    flag.assert_code(2);
    assert!(
        flag.stderr.contains("must be longer than zero"),
        "{}",
        flag.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Output

#[test]
fn output_of_primary_and_sidecars_is_attributed_and_kept_on_its_stream() {
    let name = unique("attribution");
    // The primary waits for the sidecar's file in shared storage, so the sidecar has written
    // both its lines before the job can end.
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    sidecarContainers:
    - name: side
      image: {BUSYBOX}
      sharedStorageMountPath: /shared
      command: {}
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sharedStorageMountPath: /shared
      command: {}
",
        sh("echo side out; echo side err >&2; touch /shared/ready; exec sleep 1000"),
        sh("until [ -e /shared/ready ]; do sleep 0.05; done; echo main out; echo main err >&2"),
    )));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    let mut stdout: Vec<&str> = run.stdout.lines().collect();
    stdout.sort_unstable();
    assert_eq!(
        stdout,
        [
            format!("[{name}/main] main out"),
            format!("[{name}/side] side out")
        ]
    );
    let mut container_stderr: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with('['))
        .collect();
    container_stderr.sort_unstable();
    assert_eq!(
        container_stderr,
        [
            format!("[{name}/main] main err"),
            format!("[{name}/side] side err")
        ]
    );
    assert_no_leftovers(&run);
}

#[test]
fn a_last_line_without_a_newline_is_printed_every_time() {
    const RUNS: usize = 50;
    let (plain, terminal) = (unique("last-line"), unique("last-line-tty"));
    let script = "printf 'a\\nlast'";
    let project = Project::new(&drakefile(&format!(
        "{}{}",
        job(&plain, &[], script),
        terminal_job(&terminal, script)
    )));
    // The same job many times in one run: each is a fresh container whose exit races with the
    // end of its output stream. With and without a terminal, in two runs at once.
    let runs: Vec<std::thread::JoinHandle<(String, Run)>> = [plain, terminal]
        .into_iter()
        .map(|name| {
            let mut command = project.eider();
            command.args(["run", "--timeout", GUARD_TIMEOUT]);
            command.args(std::iter::repeat_n(name.as_str(), RUNS));
            std::thread::spawn(move || (name, run_with_pid(command).0))
        })
        .collect();
    for run in runs {
        let (name, run) = run.join().expect("a run's thread");
        run.assert_code(0);
        assert_eq!(
            run.stdout,
            format!("[{name}/main] a\n[{name}/main] last\n").repeat(RUNS),
            "for {name}"
        );
        assert_no_leftovers(&run);
    }
}

#[test]
fn a_line_of_one_mebibyte_arrives_whole() {
    const MEBIBYTE: usize = 1 << 20;
    let name = unique("long-line");
    // `yes x` writes "x\n": twice the bytes, newlines removed, is one line of 1 MiB.
    let project = project_with_job(
        &name,
        &[],
        "yes x | head -c 2097152 | tr -d '\\n'; echo; echo after",
    );
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    let prefix = format!("[{name}/main] ");
    let lines: Vec<&str> = run.stdout.split_inclusive('\n').collect();
    let lengths: Vec<usize> = lines.iter().map(|line| line.len()).collect();
    assert_eq!(
        lengths,
        [prefix.len() + MEBIBYTE + 1, prefix.len() + "after\n".len()],
        "one 1 MiB line, then a short one"
    );
    assert!(
        run.stdout == format!("{prefix}{}\n{prefix}after\n", "x".repeat(MEBIBYTE)),
        "the long line was altered"
    );
    assert_no_leftovers(&run);
}

#[test]
fn a_burst_of_100000_lines_arrives_complete_and_in_order() {
    let name = unique("burst");
    let project = project_with_job(&name, &[], "seq 100000");
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    let expected: Vec<String> = (1..=100_000).map(|number| number.to_string()).collect();
    let received = run.lines_of(&name, "main");
    assert_eq!(received.len(), expected.len(), "number of lines");
    assert!(received == expected, "lines lost, altered or reordered");
    assert_eq!(run.stdout.lines().count(), expected.len(), "stray lines");
    assert_no_leftovers(&run);
}

#[test]
fn no_escape_codes_when_piped_or_with_no_color() {
    const ESCAPE: char = '\x1b';
    let name = unique("color");
    let project = project_with_job(&name, &[], "echo out; echo err >&2");

    // Piped, NO_COLOR unset: plain.
    let mut command = project.eider();
    command
        .env_remove("NO_COLOR")
        .args(["run", "--timeout", GUARD_TIMEOUT, &name]);
    let (piped, _) = run_with_pid(command);
    piped.assert_code(0);
    assert!(!piped.stdout.contains(ESCAPE), "{:?}", piped.stdout);
    assert!(!piped.stderr.contains(ESCAPE), "{:?}", piped.stderr);
    assert_eq!(piped.stdout, format!("[{name}/main] out\n"));
    assert_no_leftovers(&piped);

    // On a terminal (util-linux `script` gives eider a pseudo-terminal for both streams), with
    // and without NO_COLOR: the same test sees escape codes only when they are allowed.
    let on_terminal = |no_color: bool| {
        let eider = env!("CARGO_BIN_EXE_eider");
        let mut command = project.eider();
        command.env_remove("NO_COLOR");
        if no_color {
            command.env("NO_COLOR", "1");
        }
        command.env_remove("EIDER_COLOR");
        let line = format!("'{eider}' run --timeout {GUARD_TIMEOUT} {name}");
        let mut script = Command::new("script");
        script.args(["-q", "-e", "-c", &line, "/dev/null"]);
        script.current_dir(project.path()).stdin(Stdio::null());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => script.env(key, value),
                None => script.env_remove(key),
            };
        }
        let (run, _) = run_with_pid(script);
        run.assert_code(0);
        run
    };
    let colored = on_terminal(false);
    assert!(colored.stdout.contains(ESCAPE), "{:?}", colored.stdout);
    let plain = on_terminal(true);
    assert!(!plain.stdout.contains(ESCAPE), "{:?}", plain.stdout);
    assert!(plain.stdout.contains(&format!("[{name}/main] out")));
    for run in [&colored, &plain] {
        let id = support::run_id(&Run {
            code: run.code,
            stdout: String::new(),
            stderr: run.stdout.clone(),
        });
        assert!(leftovers_of(&id).is_empty(), "run {id} left something");
    }
}

// ---------------------------------------------------------------------------------------------
// Container settings

#[test]
fn tty_gives_the_main_process_a_terminal_only_when_asked() {
    let (with_tty, without_tty) = (unique("tty"), unique("no-tty"));
    let test = "if [ -t 1 ]; then echo terminal; else echo pipe; fi";
    let project = Project::new(&drakefile(&format!(
        "{}{}",
        terminal_job(&with_tty, test),
        job(&without_tty, &[], test)
    )));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &with_tty, &without_tty]);
    run.assert_code(0);
    // Byte for byte: the terminal's "\r\n" line ends are plain lines in eider's output.
    assert_eq!(
        run.stdout,
        format!("[{with_tty}/main] terminal\n[{without_tty}/main] pipe\n")
    );
    assert_no_leftovers(&run);
}

#[test]
fn the_working_directory_is_the_job_s_or_else_the_image_s() {
    let (set, busybox, entrypoint) = (unique("wd-set"), unique("wd-busybox"), unique("wd-image"));
    let project = Project::new(&drakefile(&format!(
        "  {set}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      workingDirectory: /tmp
      command: [pwd]
  {busybox}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      command: [pwd]
  {entrypoint}:
    primaryContainer:
      name: main
      image: {ENTRYPOINT_IMAGE}
      command: [pwd]
"
    )));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &set, &busybox, &entrypoint]);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        format!("[{set}/main] /tmp\n[{busybox}/main] /\n[{entrypoint}/main] /image-workdir\n")
    );
    assert_no_leftovers(&run);
}

#[test]
fn command_replaces_the_entrypoint_and_args_the_cmd() {
    let names = [
        unique("neither"),
        unique("args-only"),
        unique("command-only"),
        unique("both"),
    ];
    let settings = [
        "",
        "      args: [x, 'y z']\n",
        "      command: [echo, own]\n",
        "      command: [printf, '<%s>\\n']\n      args: [a, 'b c']\n",
    ];
    let mut jobs = String::new();
    for (name, setting) in names.iter().zip(settings) {
        let _ = write!(
            jobs,
            "  {name}:\n    primaryContainer:\n      name: main\n      image: {ENTRYPOINT_IMAGE}\n{setting}"
        );
    }
    let project = Project::new(&drakefile(&jobs));
    let mut arguments = vec!["--timeout", GUARD_TIMEOUT];
    arguments.extend(names.iter().map(String::as_str));
    let run = project.run(&arguments);
    run.assert_code(0);
    let [neither, args_only, command_only, both] = &names;
    assert_eq!(
        run.stdout,
        format!(
            "[{neither}/main] from-entrypoint from-cmd\n\
             [{args_only}/main] from-entrypoint x y z\n\
             [{command_only}/main] own\n\
             [{both}/main] <a>\n\
             [{both}/main] <b c>\n"
        )
    );
    assert_no_leftovers(&run);
}

#[test]
fn a_seed_draft_command_string_is_the_whole_argv_and_the_last_container_is_primary() {
    let name = unique("seed");
    // The sidecar sleeps on: the job ends when the LAST container exits. The image's CMD
    // (`from-cmd`) would show up as one more `<...>` line if it were used.
    let project = Project::new(&format!(
        r#"uri: github.com/lovethedrake/drakespec
version: v0.0.0
jobs:
  {name}:
    containers:
    - name: side
      image: {BUSYBOX}
      command: sleep 1000
    - name: main
      image: {ENTRYPOINT_IMAGE}
      command: "printf '<%s>\\n' a 'b c' ''"
"#
    ));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        format!("[{name}/main] <a>\n[{name}/main] <b c>\n[{name}/main] <>\n")
    );
    assert_no_leftovers(&run);
}

#[test]
fn resources_become_cgroup_limits() {
    let name = unique("resources");
    // cgroup v1 (this project's CI) shows every value as written; cgroup v2 shows the weight
    // converted by the OCI runtime, whose formula changed between releases, so only its side of
    // the default (100, one CPU's worth) is checked there.
    let script = "if [ -e /sys/fs/cgroup/memory.max ]; then
          echo v2
          cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.low /sys/fs/cgroup/cpu.max
          weight=$(cat /sys/fs/cgroup/cpu.weight)
          if [ \"$weight\" -gt 1 ] && [ \"$weight\" -lt 100 ]; then echo weight-below-one-cpu; fi
        else
          echo v1
          cd /sys/fs/cgroup
          cat memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes \
              cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares
        fi";
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      resources:
        cpu: {{requestedMillicores: 500, maxMillicores: 1000}}
        memory: {{requestedMegabytes: 64, maxMegabytes: 128}}
      command: {}
",
        sh(script)
    )));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    let values = run.lines_of(&name, "main");
    let expected = if values.first().map(String::as_str) == Some("v2") {
        lines(&[
            "v2",
            "128000000",
            "64000000",
            "100000 100000",
            "weight-below-one-cpu",
        ])
    } else {
        // Shares: 1024 per CPU; quota: CPU time per 100 ms period; megabytes: 10^6 bytes.
        lines(&["v1", "128000000", "64000000", "100000", "100000", "512"])
    };
    assert_eq!(values, expected);
    assert_no_leftovers(&run);
}

// ---------------------------------------------------------------------------------------------
// Images

#[test]
fn an_absent_image_is_pulled_with_visible_progress() {
    let repository = format!("{}/eider-test/{}", registry(), unique("pull"));
    let image = format!("{repository}:latest");
    docker(&["tag", BUSYBOX, &image]);
    let _local = Removal(vec!["image", "rm"], image.clone());
    docker(&["push", &image]);
    let digests = docker(&[
        "image",
        "inspect",
        "--format",
        "{{range .RepoDigests}}{{println .}}{{end}}",
        &image,
    ]);
    let _remote = RegistryManifest::of(&repository, &digests);
    docker(&["image", "rm", &image]);

    let name = unique("pull");
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    primaryContainer:
      name: main
      image: {image}
      command: [echo, pulled]
"
    )));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    assert_eq!(run.stdout, format!("[{name}/main] pulled\n"));
    let status = status_lines(&run);
    assert_eq!(status[0], format!("Running {name}"));
    assert_eq!(status[1], format!("Pulling {image} (for {name}/main)"));
    assert!(
        status.contains(&format!("Pulled {image} in <time>")),
        "{status:#?}"
    );
    assert!(
        status.len() > 6,
        "no pull steps between Pulling and Pulled: {status:#?}"
    );
    assert_no_leftovers(&run);
}

/// Deletes a pushed manifest from the local registry when dropped (best effort: the registry
/// only grows by a manifest link when it fails).
struct RegistryManifest(Option<String>);

impl RegistryManifest {
    fn of(repository: &str, digests: &[String]) -> Self {
        let registry = registry();
        let path = repository
            .strip_prefix(&format!("{registry}/"))
            .unwrap_or(repository);
        let url = digests
            .iter()
            .find_map(|reference| reference.strip_prefix(&format!("{repository}@")))
            .map(|digest| format!("http://{registry}/v2/{path}/manifests/{digest}"));
        Self(url)
    }
}

impl Drop for RegistryManifest {
    fn drop(&mut self) {
        if let Some(url) = &self.0 {
            let _ignored = Command::new("curl")
                .args(["--noproxy", "*", "-fsS", "-m", "5", "-X", "DELETE", url])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

#[test]
fn pull_policy_always_pulls_a_present_image_and_if_not_present_does_not() {
    let (always, default) = (unique("always"), unique("if-not-present"));
    let image = registry_image();
    let project = Project::new(&drakefile(&format!(
        "  {always}:
    primaryContainer:
      name: main
      image: {image}
      imagePullPolicy: Always
      command: [echo, ran]
  {default}:
    primaryContainer:
      name: main
      image: {image}
      command: [echo, ran]
"
    )));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &always, &default]);
    run.assert_code(0);
    let pulls: Vec<String> = status_lines(&run)
        .into_iter()
        .filter(|line| line.starts_with("Pulling ") || line.starts_with("Pulled "))
        .map(|line| line.replace(&always, "ALWAYS"))
        .collect();
    assert_eq!(
        pulls,
        lines(&[
            &format!("Pulling {image} (for ALWAYS/main)"),
            &format!("Pulled {image} in <time>"),
        ])
    );
    assert_eq!(
        run.stdout,
        format!("[{always}/main] ran\n[{default}/main] ran\n")
    );
    assert_no_leftovers(&run);
}

#[test]
fn a_container_that_cannot_start_fails_the_job_naming_it() {
    let name = unique("cannot-start");
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    sidecarContainers:
    - name: server
      image: {BUSYBOX}
      command: [sleep, '1000']
    - name: broken
      image: {BUSYBOX}
      command: [/does/not/exist]
    primaryContainer:
      name: main
      image: {BUSYBOX}
      command: [echo, should not run]
"
    )));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(1);
    assert_eq!(run.stdout, "");
    let status = status_lines(&run);
    assert_eq!(status.len(), 5, "{status:#?}");
    assert_eq!(
        status[..2],
        [
            format!("Running {name}"),
            format!("Failed {name} in <time>"),
        ]
    );
    assert!(
        status[2].starts_with(&format!(
            "error: job `{name}`: container `broken`: cannot start the container: "
        )),
        "{status:#?}"
    );
    assert!(status[2].contains("/does/not/exist"), "{status:#?}");
    assert_eq!(
        status[3..],
        [
            "Summary 0 of 1 job passed (run <run>)".to_owned(),
            format!("ERROR {name} <time> could not run (see above)"),
        ]
    );
    assert_no_leftovers(&run);
}

/// A sidecar's image cannot be had: the job fails before anything starts, naming the job, the
/// container and the image.
fn assert_image_unavailable(image: &str) {
    let name = unique("no-image");
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    sidecarContainers:
    - name: side
      image: {image}
    primaryContainer:
      name: main
      image: {BUSYBOX}
      command: [echo, should not run]
"
    )));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(1);
    assert_eq!(run.stdout, "");
    // Pull progress lines (`IMAGE: ...`) depend on the engine's version: left out.
    let status: Vec<String> = status_lines(&run)
        .into_iter()
        .filter(|line| !line.starts_with(&format!("{image}:")))
        .collect();
    let error =
        format!("error: job `{name}`: container `side`: image `{image}` is not available: ");
    assert_eq!(status.len(), 7, "{status:#?}");
    assert_eq!(
        status[..3],
        [
            format!("Running {name}"),
            format!("Pulling {image} (for {name}/side)"),
            format!("Failed {name} in <time>"),
        ]
    );
    assert!(status[3].starts_with(&error), "{status:#?}");
    assert!(status[4].starts_with("hint: "), "{status:#?}");
    assert_eq!(
        status[5..],
        [
            "Summary 0 of 1 job passed (run <run>)".to_owned(),
            format!("ERROR {name} <time> could not run (see above)"),
        ]
    );
    assert_no_leftovers(&run);
}

#[test]
fn a_missing_image_fails_the_job_naming_job_container_and_image() {
    assert_image_unavailable(&format!("{}/eider-test/does-not-exist:1", registry()));
}

#[test]
fn an_unreachable_registry_fails_the_job_naming_job_container_and_image() {
    assert_image_unavailable("127.0.0.1:1/x:1");
}

// ---------------------------------------------------------------------------------------------
// Bad input: nothing runs

#[test]
fn an_unknown_job_is_refused_with_the_valid_names_and_nothing_runs() {
    let known = unique("known");
    let project = Project::new(&drakefile(&format!(
        "{}{}{}",
        job("build", &[], "echo build ran"),
        job("test", &[], "echo test ran"),
        job(&known, &[], "echo known ran"),
    )));
    let mut command = project.eider();
    command.args(["run", &known, "tset"]);
    let (run, pid) = run_with_pid(command);
    run.assert_code(2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "error: no job named `tset` in the Drakefile\n\
             hint: did you mean `test`? (jobs: build, {known}, test)\n"
        )
    );
    assert_nothing_labelled_by(pid);
}

#[test]
fn an_invalid_drakefile_runs_nothing() {
    let name = unique("valid-job");
    let project = Project::new(&drakefile(&format!(
        "{}  broken:\n    primaryContainer:\n      name: main\n      image: {BUSYBOX}\n      \
         timeout: 5\n",
        job(&name, &[], "echo ran")
    )));
    let mut command = project.eider();
    command.args(["run", &name]);
    let (run, pid) = run_with_pid(command);
    run.assert_code(2);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("timeout"), "{}", run.stderr);
    assert!(!run.stderr.contains("Running"), "{}", run.stderr);
    assert_nothing_labelled_by(pid);
}

// ---------------------------------------------------------------------------------------------
// Signals and cleanup

/// Starts a long job, waits until its two containers run, sends `signal` to eider, and checks
/// the exit code, the report and that everything is gone.
fn assert_signal_cleans_up(signal: &str, expected_code: i32) {
    let name = unique("signal");
    let project = project_with_job(&name, &[("side", "exec sleep 1000")], "exec sleep 1000");
    let child = project
        .eider()
        // Both `sleep`s are PID 1 and ignore SIGTERM: a short grace period keeps this quick.
        .args(["run", "--grace-period", "1s", &name])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start eider");
    let run_ids = wait_until_running(&name, 2, ENGINE_PATIENCE);
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} failed");
    let run = Run::from(child.wait_with_output().expect("wait for eider"));
    run.assert_code(expected_code);
    assert_eq!(
        status_lines(&run),
        lines(&[
            &format!("Running {name}"),
            "warning: interrupted: stopping containers (interrupt again to kill them)",
            &format!("Interrupted {name}"),
            "Summary 0 of 1 job passed (run <run>)",
            &format!("INTERRUPTED {name} <time>"),
        ])
    );
    assert_eq!(support::run_id(&run), run_ids[0]);
    for id in run_ids {
        assert!(leftovers_of(&id).is_empty(), "run {id} left something");
    }
}

#[test]
fn sigint_stops_the_job_removes_everything_and_exits_130() {
    assert_signal_cleans_up("-INT", 130);
}

#[test]
fn sigterm_stops_the_job_removes_everything_and_exits_143() {
    assert_signal_cleans_up("-TERM", 143);
}

#[test]
fn a_second_interrupt_kills_at_once_and_still_cleans_up() {
    let name = unique("second-signal");
    let project = project_with_job(&name, &[("side", "exec sleep 1000")], "exec sleep 1000");
    // With an hour of grace, only the second interrupt can end this run in time.
    let mut child = project
        .eider()
        .args(["run", "--grace-period", "1h", &name])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start eider");
    let stderr_lines = support::line_channel(child.stderr.take().expect("piped stderr"));
    let run_ids = wait_until_running(&name, 2, ENGINE_PATIENCE);
    let interrupt = || {
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -INT failed");
    };
    interrupt();
    // Signals sent in quick succession may be delivered as one: wait until the first is seen.
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|line: &String| line.contains("interrupt again"))
    {
        match stderr_lines.recv_timeout(ENGINE_PATIENCE) {
            Ok(line) => seen.push(line),
            Err(error) => panic!("the first interrupt was never acknowledged ({error}): {seen:#?}"),
        }
    }
    interrupt();
    let deadline = Instant::now() + ENGINE_PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll eider") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ignored = child.kill();
            panic!("eider still waits for the grace period after a second interrupt");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // The channel closes once eider's stderr has been read to its end.
    seen.extend(stderr_lines.iter());
    assert_eq!(status.code(), Some(130), "{seen:#?}");
    let status_lines: Vec<String> = seen.iter().map(|line| normalize_status(line)).collect();
    assert_eq!(
        status_lines,
        lines(&[
            &format!("Running {name}"),
            "warning: interrupted: stopping containers (interrupt again to kill them)",
            "warning: killing containers, then cleaning up",
            &format!("Interrupted {name}"),
            "Summary 0 of 1 job passed (run <run>)",
            &format!("INTERRUPTED {name} <time>"),
        ])
    );
    for id in run_ids {
        assert!(leftovers_of(&id).is_empty(), "run {id} left something");
    }
}

// ---------------------------------------------------------------------------------------------
// eider clean

#[test]
fn clean_removes_what_a_dead_eider_left_and_nothing_foreign() {
    let run_id = unique("deadrun");
    let run_label = format!("eider.run-id={run_id}");
    // No process has this id: Linux caps pids at 4194304.
    let dead_pid = "eider.pid=4194305";
    let abandoned = docker(&[
        "create", "--label", &run_label, "--label", dead_pid, BUSYBOX,
    ])
    .concat();
    let _abandoned = Removal(vec!["rm", "-f"], abandoned.clone());
    let volume = docker(&[
        "volume", "create", "--label", &run_label, "--label", dead_pid,
    ])
    .concat();
    let _volume = Removal(vec!["volume", "rm", "-f"], volume.clone());
    let foreign = docker(&["create", BUSYBOX]).concat();
    let _foreign = Removal(vec!["rm", "-f"], foreign.clone());

    let project = Project::new(&drakefile(""));
    let mut command = project.eider();
    command.arg("clean");
    let (run, _) = run_with_pid(command);
    run.assert_code(0);
    assert!(run.stderr.starts_with("removed "), "{}", run.stderr);
    assert!(
        leftovers_of(&run_id).is_empty(),
        "the dead eider's container or volume is still there"
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
        "the unlabelled container was removed"
    );
}

#[test]
fn an_engine_that_does_not_answer_is_an_infrastructure_failure_naming_it_with_a_hint() {
    let project = project_with_job("unreachable", &[], "true");
    let directory = tempfile::tempdir().expect("temporary directory");
    for host in [
        format!("unix://{}", directory.path().join("absent.sock").display()),
        // Port 1 on loopback: nothing listens there.
        "tcp://127.0.0.1:1".to_owned(),
    ] {
        let output = project
            .eider()
            .env("DOCKER_HOST", &host)
            .args(["run", "unreachable"])
            .output()
            .expect("run eider");
        let run = support::Run::from(output);
        // An infrastructure failure: nothing is wrong with the job.
        run.assert_code(3);
        assert!(
            run.stderr.starts_with(&format!(
                "error: cannot reach the Docker Engine at {host} (from DOCKER_HOST)\n"
            )),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("hint: start the Docker Engine"),
            "{}",
            run.stderr
        );
        assert_eq!(run.stdout, "");
    }
}
