//! The forms a secret takes when a program encodes it before printing: base64 (standard and
//! URL-safe alphabets, at each of the three alignments it can have inside a longer encoded
//! text), a JSON string's escapes, and URL percent-encoding. Each form is masked like the value
//! itself.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// Encoded forms shorter than this are not masked: a few base64 characters match by chance.
pub(crate) const MIN_ENCODED_LENGTH: usize = 8;

/// The encoded forms of `value` that differ from it, each at least [`MIN_ENCODED_LENGTH`]
/// bytes.
pub(crate) fn encoded_forms(value: &str) -> Vec<String> {
    let mut forms = base64_forms(value.as_bytes());
    forms.push(json_escaped(value));
    forms.push(percent_encoded(value, false));
    forms.push(percent_encoded(value, true));
    forms.retain(|form| form != value && form.len() >= MIN_ENCODED_LENGTH);
    forms.sort_unstable();
    forms.dedup();
    forms
}

/// The base64 characters that depend only on `value`'s bytes, wherever it sits in a longer
/// encoded text: for each offset of its first byte within a 3-byte group, the characters of the
/// groups it shares with unknown neighbours are left out.
fn base64_forms(value: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for offset in 0..3_usize {
        let mut padded = vec![0_u8; offset];
        padded.extend_from_slice(value);
        let total = padded.len();
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&padded);
            // Characters before the first one made of the value's bits alone.
            let skip = match offset {
                0 => 0,
                1 => 2,
                _ => 3,
            };
            // The last group: its last character mixes the value's last bits with the next
            // byte's unless the value ends the group.
            let keep = if total % 3 == 0 {
                encoded.len()
            } else {
                encoded.len() - 1
            };
            if keep > skip {
                forms.push(encoded[skip..keep].to_owned());
            }
        }
    }
    forms
}

/// The value as it appears inside a JSON string (without the quotes).
fn json_escaped(value: &str) -> String {
    let quoted = serde_json::to_string(value).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_owned()
}

/// Percent-encoding of every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`); with
/// `plus_for_space`, a space becomes `+` (HTML forms).
fn percent_encoded(value: &str, plus_for_space: bool) -> String {
    let mut encoded = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                encoded.push(char::from(byte));
            }
            b' ' if plus_for_space => encoded.push('+'),
            _ => {
                let _infallible = write!(encoded, "%{byte:02X}");
            }
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    const SECRET: &str = "s3cr3t-value %&\" with/slash";

    #[test]
    fn base64_at_every_offset_holds_one_of_the_forms() {
        let forms = encoded_forms(SECRET);
        for prefix in ["", "x", "xy", "xyz", "hello: "] {
            for suffix in ["", "!", "?!", "and more"] {
                let text = format!("{prefix}{SECRET}{suffix}");
                for encoded in [STANDARD.encode(&text), URL_SAFE_NO_PAD.encode(&text)] {
                    assert!(
                        forms.iter().any(|form| encoded.contains(form.as_str())),
                        "{prefix:?} + secret + {suffix:?} encodes to {encoded}, which no form matches"
                    );
                }
            }
        }
    }

    #[test]
    fn json_and_url_encodings_are_forms() {
        let forms = encoded_forms(SECRET);
        let json = serde_json::to_string(&serde_json::json!({ "token": SECRET })).expect("JSON");
        assert!(
            forms.iter().any(|form| json.contains(form.as_str())),
            "{json}"
        );
        for encoded in [
            "s3cr3t-value%20%25%26%22%20with%2Fslash",
            "s3cr3t-value+%25%26%22+with%2Fslash",
        ] {
            assert!(forms.iter().any(|form| form == encoded), "{encoded}");
        }
    }

    #[test]
    fn forms_equal_to_the_value_or_too_short_are_left_out() {
        assert!(
            encoded_forms("plainvalue")
                .iter()
                .all(|form| form != "plainvalue")
        );
        assert!(
            encoded_forms("abcd")
                .iter()
                .all(|form| form.len() >= MIN_ENCODED_LENGTH)
        );
    }
}
