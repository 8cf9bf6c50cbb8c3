//! `eider run --backend kubernetes` and `eider clean --backend kubernetes`, the client side,
//! against a local double of the Kubernetes API server that follows the real API's semantics
//! (no cluster can run on these machines). The double runs each container as a process of this
//! machine: these tests check what eider asks of a cluster and how it follows the answers
//! (create, one watch per run, log streams, deletions, expired watches, broken streams), not
//! what a container runtime does (the podman test of `manifests` runs generated Pods for real).

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use eider_kube_double::{FailureRule, Kind, KubeDouble, RecordedRequest, ServerVersion, Settings};
use support::{Project, Run};

const NAMESPACE: &str = "builds";

/// An image name for the Drakefiles: the double pulls nothing.
const IMAGE: &str = "registry.example/tools:1";

/// How long any wait of these tests may last before it fails them.
const PATIENCE: Duration = Duration::from_secs(60);

/// A double with the test namespace.
fn double() -> KubeDouble {
    double_with(Settings::default())
}

fn double_with(mut settings: Settings) -> KubeDouble {
    settings.namespaces.push(NAMESPACE.to_owned());
    KubeDouble::start_blocking(settings).expect("start the Kubernetes double")
}

/// A project whose kubeconfig points at `double`.
struct Cluster {
    project: Project,
    kubeconfig: PathBuf,
}

impl Cluster {
    fn new(double: &KubeDouble, drakefile: &str) -> Self {
        let project = Project::new(drakefile);
        let kubeconfig = project.state_path().join("kubeconfig");
        std::fs::write(&kubeconfig, double.kubeconfig(NAMESPACE)).expect("write kubeconfig");
        Self {
            project,
            kubeconfig,
        }
    }

    /// Writes eider's config file (the user's, outside the project).
    fn write_config(&self, text: &str) {
        let directory = self.project.config_home().join("eider");
        std::fs::create_dir_all(&directory).expect("create the config directory");
        std::fs::write(directory.join("config.toml"), text).expect("write the config file");
    }

    fn eider(&self, arguments: &[&str]) -> std::process::Command {
        let mut command = self.project.eider();
        command
            .env("KUBECONFIG", &self.kubeconfig)
            .env("EIDER_BACKEND", "kubernetes")
            .args(arguments);
        command
    }

    fn run(&self, arguments: &[&str]) -> Run {
        let mut all = vec!["run"];
        all.extend_from_slice(arguments);
        Run::from(self.eider(&all).output().expect("run eider"))
    }

    fn spawn(&self, arguments: &[&str]) -> std::process::Child {
        let mut all = vec!["run"];
        all.extend_from_slice(arguments);
        self.eider(&all)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start eider")
    }
}

/// A job whose containers run shell scripts: sidecars `(name, script)`, then `main`.
fn job(name: &str, sidecars: &[(&str, &str)], primary: &str) -> String {
    support::shell_job(name, IMAGE, sidecars, primary)
}

/// Waits until `condition` holds, failing the test after [`PATIENCE`].
#[track_caller]
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within {PATIENCE:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Everything of every kind left in the test namespace.
fn objects(double: &KubeDouble) -> Vec<String> {
    [
        Kind::Pod,
        Kind::Secret,
        Kind::PersistentVolumeClaim,
        Kind::ConfigMap,
    ]
    .into_iter()
    .flat_map(|kind| {
        double
            .names(kind, NAMESPACE)
            .into_iter()
            .map(move |name| format!("{kind:?}/{name}"))
    })
    .collect()
}

/// Waits until the run's objects are all gone, and their containers' processes too: a Pod
/// deleted without a grace period leaves the API at once, as on a cluster, while its containers
/// are still being killed.
#[track_caller]
fn assert_nothing_left(double: &KubeDouble) {
    wait_until("every object of the run removed", || {
        objects(double).is_empty()
    });
    wait_until("every container process ended", || {
        double.running_processes() == 0
    });
}

fn watches(requests: &[RecordedRequest]) -> usize {
    requests.iter().filter(|request| request.watch).count()
}

#[test]
fn a_job_with_a_sidecar_is_one_pod_and_every_line_of_every_container_is_attributed() {
    let double = double();
    let cluster = Cluster::new(
        &double,
        &support::drakefile(&job(
            "test",
            &[("server", "echo server-up; exec sleep 60")],
            "echo out; echo err >&2; printf last",
        )),
    );
    let run = cluster.run(&["test"]);
    run.assert_code(0);
    let mut lines = run.lines_of("test", "main");
    lines.sort();
    assert_eq!(lines, ["err", "last", "out"], "{}", run.stdout);
    assert_eq!(run.lines_of("test", "server"), ["server-up"]);
    assert_nothing_left(&double);
    let requests = double.requests();
    assert_eq!(watches(&requests), 1, "{requests:#?}");
    let created: Vec<&RecordedRequest> = requests
        .iter()
        .filter(|request| request.method == "POST")
        .collect();
    assert_eq!(
        created
            .iter()
            .filter(|request| request.path.ends_with("/pods"))
            .count(),
        1,
        "{created:#?}"
    );
}

#[test]
fn the_primary_s_exit_code_decides_and_the_sidecars_are_ended() {
    let double = double();
    let cluster = Cluster::new(
        &double,
        &support::drakefile(&job(
            "test",
            &[("server", "exec sleep 60")],
            "echo failing; exit 3",
        )),
    );
    let run = cluster.run(&["test"]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("container `main` exited with code 3"),
        "{}",
        run.stderr
    );
    assert_eq!(run.lines_of("test", "main"), ["failing"]);
    assert_nothing_left(&double);
}

#[test]
fn secrets_reach_the_containers_from_the_run_s_secret_and_are_masked() {
    let double = double();
    let secret = "kube-s3cr3t-value";
    let cluster = Cluster::new(
        &double,
        &support::drakefile(&job(
            "test",
            &[],
            "test \"$TOKEN\" = kube-s3cr3t-value && echo \"token=$TOKEN\"",
        )),
    );
    cluster
        .project
        .write("Drakesecrets.yaml", &format!("TOKEN: {secret}\n"));
    let run = cluster.run(&["test"]);
    run.assert_code(0);
    assert_eq!(run.lines_of("test", "main"), ["token=***"]);
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    let secrets_created = double
        .requests()
        .iter()
        .filter(|request| request.method == "POST" && request.path.ends_with("/secrets"))
        .count();
    assert_eq!(secrets_created, 1);
    assert_nothing_left(&double);
}

#[test]
fn a_secret_one_job_overrides_still_reaches_the_next_job_through_the_run_s_secret() {
    let double = double();
    let jobs = format!(
        "  first:\n    primaryContainer:\n      name: main\n      image: {IMAGE}\n      \
         environment:\n      - TOKEN=plain\n      command: {}\n{}",
        support::sh("test \"$TOKEN\" = plain && test \"$OTHER\" = other-s3cr3t"),
        job(
            "second",
            &[],
            "test \"$TOKEN\" = token-s3cr3t && test \"$OTHER\" = other-s3cr3t && echo both"
        )
    );
    let cluster = Cluster::new(&double, &support::drakefile(&jobs));
    cluster.project.write(
        "Drakesecrets.yaml",
        "TOKEN: token-s3cr3t\nOTHER: other-s3cr3t\n",
    );
    let run = cluster.run(&["first", "second"]);
    run.assert_code(0);
    assert_eq!(run.lines_of("second", "main"), ["both"]);
    let requests = double.requests();
    let on_secrets = |method: &str| {
        requests
            .iter()
            .filter(|request| request.method == method && request.path.contains("/secrets"))
            .count()
    };
    // Created with what the first job needs, replaced once with what the second adds.
    assert_eq!(
        (on_secrets("POST"), on_secrets("PUT")),
        (1, 1),
        "{requests:#?}"
    );
    assert_nothing_left(&double);
}

#[test]
fn an_image_the_cluster_cannot_pull_fails_the_job_with_the_cluster_s_reason() {
    let double = double();
    let cluster = Cluster::new(
        &double,
        &support::drakefile(
            "  build:\n    primaryContainer:\n      name: compile\n      image: \
             registry.example/does-not-exist:1\n      command: [\"true\"]\n",
        ),
    );
    let run = cluster.run(&["build"]);
    run.assert_code(1);
    for expected in [
        "job `build`",
        "container `compile`",
        "registry.example/does-not-exist:1",
        "ErrImagePull",
    ] {
        assert!(run.stderr.contains(expected), "{expected}:\n{}", run.stderr);
    }
    assert_nothing_left(&double);
}

#[test]
fn a_pod_that_does_not_fit_waits_within_the_pending_bound_then_fails_with_the_scheduler_s_message()
{
    let double = double();
    let cluster = Cluster::new(
        &double,
        &support::drakefile(&format!(
            "  big:\n    primaryContainer:\n      name: main\n      image: {IMAGE}\n      \
             command: [\"true\"]\n      resources:\n        cpu:\n          \
             requestedMillicores: 64000\n          maxMillicores: 64000\n"
        )),
    );
    cluster.write_config("[kubernetes]\npending-timeout = \"2s\"\n");
    let run = cluster.run(&["big"]);
    run.assert_code(1);
    for expected in ["job `big`", "stayed Pending for 2s", "Insufficient cpu"] {
        assert!(run.stderr.contains(expected), "{expected}:\n{}", run.stderr);
    }
    assert_nothing_left(&double);
}

#[test]
fn a_pod_that_no_node_matches_fails_at_once_with_the_scheduler_s_message() {
    let double = double();
    let cluster = Cluster::new(
        &double,
        &support::drakefile(&format!(
            "  arm:\n    cpuArch: arm64\n    primaryContainer:\n      name: main\n      \
             image: {IMAGE}\n      command: [\"true\"]\n"
        )),
    );
    // The default bound is ten minutes: the job ends long before it.
    let run = cluster.run(&["arm"]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("didn't match Pod's node affinity/selector"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("stayed Pending"), "{}", run.stderr);
    assert_nothing_left(&double);
}

#[test]
fn a_server_older_than_1_29_is_refused_naming_both_versions() {
    let double = double_with(Settings {
        version: ServerVersion {
            major: 1,
            minor: 28,
        },
        ..Settings::default()
    });
    let cluster = Cluster::new(&double, &support::drakefile(&job("test", &[], "true")));
    let run = cluster.run(&["test"]);
    run.assert_code(3);
    assert!(
        run.stderr.contains("Kubernetes v1.28") && run.stderr.contains("1.29 or later"),
        "{}",
        run.stderr
    );
    assert!(objects(&double).is_empty());
}

#[test]
fn what_a_cluster_cannot_do_is_refused_before_anything_is_created() {
    let double = double();
    let cluster = Cluster::new(
        &double,
        &support::drakefile(&format!(
            "  edit:\n    sourceMountMode: RW\n    primaryContainer:\n      name: main\n      \
             image: {IMAGE}\n      sourceMountPath: /src\n"
        )),
    );
    let run = cluster.run(&["edit"]);
    run.assert_code(2);
    assert!(run.stderr.contains("writable"), "{}", run.stderr);
    assert!(double.requests().is_empty(), "{:#?}", double.requests());
}

#[test]
fn an_expired_watch_and_broken_log_streams_lose_and_repeat_no_line() {
    let double = double();
    let cluster = Cluster::new(
        &double,
        &support::drakefile(&job(
            "count",
            &[],
            "i=1; while [ $i -le 30 ]; do echo line-$i; i=$((i+1)); sleep 0.1; done",
        )),
    );
    let child = cluster.spawn(&["count"]);
    wait_until("the job's Pod running", || double.running_processes() > 0);
    std::thread::sleep(Duration::from_millis(700));
    double.expire_watches();
    double.cut_log_streams();
    std::thread::sleep(Duration::from_millis(700));
    double.cut_log_streams();
    let run = support::wait_with_patience(child, PATIENCE);
    run.assert_code(0);
    let expected: Vec<String> = (1..=30).map(|index| format!("line-{index}")).collect();
    assert_eq!(run.lines_of("count", "main"), expected);
    assert_nothing_left(&double);
}

#[test]
fn an_interrupt_deletes_everything_the_run_created_and_exits_130() {
    let double = double();
    let cluster = Cluster::new(
        &double,
        &support::drakefile(&job(
            "wait",
            &[("server", "exec sleep 300")],
            "exec sleep 300",
        )),
    );
    let child = cluster.spawn(&["wait", "--grace-period", "2s"]);
    wait_until("both containers running", || {
        double.running_processes() == 2
    });
    let pid = i32::try_from(child.id()).expect("pid");
    send_signal(pid, "INT");
    let run = support::wait_with_patience(child, PATIENCE);
    run.assert_code(130);
    assert_nothing_left(&double);
}

#[test]
fn eider_clean_removes_what_a_killed_eider_left_on_the_cluster() {
    let double = double();
    let cluster = Cluster::new(
        &double,
        &support::drakefile(&job("wait", &[], "exec sleep 300")),
    );
    cluster
        .project
        .write("Drakesecrets.yaml", "TOKEN: left-behind-value\n");
    let child = cluster.spawn(&["wait"]);
    wait_until("the job running", || double.running_processes() == 1);
    let pid = i32::try_from(child.id()).expect("pid");
    send_signal(pid, "KILL");
    let _ = support::wait_with_patience(child, PATIENCE);
    assert!(!objects(&double).is_empty());
    let clean = Run::from(cluster.eider(&["clean"]).output().expect("run eider clean"));
    clean.assert_code(0);
    assert!(clean.stderr.contains("removed 1 Pod"), "{}", clean.stderr);
    assert_nothing_left(&double);
}

#[test]
fn a_pipeline_uses_one_watch_and_a_few_requests_per_job() {
    let double = double();
    let jobs = [
        job("a", &[], "echo a"),
        job("b", &[], "echo b"),
        job("c", &[("helper", "exec sleep 60")], "echo c"),
    ]
    .concat();
    let cluster = Cluster::new(
        &double,
        &format!(
            "{}pipelines:\n  ci:\n    jobs:\n    - name: a\n    - name: b\n      \
             dependencies: [a]\n    - name: c\n      dependencies: [a]\n",
            support::drakefile(&jobs)
        ),
    );
    let run = cluster.run(&["-p", "ci", "-c", "2"]);
    run.assert_code(0);
    assert_eq!(run.lines_of("c", "main"), ["c"]);
    assert_nothing_left(&double);
    let requests = double.requests();
    assert_eq!(watches(&requests), 1, "{requests:#?}");
    let per_job = requests
        .iter()
        .filter(|request| !request.watch && !request.follow_log)
        .count();
    assert!(per_job <= 3 * 8, "{per_job} requests: {requests:#?}");
}

#[test]
fn a_failed_request_to_create_a_pod_is_the_job_s_error_and_nothing_is_left() {
    let double = double();
    double.fail_next(FailureRule::new(
        "POST",
        &format!("/api/v1/namespaces/{NAMESPACE}/pods"),
        500,
    ));
    let cluster = Cluster::new(&double, &support::drakefile(&job("test", &[], "true")));
    let run = cluster.run(&["test"]);
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot create the job's Pod"),
        "{}",
        run.stderr
    );
    assert_nothing_left(&double);
}

/// Sends a signal to a process with the `kill` command (no unsafe code).
fn send_signal(pid: i32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// A job whose primary sees the source at /src in `mode` (v0.6.0 `sourceMountMode`).
fn source_job(name: &str, mode: &str) -> String {
    support::drakefile(&format!(
        "  {name}:\n    sourceMountMode: {mode}\n    primaryContainer:\n      name: main\n      \
         image: {IMAGE}\n      sourceMountPath: /src\n      command: [\"true\"]\n"
    ))
}

/// The flags that bring the source to the cluster through the test registry, on the test
/// image (busybox) as the base; `repository` under the registry.
fn source_flags(repository: &str) -> Vec<String> {
    vec![
        "--registry".to_owned(),
        format!("{}/{repository}", support::registry()),
        "--helper-image".to_owned(),
        support::registry_image(),
    ]
}

/// The init container of every Pod the run created that copies the source, as the double
/// recorded the Pods' creation.
fn source_copies(double: &KubeDouble) -> Vec<serde_json::Value> {
    double
        .created(Kind::Pod, NAMESPACE)
        .into_iter()
        .flat_map(|pod| {
            pod["spec"]["initContainers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|container| container["name"] == "eider-source")
        .collect()
}

#[test]
fn the_source_is_pushed_as_an_image_and_each_pod_copies_it_out_before_its_containers_start() {
    let double = double();
    let cluster = Cluster::new(&double, &source_job("read", "RO"));
    std::fs::write(cluster.project.path().join("notes.txt"), "from the tree\n").expect("write");
    let flags = source_flags("eider-test/kubernetes-source");
    let mut arguments: Vec<&str> = flags.iter().map(String::as_str).collect();
    arguments.push("read");
    let run = cluster.run(&arguments);
    // The double runs containers as processes of this machine, where the source image's tree
    // is not: the copy fails there as a copy that fails on a cluster does, before the job's
    // containers start.
    run.assert_code(1);
    for expected in [
        "cannot give the job its source",
        "copying the source out of its image failed",
    ] {
        assert!(run.stderr.contains(expected), "{expected}:\n{}", run.stderr);
    }
    let copies = source_copies(&double);
    assert_eq!(copies.len(), 1, "{copies:#?}");
    let image = copies[0]["image"].as_str().expect("an image");
    let registry = support::registry();
    assert!(
        image.starts_with(&format!("{registry}/eider-test/kubernetes-source@sha256:")),
        "{image}"
    );
    assert!(
        run.stderr.contains(image),
        "the source image is named:\n{}",
        run.stderr
    );
    // The registry serves it: the image is what the Pod names.
    let digest = image.rsplit('@').next().expect("a digest");
    let status = std::process::Command::new("curl")
        .args(["-sfo", "/dev/null", "-H"])
        .arg("Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json")
        .arg(format!(
            "http://{registry}/v2/eider-test/kubernetes-source/manifests/{digest}"
        ))
        .status()
        .expect("curl");
    assert!(status.success(), "the registry has {image}");
    assert_nothing_left(&double);
}

#[test]
fn a_source_image_the_cluster_cannot_pull_fails_the_job_at_once_naming_it() {
    let double = double();
    let cluster = Cluster::new(&double, &source_job("read", "COPY"));
    // The double cannot pull any image whose name holds `does-not-exist`.
    let flags = source_flags("eider-test/does-not-exist-source");
    let mut arguments: Vec<&str> = flags.iter().map(String::as_str).collect();
    arguments.push("read");
    let run = cluster.run(&arguments);
    run.assert_code(1);
    for expected in [
        "job `read`",
        "the cluster cannot pull the source image",
        "does-not-exist-source@sha256:",
        "ErrImagePull",
    ] {
        assert!(run.stderr.contains(expected), "{expected}:\n{}", run.stderr);
    }
    assert_nothing_left(&double);
}

#[test]
fn the_seed_draft_s_run_copy_is_a_claim_filled_by_a_pod_of_its_own_and_removed_after() {
    let double = double();
    let cluster = Cluster::new(
        &double,
        &format!(
            "uri: github.com/lovethedrake/drakespec\nversion: v0.0.0\njobs:\n  seed:\n    \
             containers:\n    - name: main\n      image: {IMAGE}\n      sourceMountPath: /src\n      \
             command: \"true\"\n"
        ),
    );
    let flags = source_flags("eider-test/kubernetes-seed-source");
    let mut arguments: Vec<&str> = flags.iter().map(String::as_str).collect();
    arguments.push("seed");
    let run = cluster.run(&arguments);
    // As above: the copy runs as a process of this machine, which lacks the image's tree.
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("copying the source out of its image failed"),
        "{}",
        run.stderr
    );
    let claims = double.created(Kind::PersistentVolumeClaim, NAMESPACE);
    let names: Vec<&str> = claims
        .iter()
        .filter_map(|claim| claim["metadata"]["name"].as_str())
        .collect();
    assert!(
        names.iter().any(|name| name.ends_with("-source")),
        "{names:?}"
    );
    let pods = double.created(Kind::Pod, NAMESPACE);
    let copier = pods
        .iter()
        .find(|pod| {
            pod["metadata"]["name"]
                .as_str()
                .is_some_and(|name| name.ends_with("-source-copy"))
        })
        .expect("the Pod that fills the claim");
    assert_eq!(
        copier["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        names
            .iter()
            .find(|name| name.ends_with("-source"))
            .copied()
            .unwrap_or_default()
    );
    // No job's Pod was created: its source could not be made.
    assert_eq!(pods.len(), 1, "{pods:#?}");
    assert_nothing_left(&double);
}

#[test]
fn a_job_that_mounts_the_source_without_a_registry_is_refused_before_anything_is_created() {
    let double = double();
    let cluster = Cluster::new(&double, &source_job("read", "RO"));
    let run = cluster.run(&["read"]);
    run.assert_code(2);
    for expected in ["job `read`", "--registry", "[kubernetes] registry"] {
        assert!(run.stderr.contains(expected), "{expected}:\n{}", run.stderr);
    }
    assert!(double.requests().is_empty(), "{:#?}", double.requests());
}

/// A job whose primary mounts the shared storage at `/shared` and runs `script`.
fn shared_storage_job(name: &str, script: &str) -> String {
    format!(
        "  {name}:\n    primaryContainer:\n      name: main\n      image: {IMAGE}\n      \
         sharedStorageMountPath: /shared\n      command: {}\n",
        support::sh(script)
    )
}

#[test]
fn keep_shared_copies_the_claim_out_through_exec_and_leaves_nothing_on_the_cluster() {
    use std::os::unix::fs::PermissionsExt as _;
    let double = double();
    let jobs = [
        shared_storage_job(
            "produce",
            "mkdir -p /shared/dir/nested && echo deep > /shared/dir/nested/deep.txt && \
             printf '#!/bin/sh\\necho tool\\n' > /shared/tool && chmod 755 /shared/tool && \
             ln -s dir/nested/deep.txt /shared/link",
        ),
        shared_storage_job("extend", "echo more > /shared/dir/more.txt"),
    ]
    .concat();
    let cluster = Cluster::new(
        &double,
        &format!(
            "{}pipelines:\n  ci:\n    jobs:\n    - name: produce\n    - name: extend\n      \
             dependencies: [produce]\n",
            support::drakefile(&jobs)
        ),
    );
    let kept = tempfile::tempdir().expect("a directory for the kept storage");
    let destination = kept.path().join("shared");
    let destination_text = destination.display().to_string();
    let run = cluster.run(&["-p", "ci", "--keep-shared", &destination_text]);
    run.assert_code(0);
    assert!(
        run.stderr
            .contains(&format!("shared storage copied to {destination_text}")),
        "{}",
        run.stderr
    );
    let read = |path: &str| std::fs::read_to_string(destination.join(path)).expect(path);
    assert_eq!(read("dir/nested/deep.txt"), "deep\n");
    assert_eq!(read("dir/more.txt"), "more\n");
    assert_eq!(read("tool"), "#!/bin/sh\necho tool\n");
    let mode = std::fs::metadata(destination.join("tool"))
        .expect("the tool")
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o755);
    assert_eq!(
        std::fs::read_link(destination.join("link")).expect("a symbolic link"),
        std::path::Path::new("dir/nested/deep.txt")
    );
    assert_nothing_left(&double);
    let requests = double.requests();
    let execs: Vec<&RecordedRequest> = requests
        .iter()
        .filter(|request| request.path.ends_with("/exec"))
        .collect();
    assert_eq!(execs.len(), 1, "{requests:#?}");
    assert!(execs[0].path.contains("-export/exec"), "{:?}", execs[0]);
    assert!(execs[0].query.contains("command=tar"), "{:?}", execs[0]);
}

#[test]
fn an_export_pod_that_cannot_pull_its_image_fails_the_copy_clearly_and_leaves_nothing() {
    let double = double();
    let cluster = Cluster::new(
        &double,
        &support::drakefile(&shared_storage_job("produce", "echo data > /shared/file")),
    );
    cluster.write_config("[kubernetes]\nhelper-image = \"registry.example/does-not-exist:1\"\n");
    let kept = tempfile::tempdir().expect("a directory for the kept storage");
    let destination = kept.path().join("shared");
    let destination_text = destination.display().to_string();
    let run = cluster.run(&["produce", "--keep-shared", &destination_text]);
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    for expected in [
        &format!("cannot copy the shared storage to {destination_text}"),
        "cannot pull its image registry.example/does-not-exist:1",
        "ErrImagePull",
        "helper-image",
    ] {
        assert!(run.stderr.contains(expected), "{expected}:\n{}", run.stderr);
    }
    assert!(!destination.exists());
    assert_nothing_left(&double);
}

/// A committed project whose job, once packaged, prints what it was given. The double runs the
/// primary's command as a process of this machine, so the script needs nothing of the image.
fn packaged_project(job: &str) -> Project {
    let project = Project::new(&support::drakefile(&format!(
        "  {job}:\n    primaryContainer:\n      name: main\n      image: {}\n      \
         environment:\n      - GREETING=hello from the package\n      command: [sh, -c]\n      \
         args: ['echo \"$GREETING, given $GIVEN\"']\n",
        support::BUSYBOX
    )));
    support::git(project.path(), &["init", "-q"]);
    support::git(project.path(), &["add", "-A"]);
    support::git(project.path(), &["commit", "-q", "-m", "source"]);
    project
}

/// The primary image of every job Pod the run created.
fn primary_images(double: &KubeDouble) -> Vec<String> {
    double
        .created(Kind::Pod, NAMESPACE)
        .iter()
        .filter_map(|pod| pod["spec"]["containers"][0]["image"].as_str())
        .map(ToOwned::to_owned)
        .collect()
}

#[test]
fn a_package_in_a_layout_is_pushed_to_the_registry_and_its_pod_runs_it_by_digest() {
    let job = support::unique("k8s-layout");
    let project = packaged_project(&job);
    let layout = project.state_path().join("layout");
    let location = format!("oci:{}:{job}", layout.display());
    support::packaging::package(&project, &[&job, "--output", &location]).assert_code(0);

    let double = double();
    let cluster = Cluster::new(&double, "");
    let repository = format!("{}/eider-test/kubernetes-packages", support::registry());
    let run = cluster.run(&[
        "--registry",
        &repository,
        &location,
        "-e",
        "GIVEN=at run time",
    ]);
    run.assert_code(0);
    assert_eq!(
        run.lines_of(&job, "main"),
        ["hello from the package, given at run time"]
    );
    let images = primary_images(&double);
    assert_eq!(images.len(), 1, "{images:?}");
    assert!(
        images[0].starts_with(&format!("{repository}@sha256:")),
        "the Pod runs the pushed package by digest: {images:?}"
    );
    assert_nothing_left(&double);
}

#[test]
fn a_package_in_a_registry_runs_from_there_pinned_to_what_was_verified() {
    let job = support::unique("k8s-registry");
    let project = packaged_project(&job);
    let repository = format!("{}/eider-test/kubernetes-packages", support::registry());
    let tagged = format!("docker://{repository}:{job}");
    support::packaging::package(&project, &[&job, "--output", &tagged]).assert_code(0);

    let double = double();
    let cluster = Cluster::new(&double, "");
    let run = cluster.run(&[&tagged, "-e", "GIVEN=nothing more"]);
    run.assert_code(0);
    assert_eq!(
        run.lines_of(&job, "main"),
        ["hello from the package, given nothing more"]
    );
    let images = primary_images(&double);
    let verified = run
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix(&format!("Verified {tagged} (")))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("the verified digest:\n{}", run.stderr))
        .to_owned();
    assert_eq!(images, [format!("{repository}@{verified}")]);
    assert_nothing_left(&double);
}

#[test]
fn a_package_outside_any_registry_needs_one_for_a_cluster_and_nothing_is_created() {
    let job = support::unique("k8s-no-registry");
    let project = packaged_project(&job);
    let layout = project.state_path().join("layout");
    let location = format!("oci:{}:{job}", layout.display());
    support::packaging::package(&project, &[&job, "--output", &location]).assert_code(0);

    let double = double();
    let cluster = Cluster::new(&double, "");
    let run = cluster.run(&[&location]);
    run.assert_code(2);
    for expected in ["not in a registry a cluster can pull from", "--registry"] {
        assert!(run.stderr.contains(expected), "{expected}:\n{}", run.stderr);
    }
    assert!(double.requests().is_empty(), "{:#?}", double.requests());
}

#[test]
fn dollar_signs_reach_the_container_as_written_as_on_docker() {
    let double = double();
    let cluster = Cluster::new(
        &double,
        &support::drakefile(&format!(
            "  money:\n    primaryContainer:\n      name: main\n      image: {IMAGE}\n      \
             environment:\n      - GREETING=hello\n      - PRICE=5$$\n      command: [sh, -c]\n      \
             args: ['v=$(echo sub); echo \"$v\"; echo \"$(GREETING)\" \"$PRICE\"']\n"
        )),
    );
    let run = cluster.run(&["money"]);
    run.assert_code(0);
    // `$(GREETING)` is the shell's command substitution, as Docker runs it, not the kubelet's
    // reference to the variable; `$$` stays two dollars.
    // (The shell then says on stderr that there is no command `GREETING`.)
    let lines = run.lines_of("money", "main");
    assert_eq!(lines.first().map(String::as_str), Some("sub"), "{lines:?}");
    assert_eq!(lines.last().map(String::as_str), Some(" 5$$"), "{lines:?}");
    assert!(
        !lines.iter().any(|line| line.contains("hello")),
        "{lines:?}"
    );
}

#[test]
fn with_read_write_once_storage_the_run_s_pods_that_mount_it_follow_the_first_to_its_node() {
    let double = double();
    let jobs = [
        shared_storage_job("first", "echo one > /shared/one"),
        shared_storage_job("second", "cat /shared/one"),
        shared_storage_job("third", "cat /shared/one"),
    ]
    .concat();
    let cluster = Cluster::new(
        &double,
        &format!(
            "{}pipelines:\n  ci:\n    jobs:\n    - name: first\n    - name: second\n      \
             dependencies: [first]\n    - name: third\n      dependencies: [first]\n",
            support::drakefile(&jobs)
        ),
    );
    let kept = tempfile::tempdir().expect("a directory for the kept storage");
    let destination = kept.path().join("shared");
    let run = cluster.run(&[
        "-p",
        "ci",
        "--shared-storage-access",
        "ReadWriteOnce",
        "--keep-shared",
        &destination.display().to_string(),
    ]);
    run.assert_code(0);
    assert_eq!(run.lines_of("second", "main"), ["one"]);
    let claims = double.created(Kind::PersistentVolumeClaim, NAMESPACE);
    assert_eq!(claims.len(), 1, "{claims:#?}");
    assert_eq!(
        claims[0]["spec"]["accessModes"],
        serde_json::json!(["ReadWriteOnce"])
    );
    // The first Pod goes where the scheduler puts it; every later one that mounts the claim
    // (the jobs', the export's) is bound to that node by name.
    let node = Settings::default().node.name;
    let pinned: Vec<(String, serde_json::Value)> = double
        .created(Kind::Pod, NAMESPACE)
        .into_iter()
        .map(|pod| {
            (
                pod["metadata"]["name"].as_str().unwrap_or_default().to_owned(),
                pod["spec"]["affinity"]["nodeAffinity"]
                    ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
                    ["matchFields"][0]["values"]
                    .clone(),
            )
        })
        .collect();
    assert_eq!(pinned.len(), 4, "three jobs and the export: {pinned:#?}");
    assert!(pinned[0].1.is_null(), "{pinned:#?}");
    for (name, values) in &pinned[1..] {
        assert_eq!(values, &serde_json::json!([node]), "{name}");
    }
    assert_nothing_left(&double);
}

#[test]
fn verify_run_runs_the_package_on_the_cluster_as_eider_run_ref_does() {
    let job = support::unique("k8s-verify");
    let project = packaged_project(&job);
    let layout = project.state_path().join("layout");
    let location = format!("oci:{}:{job}", layout.display());
    support::packaging::package(&project, &[&job, "--output", &location]).assert_code(0);

    let double = double();
    let cluster = Cluster::new(&double, "");
    let repository = format!("{}/eider-test/kubernetes-packages", support::registry());
    let run = Run::from(
        cluster
            .eider(&["verify", &location, "--run", "--registry", &repository])
            .output()
            .expect("run eider verify"),
    );
    run.assert_code(0);
    assert_eq!(
        run.lines_of(&job, "main"),
        ["hello from the package, given "]
    );
    let images = primary_images(&double);
    assert_eq!(images.len(), 1, "{images:?}");
    assert!(
        images[0].starts_with(&format!("{repository}@sha256:")),
        "{images:?}"
    );
    assert_nothing_left(&double);
}
