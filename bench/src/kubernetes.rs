//! `eider run --backend kubernetes` of a 1,000-job pipeline at `-c 100` against the local
//! Kubernetes API double (no cluster runs here): what eider asks of the API server per job
//! beyond its log streams, how many watches a run opens, and eider's own processor time and
//! peak memory (from GNU time), with the targets beside them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use eider_kube_double::{KubeDouble, Settings};

/// The name `--benchmark` takes.
pub const NAME: &str = "kubernetes";

/// Jobs in the pipeline: ten layers of a hundred, each job waiting for one of the layer before.
pub const JOBS: usize = 1_000;

/// Jobs at once.
pub const CONCURRENCY: usize = 100;

/// Requests per job beyond log streams, at most.
const REQUESTS_PER_JOB_TARGET: f64 = 8.0;

/// Peak resident memory of eider, at most, in megabytes.
const PEAK_MEMORY_TARGET_MB: f64 = 100.0;

const NAMESPACE: &str = "bench";

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum KubernetesError {
    #[error("cannot start the Kubernetes API double")]
    Double(#[source] std::io::Error),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run {0} (GNU time measures eider's processor time and memory)")]
    Spawn(String, #[source] std::io::Error),
    #[error("eider failed (exit {code:?}):\n{stderr}")]
    Eider { code: Option<i32>, stderr: String },
    #[error("cannot read GNU time's measurements: {0}")]
    Measurements(String),
}

/// What one run measured.
#[derive(Debug)]
pub struct Outcome {
    pub wall_seconds: f64,
    pub processor_seconds: f64,
    pub peak_memory_mb: f64,
    pub requests_per_job: f64,
    pub log_streams_per_job: f64,
    pub watches: usize,
}

impl Outcome {
    /// Whether every target holds.
    pub fn passed(&self) -> bool {
        self.requests_per_job <= REQUESTS_PER_JOB_TARGET
            && self.watches == 1
            && self.peak_memory_mb < PEAK_MEMORY_TARGET_MB
    }

    /// The table.
    pub fn table(&self) -> String {
        let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
        let mut text = String::new();
        let _ = writeln!(
            text,
            "eider run -p big -c {CONCURRENCY} --backend kubernetes, {JOBS} no-op jobs, against \
             the API double"
        );
        let _ = writeln!(text, "| measure | value | target |");
        let _ = writeln!(text, "|---|---|---|");
        let _ = writeln!(
            text,
            "| requests per job (beyond log streams) | {:.2} | <= {REQUESTS_PER_JOB_TARGET} {} |",
            self.requests_per_job,
            verdict(self.requests_per_job <= REQUESTS_PER_JOB_TARGET)
        );
        let _ = writeln!(
            text,
            "| log streams per job | {:.2} | |",
            self.log_streams_per_job
        );
        let _ = writeln!(
            text,
            "| watches per run | {} | 1 {} |",
            self.watches,
            verdict(self.watches == 1)
        );
        let _ = writeln!(
            text,
            "| eider peak RSS | {:.1} MB | < {PEAK_MEMORY_TARGET_MB} MB {} |",
            self.peak_memory_mb,
            verdict(self.peak_memory_mb < PEAK_MEMORY_TARGET_MB)
        );
        let _ = writeln!(
            text,
            "| eider processor time (user + system) | {:.2} s ({:.1} ms per job) | |",
            self.processor_seconds,
            self.processor_seconds * 1000.0 / count(JOBS)
        );
        let _ = writeln!(text, "| wall time | {:.2} s | |", self.wall_seconds);
        text
    }
}

/// The pipeline's Drakefile.
pub fn drakefile() -> String {
    let mut text =
        String::from("specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n");
    for index in 0..JOBS {
        let _ = write!(
            text,
            "  j{index}:\n    primaryContainer:\n      name: main\n      image: \
             registry.example/tools:1\n      command: [\"true\"]\n"
        );
    }
    text.push_str("pipelines:\n  big:\n    jobs:\n");
    for index in 0..JOBS {
        let _ = writeln!(text, "    - name: j{index}");
        if index >= CONCURRENCY {
            let _ = writeln!(text, "      dependencies: [j{}]", index - CONCURRENCY);
        }
    }
    text
}

/// Runs the pipeline once and measures it.
pub fn run(eider: &Path) -> Result<Outcome, KubernetesError> {
    let mut settings = Settings::default();
    settings.namespaces.push(NAMESPACE.to_owned());
    let double = KubeDouble::start_blocking(settings).map_err(KubernetesError::Double)?;
    let directory =
        std::env::temp_dir().join(format!("eider-bench-kubernetes-{}", std::process::id()));
    let write = |path: PathBuf, content: &str| {
        fs_err::create_dir_all(&directory)
            .and_then(|()| fs_err::write(&path, content))
            .map_err(|source| KubernetesError::Write {
                path: path.clone(),
                source,
            })
    };
    let drakefile = directory.join("Drakefile.yaml");
    let kubeconfig = directory.join("kubeconfig");
    let measurements = directory.join("time");
    write(drakefile.clone(), &self::drakefile())?;
    write(kubeconfig.clone(), &double.kubeconfig(NAMESPACE))?;
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%U %S %M")
        .arg("-o")
        .arg(&measurements)
        .arg(eider)
        .arg("-f")
        .arg(&drakefile)
        .args(["run", "-p", "big", "-c", &CONCURRENCY.to_string()])
        .env("KUBECONFIG", &kubeconfig)
        .env("EIDER_BACKEND", "kubernetes")
        .env("NO_COLOR", "1")
        .output()
        .map_err(|error| KubernetesError::Spawn("/usr/bin/time".to_owned(), error))?;
    let wall_seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(KubernetesError::Eider {
            code: output.status.code(),
            stderr: String::from_utf8_lossy(&output.stderr)
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n"),
        });
    }
    let measured = fs_err::read_to_string(&measurements)
        .map_err(|error| KubernetesError::Measurements(error.to_string()))?;
    let _ = fs_err::remove_dir_all(&directory);
    let numbers: Vec<f64> = measured
        .split_whitespace()
        .filter_map(|field| field.parse().ok())
        .collect();
    let [user, system, peak_kilobytes] = numbers[..] else {
        return Err(KubernetesError::Measurements(measured));
    };
    let requests = double.requests();
    let log_streams = requests.iter().filter(|request| request.follow_log).count();
    let watches = requests.iter().filter(|request| request.watch).count();
    let others = requests.len() - log_streams - watches;
    Ok(Outcome {
        wall_seconds,
        processor_seconds: user + system,
        peak_memory_mb: peak_kilobytes * 1024.0 / 1_000_000.0,
        requests_per_job: count(others) / count(JOBS),
        log_streams_per_job: count(log_streams) / count(JOBS),
        watches,
    })
}

/// A count as a float (counts here are far below `u32::MAX`).
fn count(value: usize) -> f64 {
    f64::from(u32::try_from(value).unwrap_or(u32::MAX))
}
