//! Plain HTML forms (no JavaScript) posting to `POST /v1/leads`: the urlencoded body read into
//! the JSON document intake already takes, and the answers a browser gets (303 to the
//! thank-you or crisis page, or a small HTML page of its own).

use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value, json};

use crate::config::LeadSettings;
use crate::domain::form_page::{self, Problem, Refusal};
use crate::domain::text;
use crate::error::{Error, FieldError};
use crate::routes::middleware::NotAProblem;

/// What checking the consent box sends: `on` by default, or the box's own `value`.
const CHECKED: &[&str] = &["on", "true", "yes", "1"];

/// A form post as intake reads it.
pub(super) struct Form {
    /// The fields as the JSON body would carry them.
    pub document: Map<String, Value>,
    /// The `redirect` field, not yet checked.
    pub redirect: Option<String>,
}

/// Repeated `interests` make a list; `consent`, `consent_text`, `consent_version` and
/// `consent_page_url` make the `consent` object (sent when the wording or the box is); of any
/// other repeated field the first counts. A blank `form_rendered_at` counts as absent.
pub(super) fn read(body: &[u8]) -> Form {
    let mut document = Map::new();
    let mut interests = Vec::new();
    let mut redirect = None;
    let mut consent: Map<String, Value> = Map::new();
    let mut checked = None;
    for (name, value) in url::form_urlencoded::parse(body) {
        let value = value.into_owned();
        match name.as_ref() {
            "interests" => interests.push(Value::String(value)),
            "redirect" => {
                redirect.get_or_insert(value);
            }
            "consent" => {
                checked
                    .get_or_insert(CHECKED.contains(&value.trim().to_ascii_lowercase().as_str()));
            }
            "consent_text" | "consent_version" | "consent_page_url" => {
                let part = name.trim_start_matches("consent_").to_owned();
                consent.entry(part).or_insert(Value::String(value));
            }
            "form_rendered_at" if value.trim().is_empty() => {}
            _ => {
                document
                    .entry(name.into_owned())
                    .or_insert(Value::String(value));
            }
        }
    }
    if !interests.is_empty() {
        document.insert("interests".to_owned(), Value::Array(interests));
    }
    if checked.is_some() || consent.contains_key("text") {
        consent.insert("agreed".to_owned(), json!(checked.unwrap_or(false)));
        consent.entry("text").or_insert(json!(""));
        document.insert("consent".to_owned(), Value::Object(consent));
    }
    Form { document, redirect }
}

/// `url` when its origin is one of the allowed browser origins: never an open redirect.
pub(super) fn allowed_redirect(url: &str, allowed_origins: &[String]) -> Option<String> {
    let url = text::http_url(url).ok()?;
    let origin = origin_of(&url)?;
    allowed_origins.contains(&origin).then_some(url)
}

/// `scheme://host[:port]` of an absolute URL, as a browser writes it.
pub(super) fn origin_of(url: &str) -> Option<String> {
    let origin = url::Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Success: the crisis page when the enquiry reports suicidal thoughts, else the allowed
/// `redirect`, else the thank-you page; Beacon's own page when none is configured.
pub(super) fn answer(
    settings: &LeadSettings,
    crisis: bool,
    redirect: Option<String>,
    back: Option<&str>,
) -> HttpResponse {
    if crisis {
        return match &settings.form_crisis_url {
            Some(url) => see_other(url),
            None => html(
                actix_web::http::StatusCode::OK,
                form_page::crisis(&settings.crisis_resources, back),
            ),
        };
    }
    match redirect.as_ref().or(settings.form_thanks_url.as_ref()) {
        Some(url) => see_other(url),
        None => html(actix_web::http::StatusCode::OK, form_page::thanks(back)),
    }
}

/// The field errors as a page, 422.
pub(super) fn errors(errors: &[FieldError], back: Option<&str>) -> HttpResponse {
    let fields: Vec<String> = errors
        .iter()
        .map(|error| form_page::field_of(&error.pointer))
        .collect();
    let problems: Vec<Problem<'_>> = errors
        .iter()
        .zip(&fields)
        .map(|(error, field)| Problem {
            field,
            message: &error.message,
        })
        .collect();
    let mut response = html(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        form_page::errors(&problems, back),
    );
    response.extensions_mut().insert(NotAProblem);
    response
}

/// The page for an enquiry refused as a whole (409, 413, 429), keeping the status and its
/// `Retry-After`; `None` for any other error, which stays problem+json.
pub(super) fn refused(error: &Error, back: Option<&str>) -> Option<HttpResponse> {
    let refusal = match error {
        Error::Conflict(_) => Refusal::Busy,
        Error::PayloadTooLarge { .. } => Refusal::TooLarge,
        Error::TooManyRequests { retry_after_secs } => Refusal::TooMany {
            retry_after_secs: *retry_after_secs,
        },
        _ => return None,
    };
    let mut response = html(error.status_code(), form_page::refused(refusal, back));
    if let Refusal::TooMany { retry_after_secs } = refusal {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(retry_after_secs),
        );
    }
    response.extensions_mut().insert(NotAProblem);
    Some(response)
}

fn see_other(url: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn html(status: actix_web::http::StatusCode, page: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(page)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn a_form_reads_as_the_json_body_with_its_consent_and_interests() {
        let form = read(
            b"name=Jane+Doe&phone=%28415%29+555-2671&interests=ptsd&interests=suicidal_ideation\
              &consent=on&consent_text=I+agree.&consent_version=v1&form_rendered_at=\
              &redirect=https%3A%2F%2Fclinic.example%2Fthanks&name=Other",
        );
        assert_eq!(
            Value::Object(form.document),
            json!({
                "name": "Jane Doe", "phone": "(415) 555-2671",
                "interests": ["ptsd", "suicidal_ideation"],
                "consent": {"agreed": true, "text": "I agree.", "version": "v1"}
            })
        );
        assert_eq!(
            form.redirect.as_deref(),
            Some("https://clinic.example/thanks")
        );
    }

    #[test]
    fn an_unticked_box_beside_its_wording_is_a_declined_consent() {
        let form = read(b"name=Jane&phone=4155552671&consent_text=I+agree.");
        assert_eq!(
            form.document["consent"],
            json!({"agreed": false, "text": "I agree."})
        );
        assert!(read(b"name=Jane").document.get("consent").is_none());
    }

    #[test]
    fn only_a_redirect_to_an_allowed_origin_is_followed() {
        let allowed = vec!["https://clinic.example".to_owned()];
        assert_eq!(
            allowed_redirect("https://clinic.example/thanks?x=1", &allowed).as_deref(),
            Some("https://clinic.example/thanks?x=1")
        );
        for url in [
            "https://evil.example/thanks",
            "https://clinic.example.evil.example/",
            "//evil.example/",
            "/thanks",
            "javascript:alert(1)",
            "http://clinic.example/thanks",
        ] {
            assert_eq!(allowed_redirect(url, &allowed), None, "{url}");
        }
    }
}
