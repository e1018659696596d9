//! One private cluster's PostgreSQL: initdb, starting and stopping it with `pg_ctl`, and telling
//! whether it runs and accepts connections.

use std::fs::{self, Permissions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::binaries::PgBinaries;
use super::error::{ClusterError, io_error};
use super::home::{CLUSTER_USER, OsUser};
use crate::devdb::connect::{ADMIN_DATABASE, DEFAULT_CONNECT_TIMEOUT, one_line, try_connect};

/// The private cluster listens here only: it trusts every local connection.
pub(super) const CLUSTER_HOST: &str = "127.0.0.1";
pub(super) const PGDATA_DIR: &str = "data";
const INITDB_STAGING_DIR: &str = "data.initdb";
const LOG_FILE: &str = "server.log";
/// Upper bound for a running cluster (maybe still starting) to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const PG_CTL_TIMEOUT_SECS: &str = "60";

#[derive(Debug)]
pub(super) struct Cluster {
    /// Holds the lock files; canonical.
    pub(super) base: PathBuf,
    /// `<base>/postgres`: PGDATA, log and socket; owned by the cluster's OS user.
    pub(super) root: PathBuf,
    pub(super) bins: PgBinaries,
    /// Set when we are root: the tools then run as this user.
    pub(super) run_as: Option<OsUser>,
}

/// What `postmaster.pid` says about a live postmaster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::devdb) struct Postmaster {
    pub(in crate::devdb) pid: u32,
    pub(super) port: Option<u16>,
}

impl Cluster {
    fn pgdata(&self) -> PathBuf {
        self.root.join(PGDATA_DIR)
    }

    /// Makes sure the cluster runs and accepts connections; returns its port. Call with
    /// `start.lock` held.
    pub(super) fn ensure_running(&self, port: u16) -> Result<u16, ClusterError> {
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

    pub(super) fn stop(&self) -> Result<(), ClusterError> {
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

pub(in crate::devdb) fn parse_postmaster_pid(text: &str) -> Option<Postmaster> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postmaster_pid_files_are_parsed() {
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
    }
}
