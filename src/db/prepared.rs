//! Keeping hot statements prepared on their connection.
//!
//! diesel keeps a statement prepared (parsed once, planned from a cached plan) only when it can
//! tell from the query's type that the SQL text never changes. It cannot tell for raw SQL
//! (`sql_query`, `sql` fragments), updates, or `ON CONFLICT … DO UPDATE`, so those are parsed
//! and planned again on every call. On lead intake that re-planning was most of PostgreSQL's
//! CPU time per lead (see `docs/PERFORMANCE.md`).
//!
//! [`KeepPrepared::keep_prepared`] vouches for a statement whose text is fixed. The connection
//! then caches it by its SQL text and bind types. A statement whose text did vary would still
//! run correctly, but each variant would add an entry to every connection's cache (and a
//! prepared statement on the server), so use it only where the text cannot vary: no
//! `format!`ed SQL, no optional clauses.
//!
//! Run it with `load` or `get_result` (a statement with no rows to return gets a `RETURNING`):
//! `execute` hands diesel a reference, and for a reference diesel asks the inner statement
//! again. `tests/api/prepared_statements.rs` checks each vouched-for statement is kept.
//!
//! Inserts need no wrapper: their row structs say `treat_none_as_default_value = false`, so a
//! missing value is bound as `NULL` instead of written as `DEFAULT`, and the text stays fixed.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A statement known to have fixed SQL text (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct Prepared<Q>(Q);

pub trait KeepPrepared: Sized {
    /// Lets the connection keep this statement prepared. Only for fixed SQL text.
    fn keep_prepared(self) -> Prepared<Self> {
        Prepared(self)
    }
}

impl<Q: QueryFragment<Pg>> KeepPrepared for Q {}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    // diesel asks this before caching; the inner query says no only because its type cannot
    // prove what the caller knows.
    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// No static id: the cache keys the statement by its SQL text and bind types.
impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Prepared<Q> {}
