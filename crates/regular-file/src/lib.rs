//! Opening files as regular files only, and reading them whole with a bound. What eider reads
//! may come from anywhere: an OCI layout someone sent, a lock file or a secrets file of a
//! repository under test. A name that is a symbolic link to `/dev/zero`, or a FIFO, must be an
//! error that says so, never gigabytes of memory or a read that never ends.

use std::fs::FileType;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};

use camino::Utf8Path;

/// The most a file of a project that eider reads whole (a lock file, settings, a secrets or env
/// file) may hold: as much as a Drakefile may, far beyond any real one.
pub const MAX_PROJECT_FILE: u64 = 32 * 1024 * 1024;

/// Opens `path` for reading when it is (or a symbolic link leads to) a regular file; anything
/// else is an `InvalidData` error that says what it is.
pub fn open_regular(path: &Utf8Path) -> io::Result<fs_err::File> {
    // Without O_NONBLOCK, opening a FIFO waits for a writer, forever. The flag changes nothing
    // for a regular file.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|error| io::Error::new(error.kind(), format!("{error}: {path}")))?;
    let file_type = file
        .metadata()
        .map_err(|error| io::Error::new(error.kind(), format!("{error}: {path}")))?
        .file_type();
    if !file_type.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{path} is {}, not a regular file",
                file_type_name(file_type)
            ),
        ));
    }
    Ok(fs_err::File::from_parts(file, path))
}

/// Reads `reader` whole when it holds at most `limit` bytes; more is an `InvalidData` error.
pub fn read_bounded(reader: impl Read, limit: u64, what: &str) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} is larger than {}", shown_size(limit)),
        ));
    }
    Ok(bytes)
}

/// `4 MiB`, or `1000 bytes` below a mebibyte.
fn shown_size(bytes: u64) -> String {
    const MEBIBYTE: u64 = 1024 * 1024;
    if bytes >= MEBIBYTE && bytes.is_multiple_of(MEBIBYTE) {
        format!("{} MiB", bytes / MEBIBYTE)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads the regular file at `path` whole, when it holds at most `limit` bytes.
pub fn read_regular(path: &Utf8Path, limit: u64) -> io::Result<Vec<u8>> {
    read_bounded(open_regular(path)?, limit, path.as_str())
}

/// What a file of `file_type` is, with its article: `a FIFO`, `a character device`...
#[must_use]
pub fn file_type_name(file_type: FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "a file of unknown type"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary_directory() -> (tempfile::TempDir, camino::Utf8PathBuf) {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = camino::Utf8PathBuf::try_from(directory.path().to_path_buf()).expect("UTF-8");
        (directory, path)
    }

    #[test]
    fn a_symbolic_link_to_dev_zero_is_refused_before_anything_is_read() {
        let (_directory, root) = temporary_directory();
        let link = root.join("index.json");
        std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
        let error = read_regular(&link, MAX_PROJECT_FILE).expect_err("refused");
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(error.to_string().contains("a character device"), "{error}");
    }

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let (_directory, root) = temporary_directory();
        let fifo = root.join("blob");
        let status = std::process::Command::new("mkfifo")
            .arg(fifo.as_str())
            .status()
            .expect("mkfifo");
        assert!(status.success());
        let error = open_regular(&fifo).expect_err("refused");
        assert!(error.to_string().contains("a FIFO"), "{error}");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_and_one_at_the_limit_is_read() {
        let (_directory, root) = temporary_directory();
        let path = root.join("manifest");
        fs_err::write(&path, vec![b'x'; 10]).expect("write");
        assert_eq!(read_regular(&path, 10).expect("at the limit").len(), 10);
        let error = read_regular(&path, 9).expect_err("over the limit");
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn a_missing_file_keeps_its_kind_and_names_its_path() {
        let (_directory, root) = temporary_directory();
        let error = open_regular(&root.join("absent")).expect_err("missing");
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert!(error.to_string().contains("absent"), "{error}");
    }
}
