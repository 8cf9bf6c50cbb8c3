//! Exec into a running container, as kube's client speaks it (WebSocket, channel protocol), and
//! claims as directories that the containers mounting them reach.

mod common;

use common::{api_error, container_state, phase, shell_pod, start, wait_for};
use eider_kube_double::Settings;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::Api;
use kube::api::{AttachParams, DeleteParams, PostParams};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

async fn read_all(reader: Option<impl tokio::io::AsyncRead + Unpin>) -> String {
    let mut text = String::new();
    reader
        .expect("the stream was asked for")
        .read_to_string(&mut text)
        .await
        .expect("read the stream");
    text
}

/// A claim `work` and a Pod `writer` that mounts it at `/data`, writes a file there and waits.
async fn writer(client: &kube::Client) -> Api<Pod> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    let claim: PersistentVolumeClaim = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "work"},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}},
    }))
    .expect("the claim decodes");
    claims
        .create(&PostParams::default(), &claim)
        .await
        .expect("create the claim");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let mut pod = shell_pod(
        "writer",
        "mkdir -p /data/dir && echo hello > /data/dir/file && exec sleep 30",
    );
    let spec = pod.spec.as_mut().expect("spec");
    spec.volumes = Some(vec![
        serde_json::from_value(
            serde_json::json!({"name": "work", "persistentVolumeClaim": {"claimName": "work"}}),
        )
        .expect("volume"),
    ]);
    spec.containers[0].volume_mounts = Some(vec![
        serde_json::from_value(serde_json::json!({"name": "work", "mountPath": "/data"}))
            .expect("mount"),
    ]);
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("create the pod");
    wait_for(&pods, "writer", "running", |pod| {
        container_state(pod, "main").is_some_and(|state| state.running.is_some())
    })
    .await;
    pods
}

#[tokio::test]
async fn exec_streams_output_and_ends_with_the_command_s_status() {
    let (double, client) = start(Settings::default()).await;
    let pods = writer(&client).await;
    let directory = double
        .claim_directory("default", "work")
        .expect("the claim's directory");
    let file = directory.join("dir/file");
    for _ in 0..200 {
        if file.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(std::fs::read_to_string(&file).expect("written"), "hello\n");

    let mut failing = pods
        .exec(
            "writer",
            ["sh", "-c", "cat /data/dir/file; echo oops >&2; exit 3"],
            &AttachParams::default().container("main"),
        )
        .await
        .expect("exec");
    let status = failing.take_status().expect("a status");
    let (stdout, stderr) = tokio::join!(read_all(failing.stdout()), read_all(failing.stderr()));
    assert_eq!((stdout.as_str(), stderr.as_str()), ("hello\n", "oops\n"));
    let status = status.await.expect("the final status");
    assert_eq!(status.status.as_deref(), Some("Failure"));
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
    let code = status
        .details
        .and_then(|details| details.causes)
        .and_then(|causes| causes.into_iter().next())
        .and_then(|cause| cause.message);
    assert_eq!(code.as_deref(), Some("3"));
    failing.join().await.expect("the session ends");

    let mut echo = pods
        .exec(
            "writer",
            ["cat"],
            &AttachParams::default().stdin(true).stderr(false),
        )
        .await
        .expect("exec with input");
    let mut stdin = echo.stdin().expect("stdin");
    stdin.write_all(b"ping").await.expect("write");
    // The end of the input travels as v5's close of channel 0.
    stdin.shutdown().await.expect("end the input");
    let status = echo.take_status().expect("a status");
    assert_eq!(read_all(echo.stdout()).await, "ping");
    let status = status.await.expect("the final status");
    assert_eq!(status.status.as_deref(), Some("Success"));

    let missing = pods
        .exec(
            "writer",
            ["true"],
            &AttachParams::default().container("other"),
        )
        .await
        .err()
        .map(api_error)
        .expect("an unknown container is refused");
    assert_eq!(missing.code, 400);
    assert!(missing.message.contains("not valid"), "{}", missing.message);

    pods.delete("writer", &DeleteParams::default())
        .await
        .expect("delete");
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    claims
        .delete("work", &DeleteParams::default())
        .await
        .expect("delete the claim");
    for _ in 0..200 {
        if !directory.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!directory.exists(), "the claim's directory goes with it");
}

#[tokio::test]
async fn exec_into_a_completed_pod_is_refused() {
    let (_double, client) = start(Settings::default()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    pods.create(&PostParams::default(), &shell_pod("done", "true"))
        .await
        .expect("create");
    wait_for(&pods, "done", "succeeded", |pod| phase(pod) == "Succeeded").await;
    let error = pods
        .exec("done", ["true"], &AttachParams::default())
        .await
        .err()
        .map(api_error)
        .expect("refused");
    assert_eq!(error.code, 400);
    assert!(error.message.contains("completed pod"), "{}", error.message);
}
