//! What a person who reports suicidal thoughts is shown at once, instead of only "we will call
//! within one business day". Configurable per clinic; the default is for the United States.

use serde::{Deserialize, Serialize};

use super::text;

const MAX_MESSAGE_CHARS: usize = 1_000;
const MAX_LABEL_CHARS: usize = 200;
const MAX_RESOURCES: usize = 20;

/// Help available right now, for the page to show before anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisResources {
    /// Shown first, above the list.
    pub message: String,
    pub resources: Vec<CrisisResource>,
}

/// One way to get help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisResource {
    /// What to show, e.g. "Call or text 988".
    pub label: String,
    /// A link the page can make the label into: `tel:`, `sms:` or `https:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

/// Why a configured set of crisis resources was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrisisResourcesError {
    #[error("not valid JSON of the documented shape: {0}")]
    Shape(String),
    #[error("`message` {0}")]
    Message(text::TextError),
    #[error("`resources` must list 1 to {MAX_RESOURCES} entries")]
    Count,
    #[error("`resources[{0}].label` {1}")]
    Label(usize, text::TextError),
    #[error("`resources[{0}].href` must start with tel:, sms: or https://")]
    Href(usize),
}

impl CrisisResources {
    /// The 988 Suicide & Crisis Lifeline, the Veterans Crisis Line and 911.
    pub fn us_default() -> Self {
        let resource = |label: &str, href: &str| CrisisResource {
            label: label.to_owned(),
            href: Some(href.to_owned()),
        };
        Self {
            message: "If you are thinking about suicide or are in crisis, you do not have to \
                      wait for our call: free, confidential help is available right now, 24/7."
                .to_owned(),
            resources: vec![
                resource("Call or text 988 (Suicide & Crisis Lifeline)", "tel:988"),
                resource("Text 988", "sms:988"),
                resource("Chat at 988lifeline.org", "https://988lifeline.org/chat/"),
                resource("Veterans: call 988, then press 1", "tel:988"),
                resource("In immediate danger: call 911", "tel:911"),
            ],
        }
    }

    /// Parses and checks a JSON configuration of the same shape as the API answer.
    pub fn from_json(json: &str) -> Result<Self, CrisisResourcesError> {
        let parsed: Self =
            serde_json::from_str(json).map_err(|e| CrisisResourcesError::Shape(e.to_string()))?;
        parsed.validated()
    }

    fn validated(self) -> Result<Self, CrisisResourcesError> {
        let message = text::single_line(&self.message, MAX_MESSAGE_CHARS)
            .map_err(CrisisResourcesError::Message)?;
        if self.resources.is_empty() || self.resources.len() > MAX_RESOURCES {
            return Err(CrisisResourcesError::Count);
        }
        let resources = self
            .resources
            .into_iter()
            .enumerate()
            .map(|(i, resource)| {
                let label = text::single_line(&resource.label, MAX_LABEL_CHARS)
                    .map_err(|e| CrisisResourcesError::Label(i, e))?;
                let href = resource
                    .href
                    .map(|href| valid_href(&href).ok_or(CrisisResourcesError::Href(i)))
                    .transpose()?;
                Ok(CrisisResource { label, href })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { message, resources })
    }
}

fn valid_href(href: &str) -> Option<String> {
    let href = href.trim();
    let dialable = |rest: &str| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '*' | '#'))
    };
    let ok = match (href.strip_prefix("tel:"), href.strip_prefix("sms:")) {
        (Some(number), _) | (_, Some(number)) => dialable(number),
        _ => href.starts_with("https://") && text::http_url(href).is_ok(),
    };
    ok.then(|| href.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn the_us_default_offers_988_by_call_text_and_chat_plus_veterans_and_911() {
        let default = CrisisResources::us_default();
        let labels: Vec<_> = default.resources.iter().map(|r| r.label.as_str()).collect();
        assert!(labels.iter().any(|l| l.contains("Call or text 988")));
        assert!(labels.iter().any(|l| l.contains("988lifeline.org")));
        assert!(labels.iter().any(|l| l.contains("press 1")));
        assert!(labels.iter().any(|l| l.contains("911")));
        assert_eq!(default.clone().validated().unwrap(), default);
    }

    #[test]
    fn the_default_round_trips_through_its_json_form() {
        let json = serde_json::to_string(&CrisisResources::us_default()).unwrap();
        assert_eq!(
            CrisisResources::from_json(&json).unwrap(),
            CrisisResources::us_default()
        );
    }

    #[test]
    fn a_clinic_can_configure_its_own_lines() {
        let uk = CrisisResources::from_json(
            r#"{"message": "Help is available now.",
                "resources": [{"label": "Samaritans: call 116 123", "href": "tel:116123"},
                              {"label": "Text SHOUT to 85258"}]}"#,
        )
        .unwrap();
        assert_eq!(uk.resources.len(), 2);
        assert_eq!(uk.resources[1].href, None);
    }

    #[test]
    fn bad_configurations_say_what_is_wrong() {
        let cases = [
            ("[]", "not valid JSON"),
            (
                r#"{"message": "Hi", "resources": [], "x": 1}"#,
                "unknown field",
            ),
            (
                r#"{"message": " ", "resources": [{"label": "a"}]}"#,
                "`message`",
            ),
            (r#"{"message": "Hi", "resources": []}"#, "1 to 20"),
            (
                r#"{"message": "Hi", "resources": [{"label": ""}]}"#,
                "resources[0].label",
            ),
            (
                r#"{"message": "Hi", "resources": [{"label": "a", "href": "javascript:alert(1)"}]}"#,
                "resources[0].href",
            ),
            (
                r#"{"message": "Hi", "resources": [{"label": "a", "href": "tel:call-me"}]}"#,
                "resources[0].href",
            ),
        ];
        for (json, expected) in cases {
            let error = CrisisResources::from_json(json).unwrap_err().to_string();
            assert!(error.contains(expected), "{json}: {error}");
        }
    }
}
