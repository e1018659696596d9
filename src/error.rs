//! The one error type of the service, rendered as `application/problem+json` (RFC 9457).
//!
//! Client errors say what was wrong; server errors carry their cause for the log only and reach the
//! client as an opaque 500/503 with the request id.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// What a 503 asks clients to wait: long enough for a pool to reconnect, short for a person.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("missing scope {0}")]
    Forbidden(&'static str),
    /// A key with the scope that may still not act (its lead source is disabled, say): 403.
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error("not found")]
    NotFound,
    /// The resource existed and was removed for good (an erased lead, say).
    #[error("gone: {0}")]
    Gone(String),
    #[error("method not allowed")]
    MethodNotAllowed(Vec<Method>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("request headers too large")]
    HeadersTooLarge,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// The body did not arrive within `BEACON_BODY_READ_TIMEOUT_SECS`.
    #[error("request body timed out")]
    RequestTimeout,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// One invalid field: `pointer` is a JSON Pointer (RFC 6901) into the request body or a
/// `#/query/<name>` / `#/header/<name>` reference for other inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    #[schema(example = "/phone")]
    pub pointer: String,
    #[schema(example = "must be a valid phone number, e.g. (415) 555-2671")]
    pub message: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, message: impl ToString) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.to_string(),
        }
    }
}

/// The problem+json body every error response carries.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation-failed",
    "title": "Your request is not valid",
    "status": 422,
    "detail": "1 field is invalid",
    "request_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81",
    "errors": [{"pointer": "/phone", "message": "must be a valid phone number, e.g. (415) 555-2671"}]
}))]
pub struct Problem {
    /// A stable identifier of the kind of problem; see docs/API.md for the list.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Quote it when reporting a problem: it finds the request in the logs.
    pub request_id: Option<String>,
    /// Present on `validation-failed`: one entry per invalid field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl Error {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn invalid(pointer: impl Into<String>, message: impl ToString) -> Self {
        Self::Validation(vec![FieldError::new(pointer, message)])
    }

    /// `(type, title)` of each kind of error: the stable part of the contract.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Self::Validation(_) => ("validation-failed", "Your request is not valid"),
            Self::BadRequest(_) => ("bad-request", "The request could not be understood"),
            Self::Unauthorized(_) => ("unauthorized", "A valid API key is required"),
            Self::Forbidden(_) => ("forbidden", "This API key lacks the required scope"),
            Self::Refused(_) => ("forbidden", "This API key may not do this now"),
            Self::NotFound => ("not-found", "Nothing was found at this address"),
            Self::Gone(_) => ("gone", "This resource was removed for good"),
            Self::MethodNotAllowed(_) => ("method-not-allowed", "This method is not allowed here"),
            Self::Conflict(_) => ("conflict", "The request conflicts with the current state"),
            Self::PreconditionFailed(_) => (
                "precondition-failed",
                "The resource changed since you read it",
            ),
            Self::PayloadTooLarge { .. } => ("payload-too-large", "The request body is too large"),
            Self::UnsupportedMediaType(_) => (
                "unsupported-media-type",
                "The request body has an unsupported content type",
            ),
            Self::HeadersTooLarge => (
                "request-headers-too-large",
                "The request headers are too large",
            ),
            Self::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            Self::RequestTimeout => ("request-timeout", "The request body arrived too slowly"),
            Self::Unavailable(_) => (
                "service-unavailable",
                "The service is temporarily unavailable",
            ),
            Self::Internal(_) => ("internal-error", "Something went wrong on our side"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Validation(errors) => match errors.len() {
                1 => "1 field is invalid".to_owned(),
                n => format!("{n} fields are invalid"),
            },
            Self::BadRequest(detail)
            | Self::Gone(detail)
            | Self::Conflict(detail)
            | Self::PreconditionFailed(detail)
            | Self::UnsupportedMediaType(detail) => detail.clone(),
            Self::Unauthorized(detail) | Self::Refused(detail) => (*detail).to_owned(),
            Self::Forbidden(scope) => format!("This operation requires the `{scope}` scope."),
            Self::NotFound => "No resource exists at this address.".to_owned(),
            Self::MethodNotAllowed(allowed) => format!(
                "Allowed methods: {}.",
                allowed
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::PayloadTooLarge { limit } => format!("The body may be at most {limit} bytes."),
            Self::HeadersTooLarge => "Send fewer or smaller headers.".to_owned(),
            Self::RequestTimeout => "Send the whole body at once.".to_owned(),
            Self::TooManyRequests { retry_after_secs } => {
                format!("Try again in {retry_after_secs} seconds.")
            }
            // The cause of a server-side failure is logged, never sent.
            Self::Unavailable(_) => "Please retry shortly.".to_owned(),
            Self::Internal(_) => {
                "The error was logged; quote the request id to report it.".to_owned()
            }
        }
    }

    pub fn problem(&self, request_id: Option<&str>) -> Problem {
        let (kind, title) = self.kind();
        Problem {
            problem_type: format!("/problems/{kind}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            request_id: request_id.map(str::to_owned),
            errors: match self {
                Self::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }

    /// The full response, with the headers some statuses require.
    pub fn to_response(&self, request_id: Option<&str>) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        match self {
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"beacon\""));
            }
            Self::MethodNotAllowed(allowed) => {
                let allow = allowed.iter().map(Method::as_str).collect::<Vec<_>>();
                response.insert_header((header::ALLOW, allow.join(", ")));
            }
            Self::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unavailable(_) => {
                response.insert_header((
                    header::RETRY_AFTER,
                    UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
                ));
            }
            _ => {}
        }
        match serde_json::to_string(&self.problem(request_id)) {
            Ok(body) => response.body(body),
            Err(_) => response.finish(),
        }
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::Refused(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Gone(_) => StatusCode::GONE,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.to_response(None)
    }
}

/// Database failures mapped in one place: a missing row is a 404, a lost or timed-out database is
/// a 503 the client may retry, anything else is ours.
impl From<diesel::result::Error> for Error {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error as E};
        if let Some(kind) = query_error_kind(&error) {
            // `telemetry::metrics::DB_QUERY_ERRORS`; this layer cannot name that module.
            metrics::counter!("beacon_db_query_errors_total", "kind" => kind).increment(1);
        }
        match &error {
            E::NotFound => Self::NotFound,
            E::DatabaseError(Kind::UniqueViolation, _) => {
                Self::Conflict("A record with the same unique value already exists.".to_owned())
            }
            E::DatabaseError(Kind::SerializationFailure, _) => {
                Self::Conflict("A concurrent change won; retry the request.".to_owned())
            }
            // A connection that died while idle in the pool fails at its next use.
            E::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, _) => {
                Self::Unavailable(error.to_string())
            }
            E::DatabaseError(_, info) if is_statement_timeout(info.message()) => {
                Self::Unavailable(error.to_string())
            }
            _ => Self::Internal(error.to_string()),
        }
    }
}

/// The label a failed query is counted under; `None` for a row not found, which is an answer.
fn query_error_kind(error: &diesel::result::Error) -> Option<&'static str> {
    use diesel::result::{DatabaseErrorKind as Kind, Error as E};
    Some(match error {
        E::NotFound => return None,
        E::DatabaseError(_, info) if is_statement_timeout(info.message()) => "statement_timeout",
        E::DatabaseError(Kind::UniqueViolation, _) => "unique_violation",
        E::DatabaseError(Kind::SerializationFailure, _) => "serialization_failure",
        E::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, _) => {
            "closed_connection"
        }
        E::DatabaseError(..) => "database",
        _ => "other",
    })
}

/// PostgreSQL's `query_canceled` (57014) when `statement_timeout` fired; diesel keeps the
/// message but not the code.
fn is_statement_timeout(message: &str) -> bool {
    message.contains("statement timeout")
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(format!("no database connection: {error}"))
    }
}

impl From<actix_web::error::BlockingError> for Error {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::Internal(format!("blocking task failed: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_problem_lists_every_field() {
        let error = Error::Validation(vec![
            FieldError::new("/name", "must not be empty"),
            FieldError::new("/phone", "must be a valid phone number"),
        ]);
        let problem = serde_json::to_value(error.problem(Some("req-1"))).unwrap();
        assert_eq!(problem["type"], "/problems/validation-failed");
        assert_eq!(problem["status"], 422);
        assert_eq!(problem["request_id"], "req-1");
        assert_eq!(problem["errors"][1]["pointer"], "/phone");
    }

    #[test]
    fn an_internal_error_never_sends_its_cause() {
        let error = Error::internal("password authentication failed for user root");
        let body = serde_json::to_string(&error.problem(None)).unwrap();
        assert!(!body.contains("password"));
        assert_eq!(error.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_missing_row_is_not_found() {
        assert!(matches!(
            Error::from(diesel::result::Error::NotFound),
            Error::NotFound
        ));
    }

    #[test]
    fn failed_queries_are_counted_by_kind_and_a_missing_row_is_not_one() {
        use diesel::result::Error as E;
        assert_eq!(query_error_kind(&E::NotFound), None);
        assert_eq!(query_error_kind(&E::RollbackTransaction), Some("other"));
        assert!(is_statement_timeout(
            "canceling statement due to statement timeout"
        ));
        assert!(!is_statement_timeout(
            "canceling statement due to user request"
        ));
    }

    #[test]
    fn method_not_allowed_sends_the_allow_header() {
        let response = Error::MethodNotAllowed(vec![Method::GET, Method::POST]).to_response(None);
        assert_eq!(response.headers().get(header::ALLOW).unwrap(), "GET, POST");
    }
}
