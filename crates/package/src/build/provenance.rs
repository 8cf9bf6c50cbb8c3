//! What a package says about the source it was made from: its version, the commit, whether the
//! tree had uncommitted changes, where it came from, and the moment every timestamp of the image
//! is set to. Asks the `git` program; a tree outside git still packages, with that stated.

use camino::Utf8Path;

/// The version and provenance of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// `--tag`, else `git describe --tags --always` (with `-dirty` when the tree has changes),
    /// else `0.0.0-unversioned`.
    pub version: String,
    /// The commit (`git rev-parse HEAD`), when the source is in a repository.
    pub revision: Option<String>,
    /// Whether tracked or untracked files differ from the commit: stated in the image, never
    /// hidden.
    pub dirty: bool,
    /// The repository's `origin` URL, when it has one (credentials in it are removed).
    pub source: Option<String>,
    /// Seconds since the epoch for every timestamp in the image: `SOURCE_DATE_EPOCH`, else the
    /// commit's time, else 0.
    pub epoch: u64,
    /// Where the epoch came from, for the description.
    pub epoch_from: EpochSource,
}

/// Where the package's timestamp comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochSource {
    /// The `SOURCE_DATE_EPOCH` environment variable.
    Environment,
    /// The time of the commit.
    Commit,
    /// Neither: 1970-01-01.
    Zero,
}

/// Why the provenance could not be determined.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    /// `SOURCE_DATE_EPOCH` is set to something that is not a number of seconds.
    #[error("SOURCE_DATE_EPOCH is `{0}`, not a whole number of seconds since 1970")]
    InvalidEpoch(String),
}

/// The provenance of the source at `root`. `tag` is `--tag`; `source_date_epoch` is the value of
/// `SOURCE_DATE_EPOCH`, if set; `excluded` are paths under `root` that packaging writes (an OCI
/// layout in the tree): they never make the tree dirty.
pub fn provenance(
    root: &Utf8Path,
    tag: Option<&str>,
    source_date_epoch: Option<&str>,
    excluded: &[&Utf8Path],
) -> Result<Provenance, ProvenanceError> {
    let git = |arguments: &[&str]| git_line(root, arguments);
    let revision = git(&["rev-parse", "--verify", "-q", "HEAD"]);
    let exclusions: Vec<String> = excluded
        .iter()
        .filter_map(|path| path.strip_prefix(root).ok())
        .filter(|relative| !relative.as_str().is_empty())
        .map(|relative| format!(":(exclude){relative}"))
        .collect();
    let mut status = vec![
        "status",
        "--porcelain",
        "--untracked-files=normal",
        "--",
        ".",
    ];
    status.extend(exclusions.iter().map(String::as_str));
    let dirty = revision.is_some() && git(&status).is_some();
    let described = revision
        .as_ref()
        .and_then(|_| git(&["describe", "--tags", "--always", "--abbrev=12"]));
    let version = match (tag, described) {
        (Some(tag), _) => tag.to_owned(),
        (None, Some(described)) if dirty => format!("{described}-dirty"),
        (None, Some(described)) => described,
        (None, None) => "0.0.0-unversioned".to_owned(),
    };
    let (epoch, epoch_from) = match source_date_epoch.map(str::trim) {
        Some(value) if !value.is_empty() => (
            value
                .parse::<u64>()
                .map_err(|_| ProvenanceError::InvalidEpoch(value.to_owned()))?,
            EpochSource::Environment,
        ),
        _ => match revision
            .as_ref()
            .and_then(|_| git(&["log", "-1", "--format=%ct"]))
            .and_then(|seconds| seconds.parse::<u64>().ok())
        {
            Some(seconds) => (seconds, EpochSource::Commit),
            None => (0, EpochSource::Zero),
        },
    };
    let source =
        git(&["config", "--get", "remote.origin.url"]).map(|url| without_credentials(&url));
    Ok(Provenance {
        version,
        revision,
        dirty,
        source,
        epoch,
        epoch_from,
    })
}

/// The first line git printed, when it succeeded and printed something.
fn git_line(root: &Utf8Path, arguments: &[&str]) -> Option<String> {
    let output = eider_git::run("git", root, arguments).ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_owned())
}

/// `https://user:token@host/repo` → `https://host/repo`: a URL may carry credentials, and an
/// image must not.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if path.is_empty() {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}/{path}")
    }
}

#[cfg(test)]
mod tests {
    use camino::Utf8PathBuf;

    use super::*;

    use eider_git::run_for_test as git;

    fn repository() -> (tempfile::TempDir, Utf8PathBuf) {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = Utf8PathBuf::from_path_buf(directory.path().to_owned()).expect("UTF-8");
        git(&path, &["init", "-q"]);
        git(&path, &["config", "user.email", "tests@example.invalid"]);
        git(&path, &["config", "user.name", "Tests"]);
        git(&path, &["config", "commit.gpgsign", "false"]);
        git(&path, &["config", "tag.gpgsign", "false"]);
        fs_err::write(path.join("file.txt"), "content\n").expect("write");
        git(&path, &["add", "file.txt"]);
        git(&path, &["commit", "-q", "-m", "first"]);
        (directory, path)
    }

    #[test]
    fn a_tagged_clean_tree_is_its_tag_at_the_commit_time() {
        let (_directory, path) = repository();
        git(&path, &["tag", "v1.2.3"]);
        git(
            &path,
            &[
                "remote",
                "add",
                "origin",
                "https://someone:hunter2@example.invalid/team/app.git",
            ],
        );
        let provenance = provenance(&path, None, None, &[]).expect("provenance");
        assert_eq!(provenance.version, "v1.2.3");
        assert!(!provenance.dirty);
        assert_eq!(provenance.epoch, 1_700_000_000);
        assert_eq!(provenance.epoch_from, EpochSource::Commit);
        assert_eq!(provenance.revision.as_deref().map(str::len), Some(40));
        assert_eq!(
            provenance.source.as_deref(),
            Some("https://example.invalid/team/app.git")
        );
    }

    #[test]
    fn a_dirty_tree_says_so_in_its_version() {
        let (_directory, path) = repository();
        git(&path, &["tag", "v1.2.3"]);
        // What packaging writes into the tree does not count.
        fs_err::create_dir_all(path.join(".eider/packages")).expect("mkdir");
        fs_err::write(path.join(".eider/packages/index.json"), "{}").expect("write");
        let output = path.join(".eider");
        let clean = provenance(&path, None, None, &[&output]).expect("provenance");
        assert!(!clean.dirty);
        assert!(
            provenance(&path, None, None, &[])
                .expect("provenance")
                .dirty
        );
        fs_err::write(path.join("file.txt"), "changed\n").expect("write");
        let provenance = provenance(&path, None, None, &[&output]).expect("provenance");
        assert!(provenance.dirty);
        assert_eq!(provenance.version, "v1.2.3-dirty");
        // --tag names the version, but the tree is still stated dirty.
        let tagged = super::provenance(&path, Some("2.0.0"), None, &[]).expect("provenance");
        assert_eq!(tagged.version, "2.0.0");
        assert!(tagged.dirty);
    }

    #[test]
    fn source_date_epoch_wins_and_must_be_a_number() {
        let (_directory, path) = repository();
        let provenance = provenance(&path, None, Some("42"), &[]).expect("provenance");
        assert_eq!(
            (provenance.epoch, provenance.epoch_from),
            (42, EpochSource::Environment)
        );
        assert!(matches!(
            super::provenance(&path, None, Some("yesterday"), &[]),
            Err(ProvenanceError::InvalidEpoch(_))
        ));
    }

    #[test]
    fn a_tree_outside_git_is_unversioned_at_zero() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = Utf8PathBuf::from_path_buf(directory.path().to_owned()).expect("UTF-8");
        let provenance = provenance(&path, None, None, &[]).expect("provenance");
        assert_eq!(provenance.version, "0.0.0-unversioned");
        assert_eq!(provenance.revision, None);
        assert!(!provenance.dirty);
        assert_eq!(
            (provenance.epoch, provenance.epoch_from),
            (0, EpochSource::Zero)
        );
    }
}
