//! The private PostgreSQL cluster: kept under a data folder (normally `./.beacon`) and run with
//! the machine's own `initdb` and `pg_ctl`, as the `postgres` OS user when we are root.
//!
//! Several processes (parallel test binaries, say) may share it. They coordinate with flocks,
//! which the kernel drops when a process dies, so a killed run never wedges the next:
//! - `start.lock`, held exclusively, serializes initdb, start and stop;
//! - `users.lock`, held shared by every user for as long as it uses the cluster, is a reference
//!   count: a releasing process stops the cluster only if it can then lock it exclusively.
//!
//! Layout of the folder holding the cluster (the data folder, or its `/var/tmp` fallback):
//! `start.lock`, `users.lock`, and `postgres/` (owned by the cluster's OS user) with `data/`
//! (PGDATA), `server.log` and the unix socket.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use binaries::{find_binaries, pick_binaries};
use error::io_error;
use home::{CLUSTER_DIR, CLUSTER_USER, choose_base, cluster_os_user};
use server::{CLUSTER_HOST, Cluster, PGDATA_DIR};

pub(super) use binaries::default_bin_search_path;
pub(super) use error::ClusterError;

mod binaries;
mod error;
mod home;
mod server;
#[cfg(test)]
pub(super) mod test_support;

const START_LOCK: &str = "start.lock";
const USERS_LOCK: &str = "users.lock";

/// Starts the private cluster in `data_dir`, or joins it if it runs, and takes this process's
/// share of it. `bin_search` lists the folders to look for `initdb` and `pg_ctl` in.
pub(super) fn start(
    data_dir: &Path,
    port: u16,
    bin_search: &[PathBuf],
) -> Result<ClusterLease, ClusterError> {
    let candidates = find_binaries(bin_search);
    if candidates.is_empty() {
        return Err(ClusterError::NoBinaries);
    }
    let run_as = cluster_os_user()?;
    let (base, folder) = choose_base(data_dir, port, run_as.as_ref())?;
    let root = base.join(CLUSTER_DIR);
    let bins = pick_binaries(candidates, &root.join(PGDATA_DIR));
    let cluster = Cluster {
        base,
        root,
        bins,
        run_as,
    };
    ClusterLease::acquire(cluster, port, folder)
}

/// This process's share of a running private cluster: a shared flock on `users.lock`.
#[derive(Debug)]
pub(super) struct ClusterLease {
    cluster: Cluster,
    port: u16,
    /// The cluster's folder, as shown to people.
    folder: PathBuf,
    /// Holds the shared lock; closing it (even by dying) gives the share up.
    users: File,
}

impl ClusterLease {
    fn acquire(cluster: Cluster, port: u16, folder: PathBuf) -> Result<Self, ClusterError> {
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
            folder,
            users,
        })
    }

    pub(super) fn port(&self) -> u16 {
        self.port
    }

    pub(super) fn folder(&self) -> &Path {
        &self.folder
    }

    /// URL of the cluster without a database name.
    pub(super) fn base_url(&self) -> String {
        format!("postgres://{CLUSTER_USER}@{CLUSTER_HOST}:{}", self.port)
    }

    /// `host:port`, for people.
    pub(super) fn address(&self) -> String {
        format!("{CLUSTER_HOST}:{}", self.port)
    }

    /// Stops the cluster if no other process holds a share. Failures are only logged: this
    /// runs at shutdown, and a cluster left running is reused by the next start.
    pub(super) fn release(self) {
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
