//! Webhook delivery loops: claim a due delivery, POST it, record the attempt, and when nothing
//! is due wait for `beacon_events` (a new event) or the polling fallback (a retry coming due, a
//! lost notification). Every replica may run them: claims skip each other's locked rows.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::db::{self, Pool};
use crate::domain::webhook::RetrySchedule;
use crate::services::webhook_delivery::{self as service, Job, Outcome, TargetError, Waiter};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The whole attempt, answer included; well within [`service::LEASE`].
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Delivery {
    pub pool: Pool,
    pub client: reqwest::Client,
    pub schedule: RetrySchedule,
    pub allow_private_targets: bool,
    /// How long a subscription may fail before it is disabled.
    pub disable_after: Duration,
}

/// The client every worker shares: no redirects followed, bounded connect and total time,
/// https verified against the system's roots (plus `extra_roots`, DER, which only tests set).
/// Unless private targets are allowed, host names are resolved by [`PublicResolver`].
pub fn client(
    allow_private_targets: bool,
    extra_roots: &[Vec<u8>],
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .user_agent("Beacon-Webhooks/1");
    if !allow_private_targets {
        builder = builder.dns_resolver(PublicResolver::system());
    }
    if !extra_roots.is_empty() {
        let roots = extra_roots
            .iter()
            .map(|der| reqwest::Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()?;
        builder = builder.tls_certs_merge(roots);
    }
    builder.build()
}

type Lookup = dyn Fn(&str) -> std::io::Result<Vec<SocketAddr>> + Send + Sync;

/// Resolves a receiver's host once, checks every address, and hands the connection only those
/// checked addresses: the check and the connection cannot see different answers (DNS
/// rebinding). A host with any private, loopback, link-local or metadata address is refused.
#[derive(Clone)]
pub struct PublicResolver {
    lookup: Arc<Lookup>,
}

impl PublicResolver {
    /// Through the system resolver (`getaddrinfo`).
    pub fn system() -> PublicResolver {
        PublicResolver::with_lookup(|host| Ok((host, 0).to_socket_addrs()?.collect()))
    }

    /// Through `lookup` (tests answer as a rebinding DNS server would).
    pub fn with_lookup(
        lookup: impl Fn(&str) -> std::io::Result<Vec<SocketAddr>> + Send + Sync + 'static,
    ) -> PublicResolver {
        PublicResolver {
            lookup: Arc::new(lookup),
        }
    }
}

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let lookup = self.lookup.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = actix_web::rt::task::spawn_blocking(move || lookup(&host)).await??;
            let checked = service::public_only(found)?;
            Ok(Box::new(checked.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

pub async fn run(delivery: Delivery, waiter: Option<Waiter>) {
    let schedule = delivery.schedule.clone();
    let claim = move |conn: &mut _| service::claim(conn, &schedule, service::LEASE);
    let pool = delivery.pool.clone();
    super::queue::run(pool, waiter, "webhooks", claim, |job| delivery.attempt(job)).await;
}

impl Delivery {
    async fn attempt(&self, job: Job) {
        let attempted_at = Utc::now();
        let outcome = self.send(&job).await;
        let delivery_id = job.delivery_id;
        let schedule = self.schedule.clone();
        let disable_after = self.disable_after;
        let recorded = db::run(&self.pool, move |conn| {
            service::record(
                conn,
                &job,
                &outcome,
                &service::Policy {
                    schedule: &schedule,
                    disable_after,
                },
                attempted_at,
                Utc::now(),
            )
        })
        .await;
        match recorded {
            Ok(state) => {
                tracing::info!(delivery_id = %delivery_id, state = state.as_str(), "webhook attempt")
            }
            // The claim's lease runs out and the delivery is tried again.
            Err(error) => {
                tracing::warn!(delivery_id = %delivery_id, %error, "recording a webhook attempt failed")
            }
        }
    }

    async fn send(&self, job: &Job) -> Outcome {
        let started = Instant::now();
        // A host name is checked by the client's resolver as it connects; an address written
        // in the URL is never resolved, so it is checked here.
        if !self.allow_private_targets
            && let Err(error) = service::check_literal_target(&job.webhook_url)
        {
            return Outcome {
                status: None,
                latency: started.elapsed(),
                error: Some(error.to_string()),
                retry_after: None,
            };
        }
        let timestamp = Utc::now().timestamp();
        let sent = self
            .client
            .post(&job.webhook_url)
            .header("content-type", "application/json")
            .header("webhook-id", job.event_id.to_string())
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", job.signature(timestamp))
            .body(job.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = matches!(status, 429 | 503)
                    .then(|| response.headers().get("retry-after"))
                    .flatten()
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| service::parse_retry_after(value, Utc::now()));
                // Read (and drop) the answer so the connection can be reused.
                let _ = response.bytes().await;
                Outcome {
                    status: Some(status),
                    latency: started.elapsed(),
                    error: (!(200..300).contains(&status)).then(|| format!("HTTP {status}")),
                    retry_after,
                }
            }
            Err(error) => Outcome {
                status: None,
                latency: started.elapsed(),
                error: Some(describe(&error)),
                retry_after: None,
            },
        }
    }
}

/// What went wrong, without the URL (or anything sent).
pub fn describe(error: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<TargetError>() {
            return refused.to_string();
        }
        source = cause.source();
    }
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else if error.is_redirect() {
        "redirects are not followed".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use reqwest::dns::Resolve;

    use super::*;

    fn name(host: &str) -> reqwest::dns::Name {
        host.parse().unwrap()
    }

    #[actix_web::test]
    async fn the_connection_gets_exactly_the_addresses_the_check_passed() {
        // A rebinding server: public for the first question, loopback for every later one.
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = asked.clone();
        let resolver = PublicResolver::with_lookup(move |_| {
            let ip = if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                "93.184.216.34"
            } else {
                "127.0.0.1"
            };
            Ok(vec![SocketAddr::new(ip.parse().unwrap(), 0)])
        });

        let first: Vec<SocketAddr> = resolver
            .resolve(name("rebind.example"))
            .await
            .unwrap()
            .collect();
        let second = resolver.resolve(name("rebind.example")).await;

        assert_eq!(first, vec!["93.184.216.34:0".parse().unwrap()]);
        let error = second.err().unwrap();
        assert_eq!(error.to_string(), TargetError::Private.to_string());
        assert_eq!(asked.load(Ordering::SeqCst), 2, "one lookup per connection");
    }

    #[actix_web::test]
    async fn a_name_with_any_private_address_or_none_is_refused() {
        let mixed = PublicResolver::with_lookup(|_| {
            Ok(vec![
                "93.184.216.34:0".parse().unwrap(),
                "[fd00:ec2::254]:0".parse().unwrap(),
            ])
        });
        let empty = PublicResolver::with_lookup(|_| Ok(Vec::new()));

        let mixed = mixed.resolve(name("mixed.example")).await.err().unwrap();
        let empty = empty.resolve(name("empty.example")).await.err().unwrap();

        assert_eq!(mixed.to_string(), TargetError::Private.to_string());
        assert_eq!(empty.to_string(), TargetError::Unresolved.to_string());
    }
}
