//! What a staff change to a lead amounts to: the new values, whether it is the first time
//! staff act on the lead (and whether they did by `contact_by`), and the activity entries that
//! record it. Staff first act when they move a lead out of `new` to anything but `spam`: from
//! `new` that is `contacted`, or `do_not_contact` when the person asks for no call.

use chrono::{DateTime, Utc};

use crate::domain::change::Change;
use crate::domain::pipeline::{LeadStatus, TransitionError};

/// A lead as a change sees it.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    pub status: LeadStatus,
    pub assignee: Option<&'a str>,
    pub contact_by: DateTime<Utc>,
    /// Staff have moved it out of `new` (not to spam) before.
    pub contacted_before: bool,
    /// The number opted out of contact.
    pub suppressed: bool,
}

/// What staff asked for; `assignee` and `note` are already validated.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    pub status: Option<LeadStatus>,
    pub assignee: Change<String>,
    pub note: Option<String>,
}

impl Patch {
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && matches!(self.assignee, Change::Keep) && self.note.is_none()
    }
}

/// One activity entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    StatusChanged { from: LeadStatus, to: LeadStatus },
    Assigned(String),
    Unassigned,
    NoteAdded(String),
}

impl Event {
    pub fn action(&self) -> ActivityAction {
        match self {
            Event::StatusChanged { .. } => ActivityAction::StatusChanged,
            Event::Assigned(_) => ActivityAction::Assigned,
            Event::Unassigned => ActivityAction::Unassigned,
            Event::NoteAdded(_) => ActivityAction::NoteAdded,
        }
    }
}

/// What an entry of a lead's activity records: a staff change (see [`Event`]), or something
/// that happened to the lead from outside the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityAction {
    StatusChanged,
    Assigned,
    Unassigned,
    NoteAdded,
    /// The number opted out of contact.
    OptedOut,
    /// Staff lifted the number's opt-out.
    Reinstated,
    Erased,
}

impl ActivityAction {
    pub const ALL: [ActivityAction; 7] = [
        ActivityAction::StatusChanged,
        ActivityAction::Assigned,
        ActivityAction::Unassigned,
        ActivityAction::NoteAdded,
        ActivityAction::OptedOut,
        ActivityAction::Reinstated,
        ActivityAction::Erased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivityAction::StatusChanged => "status_changed",
            ActivityAction::Assigned => "assigned",
            ActivityAction::Unassigned => "unassigned",
            ActivityAction::NoteAdded => "note_added",
            ActivityAction::OptedOut => "opted_out",
            ActivityAction::Reinstated => "reinstated",
            ActivityAction::Erased => "erased",
        }
    }

    pub fn parse(name: &str) -> Option<ActivityAction> {
        ActivityAction::ALL
            .into_iter()
            .find(|action| action.as_str() == name)
    }
}

/// The outcome of applying a patch; `events` is empty when nothing changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub status: Option<LeadStatus>,
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<String>>,
    /// Set when staff first act on the lead: whether they did by `contact_by`.
    pub first_contact_on_time: Option<bool>,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("send at least one of `status`, `assignee` or `note`")]
    Empty,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(
        "this number opted out of contact, so its lead can only be `do_not_contact` or `spam` \
         until staff reinstate it (`POST /v1/leads/{{id}}/reinstate`)"
    )]
    OptedOut,
}

pub fn plan(current: Current<'_>, patch: Patch, now: DateTime<Utc>) -> Result<Plan, PlanError> {
    if patch.is_empty() {
        return Err(PlanError::Empty);
    }
    let mut plan = Plan::default();
    if let Some(to) = patch.status {
        let to = current.status.transition(to)?;
        if to != current.status {
            if current.suppressed && !matches!(to, LeadStatus::DoNotContact | LeadStatus::Spam) {
                return Err(PlanError::OptedOut);
            }
            plan.status = Some(to);
            let first_action = current.status == LeadStatus::New && to != LeadStatus::Spam;
            if first_action && !current.contacted_before {
                plan.first_contact_on_time = Some(now <= current.contact_by);
            }
            plan.events.push(Event::StatusChanged {
                from: current.status,
                to,
            });
        }
    }
    match patch.assignee {
        Change::Set(name) if current.assignee != Some(name.as_str()) => {
            plan.assignee = Some(Some(name.clone()));
            plan.events.push(Event::Assigned(name));
        }
        Change::Clear if current.assignee.is_some() => {
            plan.assignee = Some(None);
            plan.events.push(Event::Unassigned);
        }
        Change::Set(_) | Change::Clear | Change::Keep => {}
    }
    if let Some(note) = patch.note {
        plan.events.push(Event::NoteAdded(note));
    }
    Ok(plan)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use LeadStatus::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, hour, 0, 0).unwrap()
    }

    fn current(status: LeadStatus) -> Current<'static> {
        Current {
            status,
            assignee: None,
            contact_by: at(12),
            contacted_before: false,
            suppressed: false,
        }
    }

    fn to(status: LeadStatus) -> Patch {
        Patch {
            status: Some(status),
            ..Patch::default()
        }
    }

    #[test]
    fn the_first_call_before_the_deadline_is_on_time_and_after_it_late() {
        let on_time = plan(current(New), to(Contacted), at(11)).unwrap();
        assert_eq!(on_time.first_contact_on_time, Some(true));
        assert_eq!(
            on_time.events,
            [Event::StatusChanged {
                from: New,
                to: Contacted
            }]
        );
        let late = plan(current(New), to(Contacted), at(13)).unwrap();
        assert_eq!(late.first_contact_on_time, Some(false));
    }

    #[test]
    fn a_lead_handled_before_does_not_count_again_and_spam_is_not_handling() {
        let again = Current {
            contacted_before: true,
            ..current(Spam)
        };
        assert_eq!(
            plan(again, to(New), at(11)).unwrap().first_contact_on_time,
            None
        );
        let handled = Current {
            contacted_before: true,
            ..current(New)
        };
        assert_eq!(
            plan(handled, to(Contacted), at(11))
                .unwrap()
                .first_contact_on_time,
            None
        );
        assert_eq!(
            plan(current(New), to(Spam), at(11))
                .unwrap()
                .first_contact_on_time,
            None
        );
    }

    #[test]
    fn saying_do_not_contact_from_new_is_the_first_handling_too() {
        let plan = plan(current(New), to(DoNotContact), at(13)).unwrap();
        assert_eq!(plan.first_contact_on_time, Some(false));
    }

    #[test]
    fn an_invalid_move_is_refused_with_the_pipelines_message() {
        let error = plan(current(New), to(Closed), at(11)).unwrap_err();
        assert!(matches!(error, PlanError::Transition(_)));
        assert!(
            error
                .to_string()
                .contains("`contacted`, `do_not_contact`, `spam`")
        );
    }

    #[test]
    fn staying_put_records_nothing() {
        let plan = plan(current(Contacted), to(Contacted), at(11)).unwrap();
        assert_eq!(plan, Plan::default());
    }

    #[test]
    fn an_opted_out_number_can_only_be_do_not_contact_or_spam() {
        let suppressed = Current {
            suppressed: true,
            ..current(Spam)
        };
        assert_eq!(
            plan(suppressed, to(New), at(11)).unwrap_err(),
            PlanError::OptedOut
        );
        let dnc = Current {
            suppressed: true,
            ..current(DoNotContact)
        };
        assert!(plan(dnc, to(Spam), at(11)).is_ok());
    }

    #[test]
    fn assigning_unassigning_and_notes_are_events_and_repeats_are_not() {
        let patch = Patch {
            assignee: Change::Set("Maria".into()),
            note: Some("Left a voicemail".into()),
            ..Patch::default()
        };
        let plan_ = plan(current(New), patch, at(11)).unwrap();
        assert_eq!(plan_.assignee, Some(Some("Maria".into())));
        assert_eq!(
            plan_.events,
            [
                Event::Assigned("Maria".into()),
                Event::NoteAdded("Left a voicemail".into())
            ]
        );
        let assigned = Current {
            assignee: Some("Maria"),
            ..current(New)
        };
        let same = Patch {
            assignee: Change::Set("Maria".into()),
            ..Patch::default()
        };
        assert!(plan(assigned, same, at(11)).unwrap().events.is_empty());
        let clear = Patch {
            assignee: Change::Clear,
            ..Patch::default()
        };
        assert_eq!(
            plan(assigned, clear, at(11)).unwrap().events,
            [Event::Unassigned]
        );
    }

    #[test]
    fn activity_actions_round_trip_through_their_stored_names() {
        for action in ActivityAction::ALL {
            assert_eq!(ActivityAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(ActivityAction::parse("deleted"), None);
    }

    #[test]
    fn an_empty_patch_is_refused() {
        assert_eq!(
            plan(current(New), Patch::default(), at(11)).unwrap_err(),
            PlanError::Empty
        );
    }
}
