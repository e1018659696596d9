//! Meta (Facebook/Instagram) lead ads: the credentials a `meta` source holds, the
//! `X-Hub-Signature-256` check, the `leadgen` notifications Meta posts, and the lead the Graph
//! API answers with. Meta's notification carries ids only; the person's answers are fetched
//! afterwards with the page's token.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use hmac::{KeyInit, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const SECRET_MAX_CHARS: usize = 256;
const TOKEN_MAX_CHARS: usize = 2048;
const VERIFY_TOKEN_PREFIX: &str = "bmv_";
const VERIFY_TOKEN_BYTES: usize = 24;
/// Graph ids are numeric strings; 32 digits is far beyond any seen.
const ID_MAX_DIGITS: usize = 32;
/// The Graph API version used unless `BEACON_META_GRAPH_VERSION` says otherwise.
pub const DEFAULT_GRAPH_VERSION: &str = "v21.0";
/// What the fetch asks of a lead.
pub const LEAD_FIELDS: &str = "created_time,field_data,ad_id,form_id,campaign_id,is_organic";

/// Why a credential was refused; safe to show (it never repeats the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("must be 1–{0} visible ASCII characters, without spaces")]
    Shape(usize),
}

fn credential(input: &str, max: usize) -> Result<String, CredentialError> {
    let value = input.trim();
    let fits = !value.is_empty()
        && value.len() <= max
        && value.bytes().all(|byte| byte.is_ascii_graphic());
    fits.then(|| value.to_owned())
        .ok_or(CredentialError::Shape(max))
}

/// The app secret of the clinic's Meta app: it signs every notification Meta posts.
#[derive(Clone, PartialEq, Eq)]
pub struct AppSecret(String);

impl AppSecret {
    pub fn parse(input: &str) -> Result<AppSecret, CredentialError> {
        credential(input, SECRET_MAX_CHARS).map(AppSecret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `header` (`X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw
    /// body under this secret) signs `body`. The comparison takes the same time wherever the
    /// first wrong byte is.
    pub fn signs(&self, header: Option<&str>, body: &[u8]) -> bool {
        let Some(expected) = header
            .and_then(|value| value.trim().strip_prefix("sha256="))
            .and_then(|hex_digest| hex::decode(hex_digest).ok())
        else {
            return false;
        };
        let Ok(mut mac) = HmacSha256::new_from_slice(self.0.as_bytes()) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    }

    /// The header value Meta would send for `body`: for tests and examples.
    pub fn sign(&self, body: &[u8]) -> String {
        let mut mac = match HmacSha256::new_from_slice(self.0.as_bytes()) {
            Ok(mac) => mac,
            // HMAC takes keys of any length.
            Err(_) => return String::new(),
        };
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(<redacted>)")
    }
}

/// A page access token: what the Graph API wants to hand out a lead of the page.
#[derive(Clone, PartialEq, Eq)]
pub struct PageToken(String);

impl PageToken {
    pub fn parse(input: &str) -> Result<PageToken, CredentialError> {
        credential(input, TOKEN_MAX_CHARS).map(PageToken)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PageToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PageToken(<redacted>)")
    }
}

/// The token Meta echoes when it checks the callback URL: made by Beacon, shown once, kept
/// only as its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyToken(String);

impl VerifyToken {
    pub fn generate() -> Result<VerifyToken, getrandom::Error> {
        let mut bytes = [0u8; VERIFY_TOKEN_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(VerifyToken(format!(
            "{VERIFY_TOKEN_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(bytes)
        )))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is stored: the hex SHA-256.
    pub fn digest(&self) -> String {
        digest(&self.0)
    }
}

impl fmt::Debug for VerifyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifyToken(<redacted>)")
    }
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `offered` is the token whose digest is `stored`. Digests are compared, so timing
/// says nothing about the token itself.
pub fn verify_token_matches(offered: &str, stored_digest: &str) -> bool {
    !stored_digest.is_empty() && digest(offered) == stored_digest
}

/// The answer to Meta's subscription check: the challenge to echo, or `None` (403).
pub fn challenge_answer<'a>(
    mode: Option<&str>,
    offered_token: Option<&str>,
    challenge: Option<&'a str>,
    stored_digest: &str,
) -> Option<&'a str> {
    let subscribing = mode == Some("subscribe");
    let token_ok = offered_token.is_some_and(|token| verify_token_matches(token, stored_digest));
    (subscribing && token_ok).then_some(challenge?)
}

/// What a `meta` source keeps in its `credentials`: the app secret and page token as given
/// (Beacon must use them), the verify token only as its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaCredentials {
    pub app_secret: AppSecret,
    pub page_token: PageToken,
    pub verify_token_sha256: String,
}

impl MetaCredentials {
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "app_secret": self.app_secret.expose(),
            "page_access_token": self.page_token.expose(),
            "verify_token_sha256": self.verify_token_sha256,
        })
    }

    /// `None` when the stored value lacks a part or a part has the wrong shape.
    pub fn from_json(stored: &Value) -> Option<MetaCredentials> {
        Some(MetaCredentials {
            app_secret: AppSecret::parse(stored["app_secret"].as_str()?).ok()?,
            page_token: PageToken::parse(stored["page_access_token"].as_str()?).ok()?,
            verify_token_sha256: stored["verify_token_sha256"].as_str()?.to_owned(),
        })
    }
}

/// A Graph object id (lead, page, form, ad, ad group, campaign): digits only, so it can go into
/// a Graph URL path as it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GraphId(String);

impl GraphId {
    pub fn parse(input: &str) -> Option<GraphId> {
        let fits = !input.is_empty()
            && input.len() <= ID_MAX_DIGITS
            && input.bytes().all(|byte| byte.is_ascii_digit());
        fits.then(|| GraphId(input.to_owned()))
    }

    /// Meta sends ids as strings, older payloads as numbers.
    fn from_json(value: &Value) -> Option<GraphId> {
        match value {
            Value::String(text) => GraphId::parse(text),
            Value::Number(number) if number.is_u64() => GraphId::parse(&number.to_string()),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One `leadgen` change: a lead was submitted; its answers are to be fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadgenChange {
    pub leadgen_id: GraphId,
    pub page_id: Option<GraphId>,
    pub form_id: Option<GraphId>,
    pub ad_id: Option<GraphId>,
    pub adgroup_id: Option<GraphId>,
    pub created_time: Option<DateTime<Utc>>,
}

/// A notification Meta posted, as far as Beacon reads it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Notification {
    /// Each `leadgen` change with a usable `leadgen_id`, first occurrence of an id only.
    pub leads: Vec<LeadgenChange>,
    /// `leadgen` changes without a usable `leadgen_id`: nothing can be fetched for them.
    pub unusable: usize,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<ChangeEnvelope>,
}

#[derive(Deserialize)]
struct ChangeEnvelope {
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: Value,
}

/// The notification in `body` (`{"object": "page", "entry": [{"changes": [{"field":
/// "leadgen", "value": {...}}]}]}`); other fields and other kinds of change are ignored. `Err`
/// when the body is not such JSON at all.
pub fn parse_notification(body: &[u8]) -> Result<Notification, serde_json::Error> {
    let envelope: Envelope = serde_json::from_slice(body)?;
    let mut notification = Notification::default();
    let changes = envelope
        .entry
        .into_iter()
        .flat_map(|entry| entry.changes)
        .filter(|change| change.field == "leadgen");
    for change in changes {
        let value = &change.value;
        let id = |name: &str| GraphId::from_json(&value[name]);
        let Some(leadgen_id) = id("leadgen_id") else {
            notification.unusable += 1;
            continue;
        };
        if notification
            .leads
            .iter()
            .any(|lead| lead.leadgen_id == leadgen_id)
        {
            continue;
        }
        notification.leads.push(LeadgenChange {
            page_id: id("page_id"),
            form_id: id("form_id"),
            ad_id: id("ad_id"),
            adgroup_id: id("adgroup_id"),
            created_time: value["created_time"]
                .as_i64()
                .and_then(|secs| Utc.timestamp_opt(secs, 0).single()),
            leadgen_id,
        });
    }
    Ok(notification)
}

/// `BEACON_META_GRAPH_VERSION`: `v` and a major.minor version, as Meta names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphVersion(String);

impl GraphVersion {
    pub fn parse(input: &str) -> Option<GraphVersion> {
        let (major, minor) = input.strip_prefix('v')?.split_once('.')?;
        let digits = |part: &str| {
            !part.is_empty() && part.len() <= 4 && part.bytes().all(|b| b.is_ascii_digit())
        };
        (digits(major) && digits(minor)).then(|| GraphVersion(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for GraphVersion {
    fn default() -> Self {
        GraphVersion(DEFAULT_GRAPH_VERSION.to_owned())
    }
}

/// `GET {base}/{version}/{leadgen_id}?fields=…`; the token goes in a header, never the URL.
pub fn lead_url(base: &url::Url, version: &GraphVersion, id: &GraphId) -> url::Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments
            .pop_if_empty()
            .push(version.as_str())
            .push(id.as_str());
    }
    url.query_pairs_mut()
        .clear()
        .append_pair("fields", LEAD_FIELDS);
    url
}

/// A lead as the Graph API answers it: the form's answers by question name.
#[derive(Clone, PartialEq, Eq)]
pub struct GraphLead {
    pub created_time: Option<DateTime<Utc>>,
    pub ad_id: Option<GraphId>,
    pub form_id: Option<GraphId>,
    pub campaign_id: Option<GraphId>,
    pub is_organic: bool,
    pub answers: LeadAnswers,
}

impl fmt::Debug for GraphLead {
    // The answers are personal: ids only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphLead")
            .field("ad_id", &self.ad_id)
            .field("form_id", &self.form_id)
            .field("campaign_id", &self.campaign_id)
            .finish_non_exhaustive()
    }
}

/// The form's answers: the standard questions by meaning, the others as asked.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct LeadAnswers {
    pub full_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub postal_code: Option<String>,
    /// Every other question, in the form's order: its name and the answer (several values
    /// joined with ", ").
    pub custom: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct RawLead {
    created_time: Option<String>,
    ad_id: Option<Value>,
    form_id: Option<Value>,
    campaign_id: Option<Value>,
    #[serde(default)]
    is_organic: bool,
    #[serde(default)]
    field_data: Vec<RawField>,
}

#[derive(Deserialize)]
struct RawField {
    name: String,
    #[serde(default)]
    values: Vec<Value>,
}

/// The lead in a Graph answer's body; `Err` when it is not a lead object.
pub fn parse_lead(body: &[u8]) -> Result<GraphLead, serde_json::Error> {
    let raw: RawLead = serde_json::from_slice(body)?;
    let id = |value: &Option<Value>| value.as_ref().and_then(GraphId::from_json);
    let mut answers = LeadAnswers::default();
    for field in raw.field_data {
        let values: Vec<String> = field
            .values
            .iter()
            .filter_map(|value| match value {
                Value::String(text) => Some(text.trim().to_owned()),
                Value::Number(number) => Some(number.to_string()),
                Value::Bool(flag) => Some(flag.to_string()),
                _ => None,
            })
            .filter(|value| !value.is_empty())
            .collect();
        if values.is_empty() {
            continue;
        }
        let answer = values.join(", ");
        let slot = match field.name.as_str() {
            "full_name" => &mut answers.full_name,
            "first_name" => &mut answers.first_name,
            "last_name" => &mut answers.last_name,
            "phone_number" => &mut answers.phone,
            "email" => &mut answers.email,
            "zip_code" | "post_code" => &mut answers.postal_code,
            _ => {
                answers.custom.push((field.name, answer));
                continue;
            }
        };
        slot.get_or_insert(answer);
    }
    Ok(GraphLead {
        created_time: raw.created_time.as_deref().and_then(parse_graph_time),
        ad_id: id(&raw.ad_id),
        form_id: id(&raw.form_id),
        campaign_id: id(&raw.campaign_id),
        is_organic: raw.is_organic,
        answers,
    })
}

/// Graph times look like `2015-02-28T08:49:14+0000` (no colon in the offset).
fn parse_graph_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .map(|time| time.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
                .ok()
                .map(|time| time.and_utc())
        })
}

/// What a failed fetch means for the lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchFailure {
    /// Graph is down, slow or busy: the queue tries again on its schedule.
    Transient,
    /// Graph refused for good (a bad or expired token, a missing permission, a lead that is
    /// not there): retrying cannot help until someone acts.
    Permanent,
}

/// Graph error codes Meta documents as worth retrying (unknown, service, throttling).
const TRANSIENT_CODES: [i64; 8] = [1, 2, 4, 17, 32, 341, 613, 80004];

/// Classifies a Graph answer that was not a success, from its status and body.
pub fn classify_failure(status: u16, body: &[u8]) -> FetchFailure {
    if status >= 500 || status == 429 || status == 408 {
        return FetchFailure::Transient;
    }
    let error = serde_json::from_slice::<Value>(body)
        .ok()
        .map(|body| body["error"].clone())
        .unwrap_or_default();
    let transient = error["is_transient"].as_bool() == Some(true)
        || error["code"]
            .as_i64()
            .is_some_and(|code| TRANSIENT_CODES.contains(&code));
    if transient {
        FetchFailure::Transient
    } else {
        FetchFailure::Permanent
    }
}

/// A Graph error's code and subcode, for the record of a failed fetch (never its message,
/// which may quote the request).
pub fn error_summary(status: u16, body: &[u8]) -> String {
    let error = serde_json::from_slice::<Value>(body)
        .ok()
        .map(|body| body["error"].clone())
        .unwrap_or_default();
    match (error["code"].as_i64(), error["error_subcode"].as_i64()) {
        (Some(code), Some(subcode)) => format!("HTTP {status}, Graph error {code}/{subcode}"),
        (Some(code), None) => format!("HTTP {status}, Graph error {code}"),
        _ => format!("HTTP {status}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    /// The sample Meta's app dashboard sends for the `leadgen` field.
    const SAMPLE: &str = r#"{"object": "page", "entry": [{"id": "444444444444", "time": 1502300000,
        "changes": [{"field": "leadgen", "value": {"ad_id": "444444444", "form_id": "444444444444",
        "leadgen_id": "444444444444", "created_time": 1502300000, "page_id": "444444444444",
        "adgroup_id": "44444444444"}}]}]}"#;

    #[test]
    fn a_signature_verifies_only_over_the_same_body_and_secret() {
        let secret = AppSecret::parse("0123456789abcdef0123456789abcdef").unwrap();
        let header = secret.sign(SAMPLE.as_bytes());
        assert!(header.starts_with("sha256=") && header.len() == 7 + 64);
        assert!(secret.signs(Some(&header), SAMPLE.as_bytes()));
        assert!(!secret.signs(Some(&header), b"{}"));
        assert!(!secret.signs(None, SAMPLE.as_bytes()));
        assert!(!secret.signs(Some(&header[7..]), SAMPLE.as_bytes()));
        assert!(!secret.signs(Some("sha256=zz"), SAMPLE.as_bytes()));
        let other = AppSecret::parse("another-secret").unwrap();
        assert!(!other.signs(Some(&header), SAMPLE.as_bytes()));
    }

    #[test]
    fn a_known_hmac_matches() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC 4231 style.
        let secret = AppSecret::parse("key").unwrap();
        assert_eq!(
            secret.sign(b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn credentials_are_one_visible_word_and_never_debug_printed() {
        assert!(AppSecret::parse("  abc  ").is_ok());
        assert!(AppSecret::parse("").is_err() && AppSecret::parse("a b").is_err());
        assert!(PageToken::parse(&"E".repeat(2049)).is_err());
        let token = PageToken::parse("EAAGsecret").unwrap();
        assert!(!format!("{token:?}").contains("EAAG"));
        let verify = VerifyToken::generate().unwrap();
        assert!(verify.expose().starts_with("bmv_"));
        assert!(!format!("{verify:?}").contains(verify.expose()));
    }

    #[test]
    fn credentials_round_trip_through_their_stored_form() {
        let stored = MetaCredentials {
            app_secret: AppSecret::parse("s3cret").unwrap(),
            page_token: PageToken::parse("EAAG").unwrap(),
            verify_token_sha256: VerifyToken::generate().unwrap().digest(),
        };
        assert_eq!(MetaCredentials::from_json(&stored.to_json()), Some(stored));
        assert_eq!(
            MetaCredentials::from_json(&serde_json::json!({"app_secret": "x"})),
            None
        );
    }

    #[test]
    fn the_challenge_is_echoed_only_for_subscribe_with_the_right_token() {
        let token = VerifyToken::generate().unwrap();
        let stored = token.digest();
        let answer = |mode, offered, challenge| challenge_answer(mode, offered, challenge, &stored);
        assert_eq!(
            answer(Some("subscribe"), Some(token.expose()), Some("1158201444")),
            Some("1158201444")
        );
        assert_eq!(
            answer(Some("subscribe"), Some("bmv_wrong"), Some("1")),
            None
        );
        assert_eq!(
            answer(Some("unsubscribe"), Some(token.expose()), Some("1")),
            None
        );
        assert_eq!(answer(None, Some(token.expose()), Some("1")), None);
        assert_eq!(answer(Some("subscribe"), None, Some("1")), None);
        assert!(!verify_token_matches("", ""));
    }

    #[test]
    fn the_dashboard_sample_gives_one_lead_with_its_ids() {
        let notification = parse_notification(SAMPLE.as_bytes()).unwrap();
        assert_eq!(notification.unusable, 0);
        assert_eq!(
            notification.leads,
            vec![LeadgenChange {
                leadgen_id: GraphId::parse("444444444444").unwrap(),
                page_id: GraphId::parse("444444444444"),
                form_id: GraphId::parse("444444444444"),
                ad_id: GraphId::parse("444444444"),
                adgroup_id: GraphId::parse("44444444444"),
                created_time: Utc.timestamp_opt(1_502_300_000, 0).single(),
            }]
        );
    }

    #[test]
    fn numeric_ids_other_fields_repeats_and_bad_ids_are_handled() {
        let body = br#"{"object": "page", "entry": [{"changes": [
            {"field": "feed", "value": {"leadgen_id": "1"}},
            {"field": "leadgen", "value": {"leadgen_id": 123}},
            {"field": "leadgen", "value": {"leadgen_id": "123"}},
            {"field": "leadgen", "value": {"leadgen_id": "../me"}},
            {"field": "leadgen", "value": {}}]}]}"#;
        let notification = parse_notification(body).unwrap();
        assert_eq!(notification.leads.len(), 1);
        assert_eq!(notification.leads[0].leadgen_id.as_str(), "123");
        assert_eq!(notification.unusable, 2);
        assert!(parse_notification(b"not json").is_err());
        assert_eq!(parse_notification(b"{}").unwrap(), Notification::default());
    }

    #[test]
    fn the_lead_url_carries_version_id_and_fields_but_no_token() {
        let base = url::Url::parse("https://graph.facebook.com").unwrap();
        let id = GraphId::parse("444444444444").unwrap();
        let url = lead_url(&base, &GraphVersion::default(), &id);
        assert_eq!(
            url.as_str(),
            "https://graph.facebook.com/v21.0/444444444444?fields=created_time%2Cfield_data%2Cad_id%2Cform_id%2Ccampaign_id%2Cis_organic"
        );
        let nested = url::Url::parse("http://127.0.0.1:9/graph/").unwrap();
        assert!(
            lead_url(&nested, &GraphVersion::default(), &id)
                .as_str()
                .starts_with("http://127.0.0.1:9/graph/v21.0/444444444444?")
        );
        assert!(GraphVersion::parse("v21.0").is_some());
        for bad in ["21.0", "v21", "v21.x", "v21.0/..", ""] {
            assert!(GraphVersion::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn field_data_maps_the_standard_questions_and_keeps_the_others() {
        let body = br#"{"created_time": "2015-02-28T08:49:14+0000", "id": "444444444444",
            "ad_id": "6045", "form_id": "1234", "campaign_id": "9876", "is_organic": false,
            "field_data": [
              {"name": "first_name", "values": ["Joe"]},
              {"name": "last_name", "values": ["Example"]},
              {"name": "phone_number", "values": ["+14155552671"]},
              {"name": "email", "values": ["joe@example.com"]},
              {"name": "post_code", "values": ["94107"]},
              {"name": "which_condition", "values": ["depression", "ptsd"]},
              {"name": "empty", "values": []}]}"#;
        let lead = parse_lead(body).unwrap();
        assert_eq!(lead.answers.full_name, None);
        assert_eq!(lead.answers.first_name.as_deref(), Some("Joe"));
        assert_eq!(lead.answers.last_name.as_deref(), Some("Example"));
        assert_eq!(lead.answers.phone.as_deref(), Some("+14155552671"));
        assert_eq!(lead.answers.email.as_deref(), Some("joe@example.com"));
        assert_eq!(lead.answers.postal_code.as_deref(), Some("94107"));
        assert_eq!(
            lead.answers.custom,
            vec![("which_condition".to_owned(), "depression, ptsd".to_owned())]
        );
        assert_eq!(lead.ad_id, GraphId::parse("6045"));
        assert_eq!(lead.campaign_id, GraphId::parse("9876"));
        assert_eq!(
            lead.created_time,
            Utc.with_ymd_and_hms(2015, 2, 28, 8, 49, 14).single()
        );
        assert!(!format!("{lead:?}").contains("Joe"));
        let full: GraphLead = parse_lead(
            br#"{"field_data": [{"name": "full_name", "values": ["Ann Lee"]},
                {"name": "first_name", "values": ["X"]}]}"#,
        )
        .unwrap();
        assert_eq!(full.answers.full_name.as_deref(), Some("Ann Lee"));
        assert_eq!(full.answers.first_name.as_deref(), Some("X"));
    }

    #[test]
    fn outages_and_throttling_are_retried_and_refusals_are_not() {
        assert_eq!(classify_failure(500, b""), FetchFailure::Transient);
        assert_eq!(classify_failure(503, b"<html>"), FetchFailure::Transient);
        assert_eq!(classify_failure(429, b""), FetchFailure::Transient);
        let throttled =
            br#"{"error": {"code": 4, "message": "Application request limit reached"}}"#;
        assert_eq!(classify_failure(400, throttled), FetchFailure::Transient);
        let flagged = br#"{"error": {"code": 100, "is_transient": true}}"#;
        assert_eq!(classify_failure(400, flagged), FetchFailure::Transient);
        let bad_token = br#"{"error": {"message": "Invalid OAuth access token.",
            "type": "OAuthException", "code": 190, "error_subcode": 463}}"#;
        assert_eq!(classify_failure(400, bad_token), FetchFailure::Permanent);
        assert_eq!(classify_failure(404, b""), FetchFailure::Permanent);
        assert_eq!(
            error_summary(400, bad_token),
            "HTTP 400, Graph error 190/463"
        );
        assert_eq!(error_summary(403, b"nope"), "HTTP 403");
    }
}
