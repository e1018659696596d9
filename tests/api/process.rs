//! The real `beacon` binary as a child process, for tests about start-up, signals and sockets,
//! and a TCP proxy in front of PostgreSQL that a test can refuse, open and cut, so "the database
//! goes away" never touches the server every test shares.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const START_ATTEMPTS: usize = 3;
const PAUSE: Duration = Duration::from_millis(50);

/// The `beacon` binary serving on a loopback port, killed when dropped.
pub struct Server {
    child: Child,
    pub base_url: String,
    pub log: PathBuf,
}

impl Server {
    /// Starts on a free port and waits until `/readyz` answers 200.
    pub async fn start(database_url: &str, log: &Path, client: &reqwest::Client) -> Self {
        Self::start_with(database_url, log, client, &[], "/readyz").await
    }

    /// Starts with extra environment and waits until `ready_path` answers 200; tries another
    /// port if something took the chosen one before beacon bound it.
    pub async fn start_with(
        database_url: &str,
        log: &Path,
        client: &reqwest::Client,
        env: &[(&str, &str)],
        ready_path: &str,
    ) -> Self {
        for _ in 0..START_ATTEMPTS {
            let mut server = Self::spawn(database_url, log, env);
            if server
                .wait_for(client, ready_path, Duration::from_secs(30))
                .await
            {
                return server;
            }
            server.kill();
        }
        panic!("beacon did not start; see {}", log.display());
    }

    fn spawn(database_url: &str, log: &Path, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log_file = File::options().create(true).append(true).open(log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_beacon"));
        command
            .env("DATABASE_URL", database_url)
            .env("BEACON_ADDR", format!("127.0.0.1:{port}"))
            .env("BEACON_LEAD_RATE_PER_IP", "0")
            .env("BEACON_LEAD_RATE_PER_PHONE", "0")
            .env("BEACON_LOG_FORMAT", "json")
            .env("RUST_LOG", "info");
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap();
        Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log: log.to_owned(),
        }
    }

    /// Polls `path` until it answers 200; false if the process exited or time ran out.
    async fn wait_for(&mut self, client: &reqwest::Client, path: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return false;
            }
            let up = client
                .get(format!("{}{path}", self.base_url))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200);
            if up {
                return true;
            }
            actix_web::rt::time::sleep(PAUSE).await;
        }
        false
    }

    /// The port, for raw TCP clients.
    pub fn address(&self) -> String {
        self.base_url.trim_start_matches("http://").to_owned()
    }

    /// SIGTERM: the graceful shutdown an orchestrator asks for.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// The exit status, or `None` if the process is still running after `limit`.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            actix_web::rt::time::sleep(PAUSE).await;
        }
    }

    /// SIGKILL: no graceful shutdown, no chance to finish anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A log file of its own in the temporary directory.
pub fn log_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "beacon-{name}-{}.log",
        uuid::Uuid::new_v4().simple()
    ))
}

/// Forwards a loopback port to PostgreSQL. While refusing, it accepts and at once closes every
/// connection (a client sees the server go away); `cut` drops every live connection.
pub struct Proxy {
    pub port: u16,
    open: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
    task: actix_web::rt::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy to `database_url`'s server, refusing until [`Proxy::open`].
    pub async fn refusing(database_url: &str) -> Self {
        let url = url::Url::parse(database_url).unwrap();
        let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(false));
        let (cuts, _) = watch::channel(0);
        let task = actix_web::rt::spawn(accept(listener, upstream, open.clone(), cuts.clone()));
        Self {
            port,
            open,
            cuts,
            task,
        }
    }

    /// `database_url` with its host and port replaced by the proxy's.
    pub fn url_for(&self, database_url: &str) -> String {
        let mut url = url::Url::parse(database_url).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.to_string()
    }

    pub fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }

    /// The database "restarts": every live connection is dropped and new ones are refused.
    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|generation| *generation += 1);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

async fn accept(
    listener: TcpListener,
    upstream: String,
    open: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
) {
    while let Ok((client, _)) = listener.accept().await {
        if !open.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        let mut cut = cuts.subscribe();
        let upstream = upstream.clone();
        actix_web::rt::spawn(async move {
            let Ok(mut server) = TcpStream::connect(&upstream).await else {
                return;
            };
            let mut client = client;
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = cut.changed() => {}
            }
        });
    }
}
