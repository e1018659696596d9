//! The outermost layer every request passes: request ids, request logs and metrics, security
//! headers, and turning every error response (ours, actix's, the router's) into problem+json.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{StatusCode, Uri};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use futures_util::FutureExt;
use tracing::Instrument;

use crate::error::{Error, PROBLEM_JSON};
use crate::routes::state::AppState;
use crate::telemetry::metrics;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Well below actix-http's own 128 KiB limit, so oversized headers still get a problem body here.
const MAX_HEADER_BYTES: usize = 32 * 1024;
const MAX_HEADER_COUNT: usize = 64;

/// The id of the current request, in request extensions for handlers that need it.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = request_id(req.headers());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    // Only the path is logged: query strings can carry search terms about people.
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let is_docs = req.path().starts_with("/docs");
    // The route template, never the path: paths carry slugs, ids and search terms.
    let route = req.match_pattern();
    let method = req.method().clone();
    let finish = |response: &mut HttpResponse| {
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            headers.insert(REQUEST_ID, value);
        }
        security_headers(headers, is_docs);
        let status = response.status().as_u16();
        let elapsed = started.elapsed();
        metrics::http_request(method.as_str(), route.clone(), status, elapsed);
        let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        span.in_scope(|| tracing::info!(status, elapsed_ms, "request finished"));
    };

    let refused = if headers_too_large(req.headers()) {
        Some(Error::HeadersTooLarge)
    } else {
        nul_in_address(req.uri())
    };
    if let Some(error) = refused {
        let mut response = error.to_response(Some(&request_id));
        finish(&mut response);
        return Ok(req.into_response(response));
    }
    let call = AssertUnwindSafe(next.call(req)).catch_unwind();
    match call.instrument(span.clone()).await {
        Ok(Ok(response)) => {
            let (request, response) = response.map_into_boxed_body().into_parts();
            let mut response = span.in_scope(|| as_problem(response, &request_id));
            finish(&mut response);
            Ok(ServiceResponse::new(request, response))
        }
        // The request is gone with an error or a panic, so the rendered answer travels as
        // an error that carries its finished response.
        failed => {
            let error = match failed {
                Ok(Err(error)) => error,
                _ => Error::internal("handler panicked").into(),
            };
            let status = error.as_response_error().status_code();
            let error = error
                .as_error::<Error>()
                .cloned()
                .unwrap_or_else(|| from_framework(status, &error.to_string()));
            if status.is_server_error() {
                span.in_scope(|| tracing::error!(cause = %error, "request failed"));
            }
            let mut response = error.to_response(Some(&request_id));
            finish(&mut response);
            Err(InternalError::from_response("request failed", response).into())
        }
    }
}

/// Until start-up's database work is done, answers 503 to every request but the probes and the
/// documentation, so no handler meets an unmigrated database or a key not yet loaded.
pub async fn wait_for_database(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let ready = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.readiness.is_ready());
    let path = req.path();
    let exempt = ["/healthz", "/readyz", "/openapi.json"].contains(&path)
        || path == "/docs"
        || path.starts_with("/docs/");
    if ready || exempt {
        next.call(req).await
    } else {
        Err(Error::Unavailable("start-up has not reached the database yet".to_owned()).into())
    }
}

/// Keeps a caller's id when it is a sane token, so ids can be followed across services.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 128
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

fn headers_too_large(headers: &HeaderMap) -> bool {
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    headers.len() > MAX_HEADER_COUNT || bytes > MAX_HEADER_BYTES
}

/// PostgreSQL text cannot hold U+0000, so no path or query value may carry one. `%00` is the only
/// way to write it in a URI (the request line cannot hold a raw NUL), so the raw text tells.
/// A path with one names nothing (404); a query with one is malformed (400).
fn nul_in_address(uri: &Uri) -> Option<Error> {
    if uri.path().contains("%00") {
        return Some(Error::NotFound);
    }
    uri.query()
        .is_some_and(|query| query.contains("%00"))
        .then(|| {
            Error::BadRequest(
                "The query string must not contain NUL characters (`%00`).".to_owned(),
            )
        })
}

/// Rewrites any error response without a problem body into one, and logs server-side causes.
/// Marks an error answer a handler rendered on purpose in another format (the HTML page of a
/// form's field errors), which stays as it is.
pub struct NotAProblem;

fn as_problem(response: HttpResponse, request_id: &str) -> HttpResponse {
    let status = response.status();
    if status.as_u16() < 400 || response.extensions().get::<NotAProblem>().is_some() {
        return response;
    }
    let error = match response.error() {
        Some(error) => match error.as_error::<Error>() {
            Some(ours) => ours.clone(),
            None => from_framework(status, &error.to_string()),
        },
        None if is_problem(response.headers()) => return response,
        None => from_framework(status, ""),
    };
    if status.is_server_error() {
        tracing::error!(cause = %error, "request failed");
    }
    let mut rendered = error.to_response(Some(request_id));
    for (name, value) in response.headers() {
        let keep = name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && !rendered.headers().contains_key(name);
        if keep {
            rendered.headers_mut().append(name.clone(), value.clone());
        }
    }
    rendered
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}

/// Errors raised by actix itself (body limits, CORS, routing) mapped onto ours by status.
/// Their messages describe the request, so 4xx details are passed on; 5xx stay opaque.
fn from_framework(status: StatusCode, message: &str) -> Error {
    let detail = if message.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("Request failed")
            .to_owned()
    } else {
        message.to_owned()
    };
    match status {
        StatusCode::NOT_FOUND => Error::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge { limit: 0 },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType(detail),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Error::HeadersTooLarge,
        StatusCode::SERVICE_UNAVAILABLE => Error::Unavailable(detail),
        status if status.is_client_error() => Error::BadRequest(detail),
        _ => Error::Internal(detail),
    }
}

/// Headers for a JSON API: nothing may be sniffed, framed, or run. The docs page needs its own
/// scripts and styles (all served by Beacon), so it gets a policy that allows exactly those.
fn security_headers(headers: &mut HeaderMap, is_docs: bool) {
    let policy = if is_docs {
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
         script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'"
    };
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, policy),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // Responses are private unless a handler says otherwise (public article reads do).
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
