//! The CSV rows of `GET /v1/leads/export`.

use actix_web::web;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::domain::csv;
use crate::domain::lead::Priority;
use crate::services::lead_management::LeadView;

pub(super) const CSV_COLUMNS: [&str; 19] = [
    "id",
    "created_at",
    "status",
    "priority",
    "name",
    "phone",
    "phone_e164",
    "email",
    "interests",
    "assignee",
    "source",
    "contact_by",
    "overdue",
    "submission_count",
    "marketing_consent",
    "last_received_at",
    "updated_at",
    "opted_out_at",
    "lead_source",
];

pub(super) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(super) fn csv_record(lead: &LeadView, now: DateTime<Utc>) -> String {
    let id = lead.id.to_string();
    let interests = lead.interests.join(";");
    let flag = |value: Option<bool>| match value {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    };
    let (created, contact_by, last, updated) = (
        timestamp(lead.created_at),
        timestamp(lead.contact_by),
        timestamp(lead.last_received_at),
        timestamp(lead.updated_at),
    );
    let opted_out = lead.opted_out_at.map(timestamp).unwrap_or_default();
    let count = lead.submission_count.to_string();
    csv::row([
        id.as_str(),
        &created,
        lead.status.as_str(),
        lead.priority.map_or("", Priority::as_str),
        lead.name.as_deref().unwrap_or_default(),
        lead.phone.as_deref().unwrap_or_default(),
        lead.phone_e164.as_deref().unwrap_or_default(),
        lead.email.as_deref().unwrap_or_default(),
        &interests,
        lead.assignee.as_deref().unwrap_or_default(),
        lead.source.as_deref().unwrap_or_default(),
        &contact_by,
        flag(Some(lead.is_overdue(now))),
        &count,
        flag(lead.marketing_consent),
        &last,
        &updated,
        &opted_out,
        lead.lead_source
            .as_ref()
            .map_or("", |source| source.name.as_str()),
    ])
}

pub(super) fn csv_chunk(leads: &[LeadView], now: DateTime<Utc>, header: bool) -> web::Bytes {
    let mut chunk = String::with_capacity(leads.len() * 256 + 256);
    if header {
        chunk.push_str(&csv::row(CSV_COLUMNS));
    }
    for lead in leads {
        chunk.push_str(&csv_record(lead, now));
    }
    web::Bytes::from(chunk)
}
