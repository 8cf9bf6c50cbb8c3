//! The `github.com/lovethedrake/drakespec-github` trigger at `v1.0.0`: reading its config and
//! matching an [`Event`] against it.
//!
//! The config is read like the reference executor's Go decoder read it: a field that is absent or
//! written without a value (null) is absent, and fields it does not define are ignored. Unlike the
//! reference, eider says so in notes, and a regular expression is compiled when the config is
//! read rather than when an event first needs it.
//!
//! Two forms of the config are read, both under the same `specUri` and `specVersion`:
//!
//! - the current one, `{pullRequest: {targetBranches: SEL}, push: {branches: SEL, tags: SEL}}`
//!   (BrigDrake from 2019-10-31, `94f168b`, on);
//! - the October 2019 one, `{checkSuiteRequest: {branches: SEL}, tagPush: {tags: SEL}}`
//!   (BrigDrake 2019-10-07 `ca7eb52` to 2019-10-30). BrigDrake matched `checkSuiteRequest`
//!   against the check suites GitHub requests when commits are pushed to a branch, by the suite's
//!   head branch, and `tagPush` against pushes of `refs/tags/<tag>`, by the tag. eider's events
//!   are git's, so a push of a branch is matched against `checkSuiteRequest.branches` and a push
//!   of a tag against `tagPush.tags`, with a note that says what the current spelling is. The
//!   October 2019 form has nothing for pull requests, so they never match it.
//!
//! [`super::dialect`] turns an October 2019 config into the current form.

use serde_json::{Map, Value};

use super::config_path::ConfigPath;
use super::event::Event;
use super::name_filter::{NameFilter, NamePattern};
use crate::suggest;

/// The fields of a config, current and October 2019 forms together.
const CONFIG_FIELDS: &[&str] = &["pullRequest", "push", "checkSuiteRequest", "tagPush"];

/// Why the config of a GitHub trigger is invalid. Paths start at the trigger (`config.push…`).
#[derive(Debug, thiserror::Error)]
pub enum GithubConfigError {
    /// A field that must be a mapping is something else.
    #[error("`{path}` must be a mapping, found {found}")]
    NotAMapping {
        /// Where the field is.
        path: ConfigPath,
        /// What was written instead.
        found: &'static str,
    },
    /// `only` or `ignore` is not a list.
    #[error("`{path}` must be a list of names, found {found}")]
    NotAList {
        /// Where the field is.
        path: ConfigPath,
        /// What was written instead.
        found: &'static str,
    },
    /// An entry of `only` or `ignore` is not a string.
    #[error("`{path}` must be a name, found {found}")]
    NotAName {
        /// Where the entry is.
        path: ConfigPath,
        /// What was written instead.
        found: &'static str,
    },
    /// An entry written `/re/` is not a valid regular expression.
    #[error("`{path}`: `{entry}` is not a valid regular expression")]
    InvalidExpression {
        /// Where the entry is.
        path: ConfigPath,
        /// The entry as written, slashes included.
        entry: String,
        /// What the expression parser found.
        #[source]
        source: regex::Error,
    },
}

impl GithubConfigError {
    /// Where in the trigger the problem is.
    #[must_use]
    pub fn path(&self) -> &ConfigPath {
        match self {
            Self::NotAMapping { path, .. }
            | Self::NotAList { path, .. }
            | Self::NotAName { path, .. }
            | Self::InvalidExpression { path, .. } => path,
        }
    }
}

/// Something about a trigger's config worth a warning: a field that is ignored, a selector that
/// selects nothing, an old spelling. The message names the path; `help` says what to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigNote {
    /// What the note is about, from the trigger down.
    pub path: ConfigPath,
    /// What is wrong, as a lowercase fragment.
    pub message: String,
    /// What to write instead, when there is something to say.
    pub help: Option<String>,
}

impl ConfigNote {
    fn new(path: ConfigPath, message: String) -> Self {
        Self {
            path,
            message,
            help: None,
        }
    }

    fn with_help(mut self, help: String) -> Self {
        self.help = Some(help);
        self
    }
}

/// A GitHub trigger's config, read and checked.
#[derive(Debug)]
pub(super) struct GithubTrigger {
    pull_request_target_branches: Option<NameFilter>,
    push_branches: Option<NameFilter>,
    push_tags: Option<NameFilter>,
    /// `checkSuiteRequest.branches` (October 2019 form), matched against pushed branches.
    check_suite_branches: Option<NameFilter>,
    /// `tagPush.tags` (October 2019 form), matched against pushed tags.
    tag_push_tags: Option<NameFilter>,
}

impl GithubTrigger {
    /// Reads a config, returning the trigger and notes about fields it ignored or that make it
    /// select nothing.
    pub(super) fn parse(
        config: Option<&Value>,
    ) -> Result<(Self, Vec<ConfigNote>), GithubConfigError> {
        let mut reader = Reader::default();
        let trigger = reader.trigger(config.unwrap_or(&Value::Null))?;
        if trigger.pull_request_target_branches.is_none()
            && trigger.push_branches.is_none()
            && trigger.push_tags.is_none()
            && trigger.check_suite_branches.is_none()
            && trigger.tag_push_tags.is_none()
        {
            reader.notes.push(ConfigNote::new(
                ConfigPath::config(),
                "the trigger selects no event: it has none of `config.pullRequest.targetBranches`, \
                 `config.push.branches` and `config.push.tags`"
                    .to_owned(),
            ));
        }
        Ok((trigger, reader.notes))
    }

    /// Whether the event passes a selector for its kind; an absent selector never matches.
    pub(super) fn matches(&self, event: &Event) -> bool {
        let (filters, name) = match event {
            Event::PushBranch(branch) => {
                ([&self.push_branches, &self.check_suite_branches], branch)
            }
            Event::PushTag(tag) => ([&self.push_tags, &self.tag_push_tags], tag),
            Event::PullRequest { target_branch } => {
                ([&self.pull_request_target_branches, &None], target_branch)
            }
        };
        filters
            .into_iter()
            .flatten()
            .any(|filter| filter.matches(name))
    }
}

/// Walks a config, collecting notes.
#[derive(Default)]
struct Reader {
    notes: Vec<ConfigNote>,
}

impl Reader {
    fn trigger(&mut self, config: &Value) -> Result<GithubTrigger, GithubConfigError> {
        let mut trigger = GithubTrigger {
            pull_request_target_branches: None,
            push_branches: None,
            push_tags: None,
            check_suite_branches: None,
            tag_push_tags: None,
        };
        let config_path = ConfigPath::config();
        let Some(fields) = self.mapping(config, &config_path, CONFIG_FIELDS)? else {
            return Ok(trigger);
        };
        if let Some(pull_request) = fields.get("pullRequest") {
            let path = config_path.key("pullRequest");
            if let Some(fields) = self.section(pull_request, &path, &["targetBranches"])? {
                trigger.pull_request_target_branches =
                    self.filter(fields, "targetBranches", &path)?;
            }
        }
        if let Some(push) = fields.get("push") {
            let path = config_path.key("push");
            if let Some(fields) = self.section(push, &path, &["branches", "tags"])? {
                trigger.push_branches = self.filter(fields, "branches", &path)?;
                trigger.push_tags = self.filter(fields, "tags", &path)?;
            }
        }
        if let Some(check_suite) = fields.get("checkSuiteRequest") {
            trigger.check_suite_branches =
                self.october_2019(check_suite, "checkSuiteRequest", "branches", "branches")?;
        }
        if let Some(tag_push) = fields.get("tagPush") {
            trigger.tag_push_tags = self.october_2019(tag_push, "tagPush", "tags", "tags")?;
        }
        Ok(trigger)
    }

    /// An October 2019 section (`checkSuiteRequest` or `tagPush`) and its one selector, with a
    /// note naming the current spelling, `push.<current>`.
    fn october_2019(
        &mut self,
        value: &Value,
        section: &str,
        selector: &str,
        current: &str,
    ) -> Result<Option<NameFilter>, GithubConfigError> {
        let path = ConfigPath::config().key(section);
        let what = if current == "branches" {
            "pushed branches"
        } else {
            "pushed tags"
        };
        self.notes.push(
            ConfigNote::new(
                path.clone(),
                format!(
                    "`{path}` is the October 2019 form of this trigger: its `{selector}` is \
                     matched against {what}, as `config.push.{current}`"
                ),
            )
            .with_help(format!(
                "write `push: {{{current}: ...}}`, the current form of drakespec-github v1.0.0"
            )),
        );
        let Some(fields) = self.section(value, &path, &[selector])? else {
            return Ok(None);
        };
        self.filter(fields, selector, &path)
    }

    /// A mapping, or `None` when written without a value. Notes every field not in `known`.
    fn mapping<'value>(
        &mut self,
        value: &'value Value,
        path: &ConfigPath,
        known: &[&str],
    ) -> Result<Option<&'value Map<String, Value>>, GithubConfigError> {
        match value {
            Value::Null => Ok(None),
            Value::Object(fields) => {
                for key in fields.keys().filter(|key| !known.contains(&key.as_str())) {
                    let field_path = path.key(key);
                    let mut note = ConfigNote::new(
                        field_path.clone(),
                        format!(
                            "unknown field `{field_path}` is ignored (expected {})",
                            list(known)
                        ),
                    );
                    if let Some(help) = unknown_field_help(path, key, known) {
                        note = note.with_help(help);
                    }
                    self.notes.push(note);
                }
                Ok(Some(fields))
            }
            other => Err(GithubConfigError::NotAMapping {
                path: path.clone(),
                found: describe(other),
            }),
        }
    }

    /// `pullRequest` or `push`: a mapping of selectors.
    fn section<'value>(
        &mut self,
        value: &'value Value,
        path: &ConfigPath,
        known: &[&str],
    ) -> Result<Option<&'value Map<String, Value>>, GithubConfigError> {
        let fields = self.mapping(value, path, known)?;
        if fields.is_none() {
            self.notes.push(ConfigNote::new(
                path.clone(),
                format!("`{path}` has no value, so it selects nothing"),
            ));
        }
        Ok(fields)
    }

    /// The selector `name` of a section.
    fn filter(
        &mut self,
        section: &Map<String, Value>,
        name: &str,
        section_path: &ConfigPath,
    ) -> Result<Option<NameFilter>, GithubConfigError> {
        let Some(value) = section.get(name) else {
            return Ok(None);
        };
        let path = section_path.key(name);
        let Some(fields) = self.mapping(value, &path, &["only", "ignore"])? else {
            // An empty field reads as absent, which selects nothing, while `{}` selects all.
            self.notes.push(ConfigNote::new(
                path.clone(),
                format!(
                    "`{path}` has no value, so it selects nothing (write `{{}}` to select every \
                     name)"
                ),
            ));
            return Ok(None);
        };
        Ok(Some(NameFilter {
            only: patterns(fields.get("only"), &path.key("only"))?,
            ignore: patterns(fields.get("ignore"), &path.key("ignore"))?,
        }))
    }
}

/// How to write an unknown field the way it was meant: a selector written directly under
/// `config` (the shape of the pre-DrakeSpec `spec: {uri, version}` triggers) belongs under its
/// section; otherwise the closest known name.
fn unknown_field_help(path: &ConfigPath, key: &str, known: &[&str]) -> Option<String> {
    if *path == ConfigPath::config() {
        let section = match key {
            "branches" | "tags" => Some("push"),
            "targetBranches" => Some("pullRequest"),
            _ => None,
        };
        if let Some(section) = section {
            return Some(format!(
                "`{key}` belongs under `{section}`: write `config.{section}.{key}`"
            ));
        }
    }
    suggest::closest(key, known.iter().copied()).map(|closest| format!("did you mean `{closest}`?"))
}

/// The entries of `only` or `ignore`; absent and null both mean none.
fn patterns(
    value: Option<&Value>,
    path: &ConfigPath,
) -> Result<Vec<NamePattern>, GithubConfigError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(entries)) => entries
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                let path = path.index(index);
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
            path: path.clone(),
            found: describe(other),
        }),
    }
}

/// What kind of value was written. Scalars that YAML reads as numbers or booleans say how to
/// write them as names.
pub(super) fn describe(value: &Value) -> &'static str {
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
pub(super) fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(notes: &[ConfigNote]) -> Vec<&str> {
        notes.iter().map(|note| note.message.as_str()).collect()
    }

    fn parse(config: &str) -> Result<(GithubTrigger, Vec<ConfigNote>), GithubConfigError> {
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
            messages(&notes),
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
        assert!(notes[0].message.starts_with("the trigger selects no event"));
    }

    #[test]
    fn unknown_fields_are_ignored_with_a_note_and_the_spelling_meant() {
        let (trigger, notes) =
            parse(r#"{"push": {"branches": {"onyl": ["main"]}}, "pull_request": {}, "tags": {}}"#)
                .expect("valid");
        // As in the reference executor, the misspelled `only` is ignored: every branch passes.
        assert!(trigger.matches(&branch("feature")));
        let described: Vec<(String, &str, Option<&str>)> = notes
            .iter()
            .map(|note| {
                (
                    note.path.to_string(),
                    note.message.as_str(),
                    note.help.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            described,
            [
                (
                    "config.pull_request".to_owned(),
                    "unknown field `config.pull_request` is ignored (expected `pullRequest`, \
                     `push`, `checkSuiteRequest` or `tagPush`)",
                    Some("did you mean `pullRequest`?")
                ),
                (
                    "config.tags".to_owned(),
                    "unknown field `config.tags` is ignored (expected `pullRequest`, `push`, \
                     `checkSuiteRequest` or `tagPush`)",
                    Some("`tags` belongs under `push`: write `config.push.tags`")
                ),
                (
                    "config.push.branches.onyl".to_owned(),
                    "unknown field `config.push.branches.onyl` is ignored (expected `only` or \
                     `ignore`)",
                    Some("did you mean `only`?")
                ),
            ]
        );
    }

    #[test]
    fn the_october_2019_form_matches_pushed_branches_and_tags_with_a_note() {
        let (trigger, notes) = parse(
            r#"{"checkSuiteRequest": {"branches": {"ignore": ["master", "gh-pages"]}},
                "tagPush": {"tags": {"only": ["/^v[0-9]+/"]}}}"#,
        )
        .expect("valid");
        assert!(trigger.matches(&branch("feature")));
        assert!(!trigger.matches(&branch("master")));
        assert!(trigger.matches(&Event::PushTag("v1.2.0".to_owned())));
        assert!(!trigger.matches(&Event::PushTag("nightly".to_owned())));
        // The October 2019 form had nothing for pull requests.
        assert!(!trigger.matches(&Event::PullRequest {
            target_branch: "feature".to_owned()
        }));
        let described: Vec<(String, &str, Option<&str>)> = notes
            .iter()
            .map(|note| {
                (
                    note.path.to_string(),
                    note.message.as_str(),
                    note.help.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            described,
            [
                (
                    "config.checkSuiteRequest".to_owned(),
                    "`config.checkSuiteRequest` is the October 2019 form of this trigger: its \
                     `branches` is matched against pushed branches, as `config.push.branches`",
                    Some(
                        "write `push: {branches: ...}`, the current form of drakespec-github \
                         v1.0.0"
                    )
                ),
                (
                    "config.tagPush".to_owned(),
                    "`config.tagPush` is the October 2019 form of this trigger: its `tags` is \
                     matched against pushed tags, as `config.push.tags`",
                    Some("write `push: {tags: ...}`, the current form of drakespec-github v1.0.0")
                ),
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
