#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The one integration-test binary: each file mirrors a route module, each test gets its own
//! application and its own database.

mod articles;
mod audit;
mod cache;
mod cli;
mod docs;
mod durability;
mod embed;
mod errors;
mod events;
mod faults;
mod google_ads;
mod health;
mod helpers;
mod hostile_input;
mod intake_functions;
mod interests;
mod keys;
mod layers;
mod lead_admin;
mod lead_forms;
mod lead_privacy;
mod lead_sources;
mod leads;
mod mail;
mod meta;
mod metrics;
mod notify;
mod prepared_statements;
mod process;
mod scopes;
mod seed;
mod tags;
mod webhooks;
