//! Beacon: a headless JSON content and leads API.
//!
//! Layers, each using only those below it (a test in `tests/api/layers.rs` parses every import
//! and fails on an arrow that runs back up or any cycle; `docs/ARCHITECTURE.md` has the picture):
//! - `main` → `cli` → `startup`, which builds the one `Application` (tests build it too);
//! - `routes` (HTTP: extractors, the caller's key, `AppState`, request and response shapes, the
//!   OpenAPI document, middleware) and `workers` (background loops);
//! - `services`: use cases, each owning its transaction;
//! - `domain` (pure types and rules: no actix, no diesel, nothing else of the crate) and `db`
//!   (pool, queries, schema);
//! - used from anywhere: `config`, `error`, `telemetry`; `devdb` (a local PostgreSQL for
//!   development) is used only by `startup`.

pub mod cli;
pub mod config;
pub mod db;
pub mod devdb;
pub mod domain;
pub mod error;
pub mod routes;
pub mod services;
pub mod startup;
pub mod telemetry;
pub mod workers;
