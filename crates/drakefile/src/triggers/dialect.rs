//! Old spellings of triggers and their current `drakespec-github` v1.0.0 equivalent, as data a
//! rewriter (`eider upgrade`) can apply. The validator and the selector read the old forms
//! directly (see `github.rs`); this module only converts.
//!
//! The forms, from BrigDrake's history:
//!
//! - pre-DrakeSpec pipeline `criteria: {branches: SEL, tags: SEL}` (drakecore v0.3.0, August
//!   2019): a tag was matched against `tags` only, a branch against `branches`; the same as
//!   `push.branches` and `push.tags` ([`trigger_from_criteria`]);
//! - pre-DrakeSpec triggers `- spec: {uri, version}` with `config: {branches: SEL, tags: SEL}`
//!   (BrigDrake 2019-10-01 `e7ce783`): branches matched through check suites of pushed branches,
//!   tags through tag pushes; again `push.branches` and `push.tags` ([`trigger_from_spec_form`]);
//! - the October 2019 config `{checkSuiteRequest: {branches: SEL}, tagPush: {tags: SEL}}`
//!   (BrigDrake 2019-10-07 `ca7eb52` to 2019-10-30): `push.branches` and `push.tags`
//!   ([`current_form`]);
//! - `drakespec-brig` `{eventTypes: [..]}` (BrigDrake 2019-11-13 `eea03c7`): Brigade's `brig run`
//!   events, which no drakespec-github config can select ([`CurrentForm::NoEquivalent`]).

use serde_json::{Map, Value, json};

use super::GITHUB_SPEC_URI;
use super::brig::{BRIG_SPEC_URI, never_matches_reason};

/// The current form of a trigger's config.
#[derive(Debug, Clone, PartialEq)]
pub enum CurrentForm {
    /// The config has nothing to convert.
    AlreadyCurrent,
    /// The `drakespec-github` v1.0.0 config that selects the same events.
    Converted(Value),
    /// No `drakespec-github` config selects the same events; why, as a lowercase fragment.
    NoEquivalent(String),
    /// A spec or version this module knows nothing of.
    UnknownSpec,
}

/// The current `drakespec-github` v1.0.0 form of a trigger written with `spec_uri`,
/// `spec_version` and `config`. Fields the conversion does not know are kept as written.
#[must_use]
pub fn current_form(spec_uri: &str, spec_version: &str, config: Option<&Value>) -> CurrentForm {
    if spec_version != "v1.0.0" {
        return CurrentForm::UnknownSpec;
    }
    if spec_uri == BRIG_SPEC_URI {
        let event_types: Vec<&str> = config
            .and_then(|config| config.get("eventTypes"))
            .and_then(Value::as_array)
            .map(|entries| entries.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        return CurrentForm::NoEquivalent(never_matches_reason(&event_types));
    }
    if spec_uri != GITHUB_SPEC_URI {
        return CurrentForm::UnknownSpec;
    }
    let Some(Value::Object(fields)) = config else {
        return CurrentForm::AlreadyCurrent;
    };
    // Where each old selector goes under `push`.
    let moves: [(&str, Option<&str>, &str); 4] = [
        ("checkSuiteRequest", Some("branches"), "branches"),
        ("tagPush", Some("tags"), "tags"),
        ("branches", None, "branches"),
        ("tags", None, "tags"),
    ];
    if !moves.iter().any(|(old, _, _)| fields.contains_key(*old)) {
        return CurrentForm::AlreadyCurrent;
    }
    let mut converted = fields.clone();
    let mut push = match converted.remove("push") {
        Some(Value::Object(push)) => push,
        None | Some(Value::Null) => Map::new(),
        Some(_) => {
            return CurrentForm::NoEquivalent(
                "`config.push` is not a mapping, so the old selectors cannot join it".to_owned(),
            );
        }
    };
    for (old, inner, current) in moves {
        let Some(value) = converted.remove(old) else {
            continue;
        };
        let selector = match inner {
            Some(inner) => match value {
                Value::Object(mut section) => section.remove(inner),
                _ => None,
            },
            None => Some(value),
        };
        let Some(selector) = selector else {
            continue;
        };
        if push.contains_key(current) {
            return CurrentForm::NoEquivalent(format!(
                "`config.{old}` and `config.push.{current}` both select pushed {current}; \
                 join them by hand"
            ));
        }
        push.insert(current.to_owned(), selector);
    }
    converted.insert("push".to_owned(), Value::Object(push));
    CurrentForm::Converted(Value::Object(converted))
}

/// The trigger, in the current form, for a pre-DrakeSpec pipeline's `criteria`.
#[must_use]
pub fn trigger_from_criteria(criteria: &Value) -> Value {
    let mut push = Map::new();
    if let Value::Object(fields) = criteria {
        for key in ["branches", "tags"] {
            if let Some(selector) = fields.get(key) {
                push.insert(key.to_owned(), selector.clone());
            }
        }
    }
    json!({
        "specUri": GITHUB_SPEC_URI,
        "specVersion": "v1.0.0",
        "config": {"push": push},
    })
}

/// A pre-DrakeSpec trigger `{spec: {uri, version}, config}` in the current form, or why not.
pub fn trigger_from_spec_form(trigger: &Value) -> Result<Value, String> {
    let spec = trigger.get("spec");
    let text = |key: &str| spec.and_then(|spec| spec.get(key)).and_then(Value::as_str);
    let (Some(uri), Some(version)) = (text("uri"), text("version")) else {
        return Err("the trigger has no `spec.uri` and `spec.version` strings".to_owned());
    };
    let config = trigger.get("config");
    let config = match current_form(uri, version, config) {
        CurrentForm::AlreadyCurrent => config.cloned(),
        CurrentForm::Converted(config) => Some(config),
        CurrentForm::NoEquivalent(reason) => return Err(reason),
        CurrentForm::UnknownSpec => {
            return Err(format!(
                "trigger spec `{uri}` {version} is not one eider knows"
            ));
        }
    };
    let mut converted = Map::new();
    converted.insert("specUri".to_owned(), Value::from(uri));
    converted.insert("specVersion".to_owned(), Value::from(version));
    if let Some(config) = config {
        converted.insert("config".to_owned(), config);
    }
    Ok(Value::Object(converted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Value {
        serde_json::from_str(text).expect("valid JSON")
    }

    #[test]
    fn the_october_2019_github_config_converts_to_push_selectors() {
        let old = value(
            r#"{"checkSuiteRequest": {"branches": {"ignore": ["master"]}},
                "tagPush": {"tags": {"only": ["/^v/"]}}}"#,
        );
        assert_eq!(
            current_form(GITHUB_SPEC_URI, "v1.0.0", Some(&old)),
            CurrentForm::Converted(value(
                r#"{"push": {"branches": {"ignore": ["master"]}, "tags": {"only": ["/^v/"]}}}"#
            ))
        );
        let current = value(r#"{"push": {"branches": {}}}"#);
        assert_eq!(
            current_form(GITHUB_SPEC_URI, "v1.0.0", Some(&current)),
            CurrentForm::AlreadyCurrent
        );
        let both = value(r#"{"push": {"branches": {}}, "checkSuiteRequest": {"branches": {}}}"#);
        assert!(matches!(
            current_form(GITHUB_SPEC_URI, "v1.0.0", Some(&both)),
            CurrentForm::NoEquivalent(_)
        ));
    }

    #[test]
    fn a_brig_trigger_has_no_github_equivalent() {
        let config = value(r#"{"eventTypes": ["test"]}"#);
        let CurrentForm::NoEquivalent(reason) =
            current_form(BRIG_SPEC_URI, "v1.0.0", Some(&config))
        else {
            panic!("a brig trigger has no equivalent");
        };
        assert!(reason.contains("`brig run`"), "{reason}");
        assert_eq!(
            current_form("example.com/other", "v1.0.0", None),
            CurrentForm::UnknownSpec
        );
    }

    #[test]
    fn pre_drakespec_criteria_and_spec_triggers_convert_to_the_current_trigger() {
        assert_eq!(
            trigger_from_criteria(&value(r#"{"branches": {"only": ["master"]}}"#)),
            value(
                r#"{"specUri": "github.com/lovethedrake/drakespec-github", "specVersion": "v1.0.0",
                    "config": {"push": {"branches": {"only": ["master"]}}}}"#
            )
        );
        let old = value(
            r#"{"spec": {"uri": "github.com/lovethedrake/drakespec-github", "version": "v1.0.0"},
                "config": {"tags": {"only": ["/^v/"]}}}"#,
        );
        assert_eq!(
            trigger_from_spec_form(&old),
            Ok(value(
                r#"{"specUri": "github.com/lovethedrake/drakespec-github", "specVersion": "v1.0.0",
                    "config": {"push": {"tags": {"only": ["/^v/"]}}}}"#
            ))
        );
    }
}
