//! The `beacon` command line: serve (the default), migrate, manage keys, purge old leads, print
//! the spec.
//! Results go to stdout (a new key alone on the last line, for scripts); logs go to stderr.
#![allow(clippy::print_stdout)]

use clap::{Parser, Subcommand};
use diesel::{Connection, PgConnection};

use crate::config::Settings;
use crate::db;
use crate::error::Error;
use crate::services::api_keys::{self, KeyRef, NewKeyRequest};
use crate::services::audit::Actor;
use crate::startup::{Application, Database, StartupError};

#[derive(Parser, Debug)]
#[command(
    name = "beacon",
    version,
    about = "Headless JSON content and leads API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the API (what `beacon` does with no subcommand).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Create, list and revoke API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Work on leads from the command line.
    Leads {
        #[command(subcommand)]
        command: LeadsCommand,
    },
    /// Print the OpenAPI document on stdout (needs no database).
    Openapi,
    /// Load sample content; running it again adds nothing twice.
    Seed {
        /// A handful of realistic demo articles (published, scheduled and draft) with tags.
        #[arg(long)]
        demo: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a key; the key itself is printed alone on the last line.
    Create {
        /// Who or what will use the key.
        #[arg(long)]
        name: String,
        /// Comma-separated: content:write, leads:read, leads:write, admin (`leads:create` keys come from `api` lead sources).
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke the key with this prefix (e.g. bcn_3f9a1c2b7d4e).
    Revoke { prefix: String },
}

#[derive(Subcommand, Debug)]
pub enum LeadsCommand {
    /// Erase every lead whose latest enquiry is older than DAYS, as `DELETE /v1/leads/{id}`
    /// would: an anonymous tombstone stays, the erasure is audited.
    Purge {
        /// Age in days of the latest enquiry, 1 or more.
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=36_500))]
        older_than: u32,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("{}", describe(.0))]
    Failed(#[from] Error),
    #[error("could not connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(&'static str),
}

fn describe(error: &Error) -> String {
    match error {
        Error::Validation(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.pointer.trim_start_matches('/'), e.message))
            .collect::<Vec<_>>()
            .join("; "),
        Error::NotFound => "no such key".to_owned(),
        other => other.to_string(),
    }
}

pub fn print_openapi() -> Result<(), CliError> {
    let json = crate::routes::openapi::to_json(&crate::routes::openapi::spec())
        .map_err(|e| Error::internal(format!("cannot serialise the spec: {e}")))?;
    print!("{json}");
    Ok(())
}

pub async fn run(command: Command, settings: Settings) -> Result<(), CliError> {
    match command {
        Command::Serve => {
            let application = Application::build(settings).await?;
            tracing::info!(port = application.port(), "serving; docs at /docs/");
            application.run_until_stopped().await?;
            Ok(())
        }
        Command::Openapi => print_openapi(),
        Command::Migrate => with_database(settings, |_| Ok(())),
        Command::Keys { command } => with_database(settings, |conn| keys(conn, command)),
        Command::Leads { command } => {
            let leads = settings.leads.clone();
            with_database(settings, |conn| leads_command(conn, &leads, command))
        }
        Command::Seed { demo: false } => Err(CliError::Usage("nothing to seed: pass --demo")),
        Command::Seed { demo: true } => with_database(settings, seed_demo),
    }
}

/// Runs a one-off command against a migrated database, then lets go of any local cluster.
fn with_database(
    settings: Settings,
    work: impl FnOnce(&mut PgConnection) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let database = Database::resolve(&settings)?;
    let result = PgConnection::establish(&database.url)
        .map_err(CliError::from)
        .and_then(|mut conn| {
            let applied = db::migrate(&mut conn)?;
            tracing::info!(applied, "database migrated");
            work(&mut conn)
        });
    database.release();
    result
}

fn seed_demo(conn: &mut PgConnection) -> Result<(), CliError> {
    let seeded = crate::services::seed::demo(conn, chrono::Utc::now())?;
    println!(
        "Seeded {} demo articles ({} already present).",
        seeded.created, seeded.already_present
    );
    Ok(())
}

fn leads_command(
    conn: &mut PgConnection,
    settings: &crate::config::LeadSettings,
    command: LeadsCommand,
) -> Result<(), CliError> {
    match command {
        LeadsCommand::Purge { older_than } => {
            let erased = crate::services::erasure::purge(
                conn,
                settings,
                chrono::TimeDelta::days(older_than.into()),
                &Actor::system("beacon leads purge"),
                chrono::Utc::now(),
            )?;
            println!(
                "Erased {erased} lead(s) whose latest enquiry is older than {older_than} days."
            );
        }
    }
    Ok(())
}

fn keys(conn: &mut PgConnection, command: KeysCommand) -> Result<(), CliError> {
    match command {
        KeysCommand::Create { name, scopes } => {
            let created = api_keys::create(
                conn,
                NewKeyRequest::parse(&name, &scopes)?,
                &Actor::system("beacon keys create"),
                chrono::Utc::now(),
            )?;
            let key = &created.summary;
            println!(
                "Created API key {:?} ({}) with scopes: {}",
                key.name,
                key.prefix,
                key.scopes.names().join(", ")
            );
            println!("Store it now; it is not shown again:");
            println!("{}", created.secret);
        }
        KeysCommand::List => {
            println!(
                "{:<18} {:<24} {:<40} {:<10} NAME",
                "PREFIX", "CREATED", "SCOPES", "STATE"
            );
            for key in api_keys::list(conn)? {
                let state = if key.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:<18} {:<24} {:<40} {:<10} {}",
                    key.prefix,
                    key.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    key.scopes.names().join(","),
                    state,
                    key.name
                );
            }
        }
        KeysCommand::Revoke { prefix } => {
            let key = api_keys::revoke(
                conn,
                KeyRef::Prefix(prefix.trim()),
                &Actor::system("beacon keys revoke"),
                chrono::Utc::now(),
            )?;
            println!("Revoked API key {:?} ({})", key.name, key.prefix);
        }
    }
    Ok(())
}
