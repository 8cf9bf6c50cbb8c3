//! Writing values as YAML text, for hints that show what to write and for rewriting a Drakefile:
//! a string plain when every YAML parser reads it back as that same string, double-quoted
//! otherwise; a list of strings in brackets.

use super::node::Value;
use std::fmt::Write as _;

use super::scalar::resolve_plain;

/// `text` as a YAML scalar that reads back as the string `text`, in block or flow context.
#[must_use]
pub fn string(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_owned()
    } else {
        double_quoted(text)
    }
}

/// `words` as a flow sequence of double-quoted strings: `["sh", "-c", "make test"]`, the way
/// DrakeSpec examples write commands.
#[must_use]
pub fn flow_list(words: &[String]) -> String {
    let quoted: Vec<String> = words.iter().map(|word| double_quoted(word)).collect();
    format!("[{}]", quoted.join(", "))
}

/// `text` in double quotes, with YAML escapes for what cannot appear there as itself.
#[must_use]
pub fn double_quoted(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            // Not printable in YAML: control characters, DEL, C1 controls (NEL has its own
            // escape), the byte-order mark and the Unicode line and paragraph separators.
            '\u{85}' => quoted.push_str("\\N"),
            '\u{2028}' => quoted.push_str("\\L"),
            '\u{2029}' => quoted.push_str("\\P"),
            control
                if control < ' '
                    || ('\u{7f}'..='\u{9f}').contains(&control)
                    || control == '\u{feff}' =>
            {
                // Writing to a String cannot fail.
                let _ = write!(quoted, "\\u{:04X}", u32::from(control));
            }
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

/// Whether `text` can be written without quotes, anywhere (block or flow), and still be read as
/// this string by YAML 1.1 and 1.2 parsers alike.
fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if first.is_whitespace() || text.ends_with(char::is_whitespace) || text.ends_with(':') {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if text.contains(": ") || text.contains(" #") {
        return false;
    }
    let unsafe_character = |character: char| {
        character.is_control()
            || matches!(
                character,
                ',' | '[' | ']' | '{' | '}' | '\u{feff}' | '\u{2028}' | '\u{2029}'
            )
    };
    if text.chars().any(unsafe_character) {
        return false;
    }
    // YAML 1.1 read these as booleans or null; quoting them keeps every reader on the string.
    let yaml_1_1_words = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF",
    ];
    if yaml_1_1_words.contains(&text) {
        return false;
    }
    matches!(resolve_plain(text), Value::String { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_when_it_reads_back_the_same() {
        for (text, written) in [
            ("A=1", "A=1"),
            ("B=x=y", "B=x=y"),
            ("GREETING=grüß dich", "GREETING=grüß dich"),
            ("busybox:1.36", "busybox:1.36"),
            ("", "\"\""),
            ("12", "\"12\""),
            ("true", "\"true\""),
            ("yes", "\"yes\""),
            ("~", "\"~\""),
            ("-v", "\"-v\""),
            ("a: b", "\"a: b\""),
            ("a #b", "\"a #b\""),
            ("*x", "\"*x\""),
            ("[x]", "\"[x]\""),
            ("a,b", "\"a,b\""),
            (" padded", "\" padded\""),
            ("line\nbreak", "\"line\\nbreak\""),
            (
                "tab\tand \"quote\" and \\",
                "\"tab\\tand \\\"quote\\\" and \\\\\"",
            ),
            ("bell\u{7}", "\"bell\\u0007\""),
        ] {
            assert_eq!(string(text), written, "{text:?}");
        }
    }

    #[test]
    fn lists_are_bracketed_and_double_quoted() {
        let words = ["sh".to_owned(), "-c".to_owned(), "echo \"a b\"".to_owned()];
        assert_eq!(flow_list(&words), r#"["sh", "-c", "echo \"a b\""]"#);
        assert_eq!(flow_list(&[]), "[]");
    }

    #[test]
    fn what_is_written_reads_back_as_the_string() {
        for text in [
            "A=1",
            "12",
            "yes",
            "a: b",
            "\u{85}\u{2028}x\u{7f}",
            "\"'\\",
            "é ✓ 👋",
        ] {
            let written = format!("key: {}\n", string(text));
            let root = crate::yaml::load(&written)
                .expect("valid")
                .expect("a document");
            let value = &root.as_mapping().expect("a mapping")[0].value;
            assert_eq!(value.as_str(), Some(text), "{written}");
        }
    }
}
