//! What to do to which requests: a rule matches a method and a path pattern (`*` stands for any
//! run of characters, `/` included), for every request or only the first N it matches.

use std::time::Duration;

/// What the proxy does to a request a rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Close the connection as soon as the request's head is read: no answer at all.
    Refuse,
    /// Answer without asking the registry; the request body is read and dropped.
    Answer {
        /// The status.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// The body (sent with `Content-Length`).
        body: String,
    },
    /// Pass `after` bytes of the request body on to the registry, then close both connections.
    ResetRequestBody {
        /// Body bytes passed on before the cut.
        after: u64,
    },
    /// Pass the request on, relay the answer's head and `after` bytes of its body, then close.
    ResetResponseBody {
        /// Body bytes relayed before the cut.
        after: u64,
    },
    /// Wait, then pass the request on.
    Delay(Duration),
}

impl Fault {
    /// An answer with a registry's JSON error body (`{"errors":[{code, message}]}`).
    #[must_use]
    pub fn registry_error(status: u16, code: &str, message: &str) -> Self {
        Self::Answer {
            status,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: format!(r#"{{"errors":[{{"code":"{code}","message":"{message}"}}]}}"#),
        }
    }

    /// A bare status, with no body worth reading (a 5xx from a load balancer).
    #[must_use]
    pub fn status(status: u16) -> Self {
        Self::Answer {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// 429 with `Retry-After: VALUE` (seconds or an HTTP date).
    #[must_use]
    pub fn too_many_requests(retry_after: &str) -> Self {
        Self::Answer {
            status: 429,
            headers: vec![
                ("Retry-After".to_owned(), retry_after.to_owned()),
                ("Content-Type".to_owned(), "application/json".to_owned()),
            ],
            body: r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#.to_owned(),
        }
    }

    /// 401 with a basic challenge, as a registry that wants credentials answers.
    #[must_use]
    pub fn unauthorized() -> Self {
        Self::Answer {
            status: 401,
            headers: vec![
                (
                    "WWW-Authenticate".to_owned(),
                    r#"Basic realm="fault-proxy""#.to_owned(),
                ),
                ("Content-Type".to_owned(), "application/json".to_owned()),
            ],
            body: r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#
                .to_owned(),
        }
    }

    /// 404 `BLOB_UPLOAD_UNKNOWN`: the registry lost the upload session.
    #[must_use]
    pub fn upload_unknown() -> Self {
        Self::registry_error(
            404,
            "BLOB_UPLOAD_UNKNOWN",
            "blob upload unknown to registry",
        )
    }

    /// 416 to an upload `PATCH`: the registry disagrees on the upload's offset.
    #[must_use]
    pub fn range_not_satisfiable() -> Self {
        Self::registry_error(
            416,
            "BLOB_UPLOAD_INVALID",
            "requested range not satisfiable",
        )
    }
}

/// A fault and the requests it applies to.
#[derive(Debug, Clone)]
pub struct Rule {
    pub(crate) method: Option<String>,
    pub(crate) pattern: String,
    pub(crate) remaining: Option<usize>,
    pub(crate) fault: Fault,
}

impl Rule {
    /// `fault` for every `method` request (`"*"` for any method) whose path (without the
    /// query) matches `pattern`.
    #[must_use]
    pub fn new(method: &str, pattern: &str, fault: Fault) -> Self {
        Self {
            method: (method != "*").then(|| method.to_ascii_uppercase()),
            pattern: pattern.to_owned(),
            remaining: None,
            fault,
        }
    }

    /// Only for the first `count` requests it matches; later ones pass through.
    #[must_use]
    pub fn first(mut self, count: usize) -> Self {
        self.remaining = Some(count);
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.remaining != Some(0)
            && self.method.as_deref().is_none_or(|wanted| wanted == method)
            && glob_matches(&self.pattern, path)
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters.
pub(crate) fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return text.is_empty();
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(position) => rest = &rest[position + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_any_run_of_characters_at_each_star() {
        assert!(glob_matches(
            "/v2/*/manifests/*",
            "/v2/a/b/manifests/latest"
        ));
        assert!(glob_matches(
            "/v2/*/blobs/uploads/*",
            "/v2/a/blobs/uploads/"
        ));
        assert!(glob_matches("*", "/v2/"));
        assert!(glob_matches("/v2/", "/v2/"));
        assert!(!glob_matches("/v2/", "/v2/x"));
        assert!(!glob_matches("/v2/*/manifests/*", "/v2/a/blobs/sha256:00"));
        assert!(!glob_matches("/v2/*x*x", "/v2/x"));
    }

    #[test]
    fn a_rule_counts_down_and_filters_by_method() {
        let rule = Rule::new("put", "/v2/*", Fault::status(503)).first(1);
        assert!(rule.matches("PUT", "/v2/a"));
        assert!(!rule.matches("GET", "/v2/a"));
        let spent = Rule {
            remaining: Some(0),
            ..rule
        };
        assert!(!spent.matches("PUT", "/v2/a"));
        assert!(Rule::new("*", "/v2/*", Fault::Refuse).matches("HEAD", "/v2/a"));
    }
}
