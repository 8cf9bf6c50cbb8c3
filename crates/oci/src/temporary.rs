//! Temporary files and directories of packaging (blobs being written, base images being
//! exported), which can be hundreds of megabytes. Their names start with
//! `.eider-tmp-<pid>.<namespace>-` (the namespace a short hash of the process's pid namespace),
//! so that they are never taken for blobs and the process that made them is known: a cache
//! shared with another machine or container holds pids of another namespace, never taken for
//! this one's. Three ways they go away:
//! - dropped (an error, a panic unwinding): each removes itself;
//! - on an interrupt: [`remove_all`] removes every one this process still has, and makes sure
//!   no new one appears before the process exits;
//! - after `kill -9`: [`sweep_abandoned`] removes those whose process is gone.

use std::collections::BTreeSet;
use std::io;
use std::process;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use camino::{Utf8Path, Utf8PathBuf};

use eider_oci_types::Digest;

/// Temporary names start with this, so that they are never taken for blobs.
const PREFIX: &str = ".eider-tmp-";

/// What this process has made and not yet removed or renamed into place.
struct Registry {
    paths: BTreeSet<Utf8PathBuf>,
    /// Set by [`remove_all`]: the process is about to exit, so nothing new may be made.
    closed: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    paths: BTreeSet::new(),
    closed: false,
});

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock leaves the set as valid as before it.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Creates a new name in `directory` with `create` (which fails with `AlreadyExists` when the
/// name is taken), recording it before it exists so that an interrupt never misses it.
fn create_registered<T>(
    directory: &Utf8Path,
    kind: &str,
    create: impl Fn(&Utf8Path) -> io::Result<T>,
) -> io::Result<(Utf8PathBuf, T)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    loop {
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = directory.join(format!(
            "{PREFIX}{}.{}-{kind}{count}-{nanos}",
            process::id(),
            namespace_token()
        ));
        let mut registry = registry();
        if registry.closed {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "interrupted: no new temporary file is made",
            ));
        }
        match create(&path) {
            Ok(made) => {
                registry.paths.insert(path.clone());
                return Ok((path, made));
            }
            // Left over by a process with the same id that died: take the next name.
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(error),
        }
    }
}

fn forget(path: &Utf8Path) {
    registry().paths.remove(path);
}

/// Removes every temporary file and directory this process still has, and refuses to make new
/// ones from now on: for a process about to exit on a signal, whose other threads may still be
/// writing. Returns what could not be removed.
#[must_use]
pub fn remove_all() -> Vec<Utf8PathBuf> {
    let mut registry = registry();
    registry.closed = true;
    let mut left = Vec::new();
    for path in std::mem::take(&mut registry.paths) {
        if remove_path(&path).is_err() {
            left.push(path);
        }
    }
    left
}

fn remove_path(path: &Utf8Path) -> io::Result<()> {
    let removed = match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(error) => Err(error),
    };
    match removed {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// This process's pid namespace, shortened for a file name; `unknown` where `/proc` does not
/// tell (such names are never swept).
fn namespace_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        eider_process::pid_namespace().map_or_else(
            || "unknown".to_owned(),
            |namespace| Digest::of(namespace.as_bytes()).hex()[..12].to_owned(),
        )
    })
}

/// Removes the temporary files and directories in `directory` whose process no longer runs
/// (left by an eider killed with `kill -9`, or by a crash). Those of running processes, this one
/// included, and those of other pid namespaces are left alone. Returns what was removed; a
/// missing `directory` has nothing.
pub fn sweep_abandoned(directory: &Utf8Path) -> io::Result<Vec<Utf8PathBuf>> {
    if eider_process::pid_namespace().is_none() {
        return Ok(Vec::new());
    }
    let entries = match fs_err::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Some((pid, namespace)) = owner(&name) else {
            continue;
        };
        // Names without a namespace were made before names had one, on this machine.
        if namespace.is_some_and(|namespace| namespace != namespace_token())
            || eider_process::runs(pid)
        {
            continue;
        }
        let path = directory.join(&name);
        remove_path(&path)
            .map_err(|error| io::Error::new(error.kind(), format!("{error}: {path}")))?;
        removed.push(path);
    }
    Ok(removed)
}

/// The process id and the namespace token of a temporary name (no token in the names of
/// earlier versions), `None` for any other name.
fn owner(name: &str) -> Option<(u32, Option<&str>)> {
    let (process, _) = name.strip_prefix(PREFIX)?.split_once('-')?;
    let (pid, namespace) = match process.split_once('.') {
        Some((pid, namespace)) => (pid, Some(namespace)),
        None => (process, None),
    };
    Some((pid.parse().ok()?, namespace))
}

/// A file with a unique temporary name, removed when dropped unless persisted: a failure or a
/// panic halfway leaves no partial file under a final name.
pub(crate) struct TemporaryFile {
    path: Utf8PathBuf,
    pub(crate) file: fs_err::File,
    persisted: bool,
}

impl TemporaryFile {
    /// Creates a new temporary file in `directory`.
    pub(crate) fn create(directory: &Utf8Path) -> io::Result<Self> {
        let (path, file) = create_registered(directory, "", |path| {
            fs_err::OpenOptions::new()
                .write(true)
                .read(true)
                .create_new(true)
                .open(path)
        })?;
        Ok(Self {
            path,
            file,
            persisted: false,
        })
    }

    /// The temporary path.
    pub(crate) fn path(&self) -> &Utf8Path {
        &self.path
    }

    /// Renames the file to `destination`, replacing what was there atomically.
    pub(crate) fn persist(&mut self, destination: &Utf8Path) -> io::Result<()> {
        fs_err::rename(&self.path, destination)?;
        self.persisted = true;
        forget(&self.path);
        Ok(())
    }
}

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        if !self.persisted {
            // Best effort: a leftover temporary file is never mistaken for a blob, and the next
            // sweep removes it.
            let _ignored = std::fs::remove_file(&self.path);
            forget(&self.path);
        }
    }
}

/// A directory with a unique temporary name, removed with its content when dropped.
#[derive(Debug)]
pub struct TemporaryDirectory {
    path: Utf8PathBuf,
}

impl TemporaryDirectory {
    /// Creates a new temporary directory in `directory`; `kind` (e.g. `export-`) says in its
    /// name what it is for.
    pub fn create(directory: &Utf8Path, kind: &str) -> io::Result<Self> {
        let (path, ()) = create_registered(directory, kind, |path| fs_err::create_dir(path))?;
        Ok(Self { path })
    }

    /// Its path.
    #[must_use]
    pub fn path(&self) -> &Utf8Path {
        &self.path
    }
}

impl Drop for TemporaryDirectory {
    fn drop(&mut self) {
        let _ignored = remove_path(&self.path);
        forget(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary_directory() -> (tempfile::TempDir, Utf8PathBuf) {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = Utf8PathBuf::try_from(directory.path().to_path_buf()).expect("UTF-8");
        (directory, path)
    }

    #[test]
    fn names_carry_the_process_id() {
        let (_directory, root) = temporary_directory();
        let file = TemporaryFile::create(&root).expect("file");
        let name = file.path().file_name().expect("name");
        assert_eq!(owner(name), Some((process::id(), Some(namespace_token()))));
        assert_eq!(owner(".eider-tmp-42-0-0"), Some((42, None)));
        assert_eq!(owner("layers.json"), None);
        assert_eq!(owner(".eider-tmp-x-1"), None);
    }

    #[test]
    fn the_sweep_removes_what_dead_processes_left_and_nothing_else() {
        let (_directory, root) = temporary_directory();
        // A process that has certainly ended: a child waited for.
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let dead = child.id();
        child.wait().expect("wait");
        let namespace = namespace_token();
        let abandoned_file = root.join(format!("{PREFIX}{dead}.{namespace}-0-0"));
        let abandoned_directory = root.join(format!("{PREFIX}{dead}.{namespace}-export-1-0"));
        // Made before names had a namespace.
        let abandoned_earlier = root.join(format!("{PREFIX}{dead}-2-0"));
        // A process of another namespace (a container sharing the directory), whose pid means
        // nothing here.
        let elsewhere = root.join(format!("{PREFIX}{dead}.0123456789ab-3-0"));
        fs_err::write(&abandoned_earlier, b"partial").expect("write");
        fs_err::write(&elsewhere, b"partial").expect("write");
        fs_err::write(&abandoned_file, b"partial").expect("write");
        fs_err::create_dir(&abandoned_directory).expect("directory");
        fs_err::write(abandoned_directory.join("image.tar"), b"partial").expect("write");
        let ours = TemporaryFile::create(&root).expect("ours");
        let living = root.join(format!("{PREFIX}1.{namespace}-0-0"));
        fs_err::write(&living, b"init's").expect("write");
        fs_err::write(root.join("layers.json"), b"{}").expect("write");

        let mut removed = sweep_abandoned(&root).expect("sweep");
        removed.sort();
        let mut expected = vec![abandoned_file, abandoned_directory, abandoned_earlier];
        expected.sort();
        assert_eq!(removed, expected);
        assert!(elsewhere.exists());
        assert!(ours.path().exists());
        assert!(living.exists());
        assert!(root.join("layers.json").exists());
    }

    #[test]
    fn dropped_temporaries_remove_themselves() {
        let (_directory, root) = temporary_directory();
        let file = TemporaryFile::create(&root).expect("file");
        let directory = TemporaryDirectory::create(&root, "export-").expect("directory");
        fs_err::write(directory.path().join("content"), b"x").expect("write");
        let (file_path, directory_path) = (file.path().to_owned(), directory.path().to_owned());
        drop(file);
        drop(directory);
        assert!(!file_path.exists());
        assert!(!directory_path.exists());
        assert!(!registry().paths.contains(&file_path));
    }
}
