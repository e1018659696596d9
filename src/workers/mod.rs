//! Background loops. Each calls a service through `db::run`, like a request would, and is safe to
//! run on every replica at once.

pub mod events;
pub mod mail;
pub mod meta;
pub mod prune;
pub mod queue;
pub mod retention;
pub mod webhooks;
