//! The managed list of interests (conditions) lead forms offer: listing, adding, relabelling,
//! reordering, deactivating. Codes are never deleted: leads refer to them.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::interests::{self as queries, InterestChanges, InterestRow};
use crate::domain::{lead, text};
use crate::error::{Error, FieldError};

pub const LABEL_MAX_CHARS: usize = 100;
pub const MAX_POSITION: i32 = 10_000;

/// One condition a lead form can ask about.
#[derive(Debug, Clone)]
pub struct InterestView {
    pub code: String,
    pub label: String,
    pub active: bool,
    pub position: i32,
    pub updated_at: DateTime<Utc>,
}

impl From<InterestRow> for InterestView {
    fn from(row: InterestRow) -> Self {
        InterestView {
            code: row.code,
            label: row.label,
            active: row.active,
            position: row.position,
            updated_at: row.updated_at,
        }
    }
}

/// A validated new interest.
pub struct NewInterest {
    code: String,
    label: String,
    position: i32,
}

impl NewInterest {
    /// Field errors point at `/code`, `/label` and `/position`, the shape of the HTTP body.
    pub fn parse(code: &str, label: &str, position: Option<i32>) -> Result<Self, Error> {
        let code = lead::interest_code(code).map_err(|e| FieldError::new("/code", e));
        let label = parse_label(label);
        let position = parse_position(position.unwrap_or(0));
        match (code, label, position) {
            (Ok(code), Ok(label), Ok(position)) => Ok(Self {
                code,
                label,
                position,
            }),
            (code, label, position) => Err(Error::Validation(
                [code.err(), label.err(), position.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
            )),
        }
    }
}

/// Validated changes to an interest; absent fields stay as they are.
pub struct InterestUpdate(InterestChanges);

impl InterestUpdate {
    pub fn parse(
        label: Option<&str>,
        active: Option<bool>,
        position: Option<i32>,
    ) -> Result<Self, Error> {
        let label = label.map(parse_label).transpose();
        let position = position.map(parse_position).transpose();
        match (label, position) {
            (Ok(label), Ok(position)) => Ok(Self(InterestChanges {
                label,
                active,
                position,
            })),
            (label, position) => Err(Error::Validation(
                [label.err(), position.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
            )),
        }
    }

    fn is_empty(&self) -> bool {
        self.0.label.is_none() && self.0.active.is_none() && self.0.position.is_none()
    }
}

fn parse_label(label: &str) -> Result<String, FieldError> {
    text::single_line(label, LABEL_MAX_CHARS).map_err(|e| FieldError::new("/label", e))
}

fn parse_position(position: i32) -> Result<i32, FieldError> {
    if (0..=MAX_POSITION).contains(&position) {
        Ok(position)
    } else {
        Err(FieldError::new(
            "/position",
            format!("must be between 0 and {MAX_POSITION}"),
        ))
    }
}

pub fn list(conn: &mut PgConnection, include_inactive: bool) -> Result<Vec<InterestView>, Error> {
    let rows = queries::list(conn, include_inactive)?;
    Ok(rows.into_iter().map(InterestView::from).collect())
}

pub fn create(conn: &mut PgConnection, interest: NewInterest) -> Result<InterestView, Error> {
    let inserted = queries::insert(
        conn,
        &queries::NewInterest {
            code: &interest.code,
            label: &interest.label,
            position: interest.position,
        },
    );
    match inserted {
        Ok(row) => {
            tracing::info!(code = %row.code, "interest created");
            Ok(row.into())
        }
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(Error::Conflict(format!(
                "An interest with code `{}` already exists; change it with PATCH.",
                interest.code
            )))
        }
        Err(error) => Err(error.into()),
    }
}

pub fn update(
    conn: &mut PgConnection,
    code: &str,
    update: InterestUpdate,
) -> Result<InterestView, Error> {
    if update.is_empty() {
        let row = queries::find(conn, code)?.ok_or(Error::NotFound)?;
        return Ok(row.into());
    }
    let row = queries::update(conn, code, &update.0)?.ok_or(Error::NotFound)?;
    tracing::info!(code = %row.code, active = row.active, "interest updated");
    Ok(row.into())
}
