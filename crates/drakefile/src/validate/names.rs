//! The naming rule for jobs, pipelines and containers.

/// The rule as the reference parser wrote it.
pub(super) const NAME_PATTERN: &str = r"^\w[\w-]*$";

/// Whether `name` matches `^\w[\w-]*$` with ASCII word characters, the reference parser's rule
/// (the spec itself has none; files outside it fail in every reference consumer).
pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphanumeric() || first == b'_')
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// A name that follows the rule, for the hint.
pub(super) fn suggest_name(name: &str) -> String {
    let mut fixed: String = name
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || character == '_' || character == '-' {
                character
            } else {
                '-'
            }
        })
        .collect();
    while fixed.starts_with('-') {
        fixed.remove(0);
    }
    if fixed.is_empty() {
        "name".to_owned()
    } else {
        fixed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for valid in ["test", "build-linux", "_x", "9lives", "a_b-c"] {
            assert!(is_valid_name(valid), "{valid}");
        }
        for invalid in ["", "-x", "a.b", "a b", "é", "a/b"] {
            assert!(!is_valid_name(invalid), "{invalid}");
        }
        assert_eq!(suggest_name("unit tests"), "unit-tests");
        assert_eq!(suggest_name(".hidden"), "hidden");
    }
}
