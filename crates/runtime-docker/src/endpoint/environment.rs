//! The environment variables that choose the engine, read once: the resolver takes them as a
//! value, so that its tests give it theirs instead of the process's.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;

use super::EndpointError;

/// Every variable the resolution reads.
const VARIABLES: [&str; 8] = [
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_TLS_VERIFY",
    "DOCKER_TLS",
    "DOCKER_CERT_PATH",
    "XDG_RUNTIME_DIR",
    "HOME",
];

/// The values of the variables that choose the engine and its TLS. An empty value counts as
/// unset, as for the docker CLI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineEnvironment {
    values: BTreeMap<&'static str, String>,
}

impl EngineEnvironment {
    /// The process's variables; one that is not UTF-8 is an error naming it.
    pub fn of_process() -> Result<Self, EndpointError> {
        let mut values = BTreeMap::new();
        for variable in VARIABLES {
            match std::env::var(variable) {
                Ok(value) => {
                    values.insert(variable, value);
                }
                Err(std::env::VarError::NotPresent) => {}
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(EndpointError::NotUnicode { variable });
                }
            }
        }
        Ok(Self { values })
    }

    /// These values, for tests and callers that choose for themselves; other names are ignored.
    #[must_use]
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let values = pairs
            .into_iter()
            .filter_map(|(name, value)| {
                let variable = VARIABLES.into_iter().find(|known| *known == name)?;
                Some((variable, value.to_owned()))
            })
            .collect();
        Self { values }
    }

    /// The value of `variable` when set and not empty.
    pub(crate) fn get(&self, variable: &str) -> Option<&str> {
        self.values
            .get(variable)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// The docker CLI's configuration directory: `DOCKER_CONFIG`, else `~/.docker`.
    pub(crate) fn config_directory(&self) -> Option<Utf8PathBuf> {
        self.get("DOCKER_CONFIG")
            .map(Utf8PathBuf::from)
            .or_else(|| {
                self.get("HOME")
                    .map(|home| Utf8PathBuf::from(home).join(".docker"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_unset_and_unknown_names_are_ignored() {
        let environment =
            EngineEnvironment::from_pairs([("DOCKER_HOST", ""), ("PATH", "/bin"), ("HOME", "/h")]);
        assert_eq!(environment.get("DOCKER_HOST"), None);
        assert_eq!(environment.get("PATH"), None);
        assert_eq!(environment.get("HOME"), Some("/h"));
    }

    #[test]
    fn the_config_directory_is_docker_config_else_dot_docker_in_home() {
        let home = EngineEnvironment::from_pairs([("HOME", "/home/u")]);
        assert_eq!(
            home.config_directory(),
            Some(Utf8PathBuf::from("/home/u/.docker"))
        );
        let both = EngineEnvironment::from_pairs([("HOME", "/home/u"), ("DOCKER_CONFIG", "/c")]);
        assert_eq!(both.config_directory(), Some(Utf8PathBuf::from("/c")));
        assert_eq!(EngineEnvironment::default().config_directory(), None);
    }
}
