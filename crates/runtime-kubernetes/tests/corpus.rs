//! Every valid Drakefile of the corpus (the seed draft and every DrakeSpec version) through the
//! Kubernetes objects: each job becomes a Pod that the oldest and the newest supported
//! Kubernetes accept, or is refused for a reason a cluster has (its source).

mod support {
    pub mod kubernetes_validate;
}

use std::path::{Path, PathBuf};
use std::time::Duration;

use camino::Utf8PathBuf;
use drakefile::Permissions;
use eider_engine::RunSettings;
use eider_engine::plan::{self, PlanContext, SourceNeed};
use eider_runtime::{SourceView, Storage};
use eider_runtime_kubernetes::{PodSettings, Unsupported, pod};

/// The corpus of the Drakefile crate.
fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../drakefile/tests/corpus")
}

fn settings() -> RunSettings {
    RunSettings {
        timeout: Duration::from_secs(600),
        permissions: Permissions {
            privileged: true,
            docker_socket: true,
        },
        // One variable from the secrets file, so that every Pod refers to the Secret.
        environment: vec![("TOKEN".to_owned(), "s3cr3t".to_owned())],
        secrets: vec![("TOKEN".to_owned(), "s3cr3t".to_owned())],
        ..RunSettings::for_source(Utf8PathBuf::from("/nonexistent"))
    }
}

#[test]
fn every_job_of_every_version_becomes_a_valid_pod_or_is_refused_for_its_source() {
    let settings = settings();
    let shared = Storage {
        name: "eider-corpus-shared".to_owned(),
        image: String::new(),
    };
    let copy = Storage {
        name: "eider-corpus-source".to_owned(),
        image: String::new(),
    };
    let pod_settings = PodSettings {
        namespace: "corpus",
        secret: "eider-corpus-secrets",
        claim: "eider-corpus-shared",
        timeout: settings.timeout,
        grace_period: settings.grace_period,
        source_image: Some(
            "registry.example/eider/source@sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        ),
        image_pull_secrets: &[],
    };
    let output = tempfile::tempdir().expect("a temporary directory");
    let mut files = Vec::new();
    let mut versions_with_pods = std::collections::BTreeSet::new();
    let mut versions = std::fs::read_dir(corpus())
        .expect("the corpus")
        .map(|entry| entry.expect("an entry").path())
        .collect::<Vec<_>>();
    versions.sort();
    for version in &versions {
        let Ok(entries) = std::fs::read_dir(version.join("valid")) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .map(|entry| entry.expect("an entry").path())
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("a corpus file");
            let drakefile = drakefile::parse("Drakefile.yaml", &text)
                .unwrap_or_else(|report| panic!("{} is valid: {report:?}", path.display()))
                .drakefile;
            for (execution, job) in drakefile.jobs.iter().enumerate() {
                let source = plan::source_need(job, drakefile.spec_version, &settings).map(
                    |need| match need {
                        SourceNeed::Live(view) => view,
                        SourceNeed::JobCopy => SourceView::PrivateCopy(copy.clone()),
                        SourceNeed::RunCopy => SourceView::RunCopy(copy.clone()),
                    },
                );
                let spec = plan::job_spec(
                    job,
                    PlanContext {
                        run_id: "corpus",
                        execution,
                        spec_version: drakefile.spec_version,
                        options: &settings,
                        source: source.as_ref(),
                        shared_storage: Some(&shared),
                        parallel_jobs: 1,
                    },
                );
                match pod(&spec, &pod_settings) {
                    Ok(pod) => {
                        let file = output.path().join(format!("pod-{}.json", files.len()));
                        std::fs::write(&file, serde_json::to_string(&pod).expect("JSON"))
                            .expect("written");
                        files.push(file);
                        versions_with_pods.insert(version.clone());
                    }
                    Err(Unsupported::LiveWritableSource { .. }) if source.is_some() => {}
                    Err(error) => panic!("{}: job `{}`: {error}", path.display(), job.name),
                }
            }
        }
    }
    // Every version's corpus gives Pods: the test cannot pass by refusing everything.
    let directories_with_valid_files = versions
        .iter()
        .filter(|version| version.join("valid").is_dir())
        .count();
    assert_eq!(versions_with_pods.len(), directories_with_valid_files);
    let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    support::kubernetes_validate::assert_valid(&files);
}
