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

/// The most bytes handed to actix at once. actix copies each chunk whole into the connection's
/// write buffer, which keeps its size for as long as the keep-alive connection lives: sent as
/// one chunk, a 1,000-lead page (about 300 KB) left every connection that ever carried an
/// export holding that much, and RSS grew with the connections (docs/SOAK.md).
pub(super) const MAX_CHUNK_BYTES: usize = 16 * 1024;

/// One page of leads as CSV, in chunks of at most `MAX_CHUNK_BYTES` (slices of one buffer).
pub(super) fn csv_chunks(leads: &[LeadView], now: DateTime<Utc>, header: bool) -> Vec<web::Bytes> {
    let mut page = String::with_capacity(leads.len() * 256 + 256);
    if header {
        page.push_str(&csv::row(CSV_COLUMNS));
    }
    for lead in leads {
        page.push_str(&csv_record(lead, now));
    }
    split(web::Bytes::from(page))
}

fn split(mut bytes: web::Bytes) -> Vec<web::Bytes> {
    let mut chunks = Vec::with_capacity(bytes.len() / MAX_CHUNK_BYTES + 1);
    while bytes.len() > MAX_CHUNK_BYTES {
        chunks.push(bytes.split_to(MAX_CHUNK_BYTES));
    }
    if !bytes.is_empty() {
        chunks.push(bytes);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_split_into_bounded_chunks_that_join_up_to_the_page() {
        let page: String = (0..40_000)
            .map(|n| char::from(b'a' + (n % 26) as u8))
            .collect();
        let chunks = split(web::Bytes::from(page.clone()));
        assert_eq!(chunks.len(), 3);
        assert!(chunks.iter().all(|chunk| chunk.len() <= MAX_CHUNK_BYTES));
        assert_eq!(chunks.concat(), page.as_bytes());

        assert_eq!(split(web::Bytes::from_static(b"id\n")).len(), 1);
        assert!(
            split(web::Bytes::new()).is_empty(),
            "an empty page sends nothing"
        );
    }
}
