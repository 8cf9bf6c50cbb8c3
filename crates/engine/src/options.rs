//! How a run behaves: everything the user decides outside the Drakefile.

use std::time::Duration;

use camino::Utf8PathBuf;

use crate::environment::Variables;

/// The default job timeout (the spec leaves it to the executor).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// How long stopped containers get between SIGTERM and SIGKILL.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(10);

/// How seed-draft files (which have no `sourceMountMode`) get their source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeedSourceMode {
    /// One writable copy per run, shared by its jobs: the user's tree is never modified.
    #[default]
    Copy,
    /// The live tree, bound writable (what the seed-era reference executor did).
    ReadWrite,
}

/// What a run is given, merged from defaults, the config file, the environment and the flags
/// (the command line's own options are `RunOptions` of the CLI).
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The project's source: the Drakefile's directory.
    pub source_root: Utf8PathBuf,
    /// Per-job timeout.
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL when a run is interrupted.
    pub grace_period: Duration,
    /// What the user allows jobs to ask for.
    pub permissions: drakefile::Permissions,
    /// How seed-draft files get their source.
    pub seed_source_mode: SeedSourceMode,
    /// Copy the run's shared storage here before it is removed.
    pub keep_shared: Option<Utf8PathBuf>,
    /// The most bytes of output printed per job, all its containers together; `None` for no
    /// limit.
    pub log_limit: Option<u64>,
    /// Variables from outside the Drakefile (secrets file, env files, `-e`), in precedence order;
    /// every container gets them, and the Drakefile's `environment` wins over them.
    pub environment: Variables,
    /// The secrets file's variables, also among `environment`: a value that is still theirs is
    /// marked secret for the backend.
    pub secrets: Variables,
}

impl RunSettings {
    /// The settings of a run of the tree at `source_root` when nothing else is chosen: the
    /// default timeout and grace period, nothing allowed, no limit on output, no variables from
    /// outside the Drakefile.
    #[must_use]
    pub fn for_source(source_root: Utf8PathBuf) -> Self {
        Self {
            source_root,
            timeout: DEFAULT_TIMEOUT,
            grace_period: DEFAULT_GRACE_PERIOD,
            permissions: drakefile::Permissions::default(),
            seed_source_mode: SeedSourceMode::default(),
            keep_shared: None,
            log_limit: None,
            environment: Variables::new(),
            secrets: Variables::new(),
        }
    }
}
