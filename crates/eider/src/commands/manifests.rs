//! `eider manifests`: the Kubernetes objects that would run the selected jobs on a cluster,
//! printed as multi-document YAML. No cluster is contacted, and no secret value is printed.

use drakefile::{Drakefile, Job};
use eider_engine::plan::{self, PlanContext, SourceNeed};
use eider_engine::{DEFAULT_GRACE_PERIOD, DEFAULT_TIMEOUT, RunSettings, labels};
use eider_runtime::{Labels, SourceView, Storage};
use eider_runtime_kubernetes::{
    PodSettings, SharedStorageClaim, Unsupported, label_value, pod, run_object_name, run_owner,
    run_secret, shared_storage_claim as shared_storage_claim_object, source_seed_pod,
};
use k8s_openapi::api::core::v1::Pod;

use crate::backend::{SourceDelivery, image_pull_secrets, shared_storage_claim};
use crate::cli::ManifestsOptions;
use crate::commands::run::cluster_source::SourcePublication;
use crate::commands::run::selection::{select_jobs, select_pipeline};
use crate::config;
use crate::discover::Located;
use crate::duration::PositiveDuration;
use crate::failure::Failure;
use crate::render::Output;

/// What the objects are named after in place of a run id: manifests describe runs to come.
const RUN_NAME: &str = "manifest";

/// The namespace of the objects unless the command line or the config file names one: a
/// manifest has no kubeconfig context to take it from.
const DEFAULT_NAMESPACE: &str = "default";

/// What a manifest shows in place of a secret's value.
const REDACTED: &str = "<redacted>";

/// Prints the objects of the selected jobs.
pub fn run(options: &ManifestsOptions, located: &Located, output: Output) -> Result<(), Failure> {
    let drakefile = crate::commands::load(located, output)?.drakefile;
    let source_root = crate::commands::run::source_root(&located.path)?;
    let jobs = selected(&drakefile, options)?;
    // The config file as `eider run` reads it: the objects are the ones such a run creates.
    let loaded = config::load(options.config_file.config.as_deref(), &source_root)?;
    for warning in &loaded.warnings {
        output.warning(warning);
    }
    let config = loaded.config;
    let permissions = options.permissions.granted(&config.run);
    crate::commands::refusals::refuse(&jobs, permissions)?;
    let external = crate::environment::collect(&options.environment, &source_root)?;
    for warning in &external.warnings {
        output.warning(warning);
    }
    let settings = RunSettings {
        timeout: options
            .timeout
            .or(config.run.timeout)
            .map_or(DEFAULT_TIMEOUT, PositiveDuration::get),
        grace_period: config
            .run
            .grace_period
            .map_or(DEFAULT_GRACE_PERIOD, PositiveDuration::get),
        permissions,
        environment: external.variables,
        secrets: external.secrets,
        ..RunSettings::for_source(source_root)
    };
    let namespace = options
        .namespace
        .clone()
        .or_else(|| config.kubernetes.namespace.clone())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
    let mut names = RunObjects::new(&namespace);
    names.image_pull_secrets = image_pull_secrets(&options.cluster_source, &config);
    let claim = shared_storage_claim(&options.shared_storage, &config.kubernetes);
    let delivery = SourceDelivery::of(&options.cluster_source, &config);
    if let Some(publication) = SourcePublication::plan(
        &delivery,
        &drakefile,
        &jobs,
        &settings,
        options.environment.secrets.as_deref(),
        &options.registry,
    )? {
        // What a cluster cannot run is said before anything is pushed.
        names.source_image.clone_from(&delivery.registry);
        pods(&drakefile, &jobs, &settings, &names).map_err(|error| {
            Failure::input(error.to_string())
                .with_hint("`eider run` runs such a job on the local engine")
        })?;
        let runtime = crate::commands::async_runtime()?;
        names.source_image = Some(runtime.block_on(publication.publish(output))?);
    }
    let run_copy = jobs.iter().any(|job| {
        plan::source_need(job, drakefile.spec_version, &settings) == Some(SourceNeed::RunCopy)
    });
    let mut documents = names.run_objects(&jobs, &settings, &claim)?;
    if run_copy {
        documents.extend(names.run_source_copy(&claim)?);
    }
    for pod in pods(&drakefile, &jobs, &settings, &names).map_err(|error| {
        Failure::input(error.to_string())
            .with_hint("`eider run` runs such a job on the local engine")
    })? {
        documents.push(format!("{}{}", names.owned_note(), yaml(&pod)?));
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
    owner: String,
    secret: String,
    claim: String,
    /// The image the source travels in, once pushed.
    source_image: Option<String>,
    image_pull_secrets: Vec<String>,
}

impl<'a> RunObjects<'a> {
    fn new(namespace: &'a str) -> Self {
        Self {
            namespace,
            owner: run_object_name(RUN_NAME, None),
            secret: run_object_name(RUN_NAME, Some("secrets")),
            claim: run_object_name(RUN_NAME, Some("shared")),
            source_image: None,
            image_pull_secrets: Vec::new(),
        }
    }

    /// The run's owner, then the Secret (its values redacted) and the shared-storage claim,
    /// where the jobs need them.
    fn run_objects(
        &self,
        jobs: &[&Job],
        settings: &RunSettings,
        claim: &SharedStorageClaim,
    ) -> Result<Vec<String>, Failure> {
        let owner = run_owner(
            RUN_NAME,
            self.namespace,
            &without_process(labels::for_run(RUN_NAME)),
        );
        // The run's other objects are labelled as their owner is.
        let run_labels = owner.metadata.labels.clone().unwrap_or_default();
        let mut documents = vec![format!("{}{}", self.owner_note(), yaml(&owner)?)];
        if !settings.secrets.is_empty() {
            let keys: Vec<(String, String)> = settings
                .secrets
                .iter()
                .map(|(name, _)| (name.clone(), REDACTED.to_owned()))
                .collect();
            let secret = run_secret(&self.secret, self.namespace, run_labels.clone(), &keys);
            documents.push(format!(
                "{}# The values of the secrets file are not printed: create this Secret with them\n\
                 # (`kubectl create secret generic {} --from-literal=NAME=VALUE ...`).\n{}",
                self.owned_note(),
                self.secret,
                yaml(&secret)?
            ));
        }
        if jobs.iter().any(|job| plan::wants_shared_storage(job)) {
            let claim = shared_storage_claim_object(&self.claim, self.namespace, run_labels, claim);
            documents.push(format!("{}{}", self.owned_note(), yaml(&claim)?));
        }
        Ok(documents)
    }

    /// The seed draft's one copy of the source for the run: a claim, and the Pod that fills it
    /// from the source image (when there is one; otherwise the jobs' Pods are refused).
    fn run_source_copy(&self, claim: &SharedStorageClaim) -> Result<Vec<String>, Failure> {
        let Some(image) = &self.source_image else {
            return Ok(Vec::new());
        };
        let owner_labels = without_process(labels::for_run(RUN_NAME));
        let name = run_object_name(RUN_NAME, Some("source"));
        let run_labels = run_owner(RUN_NAME, self.namespace, &owner_labels)
            .metadata
            .labels
            .unwrap_or_default();
        let source_claim = shared_storage_claim_object(&name, self.namespace, run_labels, claim);
        let settings = PodSettings {
            namespace: self.namespace,
            secret: &self.secret,
            claim: &name,
            timeout: DEFAULT_TIMEOUT,
            grace_period: std::time::Duration::ZERO,
            source_image: Some(image),
            image_pull_secrets: &self.image_pull_secrets,
        };
        let seed = source_seed_pod(
            &run_object_name(RUN_NAME, Some("source-copy")),
            &owner_labels,
            &name,
            &settings,
            image,
        );
        Ok(vec![
            format!("{}{}", self.owned_note(), yaml(&source_claim)?),
            format!(
                "{}# Fills the claim above with the source; the jobs' Pods mount it once this
                 # Pod has succeeded (`eider run` waits for it, then deletes it).
{}",
                self.owned_note(),
                yaml(&seed)?
            ),
        ])
    }

    /// How the run's objects hang together, said where the owner is printed. An ownerReference
    /// holds the uid the API server gives the owner when it is created, which no printed
    /// manifest can know; one with another uid would have the garbage collector delete the
    /// object at once. So the printed objects carry none, and the comment says what does the
    /// owner's work instead.
    fn owner_note(&self) -> String {
        let selector = format!("{}={}", labels::RUN_ID, label_value(RUN_NAME));
        format!(
            "# The run's owner. `eider run` creates it first, then names it in the ownerReferences\n\
             # of every other object of the run, with the uid the API server gave it, so that\n\
             # deleting it has the cluster's garbage collector delete the rest. That uid exists\n\
             # only once the config map does (and a reference with any other uid has the object\n\
             # deleted at once), so the objects below carry no ownerReferences; they carry the\n\
             # run's label instead, and this deletes them all:\n\
             #   kubectl delete pods,persistentvolumeclaims,secrets,configmaps -n {namespace} -l {selector}\n\
             # To have the collector do it, add to each of them, once this config map exists,\n\
             #   ownerReferences: [{{apiVersion: v1, kind: ConfigMap, name: {owner}, uid: UID}}]\n\
             # with UID from `kubectl get configmap {owner} -n {namespace} -o jsonpath='{{.metadata.uid}}'`.\n",
            namespace = self.namespace,
            owner = self.owner,
        )
    }

    /// The line above each object the owner owns at run time.
    fn owned_note(&self) -> String {
        format!(
            "# Owned by config map {} when `eider run` creates it (see there).\n",
            self.owner
        )
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
    let mut names = RunObjects::new(DEFAULT_NAMESPACE);
    // The source image is pushed once the checks pass; where it will be stands in for it.
    names.source_image = source_registry.map(ToOwned::to_owned);
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
        for container in &mut spec.containers {
            container.labels = without_process(std::mem::take(&mut container.labels));
        }
        pods.push(pod(&spec, &pod_settings)?);
    }
    Ok(pods)
}

/// `labels` without the ones that say which process made an object: that means nothing in a
/// manifest.
fn without_process(mut labels: Labels) -> Labels {
    labels.retain(|(key, _)| key != labels::PID && key != labels::PID_NAMESPACE);
    labels
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

/// How the job would see the source, as `eider run` decides it (a copy stands for the copy that
/// would be made); the Pod says what a cluster can do with it.
fn source_view(drakefile: &Drakefile, job: &Job, settings: &RunSettings) -> Option<SourceView> {
    let copy = |name: String| Storage {
        name,
        image: String::new(),
    };
    plan::source_need(job, drakefile.spec_version, settings).map(|need| match need {
        SourceNeed::Live(view) => view,
        SourceNeed::JobCopy => SourceView::PrivateCopy(copy(String::new())),
        SourceNeed::RunCopy => SourceView::RunCopy(copy(run_object_name(RUN_NAME, Some("source")))),
    })
}

fn yaml(object: &impl serde::Serialize) -> Result<String, Failure> {
    serde_norway::to_string(object)
        .map_err(|error| Failure::runtime("cannot write YAML").with_cause(error.to_string()))
}
