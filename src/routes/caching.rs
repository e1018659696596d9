//! Conditional and cacheable JSON responses: strong `ETag`s, `If-None-Match` → 304,
//! `Last-Modified`, `Cache-Control`, and parsing `If-Match` for writes.
//!
//! Public reads carry an ETag hashed from the body, so it is right by construction. Keyed reads
//! and write responses carry the article's version tag, which `If-Match` is compared with.
//! A public 200 is marked [`PublicAnswer`], the only kind `routes::response_cache` stores.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, EntityTag, Header, HeaderValue, IfMatch, IfNoneMatch};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, HttpResponseBuilder};
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

/// In a response's extensions: the same answer for anyone who sends no key or token.
#[derive(Clone, Copy, Debug)]
pub struct PublicAnswer;

/// In a request's extensions: the response cache answers `If-None-Match` itself (per encoding),
/// so the handler always renders the whole 200 for it to store.
#[derive(Clone, Copy, Debug)]
pub struct ConditionalsDeferred;

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
        // Our own tags always parse; a failure here is a bug, answered with a 500.
        let current: EntityTag = etag.parse().map_err(Error::internal)?;
        let deferred = req.extensions().contains::<ConditionalsDeferred>();
        let not_modified = !deferred && if_none_match(req, &current);
        let mut response = HttpResponse::build(if not_modified {
            StatusCode::NOT_MODIFIED
        } else {
            StatusCode::OK
        });
        response.insert_header(header::ETag(current));
        match self.audience {
            Audience::Public(cache_control) => {
                response.insert_header((header::CACHE_CONTROL, cache_control));
                // A keyed request to the same URL may see more (drafts), so caches must not
                // answer it with the public copy; `routes::response_cache` compresses it when
                // asked.
                response.insert_header((header::VARY, "Authorization, Accept-Encoding"));
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
        let mut response = response.content_type("application/json").body(bytes);
        if let Audience::Public(_) = self.audience {
            response.extensions_mut().insert(PublicAnswer);
        }
        Ok(response)
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

/// `tag` as a strong entity tag. Quoted by hand because `EntityTag::new_strong` panics on a
/// character a tag may not hold; `Cacheable::respond` parses the result, so there such a bug is
/// a 500.
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

/// Whether `If-None-Match` names `etag`, by RFC 9110's weak comparison (`*` matches anything).
/// A malformed header never matches: the client simply gets the full response.
pub fn if_none_match(req: &HttpRequest, etag: &EntityTag) -> bool {
    match condition::<IfNoneMatch>(req) {
        Ok(Some(Condition::Any)) => true,
        Ok(Some(Condition::Tags(tags))) => tags.iter().any(|tag| tag.weak_eq(etag)),
        Ok(None) | Err(Malformed) => false,
    }
}

/// The client's `If-Match`, if any: `*` or the strong tags it lists. RFC 9110 compares
/// `If-Match` strongly and our tags are all strong, so a weak tag can never match and is left
/// out; `Precondition::holds` then compares what remains with the current tag.
pub fn if_match(req: &HttpRequest) -> Result<Option<Precondition>, Error> {
    let condition = condition::<IfMatch>(req).map_err(|Malformed| {
        Error::BadRequest(
            "`If-Match` must be `*` or a list of quoted entity tags, e.g. \"AbC…\".".to_owned(),
        )
    })?;
    Ok(condition.map(|condition| match condition {
        Condition::Any => Precondition::Any,
        Condition::Tags(tags) => Precondition::OneOf(
            tags.into_iter()
                .filter(|tag| !tag.weak)
                .map(|tag| tag.tag().to_owned())
                .collect(),
        ),
    }))
}

/// `If-Match` or `If-None-Match`: `*` or the entity tags it lists.
enum Condition {
    Any,
    Tags(Vec<EntityTag>),
}

impl From<IfMatch> for Condition {
    fn from(header: IfMatch) -> Self {
        match header {
            IfMatch::Any => Condition::Any,
            IfMatch::Items(tags) => Condition::Tags(tags),
        }
    }
}

impl From<IfNoneMatch> for Condition {
    fn from(header: IfNoneMatch) -> Self {
        match header {
            IfNoneMatch::Any => Condition::Any,
            IfNoneMatch::Items(tags) => Condition::Tags(tags),
        }
    }
}

/// A conditional header that is not `*` nor a list of entity tags.
struct Malformed;

/// The conditional header `H` as actix-web parses it, `None` when the request has none.
fn condition<H: Header + Into<Condition>>(
    req: &HttpRequest,
) -> Result<Option<Condition>, Malformed> {
    let values = req.headers().get_all(H::name());
    if values.len() == 0 {
        return Ok(None);
    }
    let condition = H::parse(req).map_err(|_| Malformed)?.into();
    if let Condition::Tags(tags) = &condition {
        // actix-web skips list members that are not entity tags (and so reads `"a", b` as
        // `"a"`); RFC 9110 allows no such member, nor an empty list. Members are counted the
        // way actix-web splits them.
        let members: usize = values
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter(|member| !member.trim().is_empty())
            .count();
        if tags.is_empty() || tags.len() != members {
            return Err(Malformed);
        }
    }
    Ok(Some(condition))
}

/// A list's `limit`: `default` when absent, a 400 outside 1..=`max`.
pub fn page_limit(limit: Option<i64>, default: i64, max: i64) -> Result<i64, Error> {
    let limit = limit.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(Error::BadRequest(format!(
            "`limit` must be between 1 and {max}."
        )));
    }
    Ok(limit)
}

/// A 200 for one page of a list, with a `Link` header to the next page when there is one.
pub fn page_response(req: &HttpRequest, next_cursor: Option<&str>) -> HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    if let Some(link) = next_cursor.and_then(|cursor| next_link(req, cursor)) {
        response.insert_header((header::LINK, link));
    }
    response
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

    fn request(name: header::HeaderName, values: &[&str]) -> HttpRequest {
        values
            .iter()
            .fold(TestRequest::default(), |req, value| {
                req.append_header((name.clone(), *value))
            })
            .to_http_request()
    }

    fn none_match(values: &[&str]) -> bool {
        let current: EntityTag = "\"abc\"".parse().unwrap();
        if_none_match(&request(header::IF_NONE_MATCH, values), &current)
    }

    fn if_match_of(values: &[&str]) -> Result<Option<Precondition>, Error> {
        if_match(&request(header::IF_MATCH, values))
    }

    fn one_of(tags: &[&str]) -> Option<Precondition> {
        Some(Precondition::OneOf(
            tags.iter().map(|tag| (*tag).to_owned()).collect(),
        ))
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        for header in [
            "\"abc\"",
            "\"x\", \"abc\"",
            "W/\"abc\"",
            "*",
            " * ",
            " \"x\" ,W/\"abc\" ",
            ",\"x\",,\"abc\",",
        ] {
            assert!(none_match(&[header]), "{header}");
        }
        assert!(none_match(&["\"x\"", "W/\"abc\""]), "two header lines");
        assert!(none_match(&["*", "\"x\""]), "star on the first line");
    }

    #[test]
    fn if_none_match_never_matches_other_tags_or_a_malformed_header() {
        for header in [
            "\"abd\"",
            "abc",
            "\"abc",
            "",
            ",",
            "w/\"abc\"",
            "\"abc\", abc",
            "\"abc\" \"x\"",
            "\"a bc\"",
            "*, \"abc\"",
        ] {
            assert!(!none_match(&[header]), "{header}");
        }
        assert!(
            !none_match(&["\"abc\"", "garbage"]),
            "one bad line spoils the field"
        );
        assert!(!none_match(&[]), "no header");
    }

    #[test]
    fn if_match_is_strong_and_refuses_garbage() {
        assert_eq!(if_match_of(&["*"]).unwrap(), Some(Precondition::Any));
        assert_eq!(if_match_of(&[" * "]).unwrap(), Some(Precondition::Any));
        assert_eq!(if_match_of(&["\"a\", W/\"b\""]).unwrap(), one_of(&["a"]));
        assert_eq!(if_match_of(&["W/\"a\""]).unwrap(), one_of(&[]));
        assert_eq!(if_match_of(&[]).unwrap(), None);
        for header in [
            "a",
            "",
            ",",
            "\"a",
            "\"a\", b",
            "\"a\" \"b\"",
            "*, \"a\"",
            "w/\"a\"",
        ] {
            assert!(if_match_of(&[header]).is_err(), "{header}");
        }
        assert!(if_match_of(&["\"a\"", "b"]).is_err());
        // actix-web splits members at every comma, so a tag holding one is unreadable; none of
        // the tags we hand out does.
        assert!(if_match_of(&["\"a,b\""]).is_err());
    }

    #[test]
    fn if_match_collects_the_tags_of_every_member_and_header_line() {
        assert_eq!(
            if_match_of(&["\"a\", \"b\"", "\"c\""]).unwrap(),
            one_of(&["a", "b", "c"])
        );
        assert_eq!(if_match_of(&["\"\""]).unwrap(), one_of(&[""]));
    }

    #[test]
    fn bodies_get_strong_etags_that_parse_as_entity_tags() {
        let etag = body_etag(b"{}");
        let parsed: EntityTag = etag.parse().unwrap();
        assert!(!parsed.weak);
        assert_eq!(parsed.to_string(), etag);
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
