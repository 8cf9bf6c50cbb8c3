//! Builds large, valid Drakefiles (`DrakeSpec` v0.6.0) in memory, deterministically.
//!
//! Both styles describe the same jobs, containers and pipelines, so after merge keys are resolved
//! they normalize to the same model; only the text differs. That keeps the two timings
//! comparable: the difference is what anchors and merge keys cost (or save).

use std::fmt::{self, Write as _};

/// How large the generated Drakefile is.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Number of jobs.
    pub jobs: usize,
    /// Containers per job: one primary, the rest sidecars.
    pub containers_per_job: usize,
    /// Number of pipelines.
    pub pipelines: usize,
    /// Distinct jobs listed by each pipeline; at most `jobs`.
    pub jobs_per_pipeline: usize,
}

impl Shape {
    /// The size the performance target is stated for: 2,000 jobs of 10 containers, 50 pipelines.
    pub const TARGET: Self = Self {
        jobs: 2_000,
        containers_per_job: 10,
        pipelines: 50,
        jobs_per_pipeline: 40,
    };
}

/// How the containers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// The realistic style: containers merge a base mapping from `snippets` (`<<: *base3`) and
    /// add their name and a field or two.
    Anchored,
    /// Every container written out in full, with no anchors or aliases.
    Expanded,
}

impl Style {
    /// Both styles, in the order they are reported.
    pub const ALL: [Self; 2] = [Self::Anchored, Self::Expanded];

    /// The name shown in the results table.
    pub fn name(self) -> &'static str {
        match self {
            Self::Anchored => "anchored",
            Self::Expanded => "expanded",
        }
    }
}

/// How many distinct base containers (one image each) the jobs draw from.
const TOOLS: usize = 12;

/// Sidecar names; a job with more sidecars than these repeats them with a numeric suffix.
const SIDECAR_KINDS: [&str; 9] = [
    "redis",
    "postgres",
    "minio",
    "vault",
    "kafka",
    "zookeeper",
    "etcd",
    "nats",
    "mailhog",
];

/// The Drakefile text for `shape` written in `style`.
pub fn text(style: Style, shape: &Shape) -> String {
    assert!(
        shape.jobs_per_pipeline <= shape.jobs,
        "a pipeline lists each job at most once, so it cannot list more jobs than exist"
    );
    // About 100 bytes per anchored container and 350 per expanded one.
    let per_container = match style {
        Style::Anchored => 100,
        Style::Expanded => 350,
    };
    let mut text = String::with_capacity(shape.jobs * shape.containers_per_job * per_container);
    write_drakefile(&mut text, style, shape).expect("formatting into a String cannot fail");
    text
}

fn write_drakefile(out: &mut String, style: Style, shape: &Shape) -> fmt::Result {
    writeln!(out, "specUri: github.com/lovethedrake/drakespec")?;
    writeln!(out, "specVersion: v0.6.0")?;
    if style == Style::Anchored {
        writeln!(out, "snippets:")?;
        for tool in 0..TOOLS {
            writeln!(out, "  base{tool}: &base{tool}")?;
            write_base_fields(out, "    ", tool)?;
        }
    }
    writeln!(out, "jobs:")?;
    for job in 0..shape.jobs {
        write_job(out, style, shape, job)?;
    }
    writeln!(out, "pipelines:")?;
    for pipeline in 0..shape.pipelines {
        write_pipeline(out, shape, pipeline)?;
    }
    Ok(())
}

fn write_job(out: &mut String, style: Style, shape: &Shape, job: usize) -> fmt::Result {
    writeln!(out, "  {}:", job_name(job))?;
    // A few jobs copy their source instead of mounting it read-only; `RW` would bar them from
    // pipelines.
    if job.is_multiple_of(5) {
        writeln!(out, "    sourceMountMode: COPY")?;
    }
    writeln!(out, "    primaryContainer:")?;
    write_container(out, style, "      ", "      ", job, 0)?;
    if shape.containers_per_job > 1 {
        writeln!(out, "    sidecarContainers:")?;
        for container in 1..shape.containers_per_job {
            write_container(out, style, "    - ", "      ", job, container)?;
        }
    }
    Ok(())
}

/// Writes one container. `first` prefixes its first line (a list dash for sidecars), `indent`
/// every later one.
fn write_container(
    out: &mut String,
    style: Style,
    first: &str,
    indent: &str,
    job: usize,
    container: usize,
) -> fmt::Result {
    let tool = (job * 7 + container * 3) % TOOLS;
    let name = container_name(container);
    match style {
        Style::Anchored => {
            writeln!(out, "{first}<<: *base{tool}")?;
            writeln!(out, "{indent}name: {name}")?;
        }
        Style::Expanded => {
            writeln!(out, "{first}name: {name}")?;
            write_base_fields(out, indent, tool)?;
        }
    }
    if container == 0 {
        writeln!(out, "{indent}args: [\"make\", \"{}\"]", job_name(job))?;
    } else {
        writeln!(out, "{indent}args: [\"--shard={job}\"]")?;
    }
    Ok(())
}

/// The fields a base snippet holds, which an expanded container repeats.
fn write_base_fields(out: &mut String, indent: &str, tool: usize) -> fmt::Result {
    writeln!(
        out,
        "{indent}image: registry.local/ci/tool-{tool}:1.{}",
        tool % 5
    )?;
    writeln!(out, "{indent}environment:")?;
    writeln!(out, "{indent}- CI=true")?;
    writeln!(out, "{indent}- TOOL=tool-{tool}")?;
    writeln!(out, "{indent}command:")?;
    writeln!(out, "{indent}- /bin/sh")?;
    writeln!(out, "{indent}- \"-c\"")?;
    writeln!(out, "{indent}sourceMountPath: /workspace/src")?;
    writeln!(out, "{indent}resources:")?;
    writeln!(out, "{indent}  cpu:")?;
    writeln!(out, "{indent}    maxMillicores: {}", 500 + tool * 100)?;
    Ok(())
}

fn write_pipeline(out: &mut String, shape: &Shape, pipeline: usize) -> fmt::Result {
    writeln!(out, "  pipeline-{pipeline:02}:")?;
    writeln!(out, "    jobs:")?;
    // Consecutive jobs, wrapping around: distinct as long as `jobs_per_pipeline <= jobs`.
    let listed = |entry: usize| (pipeline * shape.jobs_per_pipeline + entry) % shape.jobs;
    for entry in 0..shape.jobs_per_pipeline {
        writeln!(out, "    - name: {}", job_name(listed(entry)))?;
        if entry == 0 {
            continue;
        }
        // Dependencies only on earlier entries, fanning out like a tree.
        let first = (entry - 1) / 2;
        let second = (entry - 1) / 3;
        if first == second {
            writeln!(out, "      dependencies: [{}]", job_name(listed(first)))?;
        } else {
            writeln!(
                out,
                "      dependencies: [{}, {}]",
                job_name(listed(first)),
                job_name(listed(second))
            )?;
        }
    }
    Ok(())
}

fn job_name(job: usize) -> String {
    format!("job-{job:04}")
}

fn container_name(container: usize) -> String {
    let Some(sidecar) = container.checked_sub(1) else {
        return "main".to_owned();
    };
    let kind = SIDECAR_KINDS[sidecar % SIDECAR_KINDS.len()];
    match sidecar / SIDECAR_KINDS.len() {
        0 => kind.to_owned(),
        round => format!("{kind}-{round}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Shape, Style, text};

    const SMALL: Shape = Shape {
        jobs: 6,
        containers_per_job: 12,
        pipelines: 3,
        jobs_per_pipeline: 4,
    };

    #[test]
    fn both_styles_are_valid_drakefiles() {
        for style in Style::ALL {
            let document = text(style, &SMALL);
            if let Err(report) = drakefile::parse(style.name(), &document) {
                let messages: Vec<_> = report
                    .renderable()
                    .map(|diagnostic| diagnostic.to_string())
                    .collect();
                panic!(
                    "{} style is invalid: {messages:#?}\n{document}",
                    style.name()
                );
            }
        }
    }

    #[test]
    fn the_anchored_style_merges_snippets() {
        let document = text(Style::Anchored, &SMALL);
        assert!(document.contains("  base0: &base0\n"));
        assert!(document.contains("      <<: *base"));
    }
}
