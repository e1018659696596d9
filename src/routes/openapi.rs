//! The OpenAPI document: the fixed parts here, the paths collected from the registered routes.
//! Shared by the server, `beacon openapi` and the drift test, so all three agree.

use actix_web::App;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{
    Content, ContentBuilder, OpenApi as Document, Paths, PathsBuilder, Ref, RefOr, Required,
    Response, ResponseBuilder,
};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::domain::event::EventType;
use crate::error::{FieldError, PROBLEM_JSON, Problem};
use crate::routes::events::payloads::{
    ArticleEventDelivery, ArticleEventPayload, LeadEventDelivery, LeadEventPayload,
    LeadPersonalData, WebhookEventDelivery, WebhookEventPayload,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Beacon",
        description = "Headless JSON content and leads API for clinics: published articles for a \
            front-end, enquiries (leads) from web forms, and keyed management of both. Errors are \
            `application/problem+json` (RFC 9457). Conventions: see docs/API.md.",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/", description = "This server")),
    components(schemas(
        Problem,
        FieldError,
        LeadEventPayload,
        ArticleEventPayload,
        WebhookEventPayload,
        WebhookEventDelivery,
        LeadEventDelivery,
        ArticleEventDelivery,
        LeadPersonalData
    )),
    modifiers(&BearerScheme),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "metrics", description = "Prometheus metrics (scope `admin`; or without a key on \
            the separate listener `BEACON_METRICS_ADDR`, when set)"),
        (name = "keys", description = "API keys and their scopes (scope `admin`)"),
        (name = "articles", description = "Published articles for the front-end (no key), and \
            writing, publishing and previewing them (scope `content:write`)"),
        (name = "tags", description = "Tags with their article counts; renamed and deleted with \
            scope `content:write`"),
        (name = "leads", description = "Enquiries from web forms: public intake and opt-out; \
            the queue, its statistics and CSV export (scope `leads:read`, every read of personal \
            data audited); changes along the pipeline (scope `leads:write`); erasure (scope \
            `admin`)"),
        (name = "interests", description = "The conditions lead forms ask about: public to read, \
            managed with scope `admin`"),
        (name = "embed", description = "The `<beacon-lead-form>` web component a clinic's site \
            embeds (no key)"),
        (name = "audit", description = "Who read, exported or erased personal data (scope \
            `admin`)"),
        (name = "events", description = "What changed, in commit-safe order: the outbox the \
            clinic's tools catch up from (scope `admin`)"),
        (name = "webhooks", description = "Subscriptions that receive events as signed HTTP \
            POSTs (scope `admin`)"),
        (name = "lead sources", description = "Where leads come from besides the site's own \
            form: server-to-server tools with a `leads:create` key (scope `admin`)"),
    ),
)]
struct BaseDocument;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(
            "An API key from `beacon keys create` or `POST /v1/keys`, sent as \
             `Authorization: Bearer <key>`. Each operation lists the scope it needs."
                .to_owned(),
        );
        components.add_security_scheme("api_key", SecurityScheme::Http(scheme));
    }
}

/// The complete document, identical whatever the configuration.
pub fn spec() -> Document {
    let (_, mut spec) = App::new()
        .into_utoipa_app()
        .openapi(BaseDocument::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    add_shared_responses(&mut spec);
    spec.webhooks = Some(webhooks());
    spec
}

/// The OpenAPI 3.1 `webhooks`: one entry per event type, the POST Beacon sends a subscription
/// of format `standard`, its body built from the payload schemas so receivers can generate
/// types from it.
fn webhooks() -> Paths {
    let headers = [
        (
            "webhook-id",
            "The event's id: the same on every attempt, so a receiver can drop a repeat",
        ),
        (
            "webhook-timestamp",
            "When this attempt was signed, in Unix seconds",
        ),
        (
            "webhook-signature",
            "`v1,` and the base64 HMAC-SHA256, keyed with the subscription's secret (the \
             base64 after `whsec_`), of `{webhook-id}.{webhook-timestamp}.{body}` (Standard \
             Webhooks); accept the request when any space-separated entry verifies",
        ),
    ];
    EventType::ALL
        .into_iter()
        .fold(PathsBuilder::new(), |paths, kind| {
            let envelope = match kind.as_str().split_once('.').map(|(family, _)| family) {
                Some("lead") => "LeadEventDelivery",
                Some("webhook") => "WebhookEventDelivery",
                _ => "ArticleEventDelivery",
            };
            let this_type = ObjectBuilder::new()
                .property(
                    "type",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([kind.as_str()])),
                )
                .required("type");
            let body = AllOfBuilder::new()
                .item(RefOr::Ref(Ref::from_schema_name(envelope)))
                .item(this_type);
            let mut operation = OperationBuilder::new()
                .operation_id(Some(kind.as_str().replace('.', "_")))
                .summary(Some(format!("`{kind}`")))
                .description(Some(
                    "Sent as a signed POST to each enabled subscription that wants this event \
                     type. Any 2xx answer delivers it; anything else (or no answer within 15 s) \
                     is retried on `BEACON_WEBHOOK_RETRY_SCHEDULE`, honouring `Retry-After` on \
                     429 and 503. Subscriptions of format `slack` get `{\"text\": \"...\"}` \
                     instead, never with personal data.",
                ))
                .tag("webhooks")
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .content(
                            "application/json",
                            ContentBuilder::new().schema(Some(body)).build(),
                        )
                        .required(Some(Required::True))
                        .build(),
                ))
                .response(
                    "2XX",
                    ResponseBuilder::new().description("Received: the delivery is done"),
                );
            for (name, description) in headers {
                operation = operation.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Header)
                        .required(Required::True)
                        .description(Some(description))
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
                );
            }
            paths.path(kind.as_str(), PathItem::new(HttpMethod::Post, operation))
        })
        .build()
}

pub fn to_json(spec: &Document) -> Result<String, serde_json::Error> {
    spec.to_pretty_json().map(|json| json + "\n")
}

/// The error answers every operation can give, added in one place: a handler declares only
/// the errors particular to it. Public operations get an explicit empty `security`.
fn add_shared_responses(spec: &mut Document) {
    let components = spec.components.get_or_insert_with(Default::default);
    for (name, description) in SHARED_RESPONSES {
        components
            .responses
            .insert((*name).to_owned(), RefOr::T(problem_response(description)));
    }
    for (path, item) in spec.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            add_to_operation(operation, path != "/healthz");
        }
    }
}

const SHARED_RESPONSES: &[(&str, &str)] = &[
    (
        "BadRequest",
        "The request could not be parsed (malformed JSON, query string or header)",
    ),
    (
        "Unauthorized",
        "No valid API key was sent (see the `WWW-Authenticate` header)",
    ),
    (
        "Forbidden",
        "The API key lacks the scope this operation needs",
    ),
    ("PayloadTooLarge", "The body exceeds the configured limit"),
    ("UnsupportedMediaType", "The body is not `application/json`"),
    (
        "ValidationFailed",
        "One or more fields are invalid; `errors` lists each",
    ),
    (
        "InternalError",
        "An unexpected error; it was logged with the request id",
    ),
    (
        "ServiceUnavailable",
        "The database is unreachable or not migrated; retry later",
    ),
];

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, problem_content())
        .build()
}

fn problem_content() -> Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build()
}

fn add_to_operation(operation: &mut Operation, uses_database: bool) {
    let keyed = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = operation.request_body.is_some();
    // A malformed query string or header (`If-Match`, say) is a 400 too.
    let has_query_or_header = operation.parameters.as_ref().is_some_and(|params| {
        params.iter().any(|p| {
            matches!(p, RefOr::T(p)
                if matches!(p.parameter_in, ParameterIn::Query | ParameterIn::Header))
        })
    });
    let mut shared = vec![("500", "InternalError")];
    if uses_database {
        shared.push(("503", "ServiceUnavailable"));
    }
    if keyed {
        shared.extend([("401", "Unauthorized"), ("403", "Forbidden")]);
    }
    if has_body || has_query_or_header {
        shared.push(("400", "BadRequest"));
    }
    if has_body {
        shared.extend([
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
            ("422", "ValidationFailed"),
        ]);
    }
    // A handler names its own error statuses with a description; the body is always a Problem.
    for (status, response) in operation.responses.responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let RefOr::T(response) = response
            && is_error
            && response.content.is_empty()
        {
            response
                .content
                .insert(PROBLEM_JSON.to_owned(), RefOr::T(problem_content()));
        }
    }
    for (status, name) in shared {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    }
    if operation.security.is_none() {
        operation.security = Some(Vec::new());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use actix_web::http::Method;

    use super::*;
    use crate::domain::scope::Scope;
    use crate::routes::operations::Operations;

    #[test]
    fn every_event_type_is_a_webhook_with_its_payload_and_the_signature_headers() {
        let json = serde_json::to_value(spec()).unwrap();
        let webhooks = json["webhooks"].as_object().unwrap();
        assert_eq!(webhooks.len(), EventType::ALL.len());
        for kind in EventType::ALL {
            let post = &webhooks[kind.as_str()]["post"];
            let body = &post["requestBody"]["content"]["application/json"]["schema"]["allOf"];
            let envelope = match kind.as_str().split('.').next() {
                Some("lead") => "#/components/schemas/LeadEventDelivery",
                Some("webhook") => "#/components/schemas/WebhookEventDelivery",
                _ => "#/components/schemas/ArticleEventDelivery",
            };
            assert_eq!(body[0]["$ref"], envelope, "{kind}");
            assert_eq!(
                body[1]["properties"]["type"]["enum"],
                serde_json::json!([kind.as_str()])
            );
            let headers: Vec<&str> = post["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(
                headers,
                ["webhook-id", "webhook-timestamp", "webhook-signature"]
            );
        }
        for schema in [
            "LeadEventDelivery",
            "ArticleEventDelivery",
            "LeadPersonalData",
        ] {
            assert!(
                json["components"]["schemas"][schema].is_object(),
                "{schema}"
            );
        }
    }

    #[test]
    fn every_documented_security_is_one_beacon_can_enforce() {
        let operations = Operations::from_spec(&spec()).unwrap();
        assert_eq!(
            operations.required_scope(&Method::GET, "/v1/leads/{id}"),
            Some(Scope::LeadsRead)
        );
        // Public, with an optional key: sent, it must carry the scope.
        assert_eq!(
            operations.required_scope(&Method::POST, "/v1/leads"),
            Some(Scope::LeadsCreate)
        );
        assert_eq!(
            operations.required_scope(&Method::POST, "/v1/leads/opt-out"),
            None
        );
    }
}
