//! A job read back from where eider recorded it (a package's label, as the JSON of the model),
//! checked for what validation guarantees of every job it produces: the bytes may come from
//! anywhere, and a run trusts the model.

use std::collections::HashSet;

use crate::image_reference;
use crate::model::Job;
use crate::validate::names::is_valid_name;

/// A recorded job that is not one eider could have recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordedJobError {
    /// Not the JSON of a job (or with fields this eider does not know).
    #[error("not the definition of a job")]
    Json(#[source] serde_json::Error),
    /// A job whose content breaks a rule of every valid Drakefile.
    #[error("{0}")]
    Invalid(String),
}

/// The job recorded as `text`, when it is one a valid Drakefile defines.
pub fn read_recorded_job(text: &str) -> Result<Job, RecordedJobError> {
    let job: Job = serde_json::from_str(text).map_err(RecordedJobError::Json)?;
    if let Some(problem) = problem(&job) {
        return Err(RecordedJobError::Invalid(problem));
    }
    Ok(job)
}

fn problem(job: &Job) -> Option<String> {
    if !is_valid_name(&job.name) {
        return Some(format!("the job name `{}` is not a valid name", job.name));
    }
    if job.cpu_arch.is_empty() {
        return Some(format!("job `{}` has an empty cpuArch", job.name));
    }
    let mut names = HashSet::new();
    for container in &job.containers {
        if !is_valid_name(&container.name) {
            return Some(format!(
                "the container name `{}` is not a valid name",
                container.name
            ));
        }
        if !names.insert(container.name.as_str()) {
            return Some(format!("two containers are named `{}`", container.name));
        }
        if let Some(problem) = image_reference::problem(&container.image) {
            return Some(format!(
                "container `{}` has no valid image: {problem}",
                container.name
            ));
        }
        if let Some(variable) = container
            .environment
            .iter()
            .find(|variable| variable.name.is_empty() || variable.name.contains('='))
        {
            return Some(format!(
                "container `{}` has a variable named `{}`",
                container.name, variable.name
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  build:
    sourceMountMode: COPY
    sidecarContainers:
    - name: db
      image: redis:7
    primaryContainer:
      name: main
      image: busybox:1.36
      sourceMountPath: /src
      environment:
      - GREETING=hello
      command: [sh, -c]
      args: [echo hi]
      resources:
        memory:
          maxMegabytes: 512
";

    fn recorded() -> (Job, String) {
        let parsed = crate::parse("Drakefile.yaml", SOURCE).expect("a valid Drakefile");
        let job = parsed.drakefile.jobs[0].clone();
        let text = serde_json::to_string(&job).expect("JSON");
        (job, text)
    }

    #[test]
    fn a_recorded_job_reads_back_as_the_same_job() {
        let (job, text) = recorded();
        assert_eq!(read_recorded_job(&text).expect("valid"), job);
    }

    #[test]
    fn a_field_this_eider_does_not_know_is_refused() {
        let (_, text) = recorded();
        let mut value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        value["containers"][1]["gpus"] = serde_json::json!(1);
        assert!(matches!(
            read_recorded_job(&value.to_string()),
            Err(RecordedJobError::Json(_))
        ));
    }

    #[test]
    fn a_job_no_drakefile_could_define_is_refused() {
        let (_, text) = recorded();
        let mut value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        value["containers"][0]["name"] = serde_json::json!("main");
        let Err(RecordedJobError::Invalid(problem)) = read_recorded_job(&value.to_string()) else {
            panic!("a duplicate container name was accepted");
        };
        assert!(problem.contains("`main`"), "{problem}");
        value["containers"][0]["name"] = serde_json::json!("db");
        value["containers"][0]["image"] = serde_json::json!("Not An Image");
        assert!(matches!(
            read_recorded_job(&value.to_string()),
            Err(RecordedJobError::Invalid(_))
        ));
    }
}
