//! Layers pushed while they are compressed. When the package goes to a registry, each layer that
//! has to be compressed is also streamed to it as it is made, so the push that follows finds the
//! layer there and only sends the config and the manifest: packaging and pushing take about as
//! long as packaging alone. A streamed upload that fails costs nothing but time: the push sends
//! the layer the ordinary way.

use std::io::{self, Write};

use bytes::Bytes;
use eider_oci::{BuiltLayer, Digest, LayerCache, LayerError, LayerSpec, Reuse};
use eider_registry::{RegistryClient, Repository};
use tokio::sync::{mpsc, oneshot};

/// Chunks in flight between the compressor and the upload: enough to keep both busy, few
/// enough that a slow registry slows the compressor instead of filling memory.
const CHUNKS_IN_FLIGHT: usize = 16;

/// Where layers are streamed to.
pub struct StreamTarget<'a> {
    pub registry: &'a RegistryClient,
    pub repository: Repository,
}

/// A layer built, and whether its bytes also reached the registry.
pub struct StreamedLayer {
    pub built: BuiltLayer,
    pub streamed: bool,
}

/// Builds the layer `spec` into `cache`, streaming it to `target` when it is compressed.
pub async fn build_layer(
    cache: &LayerCache,
    spec: LayerSpec,
    target: Option<&StreamTarget<'_>>,
) -> Result<StreamedLayer, BuildError> {
    let Some(target) = target else {
        let cache = cache.clone();
        let built = tokio::task::spawn_blocking(move || cache.build_layer(&spec))
            .await
            .map_err(|error| BuildError::Task(error.to_string()))??;
        return Ok(StreamedLayer {
            built,
            streamed: false,
        });
    };
    let (chunks, received) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let (digest, digest_received) = oneshot::channel::<Digest>();
    let cache = cache.clone();
    let building = async move {
        let tee: Box<dyn Write + Send> = Box::new(ChannelWriter(chunks));
        let built = tokio::task::spawn_blocking(move || cache.build_layer_teeing(&spec, Some(tee)))
            .await
            .map_err(|error| BuildError::Task(error.to_string()))??;
        // A reused layer sent nothing; its upload has already ended without a session.
        if built.reuse == Reuse::Built {
            let _ended_already = digest.send(built.blob.digest.clone());
        }
        Ok::<BuiltLayer, BuildError>(built)
    };
    let upload =
        target
            .registry
            .upload_while_produced(&target.repository, received, digest_received);
    let (result, uploaded) = tokio::join!(building, upload);
    let built = result?;
    let streamed = matches!(uploaded, Ok(Some(digest)) if digest == built.blob.digest);
    Ok(StreamedLayer { built, streamed })
}

/// Why a layer could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The build itself.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// The thread it ran on.
    #[error("the build stopped: {0}")]
    Task(String),
}

/// Hands what the compressor writes to the upload; a closed upload fails the write, which the
/// blob writer takes as the end of the tee, never of the layer.
struct ChannelWriter(mpsc::Sender<Bytes>);

impl Write for ChannelWriter {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Bytes::copy_from_slice(buffer))
            .map_err(|_| io::Error::other("the streamed upload ended"))?;
        Ok(buffer.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
