//! What is compared: each benchmark is an eider job and the docker CLI doing the same work by
//! hand, on the same engine, the same image and the same network mode, both with their stdout in
//! a pipe.

use std::path::{Path, PathBuf};

use crate::engine::sample::Probe;

/// The image every container runs; `scripts/test-env.sh` builds it from busybox-static.
pub const IMAGE: &str = "eider-test/busybox:latest";

/// The `eider run` benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Benchmark {
    /// One container running `true`, against `docker run --rm`.
    NoOp,
    /// A sidecar (`sleep 1000`) and a primary (`true`) in its network namespace, against
    /// `docker run -d`, `docker run --network container:...`, `docker rm -f`.
    Sidecar,
    /// One container printing many lines, against `docker run --rm` attached.
    Throughput,
}

impl Benchmark {
    /// Every benchmark, in the order they are reported.
    pub const ALL: [Self; 3] = [Self::NoOp, Self::Sidecar, Self::Throughput];

    /// The name on the command line, in the table and as the job's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoOp => "no-op",
            Self::Sidecar => "sidecar",
            Self::Throughput => "throughput",
        }
    }
}

/// The two commands of a benchmark.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The benchmark's name, in progress messages.
    pub name: &'static str,
    /// `eider run` of the benchmark's job.
    pub eider: Probe,
    /// The docker CLI doing the same.
    pub baseline: Probe,
}

/// A private directory holding the Drakefile, an empty eider config file (so that the user's
/// own config cannot change what is measured), eider's state and GNU time's reports. Removed
/// when dropped.
#[derive(Debug)]
pub struct Workspace {
    directory: PathBuf,
}

impl Workspace {
    /// Creates the directory and its files; the throughput job prints `lines` lines.
    pub fn create(lines: u64) -> std::io::Result<Self> {
        Self::with_drakefile("jobs", &drakefile(lines))
    }

    /// Creates a directory named after `tag` holding the Drakefile `text`.
    pub fn with_drakefile(tag: &str, text: &str) -> std::io::Result<Self> {
        let directory =
            std::env::temp_dir().join(format!("eider-bench-{tag}-{}", std::process::id()));
        fs_err::create_dir_all(directory.join("state"))?;
        let workspace = Self { directory };
        fs_err::write(workspace.drakefile(), text)?;
        fs_err::write(workspace.config(), "")?;
        Ok(workspace)
    }

    /// A file of the workspace, for reports.
    pub fn file(&self, name: &str) -> PathBuf {
        self.directory.join(name)
    }

    /// `eider run` on the workspace's Drakefile with its empty config, each job's first
    /// container on `network`, then `arguments` (the jobs or the pipeline, and other flags).
    pub fn eider_run(&self, eider: &Path, network: &str, arguments: &[String]) -> Probe {
        let mut argv = vec![
            path_text(eider),
            "--file".to_owned(),
            path_text(&self.drakefile()),
            "--color".to_owned(),
            "never".to_owned(),
            "run".to_owned(),
            "--config".to_owned(),
            path_text(&self.config()),
            "--network".to_owned(),
            network.to_owned(),
        ];
        argv.extend(arguments.iter().cloned());
        Probe {
            argv,
            environment: vec![("EIDER_STATE_DIR".to_owned(), path_text(&self.state()))],
            removed_prefix: Some("EIDER_"),
            directory: None,
        }
    }

    fn drakefile(&self) -> PathBuf {
        self.directory.join("Drakefile.yaml")
    }

    fn config(&self) -> PathBuf {
        self.directory.join("config.toml")
    }

    fn state(&self) -> PathBuf {
        self.directory.join("state")
    }

    /// Where GNU time writes its report on the last run.
    pub fn report(&self) -> PathBuf {
        self.directory.join("time-report")
    }

    /// The two commands of `benchmark`; each job's first container joins `network` on both
    /// sides (setting up a network namespace is a large part of a container's start, so the two
    /// sides must agree on it).
    pub fn comparison(
        &self,
        benchmark: Benchmark,
        eider: &Path,
        lines: u64,
        network: &str,
    ) -> Comparison {
        let eider = self.eider_run(eider, network, &[benchmark.name().to_owned()]);
        let docker_run = |command: &[&str]| {
            let mut argv: Vec<String> = ["docker", "run", "--rm", "--network", network, IMAGE]
                .map(str::to_owned)
                .to_vec();
            argv.extend(command.iter().map(|&word| word.to_owned()));
            argv
        };
        let baseline_argv = match benchmark {
            Benchmark::NoOp => docker_run(&["true"]),
            Benchmark::Sidecar => vec![
                "sh".to_owned(),
                "-c".to_owned(),
                SIDECAR_BY_HAND.to_owned(),
                "sh".to_owned(),
                IMAGE.to_owned(),
                network.to_owned(),
            ],
            Benchmark::Throughput => docker_run(&["seq", &lines.to_string()]),
        };
        Comparison {
            name: benchmark.name(),
            eider,
            baseline: Probe {
                argv: baseline_argv,
                environment: Vec::new(),
                removed_prefix: None,
                directory: None,
            },
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        // eider removes its own state; what is left is this benchmark's small files.
        let _ignored = fs_err::remove_dir_all(&self.directory);
    }
}

/// The sidecar job by hand: the sidecar detached, the primary in its network namespace, then
/// the sidecar killed and removed (one `docker rm -f`, as eider's cleanup does it). The
/// sidecar's name is unique per run (`$$`); `$1` is the image, `$2` the network.
const SIDECAR_BY_HAND: &str = r#"name=eider-bench-sidecar-$$
docker run -d --name "$name" --network "$2" "$1" sleep 1000 >/dev/null || exit
status=0
docker run --rm --network "container:$name" "$1" true || status=$?
docker rm -f "$name" >/dev/null || status=$?
exit "$status""#;

/// The benchmark's Drakefile: one job per benchmark, named after it.
fn drakefile(lines: u64) -> String {
    format!(
        "specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
snippets:
  busybox: &busybox
    image: {IMAGE}
    imagePullPolicy: IfNotPresent
jobs:
  no-op:
    primaryContainer:
      <<: *busybox
      name: main
      command: [\"true\"]
  sidecar:
    sidecarContainers:
    - <<: *busybox
      name: sidecar
      command: [\"sleep\", \"1000\"]
    primaryContainer:
      <<: *busybox
      name: main
      command: [\"true\"]
  throughput:
    primaryContainer:
      <<: *busybox
      name: main
      command: [\"seq\", \"{lines}\"]
"
    )
}

/// A path as one argument of a command line.
pub fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::{Benchmark, drakefile};

    #[test]
    fn the_drakefile_is_valid_and_has_one_job_per_benchmark() {
        let parsed = match drakefile::parse("Drakefile.yaml", &drakefile(7)) {
            Ok(parsed) => parsed,
            Err(report) => panic!("invalid: {:?}", report.records()),
        };
        for benchmark in Benchmark::ALL {
            assert!(
                parsed.drakefile.job(benchmark.name()).is_some(),
                "no job `{}`",
                benchmark.name()
            );
        }
        assert_eq!(parsed.warnings.warning_count(), 0);
    }
}
