//! The DrakeSpec versions eider understands.

use std::fmt;

use serde::Serialize;

/// The URI every Drakefile must declare (`uri` in the seed draft, `specUri` afterwards).
pub const SPEC_URI: &str = "github.com/lovethedrake/drakespec";

/// One DrakeSpec version. The seed draft (October 2019) carries no number of its own; eider
/// accepts it as `version: v0.0.0`, a number that no release can collide with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpecVersion {
    /// The seed draft, written with `uri` and `version: v0.0.0`.
    Seed,
    /// v0.1.0: `specUri`/`specVersion`, snippets, triggers, source mount modes, shared storage,
    /// `command`/`args` as lists.
    V0_1_0,
    /// v0.2.0: `primaryContainer` and `sidecarContainers`.
    V0_2_0,
    /// v0.3.0: container `resources`.
    V0_3_0,
    /// v0.4.0: `imagePullPolicy`.
    V0_4_0,
    /// v0.5.0: job `osFamily`.
    V0_5_0,
    /// v0.6.0: job `cpuArch`.
    V0_6_0,
}

impl SpecVersion {
    /// Every supported version, oldest first.
    pub const ALL: [Self; 7] = [
        Self::Seed,
        Self::V0_1_0,
        Self::V0_2_0,
        Self::V0_3_0,
        Self::V0_4_0,
        Self::V0_5_0,
        Self::V0_6_0,
    ];

    /// The newest supported version, used for new Drakefiles.
    pub const LATEST: Self = Self::V0_6_0;

    /// The version as written in a Drakefile, e.g. `v0.6.0`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seed => "v0.0.0",
            Self::V0_1_0 => "v0.1.0",
            Self::V0_2_0 => "v0.2.0",
            Self::V0_3_0 => "v0.3.0",
            Self::V0_4_0 => "v0.4.0",
            Self::V0_5_0 => "v0.5.0",
            Self::V0_6_0 => "v0.6.0",
        }
    }

    /// The version as messages name it: `DrakeSpec v0.6.0`, and `the DrakeSpec seed draft` for
    /// the draft, which no one knows by its `v0.0.0`.
    #[must_use]
    pub fn title(self) -> String {
        if self.is_seed() {
            "the DrakeSpec seed draft".to_owned()
        } else {
            format!("DrakeSpec {}", self.as_str())
        }
    }

    /// The version written exactly as `text`, if eider supports it.
    #[must_use]
    pub fn from_written(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|version| version.as_str() == text)
    }

    /// Whether this is the seed draft (`uri` + `version` spelling).
    #[must_use]
    pub fn is_seed(self) -> bool {
        self == Self::Seed
    }

    /// The key that names the spec URI in this version.
    #[must_use]
    pub fn uri_key(self) -> &'static str {
        if self.is_seed() { "uri" } else { "specUri" }
    }

    /// The key that names the version in this version.
    #[must_use]
    pub fn version_key(self) -> &'static str {
        if self.is_seed() {
            "version"
        } else {
            "specVersion"
        }
    }

    /// Whether a job lists its containers in `containers` (primary last) rather than
    /// `primaryContainer` + `sidecarContainers`.
    #[must_use]
    pub fn has_container_list(self) -> bool {
        self < Self::V0_2_0
    }

    /// Whether `command` is one string parsed into words (seed draft) rather than a list.
    #[must_use]
    pub fn has_command_string(self) -> bool {
        self.is_seed()
    }

    /// Whether `environment` may also be written as a mapping. The spec says a list of strings in
    /// every version, but the 2021 reference parser demanded a mapping while still claiming
    /// v0.6.0, so real v0.6.0 Drakefiles use both forms.
    #[must_use]
    pub fn accepts_environment_mapping(self) -> bool {
        self == Self::V0_6_0
    }

    /// Whether a pipeline may not include a job whose `sourceMountMode` is `RW`.
    #[must_use]
    pub fn forbids_read_write_jobs_in_pipelines(self) -> bool {
        self >= Self::V0_1_0
    }
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Serialize for SpecVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Whether `text` has the shape `vX.Y.Z` (digits only).
#[must_use]
pub fn is_version_shaped(text: &str) -> bool {
    let Some(numbers) = text.strip_prefix('v') else {
        return false;
    };
    let parts: Vec<&str> = numbers.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip_and_are_ordered() {
        for version in SpecVersion::ALL {
            assert_eq!(SpecVersion::from_written(version.as_str()), Some(version));
        }
        assert!(SpecVersion::Seed < SpecVersion::V0_1_0);
        assert_eq!(SpecVersion::from_written("v0.7.0"), None);
        assert_eq!(SpecVersion::from_written("0.6.0"), None);
    }

    #[test]
    fn version_shape() {
        assert!(is_version_shaped("v0.6.0"));
        assert!(is_version_shaped("v10.0.12"));
        assert!(!is_version_shaped("0.6.0"));
        assert!(!is_version_shaped("v0.6"));
        assert!(!is_version_shaped("v0.6.0-rc1"));
    }
}
