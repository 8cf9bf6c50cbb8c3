//! Whether an upgraded file runs the same jobs as the file it came from: the normalized models
//! (what `eider list --json` prints) must be equal, apart from what the newer version adds.
//!
//! Allowed to differ, and nothing else:
//! - `specVersion`, which is the point;
//! - `resources` of every container, from none (before v0.3.0: no limits) to the defaults
//!   (v0.3.0 gives every container without `resources` 100/200 millicores and 128/256 MB);
//! - the source mount mode of a seed-draft job that mounts no source (it has no effect; jobs that
//!   mount the source keep their writable copy as `sourceMountMode: COPY`);
//! - triggers, where [`super::triggers::equivalent`] says they select the same events.

use serde_json::Value;

use crate::model::{Drakefile, Resources};
use crate::version::SpecVersion;

/// At most this many differences are described.
const MAX_DIFFERENCES: usize = 10;

/// What differs between `before` and `after` beyond what the versions explain, as
/// `path: before -> after` lines; empty when they run the same jobs.
pub(crate) fn differences(before: &Drakefile, after: &Drakefile) -> Vec<String> {
    let expected = expected_after(before, after);
    let (Ok(expected), Ok(actual)) = (serde_json::to_value(&expected), serde_json::to_value(after))
    else {
        return vec!["the models cannot be compared".to_owned()];
    };
    let mut found = Vec::new();
    diff("", &expected, &actual, &mut found);
    found
}

/// `before` as the newer version of `after` would normalize it.
fn expected_after(before: &Drakefile, after: &Drakefile) -> Drakefile {
    let mut expected = before.clone();
    expected.spec_version = after.spec_version;
    let adds_resources =
        before.spec_version < SpecVersion::V0_3_0 && after.spec_version >= SpecVersion::V0_3_0;
    let leaves_seed = before.spec_version.is_seed() && !after.spec_version.is_seed();
    for job in &mut expected.jobs {
        if adds_resources {
            for container in &mut job.containers {
                container.resources.get_or_insert_with(Resources::default);
            }
        }
        let mounts_source = job.containers.iter().any(|container| {
            container
                .source_mount_path
                .as_deref()
                .is_some_and(|path| !path.is_empty())
        });
        if leaves_seed
            && !mounts_source
            && let Some(upgraded) = after.job(&job.name)
        {
            job.source_mount_mode = upgraded.source_mount_mode;
        }
    }
    for pipeline in &mut expected.pipelines {
        if let Some(upgraded) = after.pipeline(&pipeline.name)
            && super::triggers::equivalent(&pipeline.triggers, &upgraded.triggers)
        {
            pipeline.triggers.clone_from(&upgraded.triggers);
        }
    }
    expected
}

fn diff(path: &str, expected: &Value, actual: &Value, found: &mut Vec<String>) {
    if found.len() >= MAX_DIFFERENCES || expected == actual {
        return;
    }
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, value) in expected {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                diff(
                    &child,
                    value,
                    actual.get(key).unwrap_or(&Value::Null),
                    found,
                );
            }
            for (key, value) in actual {
                if !expected.contains_key(key) {
                    diff(&format!("{path}.{key}"), &Value::Null, value, found);
                }
            }
        }
        (Value::Array(expected), Value::Array(actual)) if expected.len() == actual.len() => {
            for (index, (expected, actual)) in expected.iter().zip(actual).enumerate() {
                diff(&format!("{path}[{index}]"), expected, actual, found);
            }
        }
        _ => found.push(format!("{path}: {expected} -> {actual}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> Drakefile {
        crate::parse("test.yaml", text).expect("valid").drakefile
    }

    #[test]
    fn new_defaults_are_allowed_and_other_changes_are_not() {
        let before = model(
            "specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.2.0\njobs:\n  a:\n    primaryContainer: {name: main, image: busybox, command: [echo, a]}\n",
        );
        let same = model(
            "specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n  a:\n    primaryContainer: {name: main, image: busybox, command: [echo, a]}\n",
        );
        assert_eq!(differences(&before, &same), Vec::<String>::new());
        let changed = model(
            "specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n  a:\n    primaryContainer: {name: main, image: busybox, command: [echo, b]}\n",
        );
        assert_eq!(
            differences(&before, &changed),
            [r#"jobs[0].containers[0].command[1]: "a" -> "b""#]
        );
    }
}
