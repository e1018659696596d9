// TEMPORARY STUB (replaced by the real module).
use diesel::{Connection, PgConnection, RunQueryDsl};
use std::path::PathBuf;
pub struct LocalOptions {
    pub probe_url: String,
    pub data_dir: PathBuf,
    pub cluster_port: u16,
    pub connect_timeout: std::time::Duration,
}
impl Default for LocalOptions {
    fn default() -> Self {
        Self {
            probe_url: "postgres://postgres@127.0.0.1:5432".into(),
            data_dir: ".beacon".into(),
            cluster_port: 54329,
            connect_timeout: std::time::Duration::from_secs(2),
        }
    }
}
pub enum ServerKind {
    LocalServer,
}
pub struct LocalServer {
    base: String,
}
#[derive(Debug, thiserror::Error)]
pub enum LocalDbError {
    #[error("no PostgreSQL: {0}; set DATABASE_URL")]
    Unavailable(String),
}
impl LocalServer {
    pub fn kind(&self) -> &ServerKind {
        &ServerKind::LocalServer
    }
    pub fn describe(&self) -> String {
        format!("local PostgreSQL at {}", self.base)
    }
    pub fn url_for(&self, database: &str) -> String {
        format!("{}/{}", self.base, database)
    }
    pub fn ensure_database(&self, database: &str) -> Result<String, LocalDbError> {
        let mut c = PgConnection::establish(&self.url_for("postgres"))
            .map_err(|e| LocalDbError::Unavailable(e.to_string()))?;
        let _ = diesel::sql_query(format!("CREATE DATABASE \"{database}\"")).execute(&mut c);
        Ok(self.url_for(database))
    }
    pub fn release(self) {}
}
pub fn find_server(options: &LocalOptions) -> Result<LocalServer, LocalDbError> {
    Ok(LocalServer {
        base: options.probe_url.clone(),
    })
}
