//! Errors as the API server answers them: a `Status` object with a code, a reason and details.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    ListMeta, Status, StatusCause, StatusDetails,
};
use serde_json::Value;

/// A failed request, answered as a `Status` object with the HTTP status `code`.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    pub code: u16,
    pub reason: String,
    pub message: String,
    pub details: Option<Box<StatusDetails>>,
    /// Sent as the `Retry-After` header as well as in the details.
    pub retry_after_seconds: Option<u32>,
}

/// One invalid field of an object, as listed in a 422 answer.
#[derive(Clone, Debug)]
pub(crate) struct FieldError {
    pub field: String,
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueDuplicate` or `FieldValueNotSupported`.
    pub reason: &'static str,
    /// The message without the field, e.g. `Invalid value: "x": must be ...`.
    pub detail: String,
}

impl FieldError {
    pub fn invalid(field: impl Into<String>, value: &str, why: &str) -> Self {
        Self {
            field: field.into(),
            reason: "FieldValueInvalid",
            detail: format!("Invalid value: {}: {why}", quote(value)),
        }
    }

    pub fn required(field: impl Into<String>, why: &str) -> Self {
        let detail = if why.is_empty() {
            "Required value".to_owned()
        } else {
            format!("Required value: {why}")
        };
        Self {
            field: field.into(),
            reason: "FieldValueRequired",
            detail,
        }
    }

    pub fn duplicate(field: impl Into<String>, value: &str) -> Self {
        Self {
            field: field.into(),
            reason: "FieldValueDuplicate",
            detail: format!("Duplicate value: {}", quote(value)),
        }
    }

    pub fn not_supported(field: impl Into<String>, value: &str, supported: &[&str]) -> Self {
        let supported: Vec<String> = supported.iter().map(|value| quote(value)).collect();
        Self {
            field: field.into(),
            reason: "FieldValueNotSupported",
            detail: format!(
                "Unsupported value: {}: supported values: {}",
                quote(value),
                supported.join(", ")
            ),
        }
    }
}

/// A string quoted as Go's `%q` does for the plain strings met here.
pub(crate) fn quote(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\""))
}

impl ApiError {
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.to_owned(),
            message: message.into(),
            details: None,
            retry_after_seconds: None,
        }
    }

    fn with_details(mut self, kind: &str, name: &str) -> Self {
        self.details = Some(Box::new(StatusDetails {
            kind: Some(kind.to_owned()),
            name: Some(name.to_owned()),
            ..StatusDetails::default()
        }));
        self
    }

    /// `pods "x" not found`.
    pub fn not_found(resource: &str, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{resource} {} not found", quote(name)),
        )
        .with_details(resource, name)
    }

    /// `pods "x" already exists`.
    pub fn already_exists(resource: &str, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{resource} {} already exists", quote(name)),
        )
        .with_details(resource, name)
    }

    /// `Operation cannot be fulfilled on pods "x": why`.
    pub fn conflict(resource: &str, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {resource} {}: {why}",
                quote(name)
            ),
        )
        .with_details(resource, name)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// A path the server does not serve.
    pub fn unknown_path() -> Self {
        let mut error = Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
        error.details = Some(Box::default());
        error
    }

    pub fn method_not_allowed() -> Self {
        let mut error = Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        );
        error.details = Some(Box::default());
        error
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 422 with one cause per field, worded as the real validation is.
    pub fn invalid(kind: &str, name: &str, errors: &[FieldError]) -> Self {
        let parts: Vec<String> = errors
            .iter()
            .map(|error| format!("{}: {}", error.field, error.detail))
            .collect();
        let summary = if parts.len() == 1 {
            parts[0].clone()
        } else {
            format!("[{}]", parts.join(", "))
        };
        let causes = errors
            .iter()
            .map(|error| StatusCause {
                field: Some(error.field.clone()),
                message: Some(error.detail.clone()),
                reason: Some(error.reason.to_owned()),
            })
            .collect();
        let mut error = Self::new(
            422,
            "Invalid",
            format!("{kind} {} is invalid: {summary}", quote(name)),
        );
        error.details = Some(Box::new(StatusDetails {
            kind: Some(kind.to_owned()),
            name: Some(name.to_owned()),
            causes: Some(causes),
            ..StatusDetails::default()
        }));
        error
    }

    /// The reason a real server gives with `code` when nothing more specific applies.
    pub fn reason_for(code: u16) -> &'static str {
        match code {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            405 => "MethodNotAllowed",
            409 => "Conflict",
            410 => "Expired",
            422 => "Invalid",
            429 => "TooManyRequests",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "InternalError",
        }
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Status {
        let mut details = self.details.as_deref().cloned();
        if let Some(seconds) = self.retry_after_seconds {
            let details = details.get_or_insert_with(StatusDetails::default);
            details.retry_after_seconds = Some(i32::try_from(seconds).unwrap_or(i32::MAX));
        }
        Status {
            code: Some(i32::from(self.code)),
            details,
            message: Some(self.message.clone()),
            metadata: ListMeta::default(),
            reason: Some(self.reason.clone()),
            status: Some("Failure".to_owned()),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.to_status()).unwrap_or(Value::Null)
    }
}
