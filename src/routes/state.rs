//! What every handler can reach.

use std::sync::{Arc, OnceLock};

use crate::config::Settings;
use crate::db::Pool;
use crate::domain::preview::PreviewKey;
use crate::domain::suppression::SuppressionKey;
use crate::error::Error;

pub struct AppState {
    /// The primary: every write and every keyed read.
    pub pool: Pool,
    /// Public (keyless) reads: `DATABASE_READ_URL`'s replica, else the primary's pool.
    pub read_pool: Pool,
    pub settings: Settings,
    pub readiness: Readiness,
}

impl AppState {
    /// Where a read goes: a public one may be served by the replica, which may lag the
    /// primary a little; anything keyed sees the primary.
    pub fn pool_for_read(&self, public: bool) -> &Pool {
        if public { &self.read_pool } else { &self.pool }
    }

    /// The signing keys, or 503 while start-up still waits for the database (which every
    /// request that signs or checks something needs anyway).
    pub fn keys(&self) -> Result<&Keys, Error> {
        self.readiness
            .0
            .get()
            .ok_or_else(|| Error::Unavailable("the database is not ready yet".to_owned()))
    }
}

/// The keys start-up resolves once: each from its setting or, when that is unset, from the
/// database, where every replica finds the same one.
#[derive(Clone)]
pub struct Keys {
    pub preview: PreviewKey,
    pub suppression: SuppressionKey,
}

/// Whether start-up's database work (migrations, stored keys) is done. Until it is, requests
/// that need the database answer 503 and a background task keeps trying.
#[derive(Clone, Default)]
pub struct Readiness(Arc<OnceLock<Keys>>);

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.0.get().is_some()
    }

    /// Keeps the first keys it is given: every attempt resolves the same ones.
    pub fn set_ready(&self, keys: Keys) {
        let _ = self.0.set(keys);
    }
}
