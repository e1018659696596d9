//! Opt-outs: a person asks never to be contacted. The number's keyed hash joins the suppression
//! list (which outlives erasure), each of its leads gets a new consent record saying so (consent
//! evidence is append-only), becomes `do_not_contact` and shows when the number opted out. Anyone
//! can opt a number out, so nothing here is final: a later enquiry from the number reaches staff
//! flagged with the opt-out, and staff lift it with a reason (`reinstate`). The public answer
//! is the same whether or not the number was known.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::config::LeadSettings;
use crate::db::lead_admin as queries;
use crate::db::{leads, suppression};
use crate::domain::audit::Action;
use crate::domain::change::Precondition;
use crate::domain::client::Client;
use crate::domain::client_ip::rate_limit_network;
use crate::domain::event::LeadChange;
use crate::domain::lead::{ConsentKind, wording_sha256};
use crate::domain::lead_change::ActivityAction;
use crate::domain::phone::E164Phone;
use crate::domain::pipeline::LeadStatus;
use crate::domain::suppression::{ReinstateReason, SuppressionKey};
use crate::error::Error;
use crate::services::audit::{self, Actor, Subject};
use crate::services::events;
use crate::services::lead_management::LeadView;
use crate::services::lead_preconditions::{check_version, refuse_erased};
use crate::services::rate_limits;
use crate::services::suppression::stored_phone;

/// Recorded as the consent wording of every opt-out.
pub const OPT_OUT_WORDING: &str =
    "Opt-out: the person asked the clinic never to contact this phone number again.";
/// The "who" of activity entries an opt-out writes.
pub const OPT_OUT_ACTOR: &str = "opt-out request";
/// The "who" of a lead put back in the queue by a new enquiry after its number opted out.
pub const ENQUIRY_ACTOR: &str = "new enquiry";

const OPT_OUT_BUCKET: &str = "opt_out_ip";

/// Records an opt-out for `phone`. Returns nothing on purpose: callers answer the same way
/// whether or not the number belonged to a lead.
pub fn opt_out(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    key: &SuppressionKey,
    phone: &E164Phone,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let opted_out = conn.transaction(|conn| -> Result<usize, Error> {
        if let Some(ip) = client.ip {
            rate_limits::hit(
                conn,
                &settings.opt_out_rate_per_ip,
                OPT_OUT_BUCKET,
                &rate_limit_network(ip),
                now,
            )?;
        }
        // Intake holds the same lock while it decides a lead's status, so a lead arriving
        // during an opt-out is either seen here or sees the suppression entry.
        leads::lock_phone(conn, phone.as_str())?;
        suppression::insert(conn, &key.tag(phone), now)?;
        let leads = queries::for_number(conn, phone.as_str())?;
        let ip = client.ip.map(|ip| ip.to_canonical().to_string());
        for lead in &leads {
            queries::insert_consent(
                conn,
                &queries::NewConsentRecord {
                    id: Uuid::now_v7(),
                    lead_id: lead.id,
                    kind: ConsentKind::OptOut,
                    agreed: false,
                    wording: OPT_OUT_WORDING,
                    wording_sha256: &wording_sha256(OPT_OUT_WORDING),
                    recorded_at: now,
                    ip: ip.as_deref(),
                    user_agent: client.user_agent.as_deref(),
                    page_url: client.referer.as_deref(),
                },
            )?;
            let from = lead.status;
            // An opt-out is the person's own word: it overrides the pipeline, except that
            // quarantined spam stays quarantined (marking it not spam is refused later).
            let to = match from {
                LeadStatus::Spam => LeadStatus::Spam,
                _ => LeadStatus::DoNotContact,
            };
            let updated = queries::update(
                conn,
                lead.id,
                &queries::LeadChanges {
                    status: (to != from).then_some(to),
                    marketing_consent: Some(false),
                    opted_out_at: Some(Some(now)),
                    ..queries::LeadChanges::at(now)
                },
            )?;
            events::lead_opted_out(conn, from, &updated, now)?;
            queries::insert_activity(
                conn,
                &queries::NewActivity {
                    id: Uuid::now_v7(),
                    lead_id: lead.id,
                    at: now,
                    actor: OPT_OUT_ACTOR,
                    actor_key_id: None,
                    action: ActivityAction::OptedOut,
                    from_status: Some(from),
                    to_status: Some(to),
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

/// Intake's check, inside its transaction: a lead from a number whose opt-out stands shows
/// staff when it opted out, so they can judge whether the enquiry is real consent; a lead the
/// opt-out had made `do_not_contact` goes back to `new`. Nothing is suppressed: until staff
/// reinstate the number the lead can only move to `do_not_contact` or `spam`. Returns the
/// status the lead was reopened from, if it was. The caller read `opted_out_at` holding the
/// number's lock (`db::leads::lock_number`), as an opt-out takes it, and holds it still.
pub fn on_intake(
    conn: &mut PgConnection,
    opted_out_at: DateTime<Utc>,
    lead_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<LeadStatus>, Error> {
    let lead = queries::find_for_update(conn, lead_id)?.ok_or(Error::NotFound)?;
    let reopen = lead.status == LeadStatus::DoNotContact;
    queries::update(
        conn,
        lead_id,
        &queries::LeadChanges {
            status: reopen.then_some(LeadStatus::New),
            opted_out_at: Some(Some(opted_out_at)),
            ..queries::LeadChanges::at(now)
        },
    )?;
    if reopen {
        queries::insert_activity(
            conn,
            &queries::NewActivity {
                id: Uuid::now_v7(),
                lead_id,
                at: now,
                actor: ENQUIRY_ACTOR,
                actor_key_id: None,
                action: ActivityAction::StatusChanged,
                from_status: Some(LeadStatus::DoNotContact),
                to_status: Some(LeadStatus::New),
                assignee: None,
                note: None,
            },
        )?;
    }
    Ok(reopen.then_some(LeadStatus::DoNotContact))
}

/// Staff lift the opt-out of a lead's number, with a reason. The number leaves the suppression
/// list and its live leads lose the opt-out flag; this lead gets a staff-entered consent record
/// and a `reinstated` activity entry, goes from `do_not_contact` back to `new` (any other status
/// stays), and the access audit records who did it. A number with no opt-out standing is a
/// conflict: there is nothing to lift.
pub fn reinstate(
    conn: &mut PgConnection,
    key: &SuppressionKey,
    id: Uuid,
    reason: &ReinstateReason,
    precondition: Option<&Precondition>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<LeadView, Error> {
    conn.transaction(|conn| {
        let lead = queries::find(conn, id)?.ok_or(Error::NotFound)?;
        refuse_erased(&lead)?;
        let phone = lead
            .phone_e164
            .as_deref()
            .ok_or_else(|| Error::internal("a live lead has no number"))
            .and_then(stored_phone)?;
        // The number before its leads, the order intake and opt-outs lock in.
        leads::lock_phone(conn, phone.as_str())?;
        let lead = queries::find_for_update(conn, id)?.ok_or(Error::NotFound)?;
        refuse_erased(&lead)?;
        check_version(&lead, precondition)?;
        if !suppression::remove(conn, &key.tag(&phone))? {
            return Err(Error::Conflict(
                "This lead's number has not opted out (or was reinstated already): there is \
                 nothing to reinstate."
                    .to_owned(),
            ));
        }
        queries::forget_opt_out(conn, phone.as_str(), id, now)?;
        let from = lead.status;
        let to = match from {
            LeadStatus::DoNotContact => LeadStatus::New,
            other => other,
        };
        let updated = queries::update(
            conn,
            id,
            &queries::LeadChanges {
                status: (to != from).then_some(to),
                opted_out_at: Some(None),
                ..queries::LeadChanges::at(now)
            },
        )?;
        let wording = reason.wording(&actor.name);
        queries::insert_consent(
            conn,
            &queries::NewConsentRecord {
                id: Uuid::now_v7(),
                lead_id: id,
                kind: ConsentKind::StaffReinstated,
                agreed: true,
                wording: &wording,
                wording_sha256: &wording_sha256(&wording),
                recorded_at: now,
                ip: None,
                user_agent: None,
                page_url: None,
            },
        )?;
        queries::insert_activity(
            conn,
            &queries::NewActivity {
                id: Uuid::now_v7(),
                lead_id: id,
                at: now,
                actor: &actor.name,
                actor_key_id: actor.key_id,
                action: ActivityAction::Reinstated,
                from_status: Some(from),
                to_status: Some(to),
                assignee: None,
                note: Some(reason.as_str()),
            },
        )?;
        let changes = [
            (to != from).then_some(LeadChange::Status),
            Some(LeadChange::OptOutLifted),
        ];
        events::lead_updated(
            conn,
            from,
            &updated,
            changes.into_iter().flatten().collect(),
            now,
        )?;
        audit::record(conn, actor, Action::Reinstate, Subject::Lead(id), 1, now)?;
        tracing::info!(lead_id = %id, version = updated.version, "opt-out lifted by staff");
        Ok(updated.into())
    })
}
