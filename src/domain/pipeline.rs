//! The stages a lead moves through while staff work it, and which moves are allowed.
//!
//! `new → contacted → qualified | unqualified → closed`; `do_not_contact` is reachable from every
//! stage and ends the pipeline. Spam is a quarantine beside the pipeline: any stage can be marked
//! spam, and a lead marked not spam starts again at `new`.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    New,
    Contacted,
    Qualified,
    Unqualified,
    Closed,
    DoNotContact,
    Spam,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 7] = [
        LeadStatus::New,
        LeadStatus::Contacted,
        LeadStatus::Qualified,
        LeadStatus::Unqualified,
        LeadStatus::Closed,
        LeadStatus::DoNotContact,
        LeadStatus::Spam,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Contacted => "contacted",
            LeadStatus::Qualified => "qualified",
            LeadStatus::Unqualified => "unqualified",
            LeadStatus::Closed => "closed",
            LeadStatus::DoNotContact => "do_not_contact",
            LeadStatus::Spam => "spam",
        }
    }

    pub fn parse(name: &str) -> Option<LeadStatus> {
        LeadStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
    }

    /// Where a lead in this status may go next.
    pub fn next(self) -> &'static [LeadStatus] {
        use LeadStatus::*;
        match self {
            New => &[Contacted, DoNotContact, Spam],
            Contacted => &[Qualified, Unqualified, DoNotContact, Spam],
            Qualified | Unqualified => &[Closed, DoNotContact, Spam],
            Closed => &[DoNotContact, Spam],
            DoNotContact => &[Spam],
            Spam => &[New],
        }
    }

    /// Staying put is allowed (a no-op); anything else must be listed in [`LeadStatus::next`].
    pub fn transition(self, to: LeadStatus) -> Result<LeadStatus, TransitionError> {
        if to == self || self.next().contains(&to) {
            Ok(to)
        } else {
            Err(TransitionError { from: self, to })
        }
    }
}

impl fmt::Display for LeadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a lead cannot move from `{from}` to `{to}`; from `{from}` it can move to: {}", allowed(*.from))]
pub struct TransitionError {
    pub from: LeadStatus,
    pub to: LeadStatus,
}

fn allowed(from: LeadStatus) -> String {
    from.next()
        .iter()
        .map(|status| format!("`{status}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::LeadStatus::*;
    use super::*;

    #[test]
    fn the_happy_path_runs_from_new_to_closed() {
        let path = [New, Contacted, Qualified, Closed];
        for pair in path.windows(2) {
            assert_eq!(pair[0].transition(pair[1]), Ok(pair[1]));
        }
        assert_eq!(Contacted.transition(Unqualified), Ok(Unqualified));
        assert_eq!(Unqualified.transition(Closed), Ok(Closed));
    }

    #[test]
    fn skipping_a_stage_or_going_back_is_refused_with_the_allowed_moves() {
        let error = New.transition(Qualified).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a lead cannot move from `new` to `qualified`; from `new` it can move to: \
             `contacted`, `do_not_contact`, `spam`"
        );
        assert!(Closed.transition(New).is_err());
        assert!(Qualified.transition(Contacted).is_err());
    }

    #[test]
    fn do_not_contact_is_reachable_from_every_stage_and_ends_the_pipeline() {
        for status in [New, Contacted, Qualified, Unqualified, Closed] {
            assert_eq!(status.transition(DoNotContact), Ok(DoNotContact));
        }
        assert!(DoNotContact.transition(New).is_err());
        assert!(DoNotContact.transition(Contacted).is_err());
    }

    #[test]
    fn spam_can_be_marked_from_anywhere_and_unmarked_back_to_new() {
        for status in LeadStatus::ALL {
            if status != Spam {
                assert_eq!(status.transition(Spam), Ok(Spam));
            }
        }
        assert_eq!(Spam.transition(New), Ok(New));
        assert!(Spam.transition(Contacted).is_err());
    }

    #[test]
    fn staying_in_the_same_status_is_a_no_op() {
        for status in LeadStatus::ALL {
            assert_eq!(status.transition(status), Ok(status));
        }
    }

    #[test]
    fn names_round_trip() {
        for status in LeadStatus::ALL {
            assert_eq!(LeadStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(LeadStatus::parse("won"), None);
    }
}
