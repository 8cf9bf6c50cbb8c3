//! "Did you mean ...?" for misspelled names.

/// The candidate closest to `written`, if it is close enough to be a plausible typo.
pub fn closest<'a>(
    written: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lowered = written.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            let distance = strsim::damerau_levenshtein(&lowered, &candidate.to_lowercase());
            (distance, candidate)
        })
        .filter(|(distance, candidate)| {
            // Case-only differences always qualify; otherwise allow about one edit per three
            // characters, so short names do not attract unrelated suggestions.
            *distance == 0 || *distance <= (candidate.len().max(written.len()) / 3).max(1)
        })
        .min_by_key(|(distance, candidate)| (*distance, *candidate))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let fields = [
            "image",
            "imagePullPolicy",
            "environment",
            "workingDirectory",
            "name",
        ];
        assert_eq!(closest("imagePullPolice", fields), Some("imagePullPolicy"));
        assert_eq!(closest("enviroment", fields), Some("environment"));
        assert_eq!(closest("Image", fields), Some("image"));
        assert_eq!(closest("workdir", fields), None);
        assert_eq!(closest("timeout", fields), None);
    }
}
