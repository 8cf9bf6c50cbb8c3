//! Image references, `REGISTRY/REPOSITORY[:TAG][@DIGEST]`, with Docker's defaults: a name without
//! a registry host is on Docker Hub, and a one-segment Docker Hub name is under `library/`.

use std::fmt;
use std::str::FromStr;

use eider_oci_types::Digest;

/// The host serving Docker Hub's distribution API.
pub const DOCKER_HUB_REGISTRY: &str = "registry-1.docker.io";

/// Names users write for Docker Hub; the API answers only on [`DOCKER_HUB_REGISTRY`].
const DOCKER_HUB_ALIASES: [&str; 3] = ["docker.io", "index.docker.io", DOCKER_HUB_REGISTRY];

/// The optional scheme of `docker://REGISTRY/REPO:TAG`, as skopeo and the CLI's `--output` use.
const DOCKER_SCHEME: &str = "docker://";

/// The tag a reference without tag or digest stands for.
pub const DEFAULT_TAG: &str = "latest";

/// The distribution spec's bounds on names and tags.
const MAX_REPOSITORY_LENGTH: usize = 255;
const MAX_TAG_LENGTH: usize = 128;

/// A repository on a registry: where blobs and manifests live.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repository {
    registry: String,
    name: String,
}

impl Repository {
    /// A repository from a registry host (`HOST[:PORT]`) and a repository name, both checked.
    pub fn new(registry: &str, name: &str) -> Result<Self, ReferenceError> {
        let input = format!("{registry}/{name}");
        let error = |kind| ReferenceError {
            input: input.clone(),
            kind,
        };
        check_registry(registry).map_err(error)?;
        check_repository(name).map_err(error)?;
        Ok(Self {
            registry: canonical_registry(registry),
            name: name.to_owned(),
        })
    }

    /// The registry host, with its port when one was given (`127.0.0.1:5000`).
    #[must_use]
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository name inside the registry (`library/alpine`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Another repository on the same registry, e.g. the source of a cross-repository mount.
    pub fn sibling(&self, name: &str) -> Result<Self, ReferenceError> {
        Self::new(&self.registry, name)
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.registry, self.name)
    }
}

/// A parsed image reference: a repository and a tag, a digest, or both (the digest wins).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    repository: Repository,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses `[docker://][REGISTRY/]REPOSITORY[:TAG][@DIGEST]`. Without tag and digest the tag
    /// is `latest`.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        parse_reference(input).map_err(|kind| ReferenceError {
            input: input.to_owned(),
            kind,
        })
    }

    /// A reference to `repository` at `tag`.
    pub fn with_tag(repository: Repository, tag: &str) -> Result<Self, ReferenceError> {
        check_tag(tag).map_err(|kind| ReferenceError {
            input: format!("{repository}:{tag}"),
            kind,
        })?;
        Ok(Self {
            repository,
            tag: Some(tag.to_owned()),
            digest: None,
        })
    }

    /// A reference to the manifest `digest` in `repository`.
    #[must_use]
    pub fn with_digest(repository: Repository, digest: Digest) -> Self {
        Self {
            repository,
            tag: None,
            digest: Some(digest),
        }
    }

    /// This reference pinned to `digest`, keeping its tag for display (`REPO:TAG@DIGEST`).
    #[must_use]
    pub fn pinned(&self, digest: Digest) -> Self {
        Self {
            repository: self.repository.clone(),
            tag: self.tag.clone(),
            digest: Some(digest),
        }
    }

    /// The repository the reference points into.
    #[must_use]
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The registry host (`registry-1.docker.io` for Docker Hub).
    #[must_use]
    pub fn registry(&self) -> &str {
        self.repository.registry()
    }

    /// The tag, when the reference has one.
    #[must_use]
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, when the reference has one.
    #[must_use]
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What the manifest endpoint is asked for: the digest when there is one, else the tag.
    #[must_use]
    pub fn target(&self) -> String {
        match &self.digest {
            Some(digest) => digest.to_string(),
            None => self.tag.as_deref().unwrap_or(DEFAULT_TAG).to_owned(),
        }
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.repository)?;
        if let Some(tag) = &self.tag {
            write!(formatter, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(formatter, "@{digest}")?;
        }
        Ok(())
    }
}

/// An image reference that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference `{input}`: {kind}")]
pub struct ReferenceError {
    /// The reference as given.
    pub input: String,
    /// What is wrong with it.
    pub kind: ReferenceErrorKind,
}

/// What is wrong with an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceErrorKind {
    /// Nothing to parse.
    #[error("the reference is empty")]
    Empty,
    /// The registry host is malformed.
    #[error("invalid registry host `{0}`")]
    InvalidRegistry(String),
    /// The repository name has upper-case letters, which the distribution API forbids.
    #[error("repository name `{0}` must be lowercase")]
    UppercaseRepository(String),
    /// The repository name breaks the distribution API's grammar.
    #[error(
        "invalid repository name `{0}`: expected lowercase letters and digits in `/`-separated \
         components, joined by `.`, `_`, `__` or `-`"
    )]
    InvalidRepository(String),
    /// The repository name is longer than the distribution API allows.
    #[error("repository name is longer than {MAX_REPOSITORY_LENGTH} characters")]
    RepositoryTooLong,
    /// The tag breaks the distribution API's grammar.
    #[error(
        "invalid tag `{0}`: expected up to 128 letters, digits, `_`, `.` or `-`, not starting \
         with `.` or `-`"
    )]
    InvalidTag(String),
    /// The digest is not `sha256:<64 hex>`.
    #[error("invalid digest `{0}`: expected `sha256:` followed by 64 lowercase hex digits")]
    InvalidDigest(String),
}

fn parse_reference(input: &str) -> Result<Reference, ReferenceErrorKind> {
    let rest = input.strip_prefix(DOCKER_SCHEME).unwrap_or(input);
    if rest.is_empty() {
        return Err(ReferenceErrorKind::Empty);
    }
    let (rest, digest) = match rest.rsplit_once('@') {
        Some((rest, digest)) => (rest, Some(parse_digest(digest)?)),
        None => (rest, None),
    };
    // A `:` after the last `/` starts the tag; one before it belongs to a `HOST:PORT`.
    let last_slash = rest.rfind('/').map_or(0, |index| index + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(colon) => {
            let colon = last_slash + colon;
            let tag = &rest[colon + 1..];
            check_tag(tag)?;
            (&rest[..colon], Some(tag.to_owned()))
        }
        None => (rest, None),
    };
    let (registry, repository) = split_registry(name);
    check_registry(registry)?;
    check_repository(&repository)?;
    let tag = if tag.is_none() && digest.is_none() {
        Some(DEFAULT_TAG.to_owned())
    } else {
        tag
    };
    Ok(Reference {
        repository: Repository {
            registry: canonical_registry(registry),
            name: repository,
        },
        tag,
        digest,
    })
}

/// Splits a name into registry host and repository, the way Docker decides: the first segment is
/// a host when it looks like one (has a `.` or a `:`, or is `localhost`).
fn split_registry(name: &str) -> (&str, String) {
    if let Some((first, rest)) = name.split_once('/')
        && (first.contains('.') || first.contains(':') || first == "localhost")
    {
        let repository = if DOCKER_HUB_ALIASES.contains(&first) && !rest.contains('/') {
            format!("library/{rest}")
        } else {
            rest.to_owned()
        };
        return (first, repository);
    }
    let repository = if name.contains('/') {
        name.to_owned()
    } else {
        format!("library/{name}")
    };
    (DOCKER_HUB_REGISTRY, repository)
}

fn canonical_registry(registry: &str) -> String {
    if DOCKER_HUB_ALIASES.contains(&registry) {
        DOCKER_HUB_REGISTRY.to_owned()
    } else {
        registry.to_owned()
    }
}

fn check_registry(registry: &str) -> Result<(), ReferenceErrorKind> {
    let invalid = || ReferenceErrorKind::InvalidRegistry(registry.to_owned());
    // `[::1]:5000`: a bracketed IPv6 address, then an optional port.
    let (host, port) = if let Some(bracketed) = registry.strip_prefix('[') {
        let (address, after) = bracketed.split_once(']').ok_or_else(invalid)?;
        if address.is_empty()
            || !address
                .bytes()
                .all(|byte| byte.is_ascii_hexdigit() || byte == b':')
        {
            return Err(invalid());
        }
        match after {
            "" => (address, None),
            _ => (address, Some(after.strip_prefix(':').ok_or_else(invalid)?)),
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        }
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b':'))
        && !host.starts_with(['.', '-'])
        && !host.ends_with(['.', '-']);
    let port_ok = port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|byte| byte.is_ascii_digit())
    });
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(invalid())
    }
}

fn check_repository(repository: &str) -> Result<(), ReferenceErrorKind> {
    if repository.len() > MAX_REPOSITORY_LENGTH {
        return Err(ReferenceErrorKind::RepositoryTooLong);
    }
    if repository.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return Err(ReferenceErrorKind::UppercaseRepository(
            repository.to_owned(),
        ));
    }
    if repository.split('/').all(is_path_component) {
        Ok(())
    } else {
        Err(ReferenceErrorKind::InvalidRepository(repository.to_owned()))
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, the distribution spec's path component.
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alphanumeric = |byte: &u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alphanumeric(first) || !alphanumeric(last) {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        if alphanumeric(&bytes[index]) {
            index += 1;
            continue;
        }
        let separator_start = index;
        while index < bytes.len() && !alphanumeric(&bytes[index]) {
            index += 1;
        }
        let separator = &component[separator_start..index];
        let allowed =
            matches!(separator, "." | "_" | "__") || separator.bytes().all(|byte| byte == b'-');
        if !allowed {
            return false;
        }
    }
    true
}

fn check_tag(tag: &str) -> Result<(), ReferenceErrorKind> {
    let word = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_';
    let valid = tag.len() <= MAX_TAG_LENGTH
        && tag.bytes().next().is_some_and(word)
        && tag
            .bytes()
            .all(|byte| word(byte) || matches!(byte, b'.' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(ReferenceErrorKind::InvalidTag(tag.to_owned()))
    }
}

fn parse_digest(digest: &str) -> Result<Digest, ReferenceErrorKind> {
    Digest::parse(digest).map_err(|_| ReferenceErrorKind::InvalidDigest(digest.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn parse(input: &str) -> Reference {
        Reference::parse(input).unwrap_or_else(|error| panic!("{input}: {error}"))
    }

    fn parts(input: &str) -> (String, String, Option<String>, Option<String>) {
        let reference = parse(input);
        (
            reference.registry().to_owned(),
            reference.repository().name().to_owned(),
            reference.tag().map(str::to_owned),
            reference.digest().map(ToString::to_string),
        )
    }

    fn expected(
        registry: &str,
        name: &str,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> (String, String, Option<String>, Option<String>) {
        (
            registry.to_owned(),
            name.to_owned(),
            tag.map(str::to_owned),
            digest.map(str::to_owned),
        )
    }

    #[test]
    fn a_single_name_is_a_docker_hub_library_image_at_latest() {
        assert_eq!(
            parts("alpine"),
            expected(DOCKER_HUB_REGISTRY, "library/alpine", Some("latest"), None)
        );
    }

    #[test]
    fn a_two_segment_name_without_host_is_on_docker_hub() {
        assert_eq!(
            parts("bitnami/redis:7.2"),
            expected(DOCKER_HUB_REGISTRY, "bitnami/redis", Some("7.2"), None)
        );
    }

    #[test]
    fn docker_hub_aliases_name_the_api_host() {
        for input in ["docker.io/alpine:3", "index.docker.io/library/alpine:3"] {
            assert_eq!(
                parts(input),
                expected(DOCKER_HUB_REGISTRY, "library/alpine", Some("3"), None),
                "{input}"
            );
        }
    }

    #[test]
    fn a_first_segment_with_a_dot_a_port_or_localhost_is_a_host() {
        assert_eq!(
            parts("ghcr.io/owner/image:v1"),
            expected("ghcr.io", "owner/image", Some("v1"), None)
        );
        assert_eq!(
            parts("127.0.0.1:5000/eider/app:1.0"),
            expected("127.0.0.1:5000", "eider/app", Some("1.0"), None)
        );
        assert_eq!(
            parts("localhost/app"),
            expected("localhost", "app", Some("latest"), None)
        );
        assert_eq!(
            parts("registry:5000/app"),
            expected("registry:5000", "app", Some("latest"), None)
        );
        assert_eq!(
            parts("[::1]:5000/app:x"),
            expected("[::1]:5000", "app", Some("x"), None)
        );
    }

    #[test]
    fn a_first_segment_without_dot_or_port_is_part_of_the_name() {
        assert_eq!(
            parts("registry/app"),
            expected(DOCKER_HUB_REGISTRY, "registry/app", Some("latest"), None)
        );
    }

    #[test]
    fn the_docker_scheme_is_accepted() {
        assert_eq!(
            parts("docker://127.0.0.1:5000/app:tag"),
            expected("127.0.0.1:5000", "app", Some("tag"), None)
        );
    }

    #[test]
    fn digests_come_with_or_without_a_tag() {
        assert_eq!(
            parts(&format!("127.0.0.1:5000/app@{DIGEST}")),
            expected("127.0.0.1:5000", "app", None, Some(DIGEST))
        );
        let both = parse(&format!("127.0.0.1:5000/app:1@{DIGEST}"));
        assert_eq!(both.tag(), Some("1"));
        assert_eq!(both.target(), DIGEST);
    }

    #[test]
    fn display_gives_back_a_parsable_canonical_form() {
        let reference = parse(&format!("localhost:5000/a/b:v1@{DIGEST}"));
        assert_eq!(
            reference.to_string(),
            format!("localhost:5000/a/b:v1@{DIGEST}")
        );
        assert_eq!(parse(&reference.to_string()), reference);
        assert_eq!(
            parse("alpine").to_string(),
            "registry-1.docker.io/library/alpine:latest"
        );
    }

    #[test]
    fn pinning_keeps_the_tag_and_adds_the_digest() {
        let pinned = parse("alpine:3.20").pinned(Digest::parse(DIGEST).expect("valid digest"));
        assert_eq!(pinned.tag(), Some("3.20"));
        assert_eq!(pinned.target(), DIGEST);
    }

    #[test]
    fn errors_name_the_input_and_the_problem() {
        let cases = [
            ("", "the reference is empty"),
            ("docker://", "the reference is empty"),
            (
                "Alpine",
                "repository name `library/Alpine` must be lowercase",
            ),
            ("127.0.0.1:5000/app:", "invalid tag ``"),
            ("app:-x", "invalid tag `-x`"),
            ("app@sha256:abc", "invalid digest `sha256:abc`"),
            ("example.com/a//b", "invalid repository name `a//b`"),
            ("example.com/a-/b", "invalid repository name `a-/b`"),
            ("example.com/", "invalid repository name ``"),
            ("exa$mple.com/a", "invalid registry host `exa$mple.com`"),
            (
                "example.com:port/a",
                "invalid registry host `example.com:port`",
            ),
            ("app name", "invalid repository name `library/app name`"),
        ];
        for (input, problem) in cases {
            let error = Reference::parse(input).expect_err(input);
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("invalid image reference `{input}`: {problem}")),
                "{input}: {message}"
            );
        }
    }

    #[test]
    fn repository_components_follow_the_distribution_grammar() {
        for valid in ["a", "a.b", "a_b", "a__b", "a---b", "0x", "a.b-c_d"] {
            assert!(is_path_component(valid), "{valid}");
        }
        for invalid in ["", ".a", "a.", "a..b", "a___b", "a._b", "-a", "a-"] {
            assert!(!is_path_component(invalid), "{invalid}");
        }
    }

    #[test]
    fn repositories_are_checked_too() {
        let repository = Repository::new("127.0.0.1:5000", "eider/app").expect("valid");
        assert_eq!(repository.to_string(), "127.0.0.1:5000/eider/app");
        assert!(repository.sibling("Other").is_err());
        assert_eq!(
            Repository::new("docker.io", "library/alpine")
                .expect("valid")
                .registry(),
            DOCKER_HUB_REGISTRY
        );
    }
}
