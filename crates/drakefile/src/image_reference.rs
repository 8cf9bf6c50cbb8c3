//! A check of image references against the grammar of OCI/Docker references
//! (`[registry[:port]/]path[:tag][@algorithm:hex]`), so that typos fail at validation rather
//! than halfway through a run.

/// Why `reference` is not a valid image reference, if it is not.
pub fn problem(reference: &str) -> Option<String> {
    if reference.is_empty() {
        return Some("the image is empty".to_owned());
    }
    if let Some(character) = reference
        .chars()
        .find(|character| character.is_whitespace() || character.is_control())
    {
        return Some(format!("the image contains {character:?}"));
    }
    let (rest, digest) = match reference.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (reference, None),
    };
    if let Some(digest) = digest
        && let Some(problem) = digest_problem(digest)
    {
        return Some(problem);
    }
    // A tag follows the last `:` that comes after the last `/` (a `:` before it is a port).
    let last_slash = rest.rfind('/').map_or(0, |index| index + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(index) => (
            &rest[..last_slash + index],
            Some(&rest[last_slash + index + 1..]),
        ),
        None => (rest, None),
    };
    if let Some(tag) = tag
        && !is_tag(tag)
    {
        return Some(format!(
            "`{tag}` is not a valid tag (letters, digits, `_`, `.`, `-`; at most 128; not starting with `.` or `-`)"
        ));
    }
    name_problem(name)
}

fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the image has no repository name".to_owned());
    }
    if name.len() > 255 {
        return Some("the repository name is longer than 255 characters".to_owned());
    }
    let mut components: Vec<&str> = name.split('/').collect();
    // The first component is a registry when it looks like a host: it has a dot or a port, or
    // is `localhost`.
    if components.len() > 1 {
        let first = components[0];
        if first.contains('.') || first.contains(':') || first == "localhost" {
            if !is_registry(first) {
                return Some(format!("`{first}` is not a valid registry host"));
            }
            components.remove(0);
        }
    }
    for component in components {
        if component
            .chars()
            .any(|character| character.is_ascii_uppercase())
        {
            return Some(format!(
                "repository names must be lowercase, `{component}` is not"
            ));
        }
        if !is_path_component(component) {
            return Some(format!(
                "`{component}` is not a valid repository name component (lowercase letters and digits, separated by `.`, `_`, `__` or dashes)"
            ));
        }
    }
    None
}

fn is_registry(host: &str) -> bool {
    let (domain, port) = match host.rsplit_once(':') {
        Some((domain, port)) => (domain, Some(port)),
        None => (host, None),
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|byte| byte.is_ascii_digit()))
    {
        return false;
    }
    if domain.starts_with('[') && domain.ends_with(']') {
        return domain.len() > 2
            && domain[1..domain.len() - 1]
                .bytes()
                .all(|byte| byte.is_ascii_hexdigit() || byte == b':');
    }
    !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
}

fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    if bytes.is_empty()
        || !is_lower_alphanumeric(bytes[0])
        || !is_lower_alphanumeric(bytes[bytes.len() - 1])
    {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        if is_lower_alphanumeric(bytes[index]) {
            index += 1;
            continue;
        }
        // A separator: `.`, `_`, `__`, or one or more `-`.
        let start = index;
        match bytes[index] {
            b'.' => index += 1,
            b'_' => {
                index += 1;
                if bytes.get(index) == Some(&b'_') {
                    index += 1;
                }
            }
            b'-' => {
                while bytes.get(index) == Some(&b'-') {
                    index += 1;
                }
            }
            _ => return false,
        }
        if index == start || !bytes.get(index).copied().is_some_and(is_lower_alphanumeric) {
            return false;
        }
    }
    true
}

fn is_lower_alphanumeric(byte: u8) -> bool {
    byte.is_ascii_lowercase() || byte.is_ascii_digit()
}

fn is_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'))
}

fn digest_problem(digest: &str) -> Option<String> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Some(format!(
            "`{digest}` is not a digest (expected `sha256:<hex>`)"
        ));
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm
            .split(['+', '.', '_', '-'])
            .all(|part| !part.is_empty() && part.bytes().all(is_lower_alphanumeric));
    if !algorithm_ok {
        return Some(format!("`{algorithm}` is not a digest algorithm"));
    }
    let expected_length = match algorithm {
        "sha256" => Some(64),
        "sha512" => Some(128),
        _ => None,
    };
    let hex_ok = hex.len() >= 32 && hex.bytes().all(|byte| byte.is_ascii_hexdigit());
    if !hex_ok || expected_length.is_some_and(|length| hex.len() != length) {
        return Some(format!("`{digest}` is not a valid {algorithm} digest"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_references() {
        for reference in [
            "busybox",
            "busybox:1.36",
            "library/busybox:latest",
            "localhost:5000/eider/test:v1",
            "127.0.0.1:5000/a/b/c",
            "registry.example.com/team/app-name__x.y:1.0_rc-2",
            "ghcr.io/owner/image@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "debian:stretch",
            "my-registry:5000/x",
        ] {
            assert_eq!(problem(reference), None, "{reference}");
        }
    }

    #[test]
    fn invalid_references() {
        for (reference, expected) in [
            ("", "empty"),
            ("Busybox", "lowercase"),
            ("busybox:", "tag"),
            ("busybox:-x", "tag"),
            ("bad image", "contains"),
            ("a//b", "component"),
            ("a-/b", "component"),
            ("busybox@sha256:abc", "digest"),
            ("busybox@md5", "digest"),
        ] {
            let problem = problem(reference).unwrap_or_default();
            assert!(problem.contains(expected), "{reference}: {problem}");
        }
    }
}
