//! `eider run` and `eider clean` against Podman's Docker-compatible API (podman 4.3, as Debian
//! ships it), which `scripts/test-env.sh` serves on a socket of its own with podman's own
//! storage: a representative part of what `run_jobs.rs` and `run_environment.rs` check against
//! the Docker Engine (a job with sidecars on one localhost, the source modes, timeouts, Ctrl-C,
//! cleanup, output), and each place where Podman differs (`docs/podman.md`).
//!
//! Everything these tests create lives in Podman, and every run is checked to have left nothing
//! there; the Docker Engine is left alone. Without Podman's API they fail, saying how to start
//! it. As in `run_jobs.rs`, names are unique to each test ([`unique`]) and no test asserts a
//! wall-clock time.

mod support;

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{
    BUSYBOX, Engine, Project, Run, busybox_job as job, drakefile, leftovers_of, sh, status_lines,
    terminal_job, unique,
};

/// Turns a hang into a failed run well within the test's patience (see `run_jobs.rs`).
const GUARD_TIMEOUT: &str = "120s";

/// How long a test waits for Podman to reach a state (containers running).
const ENGINE_PATIENCE: Duration = Duration::from_secs(60);

/// A project whose eiders run against Podman, with the Drakefile of `jobs`.
fn podman_project(jobs: &str) -> Project {
    Project::new(&drakefile(jobs)).on(Engine::podman())
}

/// Expected lines, owned, to compare with [`status_lines`].
fn lines(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|line| (*line).to_owned()).collect()
}

/// Asserts that the run left nothing in Podman, and never reached the Docker Engine.
#[track_caller]
fn assert_nothing_left(run: &Run) {
    Engine::Podman.assert_no_leftovers(run);
    let id = support::run_id(run);
    assert_eq!(
        leftovers_of(&id),
        Vec::<String>::new(),
        "run {id} on Podman created something in the Docker Engine"
    );
}

/// A sidecar serving `content` with busybox's httpd on 127.0.0.1:`port`.
fn server(port: u16, content: &str) -> String {
    format!(
        "mkdir /www && echo {content} > /www/index.html && \
         exec httpd -f -p 127.0.0.1:{port} -h /www"
    )
}

/// A primary that fetches 127.0.0.1:`port` until it answers, and prints what it got.
fn client(port: u16) -> String {
    format!(
        "for attempt in $(seq 600); do
           if wget -q -O - http://127.0.0.1:{port}/; then exit 0; fi
           sleep 0.1
         done
         exit 1"
    )
}

// ---------------------------------------------------------------------------------------------
// Sidecars on one localhost, removed in an order Podman takes

#[test]
fn a_job_with_a_sidecar_under_podman_is_cleaned_up_without_a_dependent_containers_error() {
    // Regression: Podman refuses to remove a container whose network namespace another joined
    // ("has dependent containers which must be removed before it"), and eider removed a job's
    // containers all at once: the job passed, and eider exited 1 with a cleanup warning. With
    // two sidecars, the second joins the first and the primary the second: a chain.
    let name = unique("podman-sidecar");
    let project = podman_project(&job(
        &name,
        &[
            ("server", &server(8080, "served")),
            ("idle", "exec sleep 1000"),
        ],
        &client(8080),
    ));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    assert_eq!(run.lines_of(&name, "main"), ["served"]);
    assert_eq!(
        status_lines(&run),
        lines(&[
            &format!("Running {name}"),
            &format!("Passed {name} in <time>"),
            "Summary 1 of 1 job passed (run <run>)",
            &format!("PASS {name} <time>"),
        ])
    );
    assert_nothing_left(&run);
}

#[test]
fn sidecars_that_exit_before_the_next_container_attaches_under_podman_do_not_fail_the_job() {
    // Regression: Podman prepares a container's process when a client attaches to it, before
    // the start, and refuses then when the namespace it joins belongs to a container that has
    // exited; eider launched again into another namespace only when the start failed.
    let name = unique("podman-early-exit");
    let project = podman_project(&job(
        &name,
        &[
            ("once", "echo once; exit 7"),
            ("server", &server(8084, "served")),
            ("twice", "true"),
        ],
        &client(8084),
    ));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(0);
    assert_eq!(run.lines_of(&name, "main"), ["served"]);
    assert_eq!(run.lines_of(&name, "once"), ["once"]);
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
    assert_nothing_left(&run);
}

#[test]
fn a_container_that_cannot_start_under_podman_fails_the_job_naming_it_as_on_docker() {
    // Podman runs `runc create` when eider attaches, so a missing program fails the attach;
    // it is still the container that cannot start, and said so.
    let name = unique("podman-cannot-start");
    let project = podman_project(&format!(
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
    ));
    let run = project.run(&["--timeout", GUARD_TIMEOUT, &name]);
    run.assert_code(1);
    assert_eq!(run.stdout, "");
    let status = status_lines(&run);
    assert_eq!(status.len(), 5, "{status:#?}");
    assert!(
        status[2].starts_with(&format!(
            "error: job `{name}`: container `broken`: cannot start the container: "
        )),
        "{status:#?}"
    );
    assert!(status[2].contains("/does/not/exist"), "{status:#?}");
    assert_eq!(
        status[4],
        format!("ERROR {name} <time> could not run (see above)")
    );
    assert_nothing_left(&run);
}

// ---------------------------------------------------------------------------------------------
// The source

#[test]
fn source_modes_under_podman_give_a_read_only_tree_a_writable_tree_or_a_filled_copy() {
    // Regression: Podman extracts an archive into a volume only when the upload's path is where
    // the volume is mounted (the rest stays in the helper's own file system, gone with it), and
    // its `copyUIDGID` gives every file to the container's user: each job's copy was empty.
    let project = podman_project(&format!(
        "  readonly:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /src
      command: {}
  readwrite:
    sourceMountMode: RW
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /src
      command: {}
  copied:
    sourceMountMode: COPY
    sidecarContainers:
    - name: side
      image: {BUSYBOX}
      sourceMountPath: /work
      command: {}
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /work
      workingDirectory: /work
      command: {}
",
        sh(
            "cat /src/marker.txt; touch /src/ro-write.txt 2>/dev/null && echo write-succeeded \
            || echo write-refused"
        ),
        sh("echo from-container > /src/rw-written.txt"),
        sh("echo from-side > /work/from-side.txt && exec sleep 1000"),
        sh("cat marker.txt
            readlink up
            [ -x tool.sh ] && echo tool-executable
            stat -c %u:%g owned.txt
            echo changed > marker.txt && cat marker.txt
            for attempt in $(seq 600); do [ -e from-side.txt ] && break; sleep 0.1; done
            cat from-side.txt"),
    ));
    project.write("marker.txt", "marker-content\n");
    let tool = project.write("tool.sh", "#!/bin/sh\n");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755))
        .expect("make tool.sh executable");
    std::os::unix::fs::symlink("..", project.path().join("up")).expect("link to the parent");
    // A file of another user: the copy keeps its owner, as on the Docker Engine.
    let owned = project.write("owned.txt", "owned\n");
    std::os::unix::fs::chown(&owned, Some(4321), Some(4322)).expect("chown owned.txt");

    let run = project.run(&[
        "--timeout",
        GUARD_TIMEOUT,
        "readonly",
        "readwrite",
        "copied",
    ]);
    run.assert_code(0);
    assert_eq!(
        run.lines_of("readonly", "main"),
        ["marker-content", "write-refused"]
    );
    assert!(!project.path().join("ro-write.txt").exists());
    assert_eq!(
        std::fs::read_to_string(project.path().join("rw-written.txt")).expect("written by RW"),
        "from-container\n"
    );
    assert_eq!(
        run.lines_of("copied", "main"),
        [
            "marker-content",
            "..",
            "tool-executable",
            "4321:4322",
            "changed",
            "from-side"
        ]
    );
    assert!(!project.path().join("from-side.txt").exists());
    assert_eq!(
        std::fs::read_to_string(project.path().join("marker.txt")).expect("marker"),
        "marker-content\n"
    );
    assert_eq!(
        std::fs::metadata(&owned).expect("owned.txt").uid(),
        4321,
        "the project's file changed owner"
    );
    assert_nothing_left(&run);
}

// ---------------------------------------------------------------------------------------------
// Output and shared storage

#[test]
fn output_under_podman_is_attributed_kept_on_its_stream_and_ends_with_its_last_line() {
    let (name, terminal) = (unique("podman-output"), unique("podman-output-tty"));
    // The primary waits for the sidecar's file in shared storage, so the sidecar has written
    // both its lines before the job can end; it leaves a file there to keep.
    let project = podman_project(&format!(
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
{}",
        sh("echo side out; echo side err >&2; touch /shared/ready; exec sleep 1000"),
        sh("until [ -e /shared/ready ]; do sleep 0.05; done
            echo kept > /shared/artifact.txt
            echo main out; echo main err >&2; printf 'a\\nlast'"),
        terminal_job(&terminal, "[ -t 1 ] && echo terminal; printf 'a\\nlast'"),
    ));
    let kept = tempfile::tempdir().expect("a directory for the kept storage");
    let destination = kept.path().join("shared");
    let run = project.run(&[
        "--timeout",
        GUARD_TIMEOUT,
        "--keep-shared",
        &destination.display().to_string(),
        &name,
        &terminal,
    ]);
    run.assert_code(0);
    assert_eq!(run.lines_of(&name, "main"), ["main out", "a", "last"]);
    assert_eq!(run.lines_of(&name, "side"), ["side out"]);
    assert_eq!(run.error_lines_of(&name, "main"), ["main err"]);
    assert_eq!(run.error_lines_of(&name, "side"), ["side err"]);
    assert_eq!(run.lines_of(&terminal, "main"), ["terminal", "a", "last"]);
    assert_eq!(
        std::fs::read_to_string(destination.join("artifact.txt")).expect("kept artifact"),
        "kept\n"
    );
    assert_nothing_left(&run);
}

// ---------------------------------------------------------------------------------------------
// Timeouts, Ctrl-C, cleanup

#[test]
fn a_job_that_outlives_its_timeout_under_podman_fails_and_everything_is_removed() {
    let name = unique("podman-timeout");
    let project = podman_project(&job(
        &name,
        &[("forever", "exec sleep 1000")],
        "echo started; exec sleep 60",
    ));
    // Longer than `run_jobs.rs`'s 2 s: Podman takes its time to launch when other tests keep it
    // busy, and the primary must have started before the job times out.
    let run = project.run(&["--timeout", "10s", &name]);
    run.assert_code(1);
    assert_eq!(
        status_lines(&run),
        lines(&[
            &format!("Running {name}"),
            &format!("Timed out {name}: timed out after 10s"),
            "Summary 0 of 1 job passed (run <run>)",
            &format!("TIMEOUT {name} <time> timed out after 10s"),
        ])
    );
    assert_eq!(run.stdout, format!("[{name}/main] started\n"));
    assert_nothing_left(&run);
}

#[test]
fn sigint_under_podman_stops_the_job_removes_everything_and_exits_130() {
    let name = unique("podman-signal");
    let project = podman_project(&job(
        &name,
        &[("side", "exec sleep 1000")],
        "exec sleep 1000",
    ));
    let child = project
        .eider()
        // Both `sleep`s are PID 1 and ignore SIGTERM: a short grace period keeps this quick.
        .args(["run", "--grace-period", "1s", &name])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start eider");
    let run_ids = Engine::Podman.wait_until_running(&name, 2, ENGINE_PATIENCE);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT failed");
    let run = support::wait_with_patience(child, ENGINE_PATIENCE);
    run.assert_code(130);
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
    assert_nothing_left(&run);
}

/// Containers made with the podman CLI, removed (last first) when dropped, so that a failing
/// test cleans up too.
struct PodmanContainers(Vec<String>);

impl Drop for PodmanContainers {
    fn drop(&mut self) {
        for id in self.0.iter().rev() {
            let _ignored = Engine::Podman
                .cli()
                .args(["rm", "--force", id])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

#[test]
fn eider_clean_under_podman_removes_a_dead_eider_s_containers_that_joined_each_other() {
    // Regression: a sweep removed containers in the order the engine listed them, and Podman
    // lists by id, not by creation: a container whose namespace another joined came first, and
    // Podman refused it. Five containers, each joining the one before: any order but the right
    // one fails.
    Engine::podman();
    let run_id = unique("podman-deadrun");
    let run_label = format!("eider.run-id={run_id}");
    // No process has this id: Linux caps pids at 4194304.
    let dead_pid = "eider.pid=4194305";
    let mut chain = PodmanContainers(Vec::new());
    for _ in 0..5 {
        let network = chain
            .0
            .last()
            .map_or_else(|| "none".to_owned(), |owner| format!("container:{owner}"));
        let created = Engine::Podman.run(&[
            "create",
            "--label",
            &run_label,
            "--label",
            dead_pid,
            "--network",
            &network,
            support::podman::IMAGE,
            "true",
        ]);
        chain.0.push(created.concat());
    }
    let volume = Engine::Podman.run(&[
        "volume", "create", "--label", &run_label, "--label", dead_pid,
    ]);
    let foreign = PodmanContainers(Engine::Podman.run(&[
        "create",
        "--network",
        "none",
        support::podman::IMAGE,
        "true",
    ]));

    let project = podman_project("");
    let run = project.command(&["clean"]);
    run.assert_code(0);
    assert!(run.stderr.starts_with("removed "), "{}", run.stderr);
    assert_eq!(
        Engine::Podman.leftovers_of(&run_id),
        Vec::<String>::new(),
        "the dead eider's containers or volume ({volume:?}) are still there"
    );
    assert_eq!(
        Engine::Podman.run(&[
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            &format!("id={}", foreign.0[0])
        ]),
        foreign.0,
        "the unlabelled container was removed"
    );
}
