//! Lead sources: where enquiries come from besides the site's own form. A source names its kind
//! and the attribution its leads get by default.

use crate::domain::text::{self, TextError};

pub const NAME_MAX_CHARS: usize = 100;
pub const UTM_MAX_CHARS: usize = 200;
pub const QUESTION_MAX_CHARS: usize = 200;

/// How a source delivers leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// Google Ads lead form extensions: Google posts each lead to the source's webhook with
    /// the source's key.
    GoogleAds,
    /// Facebook/Instagram lead ads: Meta's webhook announces each lead, fetched from the Graph
    /// API with the page's token.
    Meta,
    /// Server-to-server tools posting `POST /v1/leads` with the source's `leads:create` key.
    Api,
}

impl SourceKind {
    pub const ALL: [SourceKind; 3] = [SourceKind::GoogleAds, SourceKind::Meta, SourceKind::Api];

    pub const fn as_str(self) -> &'static str {
        match self {
            SourceKind::GoogleAds => "google_ads",
            SourceKind::Meta => "meta",
            SourceKind::Api => "api",
        }
    }

    pub fn parse(name: &str) -> Option<SourceKind> {
        SourceKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }

    /// The path an ad platform posts a webhook kind's leads to; `None` for `api`, whose tools
    /// post to `/v1/leads`.
    pub fn webhook_path(self, id: uuid::Uuid) -> Option<String> {
        match self {
            SourceKind::GoogleAds => Some(format!("/v1/lead-sources/{id}/google-ads")),
            SourceKind::Meta => Some(format!("/v1/lead-sources/{id}/meta")),
            SourceKind::Api => None,
        }
    }
}

/// A source's name: 1–100 characters on one line.
pub fn name(input: &str) -> Result<String, TextError> {
    text::single_line(input, NAME_MAX_CHARS)
}

/// A default UTM value: 1–200 characters on one line, like the lead's own.
pub fn utm(input: &str) -> Result<String, TextError> {
    text::single_line(input, UTM_MAX_CHARS)
}

/// The platform form's question whose answers name interests (its id or its text): 1–200
/// characters on one line.
pub fn interests_question(input: &str) -> Result<String, TextError> {
    text::single_line(input, QUESTION_MAX_CHARS)
}

/// The attribution a source gives its leads when they carry none of their own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DefaultAttribution {
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
}

impl DefaultAttribution {
    /// Fills each of the lead's absent values from the default; a value the lead carries wins.
    pub fn fill(
        &self,
        utm_source: &mut Option<String>,
        utm_medium: &mut Option<String>,
        utm_campaign: &mut Option<String>,
    ) {
        for (value, default) in [
            (utm_source, &self.utm_source),
            (utm_medium, &self.utm_medium),
            (utm_campaign, &self.utm_campaign),
        ] {
            if value.is_none() {
                value.clone_from(default);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in SourceKind::ALL {
            assert_eq!(SourceKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(SourceKind::parse("zapier"), None);
    }

    #[test]
    fn the_leads_own_values_win_over_the_defaults() {
        let defaults = DefaultAttribution {
            utm_source: Some("zapier".into()),
            utm_medium: Some("api".into()),
            utm_campaign: None,
        };
        let mut source = Some("crm".to_owned());
        let mut medium = None;
        let mut campaign = Some("spring".to_owned());
        defaults.fill(&mut source, &mut medium, &mut campaign);
        assert_eq!(source.as_deref(), Some("crm"));
        assert_eq!(medium.as_deref(), Some("api"));
        assert_eq!(campaign.as_deref(), Some("spring"));
    }

    #[test]
    fn a_name_is_one_short_line() {
        assert_eq!(name("  Zapier  ").unwrap(), "Zapier");
        assert!(name("").is_err() && name("a\nb").is_err());
        assert!(name(&"x".repeat(101)).is_err());
    }
}
