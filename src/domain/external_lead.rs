//! A lead an ad platform (Google Ads lead forms, Meta lead ads) delivers, in one shape whatever
//! the platform, and the pure rules that turn it into what intake needs: the name, and the
//! interests named by the answer to the source's checklist question.

/// One answer to a question of the platform's form that Beacon has no field for.
#[derive(Clone, PartialEq, Eq)]
pub struct CustomAnswer {
    /// The platform's id of the question (Google's `column_id`, Meta's field `name`), if any.
    pub key: Option<String>,
    /// The question as the person read it, or its key when the platform sends no text.
    pub question: String,
    pub answer: String,
}

impl CustomAnswer {
    /// Whether this answers `question` (the source's configured one): its key or its text,
    /// trimmed and case-insensitively.
    pub fn answers(&self, question: &str) -> bool {
        let question = question.trim();
        self.key
            .iter()
            .chain(std::iter::once(&self.question))
            .any(|asked| asked.trim().eq_ignore_ascii_case(question))
    }
}

/// The platform's ids of where the lead came from: not personal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExternalAttribution {
    /// Google's click id (`gcl_id`): stored as the submission's `gclid`.
    pub gclid: Option<String>,
    pub campaign_id: Option<String>,
    pub adgroup_id: Option<String>,
    pub ad_id: Option<String>,
    pub creative_id: Option<String>,
    pub form_id: Option<String>,
    pub page_id: Option<String>,
    /// The platform's payload or API version.
    pub api_version: Option<String>,
}

impl ExternalAttribution {
    /// The ids that are present, by name, for the submission's `external_context`.
    pub fn context(&self) -> Vec<(&'static str, &str)> {
        [
            ("campaign_id", &self.campaign_id),
            ("adgroup_id", &self.adgroup_id),
            ("ad_id", &self.ad_id),
            ("creative_id", &self.creative_id),
            ("form_id", &self.form_id),
            ("page_id", &self.page_id),
            ("api_version", &self.api_version),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|value| (name, value)))
        .collect()
    }
}

/// A consent the platform's form asked for and reports (e.g. a Meta custom disclaimer box):
/// recorded as the lead's consent evidence. Google reports none.
#[derive(Clone, PartialEq, Eq)]
pub struct ExternalConsent {
    pub agreed: bool,
    /// The wording the platform's form showed.
    pub wording: String,
}

/// A lead as an ad platform delivered it, fields as sent (trimmed or not). Its `Debug` shows
/// nothing personal.
#[derive(Clone, Default)]
pub struct ExternalLead {
    /// The platform's id of the lead (Google's `lead_id`, Meta's `leadgen_id`): a redelivery
    /// of the same id to the same source is recorded once.
    pub external_id: String,
    pub full_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub postal_code: Option<String>,
    /// Answers to the form's other questions, in the form's order.
    pub answers: Vec<CustomAnswer>,
    pub attribution: ExternalAttribution,
    pub consent: Option<ExternalConsent>,
    /// The platform's test lead: stored apart from real ones.
    pub is_test: bool,
}

impl std::fmt::Debug for ExternalLead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalLead")
            .field("answers", &self.answers.len())
            .field("attribution", &self.attribution)
            .field("is_test", &self.is_test)
            .finish_non_exhaustive()
    }
}

/// A managed interest as the matching needs it.
#[derive(Clone, Debug)]
pub struct InterestChoice {
    pub code: String,
    pub label: String,
}

/// Separators of several choices sent in one answer ("PTSD, Depression").
const CHOICE_SEPARATORS: [char; 3] = [',', ';', '|'];

impl ExternalLead {
    /// The full name, else the first and last names joined; `None` when all are blank.
    pub fn name(&self) -> Option<String> {
        let present = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        present(&self.full_name).or_else(|| {
            let parts: Vec<String> = [&self.first_name, &self.last_name]
                .into_iter()
                .filter_map(present)
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    }

    /// The codes of the interests the answers to `question` name, in order, without repeats.
    /// Each answer matches an interest by code or label, case-insensitively; an answer that
    /// matches none as a whole is read as several choices (split at `,` `;` `|`). Choices that
    /// name no interest are dropped here: they stay among the answers for staff to read.
    pub fn interests(&self, question: Option<&str>, choices: &[InterestChoice]) -> Vec<String> {
        let Some(question) = question else {
            return Vec::new();
        };
        let find = |text: &str| {
            let text = text.trim();
            choices.iter().find(|choice| {
                choice.code.eq_ignore_ascii_case(text)
                    || choice.label.trim().eq_ignore_ascii_case(text)
            })
        };
        let mut codes: Vec<String> = Vec::new();
        for answer in self
            .answers
            .iter()
            .filter(|answer| answer.answers(question))
        {
            let found: Vec<&InterestChoice> = match find(&answer.answer) {
                Some(choice) => vec![choice],
                None => answer
                    .answer
                    .split(CHOICE_SEPARATORS)
                    .filter_map(find)
                    .collect(),
            };
            for choice in found {
                if !codes.contains(&choice.code) {
                    codes.push(choice.code.clone());
                }
            }
        }
        codes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(key: Option<&str>, question: &str, text: &str) -> CustomAnswer {
        CustomAnswer {
            key: key.map(str::to_owned),
            question: question.to_owned(),
            answer: text.to_owned(),
        }
    }

    fn choices() -> Vec<InterestChoice> {
        [
            ("ptsd", "PTSD"),
            (
                "treatment_resistant_depression",
                "Treatment-resistant depression",
            ),
            ("anxiety", "Anxiety"),
        ]
        .into_iter()
        .map(|(code, label)| InterestChoice {
            code: code.to_owned(),
            label: label.to_owned(),
        })
        .collect()
    }

    #[test]
    fn the_full_name_wins_over_first_and_last() {
        let lead = ExternalLead {
            full_name: Some(" Jane Doe ".into()),
            first_name: Some("J".into()),
            ..ExternalLead::default()
        };
        assert_eq!(lead.name().as_deref(), Some("Jane Doe"));
    }

    #[test]
    fn first_and_last_names_are_joined_when_there_is_no_full_name() {
        let lead = ExternalLead {
            full_name: Some("  ".into()),
            first_name: Some("Jane".into()),
            last_name: Some("Doe".into()),
            ..ExternalLead::default()
        };
        assert_eq!(lead.name().as_deref(), Some("Jane Doe"));
        let last_only = ExternalLead {
            last_name: Some("Doe".into()),
            ..ExternalLead::default()
        };
        assert_eq!(last_only.name().as_deref(), Some("Doe"));
        assert_eq!(ExternalLead::default().name(), None);
    }

    #[test]
    fn the_checklist_answer_names_interests_by_code_or_label_in_any_case() {
        let lead = ExternalLead {
            answers: vec![
                answer(Some("CONDITION"), "Which condition?", "ptsd"),
                answer(
                    Some("CONDITION"),
                    "Which condition?",
                    "treatment-RESISTANT depression",
                ),
                answer(Some("BUDGET"), "Budget?", "anxiety"),
            ],
            ..ExternalLead::default()
        };
        assert_eq!(
            lead.interests(Some("which condition?"), &choices()),
            ["ptsd", "treatment_resistant_depression"]
        );
        assert_eq!(lead.interests(Some("condition"), &choices()).len(), 2);
    }

    #[test]
    fn one_answer_may_hold_several_choices_and_unknown_ones_are_dropped() {
        let lead = ExternalLead {
            answers: vec![answer(None, "conditions", "Anxiety, PTSD; chess | anxiety")],
            ..ExternalLead::default()
        };
        assert_eq!(
            lead.interests(Some("Conditions"), &choices()),
            ["anxiety", "ptsd"]
        );
    }

    #[test]
    fn no_configured_question_or_no_matching_answer_means_no_interests() {
        let lead = ExternalLead {
            answers: vec![answer(None, "conditions", "PTSD")],
            ..ExternalLead::default()
        };
        assert!(lead.interests(None, &choices()).is_empty());
        assert!(lead.interests(Some("other"), &choices()).is_empty());
    }

    #[test]
    fn the_context_lists_only_the_ids_present() {
        let attribution = ExternalAttribution {
            gclid: Some("click".into()),
            form_id: Some("40000000000".into()),
            campaign_id: Some("20000000000".into()),
            ..ExternalAttribution::default()
        };
        assert_eq!(
            attribution.context(),
            [("campaign_id", "20000000000"), ("form_id", "40000000000")]
        );
    }

    #[test]
    fn debug_shows_nothing_personal() {
        let lead = ExternalLead {
            full_name: Some("Jane Doe".into()),
            phone: Some("+16505550123".into()),
            answers: vec![answer(None, "q", "secret answer")],
            ..ExternalLead::default()
        };
        let shown = format!("{lead:?}");
        assert!(!shown.contains("Jane") && !shown.contains("555") && !shown.contains("secret"));
    }
}
