//! `GET /v1/embed/lead-form.js`: the embeddable form's script, its settings, versions and
//! caching. Its behaviour in a browser is checked by `scripts/check-embed-in-browser.sh`.

use crate::helpers::{TestApp, spawn_app_with};

const CONSENT: &str = "I agree that the clinic may call and text me.";

async fn app() -> TestApp {
    spawn_app_with(|settings| {
        settings.leads.consent = Some(beacon::config::ConsentWording {
            text: CONSENT.to_owned(),
            version: Some("2026-03".to_owned()),
        });
        settings.leads.honeypot_field = "fax_number".to_owned();
    })
    .await
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers()[name].to_str().unwrap()
}

/// The version in an ETag: `"3f2a…"` is `3f2a…`.
fn version_of(etag: &str) -> String {
    etag.trim_matches('"').to_owned()
}

#[actix_web::test]
async fn the_script_defines_the_element_with_this_deployments_consent_and_honeypot() {
    let app = app().await;

    let response = app.get("/v1/embed/lead-form.js").await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(header(&response, "cache-control"), "public, max-age=300");
    let script = response.text().await.unwrap();
    assert!(script.contains("customElements.define(TAG, BeaconLeadForm)"));
    assert!(script.contains(&format!(r#""text":"{CONSENT}","version":"2026-03""#)));
    assert!(script.contains(r#""honeypot":"fax_number""#));
    assert!(!script.contains("__BEACON_CONFIG__"));
}

#[actix_web::test]
async fn the_plain_url_revalidates_with_a_strong_etag_and_answers_304() {
    let app = app().await;
    let first = app.get("/v1/embed/lead-form.js").await;
    let etag = header(&first, "etag").to_owned();

    let again = app
        .client
        .get(app.url("/v1/embed/lead-form.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();

    assert!(!etag.starts_with("W/"), "strong: {etag}");
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "etag"), etag);
    assert_eq!(header(&again, "cache-control"), "public, max-age=300");
    assert!(again.bytes().await.unwrap().is_empty());
}

#[actix_web::test]
async fn the_versioned_url_is_immutable_and_an_old_version_is_sent_to_the_current_script() {
    let app = app().await;
    let plain = app.get("/v1/embed/lead-form.js").await;
    let version = version_of(header(&plain, "etag"));
    let plain = plain.text().await.unwrap();

    let versioned = app.get(&format!("/v1/embed/lead-form.{version}.js")).await;
    let old = app.get("/v1/embed/lead-form.0123456789abcdef.js").await;

    assert_eq!(versioned.status(), 200);
    assert_eq!(
        header(&versioned, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(version_of(header(&versioned, "etag")), version);
    assert_eq!(versioned.text().await.unwrap(), plain);
    assert_eq!(old.status(), 307);
    assert_eq!(header(&old, "location"), "/v1/embed/lead-form.js");
    assert_eq!(header(&old, "cache-control"), "no-store");
}

#[actix_web::test]
async fn another_consent_wording_is_another_version() {
    let with_consent = app().await;
    let without = spawn_app_with(|_| {}).await;

    let a = with_consent.get("/v1/embed/lead-form.js").await;
    let b = without.get("/v1/embed/lead-form.js").await;

    assert_ne!(header(&a, "etag"), header(&b, "etag"));
    assert!(b.text().await.unwrap().contains(r#""consent":null"#));
}

#[actix_web::test]
async fn a_client_accepting_brotli_or_gzip_gets_it_with_its_own_etag() {
    let app = app().await;
    let get = |encoding: &'static str| {
        app.client
            .get(app.url("/v1/embed/lead-form.js"))
            .header("accept-encoding", encoding)
            .send()
    };

    let identity = get("identity").await.unwrap();
    let gzip = get("gzip").await.unwrap();
    let brotli = get("br, gzip").await.unwrap();

    let version = version_of(header(&identity, "etag"));
    assert_eq!(header(&gzip, "content-encoding"), "gzip");
    assert_eq!(header(&gzip, "etag"), format!("\"{version}.gz\""));
    assert_eq!(header(&brotli, "content-encoding"), "br");
    assert!(header(&brotli, "vary").starts_with("Accept-Encoding"));
    let full = identity.bytes().await.unwrap().len();
    assert!(brotli.bytes().await.unwrap().len() < full / 2);
}

#[actix_web::test]
async fn the_script_is_the_same_for_a_stranger_before_and_after_someone_enquires_from_a_number() {
    let app = app().await;
    let fetch = || async {
        let response = app
            .client
            .get(app.url("/v1/embed/lead-form.js"))
            .send()
            .await
            .unwrap();
        let etag = header(&response, "etag").to_owned();
        (response.status(), etag, response.text().await.unwrap())
    };
    let before = fetch().await;

    let enquiry = app
        .client
        .post(app.url("/v1/leads"))
        .json(
            &serde_json::json!({"name": "Jane Doe", "phone": "+14155552671",
            "interests": ["suicidal_ideation"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(enquiry.status(), 201);

    // Nothing about the person, or that anyone enquired, reaches the script or its tag.
    assert_eq!(fetch().await, before);
    assert!(!before.2.contains("4155552671") && !before.2.contains("Jane"));
}
