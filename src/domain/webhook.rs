//! Webhook subscriptions: which events a subscription wants, the body format it receives, and
//! its signing secret (Standard Webhooks: `whsec_` + base64 of the key bytes).

use std::fmt;
use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::event::EventType;

/// Marks a secret as a Standard Webhooks signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Key bytes per secret: HMAC-SHA256's block-worthy 256 bits.
const SECRET_BYTES: usize = 32;
/// The one-entry list that selects every event type.
pub const ALL_EVENTS: &str = "*";

/// The body a subscription receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `{"id","type","occurred_at","data"}`, signed.
    #[default]
    Standard,
    /// `{"text": …}` for a Slack, Teams or Google Chat channel; never personal data.
    Slack,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Standard, Format::Slack];

    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Standard => "standard",
            Format::Slack => "slack",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|format| format.as_str() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventsError {
    #[error("must name at least one event type, or be [\"*\"]")]
    Empty,
    #[error("`*` must be the only entry")]
    WildcardWithOthers,
    #[error("`{0}` is not an event type: use {names}", names = event_names())]
    Unknown(String),
}

/// `webhook.test` goes only to the subscription it was asked for, so none subscribes to it.
fn subscribable(kind: &EventType) -> bool {
    *kind != EventType::WebhookTest
}

fn event_names() -> String {
    let names: Vec<&str> = EventType::ALL
        .into_iter()
        .filter(subscribable)
        .map(EventType::as_str)
        .collect();
    names.join(", ")
}

/// The event types a subscription receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSelection {
    /// `["*"]`: every type, including types added later.
    All,
    /// These types, each once, in the order first given.
    Only(Vec<EventType>),
}

impl EventSelection {
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<EventSelection, EventsError> {
        let names: Vec<&str> = names.iter().map(|name| name.as_ref().trim()).collect();
        if names.is_empty() {
            return Err(EventsError::Empty);
        }
        if names.contains(&ALL_EVENTS) {
            return if names.iter().all(|name| *name == ALL_EVENTS) {
                Ok(EventSelection::All)
            } else {
                Err(EventsError::WildcardWithOthers)
            };
        }
        let mut kinds = Vec::new();
        for name in names {
            let kind = EventType::parse(name)
                .filter(subscribable)
                .ok_or_else(|| EventsError::Unknown(name.to_owned()))?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Ok(EventSelection::Only(kinds))
    }

    pub fn names(&self) -> Vec<&'static str> {
        match self {
            EventSelection::All => vec![ALL_EVENTS],
            EventSelection::Only(kinds) => kinds.iter().map(|kind| kind.as_str()).collect(),
        }
    }

    pub fn matches(&self, kind: EventType) -> bool {
        match self {
            EventSelection::All => true,
            EventSelection::Only(kinds) => kinds.contains(&kind),
        }
    }
}

/// A signing secret as shown to the subscriber once and kept to sign: `whsec_` + base64.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn generate() -> Result<Secret, getrandom::Error> {
        let mut key = [0u8; SECRET_BYTES];
        getrandom::fill(&mut key)?;
        Ok(Secret(format!("{SECRET_PREFIX}{}", STANDARD.encode(key))))
    }

    /// A stored secret; `None` unless it has the shape [`Secret::generate`] gives.
    pub fn from_stored(stored: &str) -> Option<Secret> {
        let secret = Secret(stored.to_owned());
        (secret.key().map(|key| key.len()) == Some(SECRET_BYTES)).then_some(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key: the bytes after `whsec_`.
    pub fn key(&self) -> Option<Vec<u8>> {
        let encoded = self.0.strip_prefix(SECRET_PREFIX)?;
        STANDARD.decode(encoded).ok()
    }
}

impl fmt::Debug for Secret {
    // Never the secret itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip_through_their_names() {
        for format in Format::ALL {
            assert_eq!(Format::parse(format.as_str()), Some(format));
        }
        assert_eq!(Format::parse("teams"), None);
    }

    #[test]
    fn a_star_alone_selects_every_event_type() {
        let all = EventSelection::parse(&["*"]).unwrap();
        assert_eq!(all, EventSelection::All);
        assert!(EventType::ALL.into_iter().all(|kind| all.matches(kind)));
        assert_eq!(all.names(), vec!["*"]);
    }

    #[test]
    fn named_event_types_select_only_themselves_once_each() {
        let some =
            EventSelection::parse(&["lead.created", " article.published", "lead.created"]).unwrap();
        assert_eq!(some.names(), vec!["lead.created", "article.published"]);
        assert!(some.matches(EventType::LeadCreated));
        assert!(!some.matches(EventType::LeadUpdated));
    }

    #[test]
    fn empty_unknown_and_mixed_wildcard_selections_are_refused() {
        let none: [&str; 0] = [];
        assert_eq!(EventSelection::parse(&none), Err(EventsError::Empty));
        assert_eq!(
            EventSelection::parse(&["*", "lead.created"]),
            Err(EventsError::WildcardWithOthers)
        );
        assert_eq!(
            EventSelection::parse(&["lead.deleted"]),
            Err(EventsError::Unknown("lead.deleted".to_owned()))
        );
        assert_eq!(
            EventSelection::parse(&["webhook.test"]),
            Err(EventsError::Unknown("webhook.test".to_owned()))
        );
        assert!(EventSelection::parse(&["webhook.disabled"]).is_ok());
    }

    #[test]
    fn a_generated_secret_is_whsec_and_base64_of_32_random_bytes() {
        let one = Secret::generate().unwrap();
        let two = Secret::generate().unwrap();
        assert!(one.expose().starts_with("whsec_"));
        assert_eq!(one.key().unwrap().len(), 32);
        assert_ne!(one, two);
        assert_eq!(Secret::from_stored(one.expose()), Some(one.clone()));
        assert_eq!(Secret::from_stored("whsec_c2hvcnQ="), None);
        assert!(!format!("{one:?}").contains(one.expose()));
    }
}

/// How long to wait before each attempt of a delivery: entry 0 before the first (counted from
/// the event), entry n before attempt n+1 (counted from the failed attempt n). After the last
/// attempt fails the delivery is dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<std::time::Duration>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be comma-separated durations such as 0s,5s,5m,30m,2h (1 to 50 of them, each at most 7d)"
)]
pub struct ScheduleError;

/// The published default: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
pub const DEFAULT_RETRY_SCHEDULE: &str = "0s,5s,5m,30m,2h,5h,10h,10h";

impl RetrySchedule {
    pub fn parse(text: &str) -> Result<RetrySchedule, ScheduleError> {
        let waits = text
            .split(',')
            .map(|entry| parse_duration(entry.trim()))
            .collect::<Option<Vec<_>>>()
            .ok_or(ScheduleError)?;
        if waits.is_empty() || waits.len() > 50 {
            return Err(ScheduleError);
        }
        Ok(RetrySchedule(waits))
    }

    /// How many attempts a delivery gets.
    pub fn attempts(&self) -> usize {
        self.0.len()
    }

    /// The wait before attempt `number` (1-based), or `None` past the last one.
    pub fn wait_before(&self, number: usize) -> Option<std::time::Duration> {
        number
            .checked_sub(1)
            .and_then(|index| self.0.get(index))
            .copied()
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        use std::time::Duration;
        let minutes = |m: u64| Duration::from_secs(m * 60);
        RetrySchedule(vec![
            Duration::ZERO,
            Duration::from_secs(5),
            minutes(5),
            minutes(30),
            minutes(120),
            minutes(300),
            minutes(600),
            minutes(600),
        ])
    }
}

/// `<whole number><unit>` with unit `ms`, `s`, `m`, `h` or `d`; at most 7 days.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let millis = match unit {
        "ms" => number,
        "s" => number.checked_mul(1_000)?,
        "m" => number.checked_mul(60_000)?,
        "h" => number.checked_mul(3_600_000)?,
        "d" => number.checked_mul(86_400_000)?,
        _ => return None,
    };
    (millis <= 7 * 86_400_000).then(|| std::time::Duration::from_millis(millis))
}

#[cfg(test)]
mod schedule_tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_default_schedule_is_the_published_one() {
        assert_eq!(
            RetrySchedule::parse(DEFAULT_RETRY_SCHEDULE),
            Ok(RetrySchedule::default())
        );
        assert_eq!(RetrySchedule::default().attempts(), 8);
    }

    #[test]
    fn each_attempt_waits_its_entry_and_none_follows_the_last() {
        let schedule = RetrySchedule::parse("0s, 250ms,2m,1h,1d").unwrap_or_default();
        assert_eq!(schedule.wait_before(1), Some(Duration::ZERO));
        assert_eq!(schedule.wait_before(2), Some(Duration::from_millis(250)));
        assert_eq!(schedule.wait_before(3), Some(Duration::from_secs(120)));
        assert_eq!(schedule.wait_before(5), Some(Duration::from_secs(86_400)));
        assert_eq!(schedule.wait_before(6), None);
        assert_eq!(schedule.wait_before(0), None);
    }

    #[test]
    fn bad_schedules_are_refused() {
        for bad in ["", "5", "5x", "s", "-1s", "1s,,2s", "8d", "1.5s"] {
            assert_eq!(RetrySchedule::parse(bad), Err(ScheduleError), "{bad:?}");
        }
    }
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Signs deliveries per Standard Webhooks; built only from a well-formed secret.
#[derive(Clone)]
pub struct SigningKey(HmacSha256);

impl SigningKey {
    pub fn new(secret: &Secret) -> Option<SigningKey> {
        use hmac::KeyInit;
        let key = secret.key()?;
        HmacSha256::new_from_slice(&key).ok().map(SigningKey)
    }

    /// The `webhook-signature` value: `v1,` + base64 of HMAC-SHA256 over
    /// `"{id}.{timestamp}.{body}"`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        use hmac::Mac;
        let mut mac = self.0.clone();
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod signing_tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_reference_vector() {
        // The example of the Standard Webhooks specification's reference libraries.
        // Its key is 24 bytes, so it is built directly: stored secrets hold 32.
        let secret = Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned());
        let key = SigningKey::new(&secret).unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Due now or later (or being attempted under a lease).
    Pending,
    /// A 2xx answer came.
    Delivered,
    /// Every attempt of the schedule failed: dead-lettered.
    Failed,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 3] = [
        DeliveryState::Pending,
        DeliveryState::Delivered,
        DeliveryState::Failed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<DeliveryState> {
        DeliveryState::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
    }
}

/// An event as a subscription receives it.
pub struct Outgoing<'a> {
    pub event_id: uuid::Uuid,
    pub kind: EventType,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub subject_id: uuid::Uuid,
    /// The de-identified payload.
    pub payload: &'a serde_json::Value,
    /// The personal part, only when the subscription opted in (and the lead is not erased).
    pub personal: Option<&'a serde_json::Value>,
}

/// The request body: `{"id","type","occurred_at","data"}` for `standard` (`data` is the
/// payload, with `personal` added for subscriptions that opted in), `{"text"}` for `slack`,
/// which never carries personal data.
pub fn body(format: Format, event: &Outgoing<'_>) -> serde_json::Value {
    match format {
        Format::Standard => {
            let mut data = event.payload.clone();
            if let (Some(personal), Some(object)) = (event.personal, data.as_object_mut()) {
                object.insert("personal".to_owned(), personal.clone());
            }
            serde_json::json!({
                "id": event.event_id,
                "type": event.kind.as_str(),
                "occurred_at": event.occurred_at,
                "data": data,
            })
        }
        Format::Slack => {
            let name = event.kind.as_str();
            let subject = name.split('.').next().unwrap_or(name);
            // Webhook events have no status.
            let status = event
                .payload
                .get("status")
                .and_then(serde_json::Value::as_str)
                .map(|status| format!(", status {status}"))
                .unwrap_or_default();
            serde_json::json!({
                "text": format!(
                    "Beacon: {} ({subject} {}{status})",
                    event.kind.as_str(),
                    event.subject_id
                )
            })
        }
    }
}

/// Not private, loopback, link-local, unique-local, unspecified, shared, multicast or a
/// cloud metadata address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x64 && v6.segments()[1] == 0xff9b))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod body_tests {
    use super::*;

    fn slack_text(kind: EventType, payload: serde_json::Value) -> String {
        let id = uuid::Uuid::nil();
        let event = Outgoing {
            event_id: id,
            kind,
            occurred_at: chrono::DateTime::UNIX_EPOCH,
            subject_id: id,
            payload: &payload,
            personal: None,
        };
        body(Format::Slack, &event)["text"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn a_chat_message_names_the_subject_and_its_status_when_it_has_one() {
        assert_eq!(
            slack_text(EventType::LeadCreated, serde_json::json!({"status": "new"})),
            format!(
                "Beacon: lead.created (lead {}, status new)",
                uuid::Uuid::nil()
            )
        );
        assert_eq!(
            slack_text(EventType::WebhookDisabled, serde_json::json!({})),
            format!("Beacon: webhook.disabled (webhook {})", uuid::Uuid::nil())
        );
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_unique_local_and_metadata_addresses_are_not_public() {
        for ip in [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "fd00:ec2::254",
        ] {
            assert!(
                !is_public(ip.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))),
                "{ip}"
            );
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(
                is_public(ip.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))),
                "{ip}"
            );
        }
    }
}
