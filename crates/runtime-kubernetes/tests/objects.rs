//! The objects a run creates on a cluster: golden files of what is generated, and every object
//! validated against the official `OpenAPI` schemas of the oldest and the newest Kubernetes this
//! backend supports (the `kubernetes-validate` tool that `scripts/test-env.sh` installs).

mod support {
    pub mod kubernetes_validate;
}

use std::collections::BTreeMap;
use std::time::Duration;

use camino::Utf8PathBuf;
use drakefile::Permissions;
use eider_engine::RunSettings;
use eider_engine::plan::{self, PlanContext};
use eider_runtime::{JobSpec, Mount, MountContent, SourceView, Storage, labels};
use eider_runtime_kubernetes::{
    PodSettings, SharedStorageClaim, Unsupported, pod, run_owner, run_secret, shared_storage_claim,
};

const SECRET_VALUE: &str = "hunter2-never-inline";

/// A job with every field a Pod maps: sidecars, command and args, environment with a secret,
/// working directory, a terminal, privileges, the engine socket, resources, a platform, the
/// shared storage and a pull policy.
const DRAKEFILE: &str = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  Build_All:
    osFamily: linux
    cpuArch: arm64
    sidecarContainers:
    - name: db
      image: postgres:16
      environment:
      - POSTGRES_PASSWORD=test
    - name: cache_1
      image: redis:7
      imagePullPolicy: Always
    primaryContainer:
      name: main
      image: registry.example/builder@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
      command: [make]
      args: [all, -j2]
      workingDirectory: /work
      tty: true
      privileged: true
      mountDockerSocket: true
      sharedStorageMountPath: /shared
      environment:
      - MODE=release
      resources:
        cpu:
          requestedMillicores: 500
          maxMillicores: 2000
        memory:
          requestedMegabytes: 512
          maxMegabytes: 256
";

fn settings() -> RunSettings {
    RunSettings {
        permissions: Permissions {
            privileged: true,
            docker_socket: true,
        },
        environment: vec![
            ("API_TOKEN".to_owned(), SECRET_VALUE.to_owned()),
            ("LEVEL".to_owned(), "debug".to_owned()),
        ],
        secrets: vec![("API_TOKEN".to_owned(), SECRET_VALUE.to_owned())],
        ..RunSettings::for_source(Utf8PathBuf::from("/nonexistent"))
    }
}

fn job_spec(text: &str) -> JobSpec {
    let drakefile = drakefile::parse("Drakefile.yaml", text)
        .expect("a valid Drakefile")
        .drakefile;
    let job = drakefile.jobs.first().expect("one job");
    let settings = settings();
    let shared = Storage {
        name: "eider-0a1b2c3d4e-shared".to_owned(),
        image: String::new(),
    };
    let mut spec = plan::job_spec(
        job,
        PlanContext {
            run_id: "0a1b2c3d4e",
            execution: 0,
            spec_version: drakefile.spec_version,
            options: &settings,
            source: None,
            shared_storage: Some(&shared),
            parallel_jobs: 1,
        },
    );
    // The process that made them differs from run to run: a fixed one, for the golden files.
    for container in &mut spec.containers {
        for (key, value) in &mut container.labels {
            if key == labels::PID {
                "4242".clone_into(value);
            } else if key == labels::PID_NAMESPACE {
                "9f0e1d2c-boot:4026531836".clone_into(value);
            }
        }
    }
    spec
}

fn pod_settings() -> PodSettings<'static> {
    PodSettings {
        namespace: "ci",
        secret: "eider-0a1b2c3d4e-secrets",
        claim: "eider-0a1b2c3d4e-shared",
        timeout: Duration::from_secs(3600),
        grace_period: Duration::from_secs(10),
        source_image: None,
        image_pull_secrets: &[],
    }
}

/// The source image of the tests, pinned by digest.
const SOURCE_IMAGE: &str = "registry.example/team/source@sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The job with the source mounted by the primary and the first sidecar, seen as `view`.
fn job_with_source(view: &SourceView) -> JobSpec {
    let mut spec = job_spec(DRAKEFILE);
    let count = spec.containers.len();
    for (index, container) in spec.containers.iter_mut().enumerate() {
        if index == 0 || index + 1 == count {
            container.mounts.push(Mount {
                target: "/src".to_owned(),
                content: MountContent::Source(view.clone()),
            });
        }
    }
    spec
}

fn run_labels() -> BTreeMap<String, String> {
    BTreeMap::from([("eider.run-id".to_owned(), "0a1b2c3d4e".to_owned())])
}

/// Compares `object` with the golden file `name`; `EIDER_UPDATE_GOLDEN=1` writes it instead.
fn assert_golden(name: &str, object: &impl serde::Serialize) -> String {
    let text = serde_json::to_string_pretty(object).expect("JSON") + "\n";
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("EIDER_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).expect("the golden file is written");
    }
    let golden = std::fs::read_to_string(&path).expect("the golden file exists");
    assert_eq!(text, golden, "{name} differs from its golden file");
    text
}

/// Validates each JSON text against the schemas of every supported version.
fn assert_valid(objects: &[(&str, String)]) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut files = Vec::new();
    for (name, text) in objects {
        let path = directory.path().join(name);
        std::fs::write(&path, text).expect("written");
        files.push(path);
    }
    let files: Vec<&std::path::Path> = files.iter().map(std::path::PathBuf::as_path).collect();
    support::kubernetes_validate::assert_valid(&files);
}

#[test]
fn a_job_becomes_one_pod_with_native_sidecars_and_the_run_an_owner_a_secret_and_a_claim() {
    let pod = pod(&job_spec(DRAKEFILE), &pod_settings()).expect("a Pod");
    let spec = pod.spec.as_ref().expect("a Pod spec");
    let sidecars: Vec<(&str, Option<&str>)> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|container| (container.name.as_str(), container.restart_policy.as_deref()))
        .collect();
    assert_eq!(
        sidecars,
        [("db", Some("Always")), ("cache-1", Some("Always"))]
    );
    assert_eq!(spec.containers.len(), 1);
    assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
    let pod_text = assert_golden("pod.json", &pod);
    assert!(
        !pod_text.contains(SECRET_VALUE),
        "a secret value is inline in the Pod"
    );
    let secret = run_secret(
        "eider-0a1b2c3d4e-secrets",
        "ci",
        run_labels(),
        &[("API_TOKEN".to_owned(), "<redacted>".to_owned())],
    );
    let claim = shared_storage_claim(
        "eider-0a1b2c3d4e-shared",
        "ci",
        run_labels(),
        &SharedStorageClaim {
            storage_class: Some("standard".to_owned()),
            size: "1Gi".to_owned(),
            many_nodes: true,
        },
    );
    // The process that made the owner differs from run to run: a fixed one, for the golden file.
    let owner = run_owner(
        "0a1b2c3d4e",
        "ci",
        &vec![
            (labels::RUN_ID.to_owned(), "0a1b2c3d4e".to_owned()),
            (labels::PID.to_owned(), "4242".to_owned()),
        ],
    );
    let objects = [
        ("owner.json", assert_golden("owner.json", &owner)),
        ("pod.json", pod_text),
        ("secret.json", assert_golden("secret.json", &secret)),
        ("claim.json", assert_golden("claim.json", &claim)),
    ];
    assert_valid(&objects);
}

#[test]
fn a_job_s_own_view_of_the_source_is_copied_out_of_the_source_image_before_its_containers_start() {
    let settings = PodSettings {
        source_image: Some(SOURCE_IMAGE),
        image_pull_secrets: &["pull-me".to_owned()],
        ..pod_settings()
    };
    let mut objects = Vec::new();
    for (view, read_only, golden) in [
        (
            SourceView::LiveReadOnly(Utf8PathBuf::from("/home/me/project")),
            Some(true),
            "pod-source-read-only.json",
        ),
        (
            SourceView::PrivateCopy(Storage {
                name: "eider-0a1b2c3d4e-0-build-all-source".to_owned(),
                image: String::new(),
            }),
            None,
            "pod-source-copy.json",
        ),
    ] {
        let pod = pod(&job_with_source(&view), &settings).expect("a Pod");
        let spec = pod.spec.as_ref().expect("a Pod spec");
        let init: Vec<&str> = spec
            .init_containers
            .iter()
            .flatten()
            .map(|container| container.name.as_str())
            .collect();
        // The copy comes first: a sidecar that mounts the source finds it there.
        assert_eq!(init, ["eider-source", "db", "cache-1"]);
        let copy = &spec.init_containers.as_ref().expect("init containers")[0];
        assert_eq!(copy.image.as_deref(), Some(SOURCE_IMAGE));
        assert_eq!(copy.restart_policy, None, "the copy runs to its end first");
        let volume = spec
            .volumes
            .iter()
            .flatten()
            .find(|volume| volume.name == "source")
            .expect("the source volume");
        assert!(volume.empty_dir.is_some(), "the Pod's own copy");
        for container in [
            &spec.init_containers.as_ref().expect("init")[1],
            &spec.containers[0],
        ] {
            let mount = container
                .volume_mounts
                .iter()
                .flatten()
                .find(|mount| mount.mount_path == "/src")
                .expect("the source is mounted");
            assert_eq!(mount.name, "source");
            assert_eq!(mount.read_only, read_only);
        }
        let names: Vec<&str> = spec
            .image_pull_secrets
            .iter()
            .flatten()
            .map(|secret| secret.name.as_str())
            .collect();
        assert_eq!(names, ["pull-me"]);
        objects.push((golden, assert_golden(golden, &pod)));
    }
    assert_valid(&objects);
}

#[test]
fn the_run_s_copy_of_the_source_is_its_claim_mounted_writable() {
    let settings = PodSettings {
        source_image: Some(SOURCE_IMAGE),
        ..pod_settings()
    };
    let view = SourceView::RunCopy(Storage {
        name: "eider-0a1b2c3d4e-source".to_owned(),
        image: String::new(),
    });
    let pod = pod(&job_with_source(&view), &settings).expect("a Pod");
    let spec = pod.spec.as_ref().expect("a Pod spec");
    // Filled once for the run, before the first job that mounts it: no copy in the Pod.
    assert!(
        spec.init_containers
            .iter()
            .flatten()
            .all(|container| container.name != "eider-source")
    );
    let volume = spec
        .volumes
        .iter()
        .flatten()
        .find(|volume| volume.name == "source")
        .expect("the source volume");
    assert_eq!(
        volume
            .persistent_volume_claim
            .as_ref()
            .map(|claim| claim.claim_name.as_str()),
        Some("eider-0a1b2c3d4e-source")
    );
    let mount = spec.containers[0]
        .volume_mounts
        .iter()
        .flatten()
        .find(|mount| mount.mount_path == "/src")
        .expect("mounted");
    assert_eq!(mount.read_only, None);
}

#[test]
fn a_job_that_mounts_the_source_needs_a_registry_to_bring_it_to_the_cluster() {
    let view = SourceView::LiveReadOnly(Utf8PathBuf::from("/home/me/project"));
    let error = pod(&job_with_source(&view), &pod_settings()).expect_err("refused");
    assert_eq!(
        error,
        Unsupported::Source {
            job: "Build_All".to_owned(),
            container: "db".to_owned(),
        }
    );
    assert!(error.to_string().contains("--registry"), "{error}");
}

#[test]
fn a_container_named_as_the_copy_is_renamed_in_the_pod() {
    let text = DRAKEFILE.replace("- name: cache_1", "- name: eider-source");
    let pod = pod(&job_spec(&text), &pod_settings()).expect("a Pod");
    let names: Vec<String> = pod
        .spec
        .expect("a Pod spec")
        .init_containers
        .into_iter()
        .flatten()
        .map(|container| container.name)
        .collect();
    assert_eq!(names, ["db", "eider-source-2"]);
}

#[test]
fn the_live_source_tree_cannot_be_mounted_writable_on_a_cluster() {
    let mut spec = job_spec(DRAKEFILE);
    let primary = spec.containers.last_mut().expect("the primary");
    primary.mounts = vec![Mount {
        target: "/src".to_owned(),
        content: MountContent::Source(SourceView::LiveWritable(Utf8PathBuf::from(
            "/home/me/project",
        ))),
    }];
    let error = pod(&spec, &pod_settings()).expect_err("refused");
    assert_eq!(
        error,
        Unsupported::LiveWritableSource {
            job: "Build_All".to_owned(),
            container: "main".to_owned(),
        }
    );
    assert!(error.to_string().contains("use sourceMountMode RO or COPY"));
}

#[test]
fn a_secret_whose_name_no_secret_key_can_hold_is_refused_by_name() {
    let mut spec = job_spec(DRAKEFILE);
    for container in &mut spec.containers {
        for variable in &mut container.environment {
            if variable.secret {
                "API TOKEN".clone_into(&mut variable.name);
            }
        }
    }
    let error = pod(&spec, &pod_settings()).expect_err("refused");
    assert!(matches!(
        &error,
        Unsupported::SecretName { name, .. } if name == "API TOKEN"
    ));
    assert!(!error.to_string().contains(SECRET_VALUE));
}

#[test]
fn containers_whose_names_meet_as_dns_labels_stay_apart() {
    let text = DRAKEFILE.replace("- name: cache_1", "- name: db_");
    let pod = pod(&job_spec(&text), &pod_settings()).expect("a Pod");
    let names: Vec<String> = pod
        .spec
        .expect("a Pod spec")
        .init_containers
        .into_iter()
        .flatten()
        .map(|container| container.name)
        .collect();
    assert_eq!(names, ["db", "db-2"]);
}

#[test]
fn dollar_signs_reach_the_container_as_written_not_expanded_by_the_kubelet() {
    let text = DRAKEFILE
        .replace("command: [make]", "command: [sh, -c]")
        .replace(
            "args: [all, -j2]",
            "args: ['echo $(MODE) $$ $HOME', 'price: 5$']",
        )
        .replace("- MODE=release", "- MODE=$(LEVEL)-$$");
    let pod = pod(&job_spec(&text), &pod_settings()).expect("a Pod");
    let primary = &pod.spec.as_ref().expect("a Pod spec").containers[0];
    // The kubelet turns `$$` into `$` and expands `$(NAME)`: doubled, each `$` stays one.
    assert_eq!(
        primary.args.as_deref(),
        Some(
            [
                "echo $$(MODE) $$$$ $$HOME".to_owned(),
                "price: 5$$".to_owned()
            ]
            .as_slice()
        )
    );
    let mode = primary
        .env
        .iter()
        .flatten()
        .find(|variable| variable.name == "MODE")
        .and_then(|variable| variable.value.as_deref());
    assert_eq!(mode, Some("$$(LEVEL)-$$$$"));
}
