//! `eider package`: a job as a reproducible OCI image. The primary container's image is the
//! base (its layers reused, never rebuilt); a layer of the job's dependencies (paths listed in
//! `eider.toml`) and one of the source go on top; the config runs the job's command with its
//! environment and says where the image came from. Sidecars keep their own images, recorded by
//! digest. The same source, Drakefile and base give the same digest, anywhere.

mod base;
mod describe;
pub(crate) mod destination;
mod interrupt;
mod progress;
mod publish;
mod secrets;
mod settings;
mod stream_upload;
mod version;

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use drakefile::{Container, Drakefile, Job};
use eider_oci::{BuiltLayer, ConfigChanges, LayerCache, LayerSpec, ManifestFormat, NewLayer};
use eider_registry::RegistryClient;
use eider_runtime_docker::DockerRuntime;

use self::base::Base;
use self::describe::{Description, LayerDescription, SidecarImage};
use self::destination::{ImageLocation, LOCATION_FORMS};
use self::publish::Publication;
use self::settings::{DEFAULT_SOURCE_PATH, PackageSettings};
use self::version::Provenance;
use crate::cli::{Compression, PackageOptions};
use crate::commands::run::selection::unknown;
use crate::discover::Located;
use crate::environment::SECRETS_FILE_NAME;
use crate::failure::Failure;
use crate::image_resolve::{self, Resolved};
use crate::lockfile::LockFile;
use crate::render::Output;

/// Where packages go when no `--output` is given, relative to the project.
const DEFAULT_LAYOUT: &str = ".eider/packages";

/// Label and annotation keys of eider's own.
pub mod keys {
    /// The job packaged.
    pub const JOB: &str = "dev.eider.job";
    /// The digest of the Drakefile's bytes.
    pub const DRAKEFILE_DIGEST: &str = "dev.eider.drakefile.digest";
    /// The job's normalized definition, as JSON: the package's manifest.
    pub const JOB_DEFINITION: &str = "dev.eider.job.definition";
    /// `true` when the tree had uncommitted changes.
    pub const SOURCE_DIRTY: &str = "dev.eider.source.dirty";
    /// Where the source is in the image.
    pub const SOURCE_PATH: &str = "dev.eider.source.path";
    /// The sidecars' images, by digest, as JSON.
    pub const SIDECARS: &str = "dev.eider.sidecars";
}

/// Packages the job and writes it to every destination.
pub fn run(options: &PackageOptions, located: &Located, output: Output) -> Result<(), Failure> {
    let parsed = crate::commands::load(located, output)?;
    let description = package_job(&parsed.drakefile, options, located, output)?;
    if options.json {
        let mut text = serde_json::to_string_pretty(&description).map_err(|error| {
            Failure::runtime("cannot describe the package").with_cause(error.to_string())
        })?;
        text.push('\n');
        crate::commands::print_stdout(&text)
    } else {
        crate::commands::print_stdout(&format!("{}\n", description.digest))
    }
}

/// Packages `options.job` of `drakefile` (the file at `located`) and writes it to every
/// destination; returns its description.
pub fn package_job(
    drakefile: &Drakefile,
    options: &PackageOptions,
    located: &Located,
    output: Output,
) -> Result<Description, Failure> {
    let job = drakefile.job(&options.job).ok_or_else(|| {
        unknown(
            "job",
            &options.job,
            drakefile.jobs.iter().map(|job| job.name.as_str()),
        )
    })?;
    let Some(primary) = job.primary() else {
        return Err(Failure::input(format!(
            "job `{}` has no containers: there is nothing to package",
            job.name
        )));
    };
    let project = crate::commands::run::source_root(&located.path)?;
    let settings = PackageSettings::load(&project)?;
    let destinations = destinations(options, &project, &job.name)?;
    let source_date_epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
    let written = written_inside(&destinations, &project);
    let written_paths: Vec<&Utf8Path> = written.iter().map(Utf8PathBuf::as_path).collect();
    let provenance = version::provenance(
        &project,
        options.tag.as_deref(),
        source_date_epoch.as_deref(),
        &written_paths,
    )
    .map_err(|error| Failure::input(error.to_string()))?;
    let lock = if options.locked {
        Some(LockFile::load(&LockFile::path_for(&located.path))?)
    } else {
        None
    };
    let drakefile_bytes = fs_err::read(&located.path).map_err(|error| {
        Failure::input(format!("cannot read {}", located.display)).with_cause(error.to_string())
    })?;
    let cache_directory = LayerCache::default_directory()
        .ok_or_else(|| Failure::input("no cache directory: set XDG_CACHE_HOME or HOME"))?;
    let cache = LayerCache::open(&cache_directory).map_err(|error| {
        Failure::runtime(format!("cannot open the cache in {cache_directory}")).with_error(&error)
    })?;
    let plan = Plan {
        options,
        job,
        primary,
        project: &project,
        settings: &settings,
        provenance: &provenance,
        lock: lock.as_ref(),
        lock_path: LockFile::path_for(&located.path),
        drakefile_digest: eider_oci::Digest::of(&drakefile_bytes).to_string(),
        cache: &cache,
        destinations: &destinations,
        written: &written,
        secrets_files: secrets_files(&project, options.secrets.as_deref()),
    };
    sweep_abandoned(&cache_directory, &destinations);
    let _interrupts = interrupt::InterruptWatch::start(output)?;
    let runtime = crate::commands::async_runtime()?;
    runtime.block_on(package(&plan, output))
}

/// Removes the temporary files that packaging processes killed before they could clean up left
/// in the cache and in the directories this package is written to.
fn sweep_abandoned(cache: &Utf8Path, destinations: &[ImageLocation]) {
    interrupt::sweep(cache);
    for destination in destinations {
        match destination {
            ImageLocation::OciLayout { directory, .. } => {
                interrupt::sweep(directory);
            }
            ImageLocation::DockerArchive { file } => {
                if let Some(directory) = file.parent() {
                    interrupt::sweep(if directory.as_str().is_empty() {
                        Utf8Path::new(".")
                    } else {
                        directory
                    });
                }
            }
            ImageLocation::DockerDaemon { .. } | ImageLocation::Registry { .. } => {}
        }
    }
}

/// Sweeps what packaging processes that no longer run left in the cache: for `eider clean`.
/// Returns how many files and directories were removed.
pub fn sweep_cache() -> usize {
    LayerCache::default_directory().map_or(0, |directory| interrupt::sweep(&directory))
}

/// `eider run --packaged`: packages each job of `jobs` into the local engine, then points the
/// job's primary container at the packaged image and stops mounting the source into it (the
/// image carries it). Sidecars keep their images and mounts.
pub fn package_for_run(
    drakefile: &mut Drakefile,
    jobs: &[String],
    locked: bool,
    secrets: Option<&Utf8Path>,
    located: &Located,
    output: Output,
) -> Result<(), Failure> {
    let packaged = drakefile.clone();
    for name in jobs {
        let options = PackageOptions {
            job: name.clone(),
            outputs: vec![format!("docker-daemon:eider-packaged/{name}")],
            tag: None,
            compression: Compression::Gzip,
            docker_media_types: false,
            path: None,
            base_from: crate::cli::BaseFrom::Auto,
            base: None,
            json: false,
            locked,
            // The run's own secrets: what its jobs are given must not be built into them.
            secrets: secrets.map(Utf8Path::to_owned),
            // The engine runs the package: no registry is written to, and the images of its
            // registries are reached with the Docker configuration, as `docker pull` would.
            registry: crate::cli::RegistryOptions::default(),
        };
        let description = package_job(&packaged, &options, located, output)?;
        // A loaded image's id is its config's digest.
        let image = description.config;
        if let Some(job) = drakefile.jobs.iter_mut().find(|job| &job.name == name)
            && let Some(primary) = job.containers.last_mut()
        {
            primary.image = image;
            primary.pull_policy = drakefile::PullPolicy::IfNotPresent;
            primary.source_mount_path = None;
        }
    }
    Ok(())
}

/// Everything decided before the engine or a registry is asked anything.
struct Plan<'a> {
    options: &'a PackageOptions,
    job: &'a Job,
    primary: &'a Container,
    project: &'a Utf8Path,
    settings: &'a PackageSettings,
    provenance: &'a Provenance,
    lock: Option<&'a LockFile>,
    lock_path: Utf8PathBuf,
    drakefile_digest: String,
    cache: &'a LayerCache,
    destinations: &'a [ImageLocation],
    /// What packaging writes that may lie in the tree (see [`written_inside`]).
    written: &'a [Utf8PathBuf],
    /// The secrets files whose values the package must not hold, and which it never holds:
    /// the one beside the Drakefile when present, and `--secrets`, as absolute paths.
    secrets_files: Vec<Utf8PathBuf>,
}

fn destinations(
    options: &PackageOptions,
    project: &Utf8Path,
    job: &str,
) -> Result<Vec<ImageLocation>, Failure> {
    if options.outputs.is_empty() {
        return Ok(vec![ImageLocation::OciLayout {
            directory: project.join(DEFAULT_LAYOUT),
            tag: Some(job.to_owned()),
        }]);
    }
    options
        .outputs
        .iter()
        .map(|text| {
            ImageLocation::parse(text)
                .map_err(|error| Failure::input(error.to_string()).with_hint(LOCATION_FORMS))
        })
        .collect()
}

async fn package(plan: &Plan<'_>, output: Output) -> Result<Description, Failure> {
    let options = plan.options;
    let (daemon, registry) = connect(plan, output).await?;
    let compression = match options.compression {
        Compression::Gzip => eider_oci::Compression::Gzip,
        Compression::Zstd => eider_oci::Compression::Zstd,
    };

    let base = fetch_base(plan, daemon.as_ref(), &registry, compression).await?;
    status(output, &format!("Base {} ({})", base.name, base.digest));
    let mut sidecars = Vec::new();
    for container in &plan.job.containers[..plan.job.containers.len() - 1] {
        let resolved = resolve(plan, container, daemon.as_ref(), &registry).await?;
        sidecars.push(SidecarImage {
            container: container.name.clone(),
            image: container.image.clone(),
            digest: resolved.digest().to_owned(),
            pinned: resolved.pinned(),
        });
    }

    let source_path = source_path(plan);
    let secrets = secrets::Secrets::load(&plan.secrets_files)?;
    // Streaming a layer sends it before it is checked for secrets: only without any.
    let stream_to = if secrets.is_empty() {
        stream_target(plan, &registry)
    } else {
        None
    };
    let streamed_layers =
        build_layers(plan, &source_path, compression, stream_to.as_ref(), output).await?;
    let streamed: Vec<String> = streamed_layers
        .iter()
        .filter(|(_, layer)| layer.streamed)
        .map(|(_, layer)| layer.built.blob.digest.to_string())
        .collect();
    let layers: Vec<(String, BuiltLayer)> = streamed_layers
        .into_iter()
        .map(|(created_by, layer)| (created_by, layer.built))
        .collect();
    let changes = config_changes(plan, &base, &source_path, &sidecars)?;
    secrets.check_config(&changes)?;
    secrets
        .check_new_layers(plan.cache.store(), &layers)
        .await?;
    let format = if options.docker_media_types {
        ManifestFormat::Docker
    } else {
        ManifestFormat::Oci
    };
    let new_layers: Vec<NewLayer> = layers
        .iter()
        .map(|(created_by, built)| NewLayer {
            blob: built.blob.clone(),
            created_by: created_by.clone(),
        })
        .collect();
    let image = eider_oci::assemble(
        &base.image,
        &new_layers,
        &changes,
        plan.provenance.epoch,
        format,
    )
    .map_err(|error| Failure::runtime("cannot assemble the image").with_error(&error))?;
    image
        .write_to(plan.cache.store())
        .map_err(|error| Failure::runtime("cannot store the image").with_error(&error))?;

    let publication = Publication {
        image: &image,
        base: &base,
        cache: plan.cache,
        version: &plan.provenance.version,
        job: &plan.job.name,
        streamed: &streamed,
    };
    let mut published = Vec::with_capacity(plan.destinations.len());
    for destination in plan.destinations {
        let result =
            publish::publish(&publication, destination, daemon.as_ref(), &registry).await?;
        status(output, &format!("Wrote {}", result.destination));
        published.push(result);
    }
    Ok(describe(plan, &image, &base, &layers, sidecars, published))
}

/// The repository of the first registry destination, where layers are streamed as they are
/// compressed.
fn stream_target<'a>(
    plan: &Plan<'_>,
    registry: &'a RegistryClient,
) -> Option<stream_upload::StreamTarget<'a>> {
    plan.destinations
        .iter()
        .find_map(|destination| match destination {
            ImageLocation::Registry { reference } => eider_registry::Reference::parse(reference)
                .ok()
                .map(|reference| stream_upload::StreamTarget {
                    registry,
                    repository: reference.repository().clone(),
                }),
            _ => None,
        })
}

/// The local engine (for base images and `docker-daemon:` outputs) and a registry client.
async fn connect(
    plan: &Plan<'_>,
    output: Output,
) -> Result<(Option<DockerRuntime>, RegistryClient), Failure> {
    let options = plan.options;
    let loads_into_engine = plan
        .destinations
        .iter()
        .any(|destination| matches!(destination, ImageLocation::DockerDaemon { .. }));
    let daemon = match image_resolve::connect_daemon(options.base_from).await? {
        Some(daemon) => Some(daemon),
        None if loads_into_engine => Some(DockerRuntime::connect().await.map_err(|error| {
            Failure::runtime("cannot load the package into the local engine")
                .with_cause(error.to_string())
        })?),
        None => None,
    };
    // Credentials without a host go to where the package is written, never to the registries
    // of its base and sidecar images, which the Drakefile chooses.
    let registries = plan
        .destinations
        .iter()
        .filter_map(|destination| match destination {
            ImageLocation::Registry { reference } => image_resolve::registry_of(reference),
            _ => None,
        });
    let registry = image_resolve::registry_client(&options.registry, registries, output)?;
    Ok((daemon, registry))
}

/// The secrets files of a package of `project`: `Drakesecrets.yaml` when present, and `given`
/// (relative to where eider runs), as absolute paths.
fn secrets_files(project: &Utf8Path, given: Option<&Utf8Path>) -> Vec<Utf8PathBuf> {
    let default = project.join(SECRETS_FILE_NAME);
    let mut files: Vec<Utf8PathBuf> = default.is_file().then_some(default).into_iter().collect();
    files.extend(given.map(absolute));
    files
}

/// `path` made absolute against where eider runs.
fn absolute(path: &Utf8Path) -> Utf8PathBuf {
    if path.is_absolute() {
        return path.to_owned();
    }
    std::env::current_dir()
        .ok()
        .and_then(|directory| Utf8PathBuf::from_path_buf(directory).ok())
        .map_or_else(|| path.to_owned(), |directory| directory.join(path))
}

/// What packaging writes that may lie in the source tree: `.eider` and the file outputs, as
/// absolute paths.
fn written_inside(destinations: &[ImageLocation], project: &Utf8Path) -> Vec<Utf8PathBuf> {
    destinations
        .iter()
        .filter_map(|destination| match destination {
            ImageLocation::OciLayout { directory, .. } => Some(absolute(directory)),
            ImageLocation::DockerArchive { file } => Some(absolute(file)),
            _ => None,
        })
        .chain(std::iter::once(project.join(".eider")))
        .collect()
}

/// Loads an image of `store` into the local engine under `name`; returns the engine's id of it
/// (its config's digest).
pub fn load_into_engine(
    store: &eider_oci::BlobStore,
    config: &[u8],
    layers: &[eider_oci::Descriptor],
    name: &str,
    runtime: &tokio::runtime::Runtime,
) -> Result<String, Failure> {
    let failure = |error: &dyn std::fmt::Display| {
        Failure::runtime(format!("cannot load {name} into the local engine"))
            .with_cause(error.to_string())
    };
    let directory = tempfile::tempdir().map_err(|error| failure(&error))?;
    let file = Utf8PathBuf::from_path_buf(directory.path().join("image.tar"))
        .map_err(|path| failure(&path.display()))?;
    eider_oci::write_docker_archive(&file, config, layers, &[name.to_owned()], &[store])
        .map_err(|error| failure(&error))?;
    runtime.block_on(async {
        let daemon = DockerRuntime::connect()
            .await
            .map_err(|error| failure(&error))?;
        let reader = tokio::fs::File::open(&file)
            .await
            .map_err(|error| failure(&error))?;
        let stream = futures_util::StreamExt::boxed(tokio_util::io::ReaderStream::new(reader));
        daemon
            .load_image(stream)
            .await
            .map_err(|error| failure(&error))
    })?;
    Ok(eider_oci::Digest::of(config).to_string())
}

/// The `--json` description of what was made.
fn describe(
    plan: &Plan<'_>,
    image: &eider_oci::AssembledImage,
    base: &Base,
    layers: &[(String, BuiltLayer)],
    sidecars: Vec<SidecarImage>,
    outputs: Vec<publish::Published>,
) -> Description {
    Description {
        digest: image.digest().to_string(),
        job: plan.job.name.clone(),
        version: plan.provenance.version.clone(),
        revision: plan.provenance.revision.clone(),
        dirty: plan.provenance.dirty,
        created: eider_oci::epoch_to_rfc3339(plan.provenance.epoch),
        base: describe::BaseDescription {
            image: base.name.clone(),
            digest: base.digest.clone(),
        },
        config: image.config_descriptor.digest.to_string(),
        media_type: image.manifest_descriptor.media_type.clone(),
        size: image.manifest_descriptor.size,
        layers: layers
            .iter()
            .map(|(created_by, built)| LayerDescription {
                created_by: created_by.clone(),
                digest: built.blob.digest.to_string(),
                diff_id: built.blob.diff_id.to_string(),
                size: built.blob.size,
                files: built.entries,
                reused: !matches!(built.reuse, eider_oci::Reuse::Built),
            })
            .collect(),
        sidecars,
        normalization: eider_oci::NORMALIZATION_VERSION,
        outputs,
    }
}

/// The base image: from `--base`, else the primary container's image.
async fn fetch_base(
    plan: &Plan<'_>,
    daemon: Option<&DockerRuntime>,
    registry: &RegistryClient,
    compression: eider_oci::Compression,
) -> Result<Base, Failure> {
    if let Some(location) = &plan.options.base {
        let location = ImageLocation::parse(location)
            .map_err(|error| Failure::input(error.to_string()).with_hint(LOCATION_FORMS))?;
        return base::fetch_location(&location, plan.cache, daemon, registry, compression).await;
    }
    let resolved = resolve(plan, plan.primary, daemon, registry).await?;
    base::fetch(&resolved, plan.cache, daemon, registry, compression).await
}

/// The image of `container` resolved to a digest: from the lock under `--locked`.
async fn resolve(
    plan: &Plan<'_>,
    container: &Container,
    daemon: Option<&DockerRuntime>,
    registry: &RegistryClient,
) -> Result<Resolved, Failure> {
    if let Some(lock) = plan.lock {
        let locked = lock.pinned_image(
            &container.image,
            &plan.job.name,
            &container.name,
            &plan.lock_path,
        )?;
        return locked.to_resolved(&container.image);
    }
    image_resolve::resolve(&container.image, plan.options.base_from, daemon, registry).await
}

/// Where the source goes: the primary's `sourceMountPath`, else `--path`, else the settings,
/// else /src.
fn source_path(plan: &Plan<'_>) -> String {
    plan.primary
        .source_mount_path
        .clone()
        .filter(|path| !path.is_empty())
        .or_else(|| plan.options.path.clone())
        .or_else(|| plan.settings.path_of(&plan.job.name).map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_SOURCE_PATH.to_owned())
}

/// The dependency layer (when the settings list paths) and the source layer.
async fn build_layers(
    plan: &Plan<'_>,
    source_path: &str,
    compression: eider_oci::Compression,
    stream_to: Option<&stream_upload::StreamTarget<'_>>,
    output: Output,
) -> Result<Vec<(String, stream_upload::StreamedLayer)>, Failure> {
    let project = plan.project.to_owned();
    let destination = Utf8PathBuf::from(source_path);
    let epoch = plan.provenance.epoch;
    // Layouts written inside the tree must not end up in the next package.
    let inside = plan.written;
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
    let spinner = progress::Spinner::start("Building layers");
    let mut built = Vec::with_capacity(specs.len());
    for (created_by, spec) in specs {
        let layer = stream_upload::build_layer(plan.cache, spec, stream_to)
            .await
            .map_err(|error| layer_failure(&error))?;
        built.push((created_by, layer));
    }
    drop(spinner);
    for (created_by, streamed) in &built {
        let layer = &streamed.built;
        let how = match layer.reuse {
            eider_oci::Reuse::Built => "built",
            eider_oci::Reuse::SameContent => "reused (same content)",
            eider_oci::Reuse::SameFiles => "reused (unchanged files)",
        };
        status(
            output,
            &format!(
                "Layer {} {how}: {} files, {} bytes",
                created_by.trim_start_matches("eider: "),
                layer.entries,
                layer.blob.size
            ),
        );
    }
    Ok(built)
}

/// The config: the job's command and environment, and where the image comes from.
fn config_changes(
    plan: &Plan<'_>,
    base: &Base,
    source_path: &str,
    sidecars: &[SidecarImage],
) -> Result<ConfigChanges, Failure> {
    let primary = plan.primary;
    let provenance = plan.provenance;
    let describe_failure = |error: serde_json::Error| {
        Failure::runtime("cannot describe the job").with_cause(error.to_string())
    };
    let mut labels = BTreeMap::new();
    labels.insert(
        "org.opencontainers.image.title".to_owned(),
        plan.job.name.clone(),
    );
    labels.insert(
        "org.opencontainers.image.version".to_owned(),
        provenance.version.clone(),
    );
    labels.insert(
        "org.opencontainers.image.created".to_owned(),
        eider_oci::epoch_to_rfc3339(provenance.epoch),
    );
    if let Some(revision) = &provenance.revision {
        labels.insert(
            "org.opencontainers.image.revision".to_owned(),
            revision.clone(),
        );
    }
    if let Some(source) = &provenance.source {
        labels.insert("org.opencontainers.image.source".to_owned(), source.clone());
    }
    labels.insert(
        "org.opencontainers.image.base.name".to_owned(),
        base.name.clone(),
    );
    labels.insert(
        "org.opencontainers.image.base.digest".to_owned(),
        base.digest.clone(),
    );
    labels.insert(keys::JOB.to_owned(), plan.job.name.clone());
    labels.insert(
        keys::DRAKEFILE_DIGEST.to_owned(),
        plan.drakefile_digest.clone(),
    );
    labels.insert(
        keys::JOB_DEFINITION.to_owned(),
        serde_json::to_string(plan.job).map_err(describe_failure)?,
    );
    labels.insert(keys::SOURCE_DIRTY.to_owned(), provenance.dirty.to_string());
    labels.insert(keys::SOURCE_PATH.to_owned(), source_path.to_owned());
    if !sidecars.is_empty() {
        labels.insert(
            keys::SIDECARS.to_owned(),
            serde_json::to_string(sidecars).map_err(describe_failure)?,
        );
    }
    Ok(ConfigChanges {
        entrypoint: primary.command.clone(),
        cmd: primary.args.clone(),
        env: primary
            .environment
            .iter()
            .map(|variable| (variable.name.clone(), variable.value.clone()))
            .collect(),
        working_dir: primary.working_directory.clone(),
        user: None,
        annotations: labels.clone(),
        labels,
    })
}

/// A progress line on stderr.
fn status(output: Output, text: &str) {
    output.note(text);
}

/// A layer that could not be built: the source's fault (exit code 2), or the cache's (exit code
/// 1: a full disk, a store that cannot be written).
fn layer_failure(error: &stream_upload::BuildError) -> Failure {
    use eider_oci::LayerError;
    use stream_upload::BuildError;
    let failure = match error {
        BuildError::Layer(LayerError::Write { .. } | LayerError::Store(_))
        | BuildError::Task(_) => Failure::runtime("cannot build the layers"),
        BuildError::Layer(_) => Failure::input("cannot build the layers"),
    };
    failure.with_error(error)
}
