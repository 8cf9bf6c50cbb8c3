//! Helpers shared by the tests: a double with a kube client, and waits with generous timeouts.

#![allow(dead_code)]

use std::time::Duration;

use eider_kube_double::{KubeDouble, Settings};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// Long enough for any step on a loaded machine; tests never assert durations.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub async fn start(settings: Settings) -> (KubeDouble, kube::Client) {
    let double = KubeDouble::start(settings)
        .await
        .expect("the double starts");
    let client = client_for(&double.kubeconfig("default")).await;
    (double, client)
}

pub async fn client_for(kubeconfig: &str) -> kube::Client {
    let kubeconfig = Kubeconfig::from_yaml(kubeconfig).expect("the kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("the kubeconfig is usable");
    kube::Client::try_from(config).expect("the client builds")
}

pub fn pod(value: serde_json::Value) -> Pod {
    serde_json::from_value(value).expect("the pod decodes")
}

/// A Pod with one container running `sh -c script`.
pub fn shell_pod(name: &str, script: &str) -> Pod {
    pod(serde_json::json!({
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", script]}],
        },
    }))
}

/// Polls the Pod until `done` holds.
pub async fn wait_for(api: &Api<Pod>, name: &str, what: &str, done: impl Fn(&Pod) -> bool) -> Pod {
    let polling = async {
        loop {
            if let Ok(pod) = api.get(name).await
                && done(&pod)
            {
                return pod;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let Ok(pod) = tokio::time::timeout(PATIENCE, polling).await else {
        let status = api.get(name).await.ok().and_then(|pod| pod.status);
        panic!("timed out waiting for pod {name} to be {what}: {status:?}");
    };
    pod
}

/// Polls until the Pod is gone.
pub async fn wait_gone(api: &Api<Pod>, name: &str) {
    let polling = async {
        while api.get_opt(name).await.expect("get answers").is_some() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(PATIENCE, polling)
        .await
        .expect("the pod goes away");
}

pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or("")
}

/// The state of a container, init or regular.
pub fn container_state(
    pod: &Pod,
    name: &str,
) -> Option<k8s_openapi::api::core::v1::ContainerState> {
    let status = pod.status.as_ref()?;
    status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
        .find(|status| status.name == name)?
        .state
        .clone()
}

pub fn api_error(error: kube::Error) -> kube::core::Status {
    match error {
        kube::Error::Api(status) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}
