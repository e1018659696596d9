//! Finding PostgreSQL's server binaries (`initdb`, `pg_ctl`) and choosing a version.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PgBinaries {
    pub(super) dir: PathBuf,
    pub(super) version: (u32, u32),
}

/// PATH, then every `/usr/lib/postgresql/*/bin` (Debian and Ubuntu keep them off PATH).
pub(in crate::devdb) fn default_bin_search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
        dirs.extend(entries.flatten().map(|entry| entry.path().join("bin")));
    }
    dirs
}

/// Every installation found, highest version first.
pub(super) fn find_binaries(search: &[PathBuf]) -> Vec<PgBinaries> {
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
pub(super) fn pick_binaries(candidates: Vec<PgBinaries>, pgdata: &Path) -> PgBinaries {
    let wanted: Option<u32> = fs::read_to_string(pgdata.join("PG_VERSION"))
        .ok()
        .and_then(|text| text.trim().parse().ok());
    let matching = wanted.and_then(|major| candidates.iter().position(|b| b.version.0 == major));
    let mut candidates = candidates;
    candidates.swap_remove(matching.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_ctl_versions_are_parsed() {
        assert_eq!(
            parse_version("pg_ctl (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)\n"),
            Some((15, 13))
        );
        assert_eq!(
            parse_version("pg_ctl (PostgreSQL) 17devel\n"),
            Some((17, 0))
        );
        assert_eq!(parse_version("garbage"), None);
    }
}
