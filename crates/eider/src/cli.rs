//! The command line: every flag, its `EIDER_*` environment variable and its help text.

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::duration::PositiveDuration;

/// Long version text: the supported DrakeSpec versions are part of what a version means here.
fn long_version() -> &'static str {
    use std::sync::OnceLock;
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let versions: Vec<String> = drakefile::SpecVersion::ALL
            .into_iter()
            .map(|version| {
                if version.is_seed() {
                    format!("{version} (seed draft)")
                } else {
                    version.to_string()
                }
            })
            .collect();
        format!(
            "{}\nDrakeSpec versions: {}",
            env!("CARGO_PKG_VERSION"),
            versions.join(", ")
        )
    })
}

/// Runs DrakeSpec jobs and pipelines, identically on a laptop and in CI.
#[derive(Debug, Parser)]
#[command(name = "eider", version, long_version = long_version())]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct GlobalOptions {
    /// The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]
    #[arg(
        short = 'f',
        long = "file",
        global = true,
        env = "EIDER_FILE",
        value_name = "PATH"
    )]
    pub file: Option<Utf8PathBuf>,

    /// When to color output (NO_COLOR is honored by `auto`)
    #[arg(long, global = true, env = "EIDER_COLOR", value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// When to use color.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the Drakefile against its DrakeSpec version and report every problem
    Validate(ValidateOptions),
    /// List the Drakefile's jobs (or pipelines), sorted by name
    #[command(visible_alias = "ls")]
    List(ListOptions),
    /// Write a commented starter Drakefile (latest DrakeSpec version)
    Init(InitOptions),
    /// Print the JSON Schema of a Drakefile, for editors
    Schema(SchemaOptions),
    /// Rewrite the Drakefile in place for a newer DrakeSpec version, keeping its comments,
    /// anchors and layout; refuse (and write nothing) what has no faithful equivalent
    Upgrade(UpgradeOptions),
    /// Run jobs (in order, each only if the previous one succeeded) or a pipeline (as a DAG) on
    /// the Docker Engine; or the job a package holds, from the package, without a Drakefile
    Run(Box<RunOptions>),
    /// Print a pipeline's DAG as Graphviz DOT, Mermaid or SVG
    Graph(GraphOptions),
    /// Remove containers and volumes left behind by an eider that crashed
    Clean(CleanOptions),
    /// Resolve every image of the Drakefile to a digest and write Drakefile.lock, for `run
    /// --locked` and `package --locked`
    Lock(LockOptions),
    /// Package a job as a reproducible OCI image: its base image, its dependencies and its
    /// source, with its command; written to an OCI layout, a Docker archive, a registry or the
    /// local engine
    Package(Box<PackageOptions>),
    /// Check a package: every blob's digest and size, the manifest and config against each
    /// other, and its labels against the Drakefile
    Verify(VerifyOptions),
    /// Print the Kubernetes objects that would run jobs or a pipeline on a cluster, as
    /// multi-document YAML, without contacting any cluster
    Manifests(Box<ManifestsOptions>),
    /// Print the completion script of a shell (bash, zsh, fish, powershell or elvish), for the
    /// shell to load
    Completions(CompletionsOptions),
}

/// `eider run`. `Default` is the command with no flag (no field has a default value of its
/// own), for runs that other commands start.
#[derive(Debug, Default, Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each bool is an independent command-line flag"
)]
pub struct RunOptions {
    /// The jobs to run, in order; or one package to run the job it holds: `oci:DIR[:TAG]`,
    /// `docker://REGISTRY/REPOSITORY:TAG`, `REGISTRY/REPOSITORY:TAG` or
    /// `REGISTRY/REPOSITORY@DIGEST` (no Drakefile needed)
    #[arg(
        value_name = "JOB|PACKAGE",
        required_unless_present_any = ["pipeline", "event"],
        conflicts_with_all = ["pipeline", "event"]
    )]
    pub jobs: Vec<String>,

    /// Run this pipeline: its jobs as a DAG, each once its dependencies succeeded
    #[arg(
        short = 'p',
        long,
        env = "EIDER_PIPELINE",
        value_name = "NAME",
        conflicts_with = "event"
    )]
    pub pipeline: Option<String>,

    /// Run every pipeline whose triggers match this event (see --branch, --tag)
    #[arg(long, env = "EIDER_EVENT", value_enum, value_name = "EVENT")]
    pub event: Option<EventKind>,

    /// The branch or tag of the event.
    #[command(flatten)]
    pub event_ref: EventRefOptions,

    /// How many jobs of a pipeline run at once [default: the number of CPU cores]
    #[arg(
        short = 'c',
        long,
        visible_short_alias = 'j',
        visible_alias = "jobs",
        env = "EIDER_CONCURRENCY",
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub concurrency: Option<u16>,

    /// After a failure, still run every job whose dependencies succeeded (default: cancel every
    /// pending job, as the DrakeSpec says)
    #[arg(long, env = "EIDER_KEEP_GOING")]
    pub keep_going: bool,

    /// Print the execution plan (stages of jobs that may run together) and run nothing
    #[arg(long, env = "EIDER_DRY_RUN")]
    pub dry_run: bool,

    /// Run every image at the digest Drakefile.lock gives it (see `eider lock`); an image the
    /// lock does not cover is an error
    #[arg(long, env = "EIDER_LOCKED")]
    pub locked: bool,

    /// Package each job first (as `eider package` does) and run it from its image, without
    /// mounting the source tree into its primary container
    #[arg(long, env = "EIDER_PACKAGED")]
    pub packaged: bool,

    /// Write a report when the run ends: junit=FILE or json=FILE (repeatable)
    #[arg(long, env = "EIDER_REPORT", value_name = "KIND=FILE", value_parser = crate::report::parse_target)]
    pub report: Vec<crate::report::ReportTarget>,

    /// How long a job may run before it is killed and fails [default: 1h, or the config file's]
    #[arg(long, env = "EIDER_TIMEOUT", value_name = "DURATION", value_parser = crate::duration::parse)]
    pub timeout: Option<PositiveDuration>,

    /// How long containers get between SIGTERM and SIGKILL when a run is interrupted [default: 10s]
    #[arg(long, env = "EIDER_GRACE_PERIOD", value_name = "DURATION", value_parser = crate::duration::parse)]
    pub grace_period: Option<PositiveDuration>,

    /// How long the container engine may go without answering (frozen, restarting) before the
    /// job it serves ends as an infrastructure failure [default: 60s]
    #[arg(long, env = "EIDER_ENGINE_TIMEOUT", value_name = "DURATION", value_parser = crate::duration::parse)]
    pub engine_timeout: Option<PositiveDuration>,

    /// Attach each job's first container to this network [default: the engine's default]
    #[arg(long, env = "EIDER_NETWORK", value_name = "NAME")]
    pub network: Option<String>,

    /// Where the jobs run.
    #[command(flatten)]
    pub backend: BackendOptions,

    /// The shared-storage claim on a cluster.
    #[command(flatten)]
    pub shared_storage: SharedStorageOptions,

    /// How the source reaches a cluster.
    #[command(flatten)]
    pub cluster_source: ClusterSourceOptions,

    /// Variables from outside the Drakefile.
    #[command(flatten)]
    pub environment: EnvironmentOptions,

    /// How a package in a registry is reached.
    #[command(flatten)]
    pub registry: RegistryOptions,

    /// What jobs may ask for.
    #[command(flatten)]
    pub permissions: PermissionOptions,

    /// Seed-draft files only: `copy` gives each run a writable copy of the source, `rw` binds the
    /// live tree
    #[arg(long, env = "EIDER_SOURCE_MODE", value_enum, value_name = "MODE")]
    pub source_mode: Option<SourceMode>,

    /// Print at most SIZE of each job's output (e.g. 4MiB, 500k; 0 or none: no limit), then
    /// one notice; the job runs on [default: none, or the config file's]
    #[arg(long, env = "EIDER_LOG_LIMIT", value_name = "SIZE", value_parser = crate::log_limit::parse)]
    pub log_limit: Option<crate::log_limit::LogLimit>,

    /// Copy the run's shared storage into DIR before it is removed
    #[arg(long, env = "EIDER_KEEP_SHARED", value_name = "DIR")]
    pub keep_shared: Option<Utf8PathBuf>,

    /// The eider config file.
    #[command(flatten)]
    pub config_file: ConfigFileOptions,
}

/// The eider config file, for every command that reads it.
#[derive(Debug, Default, Args)]
pub struct ConfigFileOptions {
    /// The eider config file [default: eider/config.toml in the user's config directory]
    #[arg(long, env = "EIDER_CONFIG", value_name = "FILE")]
    pub config: Option<Utf8PathBuf>,
}

/// How a run on a cluster claims its shared storage, for `run` and for `manifests`, which
/// prints the claim such a run makes.
#[derive(Debug, Default, Args)]
pub struct SharedStorageOptions {
    /// Kubernetes: the storage class of the run's shared-storage claim [default: the config
    /// file's, else the cluster's]
    #[arg(long, env = "EIDER_STORAGE_CLASS", value_name = "NAME")]
    pub storage_class: Option<String>,

    /// Kubernetes: the size of the run's shared-storage claim [default: the config file's, else
    /// 1Gi]
    #[arg(long, env = "EIDER_SHARED_STORAGE_SIZE", value_name = "QUANTITY")]
    pub shared_storage_size: Option<String>,

    /// Kubernetes: how the run's claims are attached: by every node (`ReadWriteMany`), or by one
    /// (`ReadWriteOnce`: the run's Pods that mount one then run on one node) [default: the
    /// config file's, else `ReadWriteMany`]
    #[arg(
        long,
        env = "EIDER_SHARED_STORAGE_ACCESS",
        value_enum,
        value_name = "MODE"
    )]
    pub shared_storage_access: Option<StorageAccess>,
}

/// How a cluster attaches the run's claims, in Kubernetes' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
pub enum StorageAccess {
    /// Every node may attach it: the run's Pods go anywhere.
    #[value(name = "ReadWriteMany")]
    ReadWriteMany,
    /// One node at a time: the run's Pods that mount it share one node.
    #[value(name = "ReadWriteOnce")]
    ReadWriteOnce,
}

/// Variables from outside the Drakefile, for every command that runs jobs or describes their
/// runs: the secrets file, `-e` and `--env-file`.
#[derive(Debug, Default, Args)]
pub struct EnvironmentOptions {
    /// Secrets file: a flat YAML map, given to every container and masked in all output
    /// [default: Drakesecrets.yaml beside the Drakefile, when present]
    #[arg(short = 's', long, env = "EIDER_SECRETS", value_name = "FILE")]
    pub secrets: Option<Utf8PathBuf>,

    /// Set a variable in every container: KEY=VALUE, or KEY to take it from eider's environment
    /// (the Drakefile's `environment` wins). Values are taken whole, newlines included
    #[arg(
        short = 'e',
        long = "env",
        env = "EIDER_ENV",
        value_name = "KEY[=VALUE]"
    )]
    pub env: Vec<String>,

    /// Read variables from a file of KEY=VALUE lines (Docker's format)
    #[arg(long, env = "EIDER_ENV_FILE", value_name = "FILE")]
    pub env_file: Vec<Utf8PathBuf>,
}

/// Where jobs run, for every command that runs jobs or cleans up after them.
#[derive(Debug, Clone, Default, Args)]
pub struct BackendOptions {
    /// Where jobs run: the local container engine, or a Kubernetes cluster [default: docker, or
    /// the config file's]
    #[arg(long, env = "EIDER_BACKEND", value_enum, value_name = "BACKEND")]
    pub backend: Option<BackendKind>,

    /// Kubernetes: the kubeconfig context of the cluster [default: the current context]
    #[arg(long, env = "EIDER_CONTEXT", value_name = "NAME")]
    pub context: Option<String>,

    /// Kubernetes: the namespace of everything eider creates [default: the context's]
    #[arg(long, env = "EIDER_NAMESPACE", value_name = "NAME")]
    pub namespace: Option<String>,
}

/// How the project's source reaches a cluster, for every command that runs jobs there or
/// describes their runs.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterSourceOptions {
    /// Kubernetes: the repository the source image is pushed to, which the cluster pulls from
    /// (needed when a job mounts the source) [default: the config file's]
    #[arg(long, env = "EIDER_REGISTRY", value_name = "REGISTRY/REPOSITORY")]
    pub registry: Option<String>,

    /// Kubernetes: the image of eider's helper containers, which must have `sh`, `cp` and `tar`:
    /// the source image is built on it, shared storage is copied out with it [default:
    /// docker.io/library/busybox:1.37, or the config file's]
    #[arg(long, env = "EIDER_HELPER_IMAGE", value_name = "IMAGE")]
    pub helper_image: Option<String>,

    /// Kubernetes: a Secret of the namespace the nodes pull images with (repeatable) [default:
    /// the config file's]
    #[arg(
        long = "image-pull-secret",
        env = "EIDER_IMAGE_PULL_SECRETS",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub image_pull_secrets: Vec<String>,
}

/// The backends jobs run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// The Docker Engine (or an engine with its API, such as Podman's).
    Docker,
    /// A Kubernetes cluster (1.29 or later): one Pod per job.
    Kubernetes,
}

/// What jobs may ask for, for every command that runs jobs or describes their runs.
#[derive(Debug, Default, Args)]
pub struct PermissionOptions {
    /// Honor `privileged: true`
    #[arg(long, env = "EIDER_ALLOW_PRIVILEGED")]
    pub allow_privileged: bool,

    /// Honor `mountDockerSocket: true`
    #[arg(long, env = "EIDER_ALLOW_DOCKER_SOCKET")]
    pub allow_docker_socket: bool,
}

impl PermissionOptions {
    /// What is allowed: by these flags or by the config file's `[run]` table.
    pub fn granted(&self, config: &crate::config::RunConfig) -> drakefile::Permissions {
        drakefile::Permissions {
            privileged: self.allow_privileged || config.allow_privileged,
            docker_socket: self.allow_docker_socket || config.allow_docker_socket,
        }
    }
}

/// An event that selects pipelines by their triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventKind {
    /// A push of a branch or a tag.
    Push,
    /// A pull request, matched on its target branch.
    PullRequest,
}

/// `eider graph`.
#[derive(Debug, Args)]
pub struct GraphOptions {
    /// The pipeline [default: every pipeline]
    #[arg(value_name = "PIPELINE")]
    pub pipeline: Option<String>,

    /// The output format
    #[arg(long, env = "EIDER_GRAPH_FORMAT", value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

/// Formats of `eider graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// An SVG picture, drawn without Graphviz.
    Svg,
}

/// `eider package`.
#[derive(Debug, Args)]
pub struct PackageOptions {
    /// The job to package
    #[arg(value_name = "JOB")]
    pub job: String,

    /// Where the image goes (repeatable): `oci:DIR[:TAG]`, `docker-archive:FILE`,
    /// `docker://REGISTRY/REPOSITORY:TAG` (or `REGISTRY/REPOSITORY:TAG`), `docker-daemon:NAME:TAG`
    /// [default: `oci:.eider/packages:JOB`]
    #[arg(
        short = 'o',
        long = "output",
        env = "EIDER_PACKAGE_OUTPUT",
        value_name = "DEST",
        value_delimiter = ','
    )]
    pub outputs: Vec<String>,

    /// The package's version [default: `git describe --tags --always`, `-dirty` when the tree
    /// has changes]
    #[arg(long, env = "EIDER_PACKAGE_TAG", value_name = "VERSION")]
    pub tag: Option<String>,

    /// How the new layers are compressed (Docker 20.10 cannot pull zstd layers)
    #[arg(long, env = "EIDER_PACKAGE_COMPRESSION", value_enum, default_value_t = Compression::Gzip)]
    pub compression: Compression,

    /// Write the manifest with Docker v2 media types (for engines that predate OCI images)
    #[arg(long, env = "EIDER_PACKAGE_DOCKER_MEDIA_TYPES")]
    pub docker_media_types: bool,

    /// Where the source goes in the image when the job's container has no sourceMountPath
    /// [default: `path` in eider.toml, else /src]
    #[arg(long, env = "EIDER_PACKAGE_PATH", value_name = "PATH")]
    pub path: Option<String>,

    /// Where the base image comes from, for a name that is not a registry's: the local engine,
    /// or the registry its name points at
    #[arg(long, env = "EIDER_PACKAGE_BASE_FROM", value_enum, default_value_t = BaseFrom::Auto)]
    pub base_from: BaseFrom,

    /// Take the base image from here instead of the primary container's `image`:
    /// `oci:DIR[:TAG]`, `docker-daemon:NAME`, `docker://REGISTRY/REPOSITORY:TAG`
    #[arg(
        long,
        env = "EIDER_PACKAGE_BASE",
        value_name = "LOCATION",
        conflicts_with = "locked"
    )]
    pub base: Option<String>,

    /// Print a JSON description of the package on stdout (instead of its digest)
    #[arg(long, env = "EIDER_PACKAGE_JSON")]
    pub json: bool,

    /// Use only the image digests of Drakefile.lock
    #[arg(long, env = "EIDER_LOCKED")]
    pub locked: bool,

    /// Secrets file of the job's runs: none of its values may be in the package, and the file
    /// itself is never packaged (Drakesecrets.yaml beside the Drakefile is always checked too)
    #[arg(short = 's', long, env = "EIDER_SECRETS", value_name = "FILE")]
    pub secrets: Option<Utf8PathBuf>,

    #[command(flatten)]
    pub registry: RegistryOptions,
}

/// How `package`, `lock` and `verify` reach registries.
#[derive(Debug, Clone, Default, Args)]
pub struct RegistryOptions {
    /// Registry credentials for HOST, or without HOST for the registry the command writes to
    /// (package) or reads the package from (verify); repeatable, one per line in the variable
    /// (else the Docker config: ~/.docker/config.json and its credential helpers, per host)
    #[arg(
        long,
        env = "EIDER_REGISTRY_AUTH",
        value_name = "[HOST=]USER:PASSWORD",
        value_delimiter = '\n',
        hide_env_values = true
    )]
    pub registry_auth: Vec<String>,

    /// Talk plain HTTP to this registry (repeatable; loopback registries always may)
    #[arg(
        long = "insecure-registry",
        env = "EIDER_INSECURE_REGISTRY",
        value_name = "HOST[:PORT]",
        value_delimiter = ','
    )]
    pub insecure_registries: Vec<String>,
}

/// `eider verify`.
#[derive(Debug, Args)]
pub struct VerifyOptions {
    /// The package: `oci:DIR[:TAG]` or `docker://REGISTRY/REPOSITORY:TAG` (or
    /// `REGISTRY/REPOSITORY:TAG`)
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Also check the package's job against this Drakefile's definition of it
    #[arg(long, env = "EIDER_VERIFY_DRAKEFILE", value_name = "PATH")]
    pub drakefile: Option<Utf8PathBuf>,

    /// Then run the job it records from it, as `eider run PACKAGE` does: loaded into the local
    /// engine, or pulled by a cluster (no Drakefile needed; with --drakefile, sidecars that mount
    /// the source get that Drakefile's tree, on the local engine); exits as `eider run` does
    #[arg(long, env = "EIDER_VERIFY_RUN")]
    pub run: bool,

    #[command(flatten)]
    pub registry: RegistryOptions,

    /// Where `--run` runs the job.
    #[command(flatten)]
    pub backend: BackendOptions,

    /// Where a cluster pulls a package from that is in no registry.
    #[command(flatten)]
    pub cluster_source: ClusterSourceOptions,
}

/// `eider lock`.
#[derive(Debug, Args)]
pub struct LockOptions {
    /// Check that Drakefile.lock covers every image and is up to date, without writing it
    /// (exit 1 when it is not)
    #[arg(long, env = "EIDER_LOCK_CHECK")]
    pub check: bool,

    /// Where images are resolved for a name that is not a registry's: the local engine, or
    /// the registry its name points at
    #[arg(long, env = "EIDER_LOCK_BASE_FROM", value_enum, default_value_t = BaseFrom::Auto)]
    pub base_from: BaseFrom,

    #[command(flatten)]
    pub registry: RegistryOptions,
}

/// Layer compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Compression {
    /// gzip: every engine and registry takes it.
    Gzip,
    /// zstd: smaller and faster; needs a recent engine.
    Zstd,
}

impl From<Compression> for eider_oci::Compression {
    fn from(compression: Compression) -> Self {
        match compression {
            Compression::Gzip => Self::Gzip,
            Compression::Zstd => Self::Zstd,
        }
    }
}

/// Where a base image is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BaseFrom {
    /// The local engine when it has the image, else the registry.
    Auto,
    /// The local engine only.
    Daemon,
    /// The registry only.
    Registry,
}

impl From<BaseFrom> for eider_package::ResolveFrom {
    fn from(base_from: BaseFrom) -> Self {
        match base_from {
            BaseFrom::Auto => Self::Auto,
            BaseFrom::Daemon => Self::Daemon,
            BaseFrom::Registry => Self::Registry,
        }
    }
}

/// How seed-draft files get their source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceMode {
    /// One writable copy per run; the live tree is never modified.
    Copy,
    /// The live tree, writable.
    Rw,
}

/// `eider clean`.
#[derive(Debug, Args)]
pub struct CleanOptions {
    /// Also remove what running eider processes created
    #[arg(long, env = "EIDER_CLEAN_ALL")]
    pub all: bool,

    /// Where to clean.
    #[command(flatten)]
    pub backend: BackendOptions,

    /// The eider config file.
    #[command(flatten)]
    pub config_file: ConfigFileOptions,
}

/// `eider validate`.
#[derive(Debug, Args)]
pub struct ValidateOptions {
    /// Print the result and every diagnostic as JSON on stdout
    #[arg(long, env = "EIDER_JSON")]
    pub json: bool,
}

/// `eider list`.
#[derive(Debug, Args)]
pub struct ListOptions {
    /// List pipelines instead of jobs
    #[arg(
        short = 'p',
        long = "pipelines",
        visible_alias = "pipeline",
        env = "EIDER_PIPELINES"
    )]
    pub pipelines: bool,

    /// Print the whole normalized model as JSON
    #[arg(long, env = "EIDER_JSON")]
    pub json: bool,

    /// With -p: only the pipelines whose triggers match this event, in Drakefile order
    #[arg(
        long,
        env = "EIDER_EVENT",
        value_enum,
        value_name = "EVENT",
        requires = "pipelines",
        conflicts_with = "json"
    )]
    pub event: Option<EventKind>,

    /// The branch or tag of the event.
    #[command(flatten)]
    pub event_ref: EventRefOptions,
}

/// The branch or tag an `--event` concerns, for every command that takes `--event`: without
/// them, the event is the current git branch's (or the tag at HEAD).
#[derive(Debug, Default, Args)]
pub struct EventRefOptions {
    /// The branch of the event (a push, or a pull request's target) [default: the current git
    /// branch]
    #[arg(
        long,
        env = "EIDER_BRANCH",
        value_name = "NAME",
        requires = "event",
        conflicts_with = "tag"
    )]
    pub branch: Option<String>,

    /// The tag of a push event [default: the tag at HEAD when no branch is checked out]
    #[arg(long, env = "EIDER_TAG", value_name = "NAME", requires = "event")]
    pub tag: Option<String>,
}

/// `eider init`.
#[derive(Debug, Args)]
pub struct InitOptions {
    /// Replace an existing Drakefile
    #[arg(long, env = "EIDER_FORCE")]
    pub force: bool,
}

/// `eider schema`.
#[derive(Debug, Args)]
pub struct SchemaOptions {
    /// The DrakeSpec version [default: the latest]
    #[arg(long = "version", visible_alias = "spec-version", env = "EIDER_SPEC_VERSION", value_parser = parse_spec_version, value_name = "VERSION")]
    pub spec_version: Option<drakefile::SpecVersion>,
}

/// `eider completions`.
#[derive(Debug, Args)]
pub struct CompletionsOptions {
    /// The shell the script is for
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `eider upgrade`.
#[derive(Debug, Args)]
pub struct UpgradeOptions {
    /// The DrakeSpec version to upgrade to [default: the latest]
    #[arg(long = "to", env = "EIDER_UPGRADE_TO", value_parser = parse_spec_version, value_name = "VERSION")]
    pub to: Option<drakefile::SpecVersion>,

    /// Print the changes as a unified diff on stdout and write nothing
    #[arg(long, env = "EIDER_DRY_RUN")]
    pub dry_run: bool,
}

fn parse_spec_version(text: &str) -> Result<drakefile::SpecVersion, String> {
    drakefile::SpecVersion::from_written(text).ok_or_else(|| {
        let supported: Vec<&str> = drakefile::SpecVersion::ALL
            .into_iter()
            .map(drakefile::SpecVersion::as_str)
            .collect();
        format!("supported versions: {}", supported.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_default_run_is_the_run_command_without_flags() {
        let Cli {
            command: Command::Run(parsed),
            ..
        } = Cli::try_parse_from(["eider", "run", "--", "job"]).expect("a valid command line")
        else {
            panic!("not a run");
        };
        let built = RunOptions {
            jobs: vec!["job".to_owned()],
            ..RunOptions::default()
        };
        assert_eq!(format!("{built:?}"), format!("{parsed:?}"));
    }

    #[test]
    fn every_flag_has_an_environment_variable() {
        fn check(command: &clap::Command) {
            for argument in command.get_arguments() {
                let builtin = matches!(argument.get_id().as_str(), "help" | "version");
                if !argument.is_positional() && !builtin {
                    assert!(
                        argument.get_env().is_some(),
                        "--{} of `{}` has no EIDER_* variable",
                        argument.get_id(),
                        command.get_name()
                    );
                }
            }
            for subcommand in command.get_subcommands() {
                check(subcommand);
            }
        }
        check(&Cli::command());
    }
}

/// `eider manifests`.
#[derive(Debug, Args)]
pub struct ManifestsOptions {
    /// The jobs to describe
    #[arg(
        value_name = "JOB",
        required_unless_present = "pipeline",
        conflicts_with = "pipeline"
    )]
    pub jobs: Vec<String>,

    /// Describe every job of this pipeline
    #[arg(short = 'p', long, env = "EIDER_PIPELINE", value_name = "NAME")]
    pub pipeline: Option<String>,

    /// The namespace of every object [default: the config file's, else `default`]
    #[arg(long, env = "EIDER_NAMESPACE", value_name = "NAME")]
    pub namespace: Option<String>,

    /// How long a job may run before the cluster ends it [default: 1h, or the config file's]
    #[arg(long, env = "EIDER_TIMEOUT", value_name = "DURATION", value_parser = crate::duration::parse)]
    pub timeout: Option<PositiveDuration>,

    /// The shared-storage claim.
    #[command(flatten)]
    pub shared_storage: SharedStorageOptions,

    /// How the source reaches a cluster.
    #[command(flatten)]
    pub cluster_source: ClusterSourceOptions,

    /// Variables from outside the Drakefile.
    #[command(flatten)]
    pub environment: EnvironmentOptions,

    /// How a package in a registry is reached.
    #[command(flatten)]
    pub registry: RegistryOptions,

    /// What jobs may ask for.
    #[command(flatten)]
    pub permissions: PermissionOptions,

    /// The eider config file: its `[kubernetes]` table and the defaults of `[run]`, as for `run`.
    #[command(flatten)]
    pub config_file: ConfigFileOptions,
}
