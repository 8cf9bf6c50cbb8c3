//! Names and label values as Kubernetes accepts them: DNS labels for objects and containers,
//! at most 63 characters of `[a-z0-9-]`; label values of `[A-Za-z0-9._-]`, starting and ending
//! with an alphanumeric character.

/// The longest object name, container name and label value Kubernetes accepts.
const MAX_LENGTH: usize = 63;

/// `text` as a DNS label: lower case, every other character a hyphen, no hyphen at either end,
/// cut to 63 characters. Distinct texts may meet in one name (`a_b`, `a.b`): callers that need
/// distinct names keep them apart.
#[must_use]
pub fn object_name(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|character| {
            let character = character.to_ascii_lowercase();
            if character.is_ascii_lowercase() || character.is_ascii_digit() {
                character
            } else {
                '-'
            }
        })
        .collect();
    let mut name: String = mapped.trim_matches('-').chars().take(MAX_LENGTH).collect();
    while name.ends_with('-') {
        name.pop();
    }
    if name.is_empty() {
        "eider".to_owned()
    } else {
        name
    }
}

/// The name of an object of run `run_id` as a whole: its owner (`what` none), its Secret
/// (`secrets`), its shared-storage claim (`shared`).
#[must_use]
pub fn run_object_name(run_id: &str, what: Option<&str>) -> String {
    match what {
        Some(what) => object_name(&format!("eider-{run_id}-{what}")),
        None => object_name(&format!("eider-{run_id}")),
    }
}

/// `text` as a label value: every character outside `[A-Za-z0-9._-]` an underscore, no
/// punctuation at either end, cut to 63 characters.
#[must_use]
pub fn label_value(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-') {
                character
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches(|character: char| !character.is_ascii_alphanumeric());
    let mut value: String = trimmed.chars().take(MAX_LENGTH).collect();
    while value.ends_with(|character: char| !character.is_ascii_alphanumeric()) {
        value.pop();
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_labels() {
        assert_eq!(
            object_name("eider-0a1b-0-Build_All"),
            "eider-0a1b-0-build-all"
        );
        assert_eq!(object_name("__x__"), "x");
        assert_eq!(object_name("!!!"), "eider");
        let long = object_name(&"a".repeat(80));
        assert_eq!(long.len(), 63);
        assert_eq!(
            object_name(&format!("{}-b", "a".repeat(62))),
            "a".repeat(62)
        );
    }

    #[test]
    fn label_values_keep_what_kubernetes_allows() {
        assert_eq!(label_value("build.all_1-2"), "build.all_1-2");
        assert_eq!(label_value("4026531836:5e1f"), "4026531836_5e1f");
        assert_eq!(label_value("-x-"), "x");
        assert_eq!(label_value(""), "");
    }
}
