//! `--env-file` files and `-e` arguments, in Docker's format.
//!
//! An env file holds one `KEY=VALUE` per line. The value is everything after the first `=`,
//! verbatim: no quote removal, no escapes, no expansion (`A=1=2` sets `A` to `1=2`, `A="x"` sets
//! it to `"x"` with the quotes). Leading whitespace of a line is ignored, a line whose first
//! non-blank character is `#` is a comment, blank lines are skipped, and a trailing `\r` is
//! dropped. A line holding only `KEY` takes the value of `KEY` from eider's own environment and
//! is skipped when `KEY` is not set there, as Docker does.

use super::{EnvironmentError, Variables, name_problem, read_text};

/// Reads and parses the env file at `path`; a bare `KEY` is looked up through `lookup`.
pub fn load_env_file(
    path: &camino::Utf8Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Variables, EnvironmentError> {
    let text = read_text(path)?;
    parse_env_file(path.as_str(), &text, lookup)
}

/// Parses the text of an env file; `name` is how the file is shown in messages.
pub fn parse_env_file(
    name: &str,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Variables, EnvironmentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut variables = Variables::new();
    for (index, line) in text.split('\n').enumerate() {
        let line_error = |problem: String| EnvironmentError::InvalidLine {
            file: name.to_owned(),
            line: index + 1,
            problem,
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (line, None),
        };
        if key.is_empty() {
            return Err(line_error(
                "the variable name before `=` is empty".to_owned(),
            ));
        }
        // The name is not quoted: a line without `=` may be a stray value.
        if key.chars().any(char::is_whitespace) {
            return Err(line_error(
                "the variable name contains whitespace".to_owned(),
            ));
        }
        if key.contains('\0') {
            return Err(line_error(
                "the variable name contains a NUL byte".to_owned(),
            ));
        }
        let value = match value {
            Some(value) => value.to_owned(),
            None => match lookup(key) {
                Some(value) => value,
                None => continue,
            },
        };
        if value.contains('\0') {
            return Err(line_error(format!(
                "the value of `{key}` contains a NUL byte, which an environment variable cannot hold"
            )));
        }
        variables.push((key.to_owned(), value));
    }
    Ok(variables)
}

/// Parses a `-e KEY=VALUE` or `-e KEY` argument. A bare `KEY` takes its value from eider's
/// environment through `lookup`; `Ok(None)` means it is not set there (the caller warns).
///
/// As in Docker, the value is verbatim and the name may hold anything but `=` and NUL.
pub fn parse_env_argument(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(String, String)>, EnvironmentError> {
    let (key, value) = match text.split_once('=') {
        Some((key, value)) => (key, Some(value)),
        None => (text, None),
    };
    if let Some(problem) = name_problem(key) {
        // The argument itself is not shown: its value may be a secret.
        return Err(EnvironmentError::InvalidArgument {
            problem: format!("the variable name {problem}"),
        });
    }
    let value = match value {
        Some(value) => value.to_owned(),
        None => match lookup(key) {
            Some(value) => value,
            None => return Ok(None),
        },
    };
    if value.contains('\0') {
        return Err(EnvironmentError::InvalidArgument {
            problem: format!(
                "the value of `{key}` contains a NUL byte, which an environment variable cannot hold"
            ),
        });
    }
    Ok(Some((key.to_owned(), value)))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(name: &str) -> Option<String> {
        let environment: HashMap<&str, &str> = [("HOME", "/home/eider"), ("EMPTY", "")].into();
        environment.get(name).map(|value| (*value).to_owned())
    }

    fn parse(text: &str) -> Result<Variables, EnvironmentError> {
        parse_env_file("ci.env", text, &lookup)
    }

    fn variables(text: &str) -> Variables {
        match parse(text) {
            Ok(variables) => variables,
            Err(error) => panic!("unexpected error: {error}"),
        }
    }

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(variables) => panic!("expected an error, got {} variables", variables.len()),
            Err(error) => error.to_string(),
        }
    }

    fn pairs(expected: &[(&str, &str)]) -> Variables {
        expected
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn values_are_verbatim_after_the_first_equals_sign() {
        let text = "A=1=2\nB=\nC=\"quoted\"\nD= spaced \nE=${HOME}\nF=#not a comment\n";
        assert_eq!(
            variables(text),
            pairs(&[
                ("A", "1=2"),
                ("B", ""),
                ("C", "\"quoted\""),
                ("D", " spaced "),
                ("E", "${HOME}"),
                ("F", "#not a comment"),
            ])
        );
    }

    #[test]
    fn comments_blank_lines_and_indentation_are_skipped() {
        let text = "\u{feff}# comment\n\n   \n  # indented comment\n\tA=1\r\nB=2";
        assert_eq!(variables(text), pairs(&[("A", "1"), ("B", "2")]));
    }

    #[test]
    fn a_bare_key_comes_from_eiders_environment_or_is_skipped() {
        assert_eq!(
            variables("HOME\nUNSET\nEMPTY\n"),
            pairs(&[("HOME", "/home/eider"), ("EMPTY", "")])
        );
    }

    #[test]
    fn duplicates_are_kept_in_order_for_the_merge() {
        assert_eq!(variables("A=1\nA=2\n"), pairs(&[("A", "1"), ("A", "2")]));
    }

    #[test]
    fn bad_names_are_errors_with_the_line() {
        assert_eq!(
            error("A=1\n=value\n"),
            "ci.env:2: the variable name before `=` is empty"
        );
        assert_eq!(
            error("A=1\n\nMY KEY=s3cr3t\n"),
            "ci.env:3: the variable name contains whitespace"
        );
        assert_eq!(
            error("A\0B=1\n"),
            "ci.env:1: the variable name contains a NUL byte"
        );
    }

    #[test]
    fn errors_do_not_show_values() {
        for text in ["MY KEY=s3cr3t\n", "s3cr3t value\n", "TOKEN=s3cr3t\0\n"] {
            let message = error(text);
            assert!(!message.contains("s3cr3t"), "{message}");
            let debug = format!("{:?}", parse(text));
            assert!(!debug.contains("s3cr3t"), "{debug}");
        }
    }

    #[test]
    fn a_file_that_is_not_utf8_names_the_line() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = camino::Utf8PathBuf::from_path_buf(directory.path().join("bad.env"))
            .expect("a UTF-8 path");
        std::fs::write(&path, b"A=1\nB=\xff\n").expect("written");
        let message = match load_env_file(&path, &lookup) {
            Ok(_) => panic!("expected an error"),
            Err(error) => error.to_string(),
        };
        assert_eq!(message, format!("{path}:2: the file is not UTF-8 text"));
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let message = match load_env_file(camino::Utf8Path::new("/nonexistent/ci.env"), &lookup) {
            Ok(_) => panic!("expected an error"),
            Err(error) => error.to_string(),
        };
        assert_eq!(message, "cannot read /nonexistent/ci.env");
    }

    #[test]
    fn arguments_split_at_the_first_equals_sign() {
        let parse = |text| match parse_env_argument(text, &lookup) {
            Ok(variable) => variable,
            Err(error) => panic!("unexpected error: {error}"),
        };
        assert_eq!(parse("A=1=2"), Some(("A".to_owned(), "1=2".to_owned())));
        assert_eq!(parse("B="), Some(("B".to_owned(), String::new())));
        assert_eq!(
            parse("HOME"),
            Some(("HOME".to_owned(), "/home/eider".to_owned()))
        );
        assert_eq!(parse("UNSET"), None);
    }

    #[test]
    fn bad_arguments_are_errors_that_hide_the_value() {
        let error = |text| match parse_env_argument(text, &lookup) {
            Ok(_) => panic!("expected an error"),
            Err(error) => error.to_string(),
        };
        assert_eq!(
            error("=s3cr3t"),
            "invalid `-e` argument: the variable name is empty"
        );
        assert_eq!(
            error("TOKEN=s3cr3t\0"),
            "invalid `-e` argument: the value of `TOKEN` contains a NUL byte, which an environment variable cannot hold"
        );
    }
}
