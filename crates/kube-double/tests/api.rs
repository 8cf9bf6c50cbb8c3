//! The resource operations through kube-rs: round trips, errors, selectors, pagination,
//! garbage collection, authentication and injected failures.

mod common;

use std::collections::BTreeMap;

use common::{PATIENCE, api_error, shell_pod, start, wait_gone};
use eider_kube_double::{FailureRule, Kind, ServerVersion, Settings};
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams};

fn config_map(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "metadata": {
            "name": name,
            "labels": labels.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect::<BTreeMap<_, _>>(),
        },
        "data": {"key": "value"},
    }))
    .expect("the config map decodes")
}

#[tokio::test]
async fn pods_round_trip() {
    let (double, client) = start(Settings::default()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut pod = shell_pod("round-trip", "sleep 30");
    pod.metadata.labels = Some(BTreeMap::from([("app".to_owned(), "eider".to_owned())]));
    let created = pods
        .create(&PostParams::default(), &pod)
        .await
        .expect("create");
    let uid = created.metadata.uid.clone().expect("a uid");
    assert!(created.metadata.resource_version.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(common::phase(&created), "Pending");

    let fetched = pods.get("round-trip").await.expect("get");
    assert_eq!(fetched.metadata.uid.as_deref(), Some(uid.as_str()));

    let listed = pods
        .list(&ListParams::default().labels("app=eider"))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    let listed = pods
        .list(&ListParams::default().labels("app!=eider"))
        .await
        .expect("list");
    assert!(listed.items.is_empty());
    let listed = pods
        .list(&ListParams::default().fields("metadata.name=round-trip"))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(
        double.names(Kind::Pod, "default"),
        vec!["round-trip".to_owned()]
    );

    pods.delete("round-trip", &DeleteParams::default().grace_period(0))
        .await
        .expect("delete");
    wait_gone(&pods, "round-trip").await;
    let error = api_error(pods.get("round-trip").await.expect_err("the pod is gone"));
    assert_eq!(error.code, 404);
    assert_eq!(error.message, "pods \"round-trip\" not found");
    let error = api_error(
        pods.delete("round-trip", &DeleteParams::default())
            .await
            .expect_err("absent"),
    );
    assert_eq!(error.code, 404);
}

#[tokio::test]
async fn duplicate_create_conflicts() {
    let (_double, client) = start(Settings::default()).await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    maps.create(&PostParams::default(), &config_map("twice", &[]))
        .await
        .expect("create");
    let error = api_error(
        maps.create(&PostParams::default(), &config_map("twice", &[]))
            .await
            .expect_err("409"),
    );
    assert_eq!(error.code, 409);
    assert_eq!(error.reason, "AlreadyExists");
    assert_eq!(error.message, "configmaps \"twice\" already exists");
}

#[tokio::test]
async fn invalid_objects_are_refused() {
    let (_double, client) = start(Settings::default()).await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let error = api_error(
        maps.create(&PostParams::default(), &config_map("Bad_Name", &[]))
            .await
            .expect_err("422"),
    );
    assert_eq!(error.code, 422);
    assert_eq!(error.reason, "Invalid");
    assert!(
        error
            .message
            .starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value"),
        "{}",
        error.message
    );
    let error = api_error(
        maps.create(
            &PostParams::default(),
            &config_map("good", &[("bad key", "x")]),
        )
        .await
        .expect_err("422"),
    );
    assert_eq!(error.code, 422);
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let mut pod = shell_pod("container-name", "true");
    pod.spec.as_mut().expect("spec").containers[0].name = "Main".to_owned();
    let error = api_error(
        pods.create(&PostParams::default(), &pod)
            .await
            .expect_err("422"),
    );
    assert!(
        error.message.contains("spec.containers[0].name"),
        "{}",
        error.message
    );
    let elsewhere: Api<ConfigMap> = Api::namespaced(client, "absent");
    let error = api_error(
        elsewhere
            .create(&PostParams::default(), &config_map("x", &[]))
            .await
            .expect_err("404"),
    );
    assert_eq!(error.code, 404);
    assert_eq!(error.message, "namespaces \"absent\" not found");
}

#[tokio::test]
async fn secrets_merge_string_data() {
    let (double, client) = start(Settings::default()).await;
    let secrets: Api<Secret> = Api::namespaced(client, "default");
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "credentials"},
        "stringData": {"token": "s3cret"},
    }))
    .expect("the secret decodes");
    let created = secrets
        .create(&PostParams::default(), &secret)
        .await
        .expect("create");
    assert!(created.string_data.is_none());
    let data = created.data.expect("data");
    assert_eq!(data["token"].0, b"s3cret");
    let stored = double
        .object(Kind::Secret, "default", "credentials")
        .expect("stored");
    assert_eq!(stored["data"]["token"], "czNjcmV0");
    assert!(stored.get("stringData").is_none());
    assert_eq!(stored["type"], "Opaque");
}

#[tokio::test]
async fn lists_are_paginated() {
    let (_double, client) = start(Settings::default()).await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    for index in 0..5 {
        maps.create(
            &PostParams::default(),
            &config_map(&format!("page-{index}"), &[("tier", "a")]),
        )
        .await
        .expect("create");
    }
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = ListParams::default().limit(2).labels("tier in (a,b)");
        if let Some(token) = &token {
            params = params.continue_token(token);
        }
        let page = maps.list(&params).await.expect("list");
        pages += 1;
        names.extend(
            page.items
                .iter()
                .filter_map(|map| map.metadata.name.clone()),
        );
        token = page.metadata.continue_.filter(|token| !token.is_empty());
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["page-0", "page-1", "page-2", "page-3", "page-4"]);
}

#[tokio::test]
async fn delete_collection_by_label() {
    let (double, client) = start(Settings::default()).await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    for (name, run) in [("a", "1"), ("b", "1"), ("c", "2")] {
        maps.create(&PostParams::default(), &config_map(name, &[("run", run)]))
            .await
            .expect("create");
    }
    maps.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("run=1"),
    )
    .await
    .expect("delete collection");
    assert_eq!(
        double.names(Kind::ConfigMap, "default"),
        vec!["c".to_owned()]
    );
}

#[tokio::test]
async fn owner_references_are_garbage_collected() {
    let (double, client) = start(Settings::default()).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let owner = pods
        .create(&PostParams::default(), &shell_pod("owner", "sleep 30"))
        .await
        .expect("create");
    let dependent: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {
            "name": "owned",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "owner", "uid": owner.metadata.uid}],
        },
        "stringData": {"a": "b"},
    }))
    .expect("the secret decodes");
    let secrets: Api<Secret> = Api::namespaced(client, "default");
    secrets
        .create(&PostParams::default(), &dependent)
        .await
        .expect("create");
    pods.delete("owner", &DeleteParams::default().grace_period(1))
        .await
        .expect("delete");
    let gone = async {
        while !double.names(Kind::Secret, "default").is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(PATIENCE, gone)
        .await
        .expect("the owned secret is collected");
    assert!(double.names(Kind::Pod, "default").is_empty());
}

#[tokio::test]
async fn injected_failures_answer_as_status() {
    let (double, client) = start(Settings::default()).await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    double.fail_next(FailureRule::new(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        500,
    ));
    let error = api_error(
        maps.create(&PostParams::default(), &config_map("x", &[]))
            .await
            .expect_err("500"),
    );
    assert_eq!(error.code, 500);
    assert_eq!(error.reason, "InternalError");
    maps.create(&PostParams::default(), &config_map("x", &[]))
        .await
        .expect("the next one succeeds");
    double.fail_next(FailureRule::new(
        "GET",
        "/api/v1/namespaces/default/configmaps/x",
        409,
    ));
    let error = api_error(maps.get("x").await.expect_err("409"));
    assert_eq!(error.code, 409);
    assert_eq!(error.reason, "Conflict");
}

#[tokio::test]
async fn the_bearer_token_is_required_when_set() {
    let settings = Settings {
        token: Some("t0ken".to_owned()),
        ..Settings::default()
    };
    let (double, client) = start(settings).await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    maps.list(&ListParams::default())
        .await
        .expect("the kubeconfig carries the token");
    let anonymous = common::client_for(
        &double
            .kubeconfig("default")
            .replace("token: \"t0ken\"", "{}"),
    )
    .await;
    let maps: Api<ConfigMap> = Api::namespaced(anonymous, "default");
    let error = maps.list(&ListParams::default()).await.expect_err("401");
    match error {
        kube::Error::Api(status) => assert_eq!(status.code, 401),
        other => panic!("expected 401, got {other:?}"),
    }
}

#[tokio::test]
async fn the_version_is_the_configured_one() {
    let settings = Settings {
        version: ServerVersion {
            major: 1,
            minor: 28,
        },
        ..Settings::default()
    };
    let (double, client) = start(settings).await;
    let version = client.apiserver_version().await.expect("version");
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "28")
    );
    assert_eq!(version.git_version, "v1.28.0");
    let recorded = double.requests();
    assert!(
        recorded
            .iter()
            .any(|request| request.path == "/version" && request.method == "GET")
    );
}

#[test]
fn a_blocking_double_serves_plain_tests() {
    let double = eider_kube_double::KubeDouble::start_blocking(Settings::default()).expect("start");
    let kubeconfig = double.kubeconfig("default");
    assert!(kubeconfig.contains(&format!("server: \"{}\"", double.url())));
    assert!(kubeconfig.contains("current-context: eider-double"));
    let mut connection = std::net::TcpStream::connect(double.address()).expect("connect");
    std::io::Write::write_all(
        &mut connection,
        b"GET /api/v1/namespaces/default HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .expect("write");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut connection, &mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"phase\":\"Active\""), "{answer}");
}

#[tokio::test]
async fn a_claim_in_use_stays_until_its_pod_is_gone() {
    use k8s_openapi::api::core::v1::PersistentVolumeClaim;
    let (double, client) = start(Settings::default()).await;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    let claim: PersistentVolumeClaim = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "work"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }))
    .expect("the claim decodes");
    let created = claims
        .create(&PostParams::default(), &claim)
        .await
        .expect("create");
    assert_eq!(
        created.status.and_then(|status| status.phase).as_deref(),
        Some("Pending")
    );
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut user = shell_pod("user", "sleep 30");
    user.spec.as_mut().expect("spec").volumes = Some(vec![
        serde_json::from_value(
            serde_json::json!({"name": "work", "persistentVolumeClaim": {"claimName": "work"}}),
        )
        .expect("volume"),
    ]);
    pods.create(&PostParams::default(), &user)
        .await
        .expect("create");
    common::wait_for(&pods, "user", "running", |pod| {
        common::phase(pod) == "Running"
    })
    .await;
    let bound = claims.get("work").await.expect("get");
    assert_eq!(
        bound.status.and_then(|status| status.phase).as_deref(),
        Some("Bound")
    );
    claims
        .delete("work", &DeleteParams::default())
        .await
        .expect("delete");
    let terminating = claims
        .get("work")
        .await
        .expect("the claim stays while in use");
    assert!(terminating.metadata.deletion_timestamp.is_some());
    pods.delete("user", &DeleteParams::default().grace_period(0))
        .await
        .expect("delete");
    let gone = async {
        while !double
            .names(Kind::PersistentVolumeClaim, "default")
            .is_empty()
        {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(PATIENCE, gone)
        .await
        .expect("the claim goes with its pod");
}
