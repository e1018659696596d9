//! `spawn_app`: the real application on a free port, over a fresh database cloned from a
//! migrated template, dropped again when the test ends.

use std::sync::OnceLock;

use beacon::config::Settings;
use beacon::devdb::{self as local, LocalOptions};
use beacon::services::api_keys::{self, NewKeyRequest};
use beacon::services::audit::Actor;
use beacon::startup::Application;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

pub struct TestApp {
    pub address: String,
    /// The keyless metrics listener, when the test set `metrics_addr`.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub database_url: String,
    database: TestDatabase,
}

/// A fresh, migrated database of its own, dropped when the value is.
pub struct TestDatabase {
    pub url: String,
    name: String,
}

/// The server tests create their databases on: `DATABASE_URL`'s, or the local one `cargo run`
/// would find or start.
struct Server {
    /// Without a database name; `/<name>` is appended.
    base_url: String,
    /// The URL's query (`?sslmode=...`), kept for every database on the server.
    query: String,
}

impl Server {
    fn url(&self, database: &str) -> String {
        format!("{}/{database}{}", self.base_url, self.query)
    }
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            let mut url = url::Url::parse(&url).expect("DATABASE_URL is a URL");
            let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
            url.set_path("");
            url.set_query(None);
            return Server {
                base_url: url.to_string().trim_end_matches('/').to_owned(),
                query,
            };
        }
        let options = LocalOptions {
            data_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/.beacon").into(),
            ..LocalOptions::default()
        };
        let server = local::find_server(&options).expect("a PostgreSQL server for the tests");
        let base_url = server
            .url_for("postgres")
            .trim_end_matches("/postgres")
            .to_owned();
        // Test processes leave a private cluster running for the next test to reuse.
        std::mem::forget(server);
        // No TLS on loopback: pool threads still reconnecting to a just-dropped test database
        // while the process exits have crashed inside OpenSSL's teardown.
        Server {
            base_url,
            query: "?sslmode=disable".to_owned(),
        }
    })
}

fn admin_connection() -> PgConnection {
    let url = server().url("postgres");
    PgConnection::establish(&url).expect("connect to the postgres database")
}

/// Named after the migrations' contents, so a changed migration gets a new template.
fn template_name() -> String {
    let mut files: Vec<_> = walk(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"));
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&file).expect("read a migration"));
    }
    format!("beacon_template_{}", &hex::encode(hasher.finalize())[..16])
}

fn walk(dir: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .expect("read migrations")
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                walk(path.to_str().expect("utf-8 path"))
            } else {
                vec![path]
            }
        })
        .collect()
}

/// Creates the template once per migration set; parallel test processes wait on an advisory lock.
fn ensure_template(admin: &mut PgConnection) -> String {
    let template = template_name();
    admin
        .batch_execute("SELECT pg_advisory_lock(727274)")
        .expect("take the template lock");
    let exists = diesel::select(diesel::dsl::exists(
        pg_database::table.filter(pg_database::datname.eq(&template)),
    ))
    .get_result::<bool>(admin)
    .expect("look for the template");
    if !exists {
        let building = format!("{template}_wip");
        // Left over from a test process killed mid-way; one statement per call, as
        // CREATE/DROP DATABASE refuse to run inside the implicit transaction of a batch.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .expect("drop an unfinished template");
        admin
            .batch_execute(&format!("CREATE DATABASE {building}"))
            .expect("create the template");
        {
            let mut conn = PgConnection::establish(&server().url(&building)).unwrap();
            beacon::db::migrate(&mut conn).expect("migrate the template");
        }
        admin
            .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
            .expect("publish the template");
    }
    sweep(admin);
    admin
        .batch_execute("SELECT pg_advisory_unlock(727274)")
        .expect("release the template lock");
    template
}

/// A test database outlives its test only when the process was killed (a timeout, SIGKILL);
/// its name carries its creation time, so such leftovers go once they are surely abandoned.
fn sweep(admin: &mut PgConnection) {
    const ABANDONED_AFTER_SECS: u64 = 2 * 60 * 60;
    let now = unix_now();
    let names: Vec<String> = pg_database::table
        .select(pg_database::datname)
        .filter(pg_database::datname.like("beacon\\_test\\_%"))
        .load(admin)
        .expect("list test databases");
    for name in names {
        let stale = name
            .trim_start_matches("beacon_test_")
            .split('_')
            .next()
            .and_then(|secs| secs.parse::<u64>().ok())
            .is_some_and(|created| created + ABANDONED_AFTER_SECS < now);
        if stale {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
}

diesel::table! {
    pg_database (datname) {
        datname -> Text,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::create();
    let database_url = database.url.clone();
    spawn_app_on(database, database_url, configure).await
}

/// The app on `database`, reached through `database_url` (a proxy in front of it, say).
pub async fn spawn_app_on(
    database: TestDatabase,
    database_url: String,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let (address, metrics_address) = spawn_application(&database_url, configure).await;
    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        database_url,
        database,
    }
}

/// One more process of the application on `database_url` (a replica), at the address returned.
pub async fn spawn_server(database_url: &str, configure: impl FnOnce(&mut Settings)) -> String {
    spawn_application(database_url, configure).await.0
}

/// The application on `database_url`: its address and, when it has one, its metrics listener's.
async fn spawn_application(
    database_url: &str,
    configure: impl FnOnce(&mut Settings),
) -> (String, Option<String>) {
    if std::env::var("TEST_LOG").is_ok() {
        beacon::telemetry::init(beacon::config::LogFormat::Human);
    }
    let mut settings = Settings::from_lookup(|_| None).expect("default settings");
    settings.database_url = Some(database_url.to_owned());
    settings.addr = "127.0.0.1:0".parse().unwrap();
    settings.database.pool_size = 4;
    configure(&mut settings);

    let application = Application::build(settings).await.expect("build the app");
    let address = format!("http://127.0.0.1:{}", application.port());
    let metrics_address = application
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    actix_web::rt::spawn(application.run_until_stopped());
    (address, metrics_address)
}

impl TestDatabase {
    /// Cloned from the migrated template, so it is ready at once.
    pub fn create() -> Self {
        let name = format!(
            "beacon_test_{}_{}",
            unix_now(),
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        );
        let mut admin = admin_connection();
        let template = ensure_template(&mut admin);
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .expect("clone the template");
        let url = server().url(&name);
        Self { url, name }
    }

    /// An empty database: nothing migrated yet.
    pub fn create_empty() -> Self {
        let name = format!(
            "beacon_test_{}_{}",
            unix_now(),
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        );
        admin_connection()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create an empty database");
        let url = server().url(&name);
        Self { url, name }
    }

    pub fn connection(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap()
    }

    fn try_drop(&self) -> Result<(), String> {
        let url = server().url("postgres");
        let mut admin = PgConnection::establish(&url).map_err(|e| e.to_string())?;
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .map_err(|e| e.to_string())
    }
}

impl Drop for TestDatabase {
    // Never panics: a panic here, during a failing test's unwinding, would abort the run.
    fn drop(&mut self) {
        if let Err(error) = self.try_drop() {
            eprintln!("could not drop {}: {error}", self.name);
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// The requests keyed routes get: `Authorization: Bearer <key>`, with a JSON body for writes.
    pub async fn get_with(&self, key: &str, path: &str) -> reqwest::Response {
        self.keyed(self.client.get(self.url(path)), key).await
    }

    pub async fn delete_with(&self, key: &str, path: &str) -> reqwest::Response {
        self.keyed(self.client.delete(self.url(path)), key).await
    }

    pub async fn post_json(
        &self,
        key: &str,
        path: &str,
        body: &(impl serde::Serialize + ?Sized),
    ) -> reqwest::Response {
        self.keyed(self.client.post(self.url(path)).json(body), key)
            .await
    }

    pub async fn patch_json(
        &self,
        key: &str,
        path: &str,
        body: &(impl serde::Serialize + ?Sized),
    ) -> reqwest::Response {
        self.keyed(self.client.patch(self.url(path)).json(body), key)
            .await
    }

    async fn keyed(&self, request: reqwest::RequestBuilder, key: &str) -> reqwest::Response {
        request.bearer_auth(key).send().await.unwrap()
    }

    pub fn connection(&self) -> PgConnection {
        self.database.connection()
    }

    /// The lead an intake receipt (the `id` of a `POST /v1/leads` answer, a submission's id)
    /// joined, as staff see it.
    pub fn lead_of(&self, receipt: &serde_json::Value) -> uuid::Uuid {
        use beacon::db::schema::lead_submissions;
        let id: uuid::Uuid = receipt.as_str().unwrap().parse().unwrap();
        lead_submissions::table
            .find(id)
            .select(lead_submissions::lead_id)
            .first(&mut self.connection())
            .unwrap()
    }

    /// A fresh key with these scopes, made the way `beacon keys create` makes one.
    pub fn key(&self, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let request = NewKeyRequest::parse("test key", &scopes).unwrap();
        let actor = Actor::system("beacon keys create");
        api_keys::create(&mut self.connection(), request, &actor, chrono::Utc::now())
            .unwrap()
            .secret
    }
}

impl TestApp {
    /// Simulates losing the database: drops it under the running app.
    pub fn drop_database(&self) {
        self.database.try_drop().expect("drop the test database");
    }
}

/// The body of a problem+json response, after checking that it is one.
pub async fn problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"], request_id.as_str());
    assert!(body["type"].as_str().unwrap().starts_with("/problems/"));
    assert!(body["title"].is_string() && body["detail"].is_string());
    body
}

/// The `pointer` of each entry in a validation problem's `errors`, in order.
pub fn error_pointers(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["pointer"].as_str().unwrap().to_owned())
        .collect()
}
