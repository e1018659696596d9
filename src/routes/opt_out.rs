//! The public opt-out: anyone may ask that a phone number is never contacted.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db;
use crate::domain::phone::E164Phone;
use crate::error::Error;
use crate::routes::client::client;
use crate::routes::extract::Json;
use crate::routes::state::AppState;
use crate::services::opt_out;

pub fn configure(config: &mut ServiceConfig) {
    config.service(opt_out_of_contact);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptOutRequest {
    /// The number not to contact, in any common format.
    #[schema(example = "(415) 555-2671")]
    phone: String,
}

/// The same answer whatever the number.
#[derive(Serialize, ToSchema)]
pub struct OptOutAccepted {
    #[schema(example = "recorded")]
    status: &'static str,
    #[schema(example = "This number will not be contacted by the clinic.")]
    message: &'static str,
}

const OPT_OUT_ANSWER: OptOutAccepted = OptOutAccepted {
    status: "recorded",
    message: "This number will not be contacted by the clinic.",
};

/// Opt out of contact
///
/// A person asks never to be contacted at a phone number. Public: no key. The answer is the
/// same `202` whether or not the clinic knows the number. Each lead with this number
/// becomes `do_not_contact`, shows `opted_out_at`, and gets a new consent record saying so
/// (consent evidence is never changed, only added to); the number joins the suppression list
/// (as a keyed hash, never the number), which outlives erasure. Anyone can send this, so it
/// is never final: a later enquiry from the number is recorded as usual (a `do_not_contact`
/// lead it joins goes back to `new`) and flagged with `opted_out_at` for staff to judge, and
/// while the opt-out stands staff can only move the number's leads to `do_not_contact` or
/// `spam`. Staff lift it with `POST /v1/leads/{id}/reinstate`. Rate-limited per client
/// network (`BEACON_OPT_OUT_RATE_PER_IP`).
#[utoipa::path(
    tag = "leads",
    request_body(content = OptOutRequest, example = json!({"phone": "(415) 555-2671"})),
    responses(
        (status = 202, description = "Recorded (the same answer for every valid number)",
            body = OptOutAccepted, example = json!({
                "status": "recorded",
                "message": "This number will not be contacted by the clinic."
            })),
        (status = 429, description = "Too many opt-outs from this network this minute",
            headers(("Retry-After" = u64, description = "Seconds until the limit resets"))),
    ),
)]
#[post("/leads/opt-out")]
pub async fn opt_out_of_contact(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<OptOutRequest>,
) -> Result<HttpResponse, Error> {
    let settings = &state.settings.leads;
    let phone = E164Phone::parse(&body.0.phone, settings.default_region)
        .map_err(|e| Error::invalid("/phone", e))?;
    let client = client(&req, &settings.trusted_proxies);
    let keys = state.keys()?.clone();
    let task_state = state.clone();
    db::run(&state.pool, move |conn| {
        opt_out::opt_out(
            conn,
            &task_state.settings.leads,
            &keys.suppression,
            &phone,
            &client,
            Utc::now(),
        )
    })
    .await?;
    Ok(HttpResponse::Accepted().json(OPT_OUT_ANSWER))
}
