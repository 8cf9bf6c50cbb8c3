//! A fuzz input as linked blobs, so that the fuzzer can reach past digest checks.
//!
//! The input is split at lines holding only `%%`. The first part is the root document (an
//! `index.json`, or a manifest); each further part is a blob. In a blob, `@N` stands for the
//! digest (`sha256:...`) and `#N` for the size of blob `N` (1-based) when `N` comes after it; in
//! the root, any blob may be named. Blobs are therefore resolved from the last to the first,
//! which is also why a manifest can name its config and layers by their real digests.

use eider_oci::Digest;

/// At most this many blobs are made; the rest of the input stays in the last one.
pub const MOST_BLOBS: usize = 8;

const SEPARATOR: &[u8] = b"\n%%\n";

/// The root document and the blobs, digests and sizes substituted.
#[derive(Debug)]
pub struct LinkedBlobs {
    /// The root document.
    pub root: Vec<u8>,
    /// The blobs, in input order, with their digests.
    pub blobs: Vec<(Digest, Vec<u8>)>,
}

impl LinkedBlobs {
    /// Splits `input` and substitutes the references.
    #[must_use]
    pub fn from_input(input: &[u8]) -> Self {
        let mut parts = split(input);
        let root = parts.remove(0);
        let mut resolved: Vec<(Digest, Vec<u8>)> = Vec::with_capacity(parts.len());
        for (index, part) in parts.iter().enumerate().rev() {
            // `resolved` holds blobs index+1.. in reverse order.
            let later = |number: usize| {
                let position = number.checked_sub(index + 2)?;
                resolved.iter().rev().nth(position)
            };
            let bytes = substitute(part, later);
            resolved.push((Digest::of(&bytes), bytes));
        }
        resolved.reverse();
        let root = substitute(&root, |number| resolved.get(number.checked_sub(1)?));
        Self {
            root,
            blobs: resolved,
        }
    }
}

fn split(input: &[u8]) -> Vec<Vec<u8>> {
    let mut parts = Vec::new();
    let mut rest = input;
    while parts.len() < MOST_BLOBS
        && let Some(position) = rest
            .windows(SEPARATOR.len())
            .position(|window| window == SEPARATOR)
    {
        parts.push(rest[..position].to_vec());
        rest = &rest[position + SEPARATOR.len()..];
    }
    parts.push(rest.to_vec());
    parts
}

/// Replaces `@N` and `#N` (one digit) by the digest and size of blob `N`, when `blob` knows it.
fn substitute<'a>(part: &[u8], blob: impl Fn(usize) -> Option<&'a (Digest, Vec<u8>)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(part.len());
    let mut index = 0;
    while index < part.len() {
        let marker = part[index];
        let number = part.get(index + 1).filter(|byte| byte.is_ascii_digit());
        if let (b'@' | b'#', Some(digit)) = (marker, number)
            && let Some((digest, bytes)) = blob(usize::from(digit - b'0'))
        {
            let text = if marker == b'@' {
                digest.to_string()
            } else {
                bytes.len().to_string()
            };
            out.extend_from_slice(text.as_bytes());
            index += 2;
        } else {
            out.push(marker);
            index += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_names_a_later_one_and_the_root_names_any() {
        let linked = LinkedBlobs::from_input(b"[@1 #1]\n%%\n{@2 #2 @1}\n%%\nconfig");
        let config = Digest::of(b"config");
        let manifest = format!("{{{config} 6 @1}}");
        assert_eq!(linked.blobs[1].1, b"config");
        assert_eq!(linked.blobs[0].1, manifest.as_bytes());
        assert_eq!(
            linked.root,
            format!("[{} {}]", Digest::of(manifest.as_bytes()), manifest.len()).as_bytes()
        );
    }
}
