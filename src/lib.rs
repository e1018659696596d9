//! Beacon: a headless JSON content and leads API.
//!
//! Layers, each depending only on those after it: `routes` (HTTP: parse, call, shape) →
//! `services` (use cases; each owns its transaction) → `domain` (pure rules, no actix, no diesel)
//! and `db` (pool, queries, schema). `workers` are background loops calling services. `startup`
//! wires them into one `Application`.

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
