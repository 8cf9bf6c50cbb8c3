//! Reading a Drakefile from disk, refusing what cannot be one before any parsing happens.

use std::io::Read;
use std::os::unix::fs::FileTypeExt as _;

use camino::{Utf8Path, Utf8PathBuf};

use crate::diagnostic::Report;

/// Drakefiles larger than this are refused: even 2,000 jobs of 10 containers written out without
/// anchors stay well below it, and the limit bounds memory and time on hostile input.
pub const MAX_FILE_SIZE: u64 = 32 * 1024 * 1024;

/// Why a Drakefile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The path is a directory.
    #[error("{path} is a directory, not a Drakefile")]
    IsDirectory {
        /// The directory.
        path: Utf8PathBuf,
    },
    /// The path is neither a file nor a directory: a FIFO, a device, a socket.
    #[error("{path} is {kind}, not a regular file")]
    NotAFile {
        /// The path.
        path: Utf8PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// The file is larger than [`MAX_FILE_SIZE`].
    #[error("{path} is {size} bytes, more than the {limit} bytes a Drakefile may have")]
    TooLarge {
        /// The file.
        path: Utf8PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The file is binary or not UTF-8.
    #[error("{path} is not a text file ({reason} at byte {offset})")]
    NotText {
        /// The file.
        path: Utf8PathBuf,
        /// What was found.
        reason: &'static str,
        /// Where.
        offset: usize,
    },
    /// The file was read but is not a valid Drakefile.
    #[error("{} is not a valid Drakefile", .0.name())]
    Invalid(Report),
}

/// Reads the text of a Drakefile, refusing directories, huge files and binary content.
pub fn read_source(path: &Utf8Path) -> Result<String, LoadError> {
    let read_error = |source| LoadError::Read {
        path: path.to_owned(),
        source,
    };
    // Looked at before it is opened: opening a FIFO waits for a writer, forever, and a device
    // such as /dev/zero reports no size.
    let file_type = std::fs::metadata(path).map_err(read_error)?.file_type();
    if !file_type.is_file() && !file_type.is_dir() {
        return Err(LoadError::NotAFile {
            path: path.to_owned(),
            kind: if file_type.is_fifo() {
                "a FIFO"
            } else if file_type.is_char_device() || file_type.is_block_device() {
                "a device"
            } else {
                "a socket"
            },
        });
    }
    let file = std::fs::File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if metadata.is_dir() {
        return Err(LoadError::IsDirectory {
            path: path.to_owned(),
        });
    }
    if metadata.len() > MAX_FILE_SIZE {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
            size: metadata.len(),
            limit: MAX_FILE_SIZE,
        });
    }
    // Read one byte past the limit: a file that grows, or a device that reports no size, is
    // still bounded.
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
            size: bytes.len() as u64,
            limit: MAX_FILE_SIZE,
        });
    }
    text_from_bytes(path, bytes)
}

fn text_from_bytes(path: &Utf8Path, bytes: Vec<u8>) -> Result<String, LoadError> {
    if let Some(offset) = bytes.iter().position(|byte| *byte == 0) {
        return Err(LoadError::NotText {
            path: path.to_owned(),
            reason: "a NUL byte",
            offset,
        });
    }
    let mut text = String::from_utf8(bytes).map_err(|error| LoadError::NotText {
        path: path.to_owned(),
        reason: "invalid UTF-8",
        offset: error.utf8_error().valid_up_to(),
    })?;
    // A byte-order mark is legal at the start of YAML; dropping it keeps columns right.
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_non_utf8_content_is_refused() {
        let path = Utf8Path::new("Drakefile.yaml");
        assert!(matches!(
            text_from_bytes(path, b"a: 1\n\0".to_vec()),
            Err(LoadError::NotText { offset: 5, .. })
        ));
        assert!(matches!(
            text_from_bytes(path, b"a: \xff\n".to_vec()),
            Err(LoadError::NotText { offset: 3, .. })
        ));
        assert_eq!(
            text_from_bytes(path, "\u{feff}a: 1\n".as_bytes().to_vec())
                .ok()
                .as_deref(),
            Some("a: 1\n")
        );
    }
}
