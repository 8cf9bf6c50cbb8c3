//! The project's source on a cluster, which cannot see the user's tree: before a run whose jobs
//! mount the source, the tree is published as a source image (eider's packager's source layer on
//! a small base that has `cp`) to the registry the user names, and the run's Pods copy it out.

use std::sync::Arc;

use camino::Utf8Path;

use drakefile::{Drakefile, Job};
use eider_engine::RunSettings;
use eider_engine::plan;
use eider_package::{Observer, SourceImageRequest, publish_source_image};
use eider_registry::{Reference, Repository};

use crate::backend::{BackendChoice, SourceDelivery};
use crate::cli::{RegistryOptions, RunOptions};
use crate::failure::Failure;
use crate::package_reporter::PackageReporter;
use crate::registry_retry::registry_access;
use crate::render::Output;

/// What the source image is made of and where it goes, checked before anything runs.
pub(crate) struct SourcePublication {
    request: SourceImageRequest,
}

impl SourcePublication {
    /// The publication `jobs` need on a cluster: none when no job mounts the source, or when
    /// no registry is given (the checks before the run then say so, naming the job).
    pub(crate) fn plan(
        delivery: &SourceDelivery,
        drakefile: &Drakefile,
        jobs: &[&Job],
        settings: &RunSettings,
        secrets_file: Option<&Utf8Path>,
        registry: &RegistryOptions,
    ) -> Result<Option<Self>, Failure> {
        let mounts_source = jobs
            .iter()
            .any(|job| plan::source_need(job, drakefile.spec_version, settings).is_some());
        let Some(target) = delivery.registry.as_deref().filter(|_| mounts_source) else {
            return Ok(None);
        };
        let repository = repository(target)?;
        let base = Reference::parse(&delivery.base).map_err(|error| {
            Failure::input(format!("--helper-image {}: {error}", delivery.base))
        })?;
        let mut request = SourceImageRequest::new(settings.source_root.clone(), base, repository);
        request.secrets = secrets_file.map(Utf8Path::to_owned);
        request.registry = registry_access(registry)?;
        Ok(Some(Self { request }))
    }

    /// Builds the source image and pushes it (nothing is sent when the registry has it
    /// already); returns it pinned by digest.
    pub(crate) async fn publish(&self, output: Output) -> Result<String, Failure> {
        let observer: Arc<dyn Observer> = Arc::new(PackageReporter::new(output));
        let image = publish_source_image(&self.request, &observer)
            .await
            .map_err(|error| {
                Failure::runtime("cannot bring the source to the cluster")
                    .with_cause(eider_error_chain::chain_text(&error))
                    .with_hint(
                        "the source image is pushed to --registry (or `[kubernetes] registry`): \
                     check that eider can push there (--registry-auth, the Docker config)",
                    )
            })?;
        output.note(&format!(
            "source: {} ({} sent)",
            image.reference,
            indicatif::HumanBytes(image.uploaded_bytes)
        ));
        Ok(image.reference.to_string())
    }
}

/// Refuses what a cluster cannot run, before anything is created, and plans the source
/// image the run's jobs need there.
pub(crate) fn check_and_plan(
    backend: &BackendChoice,
    drakefile: &Drakefile,
    jobs: &[&Job],
    settings: &RunSettings,
    options: &RunOptions,
) -> Result<Option<SourcePublication>, Failure> {
    crate::commands::manifests::check_runs_on_a_cluster(
        drakefile,
        jobs,
        settings,
        backend.source.registry.as_deref(),
    )?;
    SourcePublication::plan(
        &backend.source,
        drakefile,
        jobs,
        settings,
        options.environment.secrets.as_deref(),
        &options.registry,
    )
}

/// The repository `text` names, without a tag or digest: the source image's tag is its own.
pub(crate) fn repository(text: &str) -> Result<Repository, Failure> {
    let hint = "name a repository the cluster pulls from, such as registry.example.com/team/source";
    let last = text.rsplit('/').next().unwrap_or_default();
    if text.contains('@') || last.contains(':') {
        return Err(Failure::input(format!(
            "--registry {text}: name a repository, without a tag or digest (the source image is \
             tagged by its content)"
        ))
        .with_hint(hint));
    }
    Reference::parse(text)
        .map(|reference| reference.repository().clone())
        .map_err(|error| Failure::input(format!("--registry {text}: {error}")).with_hint(hint))
}
