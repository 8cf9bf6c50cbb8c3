//! `eider clean`: removes what a crashed eider left behind, found by label (never by name), on
//! the local engine or on a cluster.

use crate::backend::{Backend, BackendChoice};
use crate::cli::{BackendKind, CleanOptions};
use crate::failure::Failure;
use crate::render::Output;

/// Removes leftovers of eider processes that are gone (all of them with `--all`): containers
/// and volumes in the engine, and the temporary files of packaging in the cache (only of gone
/// processes, even with `--all`: a running package still writes them).
pub fn run(options: &CleanOptions, output: Output) -> Result<(), Failure> {
    let temporary = eider_package::sweep_cache();
    if temporary > 0 {
        output.note(&format!(
            "removed {temporary} temporary file{} of interrupted packaging",
            plural(temporary, "", "s")
        ));
    }
    let source_root = camino::Utf8PathBuf::from(".");
    let config = crate::config::load(options.config_file.config.as_deref(), &source_root)?.config;
    let choice = BackendChoice::of(&options.backend, &config);
    let runtime = crate::commands::async_runtime()?;
    let report = runtime.block_on(async {
        Ok::<_, Failure>(match choice.connect().await? {
            Backend::Docker(docker) => eider_engine::clean(&docker, options.all).await,
            Backend::Kubernetes(cluster) => eider_engine::clean(&cluster, options.all).await,
        })
    })?;
    let (workload, storage) = match choice.kind {
        BackendKind::Docker => ("container", "volume"),
        BackendKind::Kubernetes => ("Pod", "other object"),
    };
    let mut lines = Vec::new();
    lines.push(format!(
        "removed {} {workload}{} and {} {storage}{}",
        report.containers.len(),
        plural(report.containers.len(), "", "s"),
        report.volumes.len(),
        plural(report.volumes.len(), "", "s"),
    ));
    if report.in_use > 0 {
        lines.push(format!(
            "left {} resource{} of running eider processes alone (use --all to remove them too)",
            report.in_use,
            plural(report.in_use, "", "s")
        ));
    }
    output.note(&lines.join("\n"));
    if report.errors.is_empty() {
        Ok(())
    } else {
        let mut failure = Failure::runtime("some leftovers could not be removed");
        for error in report.errors {
            failure = failure.with_cause(error);
        }
        Err(failure)
    }
}

fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}
