//! Unpacking a tar stream that came from a cluster into a local directory, entry by entry as it
//! arrives. The archive is the cluster's word, not eider's: an entry that would land outside the
//! directory fails the copy instead of being skipped quietly, and what lands belongs to the user
//! eider runs as, without set-user-ID or set-group-ID bits. Symbolic links stay links.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use camino::{Utf8Path, Utf8PathBuf};

/// The mode bits never given to what is unpacked: set-user-ID and set-group-ID.
const PRIVILEGE_BITS: u32 = 0o6000;

/// Why unpacking stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UnpackError {
    /// An entry's path, or a hard link's target, leaves the destination.
    #[error("the archive's entry `{0}` would land outside the destination")]
    Escapes(String),
    /// Reading the stream or writing a file failed.
    #[error("{0}")]
    Io(String),
}

fn io_error(error: &std::io::Error) -> UnpackError {
    UnpackError::Io(eider_error_chain::chain_text(error))
}

/// A local directory being filled from an archive.
pub(crate) struct Unpacking {
    destination: Utf8PathBuf,
    /// Whether the directory was there before: then it may hold the user's own files.
    existed: bool,
}

impl Unpacking {
    /// Creates the destination (and its parents) when it is not there.
    pub(crate) fn begin(destination: &Utf8Path) -> std::io::Result<Self> {
        let existed = destination.exists();
        fs_err::create_dir_all(destination)?;
        Ok(Self {
            destination: destination.to_owned(),
            existed,
        })
    }

    /// Unpacks the archive `reader` yields, as it reads it.
    pub(crate) fn unpack(&self, reader: impl Read) -> Result<(), UnpackError> {
        let mut archive = tar::Archive::new(reader);
        archive.set_preserve_permissions(true);
        archive.set_preserve_ownerships(false);
        archive.set_mask(PRIVILEGE_BITS);
        archive.set_overwrite(true);
        let root = self.destination.as_std_path();
        // A directory's own mode is set once everything inside it is in: a read-only directory
        // would refuse its own content otherwise.
        let mut directories: Vec<(PathBuf, u32)> = Vec::new();
        for entry in archive.entries().map_err(|error| io_error(&error))? {
            let mut entry = entry.map_err(|error| io_error(&error))?;
            let path = entry.path().map_err(|error| io_error(&error))?.into_owned();
            let relative = inside(&path)?;
            let kind = entry.header().entry_type();
            if kind.is_hard_link() {
                let target = entry
                    .link_name()
                    .map_err(|error| io_error(&error))?
                    .map(std::borrow::Cow::into_owned)
                    .unwrap_or_default();
                inside(&target)?;
            }
            if relative.as_os_str().is_empty() {
                // The root itself (`./`): the destination is the user's, its mode stays.
                continue;
            }
            let mode = entry.header().mode().unwrap_or(0o755);
            entry.unpack_in(root).map_err(|error| {
                if error.to_string().contains("outside of destination") {
                    UnpackError::Escapes(path.display().to_string())
                } else {
                    io_error(&error)
                }
            })?;
            if kind.is_dir() {
                let created = root.join(&relative);
                set_mode(&created, (mode & 0o7777 & !PRIVILEGE_BITS) | 0o700)?;
                directories.push((created, mode));
            }
        }
        // Deepest first: a parent made read-only stays reachable until its children are done.
        for (directory, mode) in directories.iter().rev() {
            set_mode(directory, mode & 0o7777 & !PRIVILEGE_BITS)?;
        }
        Ok(())
    }

    /// Removes what a failed copy left when eider made the directory (half a copy passes for
    /// the whole of it); one that was there before may hold the user's own files and stays.
    /// Says what is left, to follow the error.
    pub(crate) fn discard(&self) -> &'static str {
        if self.existed {
            "; what was copied before the failure is in it"
        } else if fs_err::remove_dir_all(&self.destination).is_ok() {
            ""
        } else {
            "; the partial copy could not be removed"
        }
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), UnpackError> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|error| {
        UnpackError::Io(format!(
            "cannot set the mode of {}: {}",
            path.display(),
            eider_error_chain::chain_text(&error)
        ))
    })
}

/// `path` relative to the destination, or why it is not inside it: an absolute path or one
/// that climbs out (`..`) is refused.
fn inside(path: &Path) -> Result<PathBuf, UnpackError> {
    let mut relative = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::Normal(part) => relative.push(part),
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(UnpackError::Escapes(path.display().to_string()));
            }
        }
    }
    Ok(relative)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    /// An archive of `entries`: (path as written, type, mode, content or link target). Names
    /// are written raw, so that an archive can say what `tar::Builder` refuses to write.
    fn archive(entries: &[(&str, tar::EntryType, u32, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, mode, content) in entries {
            let mut header = tar::Header::new_gnu();
            header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_entry_type(*kind);
            header.set_mode(*mode);
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(1_700_000_000);
            let data: &[u8] = if kind.is_symlink() || kind.is_hard_link() {
                header.set_link_name(content).expect("a link name");
                &[]
            } else {
                content.as_bytes()
            };
            header.set_size(data.len() as u64);
            header.set_cksum();
            builder.append(&header, data).expect("append");
        }
        builder.into_inner().expect("finish the archive")
    }

    fn destination() -> (tempfile::TempDir, Utf8PathBuf) {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = Utf8PathBuf::from_path_buf(directory.path().join("kept")).expect("UTF-8");
        (directory, path)
    }

    fn mode(path: &Utf8Path) -> u32 {
        std::fs::symlink_metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o7777
    }

    #[test]
    fn directories_files_modes_and_links_land_as_they_were_without_privilege_bits() {
        let (_keep, destination) = destination();
        let bytes = archive(&[
            ("./", tar::EntryType::Directory, 0o755, ""),
            ("./dir/", tar::EntryType::Directory, 0o2775, ""),
            ("./dir/nested/", tar::EntryType::Directory, 0o555, ""),
            (
                "./dir/nested/deep.txt",
                tar::EntryType::Regular,
                0o644,
                "deep\n",
            ),
            ("./tool", tar::EntryType::Regular, 0o4755, "#!/bin/sh\n"),
            (
                "./link",
                tar::EntryType::Symlink,
                0o777,
                "dir/nested/deep.txt",
            ),
            ("./away", tar::EntryType::Symlink, 0o777, "/etc/passwd"),
            ("./again", tar::EntryType::Link, 0o644, "./tool"),
        ]);
        let unpacking = Unpacking::begin(&destination).expect("begin");
        unpacking.unpack(bytes.as_slice()).expect("unpack");
        assert_eq!(
            std::fs::read_to_string(destination.join("dir/nested/deep.txt")).expect("read"),
            "deep\n"
        );
        assert_eq!(mode(&destination.join("tool")), 0o755);
        assert_eq!(mode(&destination.join("dir")), 0o775);
        assert_eq!(mode(&destination.join("dir/nested")), 0o555);
        assert_eq!(
            std::fs::read_link(destination.join("link")).expect("a link"),
            Path::new("dir/nested/deep.txt")
        );
        assert_eq!(
            std::fs::read_link(destination.join("away")).expect("a link"),
            Path::new("/etc/passwd")
        );
        assert_eq!(mode(&destination.join("again")), 0o755);
    }

    #[test]
    fn an_entry_that_climbs_out_or_is_absolute_fails_the_copy_and_writes_nothing_outside() {
        for path in ["./../escaped", "/tmp/escaped-absolute", "a/../../escaped"] {
            let (keep, destination) = destination();
            let bytes = archive(&[
                ("./fine", tar::EntryType::Regular, 0o644, "fine"),
                (path, tar::EntryType::Regular, 0o644, "out"),
            ]);
            let unpacking = Unpacking::begin(&destination).expect("begin");
            let error = unpacking.unpack(bytes.as_slice()).expect_err(path);
            assert!(matches!(error, UnpackError::Escapes(_)), "{path}: {error}");
            assert!(error.to_string().contains(path), "{error}");
            assert!(!keep.path().join("escaped").exists());
            assert_eq!(unpacking.discard(), "");
            assert!(!destination.exists());
        }
    }

    #[test]
    fn writing_through_a_link_that_points_outside_is_refused() {
        let (keep, destination) = destination();
        let outside = keep.path().join("outside");
        std::fs::create_dir(&outside).expect("a directory outside");
        let target = outside.display().to_string();
        let bytes = archive(&[
            ("./link", tar::EntryType::Symlink, 0o777, &target),
            ("./link/planted", tar::EntryType::Regular, 0o644, "planted"),
        ]);
        let unpacking = Unpacking::begin(&destination).expect("begin");
        let error = unpacking.unpack(bytes.as_slice()).expect_err("refused");
        assert!(matches!(error, UnpackError::Escapes(_)), "{error}");
        assert!(!outside.join("planted").exists());
    }

    #[test]
    fn a_hard_link_to_a_file_outside_is_refused() {
        let (_keep, destination) = destination();
        let bytes = archive(&[("./stolen", tar::EntryType::Link, 0o644, "../../etc/passwd")]);
        let unpacking = Unpacking::begin(&destination).expect("begin");
        let error = unpacking.unpack(bytes.as_slice()).expect_err("refused");
        assert!(matches!(error, UnpackError::Escapes(_)), "{error}");
        assert!(!destination.join("stolen").exists());
    }

    #[test]
    fn a_directory_that_was_there_keeps_what_was_copied() {
        let (_keep, destination) = destination();
        std::fs::create_dir(&destination).expect("an existing directory");
        std::fs::write(destination.join("mine"), "mine").expect("the user's file");
        let bytes = archive(&[("../x", tar::EntryType::Regular, 0o644, "x")]);
        let unpacking = Unpacking::begin(&destination).expect("begin");
        assert!(unpacking.unpack(bytes.as_slice()).is_err());
        assert_eq!(
            unpacking.discard(),
            "; what was copied before the failure is in it"
        );
        assert!(destination.join("mine").exists());
    }
}
