//! Writing a whole file at once: the bytes go to a temporary file beside the destination, which
//! a rename then puts in its place, so a full disk or a crash leaves the previous file (or none),
//! never a truncated one that a CI system or the next command would read. A file that exists
//! keeps its permissions, and a symbolic link keeps its place: the file it points to is replaced.

use std::io::Write as _;

use camino::{Utf8Path, Utf8PathBuf};

/// A file that could not be written; nothing of it was left behind.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}")]
pub struct WriteError {
    path: Utf8PathBuf,
    #[source]
    source: std::io::Error,
}

/// Writes `bytes` as the whole content of `path`. `prefix` names the temporary file (removed when
/// anything fails), so that a leftover says which command made it.
pub fn write_whole(path: &Utf8Path, bytes: &[u8], prefix: &str) -> Result<(), WriteError> {
    let failed = |source| WriteError {
        path: path.to_owned(),
        source,
    };
    let destination = destination(path).map_err(failed)?;
    let directory = match destination.parent() {
        Some(parent) if !parent.as_str().is_empty() => parent,
        _ => Utf8Path::new("."),
    };
    let permissions = std::fs::metadata(&destination)
        .ok()
        .map(|metadata| metadata.permissions());
    let mut file = tempfile::Builder::new()
        .prefix(prefix)
        .tempfile_in(directory)
        .map_err(failed)?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .and_then(|()| match permissions {
            Some(permissions) => file.as_file().set_permissions(permissions),
            None => Ok(()),
        })
        .and_then(|()| file.as_file().sync_all())
        .map_err(failed)?;
    file.persist(&destination)
        .map_err(|error| failed(error.error))?;
    Ok(())
}

/// The file to replace: `path`, or the file it points to when it is a symbolic link.
fn destination(path: &Utf8Path) -> std::io::Result<Utf8PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => {
            let target = std::fs::canonicalize(path)?;
            Utf8PathBuf::from_path_buf(target).map_err(|target| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} is not valid UTF-8", target.display()),
                )
            })
        }
        _ => Ok(path.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary_directory() -> (tempfile::TempDir, Utf8PathBuf) {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = Utf8PathBuf::try_from(directory.path().to_path_buf()).expect("UTF-8");
        (directory, path)
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let (_directory, root) = temporary_directory();
        let path = root.join("Drakefile.yaml");
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        write_whole(&path, b"new", ".test-").expect("replaced");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
        let names: Vec<String> = std::fs::read_dir(&root)
            .expect("list")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["Drakefile.yaml"], "no temporary file is left");
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_stays_and_its_target_is_replaced() {
        let (_directory, root) = temporary_directory();
        std::fs::create_dir(root.join("shared")).expect("mkdir");
        let target = root.join("shared/Drakefile.yaml");
        std::fs::write(&target, "old").expect("write");
        let link = root.join("Drakefile.yaml");
        std::os::unix::fs::symlink("shared/Drakefile.yaml", &link).expect("symlink");
        write_whole(&link, b"new", ".test-").expect("replaced");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("metadata")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "new");
    }
}
