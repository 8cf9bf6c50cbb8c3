//! What a run runs: jobs named on the command line, one pipeline, or the pipelines an event
//! selects by their triggers; and the plan that `--dry-run` prints.

use std::fmt::Write as _;

use camino::Utf8Path;
use drakefile::triggers::{self, Event as TriggerEvent};
use drakefile::{Drakefile, Job, Pipeline};
use eider_engine::schedule::Dag;

use crate::cli::{EventKind, RunOptions};
use crate::failure::Failure;

/// What to run.
#[derive(Debug)]
pub enum Selection<'a> {
    /// Jobs in order, each only if the previous one succeeded.
    Jobs(Vec<&'a Job>),
    /// Pipelines, each a run of its own.
    Pipelines(Vec<&'a Pipeline>),
}

impl Selection<'_> {
    /// Every job that may run, once each, in order of first appearance.
    pub fn job_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let mut add = |name: &str| {
            if !names.iter().any(|known| known == name) {
                names.push(name.to_owned());
            }
        };
        match self {
            Selection::Jobs(jobs) => jobs.iter().for_each(|job| add(&job.name)),
            Selection::Pipelines(pipelines) => pipelines
                .iter()
                .flat_map(|pipeline| &pipeline.jobs)
                .for_each(|job| add(&job.name)),
        }
        names
    }

    /// The execution plan: stages of jobs that may run together.
    pub fn plan_text(&self) -> String {
        let mut text = String::new();
        match self {
            Selection::Jobs(jobs) => {
                let _ = writeln!(text, "jobs, one after the other:");
                for (index, job) in jobs.iter().enumerate() {
                    let _ = writeln!(text, "  stage {}: {}", index + 1, job.name);
                }
            }
            Selection::Pipelines(pipelines) => {
                if pipelines.is_empty() {
                    let _ = writeln!(text, "no pipeline to run");
                }
                for pipeline in pipelines {
                    let dag = Dag::from_pipeline(pipeline);
                    let stages = dag.stages();
                    let _ = writeln!(
                        text,
                        "pipeline {}: {} job{} in {} stage{}",
                        pipeline.name,
                        dag.len(),
                        if dag.len() == 1 { "" } else { "s" },
                        stages.len(),
                        if stages.len() == 1 { "" } else { "s" }
                    );
                    for (index, stage) in stages.iter().enumerate() {
                        let names: Vec<&str> = stage.iter().map(|&job| dag.name(job)).collect();
                        let _ = writeln!(text, "  stage {}: {}", index + 1, names.join(", "));
                    }
                }
            }
        }
        text
    }
}

/// Decides what to run from the command line; also returns notes about skipped triggers.
pub fn select<'a>(
    drakefile: &'a Drakefile,
    options: &RunOptions,
    source_root: &Utf8Path,
) -> Result<(Selection<'a>, Vec<String>), Failure> {
    if let Some(name) = &options.pipeline {
        let pipeline = select_pipeline(drakefile, name)?;
        return Ok((Selection::Pipelines(vec![pipeline]), Vec::new()));
    }
    if let Some(kind) = options.event {
        let event = event(kind, options, source_root)?;
        let outcome = triggers::select(drakefile, &event)
            .map_err(|error| Failure::input(error.to_string()).with_sources_of(&error))?;
        let mut notes: Vec<String> = outcome.notes.iter().map(ToString::to_string).collect();
        if outcome.selected.is_empty() {
            notes.push(format!("no pipeline's triggers match {}", describe(&event)));
        }
        let pipelines = outcome
            .selected
            .iter()
            .filter_map(|selection| drakefile.pipeline(&selection.pipeline))
            .collect();
        return Ok((Selection::Pipelines(pipelines), notes));
    }
    Ok((
        Selection::Jobs(select_jobs(drakefile, &options.jobs)?),
        Vec::new(),
    ))
}

/// The event of `--event`, `--branch`, `--tag`, defaulting to the source root's git state.
pub fn event(
    kind: EventKind,
    options: &RunOptions,
    source_root: &Utf8Path,
) -> Result<TriggerEvent, Failure> {
    event_from(
        kind,
        options.event_ref.branch.as_deref(),
        options.event_ref.tag.as_deref(),
        source_root,
    )
}

/// The event for `kind` with an explicit branch or tag, else the source root's git state.
pub fn event_from(
    kind: EventKind,
    branch: Option<&str>,
    tag: Option<&str>,
    source_root: &Utf8Path,
) -> Result<TriggerEvent, Failure> {
    let from_git = || {
        crate::git_event::event_from_git(source_root).map_err(|message| {
            Failure::input(format!("cannot tell the event from git: {message}"))
                .with_hint("pass --branch NAME or --tag NAME")
        })
    };
    match (kind, branch, tag) {
        (EventKind::Push, Some(branch), _) => Ok(TriggerEvent::PushBranch(branch.to_owned())),
        (EventKind::Push, None, Some(tag)) => Ok(TriggerEvent::PushTag(tag.to_owned())),
        (EventKind::Push, None, None) => from_git(),
        (EventKind::PullRequest, Some(branch), _) => Ok(TriggerEvent::PullRequest {
            target_branch: branch.to_owned(),
        }),
        (EventKind::PullRequest, None, Some(_)) => Err(Failure::input(
            "a pull request is matched on its target branch, not a tag",
        )
        .with_hint("pass --branch TARGET")),
        (EventKind::PullRequest, None, None) => match from_git()? {
            TriggerEvent::PushBranch(branch) => Ok(TriggerEvent::PullRequest {
                target_branch: branch,
            }),
            _ => Err(
                Failure::input("no branch is checked out to take as the target")
                    .with_hint("pass --branch TARGET"),
            ),
        },
    }
}

/// `push of branch main`, for notes.
pub fn describe(event: &TriggerEvent) -> String {
    match event {
        TriggerEvent::PushBranch(branch) => format!("a push of branch {branch}"),
        TriggerEvent::PushTag(tag) => format!("a push of tag {tag}"),
        TriggerEvent::PullRequest { target_branch } => {
            format!("a pull request to {target_branch}")
        }
    }
}

/// The named pipeline; an unknown name is a usage error listing the valid ones.
pub fn select_pipeline<'a>(drakefile: &'a Drakefile, name: &str) -> Result<&'a Pipeline, Failure> {
    drakefile.pipeline(name).ok_or_else(|| {
        unknown(
            "pipeline",
            name,
            drakefile
                .pipelines
                .iter()
                .map(|pipeline| pipeline.name.as_str()),
        )
    })
}

/// The named jobs, in the order given; an unknown name is a usage error listing the valid ones.
pub fn select_jobs<'a>(
    drakefile: &'a Drakefile,
    names: &[String],
) -> Result<Vec<&'a Job>, Failure> {
    names
        .iter()
        .map(|name| {
            drakefile.job(name).ok_or_else(|| {
                unknown(
                    "job",
                    name,
                    drakefile.jobs.iter().map(|job| job.name.as_str()),
                )
            })
        })
        .collect()
}

/// "no job named `x`", with the closest name and the valid ones.
pub(crate) fn unknown<'a>(kind: &str, name: &str, names: impl Iterator<Item = &'a str>) -> Failure {
    let mut valid: Vec<&str> = names.collect();
    valid.sort_unstable();
    let closest = valid
        .iter()
        .map(|candidate| (strsim::levenshtein(name, candidate), *candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, candidate)| candidate);
    let failure = Failure::input(format!("no {kind} named `{name}` in the Drakefile"));
    let listed = if valid.is_empty() {
        format!("the Drakefile defines no {kind}s")
    } else {
        format!("{kind}s: {}", valid.join(", "))
    };
    match closest {
        Some(closest) => failure.with_hint(format!("did you mean `{closest}`? ({listed})")),
        None => failure.with_hint(listed),
    }
}
