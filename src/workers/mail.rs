//! Staff e-mail loops: claim a due e-mail, send it over SMTP, record the attempt; the shared
//! queue loop (`workers::queue`) waits between rounds. Runs only while `BEACON_SMTP_URL` is set.

use std::time::Duration;

use chrono::Utc;
use lettre::message::Body;
use lettre::message::Mailbox;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::db::{self, Pool};
use crate::domain::email::Email;
use crate::domain::notification::SmtpUrl;
use crate::domain::webhook::RetrySchedule;
use crate::services::delivery_queue::Waiter;
use crate::services::notifications::{self as service, MailJob, Style};

/// One SMTP conversation, connect to `QUIT`; well within the queue's lease.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub struct Mailer {
    pub pool: Pool,
    pub transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
    pub schedule: RetrySchedule,
    pub style: Style,
}

impl Mailer {
    /// A mailer sending through `url` as `from`; the error never repeats the URL.
    pub fn new(
        pool: Pool,
        url: &SmtpUrl,
        from: &Email,
        schedule: RetrySchedule,
        style: Style,
    ) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .map_err(|_| format!("{url:?} cannot be used"))?
            .timeout(Some(TIMEOUT))
            .build();
        let from = Mailbox::new(
            Some("Beacon".to_owned()),
            from.as_str()
                .parse()
                .map_err(|_| "BEACON_NOTIFY_FROM cannot be used".to_owned())?,
        );
        Ok(Mailer {
            pool,
            transport,
            from,
            schedule,
            style,
        })
    }
}

pub async fn run(mailer: Mailer, waiter: Option<Waiter>) {
    let schedule = mailer.schedule.clone();
    let style = mailer.style.clone();
    let claim = move |conn: &mut _| service::claim(conn, &schedule, &style);
    let pool = mailer.pool.clone();
    crate::workers::queue::run(pool, waiter, "e-mail", claim, |job| mailer.attempt(job)).await;
}

impl Mailer {
    async fn attempt(&self, job: MailJob) {
        let outcome = self.send(&job).await;
        let id = job.id;
        let schedule = self.schedule.clone();
        let recorded = db::run(&self.pool, move |conn| {
            service::record(conn, &job, outcome, &schedule, Utc::now())
        })
        .await;
        match recorded {
            // Ids only: the recipient and the message stay out of the logs.
            Ok(state) => tracing::info!(email_id = %id, state = state.as_str(), "e-mail attempt"),
            // The claim's lease runs out and the e-mail is tried again.
            Err(error) => tracing::warn!(email_id = %id, %error, "recording an e-mail failed"),
        }
    }

    async fn send(&self, job: &MailJob) -> Result<(), String> {
        let to: Mailbox = job
            .recipient
            .parse()
            .map_err(|_| "the recipient address cannot be used".to_owned())?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(job.message.subject.clone())
            // Unique per e-mail: a resend after a lost answer is recognisably the same message.
            .message_id(Some(format!("<{}.{}@beacon>", job.event_id, job.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(plain(job.message.body.clone()))
            .map_err(|_| "the message could not be built".to_owned())?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|error| describe(&error))
    }
}

/// Plain ASCII in short lines stays as written (no folding, links stay whole); anything else
/// is encoded.
fn plain(text: String) -> Body {
    Body::new_with_encoding(text, ContentTransferEncoding::SevenBit).unwrap_or_else(Body::new)
}

/// What went wrong, without the server's words (they may quote the message) or the URL.
fn describe(error: &SmtpError) -> String {
    if let Some(code) = error.status() {
        format!("SMTP {code}")
    } else if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_tls() {
        "TLS failed".to_owned()
    } else {
        "the SMTP conversation failed".to_owned()
    }
}
