//! `eider package`: the request made of the flags, the package made (by `eider_package::build`)
//! while signals are watched, and its digest or description printed. Also the packaging of
//! `eider run --packaged`.

mod interrupt;

use std::sync::Arc;

use camino::Utf8Path;
use drakefile::Drakefile;
use eider_oci::ManifestFormat;
use eider_package::{Description, ImageLocation, Observer, PackageRequest, Plan, Project};

use crate::cli::PackageOptions;
use crate::discover::Located;
use crate::failure::Failure;
use crate::package_reporter::PackageReporter;
use crate::registry_retry::{registry_access, registry_retry_policy};
use crate::render::Output;

/// Packages the job and writes it to every destination.
pub fn run(options: &PackageOptions, located: &Located, output: Output) -> Result<(), Failure> {
    let parsed = crate::commands::load(located, output)?;
    let request = request(options)?;
    let description = package(&parsed.drakefile, &request, located, output)?;
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

/// The package the flags ask for.
fn request(options: &PackageOptions) -> Result<PackageRequest, Failure> {
    Ok(PackageRequest {
        job: options.job.clone(),
        outputs: options
            .outputs
            .iter()
            .map(|text| location(text))
            .collect::<Result<_, _>>()?,
        version: options.tag.clone(),
        compression: options.compression.into(),
        manifest_format: if options.docker_media_types {
            ManifestFormat::Docker
        } else {
            ManifestFormat::Oci
        },
        source_path: options.path.clone(),
        resolve_from: options.base_from.into(),
        base: options.base.as_deref().map(location).transpose()?,
        locked: options.locked,
        secrets: options.secrets.clone(),
        source_date_epoch: source_date_epoch(),
        registry: registry_access(&options.registry)?,
    })
}

/// An image location of the command line.
pub fn location(text: &str) -> Result<ImageLocation, Failure> {
    Ok(ImageLocation::parse(text)?)
}

/// `SOURCE_DATE_EPOCH`, the reproducible-builds convention for the time of every timestamp.
fn source_date_epoch() -> Option<String> {
    std::env::var("SOURCE_DATE_EPOCH").ok()
}

/// Packages `request` of `drakefile` (the file at `located`); returns its description. A signal
/// while it runs removes the package's temporary files and ends eider at once.
fn package(
    drakefile: &Drakefile,
    request: &PackageRequest,
    located: &Located,
    output: Output,
) -> Result<Description, Failure> {
    let root = crate::commands::run::source_root(&located.path)?;
    let project = Project {
        drakefile,
        path: &located.path,
        display: &located.display,
        root: &root,
    };
    let plan = Plan::prepare(project, request)?;
    let _interrupts = interrupt::InterruptWatch::start(output)?;
    let runtime = crate::commands::async_runtime()?;
    let reporter: Arc<dyn Observer> = Arc::new(PackageReporter::new(output));
    Ok(runtime.block_on(plan.package(&reporter))?)
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
        let request = PackageRequest::for_run(
            name,
            locked,
            secrets.map(Utf8Path::to_owned),
            registry_retry_policy()?,
            source_date_epoch(),
        );
        let description = package(&packaged, &request, located, output)?;
        // A loaded image's id is its config's digest.
        eider_package::use_package(drakefile, name, &description.config)
            .map_err(|error| Failure::input(error.to_string()))?;
    }
    Ok(())
}
