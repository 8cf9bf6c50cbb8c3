//! Watches: resuming, expiry, selectors, bookmarks, timeouts and kube-rs's watcher.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{PATIENCE, start};
use eider_kube_double::Settings;
use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher;

fn config_map(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "metadata": {
            "name": name,
            "labels": labels.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect::<BTreeMap<_, _>>(),
        },
    }))
    .expect("the config map decodes")
}

fn name_of(event: &WatchEvent<ConfigMap>) -> Option<String> {
    match event {
        WatchEvent::Added(map) | WatchEvent::Modified(map) | WatchEvent::Deleted(map) => {
            map.metadata.name.clone()
        }
        _ => None,
    }
}

#[tokio::test]
async fn a_watch_resumes_from_a_resource_version() {
    let (_double, client) = start(Settings::default()).await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    maps.create(&PostParams::default(), &config_map("before", &[]))
        .await
        .expect("create");
    let version = maps
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    maps.create(&PostParams::default(), &config_map("after", &[]))
        .await
        .expect("create");
    maps.delete("before", &DeleteParams::default())
        .await
        .expect("delete");
    let events: Vec<WatchEvent<ConfigMap>> = maps
        .watch(&WatchParams::default().timeout(1), &version)
        .await
        .expect("watch")
        .try_collect()
        .await
        .expect("the watch ends after its timeout");
    let seen: Vec<(String, Option<String>)> = events
        .iter()
        .map(|event| {
            let kind = match event {
                WatchEvent::Added(_) => "ADDED",
                WatchEvent::Modified(_) => "MODIFIED",
                WatchEvent::Deleted(_) => "DELETED",
                WatchEvent::Bookmark(_) => "BOOKMARK",
                WatchEvent::Error(_) => "ERROR",
            };
            (kind.to_owned(), name_of(event))
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("ADDED".to_owned(), Some("after".to_owned())),
            ("DELETED".to_owned(), Some("before".to_owned()))
        ]
    );
}

#[tokio::test]
async fn a_watch_from_zero_starts_with_the_current_objects_and_honours_selectors() {
    let (_double, client) = start(Settings::default()).await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    maps.create(&PostParams::default(), &config_map("mine", &[("run", "1")]))
        .await
        .expect("create");
    maps.create(
        &PostParams::default(),
        &config_map("other", &[("run", "2")]),
    )
    .await
    .expect("create");
    let events: Vec<WatchEvent<ConfigMap>> = maps
        .watch(&WatchParams::default().labels("run=1").timeout(1), "0")
        .await
        .expect("watch")
        .try_collect()
        .await
        .expect("the watch ends");
    let names: Vec<Option<String>> = events.iter().map(name_of).collect();
    assert_eq!(names, [Some("mine".to_owned())]);
}

#[tokio::test]
async fn a_watch_after_expiry_answers_410() {
    let (double, client) = start(Settings::default()).await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    maps.create(&PostParams::default(), &config_map("a", &[]))
        .await
        .expect("create");
    let version = maps
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let mut open = maps
        .watch(&WatchParams::default(), &version)
        .await
        .expect("watch")
        .boxed();
    // The watch is open once the server has recorded it.
    let recorded = async {
        while !double.requests().iter().any(|request| request.watch) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::timeout(PATIENCE, recorded)
        .await
        .expect("the watch opens");
    double.expire_watches();
    let event = tokio::time::timeout(PATIENCE, open.try_next())
        .await
        .expect("an event")
        .expect("decodes");
    match event {
        Some(WatchEvent::Error(error)) => {
            assert_eq!(error.code, 410);
            assert_eq!(error.reason, "Expired");
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
    assert!(
        tokio::time::timeout(PATIENCE, open.try_next())
            .await
            .expect("the end")
            .expect("decodes")
            .is_none()
    );

    let events: Vec<WatchEvent<ConfigMap>> = maps
        .watch(&WatchParams::default(), &version)
        .await
        .expect("watch")
        .try_collect()
        .await
        .expect("the watch ends");
    match events.as_slice() {
        [WatchEvent::Error(error)] => {
            assert_eq!(error.code, 410);
            assert!(
                error.message.starts_with("too old resource version"),
                "{}",
                error.message
            );
        }
        other => panic!("expected one 410 ERROR event, got {other:?}"),
    }
}

#[tokio::test]
async fn leaving_a_selection_is_a_deletion() {
    let (double, client) = start(Settings::default()).await;
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client, "default");
    let mut events = pods
        .watch(
            &WatchParams::default()
                .fields("status.phase=Running")
                .timeout(30),
            "0",
        )
        .await
        .expect("watch")
        .boxed();
    pods.create(
        &PostParams::default(),
        &common::shell_pod("brief", "sleep 1"),
    )
    .await
    .expect("create");
    let mut seen = Vec::new();
    let watching = async {
        while let Some(event) = events.try_next().await.expect("decodes") {
            match event {
                WatchEvent::Added(_) => seen.push("ADDED"),
                WatchEvent::Modified(_) => seen.push("MODIFIED"),
                WatchEvent::Deleted(_) => {
                    seen.push("DELETED");
                    return;
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(PATIENCE, watching)
        .await
        .expect("the pod leaves the selection");
    assert_eq!(seen.first(), Some(&"ADDED"));
    assert_eq!(seen.last(), Some(&"DELETED"));
    assert!(
        double
            .object(eider_kube_double::Kind::Pod, "default", "brief")
            .is_some()
    );
}

#[tokio::test]
async fn bookmarks_come_when_allowed() {
    let settings = Settings {
        bookmark_interval: Duration::from_millis(100),
        ..Settings::default()
    };
    let (_double, client) = start(settings).await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut events = maps
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch")
        .boxed();
    let event = tokio::time::timeout(PATIENCE, events.try_next())
        .await
        .expect("an event")
        .expect("decodes");
    assert!(matches!(event, Some(WatchEvent::Bookmark(_))), "{event:?}");
}

async fn watcher_survives_expiry(config: watcher::Config) -> eider_kube_double::KubeDouble {
    let (double, client) = start(Settings::default()).await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    maps.create(&PostParams::default(), &config_map("first", &[]))
        .await
        .expect("create");
    let mut stream = watcher(maps.clone(), config).boxed();
    let mut errors = 0;
    let mut inits = 0;
    let mut next_named = async |name: &str, errors: &mut i32, inits: &mut i32| {
        let waiting = async {
            loop {
                match stream.next().await.expect("the watcher goes on") {
                    Ok(watcher::Event::Apply(map) | watcher::Event::InitApply(map))
                        if map.metadata.name.as_deref() == Some(name) =>
                    {
                        return;
                    }
                    Ok(watcher::Event::Init) => *inits += 1,
                    Ok(_) => {}
                    Err(_) => *errors += 1,
                }
            }
        };
        tokio::time::timeout(PATIENCE, waiting)
            .await
            .expect("the object is seen");
    };
    next_named("first", &mut errors, &mut inits).await;
    maps.create(&PostParams::default(), &config_map("second", &[]))
        .await
        .expect("create");
    next_named("second", &mut errors, &mut inits).await;
    double.expire_watches();
    maps.create(&PostParams::default(), &config_map("third", &[]))
        .await
        .expect("create");
    next_named("third", &mut errors, &mut inits).await;
    assert_eq!(inits, 2, "the watcher listed again after the expiry");
    assert!(errors >= 1, "the watcher saw the 410");
    double
}

#[tokio::test]
async fn kube_runtime_watcher_survives_expiry() {
    let double = watcher_survives_expiry(watcher::Config::default()).await;
    let lists = double
        .requests()
        .iter()
        .filter(|request| {
            request.path.ends_with("/configmaps") && !request.watch && request.method == "GET"
        })
        .count();
    assert_eq!(lists, 2);
}

#[tokio::test]
async fn kube_runtime_streaming_list_watcher_survives_expiry() {
    let double = watcher_survives_expiry(watcher::Config::default().streaming_lists()).await;
    assert!(
        double
            .requests()
            .iter()
            .any(|request| request.query.contains("sendInitialEvents=true"))
    );
}
