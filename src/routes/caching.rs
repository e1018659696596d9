//! Conditional and cacheable JSON responses: strong `ETag`s, `If-None-Match` → 304,
//! `Last-Modified`, `Cache-Control`, and parsing `If-Match` for writes.
//!
//! Public reads carry an ETag hashed from the body, so it is right by construction. Keyed reads
//! and write responses carry the article's version tag, which `If-Match` is compared with.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::change::Precondition;
use crate::error::Error;

/// Who may store a response.
#[derive(Debug, Clone, Copy)]
pub enum Audience<'a> {
    /// The same for everyone: the configured public `Cache-Control`, varying on the key.
    Public(&'a str),
    /// Unlocked by a key or a preview token: `private, no-store`.
    Private,
}

/// A 200 JSON response (or a 304 when the client holds this version), with validators.
pub struct Cacheable<'a> {
    pub audience: Audience<'a>,
    /// A quoted entity tag; hashed from the body when `None`.
    pub etag: Option<String>,
    pub last_modified: Option<DateTime<Utc>>,
}

impl Cacheable<'_> {
    pub fn respond<T: Serialize>(self, req: &HttpRequest, body: &T) -> Result<HttpResponse, Error> {
        let bytes = serde_json::to_vec(body).map_err(Error::internal)?;
        let etag = self.etag.unwrap_or_else(|| body_etag(&bytes));
        let not_modified = if_none_match(req, &etag);
        let mut response = HttpResponse::build(if not_modified {
            StatusCode::NOT_MODIFIED
        } else {
            StatusCode::OK
        });
        response.insert_header((header::ETAG, etag));
        match self.audience {
            Audience::Public(cache_control) => {
                response.insert_header((header::CACHE_CONTROL, cache_control));
                // A keyed request to the same URL may see more (drafts), so caches must not
                // answer it with the public copy.
                response.insert_header((header::VARY, "Authorization"));
            }
            Audience::Private => {
                response.insert_header((header::CACHE_CONTROL, "private, no-store"));
            }
        }
        if let Some(at) = self.last_modified {
            response.insert_header((header::LAST_MODIFIED, http_date(at)));
        }
        if not_modified {
            return Ok(response.finish());
        }
        Ok(response.content_type("application/json").body(bytes))
    }
}

/// A private JSON response carrying an article's version tag, for writes.
pub fn versioned(
    mut response: HttpResponseBuilder,
    version_tag: &str,
    body: &impl Serialize,
) -> HttpResponse {
    response
        .insert_header((header::ETAG, quoted(version_tag)))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(body)
}

pub fn quoted(tag: &str) -> String {
    format!("\"{tag}\"")
}

/// A strong entity tag from a hash of the representation.
pub fn body_etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    quoted(&URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or_default()))
}

/// An IMF-fixdate, as `Last-Modified` wants.
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Whether `If-None-Match` names `etag` (weak comparison, `*` matches anything). An unparsable
/// header never matches: the client simply gets the full response.
pub fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    let current = etag.trim_start_matches("W/");
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .filter_map(parse_list)
        .any(|list| match list {
            TagList::Any => true,
            TagList::Tags(tags) => tags.iter().any(|tag| tag.quoted == current),
        })
}

/// The client's `If-Match`, if any: `*` or the strong tags it lists (weak ones never match).
pub fn if_match(req: &HttpRequest) -> Result<Option<Precondition>, Error> {
    let mut tags: Vec<String> = Vec::new();
    let mut seen = false;
    for value in req.headers().get_all(header::IF_MATCH) {
        seen = true;
        let list = value.to_str().ok().and_then(parse_list).ok_or_else(|| {
            Error::BadRequest(
                "`If-Match` must be `*` or a list of quoted entity tags, e.g. \"AbC…\".".to_owned(),
            )
        })?;
        match list {
            TagList::Any => return Ok(Some(Precondition::Any)),
            TagList::Tags(listed) => tags.extend(
                listed
                    .into_iter()
                    .filter(|tag| !tag.weak)
                    .map(|tag| tag.quoted.trim_matches('"').to_owned()),
            ),
        }
    }
    Ok(seen.then_some(Precondition::OneOf(tags)))
}

enum TagList {
    Any,
    Tags(Vec<EntityTag>),
}

struct EntityTag {
    weak: bool,
    /// With its quotes, as sent.
    quoted: String,
}

/// `*` or `#entity-tag` (RFC 9110 §8.8.3); `None` when malformed.
fn parse_list(value: &str) -> Option<TagList> {
    if value.trim() == "*" {
        return Some(TagList::Any);
    }
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        if rest.is_empty() {
            break;
        }
        let (weak, after) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let inner = after.strip_prefix('"')?;
        let end = inner.find('"')?;
        let opaque = inner.get(..end)?;
        if !opaque
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b))
        {
            return None;
        }
        tags.push(EntityTag {
            weak,
            quoted: format!("\"{opaque}\""),
        });
        rest = inner.get(end + 1..)?;
        let next = rest.trim_start();
        if !(next.is_empty() || next.starts_with(',')) {
            return None;
        }
    }
    (!tags.is_empty()).then_some(TagList::Tags(tags))
}

/// A `Link` header value pointing at the next page: this request's query with `cursor` replaced.
pub fn next_link(req: &HttpRequest, cursor: &str) -> Option<HeaderValue> {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        if name != "cursor" {
            query.append_pair(&name, &value);
        }
    }
    query.append_pair("cursor", cursor);
    HeaderValue::from_str(&format!(
        "<{}?{}>; rel=\"next\"",
        req.path(),
        query.finish()
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let etag = "\"abc\"";
        for header in [
            "\"abc\"",
            "\"x\", \"abc\"",
            "W/\"abc\"",
            "*",
            " \"x\" ,W/\"abc\" ",
        ] {
            let req = TestRequest::default()
                .insert_header((header::IF_NONE_MATCH, header))
                .to_http_request();
            assert!(if_none_match(&req, etag), "{header}");
        }
        for header in ["\"abd\"", "abc", "\"abc", ""] {
            let req = TestRequest::default()
                .insert_header((header::IF_NONE_MATCH, header))
                .to_http_request();
            assert!(!if_none_match(&req, etag), "{header}");
        }
        assert!(!if_none_match(
            &TestRequest::default().to_http_request(),
            etag
        ));
    }

    #[test]
    fn if_match_is_strong_and_refuses_garbage() {
        let parse = |value: &str| {
            if_match(
                &TestRequest::default()
                    .insert_header((header::IF_MATCH, value))
                    .to_http_request(),
            )
        };
        assert_eq!(parse("*").unwrap(), Some(Precondition::Any));
        assert_eq!(
            parse("\"a\", W/\"b\"").unwrap(),
            Some(Precondition::OneOf(vec!["a".to_owned()]))
        );
        assert!(parse("a").is_err());
        assert_eq!(
            if_match(&TestRequest::default().to_http_request()).unwrap(),
            None
        );
    }

    #[test]
    fn the_next_link_keeps_the_filters_and_replaces_the_cursor() {
        let req =
            TestRequest::with_uri("/v1/articles?tag=ptsd&cursor=old&limit=2").to_http_request();
        assert_eq!(
            next_link(&req, "new").unwrap(),
            "</v1/articles?tag=ptsd&limit=2&cursor=new>; rel=\"next\""
        );
    }

    #[test]
    fn dates_are_imf_fixdates() {
        let at = DateTime::from_timestamp(1_764_417_600, 0).unwrap();
        assert_eq!(http_date(at), "Sat, 29 Nov 2025 12:00:00 GMT");
    }
}
