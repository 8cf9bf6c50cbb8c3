//! The secrets file (`Drakesecrets.yaml` beside the Drakefile by default): a flat YAML mapping of
//! names to values.
//!
//! Values are strings; numbers and booleans are taken by their source text (`port: 5432` gives
//! `5432`, `on: 0x1F` gives `0x1F`), an empty value gives an empty string, and lists or
//! mappings are errors. Anchors, aliases and `<<` merge keys work as in a Drakefile, and a name
//! may appear only once.
//!
//! In a string value, `${NAME}` (`NAME` matching `[A-Za-z_][A-Za-z0-9_]*`) is replaced by the
//! variable `NAME` of eider's own environment, once: the inserted text is not expanded again. An
//! unset variable expands to nothing and produces a warning. `$$` is a literal `$`, and a `$`
//! followed by anything but `{` or `$` is kept as written.

use std::fmt;
use std::rc::Rc;

use drakefile::yaml::{Entry, Node, SyntaxError, Value};

use super::{EnvironmentError, Variables, name_problem, read_text};

/// The variables of a secrets file, and the warnings reading it produced.
///
/// Its `Debug` output shows names only, never values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretsFile {
    /// The secrets, in the order written.
    pub variables: Variables,
    /// Warnings such as an unset variable in a `${NAME}`; each names the file, line and column.
    pub warnings: Vec<String>,
}

impl fmt::Debug for SecretsFile {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted: Vec<(&str, &str)> = self
            .variables
            .iter()
            .map(|(name, _)| (name.as_str(), crate::mask::MASK))
            .collect();
        formatter
            .debug_struct("SecretsFile")
            .field("variables", &redacted)
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// Reads and parses the secrets file at `path`, expanding `${NAME}` through `lookup`.
pub fn load_secrets_file(
    path: &camino::Utf8Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<SecretsFile, EnvironmentError> {
    let text = read_text(path)?;
    parse_secrets(path.as_str(), &text, lookup)
}

/// Parses the text of a secrets file; `name` is how the file is shown in messages.
pub fn parse_secrets(
    name: &str,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<SecretsFile, EnvironmentError> {
    let source = Source { name, text };
    let root = match drakefile::yaml::load(text) {
        Ok(Some(root)) => root,
        Ok(None) => return Ok(SecretsFile::default()),
        Err(error) => return Err(source.syntax_error(&error)),
    };
    let entries = match &root.value {
        Value::Null => return Ok(SecretsFile::default()),
        Value::Mapping(entries) => entries,
        _ => {
            let (line, column) = source.position(root.span.start);
            return Err(EnvironmentError::NotAMapping {
                file: name.to_owned(),
                line,
                column,
                found: root.kind_name(),
            });
        }
    };
    let mut secrets = SecretsFile::default();
    for entry in entries {
        let variable = source.variable(entry, lookup, &mut secrets.warnings)?;
        secrets.variables.push(variable);
    }
    Ok(secrets)
}

/// The text being parsed and how it is shown.
struct Source<'a> {
    name: &'a str,
    text: &'a str,
}

impl Source<'_> {
    /// The 1-based line and column (in characters) of a byte offset.
    fn position(&self, offset: u32) -> (usize, usize) {
        let offset = (offset as usize).min(self.text.len());
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        let line = before.matches('\n').count() + 1;
        let column = before
            .get(line_start..)
            .map_or(0, |line| line.chars().count())
            + 1;
        (line, column)
    }

    fn syntax_error(&self, error: &SyntaxError) -> EnvironmentError {
        let (line, column) = self.position(error.span.start);
        // The loader quotes the scalar in "`...` is not a valid !!int"; here it may be a secret.
        let mut message = match error.message.find("` is not a valid !!") {
            Some(index) if error.message.starts_with('`') => {
                format!("the value{}", &error.message[index + 1..])
            }
            _ => error.message.clone(),
        };
        if let Some((span, label)) = &error.related {
            let (related_line, related_column) = self.position(span.start);
            let label = label.strip_suffix(" here").unwrap_or(label);
            message = format!("{message}, {label} at {related_line}:{related_column}");
        }
        EnvironmentError::Syntax {
            file: self.name.to_owned(),
            line,
            column,
            message,
        }
    }

    /// The name and final value of one entry of the mapping.
    fn variable(
        &self,
        entry: &Entry,
        lookup: &dyn Fn(&str) -> Option<String>,
        warnings: &mut Vec<String>,
    ) -> Result<(String, String), EnvironmentError> {
        let Some(name) = entry.key_text() else {
            let (line, column) = self.position(entry.key.span.start);
            return Err(EnvironmentError::InvalidName {
                file: self.name.to_owned(),
                line,
                column,
                problem: format!(
                    "a secret name must be a string, found {}",
                    entry.key.kind_name()
                ),
            });
        };
        if let Some(problem) = name_problem(name) {
            let (line, column) = self.position(entry.key.span.start);
            return Err(EnvironmentError::InvalidName {
                file: self.name.to_owned(),
                line,
                column,
                problem: format!("secret name `{}` {problem}", name.escape_debug()),
            });
        }
        let node = &entry.value;
        let value_error = |problem: String| {
            let (line, column) = self.position(node.span.start);
            EnvironmentError::InvalidValue {
                file: self.name.to_owned(),
                line,
                column,
                name: name.to_owned(),
                problem,
            }
        };
        let value = match &node.value {
            Value::Null => String::new(),
            Value::Bool(boolean) => self.source_text(node, || boolean.to_string()),
            Value::Integer(integer) => self.source_text(node, || integer.to_string()),
            Value::Float(float) => self.source_text(node, || float.to_string()),
            Value::String { text, .. } => self.expand(name, node, text, lookup, warnings)?,
            Value::Sequence(_) | Value::Mapping(_) => {
                return Err(value_error(format!(
                    "must be a string, found {}",
                    node.kind_name()
                )));
            }
        };
        if value.contains('\0') {
            return Err(value_error(
                "contains a NUL byte, which an environment variable cannot hold".to_owned(),
            ));
        }
        Ok((name.to_owned(), value))
    }

    /// A scalar as written in the file, so that `5432`, `0x1F` or `1.50` keep their spelling.
    fn source_text(&self, node: &Rc<Node>, formatted: impl FnOnce() -> String) -> String {
        let written = node.span.slice(self.text);
        if written.is_empty() {
            formatted()
        } else {
            written.to_owned()
        }
    }

    /// Expands `${NAME}` and `$$` in the string value `text` of secret `name`.
    fn expand(
        &self,
        name: &str,
        node: &Node,
        text: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
        warnings: &mut Vec<String>,
    ) -> Result<String, EnvironmentError> {
        if !text.contains('$') {
            return Ok(text.to_owned());
        }
        // Where the value's own text starts in the file: exact when the scalar is written
        // verbatim (plain, or quoted without escapes), else the start of the scalar.
        let written = node.span.slice(self.text);
        let base = node.span.start as usize + written.find(text).unwrap_or(0);
        let offset_of = |index: usize| (base + index) as u32;
        let mut expanded = String::with_capacity(text.len());
        let mut copied = 0;
        let mut search = 0;
        while let Some(found) = text[search..].find('$') {
            let dollar = search + found;
            let after = &text[dollar + 1..];
            if after.starts_with('$') {
                expanded.push_str(&text[copied..=dollar]);
                copied = dollar + 2;
                search = copied;
            } else if let Some(reference) = after.strip_prefix('{') {
                expanded.push_str(&text[copied..dollar]);
                let reference_error = |problem| {
                    let (line, column) = self.position(offset_of(dollar));
                    EnvironmentError::InvalidReference {
                        file: self.name.to_owned(),
                        line,
                        column,
                        name: name.to_owned(),
                        problem,
                    }
                };
                let Some(close) = reference.find('}') else {
                    return Err(reference_error("`${` is not closed by `}`"));
                };
                let variable = &reference[..close];
                if !is_variable_name(variable) {
                    return Err(reference_error(
                        "`${` must be followed by a variable name (letters, digits and `_`, not starting with a digit) and `}`",
                    ));
                }
                if let Some(value) = lookup(variable) {
                    expanded.push_str(&value);
                } else {
                    let (line, column) = self.position(offset_of(dollar));
                    warnings.push(format!(
                        "{}:{line}:{column}: secret `{name}` uses `${{{variable}}}`, which is not set in eider's environment; it expands to nothing",
                        self.name
                    ));
                }
                copied = dollar + 2 + close + 1;
                search = copied;
            } else {
                search = dollar + 1;
            }
        }
        expanded.push_str(&text[copied..]);
        Ok(expanded)
    }
}

/// Whether `name` matches `[A-Za-z_][A-Za-z0-9_]*`.
fn is_variable_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn environment(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn parse(text: &str) -> Result<SecretsFile, EnvironmentError> {
        parse_secrets(
            "Drakesecrets.yaml",
            text,
            &environment(&[("HOME", "/home/eider"), ("DOLLARS", "${HOME}$$")]),
        )
    }

    fn variables(text: &str) -> Vec<(String, String)> {
        match parse(text) {
            Ok(secrets) => secrets.variables,
            Err(error) => panic!("unexpected error: {error}"),
        }
    }

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(secrets) => panic!("expected an error, got {secrets:?}"),
            Err(error) => error.to_string(),
        }
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn empty_files_hold_no_secrets() {
        for text in ["", "# only a comment\n", "{}", "---\n", "~\n"] {
            assert_eq!(variables(text), [], "{text:?}");
        }
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        assert_eq!(
            variables("\u{feff}TOKEN: abcd\n"),
            pairs(&[("TOKEN", "abcd")])
        );
    }

    #[test]
    fn values_keep_their_order_and_spelling() {
        let text = "TOKEN: abc123\nPORT: 5432\nRATIO: 1.50\nHEX: 0x1F\nDEBUG: true\nEMPTY:\nNULL: ~\nQUOTED: \"a b\"\n";
        assert_eq!(
            variables(text),
            pairs(&[
                ("TOKEN", "abc123"),
                ("PORT", "5432"),
                ("RATIO", "1.50"),
                ("HEX", "0x1F"),
                ("DEBUG", "true"),
                ("EMPTY", ""),
                ("NULL", ""),
                ("QUOTED", "a b"),
            ])
        );
    }

    #[test]
    fn multi_line_values_are_kept() {
        let text = "KEY: |\n  -----BEGIN-----\n  AAAA\n  -----END-----\n";
        assert_eq!(
            variables(text),
            pairs(&[("KEY", "-----BEGIN-----\nAAAA\n-----END-----\n")])
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys_work() {
        let text =
            "USER: &user eider\nOWNER: *user\n<<: {PASSWORD: one, EXTRA: x}\nPASSWORD: two\n";
        assert_eq!(
            variables(text),
            pairs(&[
                ("USER", "eider"),
                ("OWNER", "eider"),
                ("EXTRA", "x"),
                ("PASSWORD", "two"),
            ])
        );
    }

    #[test]
    fn a_value_that_is_a_mapping_is_an_error_at_its_position() {
        assert_eq!(
            error("A: 1\nB: 2\nTOKEN:\n  nested: secret-value\n"),
            "Drakesecrets.yaml:4:3: secret `TOKEN` must be a string, found a mapping"
        );
        assert_eq!(
            error("TOKEN: [a, b]\n"),
            "Drakesecrets.yaml:1:8: secret `TOKEN` must be a string, found a list"
        );
    }

    #[test]
    fn a_file_that_is_not_a_mapping_is_an_error() {
        assert_eq!(
            error("- a\n- b\n"),
            "Drakesecrets.yaml:1:1: a secrets file is a mapping of names to values, found a list"
        );
    }

    #[test]
    fn invalid_names_are_errors() {
        assert_eq!(
            error("A=B: value\n"),
            "Drakesecrets.yaml:1:1: secret name `A=B` contains `=`"
        );
        assert_eq!(
            error("ok: 1\n\"\": value\n"),
            "Drakesecrets.yaml:2:1: secret name `` is empty"
        );
        assert_eq!(
            error("\"A\\0B\": value\n"),
            "Drakesecrets.yaml:1:1: secret name `A\\0B` contains a NUL byte"
        );
    }

    #[test]
    fn a_nul_byte_in_a_value_is_an_error_that_hides_the_value() {
        assert_eq!(
            error("TOKEN: \"secret\\0value\"\n"),
            "Drakesecrets.yaml:1:8: secret `TOKEN` contains a NUL byte, which an environment variable cannot hold"
        );
    }

    #[test]
    fn duplicate_names_are_errors() {
        assert_eq!(
            error("TOKEN: one\nTOKEN: two\n"),
            "Drakesecrets.yaml:2:1: duplicate key `TOKEN`, first set at 1:1"
        );
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let message = error("TOKEN: [unclosed\n");
        assert!(message.starts_with("Drakesecrets.yaml:"), "{message}");
    }

    #[test]
    fn syntax_errors_do_not_quote_values() {
        let message = error("TOKEN: !!int s3cr3t-value\n");
        assert_eq!(
            message,
            "Drakesecrets.yaml:1:14: the value is not a valid !!int"
        );
    }

    #[test]
    fn variables_of_eiders_environment_expand_once() {
        assert_eq!(
            variables("A: ${HOME}/bin\nB: \"x${DOLLARS}y\"\nC: cost $$5 and $5 and $\n"),
            pairs(&[
                ("A", "/home/eider/bin"),
                ("B", "x${HOME}$$y"),
                ("C", "cost $5 and $5 and $"),
            ])
        );
    }

    #[test]
    fn an_unset_variable_expands_to_nothing_with_a_warning() {
        let secrets = match parse("A: one\nTOKEN: pre-${UNSET}-post\n") {
            Ok(secrets) => secrets,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(
            secrets.variables[1],
            ("TOKEN".to_owned(), "pre--post".to_owned())
        );
        assert_eq!(
            secrets.warnings,
            [
                "Drakesecrets.yaml:2:12: secret `TOKEN` uses `${UNSET}`, which is not set in eider's environment; it expands to nothing"
            ]
        );
    }

    #[test]
    fn an_unterminated_reference_is_an_error_at_its_dollar() {
        assert_eq!(
            error("A: 1\nTOKEN: \"s3cr3t${HOME\"\n"),
            "Drakesecrets.yaml:2:15: secret `TOKEN`: `${` is not closed by `}`; write `${NAME}` to use a variable of eider's environment, or `$$` for a literal `$`"
        );
    }

    #[test]
    fn an_invalid_reference_is_an_error() {
        let message = error("TOKEN: s3cr3t${1A}\n");
        assert!(
            message.starts_with(
                "Drakesecrets.yaml:1:14: secret `TOKEN`: `${` must be followed by a variable name"
            ),
            "{message}"
        );
    }

    #[test]
    fn no_error_or_debug_output_contains_a_secret_value() {
        let secret = "s3cr3t-value";
        let texts = [
            format!("TOKEN: {secret}\nOTHER: [{secret}]\n"),
            format!("TOKEN: {{a: {secret}}}\n"),
            format!("TOKEN: \"{secret}${{UNCLOSED\"\n"),
            format!("TOKEN: \"{secret}${{-}}\"\n"),
            format!("TOKEN: !!int {secret}\n"),
            format!("TOKEN: !!bool {secret}\n"),
            format!("TOKEN: \"{secret}\\0\"\n"),
            format!("TOKEN: {secret}\nTOKEN: {secret}\n"),
            format!("TOKEN: [{secret}\n"),
        ];
        for text in &texts {
            let result = parse(text);
            let debug = format!("{result:?}");
            assert!(!debug.contains(secret), "{debug}");
            if let Err(error) = &result {
                assert!(!error.to_string().contains(secret), "{error}");
            }
        }
        let secrets = match parse(&format!("TOKEN: {secret}\nX: ${{UNSET}}\n")) {
            Ok(secrets) => secrets,
            Err(error) => panic!("{error}"),
        };
        let debug = format!("{secrets:?}");
        assert!(!debug.contains(secret), "{debug}");
        assert!(debug.contains("TOKEN"), "{debug}");
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(
            error("# é\nÄ: 1\nTOKEN: {é: 1}\n"),
            "Drakesecrets.yaml:3:8: secret `TOKEN` must be a string, found a mapping"
        );
    }
}
