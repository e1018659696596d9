//! `POST /v1/leads`: public intake of enquiries from web forms, landing pages, ad platforms and
//! form builders. Nothing personal is ever logged here: only lead ids.

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use phonenumber::country;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::db;
use crate::domain::api_key::Caller;
use crate::domain::client::Client;
use crate::domain::crisis;
use crate::domain::email::Email;
use crate::domain::idempotency::IdempotencyKey as HeaderKey;
use crate::domain::lead;
use crate::domain::phone::E164Phone;
use crate::domain::slug::Slug;
use crate::domain::text;
use crate::error::{Error, FieldError, Problem};
use crate::routes::auth::MaybeCaller;
use crate::routes::client::client;
use crate::routes::extract::{self, JsonOrFormBytes};
use crate::routes::state::AppState;
use crate::services::lead_sources::{self, IntakeSource};
use crate::services::leads::{
    self, Attribution, Consent, IdempotencyKey, NewLead, Receipt, StoredResponse, Submitted,
};

const MESSAGE_MAX_CHARS: usize = 2_000;
const CONTACT_TIME_MAX_CHARS: usize = 100;
const CONSENT_VERSION_MAX_CHARS: usize = 100;
const UTM_MAX_CHARS: usize = 200;
const MAX_INTERESTS: usize = 20;
const IDEMPOTENCY_KEY: &str = "idempotency-key";
const IDEMPOTENCY_KEY_POINTER: &str = "#/header/Idempotency-Key";
/// Set to `true` on an answer replayed for an `Idempotency-Key`.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

mod form;

pub fn configure(config: &mut ServiceConfig) {
    config.service(create_lead);
}

/// An enquiry. Fields not listed here are ignored, so server-owned fields (`id`, `status`,
/// `priority`, `contact_by`, `created_at`) cannot be set. Blank optional fields count as absent.
#[derive(Deserialize, ToSchema)]
pub struct LeadRequest {
    /// 1–200 characters.
    #[schema(example = "Jane Doe")]
    name: String,
    /// As typed; numbers without a country code are read in the clinic's region (US by default).
    #[schema(example = "(415) 555-2671")]
    phone: String,
    #[schema(example = "jane@example.com")]
    email: Option<String>,
    /// Codes from `GET /v1/interests`, at most 20.
    #[schema(example = json!(["treatment_resistant_depression"]))]
    interests: Option<Vec<String>>,
    /// Up to 2000 characters.
    #[schema(example = "I have tried three medications without success.")]
    message: Option<String>,
    /// Free text, up to 100 characters.
    #[schema(example = "Weekday mornings")]
    preferred_contact_time: Option<String>,
    consent: Option<ConsentRequest>,
    /// When the form was shown (the browser's clock, RFC 3339). Forms sent sooner after it than
    /// a person could fill them in are quarantined as spam.
    #[schema(example = "2026-03-10T14:58:41Z")]
    #[serde(default, deserialize_with = "crate::domain::instant::optional")]
    form_rendered_at: Option<DateTime<Utc>>,
    #[schema(example = "google")]
    utm_source: Option<String>,
    #[schema(example = "cpc")]
    utm_medium: Option<String>,
    #[schema(example = "trd-spring")]
    utm_campaign: Option<String>,
    #[schema(example = "ketamine therapy")]
    utm_term: Option<String>,
    #[schema(example = "ad-variant-b")]
    utm_content: Option<String>,
    /// Google Ads click id.
    gclid: Option<String>,
    /// Meta click id.
    fbclid: Option<String>,
    /// The page before the landing page: an absolute http(s) URL.
    #[schema(example = "https://www.google.com/")]
    referrer: Option<String>,
    /// Where the visit began: an absolute http(s) URL.
    #[schema(example = "https://clinic.example/ketamine-for-depression?utm_source=google")]
    landing_page: Option<String>,
    /// The article the enquiry came from.
    #[schema(example = "ketamine-for-depression")]
    article_slug: Option<String>,
}

/// An enquiry from a plain HTML form: the fields of the JSON body, flat.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the form body, which `form::read` reads field by field
pub struct LeadForm {
    #[schema(example = "Jane Doe")]
    name: String,
    #[schema(example = "(415) 555-2671")]
    phone: String,
    email: Option<String>,
    /// Repeated, one per ticked interest.
    interests: Option<Vec<String>>,
    message: Option<String>,
    preferred_contact_time: Option<String>,
    /// The consent box: `on` when ticked, absent when not.
    #[schema(example = "on")]
    consent: Option<String>,
    /// Hidden: the wording shown beside the box. Sent, it records the consent answer.
    consent_text: Option<String>,
    /// Hidden: the form's version.
    consent_version: Option<String>,
    /// Hidden: the page the wording was shown on.
    consent_page_url: Option<String>,
    /// Hidden: when the form was shown (RFC 3339); blank counts as absent.
    form_rendered_at: Option<String>,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    utm_term: Option<String>,
    utm_content: Option<String>,
    gclid: Option<String>,
    fbclid: Option<String>,
    referrer: Option<String>,
    landing_page: Option<String>,
    article_slug: Option<String>,
    /// Where a browser goes after: used only when its origin is in `BEACON_CORS_ORIGINS`.
    redirect: Option<String>,
}

/// Consent as shown on the form. `agreed: false` is recorded as "do not call for marketing";
/// the enquiry itself is still taken.
#[derive(Deserialize, ToSchema)]
pub struct ConsentRequest {
    #[schema(example = true)]
    agreed: bool,
    /// The exact wording shown next to the checkbox; up to 5000 characters. Stored with its
    /// SHA-256.
    #[schema(example = "I agree that the clinic may call and text me about treatment.")]
    text: String,
    /// The form's version, to find the wording later; up to 100 characters.
    #[schema(example = "2026-03")]
    version: Option<String>,
    /// The page the wording was shown on; defaults to `landing_page`, then the `Referer` header.
    #[schema(example = "https://clinic.example/ketamine-for-depression")]
    page_url: Option<String>,
}

/// The receipt of an enquiry. It depends only on this request and the clock: the same fields
/// for a first enquiry, a repeat from a known number and quarantined spam, and nothing of the
/// person's data is echoed.
#[derive(Serialize, ToSchema)]
pub struct LeadAccepted {
    /// This submission's id (the receipt), a new one for every enquiry; never the lead's.
    #[schema(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81")]
    id: Uuid,
    /// When the clinic will have called by, per its business calendar, counted from when this
    /// enquiry arrived.
    #[schema(example = "2026-03-11T14:00:00Z")]
    contact_by: DateTime<Utc>,
    /// Present exactly when this enquiry's interests include `suicidal_ideation`: show it at
    /// once.
    #[serde(skip_serializing_if = "Option::is_none")]
    crisis_resources: Option<CrisisResources>,
}

/// Help available right now, for the page to show before anything else.
#[derive(Serialize, ToSchema)]
#[schema(example = json!(crisis::CrisisResources::us_default()))]
pub struct CrisisResources {
    /// Shown first, above the list.
    message: String,
    resources: Vec<CrisisResource>,
}

/// One way to get help.
#[derive(Serialize, ToSchema)]
pub struct CrisisResource {
    /// What to show, e.g. "Call or text 988".
    label: String,
    /// A link the page can make the label into: `tel:`, `sms:` or `https:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    href: Option<String>,
}

impl From<&crisis::CrisisResources> for CrisisResources {
    fn from(configured: &crisis::CrisisResources) -> Self {
        CrisisResources {
            message: configured.message.clone(),
            resources: configured
                .resources
                .iter()
                .map(|resource| CrisisResource {
                    label: resource.label.clone(),
                    href: resource.href.clone(),
                })
                .collect(),
        }
    }
}

/// Submit an enquiry
///
/// Records an enquiry from a web form and answers `201` with a receipt: the submission's own
/// id and `contact_by`, the time by which the clinic will call (per its business calendar,
/// from this enquiry's arrival). Public: no key. The answer depends only on the request and
/// the clock: a first enquiry, a repeat from a number the clinic already knows and
/// quarantined spam all get the same fields, so nobody learns from it whether a number has
/// enquired before or what it said. A repeat within the dedupe window joins the number's lead
/// without changing its name, email or consent; staff see it through the keyed API. When
/// `interests` includes `suicidal_ideation` the answer carries `crisis_resources` to show at
/// once. An `Idempotency-Key` (a UUID, say) makes retries safe: the same key with the same JSON
/// replays the first answer with `Idempotent-Replayed: true`; the same key with other JSON is
/// another request, recorded on its own; a retry while the first attempt is still running is a
/// 409. Keys are kept 24 hours. Unknown fields are ignored.
///
/// A plain HTML form may post `application/x-www-form-urlencoded` with the same fields
/// (`interests` repeated, the box `consent=on` beside hidden `consent_text` and
/// `consent_version`). A client ranking `text/html` above JSON in `Accept` (a browser) is
/// answered `303 See Other` to `BEACON_FORM_THANKS_URL`, or to the form's `redirect` field when
/// its origin is in `BEACON_CORS_ORIGINS` (any other is ignored); when the enquiry reports
/// suicidal thoughts, to `BEACON_FORM_CRISIS_URL`. With no page configured Beacon answers `200`
/// with a small page of its own (the crisis resources first). Invalid fields are a `422` HTML
/// page listing each problem; a form refused as a whole (`409`, `413`, `429`) gets a page saying
/// why and when to try again, with the same status. Other clients get the JSON answers below,
/// whatever the body type.
///
/// Tools posting for a lead source send its `leads:create` key: the lead is attributed to the
/// source and takes its default `utm_*` values where it has none; the per-address limit does not
/// apply. A key without `leads:create` is ignored.
#[utoipa::path(
    tag = "leads",
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Makes retries of the same body safe; up to 255 visible ASCII characters, \
            e.g. a UUID")),
    request_body(content(
        (LeadRequest = "application/json", example = json!({
        "name": "Jane Doe",
        "phone": "(415) 555-2671",
        "email": "jane@example.com",
        "interests": ["treatment_resistant_depression", "ptsd"],
        "message": "I have tried three medications without success.",
        "preferred_contact_time": "Weekday mornings",
        "consent": {
            "agreed": true,
            "text": "I agree that the clinic may call and text me about treatment.",
            "version": "2026-03"
        },
        "form_rendered_at": "2026-03-10T14:58:41Z",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "trd-spring",
        "landing_page": "https://clinic.example/ketamine-for-depression?utm_source=google",
        "article_slug": "ketamine-for-depression"
    })),
        (LeadForm = "application/x-www-form-urlencoded", example = json!({
            "name": "Jane Doe",
            "phone": "(415) 555-2671",
            "interests": ["treatment_resistant_depression", "ptsd"],
            "consent": "on",
            "consent_text": "I agree that the clinic may call and text me about treatment.",
            "consent_version": "2026-03",
            "form_rendered_at": "2026-03-10T14:58:41Z",
            "redirect": "https://clinic.example/thanks"
        })),
    )),
    responses(
        (status = 201, description = "The enquiry was recorded; the receipt is the same for a \
            first enquiry, a repeat and spam", body = LeadAccepted,
            headers(("Idempotent-Replayed" = String, description = "`true` on a replayed answer")),
            examples(
                ("enquiry" = (value = json!({
                    "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81",
                    "contact_by": "2026-03-11T14:00:00Z"
                }))),
                ("crisis" = (value = json!({
                    "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a82",
                    "contact_by": "2026-03-11T14:00:00Z",
                    "crisis_resources": crisis::CrisisResources::us_default()
                }))),
            )),
        (status = 409, description = "A request with this `Idempotency-Key` and body is still \
            being processed; retry it shortly. A browser's form gets an HTML page saying so",
            content((Problem = "application/problem+json"), (String = "text/html"))),
        (status = 413, description = "The body exceeds the configured limit. A browser's form \
            gets an HTML page asking for a shorter message",
            content((Problem = "application/problem+json"), (String = "text/html"))),
        (status = 422, description = "One or more fields are invalid; `errors` lists each. A \
            browser's form gets an HTML page listing each problem",
            content((Problem = "application/problem+json"), (String = "text/html"))),
        (status = 429, description = "Too many enquiries from this network (per minute). \
            Enquiries beyond a number's hourly limit are not refused (a refusal would tell \
            anyone that the number had been used): they are kept in quarantine and answered \
            with the same 201. A browser's form gets an HTML page saying when to try again",
            content((Problem = "application/problem+json"), (String = "text/html")),
            headers(("Retry-After" = u64, description = "Seconds until the limit resets"))),
        (status = 200, description = "A browser's enquiry was recorded and no thank-you (or \
            crisis) page is configured: Beacon's own page", content_type = "text/html",
            body = String, example = json!("<!doctype html>\n<html lang=\"en\">…<h1>Thank you</h1>…")),
        (status = 303, description = "A browser's enquiry was recorded: to the thank-you page, \
            or the crisis page", headers(("Location" = String, description = "The page"))),
        (status = 401, description = "An `Authorization` header with an unknown or revoked key"),
        (status = 403, description = "A lead source's `leads:create` key whose source is \
            disabled, or that belongs to no source"),
    ),
    security(("api_key" = ["leads:create"]), ()),
)]
#[post("/leads")]
pub async fn create_lead(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Result<JsonOrFormBytes, Error>,
) -> Result<HttpResponse, Error> {
    let html = prefers_html(&req);
    let settings = &state.settings;
    let configured_back = || {
        settings
            .leads
            .form_thanks_url
            .as_deref()
            .and_then(form::origin_of)
    };
    let body = match body {
        Ok(body) => body,
        Err(error) if html => {
            return form::refused(&error, configured_back().as_deref()).ok_or(error);
        }
        Err(error) => return Err(error),
    };
    let (json, redirect) = match body {
        JsonOrFormBytes::Json(bytes) => (bytes, None),
        JsonOrFormBytes::Form(bytes) => {
            let form = form::read(&bytes);
            let json = serde_json::to_vec(&form.document).map_err(Error::internal)?;
            (web::Bytes::from(json), form.redirect)
        }
    };
    let received = intake(&req, &state, &json).await;
    if !html {
        let (response, replayed) = received?;
        return respond(response, replayed);
    }
    let redirect = redirect.and_then(|url| form::allowed_redirect(&url, &settings.cors_origins));
    let back = redirect
        .as_deref()
        .and_then(form::origin_of)
        .or_else(configured_back);
    match received {
        Ok((response, _)) => Ok(form::answer(
            &settings.leads,
            response.body.get("crisis_resources").is_some(),
            redirect,
            back.as_deref(),
        )),
        Err(Error::Validation(errors)) => Ok(form::errors(&errors, back.as_deref())),
        Err(error) => form::refused(&error, back.as_deref()).ok_or(error),
    }
}

/// Records the enquiry in `json`: its stored answer, and whether it was replayed.
async fn intake(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    json: &[u8],
) -> Result<(StoredResponse, bool), Error> {
    let caller = source_caller(req).await?;
    let key = idempotency_key(req)?;
    let request = ParsedBody::parse(json)?;
    let settings = &state.settings.leads;
    let honeypot_filled = request.has_filled(&settings.honeypot_field);
    let new_lead = NewLead {
        client: client(req, &settings.trusted_proxies),
        ..request
            .lead
            .validate(settings.default_region, honeypot_filled)?
    };
    let idempotency = key.map(|key| IdempotencyKey {
        key,
        request_sha256: request.sha256,
    });
    let received = Utc::now();

    let keys = state.keys()?.clone();
    let task_state = state.clone();
    let submitted = db::run(&state.pool, move |conn| {
        let crisis = &task_state.settings.leads.crisis_resources;
        let new_lead = match caller {
            Some(caller) => from_source(lead_sources::for_caller(conn, &caller)?, new_lead),
            None => new_lead,
        };
        leads::submit(
            conn,
            &task_state.settings.leads,
            &keys.suppression,
            new_lead,
            idempotency,
            received,
            |receipt| render(receipt, crisis),
        )
    })
    .await?;

    match submitted {
        Submitted::New { recorded, response } => {
            let submission_id = response.body["id"].as_str().unwrap_or_default().to_owned();
            tracing::info!(
                lead_id = %recorded.lead_id,
                submission_id = %submission_id,
                duplicate = recorded.duplicate,
                quarantined = recorded.quarantined(),
                "lead received"
            );
            Ok((response, false))
        }
        Submitted::Replayed(response) => {
            let submission_id = response.body["id"].as_str().unwrap_or_default().to_owned();
            tracing::info!(submission_id = %submission_id, "lead request replayed");
            Ok((response, true))
        }
    }
}

/// The `leads:create` key a source's tool posts with. A key without that scope is not a
/// source's and is ignored, so a site that sends its own key along keeps today's answers; an
/// unknown or revoked key is still a 401.
async fn source_caller(req: &HttpRequest) -> Result<Option<Caller>, Error> {
    match MaybeCaller::extract(req).await {
        Ok(MaybeCaller(caller)) => Ok(caller),
        Err(Error::Forbidden(_)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Whether the client ranks `text/html` above JSON in `Accept`, as a browser submitting a
/// form does. No `Accept`, `*/*` or a tie is JSON.
fn prefers_html(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let (mut html, mut json) = (0.0_f32, 0.0_f32);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let mime = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .find_map(|param| param.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .filter(|q| (0.0..=1.0).contains(q))
            .unwrap_or(1.0);
        match mime.as_str() {
            "text/html" => html = html.max(quality),
            "application/json" | "application/problem+json" => json = json.max(quality),
            _ => {}
        }
    }
    html > json
}

/// A lead posted with a source's key: attributed to it, with its default UTM values wherever
/// the lead carries none of its own.
fn from_source(source: IntakeSource, mut lead: NewLead) -> NewLead {
    let attribution = &mut lead.attribution;
    source.defaults.fill(
        &mut attribution.utm_source,
        &mut attribution.utm_medium,
        &mut attribution.utm_campaign,
    );
    lead.source = Some(source.id);
    lead
}

/// The receipt as the sender sees it: built from this submission's facts alone.
fn render(receipt: &Receipt, crisis: &crisis::CrisisResources) -> Result<StoredResponse, Error> {
    let body = LeadAccepted {
        id: receipt.id,
        contact_by: receipt.contact_by,
        crisis_resources: receipt.crisis.then(|| CrisisResources::from(crisis)),
    };
    Ok(StoredResponse {
        status: StatusCode::CREATED.as_u16(),
        body: serde_json::to_value(body).map_err(Error::internal)?,
    })
}

fn respond(response: StoredResponse, replayed: bool) -> Result<HttpResponse, Error> {
    let status = StatusCode::from_u16(response.status).map_err(Error::internal)?;
    let mut builder = HttpResponse::build(status);
    if replayed {
        builder.insert_header((IDEMPOTENT_REPLAYED, "true"));
    }
    Ok(builder.json(response.body))
}

/// The optional `Idempotency-Key`: once, 1–255 visible ASCII characters.
fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, Error> {
    let mut values = req.headers().get_all(IDEMPOTENCY_KEY);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Error::invalid(IDEMPOTENCY_KEY_POINTER, "must be sent once"));
    }
    let key = HeaderKey::parse(value.to_str().unwrap_or_default())
        .map_err(|e| Error::invalid(IDEMPOTENCY_KEY_POINTER, e))?;
    Ok(Some(key.into()))
}

/// The body read twice: as the typed request (for its field errors), and as a JSON document for
/// what the type does not hold: the honeypot and the canonical hash.
struct ParsedBody {
    lead: LeadRequest,
    document: serde_json::Map<String, serde_json::Value>,
    /// Of the canonical JSON (keys sorted, no whitespace), so a retry that formats the same
    /// data differently still matches its idempotency key.
    sha256: [u8; 32],
}

impl ParsedBody {
    fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let lead: LeadRequest = extract::parse(bytes)?;
        let document: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(bytes)
            .map_err(|e| Error::BadRequest(format!("The body is not valid JSON: {e}.")))?;
        let canonical = serde_json::to_vec(&document).map_err(Error::internal)?;
        Ok(Self {
            lead,
            document,
            sha256: Sha256::digest(&canonical).into(),
        })
    }

    /// Whether the hidden field holds anything a person could have typed or ticked.
    fn has_filled(&self, field: &str) -> bool {
        use serde_json::Value;
        match self.document.get(field) {
            None | Some(Value::Null | Value::Bool(false)) => false,
            Some(Value::String(value)) => !value.trim().is_empty(),
            Some(Value::Array(items)) => !items.is_empty(),
            Some(Value::Object(fields)) => !fields.is_empty(),
            Some(_) => true,
        }
    }
}

impl LeadRequest {
    /// Every invalid field is reported at once, each with its pointer.
    fn validate(self, region: country::Id, honeypot_filled: bool) -> Result<NewLead, Error> {
        let mut fields = Fields::default();
        let name = fields.check("/name", text::single_line(&self.name, lead::NAME_MAX_CHARS));
        let phone = fields.check("/phone", E164Phone::parse(&self.phone, region));
        let email = fields.optional("/email", self.email.as_deref(), Email::parse);
        let interests = fields.interests(self.interests.unwrap_or_default());
        let message = fields.optional("/message", self.message.as_deref(), |value| {
            text::multi_line(value, MESSAGE_MAX_CHARS)
        });
        let preferred_contact_time = fields.optional(
            "/preferred_contact_time",
            self.preferred_contact_time.as_deref(),
            |value| text::single_line(value, CONTACT_TIME_MAX_CHARS),
        );
        let consent = self.consent.map(|consent| Consent {
            agreed: consent.agreed,
            wording: fields
                .check(
                    "/consent/text",
                    text::multi_line(&consent.text, lead::CONSENT_TEXT_MAX_CHARS),
                )
                .unwrap_or_default(),
            version: fields.optional("/consent/version", consent.version.as_deref(), |value| {
                text::single_line(value, CONSENT_VERSION_MAX_CHARS)
            }),
            page_url: fields.optional(
                "/consent/page_url",
                consent.page_url.as_deref(),
                text::http_url,
            ),
        });
        let utm = |fields: &mut Fields, pointer: &str, value: Option<String>| {
            fields.optional(pointer, value.as_deref(), |value| {
                text::single_line(value, UTM_MAX_CHARS)
            })
        };
        let click_id = |fields: &mut Fields, pointer: &str, value: Option<String>| {
            fields.optional(pointer, value.as_deref(), |value| {
                text::single_line(value, lead::CLICK_ID_MAX_CHARS)
            })
        };
        let attribution = Attribution {
            utm_source: utm(&mut fields, "/utm_source", self.utm_source),
            utm_medium: utm(&mut fields, "/utm_medium", self.utm_medium),
            utm_campaign: utm(&mut fields, "/utm_campaign", self.utm_campaign),
            utm_term: utm(&mut fields, "/utm_term", self.utm_term),
            utm_content: utm(&mut fields, "/utm_content", self.utm_content),
            gclid: click_id(&mut fields, "/gclid", self.gclid),
            fbclid: click_id(&mut fields, "/fbclid", self.fbclid),
            referrer: fields.optional("/referrer", self.referrer.as_deref(), text::http_url),
            landing_page: fields.optional(
                "/landing_page",
                self.landing_page.as_deref(),
                text::http_url,
            ),
            article_slug: fields.optional("/article_slug", self.article_slug.as_deref(), |value| {
                Slug::parse(value.trim()).map(|slug| slug.as_str().to_owned())
            }),
        };
        match (name, phone) {
            (Some(name), Some(phone)) if fields.0.is_empty() => Ok(NewLead {
                name,
                phone_input: self.phone.trim().to_owned(),
                phone,
                email,
                interests,
                message,
                preferred_contact_time,
                consent,
                attribution,
                rendered_at: self.form_rendered_at,
                honeypot_filled,
                // The route fills in who sent it, and for which source.
                client: Client::default(),
                source: None,
                external: None,
                test: false,
            }),
            _ => Err(Error::Validation(fields.0)),
        }
    }
}

/// Field errors collected while validating a body.
#[derive(Default)]
struct Fields(Vec<FieldError>);

impl Fields {
    fn check<T, E: std::fmt::Display>(&mut self, pointer: &str, result: Result<T, E>) -> Option<T> {
        result
            .map_err(|error| self.0.push(FieldError::new(pointer, error)))
            .ok()
    }

    /// Absent and blank values are `None` without an error: forms send empty fields.
    fn optional<T, E: std::fmt::Display>(
        &mut self,
        pointer: &str,
        value: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let value = value.filter(|value| !value.trim().is_empty())?;
        self.check(pointer, parse(value))
    }

    /// Well-formed codes, trimmed; whether each exists is checked against the database later.
    fn interests(&mut self, codes: Vec<String>) -> Vec<String> {
        if codes.len() > MAX_INTERESTS {
            self.0.push(FieldError::new(
                "/interests",
                format!("must list at most {MAX_INTERESTS} interests"),
            ));
            return Vec::new();
        }
        codes
            .iter()
            .enumerate()
            .filter_map(|(i, code)| {
                let code = lead::interest_code(code)
                    .map_err(|_| "is not a known interest; GET /v1/interests lists them");
                self.check(&format!("/interests/{i}"), code)
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use serde_json::json;

    fn validate(body: serde_json::Value) -> Result<NewLead, Vec<FieldError>> {
        let request: LeadRequest = serde_json::from_value(body).unwrap();
        request
            .validate(country::US, false)
            .map_err(|error| match error {
                Error::Validation(errors) => errors,
                other => panic!("expected field errors, got {other:?}"),
            })
    }

    fn pointers(body: serde_json::Value) -> Vec<String> {
        validate(body)
            .unwrap_err()
            .into_iter()
            .map(|e| e.pointer)
            .collect()
    }

    #[test]
    fn the_documented_fields_are_exactly_the_form_fields_a_honeypot_must_avoid() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(LeadRequest::schema()).unwrap();
        let mut documented: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut known = lead::FORM_FIELDS.to_vec();
        documented.sort_unstable();
        known.sort_unstable();
        assert_eq!(documented, known);
    }

    #[test]
    fn a_minimal_enquiry_is_a_name_and_a_phone() {
        let lead = validate(json!({"name": " Jane ", "phone": "415.555.2671"})).unwrap();
        assert_eq!(lead.name, "Jane");
        assert_eq!(lead.phone.as_str(), "+14155552671");
        assert_eq!(lead.phone_input, "415.555.2671");
        assert!(lead.email.is_none() && lead.consent.is_none() && lead.interests.is_empty());
    }

    #[test]
    fn blank_optional_fields_count_as_absent() {
        let lead = validate(json!({
            "name": "Jane", "phone": "4155552671", "email": "", "message": "  ",
            "utm_source": "", "referrer": "", "landing_page": " ", "article_slug": "",
            "preferred_contact_time": null
        }))
        .unwrap();
        assert!(lead.email.is_none() && lead.message.is_none());
        assert!(lead.attribution.utm_source.is_none() && lead.attribution.referrer.is_none());
        assert!(lead.attribution.landing_page.is_none());
        assert!(lead.attribution.article_slug.is_none());
    }

    #[test]
    fn every_invalid_field_is_reported_with_its_pointer() {
        assert_eq!(
            pointers(json!({
                "name": "", "phone": "555-1234", "email": "jane@", "message": "a\u{0}b",
                "preferred_contact_time": "x".repeat(101),
                "interests": ["ptsd", "Not A Code"],
                "consent": {"agreed": true, "text": " ", "version": "v\n1", "page_url": "ftp://x"},
                "utm_source": "x".repeat(201), "gclid": "a\tb",
                "referrer": "javascript:alert(1)", "landing_page": "/relative",
                "article_slug": "Not A Slug"
            })),
            [
                "/name",
                "/phone",
                "/email",
                "/interests/1",
                "/message",
                "/preferred_contact_time",
                "/consent/text",
                "/consent/version",
                "/consent/page_url",
                "/utm_source",
                "/gclid",
                "/referrer",
                "/landing_page",
                "/article_slug",
            ]
        );
    }

    #[test]
    fn more_than_twenty_interests_are_refused_as_a_whole() {
        let many: Vec<String> = (0..21).map(|i| format!("code_{i}")).collect();
        assert_eq!(
            pointers(json!({"name": "Jane", "phone": "4155552671", "interests": many})),
            ["/interests"]
        );
    }

    #[test]
    fn a_declined_consent_is_kept_not_refused() {
        let lead = validate(json!({
            "name": "Jane", "phone": "4155552671",
            "consent": {"agreed": false, "text": "I agree to marketing calls."}
        }))
        .unwrap();
        let consent = lead.consent.unwrap();
        assert!(!consent.agreed);
        assert_eq!(consent.wording, "I agree to marketing calls.");
    }

    #[test]
    fn debug_output_of_a_lead_shows_nothing_personal() {
        let lead = validate(json!({
            "name": "Jane Doe", "phone": "4155552671", "email": "jane@example.com",
            "message": "private", "interests": ["suicidal_ideation"]
        }))
        .unwrap();
        let debug = format!("{lead:?}");
        for secret in ["Jane", "555", "jane@", "private", "suicidal"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }
}
