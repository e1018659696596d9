//! What the access audit records: the kinds of access to personal data, and of changes to API
//! keys, each with the name it is stored and filtered by.

/// One kind of audited access or change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// One lead with its history.
    Read,
    /// A page of the lead list.
    List,
    Export,
    Erase,
    /// Staff lifted the opt-out of a lead's number.
    Reinstate,
    KeyCreated,
    KeyRevoked,
    /// A webhook subscription was set to receive personal data.
    WebhookPersonalDataEnabled,
    /// A lead source's name, state or default attribution was changed.
    LeadSourceUpdated,
    /// A lead source was deleted (its key, if any, revoked with it).
    LeadSourceDeleted,
}

impl Action {
    pub const ALL: [Action; 10] = [
        Action::Read,
        Action::List,
        Action::Export,
        Action::Erase,
        Action::Reinstate,
        Action::KeyCreated,
        Action::KeyRevoked,
        Action::WebhookPersonalDataEnabled,
        Action::LeadSourceUpdated,
        Action::LeadSourceDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "lead.read",
            Action::List => "lead.list",
            Action::Export => "lead.export",
            Action::Erase => "lead.erase",
            Action::Reinstate => "lead.reinstate",
            Action::KeyCreated => "key.created",
            Action::KeyRevoked => "key.revoked",
            Action::WebhookPersonalDataEnabled => "webhook.personal_data_enabled",
            Action::LeadSourceUpdated => "lead_source.updated",
            Action::LeadSourceDeleted => "lead_source.deleted",
        }
    }

    /// Every action name, for messages: "lead.read, lead.list, ... or key.revoked".
    pub fn names() -> String {
        let names: Vec<&str> = Action::ALL.into_iter().map(Action::as_str).collect();
        match names.split_last() {
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|action| action.as_str() == name)
    }

    /// Key actions keep the key they concern where lead actions keep their filter.
    pub fn is_about_a_key(self) -> bool {
        matches!(self, Action::KeyCreated | Action::KeyRevoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_stored_names() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        assert_eq!(Action::parse("lead.delete"), None);
    }

    #[test]
    fn the_names_list_every_action_once() {
        assert_eq!(
            Action::names(),
            "lead.read, lead.list, lead.export, lead.erase, lead.reinstate, key.created, \
             key.revoked, webhook.personal_data_enabled, lead_source.updated or \
             lead_source.deleted"
        );
    }
}
