//! Opt-outs: a person asks never to be contacted. The number's keyed hash joins the suppression
//! list (which outlives erasure), each of its leads gets a new consent record saying so (consent
//! evidence is append-only) and becomes `do_not_contact`, and later enquiries from the number
//! start as `do_not_contact`. The answer is the same whether or not the number was known.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::config::LeadSettings;
use crate::db::{self, lead_admin as queries, suppression};
use crate::domain::client_ip::rate_limit_network;
use crate::domain::lead::wording_sha256;
use crate::domain::phone::E164Phone;
use crate::domain::pipeline::LeadStatus;
use crate::domain::suppression::SuppressionKey;
use crate::error::Error;
use crate::services::leads::{PHONE_LOCK, hit};

/// Recorded as the consent wording of every opt-out.
pub const OPT_OUT_WORDING: &str =
    "Opt-out: the person asked the clinic never to contact this phone number again.";
/// The "who" of activity entries an opt-out writes.
pub const OPT_OUT_ACTOR: &str = "opt-out request";
/// The "who" of a new lead marked `do_not_contact` because its number opted out.
pub const SUPPRESSION_ACTOR: &str = "suppression list";

const OPT_OUT_BUCKET: &str = "opt_out_ip";
const KEY_NAME: &str = "suppression_key";

/// Where an opt-out came from; kept as evidence with each consent record.
pub struct OptOutClient {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub page_url: Option<String>,
}

/// Records an opt-out for `phone`. Returns nothing on purpose: callers answer the same way
/// whether or not the number belonged to a lead.
pub fn opt_out(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    phone: &E164Phone,
    client: &OptOutClient,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let key = key(settings)?;
    let opted_out = conn.transaction(|conn| -> Result<usize, Error> {
        if let Some(ip) = client.ip {
            hit(
                conn,
                &settings.opt_out_rate_per_ip,
                OPT_OUT_BUCKET,
                &rate_limit_network(ip),
                now,
            )?;
        }
        // Intake holds the same lock while it decides a lead's status, so a lead arriving
        // during an opt-out is either seen here or sees the suppression entry.
        db::lock_for_transaction(conn, db::lock_key(PHONE_LOCK, phone.as_str()))?;
        suppression::insert(conn, &key.tag(phone), now)?;
        let leads = queries::for_number(conn, phone.as_str())?;
        let ip = client.ip.map(|ip| ip.to_canonical().to_string());
        for lead in &leads {
            queries::insert_opt_out(
                conn,
                &queries::NewOptOutRecord {
                    id: Uuid::now_v7(),
                    lead_id: lead.id,
                    kind: "opt_out",
                    agreed: false,
                    wording: OPT_OUT_WORDING,
                    wording_sha256: &wording_sha256(OPT_OUT_WORDING),
                    recorded_at: now,
                    ip: ip.as_deref(),
                    user_agent: client.user_agent.as_deref(),
                    page_url: client.page_url.as_deref(),
                },
            )?;
            let from = LeadStatus::parse(&lead.status).unwrap_or(LeadStatus::New);
            // An opt-out is the person's own word: it overrides the pipeline, except that
            // quarantined spam stays quarantined (marking it not spam is refused later).
            let to = match from {
                LeadStatus::Spam => LeadStatus::Spam,
                _ => LeadStatus::DoNotContact,
            };
            queries::update(
                conn,
                lead.id,
                &queries::LeadChanges {
                    status: (to != from).then_some(to.as_str()),
                    assignee: None,
                    first_contacted_at: None,
                    contacted_on_time: None,
                    marketing_consent: Some(false),
                    updated_at: now,
                },
            )?;
            queries::insert_activity(
                conn,
                &queries::NewActivity {
                    id: Uuid::now_v7(),
                    lead_id: lead.id,
                    at: now,
                    actor: OPT_OUT_ACTOR,
                    actor_key_id: None,
                    action: "opted_out",
                    from_status: Some(from.as_str()),
                    to_status: Some(to.as_str()),
                    assignee: None,
                    note: None,
                },
            )?;
        }
        Ok(leads.len())
    })?;
    // A count of leads is not personal; it says nothing about which number.
    tracing::info!(leads = opted_out, "opt-out recorded");
    Ok(())
}

/// Intake's check, inside its transaction: a live lead from a number that opted out is
/// `do_not_contact`, with an activity entry saying why.
pub fn on_intake(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    phone: &E164Phone,
    lead_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let key = key(settings)?;
    db::lock_for_transaction(conn, db::lock_key(PHONE_LOCK, phone.as_str()))?;
    if !suppression::contains(conn, &key.tag(phone))? {
        return Ok(());
    }
    let lead = queries::find_for_update(conn, lead_id)?.ok_or(Error::NotFound)?;
    let from = LeadStatus::parse(&lead.status).unwrap_or(LeadStatus::New);
    if matches!(from, LeadStatus::DoNotContact | LeadStatus::Spam) {
        return Ok(());
    }
    queries::update(
        conn,
        lead_id,
        &queries::LeadChanges {
            status: Some(LeadStatus::DoNotContact.as_str()),
            assignee: None,
            first_contacted_at: None,
            contacted_on_time: None,
            marketing_consent: None,
            updated_at: now,
        },
    )?;
    queries::insert_activity(
        conn,
        &queries::NewActivity {
            id: Uuid::now_v7(),
            lead_id,
            at: now,
            actor: SUPPRESSION_ACTOR,
            actor_key_id: None,
            action: "status_changed",
            from_status: Some(from.as_str()),
            to_status: Some(LeadStatus::DoNotContact.as_str()),
            assignee: None,
            note: None,
        },
    )?;
    Ok(())
}

/// Whether the number stored on a lead opted out.
pub fn is_suppressed(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    phone_e164: Option<&str>,
) -> Result<bool, Error> {
    let Some(phone) =
        phone_e164.and_then(|e164| E164Phone::parse(e164, settings.default_region).ok())
    else {
        return Ok(false);
    };
    Ok(suppression::contains(conn, &key(settings)?.tag(&phone))?)
}

fn key(settings: &LeadSettings) -> Result<&SuppressionKey, Error> {
    settings.suppression_key.get()
}

/// The installation's key, created once in the database and shared by every replica.
pub fn stored_key(conn: &mut PgConnection) -> Result<SuppressionKey, Error> {
    let mut candidate = [0u8; 32];
    getrandom::fill(&mut candidate).map_err(Error::internal)?;
    let stored = db::secrets::get_or_create(conn, KEY_NAME, &candidate)?;
    SuppressionKey::new(stored)
        .ok_or_else(|| Error::internal("the stored suppression key is too short"))
}
