//! Browser origins allowed to call the API (CORS): `scheme://host[:port]`, as a browser writes
//! them in the `Origin` header.

use std::fmt;

/// An `http` or `https` origin in the form browsers send: lowercase, the host in ASCII
/// (punycode), no default port, no path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an origin such as https://clinic.example or http://localhost:3000")]
pub struct OriginError;

impl Origin {
    /// Accepts `scheme://host[:port]` and writes it the way a browser does, so that
    /// `https://Clinic.Example:443` matches the `Origin: https://clinic.example` it will send.
    pub fn parse(input: &str) -> Result<Origin, OriginError> {
        let input = input.trim();
        let lower = input.get(..8).unwrap_or(input).to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) || input.ends_with('/')
        {
            return Err(OriginError);
        }
        let url = url::Url::parse(input).map_err(|_| OriginError)?;
        let bare = url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
            && url.host().is_some();
        if !bare {
            return Err(OriginError);
        }
        Ok(Origin(url.origin().ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Origin> for String {
    fn from(origin: Origin) -> Self {
        origin.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn parsed(input: &str) -> String {
        Origin::parse(input).unwrap().to_string()
    }

    #[test]
    fn origins_are_kept_as_browsers_write_them() {
        assert_eq!(parsed("https://clinic.example"), "https://clinic.example");
        assert_eq!(parsed("http://localhost:3000"), "http://localhost:3000");
        assert_eq!(parsed(" http://127.0.0.1:8080 "), "http://127.0.0.1:8080");
    }

    #[test]
    fn case_and_default_ports_are_normalised_so_the_browsers_origin_matches() {
        assert_eq!(parsed("HTTPS://Clinic.Example"), "https://clinic.example");
        assert_eq!(
            parsed("https://clinic.example:443"),
            "https://clinic.example"
        );
        assert_eq!(parsed("http://clinic.example:80"), "http://clinic.example");
    }

    #[test]
    fn international_hosts_become_punycode() {
        assert_eq!(
            parsed("https://bücher.example"),
            "https://xn--bcher-kva.example"
        );
    }

    #[test]
    fn anything_but_a_bare_http_origin_is_refused() {
        for bad in [
            "",
            "clinic.example",
            "ftp://clinic.example",
            "https://clinic.example/",
            "https://clinic.example/blog",
            "https://clinic.example?x=1",
            "https://clinic.example#top",
            "https://user:pass@clinic.example",
            "https://",
            "https://exa mple.com",
        ] {
            assert_eq!(Origin::parse(bad), Err(OriginError), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_never_panics_and_parsed_origins_round_trip(input in prop_oneof![
            any::<String>(),
            "(?i)(https?|ftp)://[a-zé0-9.-]{0,20}(:[0-9]{1,6})?(/[a-z]{0,3})?",
        ]) {
            if let Ok(origin) = Origin::parse(&input) {
                prop_assert_eq!(Origin::parse(origin.as_str()), Ok(origin.clone()));
                prop_assert!(origin.as_str().is_ascii());
                prop_assert_eq!(origin.as_str(), origin.as_str().to_ascii_lowercase());
            }
        }

        #[test]
        fn a_browser_origin_is_accepted_unchanged(
            scheme in "https?",
            host in "[a-z][a-z0-9]{0,10}(\\.[a-z][a-z0-9]{0,10}){0,3}",
            port in proptest::option::of(1024u16..),
        ) {
            let origin = match port {
                Some(port) => format!("{scheme}://{host}:{port}"),
                None => format!("{scheme}://{host}"),
            };
            prop_assert_eq!(Origin::parse(&origin).map(String::from), Ok(origin));
        }
    }
}
