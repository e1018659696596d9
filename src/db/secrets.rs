//! `instance_secrets`: secrets every replica must share, created once.

use diesel::prelude::*;

use super::schema::instance_secrets;

/// The secret called `name`; `candidate` becomes it when none exists yet. Replicas racing here
/// all end up with the value of whichever inserted first.
pub fn get_or_create(
    conn: &mut PgConnection,
    name: &str,
    candidate: &[u8],
) -> QueryResult<Vec<u8>> {
    diesel::insert_into(instance_secrets::table)
        .values((
            instance_secrets::name.eq(name),
            instance_secrets::value.eq(candidate),
        ))
        .on_conflict(instance_secrets::name)
        .do_nothing()
        .execute(conn)?;
    instance_secrets::table
        .find(name)
        .select(instance_secrets::value)
        .first(conn)
}
