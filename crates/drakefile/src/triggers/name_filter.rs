//! The GitHub trigger's selector of branch and tag names: `{only: [..], ignore: [..]}`.

/// One entry of `only` or `ignore`.
#[derive(Debug)]
pub(super) enum NamePattern {
    /// The name must equal this text.
    Exact(String),
    /// An entry written `/re/`: the expression must match somewhere in the name (an unanchored
    /// search, as the reference executor's Go `MatchString`).
    Search(regex::Regex),
}

impl NamePattern {
    /// Reads one entry. `/` alone is an exact name, not an empty expression: it needs both
    /// slashes.
    pub(super) fn parse(entry: &str) -> Result<Self, regex::Error> {
        match entry
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix('/'))
        {
            Some(expression) => regex::Regex::new(expression).map(Self::Search),
            None => Ok(Self::Exact(entry.to_owned())),
        }
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Self::Exact(exact) => exact == name,
            Self::Search(expression) => expression.is_match(name),
        }
    }
}

/// A selector: `only` (empty lets every name pass) and `ignore` (any match excludes).
#[derive(Debug, Default)]
pub(super) struct NameFilter {
    pub(super) only: Vec<NamePattern>,
    pub(super) ignore: Vec<NamePattern>,
}

impl NameFilter {
    pub(super) fn matches(&self, name: &str) -> bool {
        let admitted = self.only.is_empty() || self.only.iter().any(|entry| entry.matches(name));
        admitted && !self.ignore.iter().any(|entry| entry.matches(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(only: &[&str], ignore: &[&str]) -> NameFilter {
        let patterns = |entries: &[&str]| {
            entries
                .iter()
                .map(|entry| NamePattern::parse(entry).expect("a valid entry"))
                .collect()
        };
        NameFilter {
            only: patterns(only),
            ignore: patterns(ignore),
        }
    }

    #[test]
    fn an_empty_filter_lets_every_name_pass() {
        assert!(filter(&[], &[]).matches("anything"));
    }

    #[test]
    fn a_plain_entry_must_equal_the_name() {
        let only_main = filter(&["main"], &[]);
        assert!(only_main.matches("main"));
        assert!(!only_main.matches("main2"));
        assert!(!only_main.matches("xmain"));
    }

    #[test]
    fn an_expression_is_searched_anywhere_in_the_name() {
        let versions = filter(&["/v[0-9]+/"], &[]);
        assert!(versions.matches("v1"));
        assert!(versions.matches("xv1"));
        assert!(!versions.matches("version"));
        let anchored = filter(&["/^v[0-9]+$/"], &[]);
        assert!(!anchored.matches("xv1"));
        assert!(anchored.matches("v12"));
    }

    #[test]
    fn ignore_excludes_what_only_admits() {
        let releases = filter(&["/^release-/"], &["release-old", "/-rc$/"]);
        assert!(releases.matches("release-2"));
        assert!(!releases.matches("release-old"));
        assert!(!releases.matches("release-3-rc"));
        assert!(!releases.matches("main"));
        let all_but_wip = filter(&[], &["/^wip-/"]);
        assert!(all_but_wip.matches("main"));
        assert!(!all_but_wip.matches("wip-parser"));
    }

    #[test]
    fn a_lone_slash_is_an_exact_name() {
        assert!(matches!(
            NamePattern::parse("/").expect("valid"),
            NamePattern::Exact(_)
        ));
        assert!(filter(&["//"], &[]).matches("anything"));
    }

    #[test]
    fn a_bad_expression_is_an_error() {
        assert!(NamePattern::parse("/[/").is_err());
    }
}
