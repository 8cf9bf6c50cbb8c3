//! Merging the external sources with a container's `environment` from the Drakefile.

use std::collections::HashMap;

use drakefile::EnvironmentVariable;

use super::Variables;

/// The environment a container receives: `external` (the secrets file, then each `--env-file`,
/// then each `-e`, already in that order) overridden by the container's `environment` from the
/// Drakefile, which supersedes every other source (DrakeSpec). The result has no duplicate keys.
///
/// Values: a later occurrence of a key replaces an earlier one, within the external sources and
/// within the Drakefile, and any Drakefile entry replaces every external one.
///
/// Positions: the keys that only external sources set come first, in the order of their first
/// occurrence; then come the keys the Drakefile sets, in the order of their first occurrence in
/// the Drakefile. The Drakefile's keys thus always read in the order the Drakefile's author wrote
/// them, whatever the external sources hold.
#[must_use]
pub fn merge(external: &[(String, String)], drakefile: &[EnvironmentVariable]) -> Variables {
    let mut merged = Variables::with_capacity(external.len() + drakefile.len());
    let mut positions: HashMap<&str, usize> = HashMap::with_capacity(merged.capacity());
    let in_drakefile: std::collections::HashSet<&str> = drakefile
        .iter()
        .map(|variable| variable.name.as_str())
        .collect();
    let sources = external
        .iter()
        .filter(|(name, _)| !in_drakefile.contains(name.as_str()))
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .chain(
            drakefile
                .iter()
                .map(|variable| (variable.name.as_str(), variable.value.as_str())),
        );
    for (name, value) in sources {
        if let Some(&position) = positions.get(name) {
            value.clone_into(&mut merged[position].1);
        } else {
            positions.insert(name, merged.len());
            merged.push((name.to_owned(), value.to_owned()));
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn external(pairs: &[(&str, &str)]) -> Variables {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn drakefile(pairs: &[(&str, &str)]) -> Vec<EnvironmentVariable> {
        pairs
            .iter()
            .map(|(name, value)| EnvironmentVariable {
                name: (*name).to_owned(),
                value: (*value).to_owned(),
            })
            .collect()
    }

    #[test]
    fn a_later_external_value_replaces_an_earlier_one_in_place() {
        // Secrets file, then an env file, then `-e`.
        let sources = external(&[("A", "secret"), ("B", "1"), ("A", "env-file"), ("A", "-e")]);
        assert_eq!(merge(&sources, &[]), external(&[("A", "-e"), ("B", "1")]));
    }

    #[test]
    fn the_drakefile_wins_and_keeps_its_written_order() {
        let sources = external(&[("Z", "external"), ("ONLY", "x"), ("A", "external")]);
        let written = drakefile(&[("A", "drakefile"), ("Z", "drakefile")]);
        assert_eq!(
            merge(&sources, &written),
            external(&[("ONLY", "x"), ("A", "drakefile"), ("Z", "drakefile")])
        );
    }

    #[test]
    fn a_later_drakefile_duplicate_wins_at_the_first_position() {
        let written = drakefile(&[("A", "1"), ("B", "2"), ("A", "3")]);
        assert_eq!(merge(&[], &written), external(&[("A", "3"), ("B", "2")]));
    }

    #[test]
    fn empty_sources_merge_to_nothing() {
        assert_eq!(merge(&[], &[]), Variables::new());
    }

    #[test]
    fn the_result_has_no_duplicate_keys() {
        let sources = external(&[("A", "1"), ("B", "1"), ("A", "2"), ("C", "1"), ("B", "2")]);
        let written = drakefile(&[("C", "3"), ("D", ""), ("C", "4"), ("A", "5")]);
        let merged = merge(&sources, &written);
        assert_eq!(
            merged,
            external(&[("B", "2"), ("C", "4"), ("D", ""), ("A", "5")])
        );
    }
}
