//! Zero-configuration PostgreSQL for when `DATABASE_URL` is not set.
//!
//! [`find_server`] first probes a local server (`postgres://postgres@127.0.0.1:5432` by default).
//! If nothing usable answers, it starts, or reuses, a private cluster kept under a data folder
//! (normally `./.beacon`), using the machine's own `initdb` and `pg_ctl`.
//!
//! Several processes (parallel test binaries, say) may share that cluster. They coordinate with
//! flocks, which the kernel drops when a process dies, so a killed run never wedges the next:
//! - `start.lock`, held exclusively, serializes initdb, start and stop;
//! - `users.lock`, held shared by every user for as long as it uses the cluster, is a reference
//!   count: a releasing process stops the cluster only if it can then lock it exclusively.
//!
//! Layout of the folder holding the cluster (the data folder, or its `/var/tmp` fallback):
//! `start.lock`, `users.lock`, and `postgres/` (owned by the cluster's OS user) with `data/`
//! (PGDATA), `server.log` and the unix socket.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions, Permissions, TryLockError};
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use diesel::dsl::sql;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

const DEFAULT_PROBE_URL: &str = "postgres://postgres@127.0.0.1:5432";
const DEFAULT_DATA_DIR: &str = ".beacon";
const DEFAULT_CLUSTER_PORT: u16 = 54329;
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The private cluster listens here only: it trusts every local connection.
const CLUSTER_HOST: &str = "127.0.0.1";
/// Superuser created by initdb, and the OS user that runs the cluster when we are root.
const CLUSTER_USER: &str = "postgres";
/// Maintenance database that `ensure_database` connects to (never `template1`: a session there
/// makes concurrent `CREATE DATABASE` fail).
const ADMIN_DATABASE: &str = "postgres";
const CLUSTER_DIR: &str = "postgres";
const PGDATA_DIR: &str = "data";
const INITDB_STAGING_DIR: &str = "data.initdb";
const LOG_FILE: &str = "server.log";
const START_LOCK: &str = "start.lock";
const USERS_LOCK: &str = "users.lock";
const FALLBACK_PREFIX: &str = "/var/tmp/beacon-pg-";
/// `sun_path` holds 108 bytes including the NUL; PostgreSQL refuses longer socket paths.
const SOCKET_PATH_MAX: usize = 107;
/// Upper bound for a running cluster (maybe still starting) to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const PG_CTL_TIMEOUT_SECS: &str = "60";
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
                let port = self.lease.as_ref().map_or(0, |lease| lease.port);
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

/// Finds a usable local PostgreSQL: the server at `probe_url`, else a private cluster.
pub fn find_server(options: &LocalOptions) -> Result<LocalServer, LocalDbError> {
    find_server_with(options, &default_bin_search_path())
}

/// [`find_server`] with the folders searched for `initdb`/`pg_ctl` given, for tests.
fn find_server_with(
    options: &LocalOptions,
    bin_search: &[PathBuf],
) -> Result<LocalServer, LocalDbError> {
    // Name the database: otherwise libpq would take PGDATABASE from the environment.
    let probe_url = url_with_database(&options.probe_url, ADMIN_DATABASE);
    let probe_cause = match try_connect(&probe_url, options.connect_timeout) {
        Ok(()) => return Ok(local_server(&options.probe_url)),
        Err(cause) => cause,
    };
    tracing::info!(
        probe_url = %options.probe_url,
        cause = %probe_cause,
        "no usable PostgreSQL at the probe URL; trying a private cluster"
    );
    start_private_cluster(options, bin_search).map_err(|error| LocalDbError::NoServer {
        probe_url: options.probe_url.clone(),
        probe_cause,
        cluster_cause: error.to_string(),
    })
}

fn local_server(probe_url: &str) -> LocalServer {
    let base_url = url_without_trailing_slash(probe_url);
    LocalServer {
        kind: ServerKind::LocalServer,
        address: url_address(&base_url).unwrap_or_else(|| base_url.clone()),
        base_url,
        lease: None,
    }
}

fn start_private_cluster(
    options: &LocalOptions,
    bin_search: &[PathBuf],
) -> Result<LocalServer, ClusterError> {
    let candidates = find_binaries(bin_search);
    if candidates.is_empty() {
        return Err(ClusterError::NoBinaries);
    }
    let run_as = cluster_os_user()?;
    let (base, display) = choose_base(&options.data_dir, options.cluster_port, run_as.as_ref())?;
    let root = base.join(CLUSTER_DIR);
    let bins = pick_binaries(candidates, &root.join(PGDATA_DIR));
    let cluster = Cluster {
        base,
        root,
        bins,
        run_as,
    };
    let lease = ClusterLease::acquire(cluster, options.cluster_port)?;
    Ok(LocalServer {
        kind: ServerKind::PrivateCluster { data_dir: display },
        base_url: format!("postgres://{CLUSTER_USER}@{CLUSTER_HOST}:{}", lease.port),
        address: format!("{CLUSTER_HOST}:{}", lease.port),
        lease: Some(lease),
    })
}

// ---------------------------------------------------------------------------------------------
// Errors while setting up the private cluster; shown as the cause inside `LocalDbError`.

#[derive(Debug, thiserror::Error)]
enum ClusterError {
    #[error(
        "no PostgreSQL server binaries (initdb and pg_ctl) on PATH or in /usr/lib/postgresql/*/bin"
    )]
    NoBinaries,
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{0}")]
    Setup(String),
    #[error("{what} failed: {detail}")]
    Command { what: &'static str, detail: String },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ClusterError {
    let path = path.to_path_buf();
    move |source| ClusterError::Io {
        action,
        path,
        source,
    }
}

// ---------------------------------------------------------------------------------------------
// Probing a server.

/// Connects and runs `SELECT 1`; the error is a one-line cause.
fn try_connect(url: &str, timeout: Duration) -> Result<(), String> {
    if let Some(address) = url_address(url) {
        // libpq's own timeout is whole seconds (at least 2); a refused port should fail at once.
        tcp_check(&address, timeout)?;
    }
    let mut conn = PgConnection::establish(&with_connect_timeout(url, timeout))
        .map_err(|error| one_line(&error.to_string()))?;
    diesel::sql_query("SELECT 1")
        .execute(&mut conn)
        .map_err(|error| one_line(&error.to_string()))?;
    Ok(())
}

fn tcp_check(address: &str, timeout: Duration) -> Result<(), String> {
    let addrs = address
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve {address}: {error}"))?;
    let mut last_error = format!("{address} resolves to no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) => return Ok(()),
            Err(error) => last_error = format!("nothing answers at {address}: {error}"),
        }
    }
    Err(last_error)
}

/// `host:port` of a `postgres://` URL, or `None` when it uses a unix socket or several hosts.
fn url_address(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let socket_or_many =
        host_port.is_empty() || host_port.starts_with('%') || host_port.contains(',');
    if socket_or_many {
        None
    } else if has_port(host_port) {
        Some(host_port.to_owned())
    } else {
        Some(format!("{host_port}:5432"))
    }
}

fn has_port(host_port: &str) -> bool {
    host_port
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
}

fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let seconds = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={}", seconds.max(1))
}

fn url_without_trailing_slash(url: &str) -> String {
    match url.split_once('?') {
        Some((head, query)) => format!("{}?{query}", head.trim_end_matches('/')),
        None => url.trim_end_matches('/').to_owned(),
    }
}

fn url_with_database(base_url: &str, database: &str) -> String {
    match base_url.split_once('?') {
        Some((head, query)) => format!("{}/{database}?{query}", head.trim_end_matches('/')),
        None => format!("{}/{database}", base_url.trim_end_matches('/')),
    }
}

/// Collapses a (libpq, multi-line) message to one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
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

// ---------------------------------------------------------------------------------------------
// Finding the server binaries.

#[derive(Debug, Clone, PartialEq, Eq)]
struct PgBinaries {
    dir: PathBuf,
    version: (u32, u32),
}

/// PATH, then every `/usr/lib/postgresql/*/bin` (Debian and Ubuntu keep them off PATH).
fn default_bin_search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
        dirs.extend(entries.flatten().map(|entry| entry.path().join("bin")));
    }
    dirs
}

/// Every installation found, highest version first.
fn find_binaries(search: &[PathBuf]) -> Vec<PgBinaries> {
    let mut seen = HashSet::new();
    let mut found: Vec<PgBinaries> = search
        .iter()
        .filter_map(|dir| real_bin_dir(dir))
        .filter(|dir| seen.insert(dir.clone()))
        .filter_map(|dir| {
            let version = server_version(&dir)?;
            Some(PgBinaries { dir, version })
        })
        .collect();
    found.sort_by_key(|b| std::cmp::Reverse(b.version));
    found
}

/// The folder really holding `initdb` and `pg_ctl` (PATH often has symlinks to them).
fn real_bin_dir(dir: &Path) -> Option<PathBuf> {
    let real = fs::canonicalize(dir.join("initdb"))
        .ok()?
        .parent()?
        .to_path_buf();
    [real, dir.to_path_buf()]
        .into_iter()
        .find(|d| is_executable(&d.join("initdb")) && is_executable(&d.join("pg_ctl")))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.mode() & 0o111 != 0)
}

/// Parses `pg_ctl (PostgreSQL) 15.13 (Debian ...)`.
fn server_version(dir: &Path) -> Option<(u32, u32)> {
    let output = Command::new(dir.join("pg_ctl"))
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    parse_version(&String::from_utf8_lossy(&output.stdout))
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let number = text.split_whitespace().nth(2)?;
    let mut parts = number.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// An existing cluster needs its own major version; a new one gets the highest.
fn pick_binaries(candidates: Vec<PgBinaries>, pgdata: &Path) -> PgBinaries {
    let wanted: Option<u32> = fs::read_to_string(pgdata.join("PG_VERSION"))
        .ok()
        .and_then(|text| text.trim().parse().ok());
    let matching = wanted.and_then(|major| candidates.iter().position(|b| b.version.0 == major));
    let mut candidates = candidates;
    candidates.swap_remove(matching.unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// Who runs the cluster, and where it lives.

#[derive(Debug, Clone)]
struct OsUser {
    name: String,
    uid: u32,
    gid: u32,
}

/// `/proc/self` belongs to the effective uid; no libc call (and no `unsafe`) needed.
fn effective_uid() -> io::Result<u32> {
    Ok(fs::metadata("/proc/self")?.uid())
}

/// initdb and postgres refuse to run as root, so root runs them as `postgres`.
fn cluster_os_user() -> Result<Option<OsUser>, ClusterError> {
    let euid = effective_uid().map_err(io_error("could not read", Path::new("/proc/self")))?;
    if euid != 0 {
        return Ok(None);
    }
    lookup_os_user(CLUSTER_USER).map(Some).ok_or_else(|| {
        ClusterError::Setup(
            "running as root, which initdb refuses, and there is no `postgres` OS user to run \
             the cluster as"
                .to_owned(),
        )
    })
}

fn lookup_os_user(name: &str) -> Option<OsUser> {
    let from_getent = Command::new("getent")
        .args(["passwd", name])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned());
    let passwd = from_getent.or_else(|| fs::read_to_string("/etc/passwd").ok())?;
    passwd
        .lines()
        .find_map(|line| parse_passwd_line(line, name))
}

fn parse_passwd_line(line: &str, name: &str) -> Option<OsUser> {
    let mut fields = line.split(':');
    if fields.next()? != name {
        return None;
    }
    let uid = fields.nth(1)?.parse().ok()?;
    let gid = fields.next()?.parse().ok()?;
    Some(OsUser {
        name: name.to_owned(),
        uid,
        gid,
    })
}

/// Returns the folder for the lock files and cluster (canonical), and how to show the cluster
/// folder. Falls back to `/var/tmp/beacon-pg-<hash>` when the data folder cannot host it.
fn choose_base(
    data_dir: &Path,
    port: u16,
    run_as: Option<&OsUser>,
) -> Result<(PathBuf, PathBuf), ClusterError> {
    fs::create_dir_all(data_dir).map_err(io_error("could not create", data_dir))?;
    let base = fs::canonicalize(data_dir).map_err(io_error("could not resolve", data_dir))?;
    let Some(reason) = base_unusable_reason(&base, port, run_as) else {
        return Ok((base, data_dir.join(CLUSTER_DIR)));
    };
    let fallback = PathBuf::from(format!(
        "{FALLBACK_PREFIX}{}",
        short_hash(base.as_os_str().as_bytes())
    ));
    tracing::warn!(
        data_dir = %data_dir.display(),
        fallback = %fallback.display(),
        %reason,
        "keeping the private PostgreSQL cluster in a fallback folder"
    );
    ensure_own_dir(&fallback)?;
    let display = fallback.join(CLUSTER_DIR);
    Ok((fallback, display))
}

fn base_unusable_reason(base: &Path, port: u16, run_as: Option<&OsUser>) -> Option<String> {
    let root = base.join(CLUSTER_DIR);
    // pg_ctl passes paths through a shell and postgres splits -k on commas and spaces.
    let plain = |c: u8| c.is_ascii_alphanumeric() || b"/._-+".contains(&c);
    if !root.as_os_str().as_bytes().iter().all(|&c| plain(c)) {
        return Some(format!(
            "{} has characters pg_ctl options cannot carry",
            root.display()
        ));
    }
    let socket = root.join(format!(".s.PGSQL.{port}"));
    if socket.as_os_str().len() > SOCKET_PATH_MAX {
        return Some(format!(
            "socket path {} is longer than {SOCKET_PATH_MAX} bytes",
            socket.display()
        ));
    }
    let user = run_as?;
    (!can_traverse(user, base))
        .then(|| format!("OS user `{}` cannot reach {}", user.name, base.display()))
}

/// Asks the kernel rather than reading modes: ACLs and every parent folder count.
fn can_traverse(user: &OsUser, dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", &user.name, "--", "test", "-x"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Creates `dir` (0755, so the cluster user can pass), refusing one planted by someone else
/// in the world-writable `/var/tmp`.
fn ensure_own_dir(dir: &Path) -> Result<(), ClusterError> {
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(io_error("could not create", dir)(error)),
    }
    let meta = fs::symlink_metadata(dir).map_err(io_error("could not inspect", dir))?;
    let euid = effective_uid().map_err(io_error("could not read", Path::new("/proc/self")))?;
    if !meta.is_dir() || meta.uid() != euid {
        return Err(ClusterError::Setup(format!(
            "{} exists but is not a folder owned by this user; remove it",
            dir.display()
        )));
    }
    fs::set_permissions(dir, Permissions::from_mode(0o755))
        .map_err(io_error("could not set permissions of", dir))
}

/// FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
fn short_hash(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{:012x}", hash & 0xffff_ffff_ffff)
}

// ---------------------------------------------------------------------------------------------
// The private cluster.

#[derive(Debug)]
struct Cluster {
    /// Holds the lock files; canonical.
    base: PathBuf,
    /// `<base>/postgres`: PGDATA, log and socket; owned by the cluster's OS user.
    root: PathBuf,
    bins: PgBinaries,
    /// Set when we are root: the tools then run as this user.
    run_as: Option<OsUser>,
}

/// What `postmaster.pid` says about a live postmaster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Postmaster {
    pid: u32,
    port: Option<u16>,
}

impl Cluster {
    fn pgdata(&self) -> PathBuf {
        self.root.join(PGDATA_DIR)
    }

    /// Makes sure the cluster runs and accepts connections; returns its port. Call with
    /// `start.lock` held.
    fn ensure_running(&self, port: u16) -> Result<u16, ClusterError> {
        self.prepare_root()?;
        if self.running_postmaster().is_some() {
            if let Some(port) = self.wait_until_ready(port)? {
                tracing::info!(
                    dir = %self.root.display(),
                    port,
                    "reusing the running private PostgreSQL cluster"
                );
                return Ok(port);
            }
            tracing::warn!(
                "the private PostgreSQL cluster exited while we waited; starting it again"
            );
        }
        self.remove_stale_lock_files()?;
        if !self.is_initialized()? {
            self.init()?;
        }
        self.start(port)?;
        Ok(port)
    }

    fn prepare_root(&self) -> Result<(), ClusterError> {
        match fs::create_dir(&self.root) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(io_error("could not create", &self.root)(error)),
        }
        if let Some(user) = &self.run_as {
            std::os::unix::fs::chown(&self.root, Some(user.uid), Some(user.gid))
                .map_err(io_error("could not hand over", &self.root))?;
        }
        // PostgreSQL wants its files private; root and the owner still get in.
        fs::set_permissions(&self.root, Permissions::from_mode(0o700))
            .map_err(io_error("could not set permissions of", &self.root))
    }

    /// The postmaster recorded in `postmaster.pid`, if it is alive and really ours: after a
    /// crash or reboot, its pid may belong to an unrelated process.
    fn running_postmaster(&self) -> Option<Postmaster> {
        let pid_file = self.pgdata().join("postmaster.pid");
        // A postmaster that is starting may not have written the file fully yet.
        for _ in 0..5 {
            let text = fs::read_to_string(&pid_file).ok()?;
            if let Some(postmaster) = parse_postmaster_pid(&text) {
                return self.is_our_postmaster(postmaster.pid).then_some(postmaster);
            }
            thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// A postmaster runs in its data folder, started with `-D <data folder>`.
    fn is_our_postmaster(&self, pid: u32) -> bool {
        let Ok(pgdata) = fs::canonicalize(self.pgdata()) else {
            return false;
        };
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        if fs::read_link(proc_dir.join("cwd")).is_ok_and(|cwd| cwd == pgdata) {
            return true;
        }
        // cwd is unreadable without ptrace rights; the command line is world-readable.
        fs::read(proc_dir.join("cmdline")).is_ok_and(|cmdline| {
            let args: Vec<&[u8]> = cmdline.split(|&byte| byte == 0).collect();
            args.windows(2)
                .any(|pair| pair[0] == b"-D" && pair[1] == pgdata.as_os_str().as_bytes())
        })
    }

    /// Polls until the running cluster accepts connections. `Ok(None)`: it exited meanwhile.
    fn wait_until_ready(&self, port: u16) -> Result<Option<u16>, ClusterError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let Some(postmaster) = self.running_postmaster() else {
                return Ok(None);
            };
            let port = postmaster.port.unwrap_or(port);
            let url = format!("postgres://{CLUSTER_USER}@{CLUSTER_HOST}:{port}/{ADMIN_DATABASE}");
            let cause = match try_connect(&url, DEFAULT_CONNECT_TIMEOUT) {
                Ok(()) => return Ok(Some(port)),
                Err(cause) => cause,
            };
            if Instant::now() >= deadline {
                return Err(ClusterError::Setup(format!(
                    "the private cluster in {} runs (pid {}) but does not accept connections: \
                     {cause}",
                    self.root.display(),
                    postmaster.pid
                )));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// A killed postmaster leaves lock files naming its pid; if that pid is reused by a
    /// process of the same user, postgres would refuse to start. Call only when not running.
    fn remove_stale_lock_files(&self) -> Result<(), ClusterError> {
        let pid_file = self.pgdata().join("postmaster.pid");
        if pid_file.exists() {
            tracing::warn!(
                file = %pid_file.display(),
                "removing a stale postmaster.pid left by a killed run"
            );
            remove_if_present(&pid_file)?;
        }
        let entries = fs::read_dir(&self.root).map_err(io_error("could not list", &self.root))?;
        for entry in entries.flatten() {
            if entry.file_name().as_bytes().starts_with(b".s.PGSQL.") {
                remove_if_present(&entry.path())?;
            }
        }
        Ok(())
    }

    fn is_initialized(&self) -> Result<bool, ClusterError> {
        let pgdata = self.pgdata();
        if pgdata.join("PG_VERSION").is_file() {
            return Ok(true);
        }
        if pgdata.exists() {
            // Never delete what might be someone's data.
            return Err(ClusterError::Setup(format!(
                "{} exists but is not a PostgreSQL data folder (no PG_VERSION); move it away",
                pgdata.display()
            )));
        }
        Ok(false)
    }

    /// Runs initdb in a staging folder renamed into place when complete, so an interrupted
    /// initdb never leaves a half-made PGDATA behind.
    fn init(&self) -> Result<(), ClusterError> {
        let staging = self.root.join(INITDB_STAGING_DIR);
        if staging.exists() {
            tracing::warn!(dir = %staging.display(), "removing what an interrupted initdb left");
            fs::remove_dir_all(&staging).map_err(io_error("could not remove", &staging))?;
        }
        tracing::info!(
            dir = %self.root.display(),
            version = ?self.bins.version,
            "creating a private PostgreSQL cluster"
        );
        // No --no-sync: this cluster keeps real data, and syncing cost nothing measurable here.
        let mut initdb = self.tool("initdb");
        initdb.arg("-D").arg(&staging).args([
            "-U",
            CLUSTER_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]);
        self.run(initdb, "initdb")?;
        let pgdata = self.pgdata();
        fs::rename(&staging, &pgdata)
            .map_err(io_error("could not move initdb's result to", &pgdata))
    }

    fn start(&self, port: u16) -> Result<(), ClusterError> {
        tracing::info!(dir = %self.root.display(), port, "starting the private PostgreSQL cluster");
        let log = self.root.join(LOG_FILE);
        // Only this attempt's lines explain its failure.
        let log_start = fs::metadata(&log).map_or(0, |meta| meta.len());
        // The path holds only plain characters (see `base_unusable_reason`): no quoting needed.
        let server_options = format!(
            "-p {port} -k {} -c listen_addresses={CLUSTER_HOST}",
            self.root.display()
        );
        let mut pg_ctl = self.tool("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.pgdata())
            .arg("-l")
            .arg(&log)
            .args([
                "-w",
                "-t",
                PG_CTL_TIMEOUT_SECS,
                "-o",
                &server_options,
                "start",
            ]);
        self.run(pg_ctl, "pg_ctl start")
            .map_err(|error| start_error(error, &log, log_start, port))
    }

    fn stop(&self) -> Result<(), ClusterError> {
        if self.running_postmaster().is_none() {
            return Ok(());
        }
        let mut pg_ctl = self.tool("pg_ctl");
        pg_ctl.arg("-D").arg(self.pgdata()).args([
            "-m",
            "fast",
            "-w",
            "-t",
            PG_CTL_TIMEOUT_SECS,
            "stop",
        ]);
        self.run(pg_ctl, "pg_ctl stop")?;
        tracing::info!(dir = %self.root.display(), "stopped the private PostgreSQL cluster");
        Ok(())
    }

    /// A PostgreSQL tool, run as the cluster's OS user when we are root.
    fn tool(&self, name: &str) -> Command {
        let program = self.bins.dir.join(name);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut runuser = Command::new("runuser");
                runuser.args(["-u", &user.name, "--"]).arg(program);
                runuser
            }
            None => Command::new(program),
        };
        // The caller's working folder may be closed to the cluster user.
        command.current_dir(&self.root).stdin(Stdio::null());
        command
    }

    fn run(&self, mut command: Command, what: &'static str) -> Result<(), ClusterError> {
        let output = command.output().map_err(|error| ClusterError::Command {
            what,
            detail: format!("could not run it: {error}"),
        })?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let text = if stderr.trim().is_empty() {
            stdout
        } else {
            stderr
        };
        Err(ClusterError::Command {
            what,
            detail: format!("{} ({})", last_lines(&text, 3), output.status),
        })
    }
}

/// pg_ctl only says "examine the log output": bring this attempt's problems from the log.
fn start_error(error: ClusterError, log: &Path, log_start: u64, port: u16) -> ClusterError {
    let problems = log_problems(log, log_start);
    if problems.is_empty() {
        return error;
    }
    let hint = if problems.contains("Address already in use") {
        format!(" (port {port} is taken: choose another cluster port)")
    } else {
        String::new()
    };
    ClusterError::Setup(format!(
        "PostgreSQL did not start{hint}: {problems} (see {})",
        log.display()
    ))
}

fn log_problems(log: &Path, from: u64) -> String {
    let Ok(bytes) = fs::read(log) else {
        return String::new();
    };
    let fresh = usize::try_from(from)
        .ok()
        .and_then(|from| bytes.get(from..))
        .unwrap_or(&bytes);
    let text = String::from_utf8_lossy(fresh);
    let problems: Vec<&str> = text
        .lines()
        .filter(|line| {
            ["FATAL:", "PANIC:", "ERROR:", "could not"]
                .iter()
                .any(|m| line.contains(m))
        })
        .map(strip_log_prefix)
        .collect();
    one_line(&problems[problems.len().saturating_sub(3)..].join(" / "))
}

/// The default `log_line_prefix` is "%m [%p] ": a timestamp, then the pid in brackets.
fn strip_log_prefix(line: &str) -> &str {
    line.split_once("] ").map_or(line, |(_, rest)| rest).trim()
}

fn parse_postmaster_pid(text: &str) -> Option<Postmaster> {
    // Lines: pid, data folder, start time, port, socket folder, listen address, ...
    let lines: Vec<&str> = text.lines().collect();
    let pid = lines.first()?.trim().parse().ok()?;
    let port = lines.get(3).and_then(|line| line.trim().parse().ok());
    Some(Postmaster { pid, port })
}

fn remove_if_present(path: &Path) -> Result<(), ClusterError> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => {
            Err(io_error("could not remove", path)(error))
        }
        _ => Ok(()),
    }
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(count)..].join(" / ")
}

// ---------------------------------------------------------------------------------------------
// Sharing the cluster between processes.

/// This process's share of a running private cluster: a shared flock on `users.lock`.
#[derive(Debug)]
struct ClusterLease {
    cluster: Cluster,
    port: u16,
    /// Holds the shared lock; closing it (even by dying) gives the share up.
    users: File,
}

impl ClusterLease {
    fn acquire(cluster: Cluster, port: u16) -> Result<Self, ClusterError> {
        let start = lock_exclusive(&cluster.base.join(START_LOCK))?;
        let port = cluster.ensure_running(port)?;
        let users_path = cluster.base.join(USERS_LOCK);
        let users = open_lock_file(&users_path)?;
        // Never blocks: only a releaser holding start.lock ever locks it exclusively.
        users
            .lock_shared()
            .map_err(io_error("could not lock", &users_path))?;
        drop(start);
        Ok(Self {
            cluster,
            port,
            users,
        })
    }

    /// Stops the cluster if no other process holds a share. Failures are only logged: this
    /// runs at shutdown, and a cluster left running is reused by the next start.
    fn release(self) {
        if let Err(error) = self.try_release() {
            tracing::warn!(%error, "could not stop the private PostgreSQL cluster");
        }
    }

    fn try_release(self) -> Result<(), ClusterError> {
        let Self { cluster, users, .. } = self;
        let _start = lock_exclusive(&cluster.base.join(START_LOCK))?;
        drop(users);
        let users_path = cluster.base.join(USERS_LOCK);
        let users = open_lock_file(&users_path)?;
        match users.try_lock() {
            Ok(()) => cluster.stop(),
            Err(TryLockError::WouldBlock) => {
                tracing::info!(
                    "other processes still use the private PostgreSQL cluster; leaving it running"
                );
                Ok(())
            }
            Err(TryLockError::Error(error)) => Err(io_error("could not lock", &users_path)(error)),
        }
    }
}

fn open_lock_file(path: &Path) -> Result<File, ClusterError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io_error("could not open", path))
}

fn lock_exclusive(path: &Path) -> Result<File, ClusterError> {
    let file = open_lock_file(path)?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(TryLockError::WouldBlock) => {
            tracing::info!(
                lock = %path.display(),
                "waiting for another process to finish starting or stopping PostgreSQL"
            );
        }
        Err(TryLockError::Error(error)) => return Err(io_error("could not lock", path)(error)),
    }
    file.lock().map_err(io_error("could not lock", path))?;
    Ok(file)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use diesel::sql_types::Integer;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    /// A unique data folder under the temp dir; on drop, stops a cluster a failed test left
    /// running in it, then removes it.
    struct TestDir {
        path: PathBuf,
    }

    impl TestDir {
        fn new(tag: &str) -> Self {
            static COUNTER: AtomicU32 = AtomicU32::new(0);
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            let path = std::env::temp_dir().join(format!(
                "beacon-localpg-{tag}-{}-{}-{nanos}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst)
            ));
            fs::create_dir_all(&path).unwrap();
            Self { path }
        }

        fn cluster(&self) -> Option<Cluster> {
            let bins = find_binaries(&default_bin_search_path())
                .into_iter()
                .next()?;
            let base = fs::canonicalize(&self.path).ok()?;
            Some(Cluster {
                root: base.join(CLUSTER_DIR),
                base,
                bins,
                run_as: cluster_os_user().ok()?,
            })
        }
    }

    impl Drop for TestDir {
        fn drop(&mut self) {
            if let Some(cluster) = self.cluster() {
                let _ = cluster.stop();
            }
            let _ = fs::remove_dir_all(&self.path);
        }
    }

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

    fn have_binaries() -> bool {
        let found = !find_binaries(&default_bin_search_path()).is_empty();
        if !found {
            eprintln!("skipped: no PostgreSQL server binaries on this machine");
        }
        found
    }

    fn select_one(url: &str) -> i32 {
        let mut conn = PgConnection::establish(url).unwrap();
        diesel::select(sql::<Integer>("1"))
            .get_result(&mut conn)
            .unwrap()
    }

    fn port_accepts(port: u16) -> bool {
        TcpStream::connect((CLUSTER_HOST, port)).is_ok()
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
    fn a_running_local_server_is_preferred() {
        let default = LocalOptions::default();
        if TcpStream::connect_timeout(&"127.0.0.1:5432".parse().unwrap(), Duration::from_secs(1))
            .is_err()
        {
            eprintln!("skipped: no PostgreSQL server on 127.0.0.1:5432");
            return;
        }
        let dir = TestDir::new("local");
        let options = LocalOptions {
            data_dir: dir.path.join("unused"),
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
    fn with_nothing_possible_the_error_says_how_to_fix_it() {
        let dir = TestDir::new("none");
        let empty_bin = dir.path.join("bin");
        fs::create_dir(&empty_bin).unwrap();
        let error = find_server_with(&private_options(&dir), &[empty_bin]).unwrap_err();
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

    #[test]
    fn urls_are_taken_apart_and_built() {
        assert_eq!(
            url_address("postgres://postgres@127.0.0.1:5432").as_deref(),
            Some("127.0.0.1:5432")
        );
        assert_eq!(
            url_address("postgresql://u:p@db.local:6543/x?sslmode=disable").as_deref(),
            Some("db.local:6543")
        );
        assert_eq!(
            url_address("postgres://u@[::1]:5432/x").as_deref(),
            Some("[::1]:5432")
        );
        assert_eq!(
            url_address("postgres://u@[::1]/x").as_deref(),
            Some("[::1]:5432")
        );
        assert_eq!(
            url_address("postgres://postgres@localhost").as_deref(),
            Some("localhost:5432")
        );
        assert_eq!(url_address("postgres:///x?host=/run/postgresql"), None);
        assert_eq!(url_address("postgres://h1:1,h2:2/x"), None);
        assert_eq!(
            with_connect_timeout("postgres://h:1", Duration::from_millis(1500)),
            "postgres://h:1?connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://h:1?sslmode=disable", Duration::ZERO),
            "postgres://h:1?sslmode=disable&connect_timeout=1"
        );
        assert_eq!(
            url_with_database("postgres://h:1/", "db"),
            "postgres://h:1/db"
        );
        assert_eq!(
            url_with_database("postgres://h:1?sslmode=disable", "db"),
            "postgres://h:1/db?sslmode=disable"
        );
    }

    #[test]
    fn tool_outputs_are_parsed() {
        assert_eq!(
            parse_version("pg_ctl (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)\n"),
            Some((15, 13))
        );
        assert_eq!(
            parse_version("pg_ctl (PostgreSQL) 17devel\n"),
            Some((17, 0))
        );
        assert_eq!(parse_version("garbage"), None);
        assert_eq!(
            parse_postmaster_pid("4242\n/d\n1700000000\n54329\n/s\n127.0.0.1\n  1 2\nready\n"),
            Some(Postmaster {
                pid: 4242,
                port: Some(54329)
            })
        );
        assert_eq!(
            parse_postmaster_pid("4242\n/d\n"),
            Some(Postmaster {
                pid: 4242,
                port: None
            })
        );
        assert_eq!(
            parse_postmaster_pid("42"),
            Some(Postmaster {
                pid: 42,
                port: None
            })
        );
        assert_eq!(parse_postmaster_pid(""), None);
        let user = parse_passwd_line(
            "postgres:x:101:104:PostgreSQL:/var/lib/postgresql:/bin/bash",
            "postgres",
        )
        .unwrap();
        assert_eq!((user.uid, user.gid), (101, 104));
        assert!(parse_passwd_line("postgresx:x:1:1::/:/bin/sh", "postgres").is_none());
        assert_eq!(
            short_hash(b"/work/main/.beacon"),
            short_hash(b"/work/main/.beacon")
        );
        assert_eq!(short_hash(b"").len(), 12);
    }
}
