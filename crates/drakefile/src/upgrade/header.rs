//! The two lines that say which DrakeSpec a file follows: leaving the seed draft renames
//! `uri`/`version` to `specUri`/`specVersion`; every step writes the new version.

use super::pass::Pass;
use super::scalar::{rename_key, scalar_range};
use super::sites::Location;

/// Writes `pass.to` as the declared version, in the spelling of its dialect.
pub(super) fn convert(pass: &mut Pass<'_>) {
    if pass.from == pass.to {
        return;
    }
    let document = pass.document;
    let Some(root) = document.root() else {
        return;
    };
    let version_key = pass.from.version_key();
    let location = Location::default().key(pass.to.version_key());
    let Some(version) = document.field(root, version_key) else {
        return;
    };
    if pass.from.is_seed() && !pass.to.is_seed() {
        if let Some(uri) = document.field(root, "uri") {
            rename_key(document, &mut pass.edits, uri.key, "specUri");
        }
        rename_key(document, &mut pass.edits, version.key, "specVersion");
    }
    let value = version.value;
    if version.merged || document.is_alias(value) {
        pass.refuse(
            pass.span(value),
            &location,
            "the version is not written here but repeated from elsewhere",
            format!(
                "write `{}: {}` in place",
                pass.from.version_key(),
                pass.from
            ),
        );
        return;
    }
    let Some(range) = scalar_range(pass, value) else {
        return;
    };
    // Keep the quoting: replace the version where it is written inside the scalar.
    let written = &pass.text[range.start..range.end];
    let (start, end) = match written.find(pass.from.as_str()) {
        Some(index) => (
            range.start + index,
            range.start + index + pass.from.as_str().len(),
        ),
        None => (range.start, range.end),
    };
    // Not listed as a conversion: the summary of the upgrade names both versions.
    pass.edits.replace(start, end, pass.to.as_str());
}

#[cfg(test)]
mod tests {
    use crate::version::SpecVersion;

    use super::super::test_support::upgraded;

    #[test]
    fn the_seed_spelling_becomes_spec_uri_and_spec_version() {
        let text = "# A seed-draft Drakefile\nversion: v0.0.0   # the draft\nuri: github.com/lovethedrake/drakespec\n";
        assert_eq!(
            upgraded(text, SpecVersion::V0_1_0).text,
            "# A seed-draft Drakefile\nspecVersion: v0.1.0   # the draft\nspecUri: github.com/lovethedrake/drakespec\n"
        );
    }

    #[test]
    fn the_version_keeps_its_quoting() {
        let text =
            "{\"specUri\": \"github.com/lovethedrake/drakespec\", \"specVersion\": \"v0.2.0\"}\n";
        assert_eq!(
            upgraded(text, SpecVersion::V0_6_0).text,
            text.replace("v0.2.0", "v0.6.0")
        );
        let text = "uri: 'github.com/lovethedrake/drakespec'\n'version': 'v0.0.0'\n";
        assert_eq!(
            upgraded(text, SpecVersion::V0_4_0).text,
            "specUri: 'github.com/lovethedrake/drakespec'\n'specVersion': 'v0.4.0'\n"
        );
    }
}
