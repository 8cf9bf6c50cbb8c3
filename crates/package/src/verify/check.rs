//! A package checked blob by blob (digest and size, each layer decompressed against its
//! diffID), the manifest against the config, and, when a Drakefile is given, its job against
//! the Drakefile's.

use camino::Utf8Path;
use eider_oci::{Digest, Finding, LayerCache, VerifiedBlobs, VerifyOptions};

use super::config;
use super::error::{ReadError, VerifyError};
use super::open::Package;
use crate::keys;
use crate::progress::{Event, Observer};

/// Something wrong with a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A blob, the manifest or the config.
    Image(Finding),
    /// The package says no job: eider did not make it.
    NoJob,
    /// The Drakefile has no job of the package's.
    MissingJob {
        /// The Drakefile.
        path: String,
        /// The job.
        job: String,
    },
    /// The Drakefile's job is not the one packaged.
    JobDiffers {
        /// The Drakefile.
        path: String,
        /// The job.
        job: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Image(finding) => finding.fmt(formatter),
            Self::NoJob => write!(
                formatter,
                "the package has no `{}` label: not made by eider package",
                keys::JOB
            ),
            Self::MissingJob { path, job } => {
                write!(
                    formatter,
                    "{path} has no job `{job}`, which the package holds"
                )
            }
            Self::JobDiffers { path, job } => write!(
                formatter,
                "job `{job}` in {path} differs from the one packaged (label `{}`)",
                keys::JOB_DEFINITION
            ),
        }
    }
}

/// How much of a package is read to check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Every blob, hashed (and every layer decompressed against its diffID).
    Full,
    /// Every blob, except the layers of an OCI layout whose files eider found whole before and
    /// that have not been written to since (as recorded in eider's cache directory): what a
    /// package run again needs, without paying again for what has not changed.
    ReuseVerified,
}

impl Package {
    /// Every problem of the package; when its blobs are sound and `drakefile` is given, also
    /// whether its job is that Drakefile's.
    pub fn check(
        &self,
        drakefile: Option<&Utf8Path>,
        verification: Verification,
        observer: &dyn Observer,
    ) -> Result<Vec<Problem>, VerifyError> {
        let options = VerifyOptions::default().with_diff_ids(true);
        let cache = LayerCache::default_directory()
            .filter(|_| verification == Verification::ReuseVerified && self.in_layout());
        let findings = match cache {
            Some(directory) => {
                let mut verified = VerifiedBlobs::in_directory(&directory);
                let findings = eider_oci::verify_image_reusing(
                    &self.store,
                    &self.manifest,
                    &options,
                    &mut verified,
                );
                verified.save();
                findings
            }
            None => eider_oci::verify_image(&self.store, &self.manifest, &options),
        };
        let mut problems: Vec<Problem> = findings.into_iter().map(Problem::Image).collect();
        if problems.is_empty()
            && let Some(drakefile) = drakefile
        {
            problems.extend(self.check_against_drakefile(drakefile, observer)?);
        }
        Ok(problems)
    }

    /// The package's job and Drakefile labels against the Drakefile at `path`.
    fn check_against_drakefile(
        &self,
        path: &Utf8Path,
        observer: &dyn Observer,
    ) -> Result<Vec<Problem>, VerifyError> {
        let labels = config::read(&self.store, &self.manifest)
            .map_err(VerifyError::Config)?
            .labels;
        let text = drakefile::read_source(path).map_err(VerifyError::Drakefile)?;
        let parsed =
            drakefile::parse(path.as_str(), &text).map_err(VerifyError::InvalidDrakefile)?;
        let Some(job_name) = labels.get(keys::JOB) else {
            return Ok(vec![Problem::NoJob]);
        };
        let Some(job) = parsed.drakefile.job(job_name) else {
            return Ok(vec![Problem::MissingJob {
                path: path.to_string(),
                job: job_name.clone(),
            }]);
        };
        let mut problems = Vec::new();
        let expected = serde_json::to_value(job)
            .map_err(|error| VerifyError::Config(ReadError::Json(error)))?;
        let recorded: Option<serde_json::Value> = labels
            .get(keys::JOB_DEFINITION)
            .and_then(|text| serde_json::from_str(text).ok());
        if recorded.as_ref() != Some(&expected) {
            problems.push(Problem::JobDiffers {
                path: path.to_string(),
                job: job_name.clone(),
            });
        }
        let digest = Digest::of(text.as_bytes()).to_string();
        if labels.get(keys::DRAKEFILE_DIGEST) != Some(&digest) {
            observer.event(&Event::DrakefileChanged {
                path,
                job: job_name,
            });
        }
        Ok(problems)
    }
}
