//! Label and annotation keys of eider's own, in every package: what a package says about the
//! job it holds, read back by verification and by runs from it.

/// The job packaged.
pub const JOB: &str = "dev.eider.job";
/// The digest of the Drakefile's bytes.
pub const DRAKEFILE_DIGEST: &str = "dev.eider.drakefile.digest";
/// The DrakeSpec version of the Drakefile the job came from: the few rules that differ by
/// version (the platform a job asks for) when the job runs from its package.
pub const SPEC_VERSION: &str = "dev.eider.spec.version";
/// The job's normalized definition, as JSON: the package's manifest.
pub const JOB_DEFINITION: &str = "dev.eider.job.definition";
/// `true` when the tree had uncommitted changes.
pub const SOURCE_DIRTY: &str = "dev.eider.source.dirty";
/// Where the source is in the image.
pub const SOURCE_PATH: &str = "dev.eider.source.path";
/// The sidecars' images, by digest, as JSON.
pub const SIDECARS: &str = "dev.eider.sidecars";
