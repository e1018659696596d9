//! Request-body and query extractors whose failures are our problem+json errors, with a JSON
//! Pointer to the offending field where there is one.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use crate::error::{Error, FieldError};
use crate::routes::state::AppState;

/// A JSON body. Wrong content type → 415, too large → 413, not JSON → 400, wrong shape → 422.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = JsonBytes::from_request(req, payload);
        Box::pin(async move { parse(&body.await?.0).map(Json) })
    }
}

/// The raw bytes of a body sent as JSON, for handlers that need them as sent (to hash them for
/// idempotency, say) and then call [`parse`]. Wrong content type → 415, too large → 413.
pub struct JsonBytes(pub web::Bytes);

impl FromRequest for JsonBytes {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json(req);
        let body = read(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(Error::UnsupportedMediaType(
                    "Send the body as `Content-Type: application/json`.".to_owned(),
                ));
            }
            Ok(JsonBytes(body.await?))
        })
    }
}

/// The raw bytes of a body sent as JSON or as an HTML form
/// (`application/x-www-form-urlencoded`). Another content type → 415, too large → 413.
pub enum JsonOrFormBytes {
    Json(web::Bytes),
    Form(web::Bytes),
}

impl FromRequest for JsonOrFormBytes {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (is_json, is_form) = (
            is_json(req),
            has_essence(req, "application/x-www-form-urlencoded"),
        );
        let body = read(req, payload);
        Box::pin(async move {
            match (is_json, is_form) {
                (true, _) => Ok(JsonOrFormBytes::Json(body.await?)),
                (false, true) => Ok(JsonOrFormBytes::Form(body.await?)),
                (false, false) => Err(Error::UnsupportedMediaType(
                    "Send the body as `Content-Type: application/json` or \
                     `application/x-www-form-urlencoded`."
                        .to_owned(),
                )),
            }
        })
    }
}

/// A JSON body that may be left out: an empty body is `None` (no content type needed);
/// anything else is read like [`Json`].
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json(req);
        let body = read(req, payload);
        Box::pin(async move {
            let bytes = body.await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(None));
            }
            if !is_json {
                return Err(Error::UnsupportedMediaType(
                    "Send the body as `Content-Type: application/json`.".to_owned(),
                ));
            }
            parse(&bytes).map(|value| OptionalJson(Some(value)))
        })
    }
}

/// The whole body, within the size limit (413) and the body read timeout (408), so a client
/// dribbling its body cannot hold a connection and its handler open.
fn read(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<web::Bytes, Error>> + 'static {
    let (limit, timeout) =
        req.app_data::<web::Data<AppState>>()
            .map_or((0, Duration::MAX), |state| {
                (
                    state.settings.max_body_bytes,
                    state.settings.http.body_read_timeout,
                )
            });
    let body = web::Bytes::from_request(req, payload);
    async move {
        actix_web::rt::time::timeout(timeout, body)
            .await
            .map_err(|_| Error::RequestTimeout)?
            .map_err(|error| read_error(&error, limit))
    }
}

fn read_error(error: &actix_web::Error, limit: usize) -> Error {
    if error.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::PayloadTooLarge { limit }
    } else {
        Error::BadRequest(format!("The body could not be read: {error}"))
    }
}

/// Whether the `Content-Type` is `essence` (any parameters, any case).
fn has_essence(req: &HttpRequest, essence: &str) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|value| value.trim().eq_ignore_ascii_case(essence))
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5 && essence.to_ascii_lowercase().ends_with("+json"))
}

/// Parses JSON text into `T`, telling syntax errors (400) from shape errors (422). A string
/// holding U+0000 anywhere in the document is a 422 too: PostgreSQL's text and jsonb refuse it.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if let Some(pointer) = nul_pointer(bytes) {
        return Err(Error::invalid(pointer, "must not contain NUL characters"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let pointer = pointer(error.path());
        let inner = error.into_inner();
        if inner.is_data() {
            shape_error(&pointer, &inner)
        } else {
            Error::BadRequest(format!("The body is not valid JSON: {inner}."))
        }
    })?;
    deserializer
        .end()
        .map_err(|e| Error::BadRequest(format!("The body is not valid JSON: {e}.")))?;
    Ok(value)
}

/// Where the first string (or key) holding U+0000 is. JSON can only write it as the escape
/// `\u0000`, so documents without that text are not parsed twice.
fn nul_pointer(bytes: &[u8]) -> Option<String> {
    if !bytes.windows(6).any(|window| window == br"\u0000") {
        return None;
    }
    let document: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    find_nul(&document, String::new())
}

fn find_nul(value: &serde_json::Value, pointer: String) -> Option<String> {
    use serde_json::Value;
    let token = |key: &str| key.replace('~', "~0").replace('/', "~1");
    match value {
        Value::String(text) => text.contains('\0').then_some(pointer),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| find_nul(item, format!("{pointer}/{index}"))),
        Value::Object(fields) => fields.iter().find_map(|(key, field)| {
            if key.contains('\0') {
                // The key itself is the offence; its parent is what can be named.
                return Some(pointer.clone());
            }
            find_nul(field, format!("{pointer}/{}", token(key)))
        }),
        _ => None,
    }
}

fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .map(|token| format!("/{token}"))
        .collect()
}

fn shape_error(pointer: &str, error: &serde_json::Error) -> Error {
    let message = error.to_string();
    // "… at line 1 column 7" locates the text, which the pointer already does better.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(head, _)| head);
    // serde reports a missing field at its parent; point at the field itself.
    let pointer = match message.strip_prefix("missing field `") {
        Some(rest) => format!("{pointer}/{}", rest.trim_end_matches('`')),
        None => pointer.to_owned(),
    };
    let message = if message.starts_with("missing field") {
        "is required"
    } else {
        message
    };
    Error::Validation(vec![FieldError::new(pointer, message)])
}

/// The error a malformed query string gets, installed as actix's `QueryConfig` handler.
pub fn query_error(
    error: actix_web::error::QueryPayloadError,
    _: &HttpRequest,
) -> actix_web::Error {
    Error::BadRequest(format!("The query string is not valid: {error}.")).into()
}

/// A path segment that does not parse (a malformed id, say) names nothing that exists.
pub fn path_error(_: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    Error::NotFound.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        consent: Option<Consent>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Consent {
        agreed: bool,
    }

    fn field_error(body: &str) -> FieldError {
        match parse::<Body>(body.as_bytes()) {
            Err(Error::Validation(errors)) => errors[0].clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_field_points_at_the_field() {
        let error = field_error("{}");
        assert_eq!(error.pointer, "/name");
        assert_eq!(error.message, "is required");
    }

    #[test]
    fn a_wrong_type_points_into_nested_objects() {
        let error = field_error(r#"{"name": "A", "consent": {"agreed": "yes"}}"#);
        assert_eq!(error.pointer, "/consent/agreed");
        assert!(error.message.starts_with("invalid type: string"));
        assert!(!error.message.contains("line"));
    }

    #[test]
    fn a_nul_anywhere_in_the_document_is_a_field_error_at_its_place() {
        let error =
            field_error(r#"{"name": "A", "consent": {"agreed": true, "x": ["ok", "a\u0000"]}}"#);
        assert_eq!(error.pointer, "/consent/x/1");
        assert_eq!(error.message, "must not contain NUL characters");
        assert_eq!(field_error(r#"{"name": "A", "k\u0000": 1}"#).pointer, "");
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_ordinary_text() {
        let body = parse::<Body>(br#"{"name": "C:\\u0000"}"#).unwrap();
        assert_eq!(body.name, r"C:\u0000");
    }

    #[test]
    fn broken_json_is_a_bad_request() {
        assert!(matches!(
            parse::<Body>(br#"{"name": "#),
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            parse::<Body>(br#"{"name": "A"} trailing"#),
            Err(Error::BadRequest(_))
        ));
    }
}
