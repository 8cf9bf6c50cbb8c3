//! Pipelines against the real Docker Engine prepared by `scripts/test-env.sh`: `eider run -p`
//! (a DAG under a concurrency cap, fail-fast and `--keep-going`, shared storage, interrupts,
//! reports, `--dry-run`), `eider run --event` and `eider list -p --event` (selection by
//! triggers), and `eider graph`.
//!
//! Tests run in parallel, also with other test processes on the same engine: every job and
//! pipeline a test runs has a name unique to it ([`unique`]), and every run is checked to have
//! left nothing labelled behind. No test asserts a wall-clock time: where a run must end
//! promptly, a generous `--timeout` (or a deadline on the process) turns a hang into a failure
//! that says so. Order is observed through what the jobs themselves record in shared storage.

mod support;

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::{
    BUSYBOX, Project, Run, assert_no_leftovers_of_every_run, drakefile, events::ContainerEvents,
    git, run_ids, sh, status_lines, unique, wait_until_running, wait_with_patience,
};

/// Turns a hang into a failed job well within the test's patience, without bounding how long a
/// healthy job may take on a slow machine.
const GUARD_TIMEOUT: &str = "120s";

/// How long a test waits for the engine to reach a state, or for an eider it started to exit.
const PATIENCE: Duration = Duration::from_secs(120);

/// The trigger spec every trigger below uses, at its supported version unless said otherwise.
const GITHUB: &str = "github.com/lovethedrake/drakespec-github";

/// A job whose primary container `main` runs `script` in busybox, with the run's shared storage
/// at `/shared`.
fn job(name: &str, script: &str) -> String {
    format!(
        "  {name}:\n    primaryContainer:\n      name: main\n      image: {BUSYBOX}\n      \
         sharedStorageMountPath: /shared\n      command: {}\n",
        sh(script)
    )
}

/// The `jobs:` list of a pipeline: each `(job, dependencies)` in order, every name written
/// `PREFIX-job`.
fn pipeline_jobs(prefix: &str, jobs: &[(&str, &[&str])]) -> String {
    let mut yaml = "    jobs:\n".to_owned();
    for (job, dependencies) in jobs {
        let _ = writeln!(yaml, "    - name: {prefix}-{job}");
        if !dependencies.is_empty() {
            let names: Vec<String> = dependencies
                .iter()
                .map(|dependency| format!("{prefix}-{dependency}"))
                .collect();
            let _ = writeln!(yaml, "      dependencies: [{}]", names.join(", "));
        }
    }
    yaml
}

/// A pipeline named `prefix` without triggers (see [`pipeline_jobs`]).
fn pipeline(prefix: &str, jobs: &[(&str, &[&str])]) -> String {
    format!("  {prefix}:\n{}", pipeline_jobs(prefix, jobs))
}

/// A project with these jobs and pipelines.
fn project(jobs: &[String], pipelines: &[String]) -> Project {
    Project::new(&format!(
        "{}pipelines:\n{}",
        drakefile(&jobs.concat()),
        pipelines.concat()
    ))
}

/// The index of the only status line equal to `line`.
#[track_caller]
fn position(lines: &[String], line: &str) -> usize {
    let found: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, candidate)| *candidate == line)
        .map(|(index, _)| index)
        .collect();
    assert_eq!(found.len(), 1, "expected `{line}` once in {lines:#?}");
    found[0]
}

/// The summary of pipeline `pipeline`: its first line, whose timing varies, checked by its start
/// and end, then the rows of its jobs, returned as they are.
#[track_caller]
fn summary_rows(lines: &[String], pipeline: &str, tail: &str) -> Vec<String> {
    let start = format!("Summary pipeline {pipeline} in <time>, critical path <time> (");
    let found: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.starts_with(&start))
        .map(|(index, _)| index)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one summary of {pipeline} in {lines:#?}"
    );
    let summary = &lines[found[0]];
    assert!(
        summary.ends_with(&format!("); {tail} (run <run>)")),
        "summary `{summary}` does not end with `{tail}`"
    );
    lines[found[0] + 1..]
        .iter()
        .take_while(|line| !line.starts_with("Summary "))
        .cloned()
        .collect()
}

/// Expected lines, owned.
fn owned(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|line| (*line).to_owned()).collect()
}

// ---------------------------------------------------------------------------------------------
// Scheduling

#[test]
fn jobs_start_after_their_dependencies_and_never_more_than_the_cap_run_at_once() {
    let prefix = unique("order");
    // A diamond, an independent pair, a lone job, and a last job that prints the log.
    let graph: &[(&str, &[&str])] = &[
        ("a", &[]),
        ("b", &["a"]),
        ("c", &["a"]),
        ("d", &["b", "c"]),
        ("e", &[]),
        ("f", &[]),
        ("g", &["e"]),
        ("show", &["d", "f", "g"]),
    ];
    let logged = &graph[..graph.len() - 1];
    let mut jobs: Vec<String> = logged
        .iter()
        .map(|(short, _)| {
            // Appends are atomic, so the log's order is the order of the events.
            job(
                &format!("{prefix}-{short}"),
                &format!(
                    "echo start {short} >> /shared/log\nsleep 0.3\necho end {short} >> /shared/log"
                ),
            )
        })
        .collect();
    jobs.push(job(&format!("{prefix}-show"), "cat /shared/log"));
    let project = project(&jobs, &[pipeline(&prefix, graph)]);

    let run = project.run(&["-p", &prefix, "-c", "2", "--timeout", GUARD_TIMEOUT]);
    run.assert_code(0);
    assert_no_leftovers_of_every_run(&run);
    let log = run.lines_of(&format!("{prefix}-show"), "main");
    let events: Vec<(&str, &str)> = log
        .iter()
        .map(|line| line.split_once(' ').expect("`start NAME` or `end NAME`"))
        .collect();
    assert_eq!(events.len(), 2 * logged.len(), "{log:#?}");
    let at = |kind: &str, name: &str| {
        let found: Vec<usize> = (0..events.len())
            .filter(|&index| events[index] == (kind, name))
            .collect();
        assert_eq!(found.len(), 1, "`{kind} {name}` once in {log:#?}");
        found[0]
    };
    for (name, dependencies) in logged {
        let start = at("start", name);
        assert!(start < at("end", name), "{name} ended before it started");
        for dependency in *dependencies {
            assert!(
                at("end", dependency) < start,
                "{name} started before its dependency {dependency} ended: {log:#?}"
            );
        }
    }
    let mut running = 0_usize;
    let mut most = 0;
    for (kind, _) in &events {
        if *kind == "start" {
            running += 1;
            most = most.max(running);
        } else {
            running -= 1;
        }
    }
    assert_eq!(most, 2, "at most 2 and at some point 2 at once: {log:#?}");

    let status = status_lines(&run);
    for (short, _) in graph {
        for verb in ["Queued", "Running"] {
            position(&status, &format!("{verb} {prefix}-{short}"));
        }
        assert!(
            status
                .iter()
                .any(|line| line == &format!("Passed {prefix}-{short} in <time>")),
            "{status:#?}"
        );
    }
    let rows = summary_rows(&status, &prefix, "8 of 8 jobs passed");
    let expected: Vec<String> = graph
        .iter()
        .map(|(short, _)| format!("PASS {prefix}-{short} <time>"))
        .collect();
    assert_eq!(rows, expected);
}

/// How long the engine took to launch each container of run `run_id`: from its `create` event
/// to its `start` event, in nanoseconds since the epoch, in the order of the creates, and when
/// the first of them died.
fn launch_windows(recorder: &ContainerEvents, run_id: &str) -> (Vec<(u128, u128)>, u128) {
    let events = recorder.labelled("eider.run-id", run_id);
    let mut windows: Vec<(String, u128, Option<u128>)> = Vec::new();
    let mut first_death = u128::MAX;
    for event in &events {
        let at = event.time_nano;
        match event.action.as_str() {
            "create" => windows.push((event.id.clone(), at, None)),
            "start" => {
                if let Some(window) = windows.iter_mut().find(|window| window.0 == event.id) {
                    window.2 = Some(at);
                }
            }
            "die" => first_death = first_death.min(at),
            _ => {}
        }
    }
    let windows = windows
        .into_iter()
        .map(|(id, created, started)| {
            (
                created,
                started.unwrap_or_else(|| panic!("{id} never started: {events:#?}")),
            )
        })
        .collect();
    (windows, first_death)
}

/// Jobs that run longer than their launch take turns launching once one of them has finished:
/// two lanes of one-second jobs at `-c 2`. The first pair launches at once (nothing is known
/// yet); after that, no container is created while another one is being started, so each launch
/// has the engine to itself (one launch at a time per two cores: the lanes are as many).
#[test]
fn jobs_that_run_longer_than_a_launch_take_turns_launching() {
    let prefix = unique("turns");
    let turns = std::thread::available_parallelism().map_or(1, |cores| (cores.get() / 2).max(1));
    let lanes = 2 * turns;
    let mut jobs = Vec::new();
    let mut graph: Vec<(String, Vec<String>)> = Vec::new();
    for lane in 0..lanes {
        for step in 0..3 {
            let name = format!("l{lane}-{step}");
            jobs.push(job(&format!("{prefix}-{name}"), "sleep 1"));
            let dependencies = if step == 0 {
                Vec::new()
            } else {
                vec![format!("l{lane}-{}", step - 1)]
            };
            graph.push((name, dependencies));
        }
    }
    let dependencies: Vec<Vec<&str>> = graph
        .iter()
        .map(|(_, dependencies)| dependencies.iter().map(String::as_str).collect())
        .collect();
    let graph: Vec<(&str, &[&str])> = graph
        .iter()
        .zip(&dependencies)
        .map(|((name, _), dependencies)| (name.as_str(), dependencies.as_slice()))
        .collect();
    let project = project(&jobs, &[pipeline(&prefix, &graph)]);

    let recorder = ContainerEvents::record();
    let concurrency = lanes.to_string();
    let run = project.run(&[
        "-p",
        &prefix,
        "-c",
        &concurrency,
        "--timeout",
        GUARD_TIMEOUT,
    ]);
    run.assert_code(0);
    let ids = assert_no_leftovers_of_every_run(&run);
    let (windows, first_death) = launch_windows(&recorder, &ids[0]);
    assert_eq!(windows.len(), 3 * lanes, "{windows:?}");
    let paced: Vec<&(u128, u128)> = windows
        .iter()
        .filter(|(created, _)| *created > first_death)
        .collect();
    assert_eq!(paced.len(), 2 * lanes, "{windows:?}");
    for (index, (created, started)) in paced.iter().enumerate() {
        let overlapping = paced
            .iter()
            .filter(|(other_created, other_started)| {
                other_created < started && created < other_started
            })
            .count();
        assert!(
            overlapping <= turns,
            "launch {index} overlaps {} others: {paced:?}",
            overlapping - 1
        );
    }
}

/// A→{B, C}, B→D, A→E in pipeline `PREFIX`: B fails at once with code 3, C takes a second, the
/// others print their names.
fn failing_diamond() -> (Project, String) {
    let prefix = unique("diamond");
    let jobs = [
        job(&format!("{prefix}-a"), "echo a"),
        job(&format!("{prefix}-b"), "echo b\nexit 3"),
        job(&format!("{prefix}-c"), "sleep 1\necho c"),
        job(&format!("{prefix}-d"), "echo d"),
        job(&format!("{prefix}-e"), "echo e"),
    ];
    // After A, B (on the longest remaining path) and C (before E in pipeline order) take the
    // two slots; E waits.
    let graph: &[(&str, &[&str])] = &[
        ("a", &[]),
        ("b", &["a"]),
        ("c", &["a"]),
        ("d", &["b"]),
        ("e", &["a"]),
    ];
    (project(&jobs, &[pipeline(&prefix, graph)]), prefix)
}

#[test]
fn a_failure_cancels_every_pending_job_and_lets_running_ones_finish() {
    let (project, prefix) = failing_diamond();
    let recorder = ContainerEvents::record();
    let run = project.run(&["-p", &prefix, "-c", "2", "--timeout", GUARD_TIMEOUT]);
    run.assert_code(1);
    assert_no_leftovers_of_every_run(&run);

    let status = status_lines(&run);
    position(
        &status,
        &format!("Failed {prefix}-b in <time>: container `main` exited with code 3"),
    );
    let passed_c = position(&status, &format!("Passed {prefix}-c in <time>"));
    // D depends on B, E does not: both are cancelled at once, before C finishes.
    for short in ["d", "e"] {
        assert!(position(&status, &format!("Cancelled {prefix}-{short}")) < passed_c);
        assert!(
            !status.contains(&format!("Running {prefix}-{short}")),
            "{status:#?}"
        );
        assert!(
            run.lines_of(&format!("{prefix}-{short}"), "main")
                .is_empty()
        );
        let events = recorder.of_job(&format!("{prefix}-{short}"));
        assert!(events.is_empty(), "{short} had containers: {events:?}");
    }
    assert_eq!(run.lines_of(&format!("{prefix}-c"), "main"), ["c"]);
    // The check above sees containers that did exist.
    let events = recorder.of_job(&format!("{prefix}-c"));
    assert!(
        events.iter().any(|event| event.starts_with("create ")),
        "{events:?}"
    );
    assert_eq!(
        summary_rows(&status, &prefix, "2 of 5 jobs passed"),
        owned(&[
            &format!("PASS {prefix}-a <time>"),
            &format!("FAIL {prefix}-b <time> exit code 3 in `main`"),
            &format!("PASS {prefix}-c <time>"),
            &format!("CANCELLED {prefix}-d not run"),
            &format!("CANCELLED {prefix}-e not run"),
        ])
    );
}

#[test]
fn a_failure_cancels_a_pending_job_that_does_not_depend_on_it() {
    let prefix = unique("unrelated");
    let project = project(
        &[
            job(&format!("{prefix}-x"), "exit 1"),
            job(&format!("{prefix}-y"), "echo y"),
        ],
        &[pipeline(&prefix, &[("x", &[]), ("y", &[])])],
    );
    let recorder = ContainerEvents::record();
    // One slot: X (first in pipeline order) runs, Y waits.
    let run = project.run(&["-p", &prefix, "-c", "1", "--timeout", GUARD_TIMEOUT]);
    run.assert_code(1);
    assert_no_leftovers_of_every_run(&run);
    let status = status_lines(&run);
    assert_eq!(
        status,
        owned(&[
            &format!("Queued {prefix}-x"),
            &format!("Queued {prefix}-y"),
            &format!("Running {prefix}-x"),
            &format!("Failed {prefix}-x in <time>: container `main` exited with code 1"),
            &format!("Cancelled {prefix}-y"),
            &format!(
                "Summary pipeline {prefix} in <time>, critical path <time> ({prefix}-x); 0 of 2 jobs passed \
                 (run <run>)"
            ),
            &format!("FAIL {prefix}-x <time> exit code 1 in `main`"),
            &format!("CANCELLED {prefix}-y not run"),
        ])
    );
    assert!(recorder.of_job(&format!("{prefix}-y")).is_empty());
}

#[test]
fn keep_going_runs_what_does_not_depend_on_the_failure_and_skips_the_rest() {
    let (project, prefix) = failing_diamond();
    let recorder = ContainerEvents::record();
    let run = project.run(&[
        "-p",
        &prefix,
        "-c",
        "2",
        "--keep-going",
        "--timeout",
        GUARD_TIMEOUT,
    ]);
    run.assert_code(1);
    assert_no_leftovers_of_every_run(&run);

    let status = status_lines(&run);
    position(
        &status,
        &format!("Skipped {prefix}-d: a job it depends on did not succeed"),
    );
    for short in ["a", "c", "e"] {
        position(&status, &format!("Passed {prefix}-{short} in <time>"));
        assert_eq!(run.lines_of(&format!("{prefix}-{short}"), "main"), [short]);
    }
    assert!(run.lines_of(&format!("{prefix}-d"), "main").is_empty());
    assert!(recorder.of_job(&format!("{prefix}-d")).is_empty());
    assert!(!status.iter().any(|line| line.starts_with("Cancelled")));
    assert_eq!(
        summary_rows(&status, &prefix, "3 of 5 jobs passed"),
        owned(&[
            &format!("PASS {prefix}-a <time>"),
            &format!("FAIL {prefix}-b <time> exit code 3 in `main`"),
            &format!("PASS {prefix}-c <time>"),
            &format!("SKIP {prefix}-d not run"),
            &format!("PASS {prefix}-e <time>"),
        ])
    );
}

#[test]
fn two_runs_of_one_pipeline_at_the_same_time_never_see_each_other_s_shared_storage() {
    let prefix = unique("isolation");
    let writer = format!("{prefix}-writer");
    // The writer holds its run open until the test has seen both writers running, so the two
    // runs certainly overlap.
    let jobs = [
        format!(
            "  {writer}:\n    primaryContainer:\n      name: main\n      image: {BUSYBOX}\n      \
             sharedStorageMountPath: /shared\n      sourceMountPath: /src\n      command: {}\n",
            sh("echo \"$MARK\" > \"/shared/mark-$MARK\"\n\
                until [ -e /src/go ]; do sleep 0.1; done")
        ),
        job(
            &format!("{prefix}-checker"),
            "ls /shared\n[ \"$(ls /shared)\" = \"mark-$MARK\" ]",
        ),
    ];
    let project = project(
        &jobs,
        &[pipeline(
            &prefix,
            &[("writer", &[]), ("checker", &["writer"])],
        )],
    );
    let start = |mark: &str| {
        project.spawn(&[
            "run",
            "-p",
            &prefix,
            "-e",
            &format!("MARK={mark}"),
            "--timeout",
            GUARD_TIMEOUT,
        ])
    };
    let children = [("one", start("one")), ("two", start("two"))];
    let running = wait_until_running(&writer, 2, PATIENCE);
    assert_ne!(running[0], running[1], "two runs, two ids");
    project.write("go", "");

    let mut ids = Vec::new();
    for (mark, child) in children {
        let run = wait_with_patience(child, PATIENCE);
        run.assert_code(0);
        assert_eq!(
            run.lines_of(&format!("{prefix}-checker"), "main"),
            [format!("mark-{mark}")]
        );
        ids.extend(assert_no_leftovers_of_every_run(&run));
    }
    ids.sort();
    let mut expected = running;
    expected.sort();
    assert_eq!(ids, expected);
}

// ---------------------------------------------------------------------------------------------
// Triggers

/// A trigger of the GitHub spec at `version` with `config` (YAML lines at the config's depth).
fn trigger(version: &str, config: &str) -> String {
    format!("    - specUri: {GITHUB}\n      specVersion: {version}\n      config:\n{config}")
}

/// Five pipelines `PREFIX-NAME`, each of one job `PREFIX-NAME` that prints `NAME`, in this
/// order (not alphabetical): `zeta` (pushes to `main`), `develop` (pushes to `develop`, pull
/// requests to `main`), `alpha` (an unsupported trigger version, then pushes to `/^ma/` but not
/// `master`), `tags` (tags `/^v[0-9]+/` but not `/-rc/`), `manual` (no trigger).
fn trigger_project() -> (Project, String) {
    let prefix = unique("trig");
    let names = ["zeta", "develop", "alpha", "tags", "manual"];
    let jobs: Vec<String> = names
        .iter()
        .map(|name| job(&format!("{prefix}-{name}"), &format!("echo {name}")))
        .collect();
    let triggers = [
        trigger(
            "v1.0.0",
            "        push:\n          branches:\n            only: [main]\n",
        ),
        trigger(
            "v1.0.0",
            "        push:\n          branches:\n            only: [develop]\n        \
             pullRequest:\n          targetBranches:\n            only: [main]\n",
        ),
        trigger("v9.9.9", "        push: {branches: {}}\n")
            + &trigger(
                "v1.0.0",
                "        push:\n          branches:\n            only: ['/^ma/']\n            \
                 ignore: [master]\n",
            ),
        trigger(
            "v1.0.0",
            "        push:\n          tags:\n            only: ['/^v[0-9]+/']\n            \
             ignore: ['/-rc/']\n",
        ),
        String::new(),
    ];
    let pipelines: Vec<String> = names
        .iter()
        .zip(&triggers)
        .map(|(name, triggers)| {
            let mut yaml = format!("  {prefix}-{name}:\n");
            if !triggers.is_empty() {
                let _ = write!(yaml, "    triggers:\n{triggers}");
            }
            let _ = write!(yaml, "    jobs:\n    - name: {prefix}-{name}\n");
            yaml
        })
        .collect();
    (project(&jobs, &pipelines), prefix)
}

/// The note about `PREFIX-alpha`'s first trigger, which every selection prints.
fn version_note(prefix: &str) -> String {
    format!(
        "pipelines.{prefix}-alpha.triggers[0]: skipped: version `v9.9.9` of trigger spec `{GITHUB}` \
         is not supported (eider supports v1.0.0)"
    )
}

#[test]
fn list_shows_the_pipelines_an_event_selects_in_drakefile_order() {
    let (project, prefix) = trigger_project();
    let list = |arguments: &[&str]| {
        let mut all = vec!["list", "-p"];
        all.extend_from_slice(arguments);
        let run = project.command(&all);
        run.assert_code(0);
        assert_eq!(
            run.stderr,
            format!("{}\n", version_note(&prefix)),
            "{arguments:?}"
        );
        run.stdout
    };
    let names = |names: &[&str]| {
        names.iter().fold(String::new(), |mut text, name| {
            let _ = writeln!(text, "{prefix}-{name}");
            text
        })
    };
    assert_eq!(
        list(&["--event", "push", "--branch", "main"]),
        names(&["zeta", "alpha"])
    );
    assert_eq!(list(&["--event", "push", "--branch", "master"]), "");
    assert_eq!(
        list(&["--event", "push", "--branch", "develop"]),
        names(&["develop"])
    );
    assert_eq!(
        list(&["--event", "push", "--tag", "v1.2.3"]),
        names(&["tags"])
    );
    assert_eq!(list(&["--event", "push", "--tag", "v1.2.3-rc1"]), "");
    assert_eq!(list(&["--event", "push", "--tag", "release-1"]), "");
    assert_eq!(
        list(&["--event", "pull-request", "--branch", "main"]),
        names(&["develop"])
    );
    // Without an event: every pipeline, sorted.
    assert_eq!(
        project.command(&["list", "-p"]).stdout,
        names(&["alpha", "develop", "manual", "tags", "zeta"])
    );

    // The default event is the git state of the Drakefile's directory.
    let outside = project.command(&["list", "-p", "--event", "push"]);
    outside.assert_code(2);
    assert!(
        outside
            .stderr
            .contains("error: cannot tell the event from git: "),
        "{}",
        outside.stderr
    );
    let directory = project.path();
    git(directory, &["init", "-q"]);
    git(directory, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    git(
        directory,
        &["config", "user.email", "tests@example.invalid"],
    );
    git(directory, &["config", "user.name", "Tests"]);
    git(directory, &["config", "commit.gpgsign", "false"]);
    git(directory, &["config", "tag.gpgsign", "false"]);
    git(directory, &["add", "Drakefile.yaml"]);
    git(directory, &["commit", "-q", "-m", "pipelines"]);
    assert_eq!(list(&["--event", "push"]), names(&["zeta", "alpha"]));
    assert_eq!(list(&["--event", "pull-request"]), names(&["develop"]));
    git(directory, &["tag", "v1.2.3"]);
    git(directory, &["checkout", "-q", "--detach"]);
    assert_eq!(list(&["--event", "push"]), names(&["tags"]));
}

#[test]
fn run_event_runs_exactly_the_selected_pipelines_each_in_a_run_of_its_own() {
    let (project, prefix) = trigger_project();
    let dry = project.run(&["--event", "push", "--branch", "main", "--dry-run"]);
    dry.assert_code(0);
    assert_eq!(
        dry.stdout,
        format!(
            "pipeline {prefix}-zeta: 1 job in 1 stage\n  stage 1: {prefix}-zeta\n\
             pipeline {prefix}-alpha: 1 job in 1 stage\n  stage 1: {prefix}-alpha\n"
        )
    );

    let run = project.run(&[
        "--event",
        "push",
        "--branch",
        "main",
        "--timeout",
        GUARD_TIMEOUT,
    ]);
    run.assert_code(0);
    let ids = assert_no_leftovers_of_every_run(&run);
    assert_eq!(ids.len(), 2, "{}", run.stderr);
    assert_ne!(ids[0], ids[1]);
    let status = status_lines(&run);
    assert_eq!(status[0], format!("warning: {}", version_note(&prefix)));
    for name in ["zeta", "alpha"] {
        assert_eq!(
            summary_rows(&status, &format!("{prefix}-{name}"), "1 of 1 job passed"),
            [format!("PASS {prefix}-{name} <time>")]
        );
        assert_eq!(run.lines_of(&format!("{prefix}-{name}"), "main"), [name]);
    }
    let summaries = status
        .iter()
        .filter(|line| line.starts_with("Summary "))
        .count();
    assert_eq!(summaries, 2, "{status:#?}");
    for name in ["develop", "tags", "manual"] {
        assert!(
            run.lines_of(&format!("{prefix}-{name}"), "main").is_empty(),
            "{name} ran"
        );
    }

    let tag = project.run(&[
        "--event",
        "push",
        "--tag",
        "v1.2.3",
        "--timeout",
        GUARD_TIMEOUT,
    ]);
    tag.assert_code(0);
    assert_eq!(assert_no_leftovers_of_every_run(&tag).len(), 1);
    assert_eq!(
        tag.stdout,
        format!("[{prefix}-tags/main] tags\n"),
        "only the tag pipeline runs"
    );

    let nothing = project.run(&["--event", "push", "--tag", "release-1"]);
    nothing.assert_code(0);
    assert_eq!(nothing.stdout, "");
    assert_eq!(
        status_lines(&nothing),
        [
            format!("warning: {}", version_note(&prefix)),
            "warning: no pipeline's triggers match a push of tag release-1".to_owned(),
        ]
    );

    let tag_of_a_pull_request = project.run(&["--event", "pull-request", "--tag", "v1"]);
    tag_of_a_pull_request.assert_code(2);
    assert!(run_ids(&tag_of_a_pull_request).is_empty());
}

#[test]
fn run_event_takes_the_branch_from_git_when_none_is_given() {
    let (project, prefix) = trigger_project();
    let directory = project.path();
    git(directory, &["init", "-q"]);
    git(directory, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    git(
        directory,
        &["config", "user.email", "tests@example.invalid"],
    );
    git(directory, &["config", "user.name", "Tests"]);
    let run = project.run(&["--event", "push", "--timeout", GUARD_TIMEOUT]);
    run.assert_code(0);
    assert_eq!(assert_no_leftovers_of_every_run(&run).len(), 2);
    let mut printed: Vec<&str> = run.stdout.lines().collect();
    printed.sort_unstable();
    assert_eq!(
        printed,
        [
            format!("[{prefix}-alpha/main] alpha"),
            format!("[{prefix}-zeta/main] zeta")
        ]
    );
}

#[test]
fn an_invalid_trigger_config_is_exit_2_and_says_what_is_wrong() {
    let prefix = unique("badregex");
    let project = project(
        &[job(&prefix, "echo never")],
        &[format!(
            "  {prefix}:\n    triggers:\n{}    jobs:\n    - name: {prefix}\n",
            trigger(
                "v1.0.0",
                "        push:\n          branches:\n            only: [main, '/(/']\n"
            )
        )],
    );
    let recorder = ContainerEvents::record();
    for arguments in [
        &["list", "-p", "--event", "push", "--branch", "main"][..],
        &["run", "--event", "push", "--branch", "main"],
        &["run", "--event", "push", "--branch", "main", "--dry-run"],
    ] {
        let run = project.command(arguments);
        run.assert_code(2);
        assert_eq!(run.stdout, "", "{arguments:?}");
        // The Drakefile's warning points at the entry first; then the error stops the command.
        let warning = run
            .stderr
            .find("`eider run --event` refuses this trigger")
            .unwrap_or(usize::MAX);
        let error = run
            .stderr
            .find(&format!(
                "\nerror: pipelines.{prefix}.triggers[0]: invalid config for {GITHUB} v1.0.0\n"
            ))
            .unwrap_or(0);
        assert!(warning < error, "{arguments:?}: {}", run.stderr);
        // The cause names the entry, so the user can find it.
        assert!(
            run.stderr.contains(
                "  Caused by: `config.push.branches.only[1]`: `/(/` is not a valid regular \
                 expression\n"
            ),
            "{arguments:?}: {}",
            run.stderr
        );
        // The expression parser's own message spans lines; they stay under their cause.
        let errors = run
            .stderr
            .lines()
            .filter(|line| line.starts_with("error"))
            .count();
        assert_eq!(errors, 1, "{arguments:?}: {}", run.stderr);
    }
    assert!(recorder.of_job(&prefix).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Reports

/// The part of a JUnit report from `<testcase name="NAME"` to the end of that element.
#[track_caller]
fn testcase<'a>(xml: &'a str, name: &str) -> &'a str {
    let opening = format!("<testcase name=\"{name}\"");
    let matches: Vec<usize> = xml.match_indices(&opening).map(|(at, _)| at).collect();
    assert_eq!(matches.len(), 1, "one test case {name} in\n{xml}");
    let rest = &xml[matches[0]..];
    let tag_end = rest.find('>').expect("the opening tag ends") + 1;
    if rest[..tag_end].ends_with("/>") {
        return &rest[..tag_end];
    }
    let end = rest.find("</testcase>").expect("the test case ends") + "</testcase>".len();
    &rest[..end]
}

/// Checks that `text` is well-formed XML as far as elements go: every tag closed in order, one
/// root, attribute values quoted, no `<` or `&` left unescaped in text.
#[track_caller]
fn assert_well_formed(text: &str) {
    let mut open: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut rest = text.trim_start();
    if let Some(after) = rest.strip_prefix("<?xml") {
        rest = &after[after.find("?>").expect("the declaration ends") + 2..];
    }
    while let Some(start) = rest.find(['<', '&']) {
        let (before, tail) = rest.split_at(start);
        assert!(
            !open.is_empty() || before.trim().is_empty(),
            "text outside the root: {before:?}"
        );
        if tail.starts_with('&') {
            let entity = &tail[..=tail.find(';').expect("an entity ends with ;")];
            assert!(
                ["&lt;", "&gt;", "&amp;", "&quot;", "&apos;"].contains(&entity)
                    || entity.starts_with("&#"),
                "unknown entity {entity}"
            );
            rest = &tail[entity.len()..];
            continue;
        }
        // Find the end of the tag, skipping quoted attribute values.
        let mut quote = None;
        let mut end = None;
        for (index, character) in tail.char_indices().skip(1) {
            match (quote, character) {
                (None, '"' | '\'') => quote = Some(character),
                (Some(open_quote), _) if character == open_quote => quote = None,
                (Some(_), '<') => panic!("`<` inside an attribute value: {tail}"),
                (None, '>') => {
                    end = Some(index);
                    break;
                }
                _ => {}
            }
        }
        let end = end.expect("the tag ends");
        let tag = &tail[1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name.trim()), "a closing tag out of order");
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().expect("a tag name");
            if open.is_empty() {
                roots += 1;
            }
            open.push(name);
        } else if open.is_empty() {
            roots += 1;
        }
        rest = &tail[end + 1..];
    }
    assert!(open.is_empty(), "unclosed elements: {open:?}");
    assert!(rest.trim().is_empty(), "text after the root: {rest:?}");
    assert_eq!(roots, 1, "one root element");
}

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn junit_and_json_reports_describe_every_job() {
    let prefix = unique("report");
    let project = project(
        &[
            job(
                &format!("{prefix}-pass"),
                "echo '<ok> & \"done\"'\necho to-stderr >&2",
            ),
            job(&format!("{prefix}-fail"), "echo failing\nexit 3"),
            job(&format!("{prefix}-cancel"), "echo never"),
        ],
        &[pipeline(
            &prefix,
            &[("pass", &[]), ("fail", &["pass"]), ("cancel", &["fail"])],
        )],
    );
    let junit = project.state_path().join("report.xml");
    let json = project.state_path().join("report.json");
    let run = project.run(&[
        "-p",
        &prefix,
        "--report",
        &format!("junit={}", junit.display()),
        "--report",
        &format!("json={}", json.display()),
        "--timeout",
        GUARD_TIMEOUT,
    ]);
    run.assert_code(1);
    let ids = assert_no_leftovers_of_every_run(&run);
    check_json_report(&json, &prefix, &ids[0]);
    check_junit_report(&junit, &prefix);
}

/// The JSON report of [`junit_and_json_reports_describe_every_job`], field by field.
fn check_json_report(json: &std::path::Path, prefix: &str, run_id: &str) {
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(json).expect("the JSON report is written"))
            .expect("the JSON report parses");
    assert_eq!(keys(&report), ["runs", "version"]);
    assert_eq!(report["version"], 1);
    let runs = report["runs"].as_array().expect("runs is a list");
    assert_eq!(runs.len(), 1);
    let record = &runs[0];
    assert_eq!(
        keys(record),
        [
            "durationSeconds",
            "interrupted",
            "jobs",
            "pipeline",
            "runId",
            "succeeded"
        ]
    );
    assert_eq!(record["runId"], run_id);
    assert_eq!(record["pipeline"], prefix);
    assert_eq!(record["succeeded"], false);
    assert_eq!(record["interrupted"], false);
    let wall_time = record["durationSeconds"].as_f64().expect("seconds");
    let jobs = record["jobs"].as_array().expect("jobs is a list");
    assert_eq!(jobs.len(), 3);
    let passed = &jobs[0];
    assert_eq!(keys(passed), ["durationSeconds", "name", "result"]);
    assert_eq!(passed["name"], format!("{prefix}-pass"));
    assert_eq!(passed["result"], "passed");
    let failed = &jobs[1];
    assert_eq!(
        keys(failed),
        [
            "container",
            "durationSeconds",
            "exitCode",
            "name",
            "outOfMemory",
            "result"
        ]
    );
    assert_eq!(failed["name"], format!("{prefix}-fail"));
    assert_eq!(failed["result"], "failed");
    assert_eq!(failed["exitCode"], 3);
    assert_eq!(failed["container"], "main");
    assert_eq!(failed["outOfMemory"], false);
    let cancelled = &jobs[2];
    assert_eq!(keys(cancelled), ["durationSeconds", "name", "result"]);
    assert_eq!(cancelled["name"], format!("{prefix}-cancel"));
    assert_eq!(cancelled["result"], "cancelled");
    assert_eq!(cancelled["durationSeconds"], 0.0);
    let ran: Vec<f64> = [passed, failed]
        .iter()
        .map(|job| job["durationSeconds"].as_f64().expect("seconds"))
        .collect();
    assert!(ran.iter().all(|&seconds| seconds > 0.0), "{ran:?}");
    assert!(
        wall_time >= ran[0] + ran[1],
        "the jobs ran one after the other within {wall_time}s: {ran:?}"
    );
}

/// The JUnit report of [`junit_and_json_reports_describe_every_job`], element by element.
fn check_junit_report(junit: &std::path::Path, prefix: &str) {
    let xml = std::fs::read_to_string(junit).expect("the JUnit report is written");
    assert_well_formed(&xml);
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        "{xml}"
    );
    assert_eq!(xml.matches("<testsuite ").count(), 1, "{xml}");
    assert!(
        xml.contains(&format!(
            "<testsuite name=\"{prefix}\" tests=\"3\" skipped=\"1\" errors=\"0\" failures=\"1\""
        )),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    let pass = testcase(&xml, &format!("{prefix}-pass"));
    assert!(pass.contains(&format!("classname=\"{prefix}\"")), "{pass}");
    assert!(
        !pass.contains("<failure") && !pass.contains("<skipped"),
        "{pass}"
    );
    // Both streams of the job, each line with its container, escaped.
    assert!(
        pass.contains(
            "<system-out>[main] &lt;ok&gt; &amp; &quot;done&quot;\n[main] to-stderr\n</system-out>"
        ) || pass.contains(
            "<system-out>[main] to-stderr\n[main] &lt;ok&gt; &amp; &quot;done&quot;\n</system-out>"
        ),
        "{pass}"
    );
    let fail = testcase(&xml, &format!("{prefix}-fail"));
    assert!(
        fail.contains("<failure message=\"container `main` exited with code 3\" type=\"failed\""),
        "{fail}"
    );
    assert!(
        fail.contains("<system-out>[main] failing\n</system-out>"),
        "{fail}"
    );
    let cancel = testcase(&xml, &format!("{prefix}-cancel"));
    assert!(
        cancel.contains("<skipped message=\"cancelled\""),
        "{cancel}"
    );
    assert!(!cancel.contains("<system-out"), "{cancel}");
}

/// Regression: the reports kept each job's output by job name alone, so a job shared by two
/// pipelines selected together showed the output of both runs in each run's test case.
#[test]
fn junit_keeps_the_output_of_a_job_shared_by_two_pipelines_apart() {
    let prefix = unique("sharedjob");
    let shared = format!("{prefix}-shared");
    // Each container's host name is its own, so each run prints a different line.
    let pipelines: Vec<String> = ["first", "second"]
        .iter()
        .map(|name| {
            format!(
                "  {prefix}-{name}:\n    triggers:\n{}    jobs:\n    - name: {shared}\n",
                trigger(
                    "v1.0.0",
                    "        push:\n          branches:\n            only: [main]\n"
                )
            )
        })
        .collect();
    let project = project(&[job(&shared, "echo \"host $(hostname)\"")], &pipelines);
    let junit = project.state_path().join("report.xml");
    let run = project.run(&[
        "--event",
        "push",
        "--branch",
        "main",
        "--report",
        &format!("junit={}", junit.display()),
        "--timeout",
        GUARD_TIMEOUT,
    ]);
    run.assert_code(0);
    assert_eq!(assert_no_leftovers_of_every_run(&run).len(), 2);
    let mut printed = run.lines_of(&shared, "main");
    printed.sort();
    printed.dedup();
    assert_eq!(printed.len(), 2, "two runs, two hosts: {printed:?}");

    let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    assert_well_formed(&xml);
    let mut reported = Vec::new();
    for name in ["first", "second"] {
        let suite_start = xml
            .find(&format!("<testsuite name=\"{prefix}-{name}\""))
            .expect("a suite per pipeline");
        let suite = &xml[suite_start..];
        let suite = &suite[..suite.find("</testsuite>").expect("the suite ends")];
        let case = testcase(suite, &shared);
        let out_start = case.find("<system-out>").expect("output") + "<system-out>".len();
        let out = &case[out_start..case.find("</system-out>").expect("output ends")];
        assert_eq!(out.lines().count(), 1, "{name}: {out:?}");
        reported.push(
            out.strip_prefix("[main] ")
                .expect("prefixed")
                .trim_end()
                .to_owned(),
        );
    }
    reported.sort();
    assert_eq!(reported, printed);
}

/// The text of every `system-out` in the XML file at `path`, read by Python's XML parser
/// (expat, which holds to the XML 1.0 character rules): a report it cannot read fails here
/// with the parser's reason.
fn system_out_read_by_an_xml_parser(path: &std::path::Path) -> Vec<String> {
    let script = "import sys, xml.etree.ElementTree as tree\n\
                  for out in tree.parse(sys.argv[1]).iter('system-out'):\n\
                  \x20   print(ascii(out.text))\n";
    let parsed = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(
        parsed.status.success(),
        "the report is not XML: {}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    String::from_utf8_lossy(&parsed.stdout)
        .lines()
        .map(ToOwned::to_owned)
        .collect()
}

#[test]
fn a_junit_report_stays_xml_when_a_job_prints_the_noncharacters_u_fffe_and_u_ffff() {
    let name = unique("noncharacters");
    // U+FFFE and U+FFFF, in UTF-8.
    let project = Project::new(&drakefile(&support::busybox_job(
        &name,
        &[],
        "printf 'before\\357\\277\\276\\357\\277\\277after\\n'",
    )));
    let junit = project.state_path().join("report.xml");
    let run = project.run(&["--report", &format!("junit={}", junit.display()), &name]);
    run.assert_code(0);
    assert_eq!(run.lines_of(&name, "main"), ["before\u{FFFE}\u{FFFF}after"]);
    assert_no_leftovers_of_every_run(&run);
    // What XML cannot hold is replaced, as undecodable bytes are; the rest stays.
    assert_eq!(
        system_out_read_by_an_xml_parser(&junit),
        ["'[main] before\\ufffd\\ufffdafter\\n'"]
    );
}

// ---------------------------------------------------------------------------------------------
// Graphs

/// A diamond pipeline and a pipeline of one job; nothing of it ever runs.
const GRAPH_DRAKEFILE: &str = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  a:
    primaryContainer: {name: main, image: eider-test/busybox:latest}
  b:
    primaryContainer: {name: main, image: eider-test/busybox:latest}
  c:
    primaryContainer: {name: main, image: eider-test/busybox:latest}
  d:
    primaryContainer: {name: main, image: eider-test/busybox:latest}
pipelines:
  solo:
    jobs:
    - name: a
  diamond:
    jobs:
    - name: a
    - name: b
      dependencies: [a]
    - name: c
      dependencies: [a]
    - name: d
      dependencies: [b, c]
";

#[test]
fn graph_prints_a_diamond_as_dot_mermaid_and_svg() {
    let project = Project::new(GRAPH_DRAKEFILE);
    let dot = project.command(&["graph", "diamond"]);
    dot.assert_code(0);
    assert_eq!(
        dot.stdout,
        "digraph \"diamond\" {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n  \"a\";\n  \
         \"b\";\n  \"c\";\n  \"d\";\n  \"a\" -> \"b\";\n  \"a\" -> \"c\";\n  \"b\" -> \"d\";\n  \
         \"c\" -> \"d\";\n}\n"
    );
    assert_eq!(dot.stderr, "");
    assert_eq!(
        project
            .command(&["graph", "diamond", "--format", "dot"])
            .stdout,
        dot.stdout
    );
    let mermaid = project.command(&["graph", "diamond", "--format", "mermaid"]);
    mermaid.assert_code(0);
    assert_eq!(
        mermaid.stdout,
        "flowchart LR\n    j0[\"a\"]\n    j1[\"b\"]\n    j2[\"c\"]\n    j3[\"d\"]\n    \
         j0 --> j1\n    j0 --> j2\n    j1 --> j3\n    j2 --> j3\n"
    );
    let svg = project.command(&["graph", "diamond", "--format", "svg"]);
    svg.assert_code(0);
    assert_well_formed(&svg.stdout);
    assert!(
        svg.stdout
            .contains("<svg xmlns=\"http://www.w3.org/2000/svg\"")
    );
    assert_eq!(svg.stdout.matches("<rect").count(), 4);
    assert_eq!(svg.stdout.matches("<path").count(), 4);
    for name in ["a", "b", "c", "d"] {
        assert_eq!(
            svg.stdout.matches(&format!(">{name}</text>")).count(),
            1,
            "{name}"
        );
    }

    // Without a name: every pipeline, each in its own cluster.
    let every = project.command(&["graph"]);
    every.assert_code(0);
    assert!(every.stdout.contains("label=\"solo\""), "{}", every.stdout);
    assert!(
        every.stdout.contains("label=\"diamond\""),
        "{}",
        every.stdout
    );
}

#[test]
fn graph_of_an_unknown_pipeline_is_exit_2_with_the_valid_names() {
    let project = Project::new(GRAPH_DRAKEFILE);
    for format in ["dot", "mermaid", "svg"] {
        let run = project.command(&["graph", "diamnod", "--format", format]);
        run.assert_code(2);
        assert_eq!(run.stdout, "");
        assert_eq!(
            run.stderr,
            "error: no pipeline named `diamnod` in the Drakefile\nhint: pipelines: diamond, solo\n"
        );
    }
}

#[test]
fn graph_renders_a_pipeline_of_100_jobs_in_every_format() {
    let mut jobs = String::new();
    let mut pipeline = "  big:\n    jobs:\n".to_owned();
    let mut edges = 0;
    for index in 0..100_usize {
        let _ = write!(
            jobs,
            "  job{index:03}:\n    primaryContainer: {{name: main, image: {BUSYBOX}}}\n"
        );
        let _ = writeln!(pipeline, "    - name: job{index:03}");
        // A chain, a binary tree and links ten back: long edges across many ranks.
        let mut dependencies: Vec<usize> =
            [index.checked_sub(1), Some(index / 2), index.checked_sub(10)]
                .into_iter()
                .flatten()
                .filter(|&dependency| dependency < index)
                .collect();
        dependencies.sort_unstable();
        dependencies.dedup();
        edges += dependencies.len();
        if !dependencies.is_empty() {
            let names: Vec<String> = dependencies
                .iter()
                .map(|dependency| format!("job{dependency:03}"))
                .collect();
            let _ = writeln!(pipeline, "      dependencies: [{}]", names.join(", "));
        }
    }
    let project = Project::new(&format!("{}pipelines:\n{pipeline}", drakefile(&jobs)));

    let dot = project.command(&["graph", "big"]);
    dot.assert_code(0);
    let nodes = dot
        .stdout
        .lines()
        .filter(|line| {
            line.starts_with("  \"job") && line.ends_with("\";") && !line.contains(" -> ")
        })
        .count();
    assert_eq!(nodes, 100);
    assert_eq!(dot.stdout.matches(" -> ").count(), edges);

    let mermaid = project.command(&["graph", "big", "--format", "mermaid"]);
    mermaid.assert_code(0);
    assert_eq!(mermaid.stdout.matches("[\"job").count(), 100);
    assert_eq!(mermaid.stdout.matches(" --> ").count(), edges);

    let svg = project.command(&["graph", "big", "--format", "svg"]);
    svg.assert_code(0);
    assert_well_formed(&svg.stdout);
    assert_eq!(svg.stdout.matches("<rect").count(), 100);
    assert_eq!(svg.stdout.matches("<path").count(), edges);
    for index in 0..100 {
        assert_eq!(
            svg.stdout
                .matches(&format!(">job{index:03}</text>"))
                .count(),
            1,
            "job{index:03}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Dry runs and usage errors

#[test]
fn dry_run_prints_the_stages_and_creates_nothing() {
    let prefix = unique("dry");
    let jobs: Vec<String> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|short| job(&format!("{prefix}-{short}"), "echo ran"))
        .collect();
    let project = project(
        &jobs,
        &[pipeline(
            &prefix,
            &[
                ("a", &[]),
                ("b", &["a"]),
                ("c", &["a"]),
                ("d", &["b", "c"]),
                ("e", &[]),
            ],
        )],
    );
    let expected = format!(
        "pipeline {prefix}: 5 jobs in 3 stages\n  stage 1: {prefix}-a, {prefix}-e\n  stage 2: {prefix}-b, {prefix}-c\n  \
         stage 3: {prefix}-d\n"
    );
    let recorder = ContainerEvents::record();
    let run = project.run(&["-p", &prefix, "--dry-run"]);
    run.assert_code(0);
    assert_eq!(run.stdout, expected);
    assert_eq!(run.stderr, "");
    for short in ["a", "b", "c", "d", "e"] {
        let job = format!("{prefix}-{short}");
        assert!(recorder.of_job(&job).is_empty(), "{job}");
        let filter = format!("label=eider.job={job}");
        assert!(support::docker(&["ps", "-a", "-q", "--filter", &filter]).is_empty());
    }
    // It never even asks the engine: an engine that does not exist changes nothing.
    let offline = project
        .eider()
        .args(["run", "-p", &prefix, "--dry-run"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .expect("run eider");
    let offline = Run::from(offline);
    offline.assert_code(0);
    assert_eq!(offline.stdout, expected);
}

#[test]
fn concurrency_0_is_a_usage_error_not_a_hang() {
    let prefix = unique("zero");
    let project = project(
        &[job(&prefix, "echo never")],
        &[format!("  {prefix}:\n    jobs:\n    - name: {prefix}\n")],
    );
    let recorder = ContainerEvents::record();
    for arguments in [
        &["run", "-p", &prefix, "-c", "0"][..],
        &["run", "-p", &prefix, "--concurrency", "0", "--dry-run"],
        &["run", "--event", "push", "--branch", "main", "-j", "0"],
    ] {
        let run = wait_with_patience(project.spawn(arguments), Duration::from_secs(30));
        run.assert_code(2);
        assert_eq!(run.stdout, "");
        assert!(
            run.stderr.contains("'0'") && run.stderr.contains("--concurrency <N>"),
            "{arguments:?}: {}",
            run.stderr
        );
    }
    assert!(recorder.of_job(&prefix).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Interrupts and output

#[test]
fn ctrl_c_interrupts_the_running_job_cancels_the_pending_ones_and_removes_everything() {
    let prefix = unique("sigint");
    let long = format!("{prefix}-long");
    let project = project(
        &[
            // `sleep` as PID 1 ignores SIGTERM: a short grace period keeps this quick.
            job(&long, "exec sleep 300"),
            job(&format!("{prefix}-next"), "echo never"),
            job(&format!("{prefix}-other"), "echo never"),
        ],
        &[pipeline(
            &prefix,
            &[("long", &[]), ("next", &["long"]), ("other", &[])],
        )],
    );
    let recorder = ContainerEvents::record();
    let child = project.spawn(&[
        "run",
        "-p",
        &prefix,
        "-c",
        "1",
        "--grace-period",
        "1s",
        "--timeout",
        GUARD_TIMEOUT,
    ]);
    let running = wait_until_running(&long, 1, PATIENCE);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT failed");
    let run = wait_with_patience(child, PATIENCE);
    run.assert_code(130);
    let ids = assert_no_leftovers_of_every_run(&run);
    assert_eq!(ids, running);

    let status = status_lines(&run);
    // The notice comes from the signal handler, so its place among the others may vary.
    let notice = "warning: interrupted: stopping containers (interrupt again to kill them)";
    position(&status, notice);
    let others: Vec<String> = status.into_iter().filter(|line| line != notice).collect();
    assert_eq!(
        others[..7],
        owned(&[
            &format!("Queued {prefix}-long"),
            &format!("Queued {prefix}-next"),
            &format!("Queued {prefix}-other"),
            &format!("Running {prefix}-long"),
            &format!("Cancelled {prefix}-next"),
            &format!("Cancelled {prefix}-other"),
            &format!("Interrupted {prefix}-long"),
        ])
    );
    assert_eq!(
        summary_rows(&others, &prefix, "0 of 3 jobs passed"),
        owned(&[
            &format!("INTERRUPTED {prefix}-long <time>"),
            &format!("CANCELLED {prefix}-next not run"),
            &format!("CANCELLED {prefix}-other not run"),
        ])
    );
    assert_eq!(run.stdout, "");
    for short in ["next", "other"] {
        assert!(recorder.of_job(&format!("{prefix}-{short}")).is_empty());
    }
}

#[test]
fn output_of_jobs_running_at_once_never_tears_a_line() {
    const LINES: usize = 2000;
    const WIDTH: usize = 200;
    let prefix = unique("tear");
    let letters = ["x", "y"];
    let jobs: Vec<String> = letters
        .iter()
        .map(|letter| {
            job(
                &format!("{prefix}-{letter}"),
                &format!(
                    "line=$(printf '%0{WIDTH}d' 0 | tr 0 {letter})\ni=0\n\
                     while [ $i -lt {LINES} ]; do echo \"$line\"; i=$((i + 1)); done"
                ),
            )
        })
        .collect();
    let project = project(&jobs, &[pipeline(&prefix, &[("x", &[]), ("y", &[])])]);
    let run = project.run(&["-p", &prefix, "-c", "2", "--timeout", GUARD_TIMEOUT]);
    run.assert_code(0);
    assert_no_leftovers_of_every_run(&run);
    let mut counts = [0_usize; 2];
    for line in run.stdout.lines() {
        let matched = letters.iter().position(|letter| {
            line.strip_prefix(&format!("[{prefix}-{letter}/main] "))
                .is_some_and(|rest| rest == letter.repeat(WIDTH))
        });
        let Some(index) = matched else {
            panic!("a torn or foreign line: {line:?}");
        };
        counts[index] += 1;
    }
    assert_eq!(counts, [LINES, LINES]);
}

/// A pipeline `PREFIX`: `lint` and `test` first, then `publish`, whose primary asks for the
/// Docker socket; the first two record that they ran in their output.
fn pipeline_whose_last_job_asks_for_the_socket() -> (Project, String) {
    let prefix = unique("refused-late");
    let publish = format!(
        "  {prefix}-publish:\n    primaryContainer:\n      name: main\n      image: {BUSYBOX}\n      \
         mountDockerSocket: true\n      command: {}\n",
        sh("echo published")
    );
    let project = project(
        &[
            job(&format!("{prefix}-lint"), "echo linted"),
            job(&format!("{prefix}-test"), "echo tested"),
            publish,
        ],
        &[pipeline(
            &prefix,
            &[("lint", &[]), ("test", &[]), ("publish", &["lint", "test"])],
        )],
    );
    (project, prefix)
}

#[test]
fn permissions_are_refused_before_any_job_of_the_pipeline_starts() {
    let (project, prefix) = pipeline_whose_last_job_asks_for_the_socket();
    let recorder = ContainerEvents::record();
    let run = project.run(&["-p", &prefix, "-c", "2", "--timeout", GUARD_TIMEOUT]);
    run.assert_code(1);
    assert!(
        run.stderr.contains(&format!(
            "warning: pipeline `{prefix}` is refused before any job starts: 1 of its 3 jobs \
             asks for what is not allowed"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "job `{prefix}-publish`: container `main` asks for the Docker socket, which is not \
             allowed"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--allow-docker-socket"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Running"), "{}", run.stderr);
    for short in ["lint", "test", "publish"] {
        let job = format!("{prefix}-{short}");
        assert!(run.lines_of(&job, "main").is_empty(), "{}", run.stdout);
        assert!(recorder.of_job(&job).is_empty(), "{job} was created");
    }
    assert_no_leftovers_of_every_run(&run);

    // A dry run shows the same refusal, after the plan.
    let dry = project.run(&["-p", &prefix, "--dry-run"]);
    dry.assert_code(1);
    assert!(dry.stdout.contains("stage 2:"), "{}", dry.stdout);
    assert!(
        dry.stderr.contains(&format!(
            "error: job `{prefix}-publish`: container `main` asks for the Docker socket"
        )),
        "{}",
        dry.stderr
    );
    assert!(
        dry.stderr.contains("--allow-docker-socket"),
        "{}",
        dry.stderr
    );
    let allowed = project.run(&["-p", &prefix, "--dry-run", "--allow-docker-socket"]);
    allowed.assert_code(0);
}

#[test]
fn with_keep_going_the_other_jobs_run_and_the_refused_one_fails_without_being_created() {
    let (project, prefix) = pipeline_whose_last_job_asks_for_the_socket();
    let recorder = ContainerEvents::record();
    let run = project.run(&[
        "-p",
        &prefix,
        "-c",
        "2",
        "--keep-going",
        "--timeout",
        GUARD_TIMEOUT,
    ]);
    run.assert_code(1);
    assert_eq!(run.lines_of(&format!("{prefix}-lint"), "main"), ["linted"]);
    assert_eq!(run.lines_of(&format!("{prefix}-test"), "main"), ["tested"]);
    let publish = format!("{prefix}-publish");
    assert!(run.lines_of(&publish, "main").is_empty(), "{}", run.stdout);
    assert!(recorder.of_job(&publish).is_empty());
    assert!(
        run.stderr.contains(&format!(
            "job `{publish}`: container `main` asks for the Docker socket, which is not allowed"
        )),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("refused before any job starts"),
        "{}",
        run.stderr
    );
    assert_no_leftovers_of_every_run(&run);
}
