//! Splitting a seed-draft `command` string into words, by POSIX shell quoting rules.
//!
//! The draft says the string holds "the command and its arguments" and must be parsed, without
//! saying how. eider splits it like a POSIX shell splits words (quotes, backslashes) and runs the
//! words directly, without a shell. Shell operators would do nothing there, so an unquoted `;`,
//! `&`, `|`, `<`, `>`, `(`, `)` or backquote is an error rather than silently cutting the line
//! short, as the reference executor's parser did.

/// Why a command line cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLineError {
    /// What is wrong.
    pub message: String,
    /// Byte offset in the command string.
    pub offset: usize,
    /// How to fix it.
    pub help: String,
}

const SHELL_HELP: &str = "the command runs without a shell: move the shell syntax into a script, \
     or run a shell explicitly, e.g. `sh -c 'make build && make test'`";

/// Splits `line` into words.
pub fn split_command_line(line: &str) -> Result<Vec<String>, CommandLineError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut characters = line.char_indices().peekable();
    while let Some((offset, character)) = characters.next() {
        match character {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match characters.next() {
                        Some((_, '\'')) => break,
                        Some((_, quoted)) => word.push(quoted),
                        None => return Err(unbalanced('\'', offset)),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match characters.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match characters.next() {
                            // Inside double quotes a backslash escapes only these.
                            Some((_, escaped @ ('"' | '\\' | '$' | '`'))) => word.push(escaped),
                            Some((_, '\n')) => {}
                            Some((_, other)) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err(unbalanced('"', offset)),
                        },
                        Some((_, quoted)) => word.push(quoted),
                        None => return Err(unbalanced('"', offset)),
                    }
                }
            }
            '\\' => match characters.next() {
                Some((_, '\n')) => {}
                Some((_, escaped)) => {
                    in_word = true;
                    word.push(escaped);
                }
                None => {
                    return Err(CommandLineError {
                        message: "the command ends with a lone backslash".to_owned(),
                        offset,
                        help: "remove it, or write `\\\\` for a literal backslash".to_owned(),
                    });
                }
            },
            ';' | '&' | '|' | '<' | '>' | '(' | ')' | '`' => {
                return Err(CommandLineError {
                    message: format!("unquoted shell operator `{character}`"),
                    offset,
                    help: SHELL_HELP.to_owned(),
                });
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn unbalanced(quote: char, offset: usize) -> CommandLineError {
    CommandLineError {
        message: format!("the quote `{quote}` is never closed"),
        offset,
        help: format!("add the closing `{quote}`, or escape the quote with a backslash"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split_command_line(line).expect("valid command line")
    }

    #[test]
    fn words_follow_shell_quoting() {
        assert_eq!(words("echo hello  world"), ["echo", "hello", "world"]);
        assert_eq!(words("echo 'a b' \"c d\""), ["echo", "a b", "c d"]);
        assert_eq!(
            words(r#"echo "say \"hi\"" it\'s"#),
            ["echo", "say \"hi\"", "it's"]
        );
        assert_eq!(words(r#"echo "\n" '\n'"#), ["echo", "\\n", "\\n"]);
        assert_eq!(words("echo ''"), ["echo", ""]);
        assert_eq!(words("a'b'\"c\"d"), ["abcd"]);
        assert_eq!(words("echo $HOME"), ["echo", "$HOME"]);
        assert_eq!(
            words("echo 'a;b' \"c|d\" e\\;f"),
            ["echo", "a;b", "c|d", "e;f"]
        );
        assert_eq!(words("   "), Vec::<String>::new());
    }

    #[test]
    fn unbalanced_quotes_point_at_the_opening_quote() {
        let error = split_command_line("echo 'unterminated").expect_err("unbalanced");
        assert_eq!(error.offset, 5);
        assert_eq!(error.message, "the quote `'` is never closed");
        let error = split_command_line("echo \"x\\\"").expect_err("unbalanced");
        assert_eq!(error.offset, 5);
    }

    #[test]
    fn shell_operators_are_refused_not_truncated() {
        for (line, offset) in [
            ("make build && make test", 11),
            ("ls | wc", 3),
            ("a;b", 1),
            ("cat < in", 4),
            ("echo > out", 5),
            ("echo `id`", 5),
        ] {
            let error = split_command_line(line).expect_err("operator");
            assert_eq!(error.offset, offset, "{line}");
            assert!(error.help.contains("sh -c"));
        }
    }
}
