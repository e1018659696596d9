//! The opt-out suppression list: which numbers asked never to be contacted, kept as keyed
//! hashes under the installation's key.

use diesel::PgConnection;

use crate::db::{self, suppression};
use crate::domain::phone::E164Phone;
use crate::domain::suppression::SuppressionKey;
use crate::error::Error;

const KEY_NAME: &str = "suppression_key";

/// Whether the number stored on a lead opted out.
pub fn is_suppressed(
    conn: &mut PgConnection,
    key: &SuppressionKey,
    phone_e164: Option<&str>,
) -> Result<bool, Error> {
    let Some(phone) = phone_e164.map(stored_phone).transpose()? else {
        return Ok(false);
    };
    Ok(suppression::opted_out_at(conn, &key.tag(&phone))?.is_some())
}

/// A number as Beacon stored it: anything but E.164 is a fault, never "not opted out".
pub fn stored_phone(e164: &str) -> Result<E164Phone, Error> {
    E164Phone::from_stored(e164)
        .map_err(|e| Error::internal(format!("a lead's stored number is not E.164: {e}")))
}

/// The installation's key, created once in the database and shared by every replica.
pub fn stored_key(conn: &mut PgConnection) -> Result<SuppressionKey, Error> {
    let mut candidate = [0u8; 32];
    getrandom::fill(&mut candidate).map_err(Error::internal)?;
    let stored = db::secrets::get_or_create(conn, KEY_NAME, &candidate)?;
    SuppressionKey::new(stored)
        .ok_or_else(|| Error::internal("the stored suppression key is too short"))
}
