//! `eider manifests`: the Kubernetes objects of a run, printed without a cluster, valid for the
//! oldest and the newest Kubernetes the backend supports, and never holding a secret's value.

mod support;

#[path = "../../runtime-kubernetes/tests/support/kubernetes_validate.rs"]
mod kubernetes_validate;

use support::{Project, Run};

const SECRET_VALUE: &str = "s3cr3t-value-never-printed";

const DRAKEFILE: &str = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  test:
    sidecarContainers:
    - name: db
      image: postgres:16
    primaryContainer:
      name: main
      image: golang:1.22
      command: [go, test, ./...]
      environment:
      - MODE=ci
      sharedStorageMountPath: /out
  lint:
    primaryContainer:
      name: lint
      image: golangci/golangci-lint:v1
pipelines:
  ci:
    jobs:
    - name: lint
    - name: test
      dependencies: [lint]
";

fn manifests(project: &Project, arguments: &[&str]) -> Run {
    Run::from(
        project
            .eider()
            .arg("manifests")
            .args(arguments)
            .output()
            .expect("run eider"),
    )
}

#[test]
fn a_pipeline_s_objects_are_valid_kubernetes_and_hold_no_secret_value() {
    let project = Project::new(DRAKEFILE);
    project.write("Drakesecrets.yaml", &format!("TOKEN: {SECRET_VALUE}\n"));
    let run = manifests(&project, &["-p", "ci", "--namespace", "builds"]);
    run.assert_code(0);
    assert!(!run.stdout.contains(SECRET_VALUE), "{}", run.stdout);
    assert!(!run.stderr.contains(SECRET_VALUE), "{}", run.stderr);
    let kinds: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|line| line.strip_prefix("kind: "))
        .collect();
    assert_eq!(kinds, ["Secret", "PersistentVolumeClaim", "Pod", "Pod"]);
    assert!(run.stdout.contains("  TOKEN: <redacted>\n"));
    // The one sidecar is a native sidecar container.
    assert_eq!(run.stdout.matches("restartPolicy: Always").count(), 1);
    let path = project.write("objects.yaml", &run.stdout);
    kubernetes_validate::assert_valid(&[&path]);
}

#[test]
fn a_job_a_cluster_cannot_run_is_refused_with_exit_2_and_nothing_printed() {
    let project = Project::new(
        "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  edit:
    sourceMountMode: RW
    primaryContainer:
      name: main
      image: busybox:latest
      sourceMountPath: /src
",
    );
    let run = manifests(&project, &["edit"]);
    run.assert_code(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("job `edit`: container `main` mounts the source tree writable"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_container_that_asks_for_what_is_not_allowed_is_named_at_once() {
    let project = Project::new(
        "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  one:
    primaryContainer: {name: main, image: busybox:latest, privileged: true}
  two:
    primaryContainer: {name: main, image: busybox:latest, mountDockerSocket: true}
",
    );
    let run = manifests(&project, &["one", "two"]);
    run.assert_code(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("job `one`: container `main` asks to run privileged")
    );
    assert!(
        run.stderr
            .contains("job `two`: container `main` asks for the Docker socket")
    );
    manifests(
        &project,
        &["one", "two", "--allow-privileged", "--allow-docker-socket"],
    )
    .assert_code(0);
}

/// The generated Pod runs for real (podman's `kube play`): command and args, the environment in
/// the DrakeSpec's order and precedence, the working directory and the exit code.
#[test]
fn the_pod_of_a_job_runs_under_podman_as_the_job_runs_on_docker() {
    let project = Project::new(&format!(
        "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  talk:
    primaryContainer:
      name: main
      image: {image}
      workingDirectory: /tmp
      command: [sh, -c]
      args: ['echo \"args=$0 dir=$(pwd) env=$(env | grep ^EIDER_ | tr \"\\n\" \" \")\"; exit 7', first]
      environment:
      - EIDER_FROM_FILE=drakefile
      - EIDER_BOTH=drakefile-wins
",
        image = support::podman::IMAGE
    ));
    let run = manifests(
        &project,
        &[
            "talk",
            "-e",
            "EIDER_BOTH=flag",
            "-e",
            "EIDER_FROM_FLAG=flag",
        ],
    );
    run.assert_code(0);
    let path = project.write("pod.yaml", &run.stdout);
    let pod = support::podman::PlayedPod::play(&path, "eider-manifest-0-talk");
    let (code, output) = pod.wait("main");
    assert_eq!(code, 7, "{output}");
    assert_eq!(
        output.trim_end(),
        // Variables only `-e` sets come first, then the Drakefile's in its order, its values
        // winning.
        "args=first dir=/tmp env=EIDER_FROM_FLAG=flag EIDER_FROM_FILE=drakefile \
         EIDER_BOTH=drakefile-wins"
    );
}
