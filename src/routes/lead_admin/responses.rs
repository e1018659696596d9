//! What the staff lead endpoints answer.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::services::erasure::TombstoneView;
use crate::services::lead_management::{LeadDetail, LeadView, SubmissionView};

/// A lead in the queue, with the contact details and consent of its first enquiry (a repeat
/// never changes them; see `other_contact_details`).
#[derive(Serialize, ToSchema)]
pub struct LeadSummary {
    #[schema(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81")]
    pub(super) id: Uuid,
    /// `new`, `contacted`, `qualified`, `unqualified`, `closed`, `do_not_contact` or `spam`.
    #[schema(example = "new")]
    pub(super) status: String,
    /// `urgent` when the person reported suicidal thoughts, else `normal`.
    #[schema(example = "normal")]
    pub(super) priority: Option<String>,
    #[schema(example = "Jane Doe")]
    pub(super) name: Option<String>,
    /// As the person typed it.
    #[schema(example = "(415) 555-2671")]
    pub(super) phone: Option<String>,
    #[schema(example = "+14155552671")]
    phone_e164: Option<String>,
    #[schema(example = "jane@example.com")]
    pub(super) email: Option<String>,
    /// Interest codes, in the order the person gave them.
    #[schema(example = json!(["treatment_resistant_depression"]))]
    pub(super) interests: Vec<String>,
    /// Who on the staff works the lead.
    #[schema(example = "Maria")]
    pub(super) assignee: Option<String>,
    /// First-touch `utm_source`.
    #[schema(example = "google")]
    pub(super) source: Option<String>,
    /// When the clinic promised to have called by.
    #[schema(example = "2026-03-11T14:00:00Z")]
    pub(super) contact_by: DateTime<Utc>,
    /// Still `new` and `contact_by` has passed.
    #[schema(example = false)]
    pub(super) overdue: bool,
    /// Enquiries merged into this lead.
    #[schema(example = 1)]
    pub(super) submission_count: i32,
    /// The first enquiry's consent answer, or `false` after an opt-out: `false` means do not
    /// call for marketing; null, never asked. Later answers are in `consent`.
    #[schema(example = true)]
    pub(super) marketing_consent: Option<bool>,
    #[schema(example = "2026-03-10T14:59:02Z")]
    pub(super) first_received_at: DateTime<Utc>,
    #[schema(example = "2026-03-10T14:59:02Z")]
    pub(super) last_received_at: DateTime<Utc>,
    #[schema(example = "2026-03-10T14:59:02Z")]
    pub(super) created_at: DateTime<Utc>,
    #[schema(example = "2026-03-10T15:20:00Z")]
    pub(super) updated_at: DateTime<Utc>,
    /// Goes up with every change; the `ETag` follows it.
    #[schema(example = 3)]
    pub(super) version: i32,
    /// When this lead's number last opted out, while that opt-out stands (null: none). Anyone
    /// can opt a number out, so an enquiry flagged this way may be the person's real wish for
    /// contact: judge it, and reinstate the number (`POST /v1/leads/{id}/reinstate`) before
    /// working the lead.
    #[schema(example = json!(null))]
    pub(super) opted_out_at: Option<DateTime<Utc>>,
    /// The lead source its first enquiry came through; null for the site's own form.
    pub(super) lead_source: Option<LeadSourceRef>,
}

/// A lead source as a lead names it; a deleted source keeps its name here.
#[derive(Serialize, ToSchema)]
pub struct LeadSourceRef {
    #[schema(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a70")]
    id: Uuid,
    #[schema(example = "Zapier: spring landing page")]
    name: String,
    /// `api`, `google_ads` or `meta`.
    #[schema(example = "api")]
    kind: String,
}

impl LeadSummary {
    pub(super) fn new(lead: LeadView, now: DateTime<Utc>) -> Self {
        LeadSummary {
            overdue: lead.is_overdue(now),
            id: lead.id,
            status: lead.status.as_str().to_owned(),
            priority: lead.priority.map(|p| p.as_str().to_owned()),
            name: lead.name,
            phone: lead.phone,
            phone_e164: lead.phone_e164,
            email: lead.email,
            interests: lead.interests,
            assignee: lead.assignee,
            source: lead.source,
            contact_by: lead.contact_by,
            submission_count: lead.submission_count,
            marketing_consent: lead.marketing_consent,
            first_received_at: lead.first_received_at,
            last_received_at: lead.last_received_at,
            created_at: lead.created_at,
            updated_at: lead.updated_at,
            version: lead.version,
            opted_out_at: lead.opted_out_at,
            lead_source: lead.lead_source.map(|source| LeadSourceRef {
                id: source.id,
                name: source.name,
                kind: source.kind.as_str().to_owned(),
            }),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LeadList {
    /// Newest first.
    pub(super) items: Vec<LeadSummary>,
    /// Pass it as `cursor` for the next page; null on the last page.
    #[schema(example = "cDE6MTc2NDQxNzYwMDAwMDAwMDowMTkzYTRmMTdjMWU3YjUyOWEwZTNmMmQ1YzZiN2E4MQ")]
    pub(super) next_cursor: Option<String>,
}

/// Where an enquiry came from.
#[derive(Serialize, ToSchema)]
pub struct Attribution {
    #[schema(example = "google")]
    pub(super) utm_source: Option<String>,
    #[schema(example = "cpc")]
    pub(super) utm_medium: Option<String>,
    #[schema(example = "trd-spring")]
    pub(super) utm_campaign: Option<String>,
    #[schema(example = "ketamine therapy")]
    pub(super) utm_term: Option<String>,
    #[schema(example = "ad-variant-b")]
    pub(super) utm_content: Option<String>,
    pub(super) gclid: Option<String>,
    pub(super) fbclid: Option<String>,
    #[schema(example = "https://www.google.com/")]
    pub(super) referrer: Option<String>,
    #[schema(example = "https://clinic.example/ketamine-for-depression")]
    pub(super) landing_page: Option<String>,
    #[schema(example = "ketamine-for-depression")]
    pub(super) article_slug: Option<String>,
}

/// One enquiry exactly as it arrived.
#[derive(Serialize, ToSchema)]
pub struct Submission {
    pub(super) id: Uuid,
    #[schema(example = "2026-03-10T14:59:02Z")]
    pub(super) received_at: DateTime<Utc>,
    /// Merged into an existing lead.
    #[schema(example = false)]
    pub(super) duplicate: bool,
    /// `honeypot`, `too_fast` or `rate_limited` (beyond the per-number limit) when quarantined.
    #[schema(example = json!(null))]
    pub(super) spam_reason: Option<String>,
    #[schema(example = "Jane Doe")]
    pub(super) name: Option<String>,
    #[schema(example = "(415) 555-2671")]
    pub(super) phone: Option<String>,
    #[schema(example = "jane@example.com")]
    pub(super) email: Option<String>,
    #[schema(example = json!(["treatment_resistant_depression"]))]
    pub(super) interests: Vec<String>,
    #[schema(example = "I have tried three medications without success.")]
    pub(super) message: Option<String>,
    #[schema(example = "Weekday mornings")]
    pub(super) preferred_contact_time: Option<String>,
    pub(super) attribution: Attribution,
    /// The ad platform's id of the lead (Google's `lead_id`, Meta's `leadgen_id`).
    #[schema(example = json!(null))]
    pub(super) external_id: Option<String>,
    /// The ad platform form's other questions and their answers (postal code included).
    pub(super) custom_answers: Vec<CustomAnswer>,
    /// The ad platform's ids: `campaign_id`, `adgroup_id`, `ad_id`, `creative_id`, `form_id`,
    /// `page_id`, `api_version`, those it sent.
    #[schema(value_type = Option<Object>, example = json!(null))]
    pub(super) external_context: Option<serde_json::Value>,
    /// An ad platform's test lead.
    #[schema(example = false)]
    pub(super) is_test: bool,
}

/// An answer to an ad platform form's question.
#[derive(Serialize, ToSchema)]
pub struct CustomAnswer {
    /// The platform's id of the question, if it sent one.
    #[schema(example = "CONDITION")]
    key: Option<String>,
    #[schema(example = "Which condition would you like help with?")]
    question: String,
    #[schema(example = "PTSD")]
    answer: String,
}

/// Consent evidence: what the person was shown and answered, or their opt-out.
#[derive(Serialize, ToSchema)]
pub struct ConsentRecord {
    pub(super) id: Uuid,
    /// `form` (given with an enquiry), `opt_out` (a later revocation) or `staff_reinstated`
    /// (staff lifted an opt-out; the wording names the key and the reason).
    #[schema(example = "form")]
    pub(super) kind: String,
    /// The enquiry it came with; null for an opt-out or a reinstatement.
    pub(super) submission_id: Option<Uuid>,
    #[schema(example = true)]
    pub(super) agreed: bool,
    #[schema(example = "I agree that the clinic may call and text me about treatment.")]
    pub(super) wording: String,
    /// Hex SHA-256 of the wording.
    #[schema(example = "5f2b0c3e9a8d7f6e5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a291807f6e")]
    wording_sha256: String,
    #[schema(example = "2026-03")]
    pub(super) form_version: Option<String>,
    #[schema(example = "2026-03-10T14:59:02Z")]
    pub(super) recorded_at: DateTime<Utc>,
    #[schema(example = "203.0.113.9")]
    pub(super) ip: Option<String>,
    #[schema(example = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)")]
    pub(super) user_agent: Option<String>,
    #[schema(example = "https://clinic.example/ketamine-for-depression")]
    pub(super) page_url: Option<String>,
}

/// One entry of a lead's history.
#[derive(Serialize, ToSchema)]
pub struct Activity {
    pub(super) id: Uuid,
    #[schema(example = "2026-03-10T15:20:00Z")]
    pub(super) at: DateTime<Utc>,
    /// The API key's name, or `opt-out request`, `new enquiry`, `retention`.
    #[schema(example = "Front desk CRM")]
    pub(super) actor: String,
    /// `status_changed`, `assigned`, `unassigned`, `note_added`, `opted_out`, `reinstated`
    /// (with the reason as `note`) or `erased`.
    #[schema(example = "status_changed")]
    pub(super) action: String,
    #[schema(example = "new")]
    pub(super) from_status: Option<String>,
    #[schema(example = "contacted")]
    pub(super) to_status: Option<String>,
    #[schema(example = json!(null))]
    pub(super) assignee: Option<String>,
    #[schema(example = json!(null))]
    pub(super) note: Option<String>,
}

/// A name and email sent with this lead's number that are not the lead's own.
#[derive(Serialize, ToSchema)]
pub struct OtherContactDetails {
    /// The submission they came with.
    pub(super) submission_id: Uuid,
    #[schema(example = "2026-03-12T09:30:00Z")]
    pub(super) received_at: DateTime<Utc>,
    #[schema(example = "J. Smith")]
    pub(super) name: Option<String>,
    #[schema(example = "j.smith@example.net")]
    pub(super) email: Option<String>,
}

/// A lead with everything it holds.
#[derive(Serialize, ToSchema)]
pub struct Lead {
    #[serde(flatten)]
    pub(super) summary: LeadSummary,
    /// The first enquiry's attribution (first touch).
    pub(super) attribution: Option<Attribution>,
    /// Every enquiry from this person, oldest first.
    pub(super) submissions: Vec<Submission>,
    /// Names and emails sent with this number that differ (ignoring case) from the lead's,
    /// oldest first. A repeat enquiry never changes the lead's name, email or consent, since
    /// anyone can type a number: judge from these whether someone else used it.
    pub(super) other_contact_details: Vec<OtherContactDetails>,
    /// Consent evidence, oldest first.
    pub(super) consent: Vec<ConsentRecord>,
    /// What happened to the lead, oldest first.
    pub(super) activity: Vec<Activity>,
}

pub(super) fn attribution(submission: &SubmissionView) -> Attribution {
    Attribution {
        utm_source: submission.utm_source.clone(),
        utm_medium: submission.utm_medium.clone(),
        utm_campaign: submission.utm_campaign.clone(),
        utm_term: submission.utm_term.clone(),
        utm_content: submission.utm_content.clone(),
        gclid: submission.gclid.clone(),
        fbclid: submission.fbclid.clone(),
        referrer: submission.referrer.clone(),
        landing_page: submission.landing_page.clone(),
        article_slug: submission.article_slug.clone(),
    }
}

impl Lead {
    pub(super) fn new(detail: LeadDetail, now: DateTime<Utc>) -> Self {
        let first_touch = detail.submissions.first().map(attribution);
        Lead {
            summary: LeadSummary::new(detail.lead, now),
            attribution: first_touch,
            other_contact_details: detail
                .other_contacts
                .into_iter()
                .map(|other| OtherContactDetails {
                    submission_id: other.submission_id,
                    received_at: other.received_at,
                    name: other.name,
                    email: other.email,
                })
                .collect(),
            submissions: detail
                .submissions
                .into_iter()
                .map(|submission| Submission {
                    attribution: attribution(&submission),
                    interests: submission.interests,
                    id: submission.id,
                    received_at: submission.received_at,
                    duplicate: submission.duplicate,
                    spam_reason: submission.spam_reason.map(|r| r.as_str().to_owned()),
                    name: submission.name,
                    phone: submission.phone,
                    email: submission.email,
                    message: submission.message,
                    preferred_contact_time: submission.preferred_contact_time,
                    external_id: submission.external_id,
                    custom_answers: submission
                        .custom_answers
                        .into_iter()
                        .map(|answer| CustomAnswer {
                            key: answer.key,
                            question: answer.question,
                            answer: answer.answer,
                        })
                        .collect(),
                    external_context: submission.external_context,
                    is_test: submission.is_test,
                })
                .collect(),
            consent: detail
                .consents
                .into_iter()
                .map(|consent| ConsentRecord {
                    id: consent.id,
                    kind: consent.kind.as_str().to_owned(),
                    submission_id: consent.submission_id,
                    agreed: consent.agreed,
                    wording: consent.wording,
                    wording_sha256: hex::encode(consent.wording_sha256),
                    form_version: consent.form_version,
                    recorded_at: consent.recorded_at,
                    ip: consent.ip,
                    user_agent: consent.user_agent,
                    page_url: consent.page_url,
                })
                .collect(),
            activity: detail
                .activity
                .into_iter()
                .map(|entry| Activity {
                    id: entry.id,
                    at: entry.at,
                    actor: entry.actor,
                    action: entry.action.as_str().to_owned(),
                    from_status: entry.from_status.map(|s| s.as_str().to_owned()),
                    to_status: entry.to_status.map(|s| s.as_str().to_owned()),
                    assignee: entry.assignee,
                    note: entry.note,
                })
                .collect(),
        }
    }
}

/// Where a lead stands after a write: nothing personal or health-related (no priority, and no
/// deadline, which follows from it), so a `leads:write` key learns no more than it wrote.
#[derive(Serialize, ToSchema)]
pub struct LeadState {
    pub(super) id: Uuid,
    #[schema(example = "contacted")]
    pub(super) status: String,
    /// Where the lead may move next.
    #[schema(example = json!(["qualified", "unqualified", "do_not_contact", "spam"]))]
    pub(super) allowed_transitions: Vec<String>,
    /// Who on the staff works the lead.
    #[schema(example = "Maria")]
    pub(super) assignee: Option<String>,
    /// The `ETag` follows it.
    #[schema(example = 4)]
    pub(super) version: i32,
    #[schema(example = "2026-03-10T15:20:00Z")]
    pub(super) updated_at: DateTime<Utc>,
}

impl LeadState {
    pub(super) fn new(lead: &LeadView) -> Self {
        LeadState {
            id: lead.id,
            status: lead.status.as_str().to_owned(),
            allowed_transitions: lead
                .status
                .next()
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            assignee: lead.assignee.clone(),
            version: lead.version,
            updated_at: lead.updated_at,
        }
    }
}

/// What is left of an erased lead: nothing that identifies the person.
#[derive(Serialize, ToSchema)]
pub struct Tombstone {
    pub(super) id: Uuid,
    /// The status when erased: the lead's outcome.
    #[schema(example = "closed")]
    pub(super) status: String,
    /// The clinic-local day the lead was created.
    #[schema(example = "2026-03-10", value_type = String, format = Date)]
    pub(super) created_day: NaiveDate,
    #[schema(example = 2)]
    pub(super) interest_count: i32,
    #[schema(example = "google")]
    pub(super) source: Option<String>,
    #[schema(example = "2026-11-30T09:12:00Z")]
    pub(super) erased_at: DateTime<Utc>,
    /// The name of the key that erased it, or `retention`.
    #[schema(example = "Privacy officer")]
    pub(super) erased_by: String,
}

impl From<TombstoneView> for Tombstone {
    fn from(tombstone: TombstoneView) -> Self {
        Tombstone {
            id: tombstone.id,
            status: tombstone.status.as_str().to_owned(),
            created_day: tombstone.created_day,
            interest_count: tombstone.interest_count,
            source: tombstone.source,
            erased_at: tombstone.erased_at,
            erased_by: tombstone.erased_by,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CountByKey {
    #[schema(example = "ptsd")]
    pub(super) key: Option<String>,
    #[schema(example = 12)]
    pub(super) count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CountByDay {
    #[schema(example = "2026-03-10", value_type = String, format = Date)]
    pub(super) day: NaiveDate,
    #[schema(example = 4)]
    pub(super) count: i64,
}

/// How soon staff first acted on leads, against `contact_by`. Staff act when they move a lead
/// out of `new` (to `contacted`, or `do_not_contact`), not to spam.
#[derive(Serialize, ToSchema)]
pub struct ContactTimeliness {
    /// First moved out of `new` by `contact_by`.
    #[schema(example = 40)]
    pub(super) on_time: i64,
    /// First moved out of `new` after `contact_by`.
    #[schema(example = 3)]
    pub(super) late: i64,
    /// Still `new`, `contact_by` passed.
    #[schema(example = 2)]
    pub(super) overdue: i64,
    /// Still `new`, `contact_by` ahead.
    #[schema(example = 5)]
    pub(super) awaiting: i64,
}

#[derive(Serialize, ToSchema)]
pub struct LeadStats {
    /// The clinic's time zone: days are counted in it.
    #[schema(example = "America/New_York")]
    pub(super) time_zone: String,
    #[schema(example = "2026-03-01", value_type = Option<String>, format = Date)]
    pub(super) from: Option<NaiveDate>,
    #[schema(example = "2026-03-31", value_type = Option<String>, format = Date)]
    pub(super) to: Option<NaiveDate>,
    /// Leads created in the range, spam excluded, erased ones included.
    #[schema(example = 57)]
    pub(super) total: i64,
    /// Of `total`, how many were erased (their tombstones still count).
    #[schema(example = 1)]
    pub(super) erased: i64,
    /// Every status, spam included.
    #[schema(example = json!({"new": 7, "contacted": 10, "qualified": 20, "unqualified": 8,
        "closed": 10, "do_not_contact": 2, "spam": 4}))]
    pub(super) by_status: std::collections::BTreeMap<String, i64>,
    /// Per interest code, most frequent first (a lead counts once per interest; erased
    /// leads keep no interests).
    pub(super) by_interest: Vec<CountByKey>,
    /// Per first-touch `utm_source` (null: none), most frequent first.
    pub(super) by_source: Vec<CountByKey>,
    /// Per clinic-local day of creation, days without leads left out.
    pub(super) by_day: Vec<CountByDay>,
    pub(super) contact: ContactTimeliness,
}
