//! Readiness: whether this replica can serve requests that need the database.

use diesel::PgConnection;

use crate::db;
use crate::error::Error;

/// True when the database answers and every embedded migration has been applied.
pub fn is_ready(conn: &mut PgConnection) -> Result<bool, Error> {
    db::is_ready(conn)
}
