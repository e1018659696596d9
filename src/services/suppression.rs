//! The opt-out suppression list: which numbers asked never to be contacted, kept as keyed
//! hashes under the installation's key.

use diesel::PgConnection;

use crate::config::LeadSettings;
use crate::db::{self, suppression};
use crate::domain::phone::E164Phone;
use crate::domain::suppression::SuppressionKey;
use crate::error::Error;

const KEY_NAME: &str = "suppression_key";

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
    Ok(suppression::opted_out_at(conn, &key(settings)?.tag(&phone))?.is_some())
}

pub fn key(settings: &LeadSettings) -> Result<&SuppressionKey, Error> {
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
