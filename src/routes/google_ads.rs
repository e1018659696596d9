//! `POST /v1/lead-sources/{id}/google-ads`: the webhook a Google Ads lead form posts its leads
//! to. Google authenticates with the source's key inside the body (`google_key`), not a header,
//! so the operation documents no header security; a wrong key is a 401 all the same.

use actix_web::{HttpResponse, post, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::db;
use crate::domain::external_lead::{CustomAnswer, ExternalAttribution, ExternalLead};
use crate::domain::lead_source::SourceKind;
use crate::error::Error;
use crate::routes::extract::Json;
use crate::routes::state::AppState;
use crate::services::external_leads::{self, Delivery};
use crate::services::lead_sources;

pub fn configure(config: &mut ServiceConfig) {
    config.service(receive_google_lead);
}

/// A lead as Google Ads delivers it. Fields not listed are ignored, as Google asks of
/// receivers so that its schema can grow.
#[derive(Deserialize, ToSchema)]
pub struct GoogleLead {
    /// Google's id of the lead: a redelivery of it is recorded once.
    #[schema(
        example = "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789-AaBbCcDdEe"
    )]
    lead_id: Option<String>,
    #[serde(default)]
    user_column_data: Vec<GoogleColumn>,
    #[schema(example = "1.0")]
    api_version: Option<String>,
    /// A number (or a string of digits).
    #[schema(value_type = Option<i64>, example = 40000000000_i64)]
    form_id: Option<serde_json::Value>,
    #[schema(value_type = Option<i64>, example = 20000000000_i64)]
    campaign_id: Option<serde_json::Value>,
    #[schema(value_type = Option<i64>, example = 30000000000_i64)]
    adgroup_id: Option<serde_json::Value>,
    #[schema(value_type = Option<i64>, example = 50000000000_i64)]
    creative_id: Option<serde_json::Value>,
    /// The source's key, as shown when it was created.
    #[schema(example = "c2VjcmV0LWtleS1zaG93bi1vbmNlLXh4eHg")]
    google_key: Option<String>,
    /// A test lead sent from the Google Ads form editor.
    #[schema(example = true)]
    is_test: Option<bool>,
    /// Google's click id: kept as the submission's `gclid`.
    #[schema(
        example = "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789-AaBbCcDdEe"
    )]
    gcl_id: Option<String>,
}

/// One answer of the form: a standard column (`FULL_NAME`, `FIRST_NAME`, `LAST_NAME`,
/// `PHONE_NUMBER`, `EMAIL`, `POSTAL_CODE`…) or a custom question.
#[derive(Deserialize, ToSchema)]
pub struct GoogleColumn {
    #[schema(example = "FULL_NAME")]
    column_id: Option<String>,
    /// The question's text; Google does not always send it.
    #[schema(example = "Full Name")]
    column_name: Option<String>,
    #[schema(example = "FirstName LastName")]
    string_value: Option<String>,
}

/// Google only needs a `200`; the id is for support.
#[derive(Serialize, ToSchema)]
pub struct GoogleLeadReceived {
    /// The submission the lead was recorded as (the same for a redelivery).
    id: Uuid,
}

const BAD_KEY: &str = "The `google_key` does not match this lead source's key, or the source is \
    disabled or deleted.";

/// Receive a Google Ads lead
///
/// The webhook URL of a `google_ads` source, pasted into the Google Ads lead form with the
/// source's key. Google's `google_key` must be that key (checked in constant time), else `401`;
/// a disabled source answers `401` too, an unknown or deleted one `404`. The lead is recorded like any enquiry
/// (phone normalised, joined to a recent lead from the same number, contact deadline, crisis
/// care, the per-number limit; the per-address limit does not apply to Google's servers) and
/// attributed to the source: `gcl_id` becomes `gclid`, the source's default `utm_*` values
/// apply, form, campaign, ad group and creative ids are kept on the submission. Columns Beacon
/// has no field for (custom questions, postal code) are kept on the submission as its
/// `custom_answers`; the answers to the source's `interests_question` fill the interests. A
/// `lead_id` already recorded for the source is answered the same way and written again
/// nowhere. `is_test` leads are stored as test leads: hidden from the lead list and statistics
/// unless asked for, never joined to real leads, never sent to webhooks. A lead without a
/// name or a valid phone number is a `422` (the form must ask for both).
#[utoipa::path(
    tag = "lead sources",
    params(("id" = Uuid, Path, description = "The `google_ads` source's id")),
    request_body(content = GoogleLead, example = json!({
        "lead_id": "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789-AaBbCcDdEe",
        "user_column_data": [
            {"column_name": "Full Name", "string_value": "FirstName LastName", "column_id": "FULL_NAME"},
            {"column_name": "User Phone", "string_value": "+16505550123", "column_id": "PHONE_NUMBER"},
            {"column_name": "User Email", "string_value": "test@example.com", "column_id": "EMAIL"}
        ],
        "api_version": "1.0", "form_id": 40000000000_i64, "campaign_id": 20000000000_i64,
        "google_key": "c2VjcmV0LWtleS1zaG93bi1vbmNlLXh4eHg", "is_test": true,
        "gcl_id": "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789-AaBbCcDdEe",
        "adgroup_id": 30000000000_i64, "creative_id": 50000000000_i64
    })),
    responses(
        (status = 200, description = "Recorded, or recorded already", body = GoogleLeadReceived,
            example = json!({"id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a80"})),
        (status = 401, description = "A missing or wrong `google_key`, or a disabled source"),
        (status = 404, description = "No `google_ads` source has this id (or it was deleted)"),
    ),
)]
#[post("/lead-sources/{id}/google-ads")]
pub async fn receive_google_lead(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: Json<GoogleLead>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let body = body.0;
    let presented = body.google_key.clone().unwrap_or_default();
    let lead = body.into_external();
    let received = Utc::now();
    let keys = state.keys()?.clone();
    let task_state = state.clone();
    let delivery = db::run(&state.pool, move |conn| {
        // An unknown id is a 404, as on the Meta callback: ids are random, so it tells a
        // guesser nothing, and it keeps 401 for what Google can fix (its key).
        let source =
            lead_sources::for_webhook(conn, id, SourceKind::GoogleAds)?.ok_or(Error::NotFound)?;
        if !(source.enabled && lead_sources::google_key_matches(&source, &presented)) {
            return Err(Error::Unauthorized(BAD_KEY));
        }
        external_leads::record(
            conn,
            &task_state.settings.leads,
            &keys.suppression,
            &source.source,
            lead,
            received,
        )
    })
    .await?;
    match &delivery {
        Delivery::Recorded {
            submission_id,
            recorded,
        } => tracing::info!(
            lead_source_id = %id,
            lead_id = %recorded.lead_id,
            submission_id = %submission_id,
            duplicate = recorded.duplicate,
            quarantined = recorded.quarantined(),
            "google ads lead received"
        ),
        Delivery::Redelivered { submission_id } => tracing::info!(
            lead_source_id = %id,
            submission_id = %submission_id,
            "google ads lead redelivered"
        ),
    }
    Ok(HttpResponse::Ok().json(GoogleLeadReceived {
        id: delivery.submission_id(),
    }))
}

impl GoogleLead {
    /// The lead in the platform-neutral shape: standard columns to their fields, the rest
    /// kept as answers.
    fn into_external(self) -> ExternalLead {
        let mut lead = ExternalLead {
            external_id: self.lead_id.unwrap_or_default(),
            is_test: self.is_test.unwrap_or(false),
            attribution: ExternalAttribution {
                gclid: self.gcl_id.filter(|gclid| !gclid.trim().is_empty()),
                campaign_id: id_text(self.campaign_id),
                adgroup_id: id_text(self.adgroup_id),
                creative_id: id_text(self.creative_id),
                form_id: id_text(self.form_id),
                api_version: self.api_version,
                ..ExternalAttribution::default()
            },
            ..ExternalLead::default()
        };
        for column in self.user_column_data {
            let Some(value) = column.string_value else {
                continue;
            };
            let column_id = column.column_id.unwrap_or_default();
            let field = match column_id.to_ascii_uppercase().as_str() {
                "FULL_NAME" => &mut lead.full_name,
                "FIRST_NAME" => &mut lead.first_name,
                "LAST_NAME" => &mut lead.last_name,
                "PHONE_NUMBER" => &mut lead.phone,
                "EMAIL" => &mut lead.email,
                "POSTAL_CODE" => &mut lead.postal_code,
                _ => {
                    let key = (!column_id.is_empty()).then_some(column_id);
                    lead.answers.push(CustomAnswer {
                        question: column
                            .column_name
                            .or_else(|| key.clone())
                            .unwrap_or_default(),
                        key,
                        answer: value,
                    });
                    continue;
                }
            };
            field.get_or_insert(value);
        }
        lead
    }
}

/// Google's ids are 64-bit numbers; some senders quote them.
fn id_text(value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::Number(number) => Some(number.to_string()),
        serde_json::Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        _ => None,
    }
}
