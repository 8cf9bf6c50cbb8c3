//! Failures injected on purpose: the next requests that match a rule are answered with an error.

use crate::status::ApiError;

/// Answers the next `times` requests whose method and path match with the error `code`, as a
/// proper `Status` object (409 `Conflict`, 429 `TooManyRequests` with `Retry-After`,
/// 500 `InternalError`, 410 `Expired`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureRule {
    /// The HTTP method to match, such as `POST`; `None` matches every method.
    pub method: Option<String>,
    /// The start of the paths to match, such as `/api/v1/namespaces/default/pods`.
    pub path_prefix: String,
    /// The HTTP status code to answer.
    pub code: u16,
    /// How many matching requests fail before the rule is spent.
    pub times: u32,
    /// Seconds sent in `Retry-After` and in the Status details.
    pub retry_after_seconds: Option<u32>,
    /// The Status message; a generic one for the code when `None`.
    pub message: Option<String>,
}

impl FailureRule {
    /// Fails the next request with `method` under `path_prefix` once with `code`.
    #[must_use]
    pub fn new(method: &str, path_prefix: &str, code: u16) -> Self {
        Self {
            method: Some(method.to_ascii_uppercase()),
            path_prefix: path_prefix.to_owned(),
            code,
            times: 1,
            retry_after_seconds: if code == 429 { Some(1) } else { None },
            message: None,
        }
    }

    /// Fails that many matching requests instead of one.
    #[must_use]
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    /// Sends `Retry-After: seconds`.
    #[must_use]
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    /// Answers with this Status message.
    #[must_use]
    pub fn message(mut self, message: &str) -> Self {
        self.message = Some(message.to_owned());
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|expected| expected == method)
            && path.starts_with(&self.path_prefix)
    }

    fn error(&self) -> ApiError {
        let reason = ApiError::reason_for(self.code);
        let message = self.message.clone().unwrap_or_else(|| match self.code {
            409 => "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again".to_owned(),
            410 => "The resourceVersion for the provided watch is too old.".to_owned(),
            429 => "Too many requests, please try again later.".to_owned(),
            500 => "Internal error occurred: injected failure".to_owned(),
            503 => "The server is currently unable to handle the request".to_owned(),
            _ => format!("injected failure with status {}", self.code),
        });
        let mut error = ApiError::new(self.code, reason, message);
        error.retry_after_seconds = self.retry_after_seconds;
        error
    }
}

/// The rules not yet spent, first added first matched.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<FailureRule>,
}

impl Faults {
    pub fn add(&mut self, rule: FailureRule) {
        if rule.times > 0 {
            self.rules.push(rule);
        }
    }

    /// The error to answer this request with, spending one use of the matching rule.
    pub fn take(&mut self, method: &str, path: &str) -> Option<ApiError> {
        let index = self
            .rules
            .iter()
            .position(|rule| rule.matches(method, path))?;
        let error = self.rules[index].error();
        self.rules[index].times -= 1;
        if self.rules[index].times == 0 {
            self.rules.remove(index);
        }
        Some(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_spent() {
        let mut faults = Faults::default();
        faults.add(FailureRule::new("post", "/api/v1/namespaces/default/pods", 500).times(2));
        assert!(
            faults
                .take("GET", "/api/v1/namespaces/default/pods")
                .is_none()
        );
        assert!(
            faults
                .take("POST", "/api/v1/namespaces/other/pods")
                .is_none()
        );
        assert_eq!(
            faults
                .take("POST", "/api/v1/namespaces/default/pods")
                .map(|error| error.code),
            Some(500)
        );
        assert!(
            faults
                .take("POST", "/api/v1/namespaces/default/pods")
                .is_some()
        );
        assert!(
            faults
                .take("POST", "/api/v1/namespaces/default/pods")
                .is_none()
        );
    }

    #[test]
    fn too_many_requests_says_when_to_retry() {
        let mut faults = Faults::default();
        faults.add(FailureRule::new("GET", "/", 429).retry_after(3));
        let error = faults.take("GET", "/version").expect("the rule matches");
        assert_eq!(error.reason, "TooManyRequests");
        assert_eq!(error.retry_after_seconds, Some(3));
    }
}
