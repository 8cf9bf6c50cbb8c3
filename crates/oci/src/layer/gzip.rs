//! Deterministic parallel gzip. The tar stream is cut into chunks of a fixed size by stream
//! offset; each chunk is compressed on its own (no dictionary from the one before) as raw
//! deflate at level 1, ending with a sync flush (an empty stored block, so the next chunk starts
//! on a byte boundary), the last one with the final block instead. The chunks are written in
//! order, and their CRC-32s combined. The bytes depend only on the input and the chunk size,
//! never on the number of threads or their timing.
//!
//! `miniz_oxide` is used directly, not through flate2, whose backend can be switched (by Cargo
//! feature unification) to one that splits blocks differently. The header has no name, mtime 0,
//! XFL 0 and OS 255 (unknown), so it says nothing about the machine.

use std::io::{self, Write};

use miniz_oxide::deflate::core::{
    CompressorOxide, TDEFLFlush, TDEFLStatus, compress, create_comp_flags_from_zip_params,
};

use super::parallel::ChunkFormat;
use crate::blob_store::BlobWriter;

/// The deflate level (normalization version 1). `miniz_oxide`'s level 1 is its fast path; any
/// other setting takes the general one, about 2.5 times the CPU for 8% less output.
const LEVEL: i32 = 1;

/// Raw deflate (no zlib wrapper) with the largest window.
const RAW_WINDOW_BITS: i32 = -15;

/// The gzip member header: magic, deflate, no flags, mtime 0, XFL 0, OS 255.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// The gzip format: one member whose deflate stream is made of independently compressed chunks.
pub(crate) struct Gzip;

impl ChunkFormat for Gzip {
    const NAME: &'static str = "gzip";

    // Boxed: the deflate state is large.
    type Compressor = Box<CompressorOxide>;

    type Check = crc32fast::Hasher;

    fn compressor() -> io::Result<Self::Compressor> {
        Ok(Box::new(CompressorOxide::new(
            create_comp_flags_from_zip_params(LEVEL, RAW_WINDOW_BITS, 0),
        )))
    }

    fn compress_chunk(
        compressor: &mut Self::Compressor,
        input: &[u8],
        output: &mut Vec<u8>,
        last: bool,
    ) -> io::Result<Self::Check> {
        let mut crc = crc32fast::Hasher::new();
        crc.update(input);
        deflate_chunk(compressor, input, output, last)?;
        Ok(crc)
    }

    fn combine(total: &mut Self::Check, next: Self::Check) {
        total.combine(&next);
    }

    fn write_header(output: &mut BlobWriter) -> io::Result<()> {
        output.write_all(&HEADER)
    }

    fn write_trailer(output: &mut BlobWriter, crc: Self::Check, input_size: u64) -> io::Result<()> {
        output.write_all(&crc.finalize().to_le_bytes())?;
        // ISIZE is the input size modulo 2^32, as the format says.
        output.write_all(&(input_size as u32).to_le_bytes())
    }
}

/// Compresses one chunk from a fresh compressor state into `output`, in a single call with room
/// for the worst case, so the output never depends on buffer sizes (a full output buffer would
/// add flush markers).
pub(crate) fn deflate_chunk(
    compressor: &mut CompressorOxide,
    input: &[u8],
    output: &mut Vec<u8>,
    last: bool,
) -> io::Result<()> {
    compressor.reset();
    // Stored blocks cost 5 bytes per 64 KiB; the margin covers that and the flush markers.
    let room = input.len() + input.len() / 16 + 1024;
    output.clear();
    output.resize(room, 0);
    let flush = if last {
        TDEFLFlush::Finish
    } else {
        TDEFLFlush::Sync
    };
    let (status, consumed, produced) = compress(compressor, input, output, flush);
    let expected = if last {
        TDEFLStatus::Done
    } else {
        TDEFLStatus::Okay
    };
    if status != expected || consumed != input.len() || produced >= room {
        return Err(io::Error::other(format!(
            "deflate stopped early ({status:?}, {consumed} of {} bytes in)",
            input.len()
        )));
    }
    output.truncate(produced);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn raw_deflate(chunks: &[&[u8]]) -> Vec<u8> {
        let mut compressor = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
            LEVEL,
            RAW_WINDOW_BITS,
            0,
        )));
        let mut stream = Vec::new();
        for (index, chunk) in chunks.iter().enumerate() {
            let mut output = Vec::new();
            deflate_chunk(
                &mut compressor,
                chunk,
                &mut output,
                index + 1 == chunks.len(),
            )
            .expect("deflate");
            stream.extend_from_slice(&output);
        }
        stream
    }

    #[test]
    fn chunks_ending_in_sync_flushes_concatenate_into_one_stream() {
        let text: Vec<u8> = (0..200_000_u32)
            .flat_map(|number| format!("{number} ").into_bytes())
            .collect();
        let (first, second) = text.split_at(300_000);
        let stream = raw_deflate(&[first, second, b""]);
        let mut decoded = Vec::new();
        flate2::read::DeflateDecoder::new(&stream[..])
            .read_to_end(&mut decoded)
            .expect("decodes");
        assert_eq!(decoded, text);
    }

    #[test]
    fn incompressible_chunks_fit_the_room_given() {
        let mut state = 0x1234_5678_u32;
        let random: Vec<u8> = (0..1 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state.to_le_bytes()[0]
            })
            .collect();
        let stream = raw_deflate(&[&random, &random[..1000]]);
        assert!(stream.len() < random.len() + 1000 + 1024);
    }

    fn gzip_with_threads(input: &[u8], threads: usize) -> Vec<u8> {
        crate::layer::parallel::compress_with_threads::<Gzip>(input, threads)
    }

    #[test]
    fn the_output_does_not_depend_on_the_number_of_threads() {
        let input: Vec<u8> = (0..3_000_000_u32)
            .map(|number| (number % 251) as u8 ^ (number / 7919) as u8)
            .collect();
        let one = gzip_with_threads(&input, 1);
        assert_eq!(one, gzip_with_threads(&input, 3));
        assert_eq!(one, gzip_with_threads(&input, 8));
        assert_eq!(&one[..10], &HEADER);
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&one[..])
            .read_to_end(&mut decoded)
            .expect("a valid gzip member");
        assert_eq!(
            decoded, input,
            "the CRC and size in the trailer are checked too"
        );
    }

    #[test]
    fn an_empty_last_chunk_is_a_valid_end() {
        let stream = raw_deflate(&[b""]);
        let mut decoded = Vec::new();
        flate2::read::DeflateDecoder::new(&stream[..])
            .read_to_end(&mut decoded)
            .expect("decodes");
        assert!(decoded.is_empty());
    }
}
