//! Where in a trigger something is: `config.push.branches.only[1]`, kept as steps so that the
//! validator can find the line and column, and shown as text in messages.

use std::fmt;

/// One step below the trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigStep {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// A path from the trigger (its first step is `config`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPath(Vec<ConfigStep>);

impl ConfigPath {
    /// `config` itself.
    #[must_use]
    pub fn config() -> Self {
        Self(vec![ConfigStep::Key("config".to_owned())])
    }

    /// The path of a key below this one.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(ConfigStep::Key(key.to_owned()));
        Self(steps)
    }

    /// The path of a list element below this one.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(ConfigStep::Index(index));
        Self(steps)
    }

    /// The steps, from the trigger down.
    #[must_use]
    pub fn steps(&self) -> &[ConfigStep] {
        &self.0
    }
}

impl fmt::Display for ConfigPath {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, step) in self.0.iter().enumerate() {
            match step {
                ConfigStep::Key(key) if position == 0 => formatter.write_str(key)?,
                ConfigStep::Key(key) => write!(formatter, ".{key}")?,
                ConfigStep::Index(index) => write!(formatter, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_the_trigger() {
        let path = ConfigPath::config()
            .key("push")
            .key("tags")
            .key("only")
            .index(1);
        assert_eq!(path.to_string(), "config.push.tags.only[1]");
        assert_eq!(path.steps().len(), 5);
    }
}
