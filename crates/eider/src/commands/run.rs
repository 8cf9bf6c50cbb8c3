//! `eider run JOB...`: runs jobs on the Docker Engine, in order, each only if the previous one
//! succeeded.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use camino::{Utf8Path, Utf8PathBuf};
use drakefile::Job;
use eider_engine::mask::Masker;
use eider_engine::{
    Cancellation, Event, EventSender, JobOutcome, Run, RunOptions as EngineOptions, RunSummary,
    SeedSourceMode,
};
use eider_runtime_docker::DockerRuntime;

use crate::cli::{ColorChoice, RunOptions, SourceMode};
use crate::commands::load;
use crate::discover::Located;
use crate::exit_code;
use crate::failure::Failure;
use crate::render::Output;
use crate::reporter::{Colors, Reporter, seconds};
use crate::{config, environment};

/// Runs the jobs; returns the exit code.
pub fn run(
    options: &RunOptions,
    located: &Located,
    color: ColorChoice,
    output: Output,
) -> Result<(), Failure> {
    let parsed = load(located, output)?;
    let drakefile = parsed.drakefile;
    let jobs = select_jobs(&drakefile, &options.jobs)?;
    let source_root = source_root(&located.path)?;
    let loaded_config = config::load(options.config.as_deref(), &source_root)?;
    let settings = loaded_config.config.run;
    let external = environment::collect(options, &source_root)?;
    let masker = Arc::new(Masker::new(
        external
            .secrets
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    ));
    let mut warnings = loaded_config.warnings;
    warnings.extend(external.warnings);
    if !masker.unmasked_names().is_empty() {
        warnings.push(format!(
            "secrets shorter than {} characters are not masked in output: {}",
            eider_engine::mask::MIN_SECRET_LENGTH,
            masker.unmasked_names().join(", ")
        ));
    }
    if options.source_mode.is_some() && !drakefile.spec_version.is_seed() {
        warnings.push(format!(
            "--source-mode applies to seed-draft files only; this file ({}) sets \
             sourceMountMode per job",
            drakefile.spec_version
        ));
    }
    let engine_options = engine_options(options, settings, source_root, external.variables);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            Failure::runtime("cannot start the async runtime").with_cause(error.to_string())
        })?;
    let (events, receiver) = eider_engine::channel();
    let reporter = Reporter::new(Colors::new(color), Arc::clone(&masker));
    let rendering = std::thread::Builder::new()
        .name("reporter".to_owned())
        .spawn(move || reporter.run(receiver))
        .map_err(|error| {
            Failure::runtime("cannot start the output thread").with_cause(error.to_string())
        })?;
    let signal = Arc::new(AtomicU8::new(0));
    let result = runtime.block_on(async {
        for warning in warnings {
            events
                .send(Event::Warning {
                    job: None,
                    message: warning,
                })
                .await;
        }
        let cancellation = Cancellation::default();
        watch_signals(cancellation.clone(), Arc::clone(&signal), events.clone())?;
        let docker = DockerRuntime::connect().await.map_err(|error| {
            Failure::runtime(error.to_string())
                .with_cause(
                    std::error::Error::source(&error).map_or_else(String::new, ToString::to_string),
                )
                .with_hint(
                    "start the Docker Engine (`dockerd`, or `bash scripts/test-env.sh` in eider's \
                     repository), or point DOCKER_HOST at one",
                )
        })?;
        let run = Run::new(
            Arc::new(docker),
            drakefile.spec_version,
            engine_options,
            masker,
            events,
            cancellation,
        );
        Ok::<RunSummary, Failure>(run.run_jobs(&jobs).await)
    });
    // Dropping the runtime ends the signal watcher, which holds the last event sender: the
    // reporter then drains what is left and returns.
    drop(runtime);
    let mut reporter = rendering
        .join()
        .map_err(|_| Failure::runtime("the output thread failed"))?;
    let summary = result?;
    reporter.write_stderr(&summary_text(&summary));
    let exit_code = match signal.load(Ordering::SeqCst) {
        0 if summary.succeeded() && summary.cleanup_errors.is_empty() => exit_code::SUCCESS,
        0 => exit_code::FAILURE,
        code => code,
    };
    if exit_code == exit_code::SUCCESS {
        Ok(())
    } else {
        Err(Failure::Reported { exit_code })
    }
}

/// The engine's options: the command line first, then the config file, then the defaults.
fn engine_options(
    options: &RunOptions,
    settings: config::RunConfig,
    source_root: Utf8PathBuf,
    environment: eider_engine::environment::Variables,
) -> EngineOptions {
    EngineOptions {
        source_root,
        timeout: options
            .timeout
            .or(settings.timeout)
            .unwrap_or(eider_engine::DEFAULT_TIMEOUT),
        grace_period: options
            .grace_period
            .or(settings.grace_period)
            .unwrap_or(eider_engine::DEFAULT_GRACE_PERIOD),
        network: options.network.clone().or(settings.network),
        allow_privileged: options.allow_privileged || settings.allow_privileged,
        allow_docker_socket: options.allow_docker_socket || settings.allow_docker_socket,
        docker_socket: docker_socket(),
        seed_source_mode: match options.source_mode {
            Some(SourceMode::Rw) => SeedSourceMode::ReadWrite,
            Some(SourceMode::Copy) | None => SeedSourceMode::Copy,
        },
        keep_shared: options.keep_shared.clone(),
        environment,
    }
}

/// The named jobs, in the order given; an unknown name is a usage error listing the valid ones.
fn select_jobs<'a>(
    drakefile: &'a drakefile::Drakefile,
    names: &[String],
) -> Result<Vec<&'a Job>, Failure> {
    names
        .iter()
        .map(|name| {
            drakefile.job(name).ok_or_else(|| {
                let mut valid: Vec<&str> =
                    drakefile.jobs.iter().map(|job| job.name.as_str()).collect();
                valid.sort_unstable();
                let closest = valid
                    .iter()
                    .map(|candidate| (strsim::levenshtein(name, candidate), *candidate))
                    .filter(|(distance, _)| *distance <= 2)
                    .min()
                    .map(|(_, candidate)| candidate);
                let failure = Failure::input(format!("no job named `{name}` in the Drakefile"));
                let jobs = if valid.is_empty() {
                    "the Drakefile defines no jobs".to_owned()
                } else {
                    format!("jobs: {}", valid.join(", "))
                };
                match closest {
                    Some(closest) => {
                        failure.with_hint(format!("did you mean `{closest}`? ({jobs})"))
                    }
                    None => failure.with_hint(jobs),
                }
            })
        })
        .collect()
}

/// The project's source: the Drakefile's directory, absolute (the engine binds it).
fn source_root(drakefile: &Utf8Path) -> Result<Utf8PathBuf, Failure> {
    let absolute = drakefile.canonicalize_utf8().map_err(|error| {
        Failure::input(format!("cannot resolve {drakefile}")).with_cause(error.to_string())
    })?;
    Ok(absolute
        .parent()
        .map_or_else(|| Utf8PathBuf::from("/"), ToOwned::to_owned))
}

/// The engine's socket on this machine, for `mountDockerSocket`.
fn docker_socket() -> Utf8PathBuf {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|host| host.strip_prefix("unix://").map(Utf8PathBuf::from))
        .unwrap_or_else(|| Utf8PathBuf::from("/var/run/docker.sock"))
}

/// First SIGINT/SIGTERM: stop gracefully; second: kill at once (cleanup still runs); third:
/// exit now, leaving the rest to `eider clean`.
fn watch_signals(
    cancellation: Cancellation,
    signal: Arc<AtomicU8>,
    events: EventSender,
) -> Result<(), Failure> {
    use tokio::signal::unix::{SignalKind, signal as listen};
    let listen_failed = |error: std::io::Error| {
        Failure::runtime("cannot listen for signals").with_cause(error.to_string())
    };
    let mut interrupt = listen(SignalKind::interrupt()).map_err(listen_failed)?;
    let mut terminate = listen(SignalKind::terminate()).map_err(listen_failed)?;
    tokio::spawn(async move {
        for count in 0_u8.. {
            let code = tokio::select! {
                _ = interrupt.recv() => exit_code::INTERRUPTED,
                _ = terminate.recv() => exit_code::TERMINATED,
            };
            match count {
                // Cancel first, then tell, from a task of its own: the notice may wait behind a
                // burst of output, and the next signal must still be heard at once.
                0 => {
                    signal.store(code, Ordering::SeqCst);
                    cancellation.graceful.cancel();
                    notify(
                        &events,
                        "interrupted: stopping containers (interrupt again to kill them)",
                    );
                }
                1 => {
                    cancellation.immediate.cancel();
                    notify(&events, "killing containers, then cleaning up");
                }
                _ => std::process::exit(i32::from(signal.load(Ordering::SeqCst))),
            }
        }
    });
    Ok(())
}

/// Sends a warning without waiting for it to be rendered.
fn notify(events: &EventSender, message: &'static str) {
    let events = events.clone();
    tokio::spawn(async move {
        events
            .send(Event::Warning {
                job: None,
                message: message.to_owned(),
            })
            .await;
    });
}

/// The closing table: each job, its result and duration.
fn summary_text(summary: &RunSummary) -> String {
    use std::fmt::Write;
    let width = summary
        .jobs
        .iter()
        .map(|job| job.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    let passed = summary
        .jobs
        .iter()
        .filter(|job| job.outcome.succeeded())
        .count();
    let _ = writeln!(
        text,
        "{:>12} {passed} of {} job{} passed (run {})",
        "Summary",
        summary.jobs.len(),
        if summary.jobs.len() == 1 { "" } else { "s" },
        summary.run_id
    );
    for job in &summary.jobs {
        let (label, detail) = match &job.outcome {
            JobOutcome::Succeeded => ("PASS", String::new()),
            JobOutcome::Failed {
                container,
                exit_code,
                out_of_memory,
            } => (
                "FAIL",
                if *out_of_memory {
                    format!("out of memory in `{container}` (exit code {exit_code})")
                } else {
                    format!("exit code {exit_code} in `{container}`")
                },
            ),
            JobOutcome::TimedOut { after } => (
                "TIMEOUT",
                format!("timed out after {}", humantime::format_duration(*after)),
            ),
            JobOutcome::Interrupted => ("INTERRUPTED", String::new()),
            JobOutcome::Skipped => ("SKIP", "not run".to_owned()),
            JobOutcome::Error { .. } => ("ERROR", "could not run (see above)".to_owned()),
        };
        let duration = if matches!(job.outcome, JobOutcome::Skipped) {
            String::new()
        } else {
            seconds(job.duration)
        };
        let _ = writeln!(
            text,
            "{label:>12} {:<width$}  {duration:>8}  {detail}",
            job.name
        );
    }
    for error in &summary.cleanup_errors {
        let _ = writeln!(text, "warning: cleanup: {error}");
    }
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
