//! Staff e-mail notifications: which events send one, where they go (`BEACON_SMTP_URL`), and
//! what they say. The message is de-identified on purpose: when the lead arrived, its contact
//! deadline, whether to call it first, its source and article, its id and where to read it.
//! Never the person's name, number, address, words, conditions or priority: an e-mail sits in
//! inboxes, phones and backups nobody audits.

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::domain::event::EventType;

/// Whether an event of this type is e-mailed to staff.
pub fn notifies_staff(kind: EventType) -> bool {
    matches!(kind, EventType::LeadCreated | EventType::LeadSlaBreached)
}

/// An SMTP server to send through: `smtp://` (STARTTLS when the server offers it, unless the
/// URL says `?tls=required` or `?tls=none`) or `smtps://` (TLS from the first byte). The URL
/// may hold credentials, so `Debug` shows only the scheme and host.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    /// In the form the SMTP client reads (its `tls` parameter spelled out).
    url: String,
    host: String,
    scheme: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "an smtp:// or smtps:// URL with a host, e.g. smtp://user:password@mail.example:587 \
     (add ?tls=required to insist on STARTTLS, ?tls=none for a local relay without TLS)"
)]
pub struct SmtpUrlError;

impl SmtpUrl {
    pub fn parse(input: &str) -> Result<SmtpUrl, SmtpUrlError> {
        let mut url = url::Url::parse(input.trim()).map_err(|_| SmtpUrlError)?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(SmtpUrlError)?;
        let host = host.to_owned();
        let scheme = match url.scheme() {
            "smtp" => "smtp",
            "smtps" => "smtps",
            _ => return Err(SmtpUrlError),
        };
        let mut pairs = url.query_pairs();
        let tls = pairs.find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        if url.query_pairs().any(|(k, _)| k != "tls") {
            return Err(SmtpUrlError);
        }
        match (scheme, tls.as_deref()) {
            ("smtp", None) => {
                url.set_query(Some("tls=opportunistic"));
            }
            ("smtp", Some("required" | "opportunistic")) | ("smtps", None) => {}
            // The SMTP client reads a plain `smtp://` as "no TLS".
            ("smtp", Some("none")) => url.set_query(None),
            _ => return Err(SmtpUrlError),
        }
        Ok(SmtpUrl {
            url: url.into(),
            host,
            scheme,
        })
    }

    /// The full URL, credentials included: for the SMTP client only, never for a log.
    pub fn expose(&self) -> &str {
        &self.url
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpUrl({}://{})", self.scheme, self.host)
    }
}

/// What a staff e-mail reports, all of it de-identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadNotice {
    pub kind: EventType,
    pub lead_id: Uuid,
    /// When the enquiry (or the lead) came in, if still known.
    pub arrived_at: Option<DateTime<Utc>>,
    pub contact_by: Option<DateTime<Utc>>,
    /// Call this lead first (its priority, never named).
    pub urgent: bool,
    pub source: Option<String>,
    pub article_slug: Option<String>,
}

/// A composed e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

impl LeadNotice {
    /// Reads a lead event's de-identified payload; `None` for an event that is no lead's.
    pub fn from_event(
        kind: EventType,
        payload: &serde_json::Value,
        lead_created_at: Option<DateTime<Utc>>,
        urgent: bool,
    ) -> Option<LeadNotice> {
        let text = |value: &serde_json::Value| value.as_str().map(str::to_owned);
        let time = |value: &serde_json::Value| {
            value
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        let lead_id = payload["lead_id"].as_str()?.parse().ok()?;
        let enquiry = &payload["enquiry"];
        Some(LeadNotice {
            kind,
            lead_id,
            arrived_at: time(&enquiry["received_at"]).or(lead_created_at),
            contact_by: time(&payload["contact_by"]),
            urgent,
            source: text(&enquiry["utm_source"]).or_else(|| text(&payload["source"])),
            article_slug: text(&enquiry["article_slug"]),
        })
    }

    /// The e-mail, times in the clinic's zone (and UTC). `lead_url` is where staff read the
    /// lead, with `{id}` for its id.
    pub fn compose(&self, zone: Tz, lead_url: &str) -> Message {
        let when = |at: Option<DateTime<Utc>>| match at {
            Some(at) => format!(
                "{} ({})",
                at.with_timezone(&zone).format("%a %e %b %Y, %H:%M %Z"),
                at.format("%Y-%m-%dT%H:%M:%SZ")
            ),
            None => "not known".to_owned(),
        };
        let (headline, opening) = match self.kind {
            EventType::LeadSlaBreached => (
                "Lead not contacted by its deadline",
                "A new lead passed its contact deadline and is still waiting for a call.",
            ),
            _ => ("New lead", "A new enquiry has come in."),
        };
        let subject = if self.urgent {
            format!("[Beacon] {headline}: call first")
        } else {
            format!("[Beacon] {headline}")
        };
        let mut body = String::new();
        body.push_str(opening);
        body.push_str("\n\n");
        if self.urgent {
            body.push_str("CALL FIRST: this lead needs a call before any other.\n\n");
        }
        let none = || "none".to_owned();
        let lines = [
            ("Arrived", when(self.arrived_at)),
            ("Contact by", when(self.contact_by)),
            ("Source", self.source.clone().unwrap_or_else(none)),
            ("Article", self.article_slug.clone().unwrap_or_else(none)),
            ("Lead", self.lead_id.to_string()),
            (
                "Read it at",
                lead_url.replace("{id}", &self.lead_id.to_string()),
            ),
        ];
        for (label, value) in lines {
            body.push_str(&format!("{label:<11} {value}\n"));
        }
        // Short lines: nothing gets folded by the transfer encoding.
        body.push_str(
            "\nThis e-mail holds no personal details on purpose:\n\
             read them in Beacon with a leads:read key.\n",
        );
        Message { subject, body }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn smtp_urls_default_to_starttls_when_offered_and_hide_their_credentials() {
        let url = SmtpUrl::parse("smtp://user:secret@mail.example:587").unwrap();
        assert_eq!(
            url.expose(),
            "smtp://user:secret@mail.example:587?tls=opportunistic"
        );
        assert_eq!(format!("{url:?}"), "SmtpUrl(smtp://mail.example)");
        let plain = SmtpUrl::parse("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!(plain.expose(), "smtp://127.0.0.1:2525");
        let wrapped = SmtpUrl::parse("smtps://mail.example").unwrap();
        assert_eq!(wrapped.expose(), "smtps://mail.example");
        for bad in [
            "http://mail.example",
            "smtp://",
            "smtp://mail.example?tls=maybe",
            "smtps://mail.example?tls=none",
            "smtp://mail.example?x=1",
            "mail.example",
        ] {
            assert_eq!(SmtpUrl::parse(bad), Err(SmtpUrlError), "{bad}");
        }
    }

    #[test]
    fn only_new_leads_and_missed_deadlines_are_emailed() {
        let notified: Vec<_> = EventType::ALL
            .into_iter()
            .filter(|kind| notifies_staff(*kind))
            .collect();
        assert_eq!(
            notified,
            [EventType::LeadCreated, EventType::LeadSlaBreached]
        );
    }

    #[test]
    fn a_notice_says_when_where_from_and_whether_to_call_first_but_nothing_personal() {
        let payload = serde_json::json!({
            "lead_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81",
            "status": "new",
            "contact_by": "2026-03-11T15:20:00Z",
            "source": "google",
            "enquiry": {
                "received_at": "2026-03-10T15:20:00Z",
                "utm_source": "google",
                "article_slug": "ketamine-for-depression"
            }
        });
        let notice = LeadNotice::from_event(EventType::LeadCreated, &payload, None, true).unwrap();
        let message = notice.compose(chrono_tz::America::New_York, "https://crm.example/{id}");

        assert_eq!(message.subject, "[Beacon] New lead: call first");
        assert!(message.body.contains("CALL FIRST"));
        assert!(message.body.contains("2026-03-11T15:20:00Z"));
        assert!(message.body.contains("Tue 10 Mar 2026, 11:20 EDT"));
        assert!(message.body.contains("ketamine-for-depression"));
        assert!(
            message
                .body
                .contains("https://crm.example/0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81")
        );
        assert!(!message.body.to_lowercase().contains("urgent"));
        assert!(!message.body.to_lowercase().contains("priority"));

        let breach = serde_json::json!({
            "lead_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81",
            "contact_by": "2026-03-11T15:20:00Z",
            "source": null,
            "enquiry": null
        });
        let created = Utc.with_ymd_and_hms(2026, 3, 10, 15, 0, 0).unwrap();
        let notice =
            LeadNotice::from_event(EventType::LeadSlaBreached, &breach, Some(created), false)
                .unwrap();
        let message = notice.compose(chrono_tz::UTC, "GET /v1/leads/{id}");
        assert_eq!(
            message.subject,
            "[Beacon] Lead not contacted by its deadline"
        );
        assert!(!message.body.contains("CALL FIRST"));
        assert!(message.body.contains("2026-03-10T15:00:00Z"));
        assert!(message.body.contains("Source      none"));
    }
}
