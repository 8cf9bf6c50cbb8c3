//! Reading a layer blob as its plain tar stream, whatever its compression.

use std::io::{self, Read};

use crate::media_type::LayerEncoding;

/// A reader of the uncompressed tar stream of a layer encoded as `encoding`. gzip streams of
/// several members (as some tools write) are read whole; so are zstd streams of several frames.
pub(crate) fn decoder<'reader>(
    encoding: LayerEncoding,
    reader: impl Read + 'reader,
) -> io::Result<Box<dyn Read + 'reader>> {
    Ok(match encoding {
        LayerEncoding::Tar => Box::new(reader),
        LayerEncoding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        LayerEncoding::Zstd => Box::new(zstd::stream::read::Decoder::new(reader)?),
    })
}

/// The uncompressed tar stream of the layer `layer` of `store`, streamed (for callers that
/// inspect what a layer holds).
pub fn open_layer(
    store: &crate::BlobStore,
    layer: &crate::Descriptor,
) -> io::Result<Box<dyn Read + 'static>> {
    let encoding = crate::media_type::layer_encoding(&layer.media_type).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not a layer media type", layer.media_type),
        )
    })?;
    let file = store
        .open(&layer.digest, Some(layer.size))
        .map_err(io::Error::other)?;
    decoder(encoding, io::BufReader::new(file))
}
