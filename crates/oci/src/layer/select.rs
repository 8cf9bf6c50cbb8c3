//! Which entries of the tree go into a layer, in which order, and what the file system says
//! about each (the fingerprint is made of that). Ignore files are read the way git reads
//! `.gitignore` (also outside a git repository); `.dockerignore` and `.drakeignore` follow the
//! same syntax and apply to the directory they are in. Symbolic links are never followed.

use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use camino::{Utf8Component, Utf8Path, Utf8PathBuf};
use ignore::WalkBuilder;

use super::error::LayerError;
use super::spec::{LayerSpec, Selection};

/// Names never packaged, at any depth.
const ALWAYS_EXCLUDED: [&str; 2] = [".git", "Drakesecrets.yaml"];

/// Ignore files read besides `.gitignore`.
const CUSTOM_IGNORE_FILES: [&str; 2] = [".dockerignore", ".drakeignore"];

/// One entry of the layer, in tar order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The name in the tar stream: the path in the image without a leading slash; directories
    /// end with `/`.
    pub(crate) name: String,
    /// What the entry is.
    pub(crate) kind: EntryKind,
    /// What the file system said (`None` for the destination's parents).
    pub(crate) status: Option<Status>,
}

/// The kind of an entry, with what its header needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// A directory.
    Directory,
    /// A regular file of this many bytes, read from this path.
    File {
        /// Its size when listed.
        size: u64,
        /// Normalized mode: 0755 when any execute bit is set, else 0644.
        mode: u32,
        /// Where to read it.
        path: Utf8PathBuf,
    },
    /// A symbolic link, its target verbatim.
    Symlink {
        /// The target.
        target: String,
    },
    /// A second name of a file listed before: a hard link to that entry's name.
    HardLink {
        /// The earlier entry's name.
        target: String,
        /// The file's normalized mode.
        mode: u32,
    },
}

/// What `lstat` said about an entry: everything that changes when its content may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) device: u64,
    pub(crate) inode: u64,
    pub(crate) mode: u32,
    pub(crate) size: u64,
    /// Number of hard links.
    pub(crate) links: u64,
    /// Modification time in nanoseconds since 1970.
    pub(crate) modified: i128,
    /// Status change time in nanoseconds since 1970.
    pub(crate) changed: i128,
}

impl Status {
    fn of(metadata: &Metadata) -> Self {
        Self {
            device: metadata.dev(),
            inode: metadata.ino(),
            mode: metadata.mode(),
            size: metadata.size(),
            links: metadata.nlink(),
            modified: nanoseconds(metadata.mtime(), metadata.mtime_nsec()),
            changed: nanoseconds(metadata.ctime(), metadata.ctime_nsec()),
        }
    }
}

fn nanoseconds(seconds: i64, nanoseconds: i64) -> i128 {
    i128::from(seconds) * 1_000_000_000 + i128::from(nanoseconds)
}

/// Lists the entries of the layer `spec` describes, sorted by name, the destination's parents
/// first, hard links resolved to the first name in that order.
pub(crate) fn select(spec: &LayerSpec) -> Result<Vec<Entry>, LayerError> {
    let prefix = destination_prefix(spec)?;
    let root = &source_root(spec)?;
    let selected = match &spec.selection {
        Selection::WholeTree => None,
        Selection::Paths(paths) => Some(checked_paths(root, paths)?),
    };
    let secrets_identities = secrets_identities(spec);

    let mut builder = WalkBuilder::new(root);
    builder
        .follow_links(false)
        .hidden(false)
        .parents(false)
        .ignore(false)
        .git_global(false)
        .git_exclude(false)
        .git_ignore(spec.honor_ignore_files)
        .require_git(false);
    if spec.honor_ignore_files {
        for name in CUSTOM_IGNORE_FILES {
            builder.add_custom_ignore_filename(name);
        }
    }
    let filter_root = root.clone();
    let excluded_paths: Vec<Utf8PathBuf> = spec
        .excluded_paths
        .iter()
        .map(|path| root.join(path))
        .collect();
    builder.filter_entry(move |entry| {
        if entry.depth() == 0 {
            return true;
        }
        let excluded_name = entry
            .file_name()
            .to_str()
            .is_some_and(|name| ALWAYS_EXCLUDED.contains(&name));
        if excluded_name || excluded_paths.iter().any(|path| entry.path() == path) {
            return false;
        }
        match (&selected, entry.path().strip_prefix(&filter_root)) {
            (Some(selected), Ok(relative)) => is_selected(relative, selected),
            _ => true,
        }
    });

    let mut entries = Vec::new();
    for result in builder.build() {
        let entry = result.map_err(|source| LayerError::Walk {
            root: root.clone(),
            source,
        })?;
        if let Some(source) = entry.error() {
            // A malformed ignore file: packaging on would risk including what it meant to hide.
            return Err(LayerError::Walk {
                root: root.clone(),
                source: source.clone(),
            });
        }
        let path = utf8(entry.path())?;
        let metadata = std::fs::symlink_metadata(path).map_err(|source| LayerError::Read {
            path: path.to_owned(),
            source,
        })?;
        let relative = path
            .strip_prefix(root)
            .map_or_else(|_| Utf8PathBuf::new(), Utf8Path::to_path_buf);
        let status = Status::of(&metadata);
        if metadata.is_file() && secrets_identities.contains(&(status.device, status.inode)) {
            continue;
        }
        let Some(kind) = entry_kind(path, &metadata)? else {
            continue;
        };
        let name = join_name(
            &prefix,
            relative.as_str(),
            matches!(kind, EntryKind::Directory),
        );
        if name.is_empty() {
            // The source root placed at `/`: the image's root is not an entry.
            continue;
        }
        entries.push(Entry {
            name,
            kind,
            status: Some(status),
        });
    }
    entries.extend(destination_parents(&prefix));
    entries.sort_by(|left, right| sort_key(&left.name).cmp(sort_key(&right.name)));
    resolve_hard_links(&mut entries);
    Ok(entries)
}

/// The source root, checked to be a directory. A root given as a symbolic link is resolved
/// (links inside the tree never are).
fn source_root(spec: &LayerSpec) -> Result<Utf8PathBuf, LayerError> {
    let root = &spec.source_root;
    let not_a_directory = || LayerError::SourceRoot { root: root.clone() };
    let metadata = std::fs::symlink_metadata(root).map_err(|source| LayerError::Read {
        path: root.clone(),
        source,
    })?;
    if metadata.is_dir() {
        return Ok(root.clone());
    }
    if !metadata.file_type().is_symlink() {
        return Err(not_a_directory());
    }
    let resolved = root
        .canonicalize_utf8()
        .map_err(|source| LayerError::Read {
            path: root.clone(),
            source,
        })?;
    if resolved.is_dir() {
        Ok(resolved)
    } else {
        Err(not_a_directory())
    }
}

/// Byte-wise order of names without the directories' trailing slash: a parent is a prefix of
/// its content, so it always comes first.
fn sort_key(name: &str) -> &[u8] {
    name.strip_suffix('/').unwrap_or(name).as_bytes()
}

fn utf8(path: &Path) -> Result<&Utf8Path, LayerError> {
    Utf8Path::from_path(path).ok_or_else(|| LayerError::NotUtf8 {
        path: path.to_path_buf(),
    })
}

fn entry_kind(path: &Utf8Path, metadata: &Metadata) -> Result<Option<EntryKind>, LayerError> {
    let file_type = metadata.file_type();
    if file_type.is_dir() {
        return Ok(Some(EntryKind::Directory));
    }
    if file_type.is_file() {
        return Ok(Some(EntryKind::File {
            size: metadata.len(),
            mode: normalized_mode(metadata.mode()),
            path: path.to_owned(),
        }));
    }
    if file_type.is_symlink() {
        let target = std::fs::read_link(path).map_err(|source| LayerError::Read {
            path: path.to_owned(),
            source,
        })?;
        let target =
            target
                .into_os_string()
                .into_string()
                .map_err(|_| LayerError::LinkTargetNotUtf8 {
                    path: path.to_owned(),
                })?;
        return Ok(Some(EntryKind::Symlink { target }));
    }
    let kind = eider_regular_file::file_type_name(file_type);
    Err(LayerError::SpecialFile {
        path: path.to_owned(),
        kind,
    })
}

/// 0755 when any execute bit is set, else 0644.
pub(crate) fn normalized_mode(mode: u32) -> u32 {
    if mode & 0o111 == 0 { 0o644 } else { 0o755 }
}

/// The destination as a tar name prefix (no leading or trailing slash, empty for `/`), checked.
fn destination_prefix(spec: &LayerSpec) -> Result<String, LayerError> {
    let destination = &spec.destination;
    let invalid = || LayerError::Destination {
        destination: destination.clone(),
    };
    let text = destination.as_str();
    if !text.starts_with('/') || text.contains("//") || (text.len() > 1 && text.ends_with('/')) {
        return Err(invalid());
    }
    let mut parts = Vec::new();
    for component in destination.components() {
        match component {
            Utf8Component::RootDir => {}
            Utf8Component::Normal(part) if part != "." && part != ".." => parts.push(part),
            _ => return Err(invalid()),
        }
    }
    if parts.len() != text.split('/').filter(|part| !part.is_empty()).count() {
        // `components` drops `.` silently; a destination with one is refused, not rewritten.
        return Err(invalid());
    }
    Ok(parts.join("/"))
}

/// The directories that lead to the destination, not counting the destination itself (the
/// source root's own entry).
fn destination_parents(prefix: &str) -> Vec<Entry> {
    let mut parents = Vec::new();
    let mut end = 0;
    while let Some(slash) = prefix[end..].find('/') {
        end += slash;
        parents.push(Entry {
            name: format!("{}/", &prefix[..end]),
            kind: EntryKind::Directory,
            status: None,
        });
        end += 1;
    }
    parents
}

fn join_name(prefix: &str, relative: &str, directory: bool) -> String {
    let mut name = String::with_capacity(prefix.len() + relative.len() + 2);
    name.push_str(prefix);
    if !prefix.is_empty() && !relative.is_empty() {
        name.push('/');
    }
    name.push_str(relative);
    if directory && !name.is_empty() {
        name.push('/');
    }
    name
}

/// The selected paths, checked: relative, inside the root, existing.
fn checked_paths(root: &Utf8Path, paths: &[Utf8PathBuf]) -> Result<Vec<Utf8PathBuf>, LayerError> {
    let mut checked = Vec::with_capacity(paths.len());
    for path in paths {
        let normal = path
            .components()
            .all(|component| matches!(component, Utf8Component::Normal(_)));
        if !normal || path.as_str().is_empty() || path.as_str().split('/').any(|part| part == ".") {
            return Err(LayerError::SelectedPath { path: path.clone() });
        }
        if fs_err::symlink_metadata(root.join(path)).is_err() {
            return Err(LayerError::MissingPath {
                path: path.clone(),
                root: root.to_owned(),
            });
        }
        checked.push(path.components().collect());
    }
    Ok(checked)
}

/// Whether `relative` is one of the selected paths, inside one, or leads to one.
fn is_selected(relative: &Path, selected: &[Utf8PathBuf]) -> bool {
    selected.iter().any(|path| {
        let path = path.as_std_path();
        relative.starts_with(path) || path.starts_with(relative)
    })
}

/// The device and inode of each secrets file that exists.
fn secrets_identities(spec: &LayerSpec) -> Vec<(u64, u64)> {
    spec.secrets_files
        .iter()
        .filter_map(|secrets| {
            let path = if secrets.is_absolute() {
                secrets.clone()
            } else {
                spec.source_root.join(secrets)
            };
            // Followed if it is a link: what must stay out is the content.
            let metadata = std::fs::metadata(path).ok()?;
            Some((metadata.dev(), metadata.ino()))
        })
        .collect()
}

/// Turns second and later names of a file with several links into hard-link entries pointing at
/// the first name in tar order.
fn resolve_hard_links(entries: &mut [Entry]) {
    let mut first_names: HashMap<(u64, u64), String> = HashMap::new();
    for entry in entries.iter_mut() {
        let (EntryKind::File { mode, .. }, Some(status)) = (&entry.kind, &entry.status) else {
            continue;
        };
        // A file with one link cannot have another name in the tree.
        if status.links < 2 {
            continue;
        }
        let identity = (status.device, status.inode);
        if let Some(first) = first_names.get(&identity) {
            entry.kind = EntryKind::HardLink {
                target: first.clone(),
                mode: *mode,
            };
        } else {
            first_names.insert(identity, entry.name.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix_of(destination: &str) -> Result<String, LayerError> {
        destination_prefix(&LayerSpec::whole_tree("/nowhere", destination))
    }

    #[test]
    fn destinations_become_prefixes() {
        assert_eq!(prefix_of("/src").expect("valid"), "src");
        assert_eq!(prefix_of("/opt/app").expect("valid"), "opt/app");
        assert_eq!(prefix_of("/").expect("valid"), "");
    }

    #[test]
    fn odd_destinations_are_refused() {
        for destination in ["src", "/src/", "/a//b", "/a/./b", "/a/../b", "", "/."] {
            assert!(
                matches!(prefix_of(destination), Err(LayerError::Destination { .. })),
                "{destination}"
            );
        }
    }

    #[test]
    fn the_destination_parents_come_without_the_destination() {
        let names: Vec<String> = destination_parents("opt/app/src")
            .into_iter()
            .map(|entry| entry.name)
            .collect();
        assert_eq!(names, ["opt/", "opt/app/"]);
        assert!(destination_parents("src").is_empty());
        assert!(destination_parents("").is_empty());
    }

    #[test]
    fn names_join_prefix_and_path() {
        assert_eq!(join_name("src", "", true), "src/");
        assert_eq!(join_name("src", "a/b", false), "src/a/b");
        assert_eq!(join_name("", "a", true), "a/");
        assert_eq!(join_name("", "", true), "");
    }

    #[test]
    fn parents_sort_before_their_content() {
        let mut names = vec!["src/a/b", "src/a.txt", "src/a/", "src/", "src/a-b"];
        names.sort_by(|left, right| sort_key(left).cmp(sort_key(right)));
        assert_eq!(names, ["src/", "src/a/", "src/a-b", "src/a.txt", "src/a/b"]);
    }

    #[test]
    fn selection_keeps_paths_their_content_and_their_parents() {
        let selected = vec![
            Utf8PathBuf::from("vendor/lib"),
            Utf8PathBuf::from("Cargo.lock"),
        ];
        for kept in ["", "vendor", "vendor/lib", "vendor/lib/x/y", "Cargo.lock"] {
            assert!(is_selected(Path::new(kept), &selected), "{kept}");
        }
        for left_out in ["src", "vendor/other", "vendor/library", "Cargo.toml"] {
            assert!(!is_selected(Path::new(left_out), &selected), "{left_out}");
        }
    }

    #[test]
    fn modes_are_normalized() {
        assert_eq!(normalized_mode(0o100_600), 0o644);
        assert_eq!(normalized_mode(0o100_700), 0o755);
        assert_eq!(normalized_mode(0o100_641), 0o755);
    }
}
