//! `eider verify`: a package checked blob by blob (digest and size, each layer decompressed
//! against its diffID), the manifest against the config, and, with `--drakefile`, its job
//! against the Drakefile's.

use camino::Utf8PathBuf;
use eider_oci::{BlobStore, Digest, OciLayout, REF_NAME_ANNOTATION, VerifyOptions as Checks};
use eider_registry::{Reference, RegistryClient};

use crate::cli::{ColorChoice, VerifyOptions};
use crate::commands::package::destination::{ImageLocation, LOCATION_FORMS};
use crate::commands::package::keys;
use crate::failure::Failure;
use crate::image_resolve;
use crate::render::Output;

/// Verifies the package; a finding is exit 1, each one listed. With `--run`, then runs it.
pub fn run(
    options: &VerifyOptions,
    file: Option<&camino::Utf8Path>,
    color: ColorChoice,
    output: Output,
) -> Result<(), Failure> {
    let location = ImageLocation::parse(&options.reference)
        .map_err(|error| Failure::input(error.to_string()).with_hint(LOCATION_FORMS))?;
    let runtime = crate::commands::async_runtime()?;
    // A registry's blobs are fetched into a directory of their own, so that nothing of a cache
    // stands in for what the registry holds.
    let download = tempfile::tempdir().map_err(|error| {
        Failure::runtime("cannot make a temporary directory").with_cause(error.to_string())
    })?;
    let (store, manifest) = match &location {
        ImageLocation::OciLayout { directory, tag } => layout_image(directory, tag.as_deref())?,
        ImageLocation::Registry { reference } => {
            let directory = Utf8PathBuf::from_path_buf(download.path().to_owned())
                .map_err(|_| Failure::runtime("the temporary directory is not UTF-8"))?;
            let client = image_resolve::registry_client(
                &options.registry,
                image_resolve::registry_of(reference),
                output,
            )?;
            runtime.block_on(registry_image(reference, &client, &directory))?
        }
        ImageLocation::DockerArchive { .. } | ImageLocation::DockerDaemon { .. } => {
            return Err(Failure::input(format!(
                "`{}`: eider verifies packages in an OCI layout or a registry",
                options.reference
            ))
            .with_hint("write the package with --output oci:DIR:TAG or to a registry"));
        }
    };
    let findings =
        eider_oci::verify_image(&store, &manifest, &Checks::default().with_diff_ids(true));
    let mut problems: Vec<String> = findings.iter().map(ToString::to_string).collect();
    if problems.is_empty()
        && let Some(drakefile) = &options.drakefile
    {
        problems.extend(check_against_drakefile(
            &store, &manifest, drakefile, output,
        )?);
    }
    if problems.is_empty() {
        output.note(&format!("Verified {location} ({manifest})"));
        crate::commands::print_stdout(&format!("{manifest}\n"))?;
        if options.run {
            let drakefile = match &options.drakefile {
                Some(path) => crate::discover::locate(Some(path))?,
                None => crate::discover::locate(file)?,
            };
            return run_package(&store, &manifest, &drakefile, &runtime, color, output);
        }
        return Ok(());
    }
    let mut failure = Failure::runtime(format!(
        "{location} ({manifest}) failed verification: {} problem(s)",
        problems.len()
    ));
    for problem in problems {
        failure = failure.with_cause(problem);
    }
    Err(failure)
}

fn layout_image(
    directory: &camino::Utf8Path,
    tag: Option<&str>,
) -> Result<(BlobStore, Digest), Failure> {
    let layout = OciLayout::open(directory).map_err(|error| {
        Failure::input(format!("cannot open the OCI layout {directory}"))
            .with_cause(error.to_string())
    })?;
    let index = layout.index().map_err(|error| {
        Failure::runtime(format!("cannot read the index of {directory}")).with_error(&error)
    })?;
    let found = index.manifests.iter().find(|descriptor| match tag {
        Some(tag) => descriptor
            .annotations
            .get(REF_NAME_ANNOTATION)
            .is_some_and(|name| name == tag),
        None => index.manifests.len() == 1,
    });
    let Some(descriptor) = found else {
        return Err(Failure::input(format!(
            "{directory} has no image tagged `{}`",
            tag.unwrap_or("")
        ))
        .with_hint(format!(
            "tags: {}",
            layout.tags().unwrap_or_default().join(", ")
        )));
    };
    Ok((layout.store().clone(), descriptor.digest.clone()))
}

async fn registry_image(
    reference: &str,
    client: &RegistryClient,
    directory: &camino::Utf8Path,
) -> Result<(BlobStore, Digest), Failure> {
    let failure = |what: &str, error: &(dyn std::error::Error + 'static)| {
        Failure::runtime(format!("cannot {what} of {reference}"))
            .with_cause(error.to_string())
            .with_sources_of(error)
    };
    let reference =
        Reference::parse(reference).map_err(|error| Failure::input(error.to_string()))?;
    let pulled = client
        .fetch_image_manifest(&reference, &eider_registry::Platform::linux_amd64())
        .await
        .map_err(|error| failure("fetch the manifest", &error))?;
    let store = BlobStore::create(directory.to_owned())
        .map_err(|error| failure("make a blob store", &error))?;
    let (digest, _) = store
        .write(&pulled.manifest.bytes)
        .map_err(|error| failure("store the manifest", &error))?;
    let manifest =
        match eider_oci::parse_manifest(&pulled.manifest.bytes, Some(&pulled.manifest.media_type))
            .map_err(|error| failure("read the manifest", &error))?
        {
            eider_oci::ParsedManifest::Image(manifest) => manifest,
            eider_oci::ParsedManifest::Index(_) => {
                return Err(Failure::runtime(format!("{reference} is a nested index")));
            }
        };
    for descriptor in std::iter::once(&manifest.config).chain(&manifest.layers) {
        // A blob whose bytes do not match its digest is refused here and so shows up as a
        // missing blob below, with its digest.
        let _checked_below = client
            .fetch_blob(
                reference.repository(),
                &descriptor.digest.to_string(),
                Some(descriptor.size),
                directory,
                &|_| {},
            )
            .await;
    }
    Ok((store, digest))
}

/// The package's job and Drakefile labels against the Drakefile at `path`.
fn check_against_drakefile(
    store: &BlobStore,
    manifest: &Digest,
    path: &camino::Utf8Path,
    output: Output,
) -> Result<Vec<String>, Failure> {
    let unreadable = |error: &dyn std::fmt::Display| {
        Failure::runtime("cannot read the package's config").with_cause(error.to_string())
    };
    let manifest_bytes = store
        .read(manifest, None)
        .map_err(|error| unreadable(&error))?;
    let parsed: eider_oci::ImageManifest =
        serde_json::from_slice(&manifest_bytes).map_err(|error| unreadable(&error))?;
    let config_bytes = store
        .read(&parsed.config.digest, Some(parsed.config.size))
        .map_err(|error| unreadable(&error))?;
    let config: eider_oci::ImageConfiguration =
        serde_json::from_slice(&config_bytes).map_err(|error| unreadable(&error))?;
    let labels = config
        .config
        .map(|config| config.labels)
        .unwrap_or_default();
    let text = drakefile::read_source(path)?;
    let parsed = drakefile::parse(path.as_str(), &text).map_err(Failure::Invalid)?;
    let mut problems = Vec::new();
    let Some(job_name) = labels.get(keys::JOB) else {
        problems.push(format!(
            "the package has no `{}` label: not made by eider package",
            keys::JOB
        ));
        return Ok(problems);
    };
    let Some(job) = parsed.drakefile.job(job_name) else {
        problems.push(format!(
            "{path} has no job `{job_name}`, which the package holds"
        ));
        return Ok(problems);
    };
    let expected = serde_json::to_value(job).map_err(|error| unreadable(&error))?;
    let recorded: Option<serde_json::Value> = labels
        .get(keys::JOB_DEFINITION)
        .and_then(|text| serde_json::from_str(text).ok());
    if recorded.as_ref() != Some(&expected) {
        problems.push(format!(
            "job `{job_name}` in {path} differs from the one packaged (label `{}`)",
            keys::JOB_DEFINITION
        ));
    }
    let digest = Digest::of(text.as_bytes()).to_string();
    if labels.get(keys::DRAKEFILE_DIGEST) != Some(&digest) {
        output.note(&format!(
            "note: {path} changed since the package was made, but not job `{job_name}`"
        ));
    }
    Ok(problems)
}

/// Loads the verified package into the local engine and runs its job from it: the primary runs
/// the package (no source mounted), the sidecars as the Drakefile says.
fn run_package(
    store: &BlobStore,
    manifest: &Digest,
    located: &crate::discover::Located,
    runtime: &tokio::runtime::Runtime,
    color: ColorChoice,
    output: Output,
) -> Result<(), Failure> {
    let unreadable = |error: &dyn std::fmt::Display| {
        Failure::runtime("cannot read the package").with_cause(error.to_string())
    };
    let manifest_bytes = store
        .read(manifest, None)
        .map_err(|error| unreadable(&error))?;
    let parsed: eider_oci::ImageManifest =
        serde_json::from_slice(&manifest_bytes).map_err(|error| unreadable(&error))?;
    let config_bytes = store
        .read(&parsed.config.digest, Some(parsed.config.size))
        .map_err(|error| unreadable(&error))?;
    let config: eider_oci::ImageConfiguration =
        serde_json::from_slice(&config_bytes).map_err(|error| unreadable(&error))?;
    let labels = config
        .config
        .map(|config| config.labels)
        .unwrap_or_default();
    let Some(job_name) = labels.get(keys::JOB).cloned() else {
        return Err(Failure::input(format!(
            "the package has no `{}` label: it was not made by eider package, so it has no job to run",
            keys::JOB
        )));
    };
    let loaded = crate::commands::package::load_into_engine(
        store,
        &config_bytes,
        &parsed.layers,
        &format!(
            "eider-verified/{job_name}:{}",
            &parsed.config.digest.hex()[..12]
        ),
        runtime,
    )?;
    let mut drakefile = crate::commands::load(located, output)?.drakefile;
    let Some(job) = drakefile.jobs.iter_mut().find(|job| job.name == job_name) else {
        return Err(Failure::input(format!(
            "{} has no job `{job_name}`, which the package holds",
            located.display
        ))
        .with_hint("name the Drakefile the package was made from with --drakefile"));
    };
    if let Some(primary) = job.containers.last_mut() {
        primary.image = loaded;
        primary.pull_policy = drakefile::PullPolicy::IfNotPresent;
        primary.source_mount_path = None;
    }
    let arguments = ["eider", "run", "--", job_name.as_str()];
    let crate::cli::Cli {
        command: crate::cli::Command::Run(run_options),
        ..
    } = <crate::cli::Cli as clap::Parser>::try_parse_from(arguments)
        .map_err(|error| Failure::input(error.to_string()))?
    else {
        return Err(Failure::runtime("cannot prepare the run of the package"));
    };
    let source_root = crate::commands::run::source_root(&located.path)?;
    crate::commands::run::run_drakefile(&run_options, &drakefile, source_root, color)
}
