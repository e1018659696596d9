//! Who runs the private cluster, and the folder it lives in.

use std::fs::{self, Permissions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::error::{ClusterError, io_error};

/// Superuser created by initdb, and the OS user that runs the cluster when we are root.
pub(super) const CLUSTER_USER: &str = "postgres";
/// The cluster's own folder inside the base folder, owned by its OS user.
pub(super) const CLUSTER_DIR: &str = "postgres";
const FALLBACK_PREFIX: &str = "/var/tmp/beacon-pg-";
/// `sun_path` holds 108 bytes including the NUL; PostgreSQL refuses longer socket paths.
const SOCKET_PATH_MAX: usize = 107;

#[derive(Debug, Clone)]
pub(in crate::devdb) struct OsUser {
    pub(in crate::devdb) name: String,
    pub(super) uid: u32,
    pub(super) gid: u32,
}

/// `/proc/self` belongs to the effective uid; no libc call (and no `unsafe`) needed. Unix
/// systems without `/proc` (macOS, most BSDs) end here, before anything else needs it.
fn effective_uid() -> Result<u32, ClusterError> {
    let proc_self = Path::new("/proc/self");
    match fs::metadata(proc_self) {
        Ok(meta) => Ok(meta.uid()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Err(ClusterError::Setup(
            "the private cluster needs /proc, as on Linux, and this system has none".to_owned(),
        )),
        Err(error) => Err(io_error("could not read", proc_self)(error)),
    }
}

/// initdb and postgres refuse to run as root, so root runs them as `postgres`.
pub(in crate::devdb) fn cluster_os_user() -> Result<Option<OsUser>, ClusterError> {
    let euid = effective_uid()?;
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
pub(super) fn choose_base(
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
    let euid = effective_uid()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lines_are_parsed() {
        let user = parse_passwd_line(
            "postgres:x:101:104:PostgreSQL:/var/lib/postgresql:/bin/bash",
            "postgres",
        )
        .unwrap();
        assert_eq!((user.uid, user.gid), (101, 104));
        assert!(parse_passwd_line("postgresx:x:1:1::/:/bin/sh", "postgres").is_none());
    }

    #[test]
    fn fallback_folder_hashes_are_deterministic_and_twelve_characters() {
        assert_eq!(
            short_hash(b"/work/main/.beacon"),
            short_hash(b"/work/main/.beacon")
        );
        assert_eq!(short_hash(b"").len(), 12);
    }
}
