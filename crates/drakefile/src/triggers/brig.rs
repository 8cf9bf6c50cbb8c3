//! The `github.com/lovethedrake/drakespec-brig` trigger: `config: {eventTypes: [..]}`.
//!
//! BrigDrake (from 2019-11-13, `eea03c7`, "support triggers from brig run") matched it against
//! events whose provider is `brigade-cli`, the events Brigade's `brig run` sends, when the event's
//! type is one of `eventTypes`. Such events exist only inside Brigade: git has nothing like them,
//! so eider never selects a pipeline through this trigger, and says so.

use serde_json::Value;

use super::config_path::ConfigPath;
use super::github::{ConfigNote, describe, list};

/// The `specUri` of the Brigade trigger spec.
pub const BRIG_SPEC_URI: &str = "github.com/lovethedrake/drakespec-brig";

/// Why a `drakespec-brig` trigger can never select a pipeline here.
#[must_use]
pub fn never_matches_reason(event_types: &[&str]) -> String {
    let types = if event_types.is_empty() {
        "none listed".to_owned()
    } else {
        list(event_types)
    };
    format!(
        "trigger spec `{BRIG_SPEC_URI}` matches only events sent by Brigade's `brig run` (event \
         types: {types}); they have no git counterpart, so this trigger never selects the pipeline"
    )
}

/// Notes about a `drakespec-brig` config: the trigger itself (never matches), then every field
/// that is not `eventTypes` and every `eventTypes` entry that is not a name.
pub(super) fn read(config: Option<&Value>) -> Vec<ConfigNote> {
    let config_path = ConfigPath::config();
    let mut event_types = Vec::new();
    let mut notes = Vec::new();
    match config {
        None | Some(Value::Null) => {}
        Some(Value::Object(fields)) => {
            for (key, value) in fields {
                let path = config_path.key(key);
                if key != "eventTypes" {
                    notes.push(ConfigNote {
                        message: format!(
                            "unknown field `{path}` is ignored (expected `eventTypes`)"
                        ),
                        path,
                        help: None,
                    });
                    continue;
                }
                match value {
                    Value::Array(entries) => {
                        for (index, entry) in entries.iter().enumerate() {
                            match entry {
                                Value::String(name) => event_types.push(name.as_str()),
                                other => notes.push(ConfigNote {
                                    message: format!(
                                        "`{}` must be a name, found {}",
                                        path.index(index),
                                        describe(other)
                                    ),
                                    path: path.index(index),
                                    help: None,
                                }),
                            }
                        }
                    }
                    other => notes.push(ConfigNote {
                        message: format!(
                            "`{path}` must be a list of event types, found {}",
                            describe(other)
                        ),
                        path,
                        help: None,
                    }),
                }
            }
        }
        Some(other) => notes.push(ConfigNote {
            message: format!("`config` must be a mapping, found {}", describe(other)),
            path: config_path,
            help: None,
        }),
    }
    notes.insert(
        0,
        ConfigNote {
            path: ConfigPath::default(),
            message: never_matches_reason(&event_types),
            help: Some(
                "run the pipeline by name (`eider run -p PIPELINE`), or give it a \
                 drakespec-github trigger"
                    .to_owned(),
            ),
        },
    );
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_brig_trigger_never_matches_and_says_so_naming_its_event_types() {
        let config: Value =
            serde_json::from_str(r#"{"eventTypes": ["test", 3], "eventType": "x"}"#)
                .expect("valid JSON");
        let notes: Vec<(String, String)> = read(Some(&config))
            .into_iter()
            .map(|note| (note.path.to_string(), note.message))
            .collect();
        assert_eq!(
            notes,
            [
                (
                    String::new(),
                    "trigger spec `github.com/lovethedrake/drakespec-brig` matches only events \
                     sent by Brigade's `brig run` (event types: `test`); they have no git \
                     counterpart, so this trigger never selects the pipeline"
                        .to_owned()
                ),
                (
                    "config.eventTypes[1]".to_owned(),
                    "`config.eventTypes[1]` must be a name, found a number (quote it to write a \
                     name)"
                        .to_owned()
                ),
                (
                    "config.eventType".to_owned(),
                    "unknown field `config.eventType` is ignored (expected `eventTypes`)"
                        .to_owned()
                ),
            ]
        );
    }
}
