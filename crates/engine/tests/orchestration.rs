//! The engine's orchestration against the scripted fake backend: dependencies, the concurrency
//! cap, fail-fast, timeouts, interrupts, teardown and infrastructure failures. The clock is
//! paused, so a job "running" for minutes takes no time.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use camino::Utf8PathBuf;
use drakefile::Drakefile;
use eider_engine::mask::Masker;
use eider_engine::schedule::FailurePolicy;
use eider_engine::{Cancellation, Event, JobOutcome, Run, RunSettings, RunSummary};
use eider_runtime::Ending;
use eider_runtime::fake::{Call, FakeRuntime, JobScript};
use proptest::prelude::*;

/// A paused-clock runtime: sleeps end as soon as nothing else can happen.
fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime")
}

fn settings(timeout: Duration) -> RunSettings {
    RunSettings {
        timeout,
        ..RunSettings::for_source(Utf8PathBuf::from("/nonexistent"))
    }
}

/// A v0.6.0 Drakefile with `jobs` (each of one container) and one pipeline `p` of them, in
/// order, each with its dependencies.
fn drakefile(jobs: &[(&str, &[&str])]) -> Drakefile {
    drakefile_with(jobs, "")
}

/// [`drakefile`], with more fields for every job.
fn drakefile_with(jobs: &[(&str, &[&str])], job_fields: &str) -> Drakefile {
    let mut text =
        String::from("specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n");
    for (name, _) in jobs {
        let _infallible = write!(
            text,
            "  {name}:\n    primaryContainer: {{name: main, image: busybox:latest, \
             sourceMountPath: /src, sharedStorageMountPath: /shared}}\n{job_fields}"
        );
    }
    text.push_str("pipelines:\n  p:\n    jobs:\n");
    for (name, dependencies) in jobs {
        let _infallible = writeln!(text, "    - name: {name}");
        if !dependencies.is_empty() {
            let _infallible = writeln!(text, "      dependencies: [{}]", dependencies.join(", "));
        }
    }
    drakefile::parse("Drakefile.yaml", &text)
        .expect("a valid Drakefile")
        .drakefile
}

/// Runs pipeline `p` on `fake` and returns its summary and every event.
async fn run_pipeline(
    fake: &FakeRuntime,
    drakefile: &Drakefile,
    settings: RunSettings,
    concurrency: usize,
    policy: FailurePolicy,
    cancellation: Cancellation,
) -> (RunSummary, Vec<Event>) {
    let (events, mut receiver) = eider_engine::channel();
    let collected = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(event) = receiver.recv().await {
            all.push(event);
        }
        all
    });
    let run = Run::new(
        Arc::new(fake.clone()),
        drakefile.spec_version,
        settings,
        Arc::new(Masker::none()),
        events,
        cancellation,
    );
    let pipeline = drakefile.pipelines.first().expect("pipeline p");
    let summary = run
        .run_pipeline(drakefile, pipeline, concurrency, policy)
        .await;
    drop(run);
    (summary, collected.await.expect("the event collector"))
}

/// [`run_pipeline`] on a paused clock, never interrupted.
fn run(
    fake: &FakeRuntime,
    drakefile: &Drakefile,
    timeout: Duration,
    concurrency: usize,
    policy: FailurePolicy,
) -> (RunSummary, Vec<Event>) {
    paused_runtime().block_on(run_pipeline(
        fake,
        drakefile,
        settings(timeout),
        concurrency,
        policy,
        Cancellation::default(),
    ))
}

fn outcome<'a>(summary: &'a RunSummary, job: &str) -> &'a JobOutcome {
    &summary
        .jobs
        .iter()
        .find(|report| report.name == job)
        .expect("a report of every job")
        .outcome
}

/// Where `call` is among the fake's calls.
fn position(calls: &[(tokio::time::Instant, Call)], call: &Call) -> Option<usize> {
    calls.iter().position(|(_, made)| made == call)
}

fn count(calls: &[(tokio::time::Instant, Call)], call: &Call) -> usize {
    calls.iter().filter(|(_, made)| made == call).count()
}

/// A random DAG: job `j<i>` may depend on any earlier job; with its running time.
fn dags() -> impl Strategy<Value = (Vec<(String, Vec<String>, u64)>, usize)> {
    (2usize..8).prop_flat_map(|size| {
        let jobs = (0..size)
            .map(|index| {
                (proptest::collection::vec(any::<bool>(), index), 1u64..500).prop_map(
                    move |(edges, millis)| {
                        let dependencies = edges
                            .iter()
                            .enumerate()
                            .filter(|(_, edge)| **edge)
                            .map(|(earlier, _)| format!("j{earlier}"))
                            .collect();
                        (format!("j{index}"), dependencies, millis)
                    },
                )
            })
            .collect::<Vec<_>>();
        (jobs, 1usize..4)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every job starts only after each of its dependencies ended, never more than the cap run
    /// at once, and every job launched is ended and removed exactly once.
    #[test]
    fn jobs_never_start_before_their_dependencies_nor_over_the_cap((jobs, cap) in dags()) {
        let mut fake = FakeRuntime::new();
        for (name, _, millis) in &jobs {
            fake = fake.script(name, JobScript {
                runs_for: Duration::from_millis(*millis),
                ..JobScript::default()
            });
        }
        let shape: Vec<(&str, Vec<&str>)> = jobs
            .iter()
            .map(|(name, dependencies, _)| {
                (name.as_str(), dependencies.iter().map(String::as_str).collect())
            })
            .collect();
        let borrowed: Vec<(&str, &[&str])> =
            shape.iter().map(|(name, dependencies)| (*name, &dependencies[..])).collect();
        let drakefile = drakefile(&borrowed);
        let (summary, _) = run(&fake, &drakefile, Duration::from_secs(3600), cap, FailurePolicy::FailFast);
        prop_assert!(summary.succeeded());
        prop_assert!(fake.most_running() <= cap, "{} jobs ran at once, cap {cap}", fake.most_running());
        let calls = fake.calls();
        for (name, dependencies, _) in &jobs {
            let launched = position(&calls, &Call::Launch(name.clone()));
            prop_assert!(launched.is_some(), "{name} never launched");
            for dependency in dependencies {
                let ended = position(&calls, &Call::End(dependency.clone(), Ending::PrimaryExited));
                prop_assert!(ended.is_some() && ended < launched, "{name} launched before {dependency} ended");
            }
            prop_assert_eq!(count(&calls, &Call::Remove(name.clone())), 1);
        }
    }
}

#[test]
fn fail_fast_cancels_pending_jobs_without_creating_them_and_lets_running_ones_finish() {
    let fake = FakeRuntime::new()
        .script(
            "fails",
            JobScript {
                exit_code: 3,
                ..JobScript::default()
            },
        )
        .script(
            "slow",
            JobScript {
                runs_for: Duration::from_secs(60),
                ..JobScript::default()
            },
        );
    let drakefile = drakefile(&[("fails", &[]), ("slow", &[]), ("after", &["slow"])]);
    let (summary, _) = run(
        &fake,
        &drakefile,
        Duration::from_secs(3600),
        2,
        FailurePolicy::FailFast,
    );
    assert!(matches!(
        outcome(&summary, "fails"),
        JobOutcome::Failed { exit_code: 3, .. }
    ));
    assert_eq!(outcome(&summary, "slow"), &JobOutcome::Succeeded);
    assert_eq!(outcome(&summary, "after"), &JobOutcome::Cancelled);
    let calls = fake.calls();
    assert_eq!(position(&calls, &Call::Launch("after".to_owned())), None);
    assert_eq!(count(&calls, &Call::Remove("slow".to_owned())), 1);
}

#[test]
fn a_job_past_its_timeout_is_killed_removed_and_reported_timed_out() {
    let fake = FakeRuntime::new().script(
        "forever",
        JobScript {
            runs_for: Duration::from_secs(24 * 3600),
            ..JobScript::default()
        },
    );
    let drakefile = drakefile(&[("forever", &[])]);
    let (summary, _) = run(
        &fake,
        &drakefile,
        Duration::from_secs(5),
        1,
        FailurePolicy::FailFast,
    );
    assert_eq!(
        outcome(&summary, "forever"),
        &JobOutcome::TimedOut {
            after: Duration::from_secs(5)
        }
    );
    let calls = fake.calls();
    let launched = position(&calls, &Call::Launch("forever".to_owned())).expect("launched");
    let killed = position(&calls, &Call::End("forever".to_owned(), Ending::Kill)).expect("killed");
    assert!(killed > launched);
    // Ended at the deadline, not when the primary would have exited.
    assert_eq!(calls[killed].0 - calls[launched].0, Duration::from_secs(5));
    assert_eq!(count(&calls, &Call::Remove("forever".to_owned())), 1);
}

#[test]
fn a_first_interrupt_stops_gracefully_and_a_second_kills_at_once_and_both_clean_up() {
    let fake = FakeRuntime::new().script(
        "stubborn",
        JobScript {
            runs_for: Duration::from_secs(3600),
            stop_takes: Duration::from_secs(3600),
            ..JobScript::default()
        },
    );
    let drakefile = drakefile(&[("stubborn", &[]), ("next", &["stubborn"])]);
    let cancellation = Cancellation::default();
    let signals = cancellation.clone();
    let (summary, _) = paused_runtime().block_on(async {
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            signals.graceful.cancel();
            tokio::time::sleep(Duration::from_secs(1)).await;
            signals.immediate.cancel();
        });
        run_pipeline(
            &fake,
            &drakefile,
            settings(Duration::from_secs(7200)),
            1,
            FailurePolicy::FailFast,
            cancellation,
        )
        .await
    });
    assert!(summary.interrupted);
    assert_eq!(outcome(&summary, "stubborn"), &JobOutcome::Interrupted);
    let calls = fake.calls();
    let stop = Call::End("stubborn".to_owned(), Ending::Stop(Duration::from_secs(10)));
    let stopped = position(&calls, &stop).expect("stopped gracefully first");
    let killed = position(&calls, &Call::End("stubborn".to_owned(), Ending::Kill))
        .expect("killed at the second interrupt");
    assert!(stopped < killed);
    assert_eq!(calls[killed].0 - calls[stopped].0, Duration::from_secs(1));
    assert_eq!(count(&calls, &Call::Remove("stubborn".to_owned())), 1);
    assert_eq!(position(&calls, &Call::Launch("next".to_owned())), None);
}

#[test]
fn teardown_runs_after_every_kind_of_end_and_the_run_s_storage_goes() {
    let scripts = [
        ("succeeds", JobScript::default()),
        (
            "fails",
            JobScript {
                exit_code: 1,
                ..JobScript::default()
            },
        ),
        (
            "cannot-start",
            JobScript {
                launch_fails: Some("no such image".to_owned()),
                ..JobScript::default()
            },
        ),
        (
            "engine-dies",
            JobScript {
                backend_fails: Some("the engine restarted".to_owned()),
                ..JobScript::default()
            },
        ),
    ];
    let mut fake = FakeRuntime::new();
    for (name, script) in scripts.clone() {
        fake = fake.script(name, script);
    }
    let names: Vec<&str> = scripts.iter().map(|(name, _)| *name).collect();
    let shape: Vec<(&str, &[&str])> = names.iter().map(|name| (*name, &[][..])).collect();
    // Each job gets a copy of the source of its own, and the run one shared storage.
    let drakefile = drakefile_with(&shape, "    sourceMountMode: COPY\n");
    let (summary, _) = run(
        &fake,
        &drakefile,
        Duration::from_secs(3600),
        4,
        FailurePolicy::KeepGoing,
    );
    let calls = fake.calls();
    for name in names {
        assert_eq!(
            count(&calls, &Call::Remove(name.to_owned())),
            1,
            "{name} removed once: {calls:?}"
        );
    }
    assert!(matches!(
        outcome(&summary, "cannot-start"),
        JobOutcome::Error { message, .. } if message.contains("container `main`: cannot start the container: no such image")
    ));
    let created = calls
        .iter()
        .filter(|(_, call)| matches!(call, Call::CreateStorage(_)))
        .count();
    assert_eq!(created, 5, "four copies and one shared storage: {calls:?}");
    assert!(fake.storage().is_empty(), "left: {:?}", fake.storage());
}

#[test]
fn a_backend_failure_is_an_infrastructure_failure_not_a_failure_of_the_job() {
    let fake = FakeRuntime::new().script(
        "victim",
        JobScript {
            backend_fails: Some("the engine stopped".to_owned()),
            ..JobScript::default()
        },
    );
    let drakefile = drakefile(&[("victim", &[])]);
    let (summary, _) = run(
        &fake,
        &drakefile,
        Duration::from_secs(3600),
        1,
        FailurePolicy::FailFast,
    );
    let outcome = outcome(&summary, "victim");
    assert!(outcome.is_infrastructure_failure(), "{outcome:?}");
    assert!(matches!(
        outcome,
        JobOutcome::InfrastructureFailure { message, .. }
            if message == "job `victim`: container `main`: the engine stopped"
    ));
}

#[test]
fn output_of_every_container_reaches_the_events_attributed_before_the_job_ends() {
    let fake = FakeRuntime::new().script(
        "talks",
        JobScript {
            output: vec![
                ("main".to_owned(), "first".to_owned()),
                ("main".to_owned(), "second".to_owned()),
            ],
            ..JobScript::default()
        },
    );
    let drakefile = drakefile(&[("talks", &[])]);
    let (_, events) = run(
        &fake,
        &drakefile,
        Duration::from_secs(3600),
        1,
        FailurePolicy::FailFast,
    );
    let text: String = events
        .iter()
        .filter_map(|event| match event {
            Event::Output { source, lines, .. } if source.job == "talks" => {
                Some(String::from_utf8_lossy(lines).into_owned())
            }
            _ => None,
        })
        .collect();
    assert_eq!(text.lines().collect::<Vec<_>>(), ["first", "second"]);
    let finished = events
        .iter()
        .position(|event| matches!(event, Event::JobFinished { .. }))
        .expect("the job finished");
    let last_line = events
        .iter()
        .rposition(|event| matches!(event, Event::Output { .. }))
        .expect("output");
    assert!(last_line < finished);
}

#[test]
fn a_job_for_another_platform_is_refused_before_anything_of_it_starts() {
    let fake = FakeRuntime::new();
    let drakefile = drakefile_with(&[("arm", &[])], "    cpuArch: arm64\n");
    let (summary, events) = run(
        &fake,
        &drakefile,
        Duration::from_secs(3600),
        1,
        FailurePolicy::FailFast,
    );
    assert!(matches!(
        outcome(&summary, "arm"),
        JobOutcome::Error { message, .. }
            if message == "job `arm` needs cpuArch `arm64`, but the engine runs `amd64`"
    ));
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, Event::ContainerStarted { .. }))
    );
    assert_eq!(count(&fake.calls(), &Call::Remove("arm".to_owned())), 1);
}

/// Pipeline `p`: `lint` and `test` first, then `publish`, whose primary asks for the Docker
/// socket.
fn pipeline_whose_last_job_asks_for_the_socket() -> Drakefile {
    let text = "specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  lint:
    primaryContainer: {name: main, image: busybox:latest}
  test:
    primaryContainer: {name: main, image: busybox:latest}
  publish:
    primaryContainer: {name: main, image: docker:latest, mountDockerSocket: true}
pipelines:
  p:
    jobs:
    - name: lint
    - name: test
    - name: publish
      dependencies: [lint, test]
";
    drakefile::parse("Drakefile.yaml", text)
        .expect("a valid Drakefile")
        .drakefile
}

#[test]
fn a_job_that_asks_for_what_is_not_allowed_refuses_the_pipeline_before_any_job_starts() {
    let fake = FakeRuntime::new();
    let drakefile = pipeline_whose_last_job_asks_for_the_socket();
    let (summary, events) = run(
        &fake,
        &drakefile,
        Duration::from_secs(3600),
        2,
        FailurePolicy::FailFast,
    );
    assert_eq!(fake.calls(), Vec::new(), "nothing reaches the backend");
    assert!(matches!(
        outcome(&summary, "publish"),
        JobOutcome::Error { message, .. }
            if message == "job `publish`: container `main` asks for the Docker socket, which is \
                           not allowed"
    ));
    assert_eq!(outcome(&summary, "lint"), &JobOutcome::Cancelled);
    assert_eq!(outcome(&summary, "test"), &JobOutcome::Cancelled);
    assert!(
        events.iter().any(|event| matches!(
            event,
            Event::Warning { job: None, message }
                if message == "pipeline `p` is refused before any job starts: 1 of its 3 jobs \
                               asks for what is not allowed"
        )),
        "{events:?}"
    );
}

#[test]
fn with_keep_going_the_other_jobs_run_and_the_refused_one_fails_without_being_created() {
    let fake = FakeRuntime::new();
    let drakefile = pipeline_whose_last_job_asks_for_the_socket();
    let (summary, _) = run(
        &fake,
        &drakefile,
        Duration::from_secs(3600),
        2,
        FailurePolicy::KeepGoing,
    );
    assert_eq!(outcome(&summary, "lint"), &JobOutcome::Succeeded);
    assert_eq!(outcome(&summary, "test"), &JobOutcome::Succeeded);
    assert!(matches!(
        outcome(&summary, "publish"),
        JobOutcome::Error { .. }
    ));
    let calls = fake.calls();
    assert_eq!(count(&calls, &Call::Launch("lint".to_owned())), 1);
    assert_eq!(count(&calls, &Call::Launch("test".to_owned())), 1);
    assert_eq!(position(&calls, &Call::Launch("publish".to_owned())), None);
}
