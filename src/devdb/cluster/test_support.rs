//! For the tests of `find_server` that start real private clusters: data folders that clean up
//! after themselves, and the internals a test needs to play a killed cluster.

use std::fs;
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::binaries::{default_bin_search_path, find_binaries};
use super::home::CLUSTER_DIR;
use super::server::{CLUSTER_HOST, Cluster};

pub(in crate::devdb) use super::home::cluster_os_user;
pub(in crate::devdb) use super::server::parse_postmaster_pid;

/// A unique data folder under the temp dir; on drop, stops a cluster a failed test left
/// running in it, then removes it.
pub(in crate::devdb) struct TestDir {
    pub(in crate::devdb) path: PathBuf,
}

impl TestDir {
    pub(in crate::devdb) fn new(tag: &str) -> Self {
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

pub(in crate::devdb) fn have_binaries() -> bool {
    let found = !find_binaries(&default_bin_search_path()).is_empty();
    if !found {
        eprintln!("skipped: no PostgreSQL server binaries on this machine");
    }
    found
}

pub(in crate::devdb) fn port_accepts(port: u16) -> bool {
    TcpStream::connect((CLUSTER_HOST, port)).is_ok()
}
