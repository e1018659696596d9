//! HTTP handlers and their request/response shapes, one module per resource. Handlers parse,
//! call a service inside `db::run`, and shape the answer; nothing else.

pub mod articles;
pub mod audit;
pub mod auth;
pub mod caching;
pub mod client;
pub mod embed;
pub mod events;
pub mod examples;
pub mod extract;
pub mod fallback;
pub mod google_ads;
pub mod health;
pub mod interests;
pub mod keys;
pub mod lead_admin;
pub mod lead_sources;
pub mod leads;
pub mod meta;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod operations;
pub mod opt_out;
pub mod response_cache;
pub mod state;
pub mod tags;
pub mod webhooks;

use utoipa_actix_web::{scope, service_config::ServiceConfig};

/// Every documented route. The OpenAPI document is collected from exactly these registrations.
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(health::healthz)
        .service(health::readyz)
        .service(metrics::get_metrics)
        .service(
            scope::scope("/v1")
                .configure(keys::configure)
                .configure(articles::configure)
                .configure(tags::configure)
                .configure(interests::configure)
                .configure(leads::configure)
                .configure(embed::configure)
                .configure(opt_out::configure)
                .configure(lead_admin::configure)
                .configure(lead_sources::configure)
                .configure(google_ads::configure)
                .configure(meta::configure)
                .configure(audit::configure)
                .configure(events::configure)
                .configure(webhooks::configure),
        );
}
