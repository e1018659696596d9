//! `GET /v1/embed/lead-form.js`: the `<beacon-lead-form>` web component a clinic's site embeds.
//!
//! The script is `assets/lead-form.js` with this deployment's settings (the consent wording and
//! the honeypot field) written into it once at start-up, and compressed then too. Its version is
//! a hash of those bytes: the plain URL is cached briefly and revalidated by `ETag`; the
//! versioned URL (`lead-form.{version}.js`) never changes and is cached for a year.

use actix_web::http::header::{self, EntityTag};
use actix_web::{HttpRequest, HttpResponse, get, web};
use sha2::{Digest, Sha256};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::config::LeadSettings;
use crate::routes::caching;
use crate::routes::response_cache::Coding;

const TEMPLATE: &str = include_str!("../../assets/lead-form.js");
/// Where the settings go in the template; exactly once.
const PLACEHOLDER: &str = "__BEACON_CONFIG__";
/// The plain URL: a changed setting or a new release reaches pages within five minutes.
const PLAIN_CACHE_CONTROL: &str = "public, max-age=300";
const VERSIONED_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
const PLAIN_PATH: &str = "/v1/embed/lead-form.js";

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(lead_form_script)
        .service(versioned_lead_form_script);
}

/// The script as served, in each encoding, with its version.
pub struct EmbedScript {
    /// Hex of the first 8 bytes of the SHA-256 of the uncompressed script.
    version: String,
    identity: web::Bytes,
    gzip: Option<web::Bytes>,
    brotli: Option<web::Bytes>,
}

impl EmbedScript {
    pub fn new(settings: &LeadSettings) -> Self {
        let config = serde_json::json!({
            "consent": settings.consent.as_ref().map(|consent| serde_json::json!({
                "text": consent.text,
                "version": consent.version,
            })),
            "honeypot": settings.honeypot_field,
        });
        // serde_json escapes nothing a script needs escaped, and JSON is a JavaScript
        // expression; `</script>` cannot end anything in a file served on its own.
        let script = TEMPLATE.replacen(PLACEHOLDER, &config.to_string(), 1);
        let digest = Sha256::digest(script.as_bytes());
        let version = hex::encode(digest.get(..8).unwrap_or_default());
        let compress = |coding: Coding| {
            coding
                .compress(script.as_bytes())
                .map(web::Bytes::from)
                .map_err(|error| tracing::warn!(%error, "the embed script is sent uncompressed"))
                .ok()
        };
        Self {
            gzip: compress(Coding::Gzip),
            brotli: compress(Coding::Brotli),
            identity: web::Bytes::from(script),
            version,
        }
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// The script in the client's preferred encoding, a 304 when it holds that version.
    fn respond(&self, req: &HttpRequest, cache_control: &'static str) -> HttpResponse {
        let compressed = match Coding::negotiate(req) {
            Coding::Brotli => self.brotli.as_ref().map(|body| (Coding::Brotli, body)),
            Coding::Gzip => self.gzip.as_ref().map(|body| (Coding::Gzip, body)),
            Coding::Identity => None,
        };
        let (coding, body) = compressed.unwrap_or((Coding::Identity, &self.identity));
        // Hex and a suffix such as `.gz`: never a character `new_strong` refuses.
        let etag = EntityTag::new_strong(format!("{}{}", self.version, coding.etag_suffix()));
        let not_modified = caching::if_none_match(req, &etag);
        let mut response = if not_modified {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        response
            .insert_header(header::ETag(etag))
            .insert_header((header::CACHE_CONTROL, cache_control))
            .insert_header((header::VARY, "Accept-Encoding"));
        if not_modified {
            return response.finish();
        }
        if let Some(token) = coding.token() {
            response.insert_header((header::CONTENT_ENCODING, token));
        }
        response
            .content_type("text/javascript; charset=utf-8")
            .body(body.clone())
    }
}

/// The embeddable lead form
///
/// A dependency-free web component, `<beacon-lead-form>`, for any page: load this script and
/// place the element (attributes `api`, the API origin, default this script's origin;
/// `article`, the article slug the enquiry comes from; optional `heading` and `button-text`).
/// It renders the checklist from `GET /v1/interests`, the consent wording of
/// `BEACON_CONSENT_TEXT`, the honeypot and the fill time, posts to `POST /v1/leads` with an
/// `Idempotency-Key` (retried on network errors), shows field errors inline and, on success,
/// the contact deadline in the visitor's words and any crisis resources at once. The embedding
/// site's origin must be listed in `BEACON_CORS_ORIGINS`. Cached for five minutes and
/// revalidated by `ETag`; the `ETag`'s value is the version for the versioned URL.
#[utoipa::path(
    tag = "embed",
    responses(
        (status = 200, description = "The script", content_type = "text/javascript",
            body = String,
            headers(
                ("ETag" = String, description = "Strong: the script's version (with `.gz` or \
                    `.br` for a compressed body)"),
                ("Cache-Control" = String, description = "`public, max-age=300`"),
            ),
            example = json!("(() => { 'use strict'; … })();")),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
    ),
)]
#[get("/embed/lead-form.js")]
pub async fn lead_form_script(req: HttpRequest, script: web::Data<EmbedScript>) -> HttpResponse {
    script.respond(&req, PLAIN_CACHE_CONTROL)
}

/// The embeddable lead form, one version
///
/// The same script at an address that never changes, cached for a year (`immutable`). A
/// version this deployment no longer serves is redirected (`307`) to the current script at
/// `/v1/embed/lead-form.js`, so a page pinned to an old version keeps a working form.
#[utoipa::path(
    tag = "embed",
    params(("version" = String, Path, description = "The script's version: its `ETag` \
        without quotes or encoding suffix", example = "3f2a9c0d41b7e6a5")),
    responses(
        (status = 200, description = "The script", content_type = "text/javascript",
            body = String,
            headers(
                ("ETag" = String, description = "Strong: the version"),
                ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`"),
            ),
            example = json!("(() => { 'use strict'; … })();")),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
        (status = 307, description = "Another version: to the current script",
            headers(("Location" = String, description = "`/v1/embed/lead-form.js`"))),
        (status = 404, description = "No version at all: the address names no script"),
    ),
)]
#[get("/embed/lead-form.{version}.js")]
pub async fn versioned_lead_form_script(
    req: HttpRequest,
    script: web::Data<EmbedScript>,
    version: web::Path<String>,
) -> HttpResponse {
    if version.as_str() == script.version() {
        return script.respond(&req, VERSIONED_CACHE_CONTROL);
    }
    HttpResponse::TemporaryRedirect()
        .insert_header((header::LOCATION, PLAIN_PATH))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn the_template_holds_the_settings_placeholder_exactly_once() {
        assert_eq!(TEMPLATE.matches(PLACEHOLDER).count(), 1);
    }

    #[test]
    fn the_settings_are_written_into_the_script_and_change_its_version() {
        let mut settings = crate::config::Settings::from_lookup(|_| None)
            .unwrap()
            .leads;
        let plain = EmbedScript::new(&settings);
        settings.consent = Some(crate::config::ConsentWording {
            text: "I agree \"to\" calls </script>".to_owned(),
            version: Some("v2".to_owned()),
        });
        let with_consent = EmbedScript::new(&settings);

        let text = std::str::from_utf8(&with_consent.identity).unwrap();
        assert!(!text.contains(PLACEHOLDER));
        assert!(
            text.contains(r#""consent":{"text":"I agree \"to\" calls </script>","version":"v2"}"#)
        );
        assert!(text.contains(r#""honeypot":"website""#));
        assert_ne!(plain.version(), with_consent.version());
        assert_eq!(plain.version().len(), 16);
    }
}
