//! An image of a blob store loaded into the local engine, through a Docker archive: how a
//! verified package gets there to run.

use camino::Utf8PathBuf;
use eider_error_chain::TextError;
use eider_runtime_docker::DockerRuntime;

/// An image that could not be loaded into the local engine.
#[derive(Debug, thiserror::Error)]
#[error("cannot load {name} into the local engine")]
pub struct EngineLoadError {
    /// The image's name in the engine.
    pub name: String,
    /// Why.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Loads the image of `config` and `layers` (in `store`) into the local engine under `name`;
/// returns the engine's id of it (its config's digest).
pub(crate) async fn load_into_engine(
    store: &eider_oci::BlobStore,
    config: &[u8],
    layers: &[eider_oci::Descriptor],
    name: &str,
) -> Result<eider_oci::Digest, EngineLoadError> {
    let failure = |source: Box<dyn std::error::Error + Send + Sync>| EngineLoadError {
        name: name.to_owned(),
        source,
    };
    let id = eider_oci::Digest::of(config);
    // Only images are handled here: the engine is not asked its platform, which would slow
    // the inspect below and the run that follows.
    let daemon = DockerRuntime::connect_for_images()
        .await
        .map_err(|error| failure(error.into()))?;
    // The engine names an image by the digest of its config: when `name` is that image
    // already (the same package run again), there is nothing to write or load.
    if daemon
        .image_identity(name)
        .await
        .map_err(|error| failure(error.into()))?
        .is_some_and(|identity| identity.id == id.to_string())
    {
        return Ok(id);
    }
    let directory = tempfile::tempdir().map_err(|error| failure(error.into()))?;
    let file = Utf8PathBuf::from_path_buf(directory.path().join("image.tar"))
        .map_err(|path| failure(TextError(path.display().to_string()).into()))?;
    eider_oci::write_docker_archive(&file, config, layers, &[name.to_owned()], &[store])
        .map_err(|error| failure(error.into()))?;
    let reader = tokio::fs::File::open(&file)
        .await
        .map_err(|error| failure(error.into()))?;
    let stream = futures_util::StreamExt::boxed(tokio_util::io::ReaderStream::new(reader));
    daemon
        .load_image(stream)
        .await
        .map_err(|error| failure(error.into()))?;
    Ok(id)
}
