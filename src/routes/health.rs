//! Liveness and readiness probes for orchestrators and load balancers.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
use crate::error::Error;
use crate::routes::state::AppState;
use crate::services::health;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    status: &'static str,
}

/// Is the process alive?
///
/// Answers 200 as long as the process serves HTTP; it does not touch the database, so a
/// database outage never gets a healthy replica restarted.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "The process is alive", body = Health,
        example = json!({"status": "ok"}))),
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Can the service take traffic?
///
/// Answers 200 when the database answers and every migration is applied, and 503
/// problem+json otherwise (also while Beacon, started without its database, still waits for
/// it), so a load balancer only routes to replicas that can serve.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "The database is reachable and migrated", body = Health,
        example = json!({"status": "ready"}))),
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    if !state.readiness.is_ready() {
        return Err(Error::Unavailable(
            "start-up has not reached the database yet".to_owned(),
        ));
    }
    let ready = db::run(&state.pool, health::is_ready).await?;
    if ready {
        Ok(HttpResponse::Ok().json(Health { status: "ready" }))
    } else {
        Err(Error::Unavailable("migrations are pending".to_owned()))
    }
}
