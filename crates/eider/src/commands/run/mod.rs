//! `eider run`: jobs named on the command line (in order, each only if the previous one
//! succeeded), one pipeline (`-p`, as a DAG), or every pipeline an event selects by its triggers
//! (`--event`), on the Docker Engine.

pub(crate) mod cluster_source;
mod result_code;
pub(crate) mod selection;
mod signals;
mod summary;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use camino::{Utf8Path, Utf8PathBuf};
use eider_engine::mask::Masker;
use eider_engine::schedule::FailurePolicy;
use eider_engine::{Cancellation, Event, Run, RunSettings, SeedSourceMode};
use eider_package::LockFile;
use eider_package::verify::{Package, Verification};
use eider_runtime::Runtime;

use crate::backend::{Backend, BackendChoice};
use crate::cli::{BackendKind, ColorChoice, RunOptions, SourceMode};
use crate::commands::{load, print_stdout};
use crate::discover::Located;
use crate::duration::PositiveDuration;
use crate::exit_code;
use crate::failure::Failure;
use crate::render::Output;
use crate::report::{self, RunRecord};
use crate::reporter::{Colors, Reporter};
use crate::{config, environment};

use selection::Selection;
pub use selection::event_from;

/// The Drakefile as the run uses it: under `--locked`, every image at its locked digest; under
/// `--packaged`, the selected jobs' primaries running their packages.
fn prepared_drakefile(
    options: &RunOptions,
    located: &Located,
    source_root: &Utf8Path,
    output: Output,
) -> Result<drakefile::Drakefile, Failure> {
    let parsed = load(located, output)?;
    let mut drakefile = parsed.drakefile;
    if options.locked {
        // Before the selection and before `--dry-run`: a dry run shows what the real run would
        // do, and the real run refuses a Drakefile its lock does not cover. The lock is a local
        // file, so a dry run still needs no engine. Without `--locked`, no lock is read at all.
        let lock_path = LockFile::path_for(&located.path);
        LockFile::load(&lock_path)?.pin(&mut drakefile, &lock_path)?;
    }
    // A dry run packages nothing: it only shows the plan.
    if options.packaged && !options.dry_run {
        let jobs = selection::select(&drakefile, options, source_root)?
            .0
            .job_names();
        crate::commands::package::package_for_run(
            &mut drakefile,
            &jobs,
            options.locked,
            options.environment.secrets.as_deref(),
            located,
            output,
        )?;
    }
    Ok(drakefile)
}

/// Runs what the command line asks for.
pub fn run(
    options: &RunOptions,
    located: &Located,
    color: ColorChoice,
    output: Output,
) -> Result<(), Failure> {
    let source_root = source_root(&located.path)?;
    let drakefile = prepared_drakefile(options, located, &source_root, output)?;
    run_drakefile(options, &drakefile, source_root, color)
}

/// Runs what `options` selects of `drakefile`, whose source tree is at `source_root`.
pub fn run_drakefile(
    options: &RunOptions,
    drakefile: &drakefile::Drakefile,
    source_root: Utf8PathBuf,
    color: ColorChoice,
) -> Result<(), Failure> {
    let (selection, notes) = selection::select(drakefile, options, &source_root)?;
    run_selection(
        options,
        drakefile,
        &selection,
        notes,
        source_root,
        JobsFrom::Drakefile,
        color,
    )
}

/// The package named where a job's name may stand, if the command line names one.
pub fn package_reference(options: &RunOptions) -> Option<&str> {
    options
        .jobs
        .iter()
        .map(String::as_str)
        .find(|job| eider_package::ImageLocation::is_written_as_image(job))
}

/// `eider run PACKAGE`: the job the package records, from the package, with no Drakefile.
pub fn run_reference(
    options: &RunOptions,
    reference: &str,
    color: ColorChoice,
    output: Output,
) -> Result<(), Failure> {
    if options.jobs.len() > 1 {
        return Err(Failure::input(format!(
            "{reference} is a package: it runs alone, not with other jobs or packages"
        ))
        .with_hint("run each package with an eider run of its own"));
    }
    for (given, flag) in [
        (options.locked, "--locked"),
        (options.packaged, "--packaged"),
    ] {
        if given {
            return Err(Failure::input(format!(
                "{flag} applies to the jobs of a Drakefile, not to a package"
            ))
            .with_hint(format!(
                "{reference} already pins its images: run it without {flag}"
            )));
        }
    }
    // Before anything is fetched: where the package runs.
    let target = PackageTarget::of(options)?;
    let runtime = crate::commands::async_runtime()?;
    // A package run again is not hashed again while its files are untouched; any write to
    // them since they were found whole means they are read again.
    let package = crate::commands::verify::open_verified(
        reference,
        &options.registry,
        None,
        Verification::ReuseVerified,
        &runtime,
        output,
    )?;
    run_verified(options, &package, &target, None, &runtime, color)
}

/// Where a package runs: loaded into the local engine, or pulled by a cluster from a registry.
pub enum PackageTarget {
    /// The local Docker Engine.
    LocalEngine,
    /// A cluster, which pulls it where it was read from, or from this repository, where a
    /// package outside any registry is pushed first.
    Cluster(Option<eider_registry::Repository>),
}

impl PackageTarget {
    /// The target the run's options and config file choose; a repository to push to is checked
    /// here, before anything is fetched.
    pub fn of(options: &RunOptions) -> Result<Self, Failure> {
        let config = config::load(
            options.config_file.config.as_deref(),
            &crate::discover::current_directory()?,
        )?
        .config;
        let backend = BackendChoice::for_run(options, &config);
        Ok(match backend.kind {
            BackendKind::Docker => Self::LocalEngine,
            BackendKind::Kubernetes => Self::Cluster(
                backend
                    .source
                    .registry
                    .as_deref()
                    .map(cluster_source::repository)
                    .transpose()?,
            ),
        })
    }
}

/// Runs the job that the verified `package` records where `target` says. `source_tree` (the
/// tree of the Drakefile the package was checked against) is for sidecars that mount the
/// source, on the local engine.
pub fn run_verified(
    options: &RunOptions,
    package: &Package,
    target: &PackageTarget,
    source_tree: Option<Utf8PathBuf>,
    runtime: &tokio::runtime::Runtime,
    color: ColorChoice,
) -> Result<(), Failure> {
    match target {
        PackageTarget::LocalEngine => run_package(options, package, source_tree, runtime, color),
        PackageTarget::Cluster(repository) => {
            run_package_on_cluster(options, package, repository.as_ref(), runtime, color)
        }
    }
}

/// Runs the job the verified `package` records on a cluster, which pulls the package from a
/// registry: where it was read from, or `repository`, where it is pushed first.
fn run_package_on_cluster(
    options: &RunOptions,
    package: &Package,
    repository: Option<&eider_registry::Repository>,
    runtime: &tokio::runtime::Runtime,
    color: ColorChoice,
) -> Result<(), Failure> {
    let recorded = package.recorded_job()?;
    // A cluster has no source tree to give a sidecar.
    if let Some(container) = recorded.sidecar_mounting_source() {
        return Err(eider_package::verify::VerifyError::SidecarMountsSource {
            package: package.location().to_owned(),
            container: container.to_owned(),
        }
        .into());
    }
    let drakefile = if options.dry_run {
        recorded.drakefile(None)
    } else {
        let access = crate::registry_retry::registry_access(&options.registry)?;
        let reporter = crate::package_reporter::PackageReporter::new(Output::new(color));
        let image = runtime.block_on(package.cluster_image(repository, &access, &reporter))?;
        recorded.drakefile_running(&image.to_string())
    };
    let selection = Selection::Jobs(selection::select_jobs(
        &drakefile,
        std::slice::from_ref(&recorded.job.name),
    )?);
    run_selection(
        options,
        &drakefile,
        &selection,
        Vec::new(),
        crate::discover::current_directory()?,
        JobsFrom::PulledPackage,
        color,
    )
}

/// Runs the job that the verified `package` records, from the package loaded into the local
/// engine, as `options` say. Its sidecars that mount the source get `source_tree` (the tree of
/// the Drakefile the package was checked against); without one, such a job is refused, and the
/// run's settings (the default secrets file, the config file's warnings) are those of where
/// eider runs.
fn run_package(
    options: &RunOptions,
    package: &Package,
    source_tree: Option<Utf8PathBuf>,
    runtime: &tokio::runtime::Runtime,
    color: ColorChoice,
) -> Result<(), Failure> {
    let has_tree = source_tree.is_some();
    let source_root = match source_tree {
        Some(root) => root,
        None => crate::discover::current_directory()?,
    };
    let (drakefile, job) = if options.dry_run {
        // A dry run shows the plan and loads nothing into the engine.
        let recorded = package.recorded_job()?;
        let job = recorded.job.name.clone();
        (recorded.drakefile(None), job)
    } else {
        let packaged = runtime.block_on(package.prepare_run(has_tree))?;
        (packaged.drakefile, packaged.job)
    };
    let selection = Selection::Jobs(selection::select_jobs(&drakefile, &[job])?);
    run_selection(
        options,
        &drakefile,
        &selection,
        Vec::new(),
        source_root,
        JobsFrom::LoadedPackage,
        color,
    )
}

/// A package loaded into the local engine runs there: on Docker only.
fn refuse_a_package_off_docker(backend: &BackendChoice) -> Result<(), Failure> {
    if backend.kind == BackendKind::Docker {
        return Ok(());
    }
    Err(
        Failure::input("a package runs on the Docker backend: it is loaded into the local engine")
            .with_hint("run it with --backend docker"),
    )
}

/// Where the jobs of a run come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobsFrom {
    /// A Drakefile and its tree.
    Drakefile,
    /// A package loaded into the local Docker Engine.
    LoadedPackage,
    /// A package a cluster pulls from a registry.
    PulledPackage,
}

/// What a dry run prints: the plan, then every job the run would refuse.
fn show_plan(
    options: &RunOptions,
    drakefile: &drakefile::Drakefile,
    selection: &Selection<'_>,
    settings: &config::RunConfig,
    color: ColorChoice,
) -> Result<(), Failure> {
    print_stdout(&selection.plan_text())?;
    let jobs = selection::select_jobs(drakefile, &selection.job_names())?;
    let permissions = options.permissions.granted(settings);
    crate::commands::refusals::show(&jobs, permissions, Output::new(color))
}

/// Runs `selection` of `drakefile`, whose source tree is at `source_root`.
fn run_selection(
    options: &RunOptions,
    drakefile: &drakefile::Drakefile,
    selection: &Selection<'_>,
    notes: Vec<String>,
    source_root: Utf8PathBuf,
    from: JobsFrom,
    color: ColorChoice,
) -> Result<(), Failure> {
    let loaded_config = config::load(options.config_file.config.as_deref(), &source_root)?;
    if options.dry_run {
        return show_plan(
            options,
            drakefile,
            selection,
            &loaded_config.config.run,
            color,
        );
    }
    let mut backend = BackendChoice::for_run(options, &loaded_config.config);
    if from == JobsFrom::LoadedPackage {
        refuse_a_package_off_docker(&backend)?;
    }
    let settings = loaded_config.config.run;
    let mut external = environment::collect(&options.environment, &source_root)?;
    let masker = Arc::new(Masker::new(
        external
            .secrets
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    ));
    let mut warnings = notes;
    warnings.extend(loaded_config.warnings);
    warnings.extend(std::mem::take(&mut external.warnings));
    warnings.extend(more_warnings(&masker, options, drakefile));
    let run_settings = run_settings(options, &settings, source_root, external);
    let source_publication = if backend.kind == BackendKind::Kubernetes {
        // Before anything is created: what a cluster cannot do is said first.
        let jobs = selection::select_jobs(drakefile, &selection.job_names())?;
        cluster_source::check_and_plan(&backend, drakefile, &jobs, &run_settings, options)?
    } else {
        None
    };
    let concurrency = options
        .concurrency
        .map_or_else(|| backend.default_concurrency(), usize::from);
    let policy = if options.keep_going {
        FailurePolicy::KeepGoing
    } else {
        FailurePolicy::FailFast
    };

    let runtime = crate::commands::async_runtime()?;
    if let Some(publication) = &source_publication {
        // Published before the run's output starts: its progress has the terminal to itself.
        backend.cluster.source_image =
            Some(runtime.block_on(publication.publish(Output::new(color)))?);
    }
    let (events, receiver) = eider_engine::channel();
    let mut reporter = Reporter::new(Colors::new(color), Arc::clone(&masker));
    if !options.report.is_empty() {
        reporter = reporter.capturing();
    }
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
        signals::watch_signals(cancellation.clone(), Arc::clone(&signal), events.clone())?;
        let context = RunContext {
            drakefile,
            run_settings: &run_settings,
            masker: &masker,
            events: &events,
            cancellation: &cancellation,
        };
        let records = match backend.connect().await? {
            Backend::Docker(docker) => {
                execute(Arc::new(docker), &context, selection, concurrency, policy).await
            }
            Backend::Kubernetes(cluster) => {
                execute(Arc::new(cluster), &context, selection, concurrency, policy).await
            }
        };
        Ok::<Vec<RunRecord>, Failure>(records)
    });
    // Dropping the runtime ends the signal watcher, and with `events` gone no sender remains:
    // the reporter then drains what is left and returns.
    drop(runtime);
    drop(events);
    let mut reporter = rendering
        .join()
        .map_err(|_| Failure::runtime("the output thread failed"))?;
    let records = result?;
    conclude(
        options,
        drakefile,
        &records,
        &mut reporter,
        signal.load(Ordering::SeqCst),
    )
}

/// Ends a run that took place: the summary of each of its runs, the reports, and the exit code
/// (the signal's, when one ended it).
fn conclude(
    options: &RunOptions,
    drakefile: &drakefile::Drakefile,
    records: &[RunRecord],
    reporter: &mut Reporter,
    signal: u8,
) -> Result<(), Failure> {
    for record in records {
        reporter.write_stderr(&summary::summary_text(record, drakefile));
    }
    report::write_all(&options.report, records, &reporter.take_captured())?;
    let exit_code = match signal {
        0 => result_code::of(records),
        code => code,
    };
    if exit_code == exit_code::SUCCESS {
        Ok(())
    } else {
        Err(Failure::Reported { exit_code })
    }
}

/// Warnings about the options: unmasked short secrets, a source mode that does not apply.
fn more_warnings(
    masker: &Masker,
    options: &RunOptions,
    drakefile: &drakefile::Drakefile,
) -> Vec<String> {
    let mut warnings = Vec::new();
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
    warnings
}

/// What every run of one invocation shares.
struct RunContext<'a> {
    drakefile: &'a drakefile::Drakefile,
    run_settings: &'a RunSettings,
    masker: &'a Arc<Masker>,
    events: &'a eider_engine::EventSender,
    cancellation: &'a Cancellation,
}

/// Runs the selection on `runtime`; pipelines selected together run at the same time, each in
/// a run of its own: its own id, storage and copies. What dead eiders of this machine left (a
/// `kill -9`, a third Ctrl-C) goes while the runs work, silently: nothing of a live eider,
/// nothing without eider's labels.
async fn execute<R: Runtime>(
    runtime: Arc<R>,
    context: &RunContext<'_>,
    selection: &Selection<'_>,
    concurrency: usize,
    policy: FailurePolicy,
) -> Vec<RunRecord> {
    let (records, _swept) = tokio::join!(
        execute_runs(&runtime, context, selection, concurrency, policy),
        eider_engine::sweep_abandoned(runtime.as_ref())
    );
    records
}

async fn execute_runs<R: Runtime>(
    runtime: &Arc<R>,
    context: &RunContext<'_>,
    selection: &Selection<'_>,
    concurrency: usize,
    policy: FailurePolicy,
) -> Vec<RunRecord> {
    let new_run = || {
        Run::new(
            Arc::clone(runtime),
            context.drakefile.spec_version,
            context.run_settings.clone(),
            Arc::clone(context.masker),
            context.events.clone(),
            context.cancellation.clone(),
        )
    };
    match selection {
        Selection::Jobs(jobs) => {
            let started = Instant::now();
            let summary = new_run().run_jobs(jobs).await;
            vec![RunRecord {
                pipeline: None,
                summary,
                wall_time: started.elapsed(),
            }]
        }
        Selection::Pipelines(pipelines) => {
            let runs = pipelines.iter().map(|pipeline| {
                let run = new_run();
                async move {
                    let started = Instant::now();
                    let summary = run
                        .run_pipeline(context.drakefile, pipeline, concurrency, policy)
                        .await;
                    RunRecord {
                        pipeline: Some(pipeline.name.clone()),
                        summary,
                        wall_time: started.elapsed(),
                    }
                }
            });
            futures_util::future::join_all(runs).await
        }
    }
}

/// The engine's options: the command line first, then the config file, then the defaults.
fn run_settings(
    options: &RunOptions,
    settings: &config::RunConfig,
    source_root: Utf8PathBuf,
    environment: environment::External,
) -> RunSettings {
    RunSettings {
        source_root,
        timeout: options
            .timeout
            .or(settings.timeout)
            .map_or(eider_engine::DEFAULT_TIMEOUT, PositiveDuration::get),
        grace_period: options
            .grace_period
            .or(settings.grace_period)
            .map_or(eider_engine::DEFAULT_GRACE_PERIOD, PositiveDuration::get),
        permissions: options.permissions.granted(settings),
        seed_source_mode: match options.source_mode {
            Some(SourceMode::Rw) => SeedSourceMode::ReadWrite,
            Some(SourceMode::Copy) | None => SeedSourceMode::Copy,
        },
        keep_shared: options.keep_shared.clone(),
        log_limit: options
            .log_limit
            .or(settings.log_limit)
            .unwrap_or_default()
            .bytes(),
        environment: environment.variables,
        secrets: environment.secrets,
    }
}

/// The project's source: the Drakefile's directory, absolute (the engine binds it).
pub(crate) fn source_root(drakefile: &Utf8Path) -> Result<Utf8PathBuf, Failure> {
    let absolute = drakefile.canonicalize_utf8().map_err(|error| {
        Failure::input(format!("cannot resolve {drakefile}")).with_cause(error.to_string())
    })?;
    Ok(absolute
        .parent()
        .map_or_else(|| Utf8PathBuf::from("/"), ToOwned::to_owned))
}
