//! The `github.com/lovethedrake/drakespec-github` trigger at `v1.0.0`: reading its config and
//! matching an [`Event`] against it.
//!
//! The config is read like the reference executor's Go decoder read it: a field that is absent or
//! written without a value (null) is absent, and fields it does not define are ignored. Unlike the
//! reference, eider says so in notes, and a regular expression is compiled when the config is
//! read rather than when an event first needs it.

use serde_json::{Map, Value};

use super::event::Event;
use super::name_filter::{NameFilter, NamePattern};

/// Why the config of a GitHub trigger is invalid. Paths start at the trigger (`config.push…`).
#[derive(Debug, thiserror::Error)]
pub enum GithubConfigError {
    /// A field that must be a mapping is something else.
    #[error("`{path}` must be a mapping, found {found}")]
    NotAMapping {
        /// Where the field is.
        path: String,
        /// What was written instead.
        found: &'static str,
    },
    /// `only` or `ignore` is not a list.
    #[error("`{path}` must be a list of names, found {found}")]
    NotAList {
        /// Where the field is.
        path: String,
        /// What was written instead.
        found: &'static str,
    },
    /// An entry of `only` or `ignore` is not a string.
    #[error("`{path}` must be a name, found {found}")]
    NotAName {
        /// Where the entry is.
        path: String,
        /// What was written instead.
        found: &'static str,
    },
    /// An entry written `/re/` is not a valid regular expression.
    #[error("`{path}`: `{entry}` is not a valid regular expression")]
    InvalidExpression {
        /// Where the entry is.
        path: String,
        /// The entry as written, slashes included.
        entry: String,
        /// What the expression parser found.
        #[source]
        source: regex::Error,
    },
}

/// A GitHub trigger's config, read and checked.
#[derive(Debug)]
pub(super) struct GithubTrigger {
    pull_request_target_branches: Option<NameFilter>,
    push_branches: Option<NameFilter>,
    push_tags: Option<NameFilter>,
}

impl GithubTrigger {
    /// Reads a config, returning the trigger and notes about fields it ignored or that make it
    /// select nothing.
    pub(super) fn parse(config: Option<&Value>) -> Result<(Self, Vec<String>), GithubConfigError> {
        let mut reader = Reader::default();
        let trigger = reader.trigger(config.unwrap_or(&Value::Null))?;
        if trigger.pull_request_target_branches.is_none()
            && trigger.push_branches.is_none()
            && trigger.push_tags.is_none()
        {
            reader.notes.push(
                "the trigger selects no event: it has none of `config.pullRequest.targetBranches`, \
                 `config.push.branches` and `config.push.tags`"
                    .to_owned(),
            );
        }
        Ok((trigger, reader.notes))
    }

    /// Whether the event passes the selector for its kind; an absent selector never matches.
    pub(super) fn matches(&self, event: &Event) -> bool {
        let (filter, name) = match event {
            Event::PushBranch(branch) => (&self.push_branches, branch),
            Event::PushTag(tag) => (&self.push_tags, tag),
            Event::PullRequest { target_branch } => {
                (&self.pull_request_target_branches, target_branch)
            }
        };
        filter.as_ref().is_some_and(|filter| filter.matches(name))
    }
}

/// Walks a config, collecting notes.
#[derive(Default)]
struct Reader {
    notes: Vec<String>,
}

impl Reader {
    fn trigger(&mut self, config: &Value) -> Result<GithubTrigger, GithubConfigError> {
        let mut trigger = GithubTrigger {
            pull_request_target_branches: None,
            push_branches: None,
            push_tags: None,
        };
        let Some(fields) = self.mapping(config, "config", &["pullRequest", "push"])? else {
            return Ok(trigger);
        };
        if let Some(pull_request) = fields.get("pullRequest") {
            let path = "config.pullRequest";
            if let Some(fields) = self.section(pull_request, path, &["targetBranches"])? {
                trigger.pull_request_target_branches =
                    self.filter(fields, "targetBranches", path)?;
            }
        }
        if let Some(push) = fields.get("push") {
            let path = "config.push";
            if let Some(fields) = self.section(push, path, &["branches", "tags"])? {
                trigger.push_branches = self.filter(fields, "branches", path)?;
                trigger.push_tags = self.filter(fields, "tags", path)?;
            }
        }
        Ok(trigger)
    }

    /// A mapping, or `None` when written without a value. Notes every field not in `known`.
    fn mapping<'value>(
        &mut self,
        value: &'value Value,
        path: &str,
        known: &[&str],
    ) -> Result<Option<&'value Map<String, Value>>, GithubConfigError> {
        match value {
            Value::Null => Ok(None),
            Value::Object(fields) => {
                for key in fields.keys().filter(|key| !known.contains(&key.as_str())) {
                    self.notes.push(format!(
                        "unknown field `{path}.{key}` is ignored (expected {})",
                        list(known)
                    ));
                }
                Ok(Some(fields))
            }
            other => Err(GithubConfigError::NotAMapping {
                path: path.to_owned(),
                found: describe(other),
            }),
        }
    }

    /// `pullRequest` or `push`: a mapping of selectors.
    fn section<'value>(
        &mut self,
        value: &'value Value,
        path: &str,
        known: &[&str],
    ) -> Result<Option<&'value Map<String, Value>>, GithubConfigError> {
        let fields = self.mapping(value, path, known)?;
        if fields.is_none() {
            self.notes
                .push(format!("`{path}` has no value, so it selects nothing"));
        }
        Ok(fields)
    }

    /// The selector `name` of a section.
    fn filter(
        &mut self,
        section: &Map<String, Value>,
        name: &str,
        section_path: &str,
    ) -> Result<Option<NameFilter>, GithubConfigError> {
        let Some(value) = section.get(name) else {
            return Ok(None);
        };
        let path = format!("{section_path}.{name}");
        let Some(fields) = self.mapping(value, &path, &["only", "ignore"])? else {
            // An empty field reads as absent, which selects nothing, while `{}` selects all.
            self.notes.push(format!(
                "`{path}` has no value, so it selects nothing (write `{{}}` to select every name)"
            ));
            return Ok(None);
        };
        Ok(Some(NameFilter {
            only: patterns(fields.get("only"), &format!("{path}.only"))?,
            ignore: patterns(fields.get("ignore"), &format!("{path}.ignore"))?,
        }))
    }
}

/// The entries of `only` or `ignore`; absent and null both mean none.
fn patterns(value: Option<&Value>, path: &str) -> Result<Vec<NamePattern>, GithubConfigError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(entries)) => entries
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                let path = format!("{path}[{index}]");
                let Value::String(entry) = entry else {
                    return Err(GithubConfigError::NotAName {
                        path,
                        found: describe(entry),
                    });
                };
                NamePattern::parse(entry).map_err(|source| GithubConfigError::InvalidExpression {
                    path,
                    entry: entry.clone(),
                    source,
                })
            })
            .collect(),
        Some(other) => Err(GithubConfigError::NotAList {
            path: path.to_owned(),
            found: describe(other),
        }),
    }
}

/// What kind of value was written. Scalars that YAML reads as numbers or booleans say how to
/// write them as names.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean (quote it to write a name)",
        Value::Number(_) => "a number (quote it to write a name)",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// `a`, `a` or `b`, `a`, `b` or `c`.
fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(config: &str) -> Result<(GithubTrigger, Vec<String>), GithubConfigError> {
        let value: Value = serde_json::from_str(config).expect("valid JSON");
        GithubTrigger::parse(Some(&value))
    }

    fn error(config: &str) -> String {
        parse(config).expect_err("an invalid config").to_string()
    }

    fn branch(name: &str) -> Event {
        Event::PushBranch(name.to_owned())
    }

    #[test]
    fn each_event_kind_uses_its_own_selector() {
        let (trigger, notes) = parse(
            r#"{"push": {"branches": {"only": ["main"]}, "tags": {"only": ["/^v/"]}},
                "pullRequest": {"targetBranches": {"only": ["release"]}}}"#,
        )
        .expect("valid");
        assert!(notes.is_empty(), "{notes:?}");
        assert!(trigger.matches(&branch("main")));
        assert!(!trigger.matches(&branch("v1")));
        assert!(trigger.matches(&Event::PushTag("v1".to_owned())));
        assert!(!trigger.matches(&Event::PushTag("main".to_owned())));
        let into = |target: &str| Event::PullRequest {
            target_branch: target.to_owned(),
        };
        assert!(trigger.matches(&into("release")));
        assert!(!trigger.matches(&into("main")));
    }

    #[test]
    fn an_absent_selector_never_matches() {
        let (trigger, notes) = parse(r#"{"push": {"branches": {}}}"#).expect("valid");
        assert!(notes.is_empty(), "{notes:?}");
        assert!(trigger.matches(&branch("anything")));
        assert!(!trigger.matches(&Event::PushTag("v1".to_owned())));
        assert!(!trigger.matches(&Event::PullRequest {
            target_branch: "main".to_owned()
        }));
    }

    #[test]
    fn a_selector_without_a_value_selects_nothing_and_says_so() {
        let (trigger, notes) = parse(r#"{"push": {"branches": null}}"#).expect("valid");
        assert!(!trigger.matches(&branch("main")));
        assert_eq!(
            notes,
            [
                "`config.push.branches` has no value, so it selects nothing (write `{}` to select \
                 every name)",
                "the trigger selects no event: it has none of `config.pullRequest.targetBranches`, \
                 `config.push.branches` and `config.push.tags`",
            ]
        );
    }

    #[test]
    fn a_missing_config_selects_nothing_and_says_so() {
        let (trigger, notes) = GithubTrigger::parse(None).expect("valid");
        assert!(!trigger.matches(&branch("main")));
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("the trigger selects no event"));
    }

    #[test]
    fn unknown_fields_are_ignored_with_a_note() {
        let (trigger, notes) =
            parse(r#"{"push": {"branches": {"onyl": ["main"]}}, "checkSuiteRequest": {}}"#)
                .expect("valid");
        // As in the reference executor, the misspelled `only` is ignored: every branch passes.
        assert!(trigger.matches(&branch("feature")));
        assert_eq!(
            notes,
            [
                "unknown field `config.checkSuiteRequest` is ignored (expected `pullRequest` or \
                 `push`)",
                "unknown field `config.push.branches.onyl` is ignored (expected `only` or \
                 `ignore`)",
            ]
        );
    }

    #[test]
    fn invalid_shapes_are_errors_with_their_path() {
        assert_eq!(
            error(r#""main""#),
            "`config` must be a mapping, found a string"
        );
        assert_eq!(
            error(r#"{"push": []}"#),
            "`config.push` must be a mapping, found a list"
        );
        assert_eq!(
            error(r#"{"pullRequest": {"targetBranches": {"only": "main"}}}"#),
            "`config.pullRequest.targetBranches.only` must be a list of names, found a string"
        );
        assert_eq!(
            error(r#"{"push": {"tags": {"ignore": ["v1", 1.0]}}}"#),
            "`config.push.tags.ignore[1]` must be a name, found a number (quote it to write a \
             name)"
        );
    }

    #[test]
    fn a_bad_expression_is_an_error_with_its_cause() {
        let problem = parse(r#"{"push": {"branches": {"only": ["main", "/[/"]}}}"#)
            .expect_err("a bad expression");
        assert_eq!(
            problem.to_string(),
            "`config.push.branches.only[1]`: `/[/` is not a valid regular expression"
        );
        assert!(std::error::Error::source(&problem).is_some());
    }

    #[test]
    fn lists_read_well() {
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b"]), "`a` or `b`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
