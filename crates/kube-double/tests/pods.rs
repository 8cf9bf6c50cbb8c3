//! What the scheduler and the kubelet do with Pods, as a client watching them sees it.

mod common;

use std::time::Duration;

use common::{
    PATIENCE, api_error, container_state, phase, pod, shell_pod, start, wait_for, wait_gone,
};
use eider_kube_double::Settings;
use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::Api;
use kube::api::{DeleteParams, LogParams, PostParams, WatchEvent, WatchParams};

fn condition<'a>(
    pod: &'a Pod,
    type_: &str,
) -> Option<&'a k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|condition| condition.type_ == type_)
}

fn logs_of(container: &str, follow: bool) -> LogParams {
    LogParams {
        container: Some(container.to_owned()),
        follow,
        ..LogParams::default()
    }
}

/// The logs of the job Pod: each container's output in order, the last line without its end.
async fn check_job_logs(pods: &Api<Pod>) {
    assert_eq!(
        pods.logs("job", &logs_of("main", true))
            .await
            .expect("main log"),
        "out\nerr\nlast"
    );
    assert_eq!(
        pods.logs("job", &logs_of("side", true))
            .await
            .expect("side log"),
        "side\n"
    );
    let stamped = pods
        .logs(
            "job",
            &LogParams {
                timestamps: true,
                ..logs_of("main", false)
            },
        )
        .await
        .expect("stamped log");
    let first = stamped.lines().next().expect("a line");
    let (stamp, text) = first.split_once(' ').expect("a timestamp and a space");
    assert_eq!(text, "out");
    assert_eq!(
        stamp.len(),
        "2025-01-01T00:00:00.000000000Z".len(),
        "{stamp}"
    );
    assert!(stamp.ends_with('Z'));
    // One regular container: it is the default, init containers notwithstanding.
    assert_eq!(
        pods.logs("job", &LogParams::default())
            .await
            .expect("default log"),
        "out\nerr\nlast"
    );
}

#[tokio::test]
async fn a_job_pod_with_a_sidecar_runs_to_failure() {
    let (double, client) = start(Settings::default()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let job = pod(serde_json::json!({
        "metadata": {"name": "job"},
        "spec": {
            "restartPolicy": "Never",
            "initContainers": [{"name": "side", "image": "busybox", "restartPolicy": "Always", "command": ["sh", "-c", "echo side; sleep 30"]}],
            "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo out; echo err >&2; printf last; exit 3"]}],
        },
    }));
    let watch_params = WatchParams::default()
        .fields("metadata.name=job")
        .timeout(60);
    let mut events = pods.watch(&watch_params, "0").await.expect("watch").boxed();
    pods.create(&PostParams::default(), &job)
        .await
        .expect("create");
    let mut phases: Vec<String> = Vec::new();
    let watching = async {
        while let Some(event) = events.try_next().await.expect("the watch goes on") {
            if let WatchEvent::Added(pod) | WatchEvent::Modified(pod) = event {
                let current = phase(&pod).to_owned();
                if phases.last() != Some(&current) {
                    phases.push(current.clone());
                }
                if current == "Failed" {
                    return pod;
                }
            }
        }
        panic!("the watch ended before the pod failed");
    };
    let failed = tokio::time::timeout(PATIENCE, watching)
        .await
        .expect("the pod fails");
    assert_eq!(phases, ["Pending", "Running", "Failed"]);
    let main = container_state(&failed, "main")
        .and_then(|state| state.terminated)
        .expect("main terminated");
    assert_eq!(main.exit_code, 3);
    assert_eq!(main.reason.as_deref(), Some("Error"));
    let side = container_state(&failed, "side")
        .and_then(|state| state.terminated)
        .expect("sidecar terminated");
    assert_eq!(side.exit_code, 143, "the sidecar is stopped with SIGTERM");
    assert_eq!(
        condition(&failed, "PodScheduled").map(|condition| condition.status.as_str()),
        Some("True")
    );
    assert_eq!(
        failed
            .spec
            .as_ref()
            .and_then(|spec| spec.node_name.as_deref()),
        Some("double-node")
    );
    let statuses = failed
        .status
        .as_ref()
        .and_then(|status| status.container_statuses.clone())
        .expect("statuses");
    assert_eq!(statuses[0].image, "docker.io/library/busybox:latest");
    assert!(
        statuses[0]
            .image_id
            .starts_with("docker.io/library/busybox@sha256:")
    );

    check_job_logs(&pods).await;
    assert_eq!(double.running_processes(), 0);
    let follows = double
        .requests()
        .iter()
        .filter(|request| request.follow_log)
        .count();
    assert_eq!(follows, 2);
}

#[tokio::test]
async fn following_a_log_streams_until_the_container_exits() {
    let (_double, client) = start(Settings::default()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    pods.create(
        &PostParams::default(),
        &shell_pod("stream", "echo one; sleep 1; printf two"),
    )
    .await
    .expect("create");
    wait_for(&pods, "stream", "running", |pod| {
        container_state(pod, "main")
            .is_some_and(|state| state.running.is_some() || state.terminated.is_some())
    })
    .await;
    let log = tokio::time::timeout(PATIENCE, pods.logs("stream", &logs_of("main", true)))
        .await
        .expect("the stream ends")
        .expect("log");
    assert_eq!(log, "one\ntwo");
    let done = wait_for(&pods, "stream", "done", |pod| phase(pod) == "Succeeded").await;
    let terminated = container_state(&done, "main")
        .and_then(|state| state.terminated)
        .expect("terminated");
    assert_eq!(
        (terminated.exit_code, terminated.reason.as_deref()),
        (0, Some("Completed"))
    );
}

#[tokio::test]
async fn cut_log_streams_end_while_the_container_runs() {
    let (double, client) = start(Settings::default()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    pods.create(
        &PostParams::default(),
        &shell_pod("cut", "echo before; sleep 30"),
    )
    .await
    .expect("create");
    wait_for(&pods, "cut", "running", |pod| phase(pod) == "Running").await;
    let following = {
        let pods = pods.clone();
        tokio::spawn(async move { pods.logs("cut", &logs_of("main", true)).await })
    };
    // Wait until the stream is open before cutting it.
    let opened = async {
        while !double.requests().iter().any(|request| request.follow_log) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    tokio::time::timeout(PATIENCE, opened)
        .await
        .expect("the stream opens");
    double.cut_log_streams();
    let log = tokio::time::timeout(PATIENCE, following)
        .await
        .expect("the cut stream ends")
        .expect("join")
        .expect("log");
    assert_eq!(log, "before\n");
    let still = pods.get("cut").await.expect("get");
    assert_eq!(phase(&still), "Running");
}

#[tokio::test]
async fn secret_references_are_resolved_into_the_environment() {
    let (_double, client) = start(Settings::default()).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let reader = pod(serde_json::json!({
        "metadata": {"name": "reader"},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{
                "name": "main", "image": "busybox",
                "command": ["sh", "-c", "printf '%s %s %s' \"$TOKEN\" \"$GREETING\" \"$HOSTNAME\""],
                "env": [
                    {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "credentials", "key": "token"}}},
                    {"name": "NAME", "value": "world"},
                    {"name": "GREETING", "value": "hello-$(NAME)"},
                ],
            }],
        },
    }));
    pods.create(&PostParams::default(), &reader)
        .await
        .expect("create");
    let waiting = wait_for(&pods, "reader", "misconfigured", |pod| {
        container_state(pod, "main")
            .and_then(|state| state.waiting)
            .is_some_and(|waiting| waiting.reason.as_deref() == Some("CreateContainerConfigError"))
    })
    .await;
    let message = container_state(&waiting, "main")
        .and_then(|state| state.waiting)
        .and_then(|waiting| waiting.message);
    assert_eq!(message.as_deref(), Some("secret \"credentials\" not found"));
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "credentials"},
        "stringData": {"token": "s3cret"},
    }))
    .expect("the secret decodes");
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .expect("create secret");
    wait_for(&pods, "reader", "done", |pod| phase(pod) == "Succeeded").await;
    let log = pods
        .logs("reader", &LogParams::default())
        .await
        .expect("log");
    assert_eq!(log, "s3cret hello-world reader");
}

#[tokio::test]
async fn an_image_that_cannot_be_pulled_leaves_the_pod_pending() {
    let (_double, client) = start(Settings::default()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut missing = shell_pod("missing", "true");
    missing.spec.as_mut().expect("spec").containers[0].image = Some("does-not-exist".to_owned());
    pods.create(&PostParams::default(), &missing)
        .await
        .expect("create");
    let pulled = wait_for(&pods, "missing", "failing to pull", |pod| {
        container_state(pod, "main")
            .and_then(|state| state.waiting)
            .is_some_and(|waiting| waiting.reason.as_deref() == Some("ErrImagePull"))
    })
    .await;
    let message = container_state(&pulled, "main")
        .and_then(|state| state.waiting)
        .and_then(|waiting| waiting.message)
        .expect("a message");
    assert!(
        message.starts_with(
            "failed to pull and unpack image \"docker.io/library/does-not-exist:latest\""
        ),
        "{message}"
    );
    let backing_off = wait_for(&pods, "missing", "backing off", |pod| {
        container_state(pod, "main")
            .and_then(|state| state.waiting)
            .is_some_and(|waiting| waiting.reason.as_deref() == Some("ImagePullBackOff"))
    })
    .await;
    assert_eq!(phase(&backing_off), "Pending");
    let error = api_error(
        pods.logs("missing", &LogParams::default())
            .await
            .expect_err("not started"),
    );
    assert_eq!(error.code, 400);
    assert_eq!(
        error.message,
        "container \"main\" in pod \"missing\" is waiting to start: trying and failing to pull image"
    );
}

#[tokio::test]
async fn a_pod_that_does_not_fit_is_unschedulable() {
    let (_double, client) = start(Settings::default()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut big = shell_pod("big", "true");
    big.spec.as_mut().expect("spec").containers[0].resources = Some(
        serde_json::from_value(serde_json::json!({"requests": {"cpu": "100"}})).expect("resources"),
    );
    pods.create(&PostParams::default(), &big)
        .await
        .expect("create");
    let pending = wait_for(&pods, "big", "unschedulable", |pod| {
        condition(pod, "PodScheduled").is_some()
    })
    .await;
    let scheduled = condition(&pending, "PodScheduled").expect("condition");
    assert_eq!(scheduled.status, "False");
    assert_eq!(scheduled.reason.as_deref(), Some("Unschedulable"));
    let message = scheduled.message.as_deref().unwrap_or("");
    assert!(
        message.starts_with("0/1 nodes are available: 1 Insufficient cpu."),
        "{message}"
    );
    assert_eq!(phase(&pending), "Pending");
    let error = api_error(
        pods.logs("big", &LogParams::default())
            .await
            .expect_err("not started"),
    );
    assert_eq!(
        error.message,
        "container \"main\" in pod \"big\" is waiting to start: ContainerCreating"
    );

    let mut elsewhere = shell_pod("arm", "true");
    elsewhere.spec.as_mut().expect("spec").node_selector =
        Some([("kubernetes.io/arch".to_owned(), "arm64".to_owned())].into());
    pods.create(&PostParams::default(), &elsewhere)
        .await
        .expect("create");
    let pending = wait_for(&pods, "arm", "unschedulable", |pod| {
        condition(pod, "PodScheduled").is_some()
    })
    .await;
    let message = condition(&pending, "PodScheduled")
        .and_then(|condition| condition.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("1 node(s) didn't match Pod's node affinity/selector."),
        "{message}"
    );

    let mut claimed = shell_pod("claimed", "true");
    claimed.spec.as_mut().expect("spec").volumes = Some(vec![
        serde_json::from_value(
            serde_json::json!({"name": "work", "persistentVolumeClaim": {"claimName": "absent"}}),
        )
        .expect("volume"),
    ]);
    pods.create(&PostParams::default(), &claimed)
        .await
        .expect("create");
    let pending = wait_for(&pods, "claimed", "unschedulable", |pod| {
        condition(pod, "PodScheduled").is_some()
    })
    .await;
    let message = condition(&pending, "PodScheduled")
        .and_then(|condition| condition.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("persistentvolumeclaim \"absent\" not found"),
        "{message}"
    );
}

#[tokio::test]
async fn the_active_deadline_fails_the_pod() {
    let (double, client) = start(Settings::default()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut slow = shell_pod("slow", "sleep 30");
    slow.spec.as_mut().expect("spec").active_deadline_seconds = Some(1);
    pods.create(&PostParams::default(), &slow)
        .await
        .expect("create");
    let failed = wait_for(&pods, "slow", "failed", |pod| phase(pod) == "Failed").await;
    let status = failed.status.expect("status");
    assert_eq!(status.reason.as_deref(), Some("DeadlineExceeded"));
    assert_eq!(
        status.message.as_deref(),
        Some("Pod was active on the node longer than the specified deadline")
    );
    assert_eq!(double.running_processes(), 0);
}

#[tokio::test]
async fn a_graceful_delete_stops_the_containers_then_removes_the_pod() {
    let (double, client) = start(Settings::default()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    pods.create(&PostParams::default(), &shell_pod("victim", "sleep 30"))
        .await
        .expect("create");
    let running = wait_for(&pods, "victim", "running", |pod| phase(pod) == "Running").await;
    let version = running
        .metadata
        .resource_version
        .clone()
        .expect("a version");
    let mut events = pods
        .watch(
            &WatchParams::default().fields("metadata.name=victim"),
            &version,
        )
        .await
        .expect("watch")
        .boxed();
    pods.delete("victim", &DeleteParams::default().grace_period(10))
        .await
        .expect("delete");
    let mut marked = false;
    let mut last_phase = String::new();
    let watching = async {
        while let Some(event) = events.try_next().await.expect("the watch goes on") {
            match event {
                WatchEvent::Modified(pod) => {
                    marked |= pod.metadata.deletion_timestamp.is_some()
                        && pod.metadata.deletion_grace_period_seconds == Some(10);
                    last_phase = phase(&pod).to_owned();
                }
                WatchEvent::Deleted(_) => return,
                _ => {}
            }
        }
        panic!("the watch ended before the pod was deleted");
    };
    tokio::time::timeout(PATIENCE, watching)
        .await
        .expect("the pod is deleted");
    assert!(marked, "the deletion timestamp was set first");
    assert_eq!(last_phase, "Failed");
    assert_eq!(double.running_processes(), 0);
    wait_gone(&pods, "victim").await;
}

#[test]
fn dropping_the_double_kills_its_processes() {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let pid_file = scratch.path().join("pid");
    let double = eider_kube_double::KubeDouble::start_blocking(Settings::default()).expect("start");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = common::client_for(&double.kubeconfig("default")).await;
        let pods: Api<Pod> = Api::namespaced(client, "default");
        let mut sleeper = shell_pod("sleeper", "echo $$ > pid; exec sleep 60");
        sleeper.spec.as_mut().expect("spec").containers[0].working_dir =
            Some(scratch.path().display().to_string());
        pods.create(&PostParams::default(), &sleeper)
            .await
            .expect("create");
        let written = async {
            while !std::fs::read_to_string(&pid_file).is_ok_and(|text| !text.trim().is_empty()) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(PATIENCE, written)
            .await
            .expect("the container writes its pid");
    });
    let pid = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .to_owned();
    drop(double);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Gone, or a zombie no one has reaped yet.
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("");
    assert!(
        stat.is_empty() || state == "Z",
        "the process still runs: {stat}"
    );
}

#[tokio::test]
async fn a_log_request_must_name_one_of_several_containers() {
    let (_double, client) = start(Settings::default()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let pair = pod(serde_json::json!({
        "metadata": {"name": "pair"},
        "spec": {
            "restartPolicy": "Never",
            "initContainers": [{"name": "setup", "image": "busybox", "command": ["true"]}],
            "containers": [
                {"name": "a", "image": "busybox", "command": ["echo", "a"]},
                {"name": "b", "image": "busybox", "command": ["echo", "b"]},
            ],
        },
    }));
    pods.create(&PostParams::default(), &pair)
        .await
        .expect("create");
    let error = api_error(
        pods.logs("pair", &LogParams::default())
            .await
            .expect_err("two containers"),
    );
    assert_eq!(error.code, 400);
    assert_eq!(
        error.message,
        "a container name must be specified for pod pair, choose one of: [a b] or one of the init containers: [setup]"
    );
    wait_for(&pods, "pair", "done", |pod| phase(pod) == "Succeeded").await;
    assert_eq!(
        pods.logs("pair", &logs_of("b", false)).await.expect("log"),
        "b\n"
    );
    let error = api_error(
        pods.logs("pair", &logs_of("c", false))
            .await
            .expect_err("no such container"),
    );
    assert_eq!(error.message, "container c is not valid for pod pair");
    let error = api_error(
        pods.logs("absent", &logs_of("a", false))
            .await
            .expect_err("no such pod"),
    );
    assert_eq!(error.code, 404);
}
