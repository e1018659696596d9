//! Staff e-mail notifications through a real SMTP conversation with a small in-test server:
//! one de-identified e-mail per new lead to every address, exactly once even when the server
//! fails and recovers, one per missed contact deadline, and nothing queued without SMTP.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use beacon::config::Settings;
use beacon::domain::email::Email;
use beacon::domain::notification::SmtpUrl;
use beacon::domain::rate_limit::FixedWindow;
use beacon::domain::webhook::RetrySchedule;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{TestApp, spawn_app_with};

const STAFF: [&str; 2] = ["frontdesk@clinic.example", "nurse@clinic.example"];

/// One accepted message: its envelope and its data.
#[derive(Clone, Debug)]
struct Mail {
    from: String,
    to: Vec<String>,
    data: String,
}

#[derive(Default)]
struct SmtpState {
    accepted: Vec<Mail>,
    /// `DATA` commands still to refuse with a 451.
    refuse_data: usize,
    data_commands: usize,
}

/// Speaks just enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and records it.
struct SmtpServer {
    port: u16,
    state: Arc<Mutex<SmtpState>>,
}

impl SmtpServer {
    async fn start(refuse_data: usize) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(SmtpState {
            refuse_data,
            ..SmtpState::default()
        }));
        let shared = state.clone();
        actix_web::rt::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                actix_web::rt::spawn(converse(stream, shared.clone()));
            }
        });
        SmtpServer { port, state }
    }

    fn url(&self) -> SmtpUrl {
        // No `tls` parameter: STARTTLS when offered, and this server does not offer it.
        SmtpUrl::parse(&format!("smtp://127.0.0.1:{}", self.port)).unwrap()
    }

    fn accepted(&self) -> Vec<Mail> {
        self.state.lock().unwrap().accepted.clone()
    }

    fn data_commands(&self) -> usize {
        self.state.lock().unwrap().data_commands
    }

    /// Polls until `count` messages were accepted, or fails after a deadline.
    async fn wait_for(&self, count: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let accepted = self.accepted();
            if accepted.len() >= count {
                return accepted;
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP server accepted {} of {count} messages",
                accepted.len()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn converse(stream: tokio::net::TcpStream, state: Arc<Mutex<SmtpState>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 test.local ESMTP\r\n").await.unwrap();
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let answer: String = match verb.as_str() {
            "EHLO" => "250-test.local\r\n250 8BITMIME\r\n".to_owned(),
            "HELO" | "NOOP" => "250 ok\r\n".to_owned(),
            "RSET" => {
                (from, to) = (String::new(), Vec::new());
                "250 ok\r\n".to_owned()
            }
            "MAIL" => {
                from = line.clone();
                "250 ok\r\n".to_owned()
            }
            "RCPT" => {
                to.push(address(&line));
                "250 ok\r\n".to_owned()
            }
            "DATA" => {
                let refuse = {
                    let mut state = state.lock().unwrap();
                    state.data_commands += 1;
                    let refuse = state.refuse_data > 0;
                    state.refuse_data = state.refuse_data.saturating_sub(1);
                    refuse
                };
                if refuse {
                    "451 4.3.0 try again later\r\n".to_owned()
                } else {
                    write.write_all(b"354 go ahead\r\n").await.unwrap();
                    let mut data = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if line == "." {
                            break;
                        }
                        // Unfolds quoted-printable soft breaks, should a line need them.
                        match line.strip_suffix('=') {
                            Some(folded) => data.push_str(folded),
                            None => {
                                data.push_str(&line);
                                data.push('\n');
                            }
                        }
                    }
                    state.lock().unwrap().accepted.push(Mail {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                    });
                    "250 queued\r\n".to_owned()
                }
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => "502 not implemented\r\n".to_owned(),
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// `RCPT TO:<a@b>` → `a@b`.
fn address(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}

fn mailing(settings: &mut Settings, server: &SmtpServer, schedule: &str) {
    settings.leads.rate_per_ip = FixedWindow::per_minute(0);
    settings.leads.rate_per_phone = FixedWindow::per_hour(0);
    settings.events.scan_interval = None;
    settings.events.retry_schedule = RetrySchedule::parse(schedule).unwrap();
    settings.notify.smtp = Some(server.url());
    settings.notify.recipients = STAFF.iter().map(|a| Email::parse(a).unwrap()).collect();
    settings.notify.from = Email::parse("beacon@clinic.example").unwrap();
    settings.notify.lead_url = "https://crm.clinic.example/leads/{id}".to_owned();
}

/// Sends an enquiry; returns its lead and contact deadline.
async fn enquire(app: &TestApp, body: Value) -> (uuid::Uuid, DateTime<Utc>) {
    let response = app
        .client
        .post(app.url("/v1/leads"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    let contact_by = receipt["contact_by"].as_str().unwrap().parse().unwrap();
    (app.lead_of(&receipt["id"]), contact_by)
}

fn a_person_in_crisis() -> Value {
    json!({
        "name": "Zelda Quixote",
        "phone": "(415) 555-0199",
        "email": "zelda.quixote@example.com",
        "message": "Flashbacks every night since the accident",
        "interests": ["suicidal_ideation", "ptsd"],
        "utm_source": "newsletter",
        "article_slug": "ketamine-explained",
    })
}

fn email_states(app: &TestApp) -> Vec<(String, i32)> {
    use beacon::db::schema::email_deliveries as d;
    d::table
        .order(d::recipient)
        .select((d::state, d::attempts))
        .load(&mut app.connection())
        .unwrap()
}

async fn wait_until_delivered(app: &TestApp, count: usize) -> Vec<(String, i32)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let states = email_states(app);
        if states.len() == count && states.iter().all(|(state, _)| state == "delivered") {
            return states;
        }
        assert!(Instant::now() < deadline, "e-mails are {states:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_new_lead_is_emailed_to_every_address_with_its_id_and_deadline_and_nothing_personal() {
    let smtp = SmtpServer::start(0).await;
    let app = spawn_app_with(|settings| mailing(settings, &smtp, "0s")).await;

    let (lead, contact_by) = enquire(&app, a_person_in_crisis()).await;

    let mails = smtp.wait_for(2).await;
    wait_until_delivered(&app, 2).await;
    let mut recipients: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    recipients.sort();
    assert_eq!(recipients, STAFF);
    assert_eq!(smtp.accepted().len(), 2, "one e-mail per address, once");
    for mail in &mails {
        assert!(mail.from.contains("beacon@clinic.example"));
        let data = &mail.data;
        assert!(
            data.contains("Subject: [Beacon] New lead: call first"),
            "{data}"
        );
        assert!(
            data.contains(&format!("https://crm.clinic.example/leads/{lead}")),
            "{data}"
        );
        assert!(data.contains(&contact_by.format("%Y-%m-%dT%H:%M:%SZ").to_string()));
        assert!(data.contains("newsletter") && data.contains("ketamine-explained"));
        let lowered = data.to_lowercase();
        for secret in [
            "zelda",
            "quixote",
            "555-0199",
            "5550199",
            "example.com",
            "flashbacks",
            "suicidal",
            "ptsd",
            "urgent",
            "priority",
        ] {
            assert!(!lowered.contains(secret), "the e-mail shows {secret:?}");
        }
    }
}

#[actix_web::test]
async fn an_smtp_server_that_fails_and_recovers_gets_each_email_exactly_once() {
    let smtp = SmtpServer::start(2).await;
    let app = spawn_app_with(|settings| {
        mailing(settings, &smtp, "0s,50ms,50ms");
        settings.notify.recipients = vec![Email::parse(STAFF[0]).unwrap()];
    })
    .await;

    let (lead, _) = enquire(&app, json!({"name": "Ada", "phone": "(415) 555-0101"})).await;

    let states = wait_until_delivered(&app, 1).await;
    assert_eq!(states, [("delivered".to_owned(), 3)]);
    assert_eq!(smtp.data_commands(), 3);
    let mails = smtp.accepted();
    assert_eq!(mails.len(), 1, "accepted once");
    assert!(mails[0].data.contains(&lead.to_string()));
    assert!(!mails[0].data.contains("CALL FIRST"), "not urgent");
}

#[actix_web::test]
async fn a_missed_contact_deadline_is_emailed_once() {
    let smtp = SmtpServer::start(0).await;
    let app = spawn_app_with(|settings| {
        mailing(settings, &smtp, "0s");
        settings.notify.recipients = vec![Email::parse(STAFF[1]).unwrap()];
    })
    .await;
    let (lead, contact_by) = enquire(&app, a_person_in_crisis()).await;
    smtp.wait_for(1).await;

    let after = contact_by + chrono::Duration::seconds(1);
    let scanned = beacon::services::events::scan(&mut app.connection(), after).unwrap();
    beacon::services::events::scan(&mut app.connection(), after).unwrap();

    assert_eq!(scanned.breached, 1);
    let mails = smtp.wait_for(2).await;
    wait_until_delivered(&app, 2).await;
    let breach = &mails[1].data;
    assert!(
        breach.contains("Subject: [Beacon] Lead not contacted by its deadline: call first"),
        "{breach}"
    );
    assert!(breach.contains(&lead.to_string()));
    assert!(!breach.to_lowercase().contains("zelda"));
    assert_eq!(smtp.accepted().len(), 2);
}

#[actix_web::test]
async fn without_smtp_settings_no_email_is_queued() {
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.events.scan_interval = None;
        // Addresses alone, as a half-done configuration would leave them.
        settings.notify.recipients = vec![Email::parse(STAFF[0]).unwrap()];
    })
    .await;

    enquire(&app, json!({"name": "Ada", "phone": "(415) 555-0101"})).await;

    assert!(email_states(&app).is_empty());
    use beacon::db::schema::notification_recipients as r;
    let recipients: i64 = r::table.count().get_result(&mut app.connection()).unwrap();
    assert_eq!(recipients, 0);
}
