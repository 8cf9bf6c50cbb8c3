//! `--log-limit SIZE` and the config file's `log-limit`: how much output a job may print.
//!
//! There is no limit unless one is set. eider keeps no log of its own (memory stays bounded
//! whatever a job prints) and its output goes where the user sent it; cutting a local build's
//! output would hide the error that usually comes at its end. A CI runner that stores logs sets
//! a limit (GitLab Runner's is 4 MiB per job) in its config file or `EIDER_LOG_LIMIT`.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A log limit: bytes per job, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogLimit(Option<u64>);

impl LogLimit {
    /// The limit in bytes, `None` when there is none (what the engine takes).
    #[must_use]
    pub fn bytes(self) -> Option<u64> {
        self.0
    }
}

/// Binary units, as Docker's `--memory` reads them: `k` is 1024 bytes.
const UNITS: [(&str, u64); 4] = [("", 1), ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30)];

/// Parses `4MiB`, `500k`, `1048576`, `2 GB`; `0` and `none` mean no limit. Units are binary
/// whatever their spelling (`k`, `kb`, `kib`: 1024 bytes).
pub fn parse(text: &str) -> Result<LogLimit, String> {
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("none") {
        return Ok(LogLimit(None));
    }
    let split = trimmed
        .find(|character: char| !character.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let invalid = || format!("`{text}` is not a size (expected e.g. 4MiB, 500k, 0 or none)");
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(&unit);
    let multiplier = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, multiplier)| *multiplier)
        .ok_or_else(invalid)?;
    let bytes = number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("`{text}` is too large"))?;
    Ok(LogLimit((bytes > 0).then_some(bytes)))
}

/// `4 MiB`, `500 KiB`, `1000 bytes`: the largest binary unit that divides the size.
pub struct Size(pub u64);

impl fmt::Display for Size {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let named = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
            .into_iter()
            .find(|(_, unit)| self.0 >= *unit && self.0.is_multiple_of(*unit));
        match named {
            Some((name, unit)) => write!(formatter, "{} {name}", self.0 / unit),
            None if self.0 == 1 => formatter.write_str("1 byte"),
            None => write!(formatter, "{} bytes", self.0),
        }
    }
}

impl<'de> Deserialize<'de> for LogLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_in_binary_units() {
        for (text, bytes) in [
            ("4MiB", 4 << 20),
            ("4 MiB", 4 << 20),
            ("4m", 4 << 20),
            ("4MB", 4 << 20),
            ("500k", 500 << 10),
            ("500KiB", 500 << 10),
            ("1g", 1 << 30),
            ("1048576", 1 << 20),
            ("10b", 10),
        ] {
            assert_eq!(parse(text), Ok(LogLimit(Some(bytes))), "{text}");
        }
    }

    #[test]
    fn zero_and_none_mean_no_limit() {
        for text in ["0", "0MiB", "none", "None"] {
            assert_eq!(parse(text), Ok(LogLimit(None)), "{text}");
        }
    }

    #[test]
    fn other_text_is_refused_naming_it() {
        for text in ["", "MiB", "4 TiB", "-1", "4.5M", "4MiBs"] {
            let error = parse(text).expect_err(text);
            assert!(error.contains(&format!("`{text}`")), "{error}");
        }
        assert!(parse("99999999999g").is_err());
    }

    #[test]
    fn sizes_are_shown_in_the_largest_exact_unit() {
        assert_eq!(Size(4 << 20).to_string(), "4 MiB");
        assert_eq!(Size(500 << 10).to_string(), "500 KiB");
        assert_eq!(Size(1000).to_string(), "1000 bytes");
        assert_eq!(Size(1).to_string(), "1 byte");
    }
}
