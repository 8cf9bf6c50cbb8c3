//! The layers a package adds to its base: the job's dependencies (paths listed in `eider.toml`)
//! when there are some, then the source.

use camino::Utf8PathBuf;
use eider_oci::LayerSpec;

use super::error::PackageError;
use super::plan::Plan;
use super::stream_upload::{self, StreamTarget, StreamedLayer};
use crate::progress::{Event, Observer, Phase};

/// Builds the dependency layer (when the settings list paths) and the source layer, with the
/// source at `source_path`, streaming them to `stream_to` when given.
pub(super) async fn build_layers(
    plan: &Plan<'_>,
    source_path: &str,
    stream_to: Option<&StreamTarget<'_>>,
    observer: &dyn Observer,
) -> Result<Vec<(String, StreamedLayer)>, PackageError> {
    let project = plan.project.clone();
    let destination = Utf8PathBuf::from(source_path);
    let epoch = plan.provenance.epoch;
    let compression = plan.request.compression;
    // Layouts written inside the tree must not end up in the next package.
    let inside = &plan.written;
    let finish = |spec: LayerSpec| {
        let mut spec = spec.with_epoch(epoch).with_compression(compression);
        for path in &plan.secrets_files {
            spec = spec.with_secrets_file(path.clone());
        }
        for path in inside {
            spec = spec.excluding(path.clone());
        }
        spec
    };
    let mut specs = Vec::new();
    let dependencies = plan.settings.dependencies_of(&plan.job.name);
    if !dependencies.is_empty() {
        specs.push((
            format!("eider: dependencies ({})", dependencies.join(", ")),
            finish(LayerSpec::paths(
                project.clone(),
                dependencies.iter().map(Utf8PathBuf::from).collect(),
                destination.clone(),
            )),
        ));
    }
    specs.push((
        format!("eider: source at {source_path}"),
        finish(LayerSpec::whole_tree(project.clone(), destination.clone())),
    ));
    let building = Phase::start(observer, &Event::LayersStarted, || Event::LayersEnded);
    let mut built = Vec::with_capacity(specs.len());
    for (created_by, spec) in specs {
        let layer = stream_upload::build_layer(&plan.cache, spec, stream_to)
            .await
            .map_err(PackageError::Layers)?;
        built.push((created_by, layer));
    }
    drop(building);
    for (created_by, streamed) in &built {
        observer.event(&Event::LayerReady {
            created_by,
            layer: &streamed.built,
        });
    }
    Ok(built)
}
