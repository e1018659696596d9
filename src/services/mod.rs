//! Use cases, called by the routes, the background workers and the CLI. A use case takes a
//! connection and owns its transaction, so a write and everything that must agree with it commit
//! together. Services take and return plain values: never HTTP types, never rows for the caller
//! to interpret.

pub mod api_keys;
pub mod articles;
pub mod audit;
pub mod delivery_queue;
pub mod erasure;
pub mod events;
pub mod external_leads;
pub mod health;
pub mod interests;
pub mod lead_management;
pub mod lead_preconditions;
pub mod lead_sources;
pub mod leads;
pub mod meta_leads;
pub mod notifications;
pub mod opt_out;
pub mod rate_limits;
pub mod seed;
pub mod suppression;
pub mod tags;
pub mod webhook_delivery;
pub mod webhooks;
