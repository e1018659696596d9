//! Zero-configuration PostgreSQL for development, when `DATABASE_URL` is not set.
//!
//! [`find_server`] first probes a local server (`postgres://postgres@127.0.0.1:5432` by default).
//! If nothing usable answers, it starts, or reuses, a private cluster kept under a data folder
//! (normally `./.beacon`), using the machine's own `initdb` and `pg_ctl`: see `cluster.rs`, which
//! is Unix only. On other systems it fails instead, saying to set `DATABASE_URL`.

use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use diesel::dsl::sql;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use cluster::ClusterLease;
use connect::{
    ADMIN_DATABASE, DEFAULT_CONNECT_TIMEOUT, one_line, try_connect, url_address, url_with_database,
    url_without_trailing_slash,
};

// The private cluster is built on `std::os::unix` (file modes, ownership, socket paths).
#[cfg(unix)]
mod cluster;
mod connect;

// Elsewhere there is no private cluster, so no share of one to hold.
#[cfg(not(unix))]
mod cluster {
    #[derive(Debug)]
    pub(super) enum ClusterLease {}

    impl ClusterLease {
        pub(super) fn port(&self) -> u16 {
            match *self {}
        }

        pub(super) fn release(self) {
            match self {}
        }
    }
}

const DEFAULT_PROBE_URL: &str = "postgres://postgres@127.0.0.1:5432";
const DEFAULT_DATA_DIR: &str = ".beacon";
const DEFAULT_CLUSTER_PORT: u16 = 54329;
const CREATE_DATABASE_ATTEMPTS: u32 = 3;

/// Where to look for a local PostgreSQL, and where to keep a private one.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Server URL without a database name, probed first.
    pub probe_url: String,
    /// Folder that holds the private cluster (created if missing; keep it out of git).
    pub data_dir: PathBuf,
    /// Port the private cluster listens on, on 127.0.0.1.
    pub cluster_port: u16,
    /// Limit for probing a server, so a dead port fails fast.
    pub connect_timeout: Duration,
}

impl Default for LocalOptions {
    fn default() -> Self {
        Self {
            probe_url: DEFAULT_PROBE_URL.to_owned(),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            cluster_port: DEFAULT_CLUSTER_PORT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// Which kind of server [`find_server`] chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerKind {
    /// A server that already answered at [`LocalOptions::probe_url`].
    LocalServer,
    /// A private cluster started, or reused, by Beacon; `data_dir` is the cluster's folder.
    PrivateCluster { data_dir: PathBuf },
}

/// A PostgreSQL server this process may use. For a private cluster it also holds this
/// process's share of the cluster: dropping it without [`LocalServer::release`] leaves the
/// cluster running for reuse.
#[derive(Debug)]
pub struct LocalServer {
    kind: ServerKind,
    /// URL without a database name.
    base_url: String,
    /// `host:port`, for people.
    address: String,
    lease: Option<ClusterLease>,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalDbError {
    #[error(
        "no PostgreSQL available: nothing usable at {probe_url} ({probe_cause}), and no private \
         cluster could be started ({cluster_cause}). To fix: set DATABASE_URL to a reachable \
         server, or install PostgreSQL (e.g. `apt-get install postgresql`), or run \
         `docker compose up -d db`"
    )]
    NoServer {
        probe_url: String,
        probe_cause: String,
        cluster_cause: String,
    },
    /// Only where the private cluster is not available (not Unix).
    #[error(
        "no PostgreSQL available: nothing usable at {probe_url} ({probe_cause}), and starting a \
         private PostgreSQL cluster is only supported on Unix-like systems. To fix: set \
         DATABASE_URL to a reachable server, or run `docker compose up -d db`"
    )]
    Unsupported {
        probe_url: String,
        probe_cause: String,
    },
    #[error(
        "invalid database name {name:?}: use 1 to 63 characters among a-z, 0-9 and _, \
         starting with a letter"
    )]
    InvalidDatabaseName { name: String },
    #[error("could not connect to PostgreSQL at {url}: {cause}")]
    Connect { url: String, cause: String },
    #[error("could not create database {database}: {cause}")]
    CreateDatabase { database: String, cause: String },
}

impl LocalServer {
    pub fn kind(&self) -> &ServerKind {
        &self.kind
    }

    /// Says which server this is, for the log.
    pub fn describe(&self) -> String {
        match &self.kind {
            ServerKind::LocalServer => format!("local PostgreSQL at {}", self.address),
            ServerKind::PrivateCluster { data_dir } => {
                // A private cluster always has a lease.
                let port = self.lease.as_ref().map_or(0, ClusterLease::port);
                format!(
                    "private PostgreSQL cluster in {} (port {port})",
                    data_dir.display()
                )
            }
        }
    }

    /// URL of `database` on this server.
    pub fn url_for(&self, database: &str) -> String {
        url_with_database(&self.base_url, database)
    }

    /// Creates the database if missing (safe when two processes race: the loser sees that it
    /// now exists) and returns its URL.
    pub fn ensure_database(&self, database: &str) -> Result<String, LocalDbError> {
        validate_database_name(database)?;
        let admin_url = self.url_for(ADMIN_DATABASE);
        let mut conn =
            PgConnection::establish(&admin_url).map_err(|error| LocalDbError::Connect {
                url: admin_url.clone(),
                cause: one_line(&error.to_string()),
            })?;
        create_database_if_missing(&mut conn, database)?;
        Ok(self.url_for(database))
    }

    /// Stops the private cluster if this process is its last user. No-op for a local server.
    pub fn release(self) {
        if let Some(lease) = self.lease {
            lease.release();
        }
    }
}

/// Finds a usable local PostgreSQL: the server at `probe_url`, else (on Unix) a private cluster.
pub fn find_server(options: &LocalOptions) -> Result<LocalServer, LocalDbError> {
    probe(options).or_else(|probe_cause| private_cluster(options, probe_cause))
}

/// The server at `probe_url`, or why it is not usable (one line).
fn probe(options: &LocalOptions) -> Result<LocalServer, String> {
    // Name the database: otherwise libpq would take PGDATABASE from the environment.
    try_connect(
        &url_with_database(&options.probe_url, ADMIN_DATABASE),
        options.connect_timeout,
    )?;
    let base_url = url_without_trailing_slash(&options.probe_url);
    Ok(LocalServer {
        kind: ServerKind::LocalServer,
        address: url_address(&base_url).unwrap_or_else(|| base_url.clone()),
        base_url,
        lease: None,
    })
}

/// Nothing usable answered at `probe_url`: starts, or reuses, the private cluster.
#[cfg(unix)]
fn private_cluster(
    options: &LocalOptions,
    probe_cause: String,
) -> Result<LocalServer, LocalDbError> {
    private_cluster_with(options, probe_cause, &cluster::default_bin_search_path())
}

/// [`private_cluster`] with the folders searched for `initdb`/`pg_ctl` given, for tests.
#[cfg(unix)]
fn private_cluster_with(
    options: &LocalOptions,
    probe_cause: String,
    bin_search: &[PathBuf],
) -> Result<LocalServer, LocalDbError> {
    tracing::info!(
        probe_url = %options.probe_url,
        cause = %probe_cause,
        "no usable PostgreSQL at the probe URL; trying a private cluster"
    );
    let lease =
        cluster::start(&options.data_dir, options.cluster_port, bin_search).map_err(|error| {
            LocalDbError::NoServer {
                probe_url: options.probe_url.clone(),
                probe_cause,
                cluster_cause: error.to_string(),
            }
        })?;
    Ok(LocalServer {
        kind: ServerKind::PrivateCluster {
            data_dir: lease.folder().to_path_buf(),
        },
        base_url: lease.base_url(),
        address: lease.address(),
        lease: Some(lease),
    })
}

/// Nothing usable answered at `probe_url`, and there is no private cluster without Unix.
#[cfg(not(unix))]
fn private_cluster(
    options: &LocalOptions,
    probe_cause: String,
) -> Result<LocalServer, LocalDbError> {
    Err(LocalDbError::Unsupported {
        probe_url: options.probe_url.clone(),
        probe_cause,
    })
}

// ---------------------------------------------------------------------------------------------
// Creating a database.

fn validate_database_name(name: &str) -> Result<(), LocalDbError> {
    let valid = name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(LocalDbError::InvalidDatabaseName {
            name: name.to_owned(),
        })
    }
}

fn database_exists(conn: &mut PgConnection, database: &str) -> Result<bool, LocalDbError> {
    diesel::select(
        sql::<Bool>("EXISTS (SELECT 1 FROM pg_database WHERE datname = ")
            .bind::<Text, _>(database)
            .sql(")"),
    )
    .get_result(conn)
    .map_err(|error| create_error(database, &error))
}

/// `CREATE DATABASE` has no `IF NOT EXISTS`, and racing creators fail with duplicate_database
/// or unique_violation; rather than matching codes, a failed create checks whether the
/// database now exists. A few retries cover transient failures of concurrent creates.
fn create_database_if_missing(conn: &mut PgConnection, database: &str) -> Result<(), LocalDbError> {
    let mut attempt = 1;
    loop {
        if database_exists(conn, database)? {
            return Ok(());
        }
        // Safe to interpolate: the name was validated to [a-z0-9_].
        match diesel::sql_query(format!("CREATE DATABASE \"{database}\"")).execute(conn) {
            Ok(_) => {
                tracing::info!(database, "created database");
                return Ok(());
            }
            Err(_) if database_exists(conn, database)? => return Ok(()),
            Err(error) if attempt >= CREATE_DATABASE_ATTEMPTS => {
                return Err(create_error(database, &error));
            }
            Err(error) => {
                tracing::warn!(database, %error, attempt, "CREATE DATABASE failed; retrying");
                thread::sleep(Duration::from_millis(200) * attempt);
                attempt += 1;
            }
        }
    }
}

fn create_error(database: &str, error: &diesel::result::Error) -> LocalDbError {
    LocalDbError::CreateDatabase {
        database: database.to_owned(),
        cause: one_line(&error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::Integer;
    use std::net::TcpStream;

    pub(super) fn select_one(url: &str) -> i32 {
        let mut conn = PgConnection::establish(url).unwrap();
        diesel::select(sql::<Integer>("1"))
            .get_result(&mut conn)
            .unwrap()
    }

    #[test]
    fn a_running_local_server_is_preferred() {
        let default = LocalOptions::default();
        if TcpStream::connect_timeout(&"127.0.0.1:5432".parse().unwrap(), Duration::from_secs(1))
            .is_err()
        {
            eprintln!("skipped: no PostgreSQL server on 127.0.0.1:5432");
            return;
        }
        let options = LocalOptions {
            data_dir: std::env::temp_dir()
                .join(format!("beacon-localpg-unused-{}", std::process::id())),
            ..default
        };
        let server = find_server(&options).unwrap();
        assert_eq!(server.kind(), &ServerKind::LocalServer);
        assert_eq!(server.describe(), "local PostgreSQL at 127.0.0.1:5432");
        assert_eq!(
            server.url_for("beacon"),
            "postgres://postgres@127.0.0.1:5432/beacon"
        );
        assert_eq!(select_one(&server.url_for("postgres")), 1);
        server.release();
        assert!(
            !options.data_dir.exists(),
            "a local server needs no data folder"
        );
    }

    #[test]
    fn without_a_private_cluster_the_error_says_how_to_fix_it() {
        let error = LocalDbError::Unsupported {
            probe_url: "postgres://postgres@127.0.0.1:1".to_owned(),
            probe_cause: "nothing answers".to_owned(),
        };
        let message = error.to_string();
        for needle in [
            "127.0.0.1:1",
            "only supported on Unix-like systems",
            "DATABASE_URL",
            "docker compose up -d db",
        ] {
            assert!(
                message.contains(needle),
                "{needle:?} missing from: {message}"
            );
        }
        assert!(!message.contains('\n'), "not one line: {message}");
    }

    #[test]
    fn database_names_are_validated() {
        for good in ["beacon", "b", "beacon_test_2", &"a".repeat(63)] {
            assert!(validate_database_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "2beacon",
            "_x",
            "Beacon",
            "bea-con",
            "a\"b",
            "é",
            &"a".repeat(64),
        ] {
            assert!(validate_database_name(bad).is_err(), "{bad}");
        }
    }
}

/// `find_server` with real private clusters: started, shared, stopped, restarted after a kill,
/// and the error when none can start.
#[cfg(test)]
#[cfg(unix)]
mod private_cluster_tests {
    use super::tests::select_one;
    use super::*;
    use cluster::test_support::{
        TestDir, cluster_os_user, have_binaries, parse_postmaster_pid, port_accepts,
    };
    use std::fs;
    use std::net::TcpListener;
    use std::process::Command;
    use std::time::Instant;

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// Nothing listens on port 1, so these options always lead to a private cluster.
    fn private_options(dir: &TestDir) -> LocalOptions {
        LocalOptions {
            probe_url: "postgres://postgres@127.0.0.1:1".to_owned(),
            data_dir: dir.path.clone(),
            cluster_port: free_port(),
            connect_timeout: Duration::from_secs(2),
        }
    }

    #[test]
    fn private_cluster_is_started_reused_and_stopped_by_its_last_user() {
        if !have_binaries() {
            return;
        }
        let dir = TestDir::new("reuse");
        let options = private_options(&dir);
        let port = options.cluster_port;

        let started = Instant::now();
        let first = find_server(&options).unwrap();
        eprintln!("cold start (initdb + start): {:?}", started.elapsed());
        assert_eq!(
            first.kind(),
            &ServerKind::PrivateCluster {
                data_dir: dir.path.join("postgres")
            }
        );
        assert_eq!(
            first.describe(),
            format!(
                "private PostgreSQL cluster in {}/postgres (port {port})",
                dir.path.display()
            )
        );
        let url = first.ensure_database("beacon_test").unwrap();
        assert_eq!(
            url,
            format!("postgres://postgres@127.0.0.1:{port}/beacon_test")
        );
        assert_eq!(select_one(&url), 1);

        // As another process would: its own lock files, same cluster.
        let started = Instant::now();
        let second = find_server(&options).unwrap();
        eprintln!("reuse of the running cluster: {:?}", started.elapsed());
        assert_eq!(second.ensure_database("beacon_test").unwrap(), url);

        first.release();
        assert!(port_accepts(port), "stopped although `second` uses it");
        second.release();
        assert!(
            !port_accepts(port),
            "the last user's release did not stop it"
        );

        // The data survives a restart.
        let started = Instant::now();
        let third = find_server(&options).unwrap();
        eprintln!("warm start (existing cluster): {:?}", started.elapsed());
        assert_eq!(select_one(&url), 1);
        third.release();
        assert!(!port_accepts(port));
    }

    #[test]
    fn concurrent_finds_share_one_cluster() {
        if !have_binaries() {
            return;
        }
        let dir = TestDir::new("race");
        let options = private_options(&dir);
        let servers: Vec<LocalServer> = thread::scope(|scope| {
            let finds: Vec<_> = (0..2)
                .map(|_| scope.spawn(|| find_server(&options)))
                .collect();
            finds
                .into_iter()
                .map(|find| find.join().unwrap().unwrap())
                .collect()
        });
        let urls: Vec<String> = thread::scope(|scope| {
            let creates: Vec<_> = servers
                .iter()
                .map(|server| scope.spawn(|| server.ensure_database("raced")))
                .collect();
            creates
                .into_iter()
                .map(|create| create.join().unwrap().unwrap())
                .collect()
        });
        assert_eq!(urls[0], urls[1]);
        assert_eq!(select_one(&urls[0]), 1);
        for server in servers {
            server.release();
        }
        assert!(!port_accepts(options.cluster_port));
    }

    #[test]
    fn stale_lock_files_of_a_killed_cluster_do_not_block_a_start() {
        if !have_binaries() {
            return;
        }
        let dir = TestDir::new("killed");
        let options = private_options(&dir);
        let first = find_server(&options).unwrap();
        let pid_file = dir.path.join("postgres/data/postmaster.pid");
        let pid_text = fs::read_to_string(&pid_file).unwrap();
        let pid = parse_postmaster_pid(&pid_text).unwrap().pid.to_string();
        assert!(
            Command::new("kill")
                .args(["-KILL", &pid])
                .status()
                .unwrap()
                .success()
        );
        drop(first); // as if its process died too

        // Worst case: the dead postmaster's pid now belongs to a live process of the cluster's
        // user, which makes postgres itself refuse to start.
        let mut impostor = match cluster_os_user().unwrap() {
            Some(user) => {
                let mut setpriv = Command::new("setpriv");
                setpriv.args([
                    "--reuid",
                    &user.name,
                    "--regid",
                    &user.name,
                    "--clear-groups",
                ]);
                setpriv
            }
            None => Command::new("env"),
        };
        let mut impostor = impostor.args(["sleep", "60"]).spawn().unwrap();
        let impostor_pid = impostor.id().to_string();
        let (_, rest) = pid_text.split_once('\n').unwrap();
        fs::write(&pid_file, format!("{impostor_pid}\n{rest}")).unwrap();
        let socket_lock = dir
            .path
            .join(format!("postgres/.s.PGSQL.{}.lock", options.cluster_port));
        let socket_text = fs::read_to_string(&socket_lock).unwrap();
        let (_, rest) = socket_text.split_once('\n').unwrap();
        fs::write(&socket_lock, format!("{impostor_pid}\n{rest}")).unwrap();

        let started = Instant::now();
        let second = find_server(&options);
        eprintln!("start after a kill: {:?}", started.elapsed());
        impostor.kill().unwrap();
        impostor.wait().unwrap();
        let second = second.unwrap();
        assert_eq!(
            select_one(&second.ensure_database("after_kill").unwrap()),
            1
        );
        second.release();
        assert!(!port_accepts(options.cluster_port));
    }

    #[test]
    fn with_nothing_possible_the_error_says_how_to_fix_it() {
        let dir = TestDir::new("none");
        let empty_bin = dir.path.join("bin");
        fs::create_dir(&empty_bin).unwrap();
        let options = private_options(&dir);
        let probe_cause = probe(&options).unwrap_err();
        let error = private_cluster_with(&options, probe_cause, &[empty_bin]).unwrap_err();
        let message = error.to_string();
        for needle in [
            "127.0.0.1:1",
            "initdb",
            "DATABASE_URL",
            "apt-get install postgresql",
            "docker compose up -d db",
        ] {
            assert!(
                message.contains(needle),
                "{needle:?} missing from: {message}"
            );
        }
        assert!(!message.contains('\n'), "not one line: {message}");
    }
}
