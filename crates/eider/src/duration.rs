//! Durations of the settings (`--timeout`, `--grace-period`, `--engine-timeout` and the config
//! file's `timeout`, `grace-period`, `engine-timeout`): one type, one parser, the same rules
//! whether a duration comes from a flag, an environment variable or the config file.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A duration longer than zero: a zero timeout would end every job at once, and a zero grace
/// period would never let a container stop on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositiveDuration(Duration);

impl PositiveDuration {
    /// The duration.
    #[must_use]
    pub fn get(self) -> Duration {
        self.0
    }
}

/// Parses durations as people write them: `90s`, `15m`, `1h30m`.
pub fn parse(text: &str) -> Result<PositiveDuration, String> {
    let duration = humantime::parse_duration(text)
        .map_err(|error| format!("{error} (examples: 90s, 15m, 1h30m)"))?;
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(PositiveDuration(duration))
}

impl<'de> Deserialize<'de> for PositiveDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).map_err(|error| serde::de::Error::custom(format!("`{text}`: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_as_people_write_them() {
        assert_eq!(
            parse("90s").map(PositiveDuration::get),
            Ok(Duration::from_secs(90))
        );
        assert_eq!(
            parse("1h30m").map(PositiveDuration::get),
            Ok(Duration::from_secs(5400))
        );
    }

    #[test]
    fn zero_and_nonsense_are_refused() {
        for text in ["0s", "0", "0ms"] {
            let error = parse(text).expect_err(text);
            assert!(error.contains("longer than zero"), "{error}");
        }
        let error = parse("soon").expect_err("soon");
        assert!(error.contains("examples: 90s"), "{error}");
    }

    #[test]
    fn the_config_file_and_the_flag_share_the_rules() {
        #[derive(Deserialize)]
        struct Table {
            timeout: PositiveDuration,
        }
        let table: Table = toml::from_str("timeout = \"2s\"").expect("valid");
        assert_eq!(table.timeout.get(), Duration::from_secs(2));
        let Err(error) = toml::from_str::<Table>("timeout = \"0s\"") else {
            panic!("a zero timeout was accepted");
        };
        assert!(
            error.to_string().contains("`0s`: must be longer than zero"),
            "{error}"
        );
    }
}
