//! Connecting to a server: a probe with a timeout, and the URL helpers around it.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::prelude::*;

/// Maintenance database that probes and `ensure_database` connect to (never `template1`: a
/// session there makes concurrent `CREATE DATABASE` fail).
pub(super) const ADMIN_DATABASE: &str = "postgres";
/// Limit for one probe unless the options say otherwise, so a dead port fails fast.
pub(super) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects and runs `SELECT 1`; the error is a one-line cause.
pub(super) fn try_connect(url: &str, timeout: Duration) -> Result<(), String> {
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
pub(super) fn url_address(url: &str) -> Option<String> {
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

pub(super) fn url_without_trailing_slash(url: &str) -> String {
    match url.split_once('?') {
        Some((head, query)) => format!("{}?{query}", head.trim_end_matches('/')),
        None => url.trim_end_matches('/').to_owned(),
    }
}

pub(super) fn url_with_database(base_url: &str, database: &str) -> String {
    match base_url.split_once('?') {
        Some((head, query)) => format!("{}/{database}?{query}", head.trim_end_matches('/')),
        None => format!("{}/{database}", base_url.trim_end_matches('/')),
    }
}

/// Collapses a (libpq, multi-line) message to one line.
pub(super) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
