//! The CSV rows of `GET /v1/leads/export`.

use actix_web::web;
use chrono::{DateTime, SecondsFormat, Utc};

use super::responses::*;
use crate::db::lead_admin::LeadRow;
use crate::domain::csv;

pub(super) const CSV_COLUMNS: [&str; 18] = [
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
];

pub(super) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(super) fn csv_record(row: &LeadRow, now: DateTime<Utc>) -> String {
    let id = row.id.to_string();
    let interests = row.interest_codes().join(";");
    let flag = |value: Option<bool>| match value {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    };
    let (created, contact_by, last, updated) = (
        timestamp(row.created_at),
        timestamp(row.contact_by),
        timestamp(row.last_received_at),
        timestamp(row.updated_at),
    );
    let opted_out = row.opted_out_at.map(timestamp).unwrap_or_default();
    let count = row.submission_count.to_string();
    csv::row([
        id.as_str(),
        &created,
        &row.status,
        row.priority.as_deref().unwrap_or_default(),
        row.name.as_deref().unwrap_or_default(),
        row.phone.as_deref().unwrap_or_default(),
        row.phone_e164.as_deref().unwrap_or_default(),
        row.email.as_deref().unwrap_or_default(),
        &interests,
        row.assignee.as_deref().unwrap_or_default(),
        row.source.as_deref().unwrap_or_default(),
        &contact_by,
        flag(Some(is_overdue(row, now))),
        &count,
        flag(row.marketing_consent),
        &last,
        &updated,
        &opted_out,
    ])
}

pub(super) fn csv_chunk(rows: &[LeadRow], now: DateTime<Utc>, header: bool) -> web::Bytes {
    let mut chunk = String::with_capacity(rows.len() * 256 + 256);
    if header {
        chunk.push_str(&csv::row(CSV_COLUMNS));
    }
    for row in rows {
        chunk.push_str(&csv_record(row, now));
    }
    web::Bytes::from(chunk)
}
