//! Events: what changed, told to the clinic's tools. Each is recorded in the same transaction as
//! the change it reports (the outbox). An event has a de-identified `payload` any `admin`
//! consumer may see and, for lead events that carry them, the person's details apart
//! (`personal`), sent only where a subscription opted in and cleared when the lead is erased.
//!
//! Which change emits which event is decided here, so every service applies the same rules.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::domain::article::Status;
use crate::domain::lead::Priority;
use crate::domain::lead_change::Event as StaffChange;
use crate::domain::pipeline::LeadStatus;

/// Every kind of event, by its wire name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    LeadCreated,
    LeadUpdated,
    LeadErased,
    LeadOptedOut,
    LeadSlaBreached,
    ArticlePublished,
    ArticleUpdated,
    ArticleUnpublished,
    ArticleDeleted,
    WebhookDisabled,
    WebhookTest,
}

impl EventType {
    pub const ALL: [EventType; 11] = [
        EventType::LeadCreated,
        EventType::LeadUpdated,
        EventType::LeadErased,
        EventType::LeadOptedOut,
        EventType::LeadSlaBreached,
        EventType::ArticlePublished,
        EventType::ArticleUpdated,
        EventType::ArticleUnpublished,
        EventType::ArticleDeleted,
        EventType::WebhookDisabled,
        EventType::WebhookTest,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::LeadCreated => "lead.created",
            EventType::LeadUpdated => "lead.updated",
            EventType::LeadErased => "lead.erased",
            EventType::LeadOptedOut => "lead.opted_out",
            EventType::LeadSlaBreached => "lead.sla_breached",
            EventType::ArticlePublished => "article.published",
            EventType::ArticleUpdated => "article.updated",
            EventType::ArticleUnpublished => "article.unpublished",
            EventType::ArticleDeleted => "article.deleted",
            EventType::WebhookDisabled => "webhook.disabled",
            EventType::WebhookTest => "webhook.test",
        }
    }

    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lead events a change records directly; `lead.sla_breached` is only ever found by the scan
/// ([`NewEvent::sla_breached`]), with its dedupe key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeadEvent {
    Created,
    Updated,
    Erased,
    OptedOut,
}

impl From<LeadEvent> for EventType {
    fn from(event: LeadEvent) -> Self {
        match event {
            LeadEvent::Created => EventType::LeadCreated,
            LeadEvent::Updated => EventType::LeadUpdated,
            LeadEvent::Erased => EventType::LeadErased,
            LeadEvent::OptedOut => EventType::LeadOptedOut,
        }
    }
}

/// Article events say what readers see: an article became public, changed while public,
/// stopped being public, or was deleted while public. Drafts, scheduled and archived articles
/// have no readers, so their edits emit nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArticleEvent {
    Published,
    Updated,
    Unpublished,
    Deleted,
}

impl From<ArticleEvent> for EventType {
    fn from(event: ArticleEvent) -> Self {
        match event {
            ArticleEvent::Published => EventType::ArticlePublished,
            ArticleEvent::Updated => EventType::ArticleUpdated,
            ArticleEvent::Unpublished => EventType::ArticleUnpublished,
            ArticleEvent::Deleted => EventType::ArticleDeleted,
        }
    }
}

impl ArticleEvent {
    /// The event of a write that left the article public (`is_public`) or not, given whether
    /// readers saw it before (`was_public`).
    pub fn of_write(was_public: bool, is_public: bool) -> Option<ArticleEvent> {
        match (was_public, is_public) {
            (false, true) => Some(ArticleEvent::Published),
            (true, true) => Some(ArticleEvent::Updated),
            (true, false) => Some(ArticleEvent::Unpublished),
            (false, false) => None,
        }
    }

    /// Deleting an article readers never saw tells them nothing.
    pub fn of_delete(was_public: bool) -> Option<ArticleEvent> {
        was_public.then_some(ArticleEvent::Deleted)
    }
}

/// Quarantined spam never reaches the clinic's tools: a lead that is spam and stays spam emits
/// nothing, whatever else changes.
pub fn reaches_tools(before: LeadStatus, after: LeadStatus) -> bool {
    !(before == LeadStatus::Spam && after == LeadStatus::Spam)
}

/// A lead released from quarantine is new to the clinic's tools, so its event carries the
/// person's details, as `lead.created` would have.
pub fn introduces_lead(before: LeadStatus, after: LeadStatus) -> bool {
    before == LeadStatus::Spam && after != LeadStatus::Spam
}

/// What a `lead.updated` changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadChange {
    /// Staff moved it along the pipeline, or an enquiry or reinstatement reopened it.
    Status,
    /// Staff assigned or unassigned it.
    Assignee,
    /// Another enquiry from the number joined it (see `enquiry`).
    Enquiry,
    /// Staff lifted the opt-out of its number.
    OptOutLifted,
}

impl LeadChange {
    /// What a staff change reports, in a fixed order. A note alone reports nothing: it is
    /// staff's own words, about the person.
    pub fn of_staff(changes: &[StaffChange]) -> Vec<LeadChange> {
        let status = changes
            .iter()
            .any(|change| matches!(change, StaffChange::StatusChanged { .. }));
        let assignee = changes
            .iter()
            .any(|change| matches!(change, StaffChange::Assigned(_) | StaffChange::Unassigned));
        [
            status.then_some(LeadChange::Status),
            assignee.then_some(LeadChange::Assignee),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A lead event's de-identified part. Never the person's name, number, email, words,
/// conditions or priority (an urgent priority says they reported suicidal thoughts): those are
/// in [`LeadPersonal`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeadPayload {
    pub lead_id: Uuid,
    pub status: LeadStatus,
    /// The status before this change, when it changed.
    pub previous_status: Option<LeadStatus>,
    /// What a `lead.updated` changed; empty for other events.
    pub changes: Vec<LeadChange>,
    /// When the clinic promised to call back; null once erased.
    pub contact_by: Option<DateTime<Utc>>,
    /// The member of staff working the lead.
    pub assignee: Option<String>,
    /// When the lead's number opted out, while that stands: do not call for marketing.
    pub opted_out_at: Option<DateTime<Utc>>,
    /// First-touch attribution: the `utm_source` of the lead's first enquiry that had one.
    pub source: Option<String>,
    /// The enquiry that created the lead or just joined it.
    pub enquiry: Option<EnquiryAttribution>,
}

/// Where one enquiry came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EnquiryAttribution {
    pub received_at: DateTime<Utc>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    /// The article the enquiry was sent from.
    pub article_slug: Option<String>,
}

/// The person's details and health data, for subscriptions that opted in. Its `Debug` shows
/// nothing of them.
#[derive(Clone, PartialEq, Serialize)]
pub struct LeadPersonal {
    pub name: Option<String>,
    /// As typed.
    pub phone: Option<String>,
    pub phone_e164: Option<String>,
    pub email: Option<String>,
    /// Interest codes (conditions), the lead's whole list.
    pub interests: Vec<String>,
    #[serde(serialize_with = "priority_name")]
    pub priority: Option<Priority>,
    /// The words of the enquiry this event reports, if it reports one.
    pub message: Option<String>,
    pub preferred_contact_time: Option<String>,
}

impl fmt::Debug for LeadPersonal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LeadPersonal(<redacted>)")
    }
}

fn priority_name<S: Serializer>(priority: &Option<Priority>, s: S) -> Result<S::Ok, S::Error> {
    match priority {
        Some(priority) => s.serialize_str(priority.as_str()),
        None => s.serialize_none(),
    }
}

/// An article event's payload: enough to find the article and decide whether to act.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArticlePayload {
    pub article_id: Uuid,
    pub slug: String,
    pub title: String,
    /// As readers see it after the change (`scheduled` whose time has come reads `published`);
    /// for `article.deleted`, the status it had.
    #[serde(serialize_with = "status_name")]
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    /// The article's `version` after the change (as `GET /v1/articles/{id}` shows it).
    pub version: i32,
}

impl ArticlePayload {
    /// Whether readers can see the article at `now`.
    pub fn is_public(&self, now: DateTime<Utc>) -> bool {
        self.status.is_public(self.published_at, now)
    }
}

fn status_name<S: Serializer>(status: &Status, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(status.as_str())
}

/// A webhook event's payload: which subscription, and since when its deliveries failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WebhookPayload {
    pub webhook_id: Uuid,
    pub url: String,
    /// `webhook.disabled`: when its run of failed attempts began; null for `webhook.test`.
    pub failing_since: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq)]
enum Body {
    Lead {
        payload: LeadPayload,
        personal: Option<Box<LeadPersonal>>,
    },
    Article(ArticlePayload),
    Webhook(WebhookPayload),
}

/// An event about to be recorded. Built only through its constructors, so a lead event always
/// carries a lead payload, only lead events carry personal data, and time-based events always
/// have their dedupe key.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    kind: EventType,
    occurred_at: DateTime<Utc>,
    body: Body,
    dedupe_key: Option<String>,
}

impl NewEvent {
    pub fn lead(
        kind: LeadEvent,
        payload: LeadPayload,
        personal: Option<LeadPersonal>,
        at: DateTime<Utc>,
    ) -> Self {
        NewEvent {
            kind: kind.into(),
            occurred_at: at,
            body: Body::Lead {
                payload,
                personal: personal.map(Box::new),
            },
            dedupe_key: None,
        }
    }

    /// A `new` lead passed `contact_by`: once per lead and deadline. A deadline that moves
    /// (a later enquiry after the old one passed) is a new promise, and breaking it is reported
    /// again; the same deadline is never reported twice, whatever the lead went through.
    pub fn sla_breached(payload: LeadPayload, contact_by: DateTime<Utc>) -> Self {
        NewEvent {
            kind: EventType::LeadSlaBreached,
            occurred_at: contact_by,
            dedupe_key: Some(sla_breach_key(payload.lead_id, contact_by)),
            body: Body::Lead {
                payload,
                personal: None,
            },
        }
    }

    pub fn article(kind: ArticleEvent, payload: ArticlePayload, at: DateTime<Utc>) -> Self {
        NewEvent {
            kind: kind.into(),
            occurred_at: at,
            body: Body::Article(payload),
            dedupe_key: None,
        }
    }

    /// A scheduled article went live at `published_at`: once per article and time, so an
    /// article scheduled again for another time is published again then.
    pub fn scheduled_publication(payload: ArticlePayload, published_at: DateTime<Utc>) -> Self {
        NewEvent {
            kind: EventType::ArticlePublished,
            occurred_at: published_at,
            dedupe_key: Some(scheduled_publication_key(payload.article_id, published_at)),
            body: Body::Article(payload),
        }
    }

    /// A subscription failing since `failing_since` was disabled: once per run of failures.
    pub fn webhook_disabled(
        webhook_id: Uuid,
        url: String,
        failing_since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Self {
        NewEvent {
            kind: EventType::WebhookDisabled,
            occurred_at: at,
            dedupe_key: Some(format!(
                "{}:{webhook_id}:{}",
                EventType::WebhookDisabled,
                failing_since.timestamp_micros()
            )),
            body: Body::Webhook(WebhookPayload {
                webhook_id,
                url,
                failing_since: Some(failing_since),
            }),
        }
    }

    /// An admin asked for a test delivery to one subscription.
    pub fn webhook_test(webhook_id: Uuid, url: String, at: DateTime<Utc>) -> Self {
        NewEvent {
            kind: EventType::WebhookTest,
            occurred_at: at,
            dedupe_key: None,
            body: Body::Webhook(WebhookPayload {
                webhook_id,
                url,
                failing_since: None,
            }),
        }
    }

    pub fn kind(&self) -> EventType {
        self.kind
    }

    pub fn occurred_at(&self) -> DateTime<Utc> {
        self.occurred_at
    }

    /// The lead or article the event is about.
    pub fn subject_id(&self) -> Uuid {
        match &self.body {
            Body::Lead { payload, .. } => payload.lead_id,
            Body::Article(payload) => payload.article_id,
            Body::Webhook(payload) => payload.webhook_id,
        }
    }

    pub fn dedupe_key(&self) -> Option<&str> {
        self.dedupe_key.as_deref()
    }

    pub fn payload(&self) -> Result<serde_json::Value, serde_json::Error> {
        match &self.body {
            Body::Lead { payload, .. } => serde_json::to_value(payload),
            Body::Article(payload) => serde_json::to_value(payload),
            Body::Webhook(payload) => serde_json::to_value(payload),
        }
    }

    pub fn personal(&self) -> Result<Option<serde_json::Value>, serde_json::Error> {
        match &self.body {
            Body::Lead {
                personal: Some(personal),
                ..
            } => serde_json::to_value(personal).map(Some),
            _ => Ok(None),
        }
    }
}

/// The dedupe key of a lead's breach of the deadline `contact_by` (to the microsecond, as
/// PostgreSQL keeps times).
pub fn sla_breach_key(lead_id: Uuid, contact_by: DateTime<Utc>) -> String {
    format!(
        "{}:{lead_id}:{}",
        EventType::LeadSlaBreached,
        contact_by.timestamp_micros()
    )
}

/// The dedupe key of a scheduled article going live at `published_at`.
pub fn scheduled_publication_key(article_id: Uuid, published_at: DateTime<Utc>) -> String {
    format!(
        "{}:{article_id}:{}",
        EventType::ArticlePublished,
        published_at.timestamp_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_780_000_000 + seconds, 0).unwrap()
    }

    fn lead_payload(id: Uuid) -> LeadPayload {
        LeadPayload {
            lead_id: id,
            status: LeadStatus::New,
            previous_status: None,
            changes: vec![],
            contact_by: Some(at(3_600)),
            assignee: None,
            opted_out_at: None,
            source: Some("google".to_owned()),
            enquiry: None,
        }
    }

    fn personal() -> LeadPersonal {
        LeadPersonal {
            name: Some("Ada Lovelace".to_owned()),
            phone: Some("(415) 555-0101".to_owned()),
            phone_e164: Some("+14155550101".to_owned()),
            email: Some("ada@example.com".to_owned()),
            interests: vec!["suicidal_ideation".to_owned()],
            priority: Some(Priority::Urgent),
            message: Some("Please call me".to_owned()),
            preferred_contact_time: None,
        }
    }

    #[test]
    fn every_type_parses_back_from_its_wire_name() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventType::parse("lead.deleted"), None);
        assert_eq!(EventType::LeadOptedOut.as_str(), "lead.opted_out");
    }

    #[test]
    fn a_lead_payload_holds_nothing_personal_and_the_personal_part_holds_it_all() {
        let event = NewEvent::lead(
            LeadEvent::Created,
            lead_payload(Uuid::nil()),
            Some(personal()),
            at(0),
        );

        let payload = event.payload().unwrap().to_string();
        for secret in [
            "Ada", "555", "ada@", "suicidal", "urgent", "priority", "Please",
        ] {
            assert!(!payload.contains(secret), "{secret} in {payload}");
        }
        let stored = event.personal().unwrap().unwrap();
        assert_eq!(stored["name"], "Ada Lovelace");
        assert_eq!(stored["priority"], "urgent");
        assert_eq!(stored["interests"][0], "suicidal_ideation");
        assert_eq!(format!("{:?}", personal()), "LeadPersonal(<redacted>)");
    }

    #[test]
    fn payloads_use_wire_names_and_explicit_nulls() {
        let mut payload = lead_payload(Uuid::nil());
        payload.previous_status = Some(LeadStatus::DoNotContact);
        payload.changes = vec![LeadChange::Status, LeadChange::OptOutLifted];
        let json = serde_json::to_value(&payload).unwrap();
        assert_eq!(json["status"], "new");
        assert_eq!(json["previous_status"], "do_not_contact");
        assert_eq!(
            json["changes"],
            serde_json::json!(["status", "opt_out_lifted"])
        );
        assert!(json["assignee"].is_null() && json["enquiry"].is_null());

        let article = ArticlePayload {
            article_id: Uuid::nil(),
            slug: "ketamine".to_owned(),
            title: "Ketamine".to_owned(),
            status: Status::Published,
            published_at: Some(at(0)),
            version: 2,
        };
        let event = NewEvent::article(ArticleEvent::Updated, article, at(5));
        assert_eq!(event.payload().unwrap()["status"], "published");
        assert_eq!(event.personal().unwrap(), None);
        assert_eq!(event.kind(), EventType::ArticleUpdated);
        assert_eq!(event.dedupe_key(), None);
    }

    #[test]
    fn article_events_follow_what_readers_see() {
        use ArticleEvent::*;
        assert_eq!(ArticleEvent::of_write(false, true), Some(Published));
        assert_eq!(ArticleEvent::of_write(true, true), Some(Updated));
        assert_eq!(ArticleEvent::of_write(true, false), Some(Unpublished));
        assert_eq!(ArticleEvent::of_write(false, false), None);
        assert_eq!(ArticleEvent::of_delete(true), Some(Deleted));
        assert_eq!(ArticleEvent::of_delete(false), None);
    }

    #[test]
    fn spam_reaches_the_tools_only_once_released_and_then_with_the_persons_details() {
        use LeadStatus::*;
        assert!(!reaches_tools(Spam, Spam));
        assert!(
            reaches_tools(New, Spam),
            "tools that saw it learn it is spam"
        );
        assert!(reaches_tools(Spam, New));
        assert!(introduces_lead(Spam, New));
        assert!(!introduces_lead(New, Contacted));
        assert!(!introduces_lead(New, Spam));
    }

    #[test]
    fn a_staff_change_reports_status_and_assignee_but_never_a_note() {
        let status = StaffChange::StatusChanged {
            from: LeadStatus::New,
            to: LeadStatus::Contacted,
        };
        let note = StaffChange::NoteAdded("Mentions her divorce".to_owned());
        assert_eq!(
            LeadChange::of_staff(&[note.clone(), StaffChange::Unassigned, status]),
            [LeadChange::Status, LeadChange::Assignee]
        );
        assert_eq!(LeadChange::of_staff(&[note]), []);
        assert_eq!(
            LeadChange::of_staff(&[StaffChange::Assigned("Sam".to_owned())]),
            [LeadChange::Assignee]
        );
    }

    #[test]
    fn time_based_events_are_keyed_by_subject_and_time() {
        let id = Uuid::from_u128(7);
        let breach = NewEvent::sla_breached(lead_payload(id), at(3_600));
        assert_eq!(breach.kind(), EventType::LeadSlaBreached);
        assert_eq!(breach.occurred_at(), at(3_600));
        assert_eq!(
            breach.dedupe_key(),
            Some(sla_breach_key(id, at(3_600)).as_str())
        );
        assert_ne!(sla_breach_key(id, at(3_600)), sla_breach_key(id, at(3_601)));
        assert_eq!(
            sla_breach_key(id, at(0)),
            format!("lead.sla_breached:{id}:{}", at(0).timestamp() * 1_000_000)
        );
        assert_ne!(
            scheduled_publication_key(id, at(0)),
            scheduled_publication_key(id, at(60))
        );
        assert!(scheduled_publication_key(id, at(0)).starts_with("article.published:"));
    }

    #[test]
    fn a_webhook_is_disabled_once_per_run_of_failures_and_its_events_carry_no_lead() {
        let id = Uuid::now_v7();
        let url = "https://crm.example.com/h".to_owned();
        let disabled = NewEvent::webhook_disabled(id, url.clone(), at(0), at(60));
        assert_eq!(disabled.kind(), EventType::WebhookDisabled);
        assert_eq!(disabled.subject_id(), id);
        assert_eq!(
            disabled.dedupe_key(),
            NewEvent::webhook_disabled(id, url.clone(), at(0), at(90)).dedupe_key()
        );
        assert_ne!(
            disabled.dedupe_key(),
            NewEvent::webhook_disabled(id, url.clone(), at(1), at(60)).dedupe_key()
        );
        assert_eq!(disabled.personal().unwrap(), None);
        assert_eq!(disabled.payload().unwrap()["webhook_id"], id.to_string());
        let test = NewEvent::webhook_test(id, url, at(0));
        assert_eq!(test.kind(), EventType::WebhookTest);
        assert_eq!(test.dedupe_key(), None);
        assert_eq!(
            test.payload().unwrap()["failing_since"],
            serde_json::Value::Null
        );
    }
}
