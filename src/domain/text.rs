//! Validated plain-text fields (titles, names, messages, URLs).
//!
//! Lengths are counted in Unicode scalar values (`char`s), not bytes, so a
//! limit means the same thing for "é" and "e".

use url::{Host, Url};

/// Why a text field was refused; the message is shown to API clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// Why a URL field was refused; the message is shown to API clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain spaces or control characters")]
    InvalidCharacter,
    #[error("must be an absolute URL starting with http:// or https://")]
    NotHttp,
    #[error("must have a valid host, e.g. https://example.com")]
    InvalidHost,
}

/// Longest accepted URL, in characters.
pub const MAX_URL_CHARS: usize = 2048;

/// Trims, refuses empty, counts chars (not bytes) against `max_chars`, and
/// refuses every control character (NUL, tabs, newlines, DEL, C1) as well as
/// the Unicode line/paragraph separators, which would break a single line.
pub fn single_line(input: &str, max_chars: usize) -> Result<String, TextError> {
    let trimmed = non_empty_trimmed(input)?;
    if trimmed
        .chars()
        .any(|c| c.is_control() || is_unicode_line_break(c))
    {
        return Err(TextError::ControlCharacter);
    }
    check_length(trimmed, max_chars)?;
    Ok(trimmed.to_owned())
}

/// Like [`single_line`] but keeps inner newlines and tabs, for bodies and
/// messages. `\r\n` and lone `\r` become `\n`; only the outer whitespace is
/// trimmed, inner indentation and blank lines are kept as written.
pub fn multi_line(input: &str, max_chars: usize) -> Result<String, TextError> {
    let trimmed = non_empty_trimmed(input)?;
    let normalised = normalise_newlines(trimmed);
    if normalised
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(TextError::ControlCharacter);
    }
    check_length(&normalised, max_chars)?;
    Ok(normalised)
}

/// An absolute `http://` or `https://` URL (scheme case-insensitive) with a
/// valid host and port, at most [`MAX_URL_CHARS`] characters, with no
/// whitespace or control characters inside. Surrounding whitespace is trimmed
/// like in the other fields; the URL itself is returned unchanged (no
/// normalisation).
///
/// The `url` crate reads the URL as browsers do (WHATWG). Because the URL is
/// kept as written, forms that reading quietly repairs are refused too:
/// `https:example.com`, `https:///example.com`, an empty port, and stray
/// characters in a host.
pub fn http_url(input: &str) -> Result<String, UrlError> {
    let url = input.trim();
    if url.is_empty() {
        return Err(UrlError::Empty);
    }
    if url.chars().count() > MAX_URL_CHARS {
        return Err(UrlError::TooLong { max: MAX_URL_CHARS });
    }
    // WHATWG parsing drops tabs and newlines instead of failing.
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError::InvalidCharacter);
    }
    let written = strip_http_scheme(url).ok_or(UrlError::NotHttp)?;
    let parsed = Url::parse(url).map_err(|_| UrlError::InvalidHost)?;
    if !is_plain_authority(authority_of(written)) || !parsed.host().is_some_and(is_valid_host) {
        return Err(UrlError::InvalidHost);
    }
    Ok(url.to_owned())
}

fn non_empty_trimmed(input: &str) -> Result<&str, TextError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        Err(TextError::Empty)
    } else {
        Ok(trimmed)
    }
}

fn check_length(text: &str, max_chars: usize) -> Result<(), TextError> {
    if text.chars().count() > max_chars {
        Err(TextError::TooLong { max: max_chars })
    } else {
        Ok(())
    }
}

fn is_unicode_line_break(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

fn normalise_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Returns what follows `http://` or `https://`, matching the scheme
/// case-insensitively.
fn strip_http_scheme(url: &str) -> Option<&str> {
    ["http://", "https://"].iter().find_map(|scheme| {
        let head = url.get(..scheme.len())?;
        if head.eq_ignore_ascii_case(scheme) {
            url.get(scheme.len()..)
        } else {
            None
        }
    })
}

/// The authority as written: up to the first path, query or fragment delimiter.
fn authority_of(after_scheme: &str) -> &str {
    let end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    after_scheme.get(..end).unwrap_or_default()
}

/// What WHATWG parsing forgives in an authority and we refuse: credentials
/// (`user@host` is a phishing vector, and an empty `@host` is dropped), a
/// backslash (read as `/`, so `example.com\@evil.com` goes to example.com),
/// percent-encoding (read decoded), an extra slash (`https:///host`) and an
/// empty port (`host:`). A leading `-` is checked here too, as written: IDNA
/// hides it inside `xn--` labels.
fn is_plain_authority(authority: &str) -> bool {
    !authority.is_empty()
        && !authority.starts_with('-')
        && !authority.contains(['@', '\\', '%'])
        && !authority.ends_with(':')
}

/// IP addresses are valid once parsed. WHATWG allows a domain almost any
/// character and empty labels; we want a name DNS could hold: letters, digits,
/// `-` and `_` (after IDNA, so `bücher.example` counts) in non-empty labels,
/// a final root `.` aside.
fn is_valid_host(host: Host<&str>) -> bool {
    match host {
        Host::Ipv4(_) | Host::Ipv6(_) => true,
        Host::Domain(domain) => {
            domain
                .strip_suffix('.')
                .unwrap_or(domain)
                .split('.')
                .all(|label| {
                    !label.is_empty()
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
                })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn single_line_trims_outer_whitespace() {
        assert_eq!(
            single_line("  Ketamine and PTSD \n", 100).unwrap(),
            "Ketamine and PTSD"
        );
    }

    #[test]
    fn single_line_refuses_empty_and_whitespace_only_input() {
        assert_eq!(single_line("", 10), Err(TextError::Empty));
        assert_eq!(single_line(" \t\n ", 10), Err(TextError::Empty));
    }

    #[test]
    fn single_line_counts_characters_not_bytes() {
        // 5 chars, 10+ bytes.
        assert_eq!(single_line("ñéüßø", 5).unwrap(), "ñéüßø");
        assert_eq!(single_line("日本語です", 5).unwrap(), "日本語です");
        assert_eq!(single_line("ñéüßøx", 5), Err(TextError::TooLong { max: 5 }));
    }

    #[test]
    fn single_line_refuses_nul_del_and_inner_newlines_or_tabs() {
        for bad in [
            "a\u{0000}b",
            "a\u{007f}b",
            "a\nb",
            "a\r\nb",
            "a\tb",
            "a\u{0085}b",
            "a\u{2028}b",
        ] {
            assert_eq!(
                single_line(bad, 100),
                Err(TextError::ControlCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn single_line_allows_emoji_and_punctuation() {
        assert_eq!(
            single_line("Hope 🌅 — «now»", 20).unwrap(),
            "Hope 🌅 — «now»"
        );
    }

    #[test]
    fn multi_line_keeps_inner_newlines_tabs_and_indentation() {
        let input = "\n\nFirst line\n\n\tindented\n  spaced\n\n";
        assert_eq!(
            multi_line(input, 100).unwrap(),
            "First line\n\n\tindented\n  spaced"
        );
    }

    #[test]
    fn multi_line_normalises_crlf_and_lone_cr_to_lf() {
        assert_eq!(multi_line("a\r\nb\rc", 10).unwrap(), "a\nb\nc");
    }

    #[test]
    fn multi_line_counts_normalised_characters() {
        // "a\r\nb" is 4 chars raw but 3 after normalisation.
        assert_eq!(multi_line("a\r\nb", 3).unwrap(), "a\nb");
        assert_eq!(multi_line("é\né\né", 5).unwrap(), "é\né\né");
        assert_eq!(
            multi_line("é\né\néé", 5),
            Err(TextError::TooLong { max: 5 })
        );
    }

    #[test]
    fn multi_line_refuses_nul_del_and_other_controls() {
        for bad in ["a\u{0000}b", "a\u{007f}b", "a\u{001b}[31mb", "a\u{0008}b"] {
            assert_eq!(
                multi_line(bad, 100),
                Err(TextError::ControlCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn multi_line_refuses_empty_input() {
        assert_eq!(multi_line("\r\n\t ", 10), Err(TextError::Empty));
    }

    #[test]
    fn text_errors_read_as_api_field_messages() {
        assert_eq!(TextError::Empty.to_string(), "must not be empty");
        assert_eq!(
            TextError::TooLong { max: 160 }.to_string(),
            "must be at most 160 characters"
        );
        assert_eq!(
            TextError::ControlCharacter.to_string(),
            "must not contain control characters"
        );
    }

    #[test]
    fn http_url_accepts_absolute_http_and_https_urls_unchanged() {
        for good in [
            "https://example.com",
            "http://example.com/",
            "HTTPS://Example.COM/Path?q=1#frag",
            "https://clinic.example.co.uk:8443/book",
            "https://[2001:db8::1]:443/",
            "https://127.0.0.1/x",
            "https://bücher.example/straße",
        ] {
            assert_eq!(http_url(good).unwrap(), good);
        }
    }

    #[test]
    fn http_url_trims_surrounding_whitespace() {
        assert_eq!(
            http_url(" https://example.com \n").unwrap(),
            "https://example.com"
        );
    }

    #[test]
    fn http_url_refuses_other_schemes_and_relative_urls() {
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt://example.com",
            "data:text/html,hi",
            "ftp://example.com",
            "//example.com",
            "/relative/path",
            "example.com",
            "https:example.com",
            "https:/example.com",
            "http",
        ] {
            assert_eq!(http_url(bad), Err(UrlError::NotHttp), "{bad:?}");
        }
    }

    #[test]
    fn http_url_refuses_missing_or_malformed_hosts() {
        for bad in [
            "https://",
            "https:///path",
            "https://?q",
            "https://user:pw@example.com",
            "https://example.com\\@evil.com",
            "https://example.com:port",
            "https://example.com:",
            "https://[]/",
            "https://[::1",
            "https://.example.com",
            "https://example..com",
            "https://@example.com",
            "https://exa%41mple.com",
            "https://exa!mple.com",
            "https://-example.com",
            "https://-bücher.example",
            "https://999.1.1.1/",
            "https://[1:2:3]/",
            "https://[::1]:",
        ] {
            assert_eq!(http_url(bad), Err(UrlError::InvalidHost), "{bad:?}");
        }
    }

    #[test]
    fn http_url_refuses_ports_beyond_65535() {
        for bad in [
            "https://example.com:99999",
            "https://example.com:65536/",
            "http://[2001:db8::1]:70000/",
            "https://example.com:-1",
        ] {
            assert_eq!(http_url(bad), Err(UrlError::InvalidHost), "{bad:?}");
        }
        assert!(http_url("https://example.com:65535/").is_ok());
    }

    #[test]
    fn http_url_accepts_a_final_root_dot_and_underscores() {
        for good in ["https://example.com./", "https://my_host.example/"] {
            assert_eq!(http_url(good).unwrap(), good);
        }
    }

    #[test]
    fn http_url_refuses_whitespace_and_control_characters_inside() {
        for bad in [
            "https://exa mple.com",
            "https://example.com/\u{0000}",
            "https://e\u{007f}.com",
            "https://e.com/\ta",
        ] {
            assert_eq!(http_url(bad), Err(UrlError::InvalidCharacter), "{bad:?}");
        }
    }

    #[test]
    fn http_url_refuses_empty_and_overlong_input() {
        assert_eq!(http_url("  "), Err(UrlError::Empty));
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert_eq!(
            http_url(&long),
            Err(UrlError::TooLong { max: MAX_URL_CHARS })
        );
        let exact = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS - 20));
        assert_eq!(exact.chars().count(), MAX_URL_CHARS);
        assert!(http_url(&exact).is_ok());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn what_http_url_accepts_is_kept_as_written_and_names_an_http_host(input in prop_oneof![
            any::<String>(),
            "(?i:https?)://[a-z0-9.:@%_\\[\\]\\\\-]{0,24}([/?#][a-z0-9/]{0,8})?",
        ]) {
            if let Ok(url) = http_url(&input) {
                prop_assert_eq!(url.as_str(), input.trim());
                let parsed = Url::parse(&url);
                prop_assert!(parsed.is_ok(), "{:?}", parsed);
                if let Ok(parsed) = parsed {
                    prop_assert!(matches!(parsed.scheme(), "http" | "https"));
                    prop_assert!(parsed.host().is_some());
                    prop_assert!(parsed.username().is_empty() && parsed.password().is_none());
                }
            }
        }

        #[test]
        fn ports_beyond_65535_are_refused(port in 65_536u64..100_000_000_000) {
            let url = format!("https://example.com:{port}/");
            prop_assert_eq!(http_url(&url), Err(UrlError::InvalidHost));
        }

        #[test]
        fn every_port_up_to_65535_is_accepted(port in 0u32..=65_535) {
            let url = format!("https://example.com:{port}/");
            prop_assert_eq!(http_url(&url), Ok(url.clone()));
        }
    }
}
