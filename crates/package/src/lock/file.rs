//! `Drakefile.lock`: every image of a Drakefile resolved to a digest, written by `eider lock` and
//! read by `eider run --locked` and `eider package --locked`, so that a tag that moves changes
//! nothing until the lock is written again.
//!
//! The file is JSON meant to be committed and reviewed: pretty-printed, keys sorted, a trailing
//! newline, and nothing in it but what the images are (no time, no host), so the same images give
//! the same bytes and a diff shows exactly which image moved.
//!
//! ```json
//! {
//!   "drakefile": "sha256:...",
//!   "images": {
//!     "alpine:3.20": {
//!       "digest": "sha256:...",
//!       "pinned": "docker.io/library/alpine@sha256:...",
//!       "source": "registry"
//!     }
//!   },
//!   "lockVersion": 1
//! }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use camino::{Utf8Path, Utf8PathBuf};
use drakefile::{Drakefile, PullPolicy};
use eider_oci::{Digest, DigestError};
use eider_registry::{Reference, ReferenceError};
use serde::{Deserialize, Serialize};

use crate::resolve::{ImageSource, Resolved, pinned_reference};

/// The format version this eider writes and reads; a change to the meaning of a field bumps it.
pub const LOCK_VERSION: u32 = 1;

/// The extension of a lock file, which takes the Drakefile's name otherwise.
const LOCK_EXTENSION: &str = "lock";

/// A lock file. Fields are declared in the order their keys sort, which is the order they are
/// written in (serde keeps declaration order; maps are `BTreeMap`s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LockFile {
    /// The digest of the Drakefile's bytes when the lock was written, `sha256:...`.
    pub drakefile: String,
    /// Every image of the Drakefile, keyed by the reference as the Drakefile writes it.
    pub images: BTreeMap<String, LockedImage>,
    /// The format version, [`LOCK_VERSION`].
    pub lock_version: u32,
}

/// One image of a lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedImage {
    /// The image id (from the local engine) or the manifest digest (from a registry).
    pub digest: String,
    /// What the engine runs: the image id, or `REGISTRY/REPOSITORY@DIGEST`.
    pub pinned: String,
    /// Where the digest came from.
    pub source: ImageSource,
}

impl LockedImage {
    /// The lock entry of a resolved image.
    #[must_use]
    pub fn from_resolved(resolved: &Resolved) -> Self {
        Self {
            digest: resolved.digest().to_string(),
            pinned: resolved.pinned(),
            source: resolved.source(),
        }
    }

    /// The entry as a resolution of `image` (the reference as the Drakefile writes it), with no
    /// engine or registry asked: for a locked package, where the lock is the only answer.
    pub fn to_resolved(&self, image: &str) -> Result<Resolved, LockFileError> {
        let invalid = |source| LockFileError::InvalidEntry {
            image: image.to_owned(),
            source,
        };
        let digest =
            Digest::parse(&self.digest).map_err(|error| invalid(EntryError::Digest(error)))?;
        match self.source {
            ImageSource::Daemon => Ok(Resolved::Daemon {
                image: image.to_owned(),
                id: digest,
            }),
            ImageSource::Registry => {
                let pinned = Reference::parse(&self.pinned)
                    .map_err(|error| invalid(EntryError::Reference(error)))?;
                // The reference as written keeps its tag for display, when it is the same
                // repository (it always is for a lock eider wrote).
                let reference = Reference::parse(image)
                    .ok()
                    .filter(|written| written.repository() == pinned.repository())
                    .unwrap_or(pinned);
                Ok(Resolved::Registry { reference, digest })
            }
        }
    }
}

/// Where an image is used first: the job and container to name in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUse {
    /// The job.
    pub job: String,
    /// The container of the job.
    pub container: String,
}

/// A lock file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LockFileError {
    /// There is no lock file.
    #[error("no lock file: {shown} does not exist")]
    Missing {
        /// The file, as messages show it.
        shown: String,
    },
    /// The lock file cannot be read.
    #[error("cannot read {shown}")]
    Read {
        /// The file, as messages show it.
        shown: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a lock file of this version.
    #[error("{shown} is not a valid lock file: {problem}")]
    Invalid {
        /// The file, as messages show it.
        shown: String,
        /// What is wrong with it.
        problem: LockProblem,
    },
    /// The lock cannot be encoded.
    #[error("cannot encode JSON")]
    Encode(#[source] serde_json::Error),
    /// The lock file cannot be written.
    #[error("cannot write {shown}")]
    Write {
        /// The file, as messages show it.
        shown: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The lock does not cover images of the Drakefile.
    #[error("{}", uncovered(name, missing))]
    Uncovered {
        /// The lock file's name.
        name: String,
        /// Every image it does not cover, with where it is used.
        missing: Vec<(String, ImageUse)>,
    },
    /// An entry's digest or pinned reference does not parse.
    #[error("the lock entry of image `{image}` is not valid")]
    InvalidEntry {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: EntryError,
    },
}

/// What makes a lock entry unusable.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// The digest.
    #[error(transparent)]
    Digest(DigestError),
    /// The pinned reference.
    #[error(transparent)]
    Reference(ReferenceError),
}

/// What makes a file no lock file of this version.
#[derive(Debug, thiserror::Error)]
pub enum LockProblem {
    /// The file is not JSON.
    #[error("not JSON")]
    NotJson(#[source] serde_json::Error),
    /// The file has no version.
    #[error("no `lockVersion`")]
    NoVersion,
    /// The file is of another version.
    #[error("lock version {0}; this eider reads version {LOCK_VERSION}")]
    OtherVersion(serde_json::Value),
    /// The content is not a lock's.
    #[error("unexpected content")]
    Content(#[source] serde_json::Error),
    /// The Drakefile's digest is malformed.
    #[error("`drakefile`: {}", invalid_digest(.0))]
    DrakefileDigest(String),
    /// An image's digest is malformed.
    #[error("image `{image}`: {}", invalid_digest(digest))]
    ImageDigest {
        /// The image.
        image: String,
        /// The digest as written.
        digest: String,
    },
    /// An image's pinned reference does not name its digest.
    #[error(
        "image `{image}`: `pinned` ({pinned}) does not name digest {digest} from the {found_in}"
    )]
    Pin {
        /// The image.
        image: String,
        /// The pinned reference.
        pinned: String,
        /// The digest.
        digest: String,
        /// Where the digest came from.
        found_in: ImageSource,
    },
}

/// What is wrong with a digest of the lock, as the lock's readers have always said it.
fn invalid_digest(digest: &str) -> String {
    format!("invalid digest `{digest}`: expected `sha256:` followed by 64 lowercase hex digits")
}

/// Every distinct image of the Drakefile (every container of every job), with its first use.
#[must_use]
pub fn images_of(drakefile: &Drakefile) -> BTreeMap<String, ImageUse> {
    let mut images = BTreeMap::new();
    for job in &drakefile.jobs {
        for container in &job.containers {
            images
                .entry(container.image.clone())
                .or_insert_with(|| ImageUse {
                    job: job.name.clone(),
                    container: container.name.clone(),
                });
        }
    }
    images
}

impl LockFile {
    /// A lock of `images` for the Drakefile whose bytes have digest `drakefile_digest`.
    #[must_use]
    pub fn new(drakefile_digest: &Digest, images: BTreeMap<String, LockedImage>) -> Self {
        Self {
            drakefile: drakefile_digest.to_string(),
            images,
            lock_version: LOCK_VERSION,
        }
    }

    /// The lock file of the Drakefile at `drakefile`: beside it, named after it with the
    /// extension `.lock` (`Drakefile.yaml` -> `Drakefile.lock`), so that two Drakefiles in one
    /// directory never share one.
    #[must_use]
    pub fn path_for(drakefile: &Utf8Path) -> Utf8PathBuf {
        let locked = drakefile.with_extension(LOCK_EXTENSION);
        if locked == drakefile {
            // A Drakefile named `*.lock` must never be overwritten by its own lock.
            let mut name = drakefile.as_str().to_owned();
            name.push('.');
            name.push_str(LOCK_EXTENSION);
            Utf8PathBuf::from(name)
        } else {
            locked
        }
    }

    /// Reads and checks the lock file at `path`.
    pub fn load(path: &Utf8Path) -> Result<Self, LockFileError> {
        let shown = shown(path);
        // The repository's file: a FIFO or a link to a device is refused, never read forever.
        let bytes =
            match eider_regular_file::read_regular(path, eider_regular_file::MAX_PROJECT_FILE) {
                Ok(bytes) => bytes,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    return Err(LockFileError::Missing { shown });
                }
                Err(source) => return Err(LockFileError::Read { shown, source }),
            };
        Self::parse(&bytes).map_err(|problem| LockFileError::Invalid { shown, problem })
    }

    /// The lock of `bytes`, or what makes them none.
    fn parse(bytes: &[u8]) -> Result<Self, LockProblem> {
        /// Only the version, read first: a newer format may have any other shape.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Version {
            lock_version: Option<serde_json::Value>,
        }
        let version: Version = serde_json::from_slice(bytes).map_err(LockProblem::NotJson)?;
        match version.lock_version {
            None => return Err(LockProblem::NoVersion),
            Some(serde_json::Value::Number(number))
                if number.as_u64() == Some(LOCK_VERSION.into()) => {}
            Some(other) => return Err(LockProblem::OtherVersion(other)),
        }
        let lock: Self = serde_json::from_slice(bytes).map_err(LockProblem::Content)?;
        lock.check()?;
        Ok(lock)
    }

    /// Checks what serde cannot: digests well-formed, pins that agree with them.
    fn check(&self) -> Result<(), LockProblem> {
        if Digest::parse(&self.drakefile).is_err() {
            return Err(LockProblem::DrakefileDigest(self.drakefile.clone()));
        }
        for (image, locked) in &self.images {
            let Ok(digest) = Digest::parse(&locked.digest) else {
                return Err(LockProblem::ImageDigest {
                    image: image.clone(),
                    digest: locked.digest.clone(),
                });
            };
            let agrees = match locked.source {
                ImageSource::Daemon => locked.pinned == locked.digest,
                ImageSource::Registry => Reference::parse(&locked.pinned).is_ok_and(|pinned| {
                    pinned.digest() == Some(&digest)
                        && pinned_reference(&pinned, &digest) == locked.pinned
                }),
            };
            if !agrees {
                return Err(LockProblem::Pin {
                    image: image.clone(),
                    pinned: locked.pinned.clone(),
                    digest: locked.digest.clone(),
                    found_in: locked.source,
                });
            }
        }
        Ok(())
    }

    /// The file's bytes: pretty JSON, keys sorted, a trailing newline.
    pub fn to_text(&self) -> Result<String, LockFileError> {
        let mut text = serde_json::to_string_pretty(self).map_err(LockFileError::Encode)?;
        text.push('\n');
        Ok(text)
    }

    /// Writes the lock to `path` through a temporary file renamed over it, so that a reader
    /// never sees half a lock and an interrupted write leaves the old one.
    pub fn write(&self, path: &Utf8Path) -> Result<(), LockFileError> {
        let text = self.to_text()?;
        let name = path.file_name().unwrap_or(LOCK_EXTENSION);
        let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let written = fs_err::write(&temporary, text.as_bytes())
            .and_then(|()| fs_err::rename(&temporary, path));
        written.map_err(|source| {
            // Best effort: the temporary file is ours and of no use to anyone.
            let _ = fs_err::remove_file(&temporary);
            LockFileError::Write {
                shown: shown(path),
                source,
            }
        })
    }

    /// The entry of `image`, which container `container` of job `job` uses; when the lock does
    /// not cover it, an error naming all three.
    pub fn pinned_image(
        &self,
        image: &str,
        job: &str,
        container: &str,
        lock_path: &Utf8Path,
    ) -> Result<&LockedImage, LockFileError> {
        self.images
            .get(image)
            .ok_or_else(|| LockFileError::Uncovered {
                name: file_name(lock_path),
                missing: vec![(
                    image.to_owned(),
                    ImageUse {
                        job: job.to_owned(),
                        container: container.to_owned(),
                    },
                )],
            })
    }

    /// Replaces the image of every container of `drakefile` with its pinned reference; an error
    /// listing every image the lock does not cover, with `drakefile` unchanged, when there are
    /// some. Every job must be covered, whether it runs or not, as a lock is either current for
    /// the Drakefile or not (what `eider lock --check` tells).
    pub fn pin(
        &self,
        drakefile: &mut Drakefile,
        lock_path: &Utf8Path,
    ) -> Result<(), LockFileError> {
        let missing: Vec<(String, ImageUse)> = images_of(drakefile)
            .into_iter()
            .filter(|(image, _)| !self.images.contains_key(image))
            .collect();
        if !missing.is_empty() {
            return Err(LockFileError::Uncovered {
                name: file_name(lock_path),
                missing,
            });
        }
        for container in drakefile
            .jobs
            .iter_mut()
            .flat_map(|job| job.containers.iter_mut())
        {
            if let Some(locked) = self.images.get(&container.image) {
                container.image.clone_from(&locked.pinned);
                if locked.source == ImageSource::Daemon {
                    // An image id names an image only this engine has: there is nothing to pull,
                    // and asking the engine to (`imagePullPolicy: Always`) would fail.
                    container.pull_policy = PullPolicy::IfNotPresent;
                }
            }
        }
        Ok(())
    }
}

/// The name of the lock file at `lock_path`, as messages show it.
fn file_name(lock_path: &Utf8Path) -> String {
    lock_path
        .file_name()
        .unwrap_or(lock_path.as_str())
        .to_owned()
}

/// The message for images the lock `name` does not cover, each with where it is used.
fn uncovered(name: &str, missing: &[(String, ImageUse)]) -> String {
    let describe = |image: &str, used: &ImageUse| {
        format!(
            "image `{image}` (job `{}`, container `{}`)",
            used.job, used.container
        )
    };
    if let [(image, used)] = missing {
        format!("{name} does not cover {}", describe(image, used))
    } else {
        let mut message = format!("{name} does not cover {} images:", missing.len());
        for (image, used) in missing {
            let _ = write!(message, "\n  {}", describe(image, used));
        }
        message
    }
}

/// A path as messages show it: relative to the current directory when it is inside it.
fn shown(path: &Utf8Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|current| {
            path.strip_prefix(&current)
                .ok()
                .map(|relative| relative.as_str().to_owned())
        })
        .unwrap_or_else(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST_A: &str =
        "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const DIGEST_B: &str =
        "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const DIGEST_C: &str =
        "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

    fn digest(text: &str) -> Digest {
        Digest::parse(text).expect("a valid digest")
    }

    fn registry_entry(repository: &str, digest: &str) -> LockedImage {
        LockedImage {
            digest: digest.to_owned(),
            pinned: format!("{repository}@{digest}"),
            source: ImageSource::Registry,
        }
    }

    fn daemon_entry(id: &str) -> LockedImage {
        LockedImage {
            digest: id.to_owned(),
            pinned: id.to_owned(),
            source: ImageSource::Daemon,
        }
    }

    fn sample() -> LockFile {
        let mut images = BTreeMap::new();
        images.insert(
            "127.0.0.1:5000/team/tool:v1".to_owned(),
            registry_entry("127.0.0.1:5000/team/tool", DIGEST_A),
        );
        images.insert("local/builder:dev".to_owned(), daemon_entry(DIGEST_B));
        LockFile::new(&digest(DIGEST_C), images)
    }

    fn drakefile(jobs: &str) -> Drakefile {
        let text = format!(
            "specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n{jobs}"
        );
        drakefile::parse("Drakefile.yaml", &text)
            .expect("a valid Drakefile")
            .drakefile
    }

    fn temporary() -> (tempfile::TempDir, Utf8PathBuf) {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = Utf8PathBuf::from_path_buf(directory.path().join("Drakefile.lock"))
            .expect("a UTF-8 path");
        (directory, path)
    }

    #[test]
    fn the_file_is_pretty_json_with_sorted_keys_and_a_trailing_newline() {
        let expected = format!(
            r#"{{
  "drakefile": "{DIGEST_C}",
  "images": {{
    "127.0.0.1:5000/team/tool:v1": {{
      "digest": "{DIGEST_A}",
      "pinned": "127.0.0.1:5000/team/tool@{DIGEST_A}",
      "source": "registry"
    }},
    "local/builder:dev": {{
      "digest": "{DIGEST_B}",
      "pinned": "{DIGEST_B}",
      "source": "daemon"
    }}
  }},
  "lockVersion": 1
}}
"#
        );
        assert_eq!(sample().to_text().expect("encoded"), expected);
    }

    #[test]
    fn the_same_images_give_the_same_bytes_whatever_order_they_were_resolved_in() {
        let entries = [
            ("z/last:1", registry_entry("docker.io/z/last", DIGEST_A)),
            ("a/first:1", registry_entry("docker.io/a/first", DIGEST_B)),
            ("m/middle:1", daemon_entry(DIGEST_C)),
        ];
        let forward: BTreeMap<String, LockedImage> = entries
            .iter()
            .map(|(image, entry)| ((*image).to_owned(), entry.clone()))
            .collect();
        let backward: BTreeMap<String, LockedImage> = entries
            .iter()
            .rev()
            .map(|(image, entry)| ((*image).to_owned(), entry.clone()))
            .collect();
        let first = LockFile::new(&digest(DIGEST_C), forward).to_text();
        let second = LockFile::new(&digest(DIGEST_C), backward).to_text();
        assert_eq!(first.expect("encoded"), second.expect("encoded"));
    }

    #[test]
    fn a_written_lock_reads_back_the_same() {
        let (_directory, path) = temporary();
        let lock = sample();
        lock.write(&path).expect("written");
        assert_eq!(LockFile::load(&path).expect("read"), lock);
        let leftovers: Vec<_> = fs_err::read_dir(path.parent().expect("a directory"))
            .expect("listed")
            .filter_map(Result::ok)
            .map(|entry| entry.file_name())
            .filter(|name| name != "Drakefile.lock")
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[test]
    fn a_missing_lock_is_said_to_be_missing() {
        let (_directory, path) = temporary();
        let error = LockFile::load(&path).expect_err("no file");
        assert!(matches!(error, LockFileError::Missing { .. }), "{error:?}");
        let text = error.to_string();
        assert!(text.contains("Drakefile.lock does not exist"), "{text}");
    }

    #[test]
    fn a_malformed_lock_is_refused_naming_the_file_and_the_problem() {
        let valid = sample().to_text().expect("encoded");
        let cases = [
            ("{ not json", "not JSON"),
            ("{\"images\": {}}", "no `lockVersion`"),
            (
                &valid.replace("\"lockVersion\": 1", "\"lockVersion\": 2"),
                "lock version 2; this eider reads version 1",
            ),
            (
                &valid.replace("\"source\": \"daemon\"", "\"source\": \"cloud\""),
                "unexpected content",
            ),
            (
                &valid.replace(
                    &format!("\"digest\": \"{DIGEST_A}\""),
                    "\"digest\": \"sha256:12\"",
                ),
                "image `127.0.0.1:5000/team/tool:v1`: invalid digest `sha256:12`",
            ),
            (
                &valid.replace(
                    &format!("\"pinned\": \"{DIGEST_B}\""),
                    &format!("\"pinned\": \"{DIGEST_A}\""),
                ),
                "image `local/builder:dev`: `pinned`",
            ),
        ];
        for (content, expected) in cases {
            let (_directory, path) = temporary();
            fs_err::write(&path, content).expect("written");
            let error = LockFile::load(&path).expect_err(content);
            assert!(matches!(error, LockFileError::Invalid { .. }), "{error:?}");
            let text = error.to_string();
            assert!(
                text.contains("Drakefile.lock is not a valid lock file"),
                "{text}"
            );
            assert!(text.contains(expected), "expected {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn an_image_the_lock_does_not_cover_is_refused_naming_job_and_container() {
        let error = sample()
            .pinned_image(
                "other:1",
                "build",
                "main",
                Utf8Path::new("/p/Drakefile.lock"),
            )
            .expect_err("not covered");
        assert_eq!(
            error.to_string(),
            "Drakefile.lock does not cover image `other:1` (job `build`, container `main`)"
        );
        let lock = sample();
        let covered = lock
            .pinned_image(
                "local/builder:dev",
                "build",
                "main",
                Utf8Path::new("Drakefile.lock"),
            )
            .expect("covered");
        assert_eq!(covered.pinned, DIGEST_B);
    }

    #[test]
    fn pinning_replaces_every_image_and_keeps_an_engine_id_from_being_pulled() {
        let mut model = drakefile(
            "  build:\n    sidecarContainers:\n    - name: cache\n      image: local/builder:dev\n      \
             imagePullPolicy: Always\n    primaryContainer:\n      name: main\n      \
             image: 127.0.0.1:5000/team/tool:v1\n      imagePullPolicy: Always\n",
        );
        sample()
            .pin(&mut model, Utf8Path::new("Drakefile.lock"))
            .expect("covered");
        let containers = &model.jobs[0].containers;
        assert_eq!(containers[0].image, DIGEST_B);
        assert_eq!(containers[0].pull_policy, PullPolicy::IfNotPresent);
        assert_eq!(
            containers[1].image,
            format!("127.0.0.1:5000/team/tool@{DIGEST_A}")
        );
        assert_eq!(containers[1].pull_policy, PullPolicy::Always);
    }

    #[test]
    fn pinning_lists_every_uncovered_image_and_changes_nothing() {
        let mut model = drakefile(
            "  first:\n    primaryContainer:\n      name: main\n      image: new/one:1\n  \
             second:\n    sidecarContainers:\n    - name: side\n      image: new/two:1\n    \
             primaryContainer:\n      name: main\n      image: local/builder:dev\n",
        );
        let before = model.clone();
        let error = sample()
            .pin(&mut model, Utf8Path::new("Drakefile.lock"))
            .expect_err("not covered");
        assert_eq!(model, before);
        assert_eq!(
            error.to_string(),
            "Drakefile.lock does not cover 2 images:\n  image `new/one:1` (job `first`, \
             container `main`)\n  image `new/two:1` (job `second`, container `side`)"
        );
    }

    #[test]
    fn a_lock_entry_becomes_a_resolution_without_asking_anyone() {
        let lock = sample();
        let registry = lock.images["127.0.0.1:5000/team/tool:v1"]
            .to_resolved("127.0.0.1:5000/team/tool:v1")
            .expect("valid");
        assert_eq!(registry.digest().to_string(), DIGEST_A);
        assert_eq!(
            registry.pinned(),
            format!("127.0.0.1:5000/team/tool@{DIGEST_A}")
        );
        let Resolved::Registry { reference, .. } = &registry else {
            panic!("not a registry image: {registry:?}");
        };
        assert_eq!(reference.tag(), Some("v1"));
        let daemon = lock.images["local/builder:dev"]
            .to_resolved("local/builder:dev")
            .expect("valid");
        assert_eq!(
            daemon,
            Resolved::Daemon {
                image: "local/builder:dev".to_owned(),
                id: digest(DIGEST_B)
            }
        );
        assert_eq!(
            LockedImage::from_resolved(&registry),
            lock.images["127.0.0.1:5000/team/tool:v1"]
        );
    }

    #[test]
    fn the_lock_sits_beside_the_drakefile_under_its_name() {
        assert_eq!(
            LockFile::path_for(Utf8Path::new("/p/Drakefile.yaml")),
            "/p/Drakefile.lock"
        );
        assert_eq!(LockFile::path_for(Utf8Path::new("ci.yml")), "ci.lock");
        assert_eq!(
            LockFile::path_for(Utf8Path::new("Drakefile")),
            "Drakefile.lock"
        );
        assert_eq!(
            LockFile::path_for(Utf8Path::new("odd.lock")),
            "odd.lock.lock"
        );
    }

    #[test]
    fn every_distinct_image_is_listed_once_with_its_first_use() {
        let model = drakefile(
            "  b:\n    sidecarContainers:\n    - name: side\n      image: x:1\n    \
             primaryContainer:\n      name: main\n      image: y:1\n  a:\n    \
             primaryContainer:\n      name: main\n      image: x:1\n",
        );
        let images = images_of(&model);
        assert_eq!(images.keys().collect::<Vec<_>>(), ["x:1", "y:1"]);
        assert_eq!(
            images["x:1"],
            ImageUse {
                job: "b".to_owned(),
                container: "side".to_owned()
            }
        );
    }
}
