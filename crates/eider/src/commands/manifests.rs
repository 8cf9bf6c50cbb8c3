//! `eider manifests`: the Kubernetes objects that would run the selected jobs on a cluster,
//! printed as multi-document YAML. No cluster is contacted, and no secret value is printed.

use std::collections::BTreeMap;

use drakefile::{Drakefile, Job, Permissions};
use eider_engine::plan::{self, PlanContext, SourceNeed};
use eider_engine::{DEFAULT_TIMEOUT, RunSettings, labels};
use eider_runtime::{SourceView, Storage};
use eider_runtime_kubernetes::{
    DEFAULT_SHARED_STORAGE_SIZE, PodSettings, SharedStorageClaim, Unsupported, pod,
    run_object_name, run_secret, shared_storage_claim,
};
use k8s_openapi::api::core::v1::Pod;

use crate::cli::ManifestsOptions;
use crate::commands::run::selection::{select_jobs, select_pipeline};
use crate::discover::Located;
use crate::duration::PositiveDuration;
use crate::failure::Failure;
use crate::render::Output;

/// What the objects are named after in place of a run id: manifests describe runs to come.
const RUN_NAME: &str = "manifest";

/// What a manifest shows in place of a secret's value.
const REDACTED: &str = "<redacted>";

/// Prints the objects of the selected jobs.
pub fn run(options: &ManifestsOptions, located: &Located, output: Output) -> Result<(), Failure> {
    let drakefile = crate::commands::load(located, output)?.drakefile;
    let source_root = crate::commands::run::source_root(&located.path)?;
    let jobs = selected(&drakefile, options)?;
    let permissions = Permissions {
        privileged: options.permissions.allow_privileged,
        docker_socket: options.permissions.allow_docker_socket,
    };
    refuse_what_is_not_allowed(&jobs, permissions)?;
    let external = crate::environment::collect(&options.environment, &source_root)?;
    for warning in &external.warnings {
        output.warning(warning);
    }
    let settings = RunSettings {
        timeout: options
            .timeout
            .map_or(DEFAULT_TIMEOUT, PositiveDuration::get),
        permissions,
        environment: external.variables,
        secrets: external.secrets,
        ..RunSettings::for_source(source_root)
    };
    let names = RunObjects {
        namespace: &options.namespace,
        secret: run_object_name(RUN_NAME, Some("secrets")),
        claim: run_object_name(RUN_NAME, Some("shared")),
        source_image: None,
        image_pull_secrets: options.cluster_source.image_pull_secrets.clone(),
    };
    let mut documents = names.shared_objects(&jobs, &settings)?;
    for pod in pods(&drakefile, &jobs, &settings, &names).map_err(|error| {
        Failure::input(error.to_string())
            .with_hint("`eider run` runs such a job on the local engine")
    })? {
        documents.push(yaml(&pod)?);
    }
    let text = documents.iter().fold(String::new(), |mut text, document| {
        text.push_str("---\n");
        text.push_str(document);
        text
    });
    crate::commands::print_stdout(&text)
}

/// The names of what a run shares between its Pods.
struct RunObjects<'a> {
    namespace: &'a str,
    secret: String,
    claim: String,
    /// The image the source travels in, once pushed.
    source_image: Option<String>,
    image_pull_secrets: Vec<String>,
}

impl RunObjects<'_> {
    /// The Secret (its values redacted) and the shared-storage claim, where the jobs need them.
    fn shared_objects(
        &self,
        jobs: &[&Job],
        settings: &RunSettings,
    ) -> Result<Vec<String>, Failure> {
        let run_labels = BTreeMap::from([
            (labels::RUN_ID.to_owned(), RUN_NAME.to_owned()),
            (
                "app.kubernetes.io/managed-by".to_owned(),
                "eider".to_owned(),
            ),
        ]);
        let mut documents = Vec::new();
        if !settings.secrets.is_empty() {
            let keys: Vec<(String, String)> = settings
                .secrets
                .iter()
                .map(|(name, _)| (name.clone(), REDACTED.to_owned()))
                .collect();
            let secret = run_secret(&self.secret, self.namespace, run_labels.clone(), &keys);
            documents.push(format!(
                "# The values of the secrets file are not printed: create this Secret with them\n\
                 # (`kubectl create secret generic {} --from-literal=NAME=VALUE ...`).\n{}",
                self.secret,
                yaml(&secret)?
            ));
        }
        if jobs.iter().any(|job| plan::wants_shared_storage(job)) {
            let claim = shared_storage_claim(
                &self.claim,
                self.namespace,
                run_labels,
                &SharedStorageClaim {
                    storage_class: None,
                    size: DEFAULT_SHARED_STORAGE_SIZE.to_owned(),
                    many_nodes: true,
                },
            );
            documents.push(yaml(&claim)?);
        }
        Ok(documents)
    }
}

/// Refuses, before anything is created, what a cluster cannot run: a job that cannot be a
/// Pod.
pub(crate) fn check_runs_on_a_cluster(
    drakefile: &Drakefile,
    jobs: &[&Job],
    settings: &RunSettings,
    source_registry: Option<&str>,
) -> Result<(), Failure> {
    let on_docker = "run it on the local engine (--backend docker)";
    let names = RunObjects {
        namespace: "default",
        secret: run_object_name(RUN_NAME, Some("secrets")),
        claim: run_object_name(RUN_NAME, Some("shared")),
        // The source image is pushed once the checks pass; where it will be stands in for it.
        source_image: source_registry.map(ToOwned::to_owned),
        image_pull_secrets: Vec::new(),
    };
    pods(drakefile, jobs, settings, &names)
        .map(drop)
        .map_err(|error| Failure::input(error.to_string()).with_hint(on_docker))
}

/// One Pod per job, in order.
fn pods(
    drakefile: &Drakefile,
    jobs: &[&Job],
    settings: &RunSettings,
    names: &RunObjects<'_>,
) -> Result<Vec<Pod>, Unsupported> {
    let pod_settings = PodSettings {
        namespace: names.namespace,
        secret: &names.secret,
        claim: &names.claim,
        timeout: settings.timeout,
        grace_period: settings.grace_period,
        source_image: names.source_image.as_deref(),
        image_pull_secrets: &names.image_pull_secrets,
    };
    let shared = Storage {
        name: names.claim.clone(),
        image: String::new(),
    };
    let mut pods = Vec::with_capacity(jobs.len());
    for (execution, job) in jobs.iter().enumerate() {
        let source = source_view(drakefile, job, settings);
        let mut spec = plan::job_spec(
            job,
            PlanContext {
                run_id: RUN_NAME,
                execution,
                spec_version: drakefile.spec_version,
                options: settings,
                source: source.as_ref(),
                shared_storage: Some(&shared),
                parallel_jobs: 1,
            },
        );
        // Which process made an object means nothing in a manifest.
        for container in &mut spec.containers {
            container
                .labels
                .retain(|(key, _)| key != labels::PID && key != labels::PID_NAMESPACE);
        }
        pods.push(pod(&spec, &pod_settings)?);
    }
    Ok(pods)
}

/// The jobs named, or every job of the pipeline.
fn selected<'a>(
    drakefile: &'a Drakefile,
    options: &ManifestsOptions,
) -> Result<Vec<&'a Job>, Failure> {
    let Some(name) = &options.pipeline else {
        return select_jobs(drakefile, &options.jobs);
    };
    let pipeline = select_pipeline(drakefile, name)?;
    let names: Vec<String> = pipeline.jobs.iter().map(|job| job.name.clone()).collect();
    select_jobs(drakefile, &names)
}

/// Refuses, all at once, every container that asks for what is not allowed.
fn refuse_what_is_not_allowed(jobs: &[&Job], permissions: Permissions) -> Result<(), Failure> {
    let refusals: Vec<drakefile::Refusal> = jobs
        .iter()
        .filter_map(|job| drakefile::check_permissions(job, permissions).err())
        .collect();
    let Some(first) = refusals.first() else {
        return Ok(());
    };
    let mut failure = Failure::input(first.message.clone());
    for refusal in &refusals[1..] {
        failure = failure.with_cause(refusal.message.clone());
    }
    if let Some(hint) = &first.hint {
        failure = failure.with_hint(hint.clone());
    }
    Err(failure)
}

/// How the job would see the source, as `eider run` decides it (a copy stands for the copy that
/// would be made); the Pod says what a cluster can do with it.
fn source_view(drakefile: &Drakefile, job: &Job, settings: &RunSettings) -> Option<SourceView> {
    let copy = || Storage {
        name: String::new(),
        image: String::new(),
    };
    plan::source_need(job, drakefile.spec_version, settings).map(|need| match need {
        SourceNeed::Live(view) => view,
        SourceNeed::JobCopy => SourceView::PrivateCopy(copy()),
        SourceNeed::RunCopy => SourceView::RunCopy(copy()),
    })
}

fn yaml(object: &impl serde::Serialize) -> Result<String, Failure> {
    serde_norway::to_string(object)
        .map_err(|error| Failure::runtime("cannot write YAML").with_cause(error.to_string()))
}
