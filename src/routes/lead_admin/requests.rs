//! What the staff lead endpoints accept: filters, paging, changes, opt-outs and reinstatements.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::domain::change::Change;

/// Filters shared by the list and the export; all optional and combined with AND.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// One or more statuses, comma-separated: `new`, `contacted`, `qualified`, `unqualified`,
    /// `closed`, `do_not_contact`, `spam`.
    #[param(example = "new,contacted")]
    pub(super) status: Option<String>,
    /// `normal` or `urgent`.
    #[param(example = "urgent")]
    pub(super) priority: Option<String>,
    /// Leads that named this interest code.
    #[param(example = "ptsd")]
    pub(super) interest: Option<String>,
    /// Created at or after this time (RFC 3339).
    #[param(example = "2026-03-01T00:00:00Z")]
    #[serde(default, deserialize_with = "crate::domain::instant::optional")]
    pub(super) created_after: Option<DateTime<Utc>>,
    /// Created before this time (RFC 3339).
    #[param(example = "2026-04-01T00:00:00Z")]
    #[serde(default, deserialize_with = "crate::domain::instant::optional")]
    pub(super) created_before: Option<DateTime<Utc>>,
    /// `true`: still `new` with `contact_by` passed; `false`: all others.
    #[param(example = true)]
    pub(super) overdue: Option<bool>,
    /// Assigned to this person (exact, ignoring case).
    #[param(example = "Maria")]
    pub(super) assignee: Option<String>,
    /// First-touch `utm_source` (exact, ignoring case).
    #[param(example = "google")]
    pub(super) source: Option<String>,
    /// Leads whose first enquiry came from this lead source (`GET /v1/lead-sources`).
    #[param(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a70")]
    pub(super) source_id: Option<uuid::Uuid>,
    /// A name or email (any part of it, ignoring case), or a phone number in any common
    /// format, whole or in part (at least 4 digits); 1–200 characters. Never logged or stored
    /// in the audit.
    #[param(example = "(415) 555-2671")]
    pub(super) q: Option<String>,
    /// Include quarantined spam (default `false`; `status=spam` shows it too).
    #[param(example = false)]
    pub(super) include_spam: Option<bool>,
    /// `true`: only the test leads ad platforms sent (`is_test`); default `false`: only real
    /// leads.
    #[param(example = false)]
    pub(super) test: Option<bool>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// `next_cursor` of the previous page, with the same filters.
    #[param(example = "cDE6MTc2NDQxNzYwMDAwMDAwMDowMTkzYTRmMTdjMWU3YjUyOWEwZTNmMmQ1YzZiN2E4MQ")]
    pub(super) cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(example = 20, minimum = 1, maximum = 100)]
    pub(super) limit: Option<i64>,
}

/// A change to a lead; send any of the fields.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLead {
    /// The next stage: `new → contacted → qualified | unqualified → closed`, `do_not_contact`
    /// from anywhere, `spam` from anywhere, and `new` again from `spam` (not spam).
    #[schema(example = "contacted")]
    pub(super) status: Option<String>,
    /// Who works the lead (1–100 characters); `null` unassigns.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Maria")]
    pub(super) assignee: Change<String>,
    /// Added to the lead's history (1–2000 characters). Cleared if the lead is erased.
    #[schema(example = "Left a voicemail; will try again tomorrow morning.")]
    pub(super) note: Option<String>,
}

/// Staff lifting the opt-out of a lead's number.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReinstateLead {
    /// Why contact may resume (1–500 characters): kept in the consent record and the lead's
    /// activity. Cleared if the lead is erased.
    #[schema(example = "She called the front desk and asked us to book a consultation.")]
    pub(super) reason: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// First clinic-local day counted (YYYY-MM-DD); default: the first lead.
    #[param(example = "2026-03-01")]
    #[serde(default, deserialize_with = "crate::domain::instant::optional_date")]
    pub(super) from: Option<NaiveDate>,
    /// Last clinic-local day counted, inclusive (YYYY-MM-DD); default: today.
    #[param(example = "2026-03-31")]
    #[serde(default, deserialize_with = "crate::domain::instant::optional_date")]
    pub(super) to: Option<NaiveDate>,
}
