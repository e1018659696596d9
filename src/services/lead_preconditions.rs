//! What every staff change to a lead checks first: the lead still exists in full, and the
//! change was made against its current version.

use crate::db::lead_admin::LeadRow;
use crate::domain::change::Precondition;
use crate::error::Error;

/// 410 for an erased lead's tombstone.
pub fn refuse_erased(lead: &LeadRow) -> Result<(), Error> {
    match lead.erased_at {
        Some(at) => Err(Error::Gone(format!(
            "This lead was erased on {}; only an anonymous tombstone is kept.",
            at.format("%Y-%m-%d")
        ))),
        None => Ok(()),
    }
}

/// A lead's version tag, for `ETag` and `If-Match`.
pub fn version_tag(version: i32) -> String {
    format!("v{version}")
}

/// 412 when `If-Match` names another version than the lead's.
pub fn check_version(lead: &LeadRow, precondition: Option<&Precondition>) -> Result<(), Error> {
    let current = version_tag(lead.version);
    match precondition {
        Some(precondition) if !precondition.holds(&current) => {
            Err(Error::PreconditionFailed(format!(
                "The lead is now at ETag \"{current}\"; fetch it again and reapply your change."
            )))
        }
        _ => Ok(()),
    }
}
