//! What can go wrong setting up the private cluster; shown as the cause inside `LocalDbError`.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub(in crate::devdb) enum ClusterError {
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

pub(super) fn io_error(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(io::Error) -> ClusterError {
    let path = path.to_path_buf();
    move |source| ClusterError::Io {
        action,
        path,
        source,
    }
}
