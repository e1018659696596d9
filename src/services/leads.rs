//! Lead intake: one enquiry recorded exactly once, in one transaction with everything that must
//! agree with it (the lead, the submission, the consent evidence, the idempotency key, the rate
//! counters). A `2xx` is only ever sent after that transaction commits.
//!
//! The answer is a receipt for this one submission, the same in shape for a new lead, a repeat
//! and quarantined spam: nothing in it (or in whether it is given) depends on what an earlier
//! enquiry from the number said, so a stranger who knows someone's number learns nothing. A
//! repeat joins its lead without changing the contact details or consent the lead was created
//! with; its own details stay on its submission for staff to judge.
//!
//! Idempotency: a key names a request together with the SHA-256 of its body, so a stranger who
//! learns someone's key and sends other data makes a request of their own. A request with a
//! key first takes a transaction-scoped advisory lock on (key, body hash)
//! (`pg_try_advisory_xact_lock`). Not getting it means the same request is in flight elsewhere
//! → 409. Holding it, a committed answer is replayed; else the enquiry is written and its answer
//! stored in the same transaction. No "in progress" row is ever written: a crash or a lost
//! connection rolls back the enquiry and the key together and releases the lock, so the retry
//! starts afresh — never a stuck key, a lost acknowledged enquiry, or a second one.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::config::LeadSettings;
use crate::db::{self, idempotency, interests, leads as queries};
use crate::domain::client::Client;
use crate::domain::client_ip::rate_limit_network;
use crate::domain::email::Email;
use crate::domain::event::EnquiryAttribution;
use crate::domain::lead::{self, ConsentKind, Priority, SpamReason};
use crate::domain::phone::E164Phone;
use crate::domain::pipeline::LeadStatus;
use crate::domain::suppression::SuppressionKey;
use crate::error::{Error, FieldError};
use crate::services::rate_limits::{self, PHONE_BUCKET};
use crate::services::{events, opt_out};
use crate::telemetry::metrics::{self, LeadKind, LeadOutcome};

/// The idempotency scope of lead intake.
pub const IDEMPOTENCY_SCOPE: &str = "POST /v1/leads";

/// How long an idempotency key's answer is replayed.
pub const IDEMPOTENCY_TTL: TimeDelta = TimeDelta::hours(24);

const PRUNE_BATCH: i64 = 100;
const IP_BUCKET: &str = "lead_ip";
const IDEMPOTENCY_LOCK: &str = "idempotency";

/// A validated enquiry. Its `Debug` shows nothing personal.
pub struct NewLead {
    pub name: String,
    /// As typed, trimmed.
    pub phone_input: String,
    pub phone: E164Phone,
    pub email: Option<Email>,
    /// Codes as sent, in order; duplicates are dropped when stored.
    pub interests: Vec<String>,
    pub message: Option<String>,
    pub preferred_contact_time: Option<String>,
    pub consent: Option<Consent>,
    pub attribution: Attribution,
    /// The form's own clock when it was shown, for the minimum fill time.
    pub rendered_at: Option<DateTime<Utc>>,
    pub honeypot_filled: bool,
    /// Who sent it: counted for rate limits, kept as evidence with the consent record.
    pub client: Client,
    /// The lead source whose `leads:create` key posted it, or whose webhook an ad platform
    /// delivered it to; `None` for the site's own form.
    pub source: Option<Uuid>,
    /// What an ad platform's delivery adds (see `services::external_leads`).
    pub external: Option<ExternalSubmission>,
    /// A platform's test lead: never joins or reopens a real lead, never counts against the
    /// number's limit, tells no tool, and is hidden from the default queue and the statistics.
    pub test: bool,
}

/// What an ad platform's delivery keeps on its submission.
pub struct ExternalSubmission {
    /// The platform's id of the lead; unique per source.
    pub id: String,
    /// `[{"key", "question", "answer"}]`: personal, deleted with the submission.
    pub answers: serde_json::Value,
    /// The platform's campaign, ad and form ids: not personal.
    pub context: serde_json::Value,
}

impl std::fmt::Debug for NewLead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewLead")
            .field("interests", &self.interests.len())
            .field("consent", &self.consent.as_ref().map(|c| c.agreed))
            .field("honeypot_filled", &self.honeypot_filled)
            .field("test", &self.test)
            .finish_non_exhaustive()
    }
}

/// What the person agreed (or declined) to, as shown to them.
pub struct Consent {
    pub agreed: bool,
    pub wording: String,
    pub version: Option<String>,
    pub page_url: Option<String>,
}

#[derive(Default)]
pub struct Attribution {
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub gclid: Option<String>,
    pub fbclid: Option<String>,
    pub referrer: Option<String>,
    pub landing_page: Option<String>,
    pub article_slug: Option<String>,
}

/// An `Idempotency-Key` and the hash of the request it came with.
pub struct IdempotencyKey {
    pub key: String,
    pub request_sha256: [u8; 32],
}

/// What the sender is told: facts of this submission alone, the same for a new lead, a repeat
/// and spam, so neither bots nor strangers learn anything.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// The submission's id, never the lead's.
    pub id: Uuid,
    /// From this submission's receipt time, whatever the lead's own deadline.
    pub contact_by: DateTime<Utc>,
    /// This submission reported suicidal thoughts.
    pub crisis: bool,
}

/// What became of a submission: for logs and staff, never for the sender.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub lead_id: Uuid,
    /// The enquiry joined an existing lead.
    pub duplicate: bool,
    /// Why it was kept in quarantine, if it was.
    pub spam: Option<SpamReason>,
}

impl Recorded {
    pub fn quarantined(&self) -> bool {
        self.spam.is_some()
    }
}

/// An HTTP answer as stored for replay.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

pub enum Submitted {
    /// Recorded just now.
    New {
        recorded: Recorded,
        response: StoredResponse,
    },
    /// The idempotency key's earlier answer.
    Replayed(StoredResponse),
}

/// Records an enquiry received at `received`; `render` turns the receipt into the HTTP answer
/// stored with the idempotency key.
pub fn submit(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    suppression_key: &SuppressionKey,
    lead: NewLead,
    idempotency: Option<IdempotencyKey>,
    received: DateTime<Utc>,
    render: impl FnOnce(&Receipt) -> Result<StoredResponse, Error>,
) -> Result<Submitted, Error> {
    let submitted = conn.transaction(|conn| -> Result<Submitted, Error> {
        if let Some(key) = &idempotency
            && let Some(replay) = claim_key(conn, key, received)?
        {
            return Ok(Submitted::Replayed(replay));
        }
        let interests = lead::merge_interests(&[], &lead.interests);
        let reports_crisis = lead::needs_crisis_resources(&interests);
        let spam = lead::spam_verdict(
            lead.honeypot_filled,
            lead.rendered_at,
            received,
            settings.min_fill,
            reports_crisis,
        );
        let spam = if lead.test {
            // A platform's test lead sends the same made-up number every time.
            spam
        } else {
            count_request(
                conn,
                settings,
                // A source's tools post many leads from one address: only the number's limit
                // holds them.
                lead.source.is_none().then_some(&lead.client),
                &lead.phone,
                spam,
                reports_crisis,
                received,
            )?
        };
        check_interests(conn, &lead.interests)?;
        let (receipt, recorded) = record(
            conn,
            settings,
            suppression_key,
            lead,
            &interests,
            spam,
            received,
        )?;
        let response = render(&receipt)?;
        if let Some(key) = &idempotency {
            store_key(conn, key, &response, received)?;
        }
        Ok(Submitted::New { recorded, response })
    });
    if let Some(outcome) = outcome(&submitted) {
        metrics::lead_submission(LeadKind::Form, outcome);
    }
    let submitted = submitted?;
    prune(conn, settings, received);
    Ok(submitted)
}

/// What a submission is counted as, after its transaction: `None` for an answer that records
/// nothing (a field error, a key still in flight, a failure).
fn outcome(submitted: &Result<Submitted, Error>) -> Option<LeadOutcome> {
    Some(match submitted {
        Ok(Submitted::New { recorded, .. }) => match recorded.spam {
            Some(reason) => LeadOutcome::Spam(reason),
            None if recorded.duplicate => LeadOutcome::Merged,
            None => LeadOutcome::Accepted,
        },
        Ok(Submitted::Replayed(_)) => LeadOutcome::Replayed,
        Err(Error::TooManyRequests { .. }) => LeadOutcome::RateLimited,
        Err(_) => return None,
    })
}

/// Deletes a batch of finished rate windows and expired idempotency keys. Outside the intake
/// transaction, so it never holds a lock an enquiry waits for, and a failure loses nothing.
fn prune(conn: &mut PgConnection, settings: &LeadSettings, now: DateTime<Utc>) {
    let longest_window = settings
        .rate_per_ip
        .length
        .max(settings.rate_per_phone.length);
    let results = [
        db::rate_limits::prune(conn, now - longest_window, PRUNE_BATCH),
        idempotency::prune_expired(conn, now, PRUNE_BATCH),
    ];
    for result in results {
        if let Err(error) = result {
            tracing::warn!(%error, "pruning old rate windows or idempotency keys failed");
        }
    }
}

/// The advisory lock a request with this `Idempotency-Key` and body hash holds while it runs.
pub fn idempotency_lock(key: &str, request_sha256: &[u8; 32]) -> i64 {
    let name = format!("{IDEMPOTENCY_SCOPE} {} {key}", hex::encode(request_sha256));
    db::lock_key(IDEMPOTENCY_LOCK, &name)
}

/// Takes the lock of the key with this body and returns its earlier answer, if any.
fn claim_key(
    conn: &mut PgConnection,
    key: &IdempotencyKey,
    now: DateTime<Utc>,
) -> Result<Option<StoredResponse>, Error> {
    if !db::try_lock_for_transaction(conn, idempotency_lock(&key.key, &key.request_sha256))? {
        return Err(Error::Conflict(
            "A request with this Idempotency-Key is still being processed; retry it shortly."
                .to_owned(),
        ));
    }
    let found =
        idempotency::find_live(conn, IDEMPOTENCY_SCOPE, &key.key, &key.request_sha256, now)?;
    let Some(stored) = found else {
        return Ok(None);
    };
    let status = u16::try_from(stored.response_status)
        .map_err(|_| Error::internal("stored idempotent response has a bad status"))?;
    Ok(Some(StoredResponse {
        status,
        body: stored.response_body,
    }))
}

fn store_key(
    conn: &mut PgConnection,
    key: &IdempotencyKey,
    response: &StoredResponse,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let status = i16::try_from(response.status).map_err(Error::internal)?;
    idempotency::store(
        conn,
        &idempotency::NewKey {
            scope: IDEMPOTENCY_SCOPE,
            key: &key.key,
            request_sha256: &key.request_sha256,
            response_status: status,
            response_body: &response.body,
            created_at: now,
            expires_at: now + IDEMPOTENCY_TTL,
        },
    )?;
    Ok(())
}

/// Counts the request against the per-network limit (429 when spent: that depends only on the
/// sender's own requests) and, unless it is already quarantined, the per-number limit. An
/// enquiry beyond the number's limit is kept but quarantined, and answered like any other: a
/// 429 would tell a stranger that someone else has been enquiring from that number. Spam never
/// counts for the number, so a bot typing someone's number cannot lock them out. Returns the
/// enquiry's final spam verdict. Like speed, volume never quarantines someone reporting
/// suicidal thoughts: it joins the number's lead, so it adds no noise to the queue.
fn count_request(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    client: Option<&Client>,
    phone: &E164Phone,
    spam: Option<SpamReason>,
    reports_crisis: bool,
    now: DateTime<Utc>,
) -> Result<Option<SpamReason>, Error> {
    if let Some(ip) = client.and_then(|client| client.ip) {
        rate_limits::hit(
            conn,
            &settings.rate_per_ip,
            IP_BUCKET,
            &rate_limit_network(ip),
            now,
        )?;
    }
    if spam.is_some() {
        return Ok(spam);
    }
    let within = rate_limits::count(
        conn,
        &settings.rate_per_phone,
        PHONE_BUCKET,
        phone.as_str(),
        now,
    )?;
    Ok((!within && !reports_crisis).then_some(SpamReason::RateLimited))
}

/// Every code must name an interest, active or not (pages cached before a deactivation keep
/// working). Errors point at each unknown code's place in the request.
fn check_interests(conn: &mut PgConnection, codes: &[String]) -> Result<(), Error> {
    if codes.is_empty() {
        return Ok(());
    }
    let known = interests::existing_codes(conn, codes)?;
    let errors: Vec<FieldError> = codes
        .iter()
        .enumerate()
        .filter(|(_, code)| !known.contains(code))
        .map(|(i, _)| {
            FieldError::new(
                format!("/interests/{i}"),
                "is not a known interest; GET /v1/interests lists them",
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

/// Writes the submission, its lead (new, joined, or quarantined) and any consent evidence.
fn record(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    suppression_key: &SuppressionKey,
    lead: NewLead,
    interests: &[String],
    spam: Option<SpamReason>,
    received: DateTime<Utc>,
) -> Result<(Receipt, Recorded), Error> {
    let existing = match spam {
        None if !lead.test => find_existing(conn, settings, &lead.phone, received)?,
        _ => None,
    };
    // Whole seconds: a deadline a fraction earlier is still the promise, and reads better.
    let deadline = settings.calendar.contact_by(received).trunc_subsecs(0);
    let recorded = match existing {
        Some(existing) => Recorded {
            lead_id: merge_into(conn, existing, interests, deadline, received)?,
            duplicate: true,
            spam: None,
        },
        None => Recorded {
            lead_id: create(conn, &lead, interests, spam, deadline, received)?,
            duplicate: false,
            spam,
        },
    };
    let reopened_from = match spam {
        None if !lead.test => opt_out::on_intake(
            conn,
            suppression_key,
            &lead.phone,
            recorded.lead_id,
            received,
        )?,
        _ => None,
    };
    let submission_id = insert_submission(conn, &recorded, &lead, interests, spam, received)?;
    if spam.is_none() && !lead.test {
        record_event(conn, &recorded, reopened_from, &lead, received)?;
    }
    if let Some(consent) = &lead.consent {
        insert_consent(
            conn,
            recorded.lead_id,
            submission_id,
            consent,
            &lead,
            received,
        )?;
    }
    let receipt = Receipt {
        id: submission_id,
        contact_by: deadline,
        crisis: lead::needs_crisis_resources(interests),
    };
    Ok((receipt, recorded))
}

/// A lead of its own, with this enquiry's contact details and consent.
fn create(
    conn: &mut PgConnection,
    lead: &NewLead,
    interests: &[String],
    spam: Option<SpamReason>,
    deadline: DateTime<Utc>,
    received: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let id = Uuid::now_v7();
    queries::insert(
        conn,
        &queries::NewLeadRow {
            id,
            status: if spam.is_some() {
                LeadStatus::Spam
            } else {
                LeadStatus::New
            },
            priority: Priority::for_interests(interests),
            contact_by: deadline,
            marketing_consent: lead.consent.as_ref().map(|consent| consent.agreed),
            first_received_at: received,
            last_received_at: received,
            name: &lead.name,
            phone: &lead.phone_input,
            phone_e164: lead.phone.as_str(),
            email: lead.email.as_ref().map(Email::as_str),
            interests,
            lead_source_id: lead.source,
            is_test: lead.test,
        },
    )?;
    Ok(id)
}

/// A repeat enquiry: anyone can type a number, so it never changes the lead's name, phone,
/// email or consent (its own stay on its submission). The lead gains the new interests, may
/// become urgent (never less), and keeps an open deadline.
fn merge_into(
    conn: &mut PgConnection,
    existing: queries::LeadForMerge,
    interests: &[String],
    deadline: DateTime<Utc>,
    received: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let stored: Vec<String> = existing.interests.into_iter().flatten().flatten().collect();
    let merged = lead::merge_interests(&stored, interests);
    let asked = Priority::for_interests(interests);
    // Only a tombstone has no priority, and a tombstone has no number to be found by.
    let priority = existing
        .priority
        .map_or(asked, |current| current.raised_to(asked));
    queries::merge(
        conn,
        existing.id,
        &queries::LeadMerge {
            priority,
            contact_by: lead::merged_contact_by(existing.contact_by, deadline, received),
            received_at: received,
            interests: &merged,
        },
    )?;
    Ok(existing.id)
}

/// Tells the clinic's tools, in this transaction: a new lead, or another enquiry on one. Spam
/// is never told (see `services::events`).
fn record_event(
    conn: &mut PgConnection,
    recorded: &Recorded,
    reopened_from: Option<LeadStatus>,
    lead: &NewLead,
    received: DateTime<Utc>,
) -> Result<(), Error> {
    let attribution = &lead.attribution;
    let enquiry = events::Enquiry {
        lead_id: recorded.lead_id,
        joined: recorded.duplicate,
        reopened_from,
        attribution: EnquiryAttribution {
            received_at: received,
            utm_source: attribution.utm_source.clone(),
            utm_medium: attribution.utm_medium.clone(),
            utm_campaign: attribution.utm_campaign.clone(),
            utm_term: attribution.utm_term.clone(),
            utm_content: attribution.utm_content.clone(),
            article_slug: attribution.article_slug.clone(),
        },
        words: events::EnquiryWords {
            message: lead.message.clone(),
            preferred_contact_time: lead.preferred_contact_time.clone(),
        },
    };
    events::enquiry(conn, enquiry, received)
}

/// Every enquiry is kept as sent, whatever became of its lead.
fn insert_submission(
    conn: &mut PgConnection,
    recorded: &Recorded,
    lead: &NewLead,
    interests: &[String],
    spam: Option<SpamReason>,
    received: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let id = Uuid::now_v7();
    let attribution = &lead.attribution;
    let external = lead.external.as_ref();
    queries::insert_submission(
        conn,
        &queries::NewSubmissionRow {
            id,
            lead_id: recorded.lead_id,
            received_at: received,
            duplicate: recorded.duplicate,
            spam_reason: spam,
            utm_source: attribution.utm_source.as_deref(),
            utm_medium: attribution.utm_medium.as_deref(),
            utm_campaign: attribution.utm_campaign.as_deref(),
            utm_term: attribution.utm_term.as_deref(),
            utm_content: attribution.utm_content.as_deref(),
            gclid: attribution.gclid.as_deref(),
            fbclid: attribution.fbclid.as_deref(),
            referrer: attribution.referrer.as_deref(),
            landing_page: attribution.landing_page.as_deref(),
            article_slug: attribution.article_slug.as_deref(),
            name: &lead.name,
            phone: &lead.phone_input,
            phone_e164: lead.phone.as_str(),
            email: lead.email.as_ref().map(Email::as_str),
            interests,
            message: lead.message.as_deref(),
            preferred_contact_time: lead.preferred_contact_time.as_deref(),
            lead_source_id: lead.source,
            external_id: external.map(|external| external.id.as_str()),
            custom_answers: external.map(|external| &external.answers),
            external_context: external.map(|external| &external.context),
            is_test: lead.test,
        },
    )?;
    Ok(id)
}

/// Evidence of what was shown and answered, from where; the page defaults to the landing
/// page, then the `Referer`.
fn insert_consent(
    conn: &mut PgConnection,
    lead_id: Uuid,
    submission_id: Uuid,
    consent: &Consent,
    lead: &NewLead,
    received: DateTime<Utc>,
) -> Result<(), Error> {
    let client = &lead.client;
    let page_url = consent
        .page_url
        .as_deref()
        .or(lead.attribution.landing_page.as_deref())
        .or(client.referer.as_deref());
    let ip = client.ip.map(|ip| ip.to_canonical().to_string());
    queries::insert_consent(
        conn,
        &queries::NewConsentRow {
            id: Uuid::now_v7(),
            lead_id,
            submission_id,
            kind: ConsentKind::Form,
            agreed: consent.agreed,
            wording: &consent.wording,
            wording_sha256: &lead::wording_sha256(&consent.wording),
            form_version: consent.version.as_deref(),
            recorded_at: received,
            ip: ip.as_deref(),
            user_agent: client.user_agent.as_deref(),
            page_url,
        },
    )?;
    Ok(())
}

/// The lead a repeat enquiry joins, holding the number's lock until the transaction ends so
/// two enquiries racing in from one number cannot both create a lead.
fn find_existing(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    phone: &E164Phone,
    received: DateTime<Utc>,
) -> Result<Option<queries::LeadForMerge>, Error> {
    if settings.dedupe_window <= TimeDelta::zero() {
        return Ok(None);
    }
    queries::lock_phone(conn, phone.as_str())?;
    Ok(queries::find_recent_by_phone(
        conn,
        phone.as_str(),
        received - settings.dedupe_window,
    )?)
}
