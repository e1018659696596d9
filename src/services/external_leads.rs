//! Leads an ad platform delivers to a source's webhook (Google Ads lead forms, Meta lead ads):
//! an [`ExternalLead`] becomes the intake's `NewLead` and is recorded through
//! `services::leads::submit` with every rule a form's enquiry gets (normalisation, dedupe,
//! contact deadline, crisis care, the number's rate limit, events), attributed to the source
//! and its default UTM values.
//!
//! Redelivery: platforms resend a lead until they see a success, so one platform lead id is one
//! submission per source. A unique index on `lead_submissions (lead_source_id, external_id)`
//! holds that, rather than intake's idempotency keys: those name a request body and expire
//! after a day, while a platform may resend later and with a body that differs (a new API
//! version). A lead already recorded answers `Redelivered` with its submission's id; two
//! deliveries racing both reach the insert, and the one that loses the unique index finds the
//! winner's submission instead.
//!
//! Consent: the platform's form is where the person agreed to be contacted, under the
//! advertiser's privacy policy that the form links to. Beacon records what the platform reports
//! of it (`ExternalLead::consent`, as a consent record without an IP, which would be the
//! platform's server); Google reports none, so its leads carry no marketing consent.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde_json::json;
use uuid::Uuid;

use crate::config::LeadSettings;
use crate::db::{interests, leads as queries};
use crate::domain::client::Client;
use crate::domain::email::Email;
use crate::domain::external_lead::{CustomAnswer, ExternalLead, InterestChoice};
use crate::domain::lead::{CLICK_ID_MAX_CHARS, CONSENT_TEXT_MAX_CHARS, NAME_MAX_CHARS};
use crate::domain::phone::E164Phone;
use crate::domain::suppression::SuppressionKey;
use crate::domain::text;
use crate::error::{Error, FieldError};
use crate::services::lead_sources::IntakeSource;
use crate::services::leads::{
    self, Attribution, Consent, ExternalSubmission, NewLead, Recorded, StoredResponse, Submitted,
};

const EXTERNAL_ID_MAX_CHARS: usize = 200;
const ANSWER_MAX_CHARS: usize = 2_000;
const QUESTION_MAX_CHARS: usize = 500;
const MAX_ANSWERS: usize = 100;

/// What became of a delivery.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// Recorded just now as this submission.
    Recorded {
        submission_id: Uuid,
        recorded: Recorded,
    },
    /// The source already has this platform lead: nothing was written.
    Redelivered { submission_id: Uuid },
}

impl Delivery {
    pub fn submission_id(&self) -> Uuid {
        match self {
            Delivery::Recorded { submission_id, .. } | Delivery::Redelivered { submission_id } => {
                *submission_id
            }
        }
    }
}

/// Records `lead`, delivered to `source` at `received`, unless the source already has it. A
/// lead intake cannot take (no valid phone number, no name) is a 422 whose pointers name the
/// neutral fields (`/phone`, `/name`, `/external_id`); an email intake refuses is kept among the
/// answers rather than losing the lead.
pub fn record(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    suppression_key: &SuppressionKey,
    source: &IntakeSource,
    lead: ExternalLead,
    received: DateTime<Utc>,
) -> Result<Delivery, Error> {
    let external_id = text::single_line(&lead.external_id, EXTERNAL_ID_MAX_CHARS)
        .map_err(|e| Error::invalid("/external_id", e))?;
    if let Some(submission_id) = queries::find_external(conn, source.id, &external_id)? {
        return Ok(Delivery::Redelivered { submission_id });
    }
    let choices: Vec<InterestChoice> = interests::list(conn, false)?
        .into_iter()
        .map(|row| InterestChoice {
            code: row.code,
            label: row.label,
        })
        .collect();
    let new_lead = new_lead(settings, source, lead, external_id.clone(), &choices)?;
    let submitted = leads::submit(
        conn,
        settings,
        suppression_key,
        new_lead,
        None,
        received,
        |receipt| {
            Ok(StoredResponse {
                status: 200,
                body: json!({ "id": receipt.id }),
            })
        },
    );
    match submitted {
        Ok(Submitted::New { recorded, response }) => {
            let submission_id = response.body["id"]
                .as_str()
                .and_then(|id| Uuid::parse_str(id).ok())
                .ok_or_else(|| Error::internal("intake's answer has no submission id"))?;
            Ok(Delivery::Recorded {
                submission_id,
                recorded,
            })
        }
        Ok(Submitted::Replayed(_)) => Err(Error::internal(
            "an external lead was replayed without an idempotency key",
        )),
        // The same lead delivered twice at once: the other delivery recorded it.
        Err(Error::Conflict(detail)) => {
            match queries::find_external(conn, source.id, &external_id)? {
                Some(submission_id) => Ok(Delivery::Redelivered { submission_id }),
                None => Err(Error::Conflict(detail)),
            }
        }
        Err(error) => Err(error),
    }
}

/// The intake's enquiry for a platform's lead: every problem at once.
fn new_lead(
    settings: &LeadSettings,
    source: &IntakeSource,
    lead: ExternalLead,
    external_id: String,
    choices: &[InterestChoice],
) -> Result<NewLead, Error> {
    let mut errors = Vec::new();
    let name = match lead.name() {
        Some(name) => text::single_line(&name, NAME_MAX_CHARS)
            .map_err(|e| errors.push(FieldError::new("/name", e)))
            .ok(),
        None => {
            errors.push(FieldError::new(
                "/name",
                "is required: the form must ask for the full name, or the first and last names",
            ));
            None
        }
    };
    let phone_input = lead.phone.as_deref().map(str::trim).unwrap_or_default();
    let phone = match E164Phone::parse(phone_input, settings.default_region) {
        Ok(phone) => Some(phone),
        Err(e) => {
            errors.push(FieldError::new("/phone", e));
            None
        }
    };
    let consent = lead.consent.as_ref().and_then(|consent| {
        text::multi_line(&consent.wording, CONSENT_TEXT_MAX_CHARS)
            .map_err(|e| errors.push(FieldError::new("/consent/wording", e)))
            .ok()
            .map(|wording| Consent {
                agreed: consent.agreed,
                wording,
                version: None,
                page_url: None,
            })
    });
    let (Some(name), Some(phone)) = (name, phone) else {
        return Err(Error::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }

    let mut kept = lead.answers.clone();
    let email = match lead.email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(input) => Email::parse(input).ok().or_else(|| {
            kept.push(extra("EMAIL", "Email (not a valid address)", input));
            None
        }),
    };
    if let Some(postal_code) = lead.postal_code.as_deref().map(str::trim)
        && !postal_code.is_empty()
    {
        kept.push(extra("POSTAL_CODE", "Postal code", postal_code));
    }
    let interests = lead.interests(source.interests_question.as_deref(), choices);
    let mut attribution = Attribution {
        gclid: lead
            .attribution
            .gclid
            .as_deref()
            .and_then(|gclid| text::single_line(gclid, CLICK_ID_MAX_CHARS).ok()),
        ..Attribution::default()
    };
    source.defaults.fill(
        &mut attribution.utm_source,
        &mut attribution.utm_medium,
        &mut attribution.utm_campaign,
    );
    let context: serde_json::Map<String, serde_json::Value> = lead
        .attribution
        .context()
        .into_iter()
        .map(|(name, value)| (name.to_owned(), json!(clean(value, QUESTION_MAX_CHARS))))
        .collect();
    Ok(NewLead {
        name,
        phone_input: phone_input.to_owned(),
        phone,
        email,
        interests,
        message: None,
        preferred_contact_time: None,
        consent,
        attribution,
        rendered_at: None,
        honeypot_filled: false,
        // The platform's server sent it: no person's address or browser to keep.
        client: Client::default(),
        source: Some(source.id),
        external: Some(ExternalSubmission {
            id: external_id,
            answers: answers_json(&kept),
            context: serde_json::Value::Object(context),
        }),
        test: lead.is_test,
    })
}

fn extra(key: &str, question: &str, answer: &str) -> CustomAnswer {
    CustomAnswer {
        key: Some(key.to_owned()),
        question: question.to_owned(),
        answer: answer.to_owned(),
    }
}

/// The answers as stored: at most [`MAX_ANSWERS`], each cut to size, without the NUL and
/// other control characters PostgreSQL or a staff screen cannot take.
fn answers_json(answers: &[CustomAnswer]) -> serde_json::Value {
    answers
        .iter()
        .take(MAX_ANSWERS)
        .map(|answer| {
            json!({
                "key": answer.key.as_deref().map(|key| clean(key, QUESTION_MAX_CHARS)),
                "question": clean(&answer.question, QUESTION_MAX_CHARS),
                "answer": clean(&answer.answer, ANSWER_MAX_CHARS),
            })
        })
        .collect()
}

fn clean(value: &str, max_chars: usize) -> String {
    value
        .trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(max_chars)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_answers_lose_control_characters_and_are_cut_to_size() {
        let long = "x".repeat(ANSWER_MAX_CHARS + 10);
        let stored = answers_json(&[
            extra("Q", "What?\u{0}", "a\u{0}b\nc"),
            extra("L", "Long", &long),
        ]);
        assert_eq!(stored[0]["question"], "What?");
        assert_eq!(stored[0]["answer"], "ab\nc");
        assert_eq!(
            stored[1]["answer"].as_str().map(|a| a.chars().count()),
            Some(ANSWER_MAX_CHARS)
        );
    }
}
