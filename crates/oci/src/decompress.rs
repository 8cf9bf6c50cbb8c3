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
