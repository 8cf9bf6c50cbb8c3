//! Resource quantities (`500m`, `2`, `128Mi`, `1e3`) as the scheduler compares them.

/// The value of a quantity in base units (cores, bytes), or `None` when it does not parse.
pub(crate) fn parse(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|character: char| {
            !(character.is_ascii_digit() || matches!(character, '.' | '+' | '-'))
        })
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let multiplier = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0_f64.powi(2),
        "Gi" => 1024.0_f64.powi(3),
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        "Ei" => 1024.0_f64.powi(6),
        exponent if exponent.starts_with(['e', 'E']) => 10_f64.powi(exponent[1..].parse().ok()?),
        _ => return None,
    };
    Some(number * multiplier)
}

/// CPU in millicores, rounded up as Kubernetes does.
pub(crate) fn millicores(text: &str) -> Option<u64> {
    parse(text).map(|cores| float_to_u64((cores * 1000.0).ceil()))
}

/// Memory in bytes, rounded up.
pub(crate) fn bytes(text: &str) -> Option<u64> {
    parse(text).map(|bytes| float_to_u64(bytes.ceil()))
}

#[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
fn float_to_u64(value: f64) -> u64 {
    // Saturating: negative or huge quantities are not met in valid requests.
    value.max(0.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu() {
        assert_eq!(millicores("500m"), Some(500));
        assert_eq!(millicores("2"), Some(2000));
        assert_eq!(millicores("0.25"), Some(250));
        assert_eq!(millicores("100"), Some(100_000));
        assert_eq!(millicores("x"), None);
    }

    #[test]
    fn memory() {
        assert_eq!(bytes("128Mi"), Some(128 << 20));
        assert_eq!(bytes("1Gi"), Some(1 << 30));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(bytes("1e3"), Some(1000));
        assert_eq!(bytes("64k"), Some(64_000));
    }
}
