//! The in-memory cache of public reads, and their compression.
//!
//! A `GET` under `/v1/articles`, `/v1/tags` or `/v1/interests` that sends no `Authorization`
//! and no `preview_token` is answered from memory when this process answered it before: the
//! body as sent (gzip- or brotli-compressed when the client asks), its headers and ETag, keyed
//! by path, canonical query and encoding. Only a 200 its handler marked `PublicAnswer` is
//! stored; a keyed or preview request never reads or fills the cache. `If-None-Match` is
//! answered here, per encoding, without reaching the handler or the database.
//!
//! An answer is reused until the first of: any write to the content tables (a trigger notifies
//! `beacon_content` at commit; start-up clears the cache of every process listening, and a
//! write through this process clears it at once), the TTL, and the next scheduled article's
//! `published_at` (when the public answers change with no write). The generation counter makes
//! sure an answer computed before a clear is never stored after it.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    self, AcceptEncoding, Encoding, EntityTag, Header, HeaderMap, HeaderName, HeaderValue,
};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};

use crate::config::ResponseCacheSettings;
use crate::db;
use crate::error::Error;
use crate::routes::caching::{self, ConditionalsDeferred, PublicAnswer};
use crate::routes::state::AppState;
use crate::services::articles;

/// `hit`, `miss`, or `bypass` (a key or preview token), on the cached routes while the cache
/// is on.
pub const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// The resources whose public reads are cached and whose writes clear the cache.
const CONTENT: [&str; 3] = ["/v1/articles", "/v1/tags", "/v1/interests"];

/// Smaller bodies are sent as they are: compressing them saves next to nothing.
const MIN_COMPRESS_BYTES: usize = 512;
/// Brotli's quality 5 compresses JSON nearly as well as 11 at a small fraction of the time.
const BROTLI_QUALITY: u32 = 5;
const BROTLI_WINDOW: u32 = 22;

/// A content coding Beacon sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    /// The client's choice by `Accept-Encoding`; identity when it names neither or cannot be
    /// read (a 406 would help no one).
    pub fn negotiate(req: &impl HttpMessage) -> Coding {
        let Ok(accept) = AcceptEncoding::parse(req) else {
            return Coding::Identity;
        };
        let supported = [Encoding::brotli(), Encoding::gzip(), Encoding::identity()];
        match accept.negotiate(supported.iter()) {
            Some(encoding) if encoding == Encoding::brotli() => Coding::Brotli,
            Some(encoding) if encoding == Encoding::gzip() => Coding::Gzip,
            _ => Coding::Identity,
        }
    }

    pub fn token(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }

    /// Appended to the ETag, so each encoding has its own strong validator (RFC 9110 8.8.3:
    /// different bytes, different strong tag).
    pub fn etag_suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Gzip => ".gz",
            Coding::Brotli => ".br",
        }
    }

    pub fn compress(self, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        match self {
            Coding::Identity => Ok(bytes.to_vec()),
            Coding::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(bytes.len() / 3),
                    flate2::Compression::default(),
                );
                encoder.write_all(bytes)?;
                encoder.finish()
            }
            Coding::Brotli => {
                let mut encoder = brotli::CompressorWriter::new(
                    Vec::with_capacity(bytes.len() / 3),
                    4096,
                    BROTLI_QUALITY,
                    BROTLI_WINDOW,
                );
                encoder.write_all(bytes)?;
                encoder.flush()?;
                Ok(encoder.into_inner())
            }
        }
    }
}

/// A public answer as sent: status 200, its headers (ETag and encoding included) and body.
pub struct Entry {
    headers: HeaderMap,
    etag: EntityTag,
    body: Bytes,
}

impl Entry {
    /// The handler's public 200 in `coding`.
    async fn encode(
        response: HttpResponse<impl MessageBody>,
        coding: Coding,
    ) -> Result<Self, Error> {
        let mut headers = response.headers().clone();
        let plain = body::to_bytes(response.into_body())
            .await
            .map_err(|_| Error::internal("a public answer's body could not be read"))?;
        let coding = if plain.len() < MIN_COMPRESS_BYTES {
            Coding::Identity
        } else {
            coding
        };
        let etag: EntityTag = headers
            .get(header::ETAG)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
            .ok_or_else(|| Error::internal("a public answer without a readable ETag"))?;
        let etag: EntityTag = format!(
            "{}\"{}{}\"",
            if etag.weak { "W/" } else { "" },
            etag.tag(),
            coding.etag_suffix()
        )
        .parse()
        .map_err(Error::internal)?;
        headers.insert(
            header::ETAG,
            HeaderValue::from_str(&etag.to_string()).map_err(Error::internal)?,
        );
        let body = match coding.token() {
            None => plain,
            Some(token) => {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
                Bytes::from(coding.compress(&plain).map_err(Error::internal)?)
            }
        };
        Ok(Entry {
            headers,
            etag,
            body,
        })
    }

    /// Bytes held, roughly: body, headers and the key.
    fn size(&self, key: &Key) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        self.body.len() + headers + key.target.len() + 64
    }

    /// This answer to `req`: a 304 when it holds this version already.
    fn reply(&self, req: &HttpRequest, label: &'static str) -> HttpResponse {
        let not_modified = caching::if_none_match(req, &self.etag);
        let mut response = HttpResponse::build(if not_modified {
            StatusCode::NOT_MODIFIED
        } else {
            StatusCode::OK
        });
        for (name, value) in self.headers.iter() {
            let describes_body = name == header::CONTENT_TYPE || name == header::CONTENT_ENCODING;
            if !(not_modified && describes_body) {
                response.append_header((name.clone(), value.clone()));
            }
        }
        response.insert_header((X_CACHE, label));
        if not_modified {
            response.finish()
        } else {
            response.body(self.body.clone())
        }
    }
}

/// What an answer is stored under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    coding: Coding,
    /// The path and the canonical query.
    target: String,
}

impl Key {
    /// Query parameters sorted by name (the order of repeated ones kept) and encoded one way,
    /// so `?limit=2&tag=a` and `?tag=a&limit=2` share an entry.
    fn of(req: &ServiceRequest, coding: Coding) -> Key {
        let mut pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(req.query_string().as_bytes())
                .into_owned()
                .collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Key {
            coding,
            target: format!("{}?{query}", req.path()),
        }
    }
}

/// The cache of one process. Without settings (`BEACON_CACHE=off`) it stores nothing, but
/// public answers are still compressed and conditional requests answered the same way.
pub struct ResponseCache {
    settings: Option<ResponseCacheSettings>,
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    /// Bumped by every clear; an answer is stored only under the generation it started in.
    generation: u64,
    entries: HashMap<Key, Stored>,
    /// Oldest first, for eviction; an item whose serial is not the stored one is stale.
    order: VecDeque<(Key, u64)>,
    bytes: usize,
    next_serial: u64,
    /// When the next scheduled article goes live, as found in this generation.
    horizon: Option<Horizon>,
}

struct Stored {
    entry: Arc<Entry>,
    expires_at: DateTime<Utc>,
    size: usize,
    serial: u64,
}

impl State {
    /// Frees expired answers from the front of the queue (nearly oldest first: all share the
    /// TTL, and one cut short by a publication goes when it reaches the front), with the stale
    /// items of replaced answers, so an answer nobody asks for again does not hold its memory
    /// until the limits push it out.
    fn free_expired(&mut self, now: DateTime<Utc>) {
        while let Some((key, serial)) = self.order.front() {
            match self.entries.get(key) {
                Some(stored) if stored.serial == *serial && now < stored.expires_at => break,
                Some(stored) if stored.serial == *serial => {
                    let size = stored.size;
                    self.entries.remove(key);
                    self.bytes -= size;
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }
}

#[derive(Clone, Copy)]
struct Horizon {
    generation: u64,
    next: Option<DateTime<Utc>>,
}

impl ResponseCache {
    pub fn new(settings: Option<ResponseCacheSettings>) -> Self {
        ResponseCache {
            settings,
            state: RwLock::default(),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // Every update leaves the state consistent before it could panic.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets every answer: something public may have changed.
    pub fn invalidate(&self) {
        if self.settings.is_none() {
            return;
        }
        let mut state = self.write();
        state.generation += 1;
        state.entries.clear();
        state.order.clear();
        state.bytes = 0;
        state.horizon = None;
        drop(state);
        metrics::counter!("beacon_cache_invalidations_total").increment(1);
    }

    fn get(&self, key: &Key, now: DateTime<Utc>) -> Option<Arc<Entry>> {
        self.read()
            .entries
            .get(key)
            .filter(|stored| now < stored.expires_at)
            .map(|stored| stored.entry.clone())
    }

    fn generation(&self) -> u64 {
        self.read().generation
    }

    /// Until when an answer computed now may be reused: the TTL, cut short by the next
    /// scheduled publication. `None` when it must not be stored.
    async fn expiry(&self, generation: u64, pool: &db::Pool) -> Option<DateTime<Utc>> {
        let settings = self.settings.as_ref()?;
        let now = Utc::now();
        let ttl_end = now + chrono::Duration::from_std(settings.ttl).ok()?;
        let known = self
            .read()
            .horizon
            .filter(|h| h.generation == generation && h.next.is_none_or(|at| at > now));
        let next = match known {
            Some(horizon) => horizon.next,
            None => {
                let next = db::run(pool, move |conn| articles::next_publication(conn, now))
                    .await
                    .map_err(|error| tracing::warn!(%error, "not caching: no publication horizon"))
                    .ok()?;
                let mut state = self.write();
                if state.generation == generation {
                    state.horizon = Some(Horizon { generation, next });
                }
                next
            }
        };
        Some(next.map_or(ttl_end, |at| at.min(ttl_end)))
    }

    /// Stores `entry` unless the cache was cleared since `generation` began, first freeing
    /// the expired answers at the front of the queue and then evicting the oldest ones to stay
    /// within the limits.
    fn insert(&self, key: Key, entry: Arc<Entry>, expires_at: DateTime<Utc>, generation: u64) {
        let Some(settings) = &self.settings else {
            return;
        };
        let size = entry.size(&key);
        if size > settings.max_bytes {
            return;
        }
        let mut state = self.write();
        if state.generation != generation {
            return;
        }
        state.free_expired(Utc::now());
        if let Some(old) = state.entries.remove(&key) {
            state.bytes -= old.size;
        }
        while state.entries.len() >= settings.max_entries || state.bytes + size > settings.max_bytes
        {
            let Some((oldest, serial)) = state.order.pop_front() else {
                break;
            };
            if state
                .entries
                .get(&oldest)
                .is_some_and(|stored| stored.serial == serial)
                && let Some(evicted) = state.entries.remove(&oldest)
            {
                state.bytes -= evicted.size;
            }
        }
        // Replaced entries leave stale items behind; drop them before they pile up.
        if state.order.len() > 2 * settings.max_entries {
            let State { entries, order, .. } = &mut *state;
            order.retain(|(key, serial)| {
                entries
                    .get(key)
                    .is_some_and(|stored| stored.serial == *serial)
            });
        }
        let serial = state.next_serial;
        state.next_serial += 1;
        state.bytes += size;
        state.order.push_back((key.clone(), serial));
        state.entries.insert(
            key,
            Stored {
                entry,
                expires_at,
                size,
                serial,
            },
        );
    }
}

fn is_content(path: &str) -> bool {
    CONTENT.iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// A key or a preview token may unlock more than the public sees.
fn is_private(req: &ServiceRequest) -> bool {
    req.headers().contains_key(header::AUTHORIZATION)
        || url::form_urlencoded::parse(req.query_string().as_bytes())
            .any(|(name, _)| name == "preview_token")
}

/// The middleware: inside CORS (so cached answers get CORS headers too) and the request log.
pub async fn serve(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let cache = req.app_data::<web::Data<ResponseCache>>().cloned();
    let Some(cache) = cache.filter(|_| is_content(req.path())) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let enabled = cache.settings.is_some();
    let method = req.method().clone();
    if method != Method::GET {
        let response = next.call(req).await?;
        // Committed by now: this process stops serving the old answers before the write's
        // response leaves, rather than when its own notification comes back.
        let writes = ![Method::HEAD, Method::OPTIONS].contains(&method);
        if writes && response.status().is_success() {
            cache.invalidate();
        }
        return Ok(response.map_into_boxed_body());
    }
    if is_private(&req) {
        let mut response = next.call(req).await?.map_into_boxed_body();
        if enabled {
            response
                .headers_mut()
                .insert(X_CACHE, HeaderValue::from_static("bypass"));
        }
        return Ok(response);
    }
    let coding = Coding::negotiate(&req);
    let key = Key::of(&req, coding);
    if enabled {
        if let Some(entry) = cache.get(&key, Utc::now()) {
            metrics::counter!("beacon_cache_hits_total").increment(1);
            let response = entry.reply(req.request(), "hit");
            return Ok(req.into_response(response));
        }
        metrics::counter!("beacon_cache_misses_total").increment(1);
    }
    let generation = cache.generation();
    let expires_at = match req.app_data::<web::Data<AppState>>() {
        Some(state) if enabled => cache.expiry(generation, &state.pool).await,
        _ => None,
    };
    req.extensions_mut().insert(ConditionalsDeferred);
    let response = next.call(req).await?;
    let public = response.status() == StatusCode::OK
        && response.response().extensions().contains::<PublicAnswer>();
    if !public {
        let mut response = response.map_into_boxed_body();
        if enabled {
            response
                .headers_mut()
                .insert(X_CACHE, HeaderValue::from_static("miss"));
        }
        return Ok(response);
    }
    let (request, response) = response.into_parts();
    let entry = Arc::new(Entry::encode(response, coding).await?);
    if let Some(expires_at) = expires_at {
        cache.insert(key, entry.clone(), expires_at, generation);
    }
    let mut response = entry.reply(&request, "miss");
    if !enabled {
        response.headers_mut().remove(X_CACHE);
    }
    Ok(ServiceResponse::new(request, response))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use std::io::Read;

    fn settings(max_entries: usize, max_bytes: usize) -> Option<ResponseCacheSettings> {
        Some(ResponseCacheSettings {
            ttl: std::time::Duration::from_secs(30),
            max_entries,
            max_bytes,
        })
    }

    fn entry(body: &str) -> Arc<Entry> {
        Arc::new(Entry {
            headers: HeaderMap::new(),
            etag: "\"a\"".parse().unwrap(),
            body: Bytes::from(body.to_owned()),
        })
    }

    fn key(target: &str) -> Key {
        Key {
            coding: Coding::Identity,
            target: target.to_owned(),
        }
    }

    fn later() -> DateTime<Utc> {
        Utc::now() + chrono::Duration::minutes(1)
    }

    #[test]
    fn the_query_is_canonical_but_repeated_parameters_keep_their_order() {
        let a = TestRequest::with_uri("/v1/articles?tag=b+c&limit=2&x=2&x=1").to_srv_request();
        let b = TestRequest::with_uri("/v1/articles?limit=2&x=2&tag=b%20c&x=1").to_srv_request();
        assert_eq!(Key::of(&a, Coding::Gzip), Key::of(&b, Coding::Gzip));
        assert_ne!(Key::of(&a, Coding::Gzip), Key::of(&a, Coding::Brotli));
        let c = TestRequest::with_uri("/v1/articles?limit=2&x=1&tag=b%20c&x=2").to_srv_request();
        assert_ne!(Key::of(&a, Coding::Gzip), Key::of(&c, Coding::Gzip));
    }

    #[test]
    fn only_the_content_resources_are_cached() {
        for path in [
            "/v1/articles",
            "/v1/articles/a/related",
            "/v1/tags/x",
            "/v1/interests",
        ] {
            assert!(is_content(path), "{path}");
        }
        for path in ["/v1/leads", "/v1/articlesx", "/v1/events", "/healthz"] {
            assert!(!is_content(path), "{path}");
        }
    }

    #[test]
    fn a_key_or_a_preview_token_makes_a_request_private() {
        assert!(!is_private(
            &TestRequest::with_uri("/v1/articles/a").to_srv_request()
        ));
        assert!(is_private(
            &TestRequest::with_uri("/v1/articles/a?preview_token=x").to_srv_request()
        ));
        assert!(is_private(
            &TestRequest::with_uri("/v1/articles/a")
                .insert_header((header::AUTHORIZATION, "Bearer x"))
                .to_srv_request()
        ));
    }

    #[test]
    fn an_answer_computed_before_a_clear_is_not_stored_after_it() {
        let cache = ResponseCache::new(settings(10, 1 << 20));
        let generation = cache.generation();
        cache.invalidate();
        cache.insert(key("/a"), entry("old"), later(), generation);
        assert!(cache.get(&key("/a"), Utc::now()).is_none());

        cache.insert(key("/a"), entry("new"), later(), cache.generation());
        assert!(cache.get(&key("/a"), Utc::now()).is_some());
    }

    #[test]
    fn an_expired_answer_is_not_served() {
        let cache = ResponseCache::new(settings(10, 1 << 20));
        let past = Utc::now() - chrono::Duration::seconds(1);
        cache.insert(key("/a"), entry("a"), past, cache.generation());
        assert!(cache.get(&key("/a"), Utc::now()).is_none());
    }

    #[test]
    fn the_oldest_answers_go_first_when_entries_or_bytes_run_out() {
        let cache = ResponseCache::new(settings(2, 1 << 20));
        for target in ["/a", "/b", "/c"] {
            cache.insert(key(target), entry("x"), later(), cache.generation());
        }
        assert!(cache.get(&key("/a"), Utc::now()).is_none());
        assert!(cache.get(&key("/b"), Utc::now()).is_some());
        assert!(cache.get(&key("/c"), Utc::now()).is_some());

        let cache = ResponseCache::new(settings(100, 300));
        let body = "x".repeat(150);
        cache.insert(key("/a"), entry(&body), later(), cache.generation());
        cache.insert(key("/b"), entry(&body), later(), cache.generation());
        assert!(cache.get(&key("/a"), Utc::now()).is_none());
        assert!(cache.get(&key("/b"), Utc::now()).is_some());
        assert!(cache.read().bytes <= 300);

        cache.insert(
            key("/big"),
            entry(&"x".repeat(400)),
            later(),
            cache.generation(),
        );
        assert!(
            cache.get(&key("/big"), Utc::now()).is_none(),
            "larger than the cache"
        );
    }

    #[test]
    fn replacing_an_answer_many_times_keeps_the_eviction_queue_bounded() {
        let cache = ResponseCache::new(settings(3, 1 << 20));
        for _ in 0..100 {
            cache.insert(key("/a"), entry("x"), later(), cache.generation());
        }
        assert!(cache.read().order.len() <= 7);
        assert_eq!(cache.read().entries.len(), 1);
    }

    #[test]
    fn expired_answers_are_freed_when_the_next_answer_is_stored() {
        let cache = ResponseCache::new(settings(100, 1 << 20));
        let past = Utc::now() - chrono::Duration::seconds(1);
        for target in ["/a", "/b", "/c"] {
            cache.insert(key(target), entry("expired"), past, cache.generation());
        }
        cache.insert(key("/d"), entry("fresh"), later(), cache.generation());

        let state = cache.read();
        assert_eq!(state.entries.len(), 1, "only the fresh answer is held");
        assert_eq!(state.order.len(), 1);
        assert_eq!(state.bytes, entry("fresh").size(&key("/d")));
    }

    #[test]
    fn freeing_expired_answers_never_drops_a_fresh_one() {
        let cache = ResponseCache::new(settings(100, 1 << 20));
        let past = Utc::now() - chrono::Duration::seconds(1);
        cache.insert(key("/fresh"), entry("x"), later(), cache.generation());
        cache.insert(key("/old"), entry("x"), past, cache.generation());
        cache.insert(key("/next"), entry("x"), later(), cache.generation());
        assert!(cache.get(&key("/fresh"), Utc::now()).is_some());
        assert!(cache.get(&key("/next"), Utc::now()).is_some());
    }

    #[test]
    fn a_cache_turned_off_stores_nothing() {
        let cache = ResponseCache::new(None);
        cache.insert(key("/a"), entry("x"), later(), cache.generation());
        assert!(cache.get(&key("/a"), Utc::now()).is_none());
    }

    #[test]
    fn compressed_bodies_decode_to_the_original() {
        let original = "{\"items\": [".to_owned() + &"{\"slug\": \"a\"},".repeat(200) + "]}";
        let gzip = Coding::Gzip.compress(original.as_bytes()).unwrap();
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded, original);

        let br = Coding::Brotli.compress(original.as_bytes()).unwrap();
        let mut decoded = String::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded, original);
        assert!(br.len() < original.len() / 4 && gzip.len() < original.len() / 4);
    }
}
