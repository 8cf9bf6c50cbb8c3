//! Resolution of plain scalars by the YAML 1.2 core schema.
//!
//! YAML 1.2 is used rather than 1.1 so that `name: n` or `country: no` stay strings; the boolean
//! fields of a Drakefile still accept the 1.1 spellings (`yes`, `on`) that the reference parser
//! understood, see `validate::values`.

use super::node::Value;

/// Resolves an untagged plain scalar.
pub(super) fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(value) = resolve_integer(text) {
        return value;
    }
    if is_float(text)
        && let Ok(number) = text.parse::<f64>()
    {
        return Value::Float(number);
    }
    Value::String {
        text: text.to_owned(),
        plain: true,
    }
}

fn resolve_integer(text: &str) -> Option<Value> {
    let (digits, radix) = if let Some(octal) = text.strip_prefix("0o") {
        (octal, 8)
    } else if let Some(hexadecimal) = text.strip_prefix("0x") {
        (hexadecimal, 16)
    } else {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        if unsigned.is_empty() || !unsigned.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        return Some(match text.parse::<i64>() {
            Ok(integer) => Value::Integer(integer),
            // Too large for 64 bits: still a number, never silently a string.
            Err(_) => Value::Float(text.parse::<f64>().unwrap_or(f64::INFINITY)),
        });
    };
    if digits.is_empty()
        || !digits
            .bytes()
            .all(|byte| byte.is_ascii_digit() || radix == 16 && byte.is_ascii_hexdigit())
    {
        return None;
    }
    if radix == 8 && digits.bytes().any(|byte| byte > b'7') {
        return None;
    }
    Some(match i64::from_str_radix(digits, radix) {
        Ok(integer) => Value::Integer(integer),
        Err(_) => Value::Float(f64::INFINITY),
    })
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(text: &str) -> bool {
    let bytes = text.strip_prefix(['-', '+']).unwrap_or(text).as_bytes();
    let mut index = 0;
    let integer_digits = count_digits(&bytes[index..]);
    index += integer_digits;
    let mut fraction_digits = 0;
    if bytes.get(index) == Some(&b'.') {
        index += 1;
        fraction_digits = count_digits(&bytes[index..]);
        index += fraction_digits;
    }
    if integer_digits == 0 && fraction_digits == 0 {
        return false;
    }
    if matches!(bytes.get(index), Some(b'e' | b'E')) {
        index += 1;
        if matches!(bytes.get(index), Some(b'-' | b'+')) {
            index += 1;
        }
        let exponent_digits = count_digits(&bytes[index..]);
        if exponent_digits == 0 {
            return false;
        }
        index += exponent_digits;
    }
    index == bytes.len()
}

fn count_digits(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> &'static str {
        match resolve_plain(text) {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Integer(_) => "int",
            Value::Float(_) => "float",
            Value::String { .. } => "string",
            Value::Sequence(_) | Value::Mapping(_) => "collection",
        }
    }

    #[test]
    fn core_schema_resolution() {
        for (text, expected) in [
            ("", "null"),
            ("~", "null"),
            ("true", "bool"),
            ("False", "bool"),
            ("yes", "string"),
            ("on", "string"),
            ("n", "string"),
            ("12", "int"),
            ("-3", "int"),
            ("0x1F", "int"),
            ("0o17", "int"),
            ("0o19", "string"),
            ("1.10", "float"),
            (".5", "float"),
            ("1e3", "float"),
            ("1e", "string"),
            ("99999999999999999999", "float"),
            ("v0.6.0", "string"),
            ("0.6.0", "string"),
            ("-", "string"),
            (".", "string"),
            (".inf", "float"),
        ] {
            assert_eq!(kind(text), expected, "{text:?}");
        }
    }
}
