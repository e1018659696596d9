//! The domain's enums as the `text` columns that hold them (each column's CHECK constraint lists
//! the same names). Rows hold the enum and queries compare with it; a stored name Beacon does
//! not know fails the query with an error naming the column, never a guess. The domain keeps
//! the names (`as_str`, `parse`); only this file knows they travel as SQL `text`.

use std::error::Error as StdError;

use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Nullable, SingleValue, Text};

use crate::domain::article::Status;
use crate::domain::audit::Action;
use crate::domain::event::EventType;
use crate::domain::lead::{ConsentKind, Priority, SpamReason};
use crate::domain::lead_change::ActivityAction;
use crate::domain::lead_source::SourceKind;
use crate::domain::pipeline::LeadStatus;
use crate::domain::webhook::{DeliveryState, Format};

/// An enum stored by name in a `text` column.
pub trait TextEnum: Copy + Sized + 'static {
    /// Where it is stored, for the error about a name Beacon does not know.
    const COLUMNS: &'static str;
    fn name(self) -> &'static str;
    fn from_name(name: &str) -> Option<Self>;
}

/// The stored name as a quoted SQL literal, for SQL written as text. Literals rather than bound
/// parameters where a partial index should serve the query: the planner matches an index's
/// predicate against literals only.
pub fn literal<T: TextEnum>(value: T) -> String {
    format!("'{}'", value.name())
}

fn decode<T: TextEnum>(bytes: &[u8]) -> deserialize::Result<T> {
    let name = std::str::from_utf8(bytes)?;
    T::from_name(name).ok_or_else(|| -> Box<dyn StdError + Send + Sync> {
        format!("{} holds `{name}`, which Beacon does not know", T::COLUMNS).into()
    })
}

/// Implements [`TextEnum`] from the type's `as_str` and `parse`, and the diesel traits that let
/// a column of SQL type `Text` (or `Nullable<Text>`) be read into it, written from it and
/// compared with it. A value binds as an owned `String`: an expression holding `&'static str`
/// trips rust-lang/rust#21974 beside the `&'a str` fields of a derived `Insertable`.
macro_rules! text_enum {
    ($($ty:ty => $columns:literal,)*) => {$(
        impl TextEnum for $ty {
            const COLUMNS: &'static str = $columns;

            fn name(self) -> &'static str {
                self.as_str()
            }

            fn from_name(name: &str) -> Option<Self> {
                <$ty>::parse(name)
            }
        }

        impl FromSql<Text, Pg> for $ty {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                decode(value.as_bytes())
            }
        }

        impl<ST: SingleValue> Queryable<ST, Pg> for $ty
        where
            Self: FromSql<ST, Pg>,
        {
            type Row = Self;

            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.name(), out)
            }
        }

        impl AsExpression<Text> for $ty {
            type Expression = <String as AsExpression<Text>>::Expression;

            fn as_expression(self) -> Self::Expression {
                AsExpression::<Text>::as_expression(self.name().to_owned())
            }
        }

        impl AsExpression<Nullable<Text>> for $ty {
            type Expression = <String as AsExpression<Nullable<Text>>>::Expression;

            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<Text>>::as_expression(self.name().to_owned())
            }
        }

        impl AsExpression<Text> for &$ty {
            type Expression = <String as AsExpression<Text>>::Expression;

            fn as_expression(self) -> Self::Expression {
                AsExpression::<Text>::as_expression(self.name().to_owned())
            }
        }

        impl AsExpression<Nullable<Text>> for &$ty {
            type Expression = <String as AsExpression<Nullable<Text>>>::Expression;

            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<Text>>::as_expression(self.name().to_owned())
            }
        }
    )*};
}

text_enum! {
    LeadStatus => "leads.status, lead_activity.from_status or lead_activity.to_status",
    Priority => "leads.priority",
    SpamReason => "lead_submissions.spam_reason",
    ConsentKind => "consent_records.kind",
    ActivityAction => "lead_activity.action",
    Action => "access_audit.action",
    Status => "articles.status",
    EventType => "events.type",
    Format => "webhooks.format",
    DeliveryState => "webhook_deliveries.state",
    SourceKind => "lead_sources.kind",
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn round_trips<T: TextEnum + PartialEq + std::fmt::Debug>(all: &[T]) {
        for value in all {
            assert_eq!(decode::<T>(value.name().as_bytes()).unwrap(), *value);
            assert!(
                !value.name().contains('\''),
                "{value:?} cannot be a literal"
            );
        }
    }

    #[test]
    fn every_stored_name_reads_back_as_its_value() {
        round_trips(&LeadStatus::ALL);
        round_trips(&Priority::ALL);
        round_trips(&SpamReason::ALL);
        round_trips(&ConsentKind::ALL);
        round_trips(&ActivityAction::ALL);
        round_trips(&Action::ALL);
        round_trips(&Format::ALL);
        round_trips(&DeliveryState::ALL);
        round_trips(&SourceKind::ALL);
        round_trips(&EventType::ALL);
        round_trips(&[
            Status::Draft,
            Status::Scheduled,
            Status::Published,
            Status::Archived,
        ]);
    }

    #[test]
    fn an_unknown_stored_name_is_an_error_naming_the_column_not_a_default() {
        let error = decode::<Status>(b"retracted").unwrap_err();
        assert_eq!(
            error.to_string(),
            "articles.status holds `retracted`, which Beacon does not know"
        );
        let error = decode::<LeadStatus>(b"won").unwrap_err();
        assert!(error.to_string().starts_with("leads.status, "), "{error}");
    }

    #[test]
    fn a_literal_is_the_quoted_stored_name() {
        assert_eq!(literal(LeadStatus::DoNotContact), "'do_not_contact'");
        assert_eq!(literal(Status::Published), "'published'");
    }
}
