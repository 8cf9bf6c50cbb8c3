//! The layer's tar stream: the selected entries in order, each file's content streamed through
//! one fixed buffer (memory stays bounded whatever the file sizes), and the two zero blocks that
//! end an archive.

use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};

use camino::Utf8Path;

use super::error::LayerError;
use super::select::{Entry, EntryKind};
use super::tar_header::{BLOCK, HeaderKind, padding, write_header};

/// The buffer file content passes through.
const READ_BUFFER: usize = 256 * 1024;

/// Writes the tar stream of `entries` into `output`.
pub(crate) fn write_tar(
    entries: &[Entry],
    epoch: u64,
    output: &mut impl Write,
) -> Result<(), LayerError> {
    let mut buffer = vec![0_u8; READ_BUFFER];
    let write_error = |source: io::Error| LayerError::Write { source };
    for entry in entries {
        match &entry.kind {
            EntryKind::Directory => {
                write_header(
                    output,
                    HeaderKind::Directory,
                    &entry.name,
                    "",
                    0o755,
                    0,
                    epoch,
                )
                .map_err(write_error)?;
            }
            EntryKind::Symlink { target } => {
                write_header(
                    output,
                    HeaderKind::Symlink,
                    &entry.name,
                    target,
                    0o777,
                    0,
                    epoch,
                )
                .map_err(write_error)?;
            }
            EntryKind::HardLink { target, mode } => {
                write_header(
                    output,
                    HeaderKind::HardLink,
                    &entry.name,
                    target,
                    *mode,
                    0,
                    epoch,
                )
                .map_err(write_error)?;
            }
            EntryKind::File { size, mode, path } => {
                write_header(
                    output,
                    HeaderKind::File,
                    &entry.name,
                    "",
                    *mode,
                    *size,
                    epoch,
                )
                .map_err(write_error)?;
                copy_file(path, *size, &mut buffer, output)?;
                output
                    .write_all(&[0; BLOCK][..padding(*size)])
                    .map_err(write_error)?;
            }
        }
    }
    output.write_all(&[0; 2 * BLOCK]).map_err(write_error)
}

/// Copies exactly `size` bytes of the file: a file that grew or shrank since it was listed would
/// make the header lie, so it is an error.
fn copy_file(
    path: &Utf8Path,
    size: u64,
    buffer: &mut [u8],
    output: &mut impl Write,
) -> Result<(), LayerError> {
    let read_error = |source: io::Error| LayerError::Read {
        path: path.to_owned(),
        source,
    };
    let changed = || LayerError::FileChanged {
        path: path.to_owned(),
        expected: size,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let mut remaining = size;
    while remaining > 0 {
        let wanted = buffer
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let read = match file.read(&mut buffer[..wanted]) {
            Ok(0) => return Err(changed()),
            Ok(read) => read,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => return Err(read_error(error)),
        };
        output
            .write_all(&buffer[..read])
            .map_err(|source| LayerError::Write { source })?;
        remaining -= read as u64;
    }
    loop {
        match file.read(&mut buffer[..1]) {
            Ok(0) => return Ok(()),
            Ok(_) => return Err(changed()),
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) => return Err(read_error(error)),
        }
    }
}
