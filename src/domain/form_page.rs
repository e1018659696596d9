//! The small HTML pages a plain HTML form (no JavaScript) is answered with: thanks, crisis
//! resources, and the field errors. Every value is HTML-escaped; the pages load nothing.

use crate::domain::crisis::CrisisResources;

/// `&`, `<`, `>`, `"` and `'` as character references, safe in text and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n{body}</main>\n\
         </body>\n</html>\n",
        title = escape(title),
    )
}

/// Where to send the person back to: a link to the site, else how to go back by hand.
fn back(origin: Option<&str>) -> String {
    match origin {
        Some(origin) => format!(
            "<p><a href=\"{url}\">Return to {url}</a></p>\n",
            url = escape(origin)
        ),
        None => "<p>Use your browser's Back button to return to the form.</p>\n".to_owned(),
    }
}

/// Shown when no thank-you page is configured.
pub fn thanks(origin: Option<&str>) -> String {
    page(
        "Thank you",
        &format!(
            "<p>We have received your enquiry and will be in touch soon.</p>\n{}",
            back(origin)
        ),
    )
}

/// The configured crisis resources, first thing on the page.
pub fn crisis(resources: &CrisisResources, origin: Option<&str>) -> String {
    let mut body = format!(
        "<p role=\"alert\"><strong>{}</strong></p>\n<ul>\n",
        escape(&resources.message)
    );
    for resource in &resources.resources {
        let label = escape(&resource.label);
        match &resource.href {
            Some(href) => body.push_str(&format!(
                "<li><a href=\"{}\">{label}</a></li>\n",
                escape(href)
            )),
            None => body.push_str(&format!("<li>{label}</li>\n")),
        }
    }
    body.push_str("</ul>\n<p>We have also received your enquiry and will be in touch.</p>\n");
    body.push_str(&back(origin));
    page("Help is available now", &body)
}

/// One problem with the form: the field as the form names it, and what is wrong.
pub struct Problem<'a> {
    pub field: &'a str,
    pub message: &'a str,
}

/// The field errors, each with its field, announced to screen readers.
pub fn errors(problems: &[Problem<'_>], origin: Option<&str>) -> String {
    let mut body = String::from(
        "<div role=\"alert\">\n<p>Please correct the following and send the form again:</p>\n<ul>\n",
    );
    for problem in problems {
        body.push_str(&format!(
            "<li><strong>{}</strong>: {}</li>\n",
            escape(problem.field),
            escape(problem.message)
        ));
    }
    body.push_str("</ul>\n</div>\n");
    body.push_str(&back(origin));
    page("Your enquiry was not sent", &body)
}

/// Why an enquiry from a form was refused as a whole (rather than for a field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The same enquiry is being recorded, or a concurrent change won (409).
    Busy,
    /// The form was larger than the service accepts (413).
    TooLarge,
    /// Too many enquiries from the sender's network (429).
    TooMany { retry_after_secs: u64 },
}

/// The page for a refused enquiry: what happened, and what the person can do now.
pub fn refused(refusal: Refusal, origin: Option<&str>) -> String {
    let (title, advice) = match refusal {
        Refusal::Busy => (
            "Your enquiry is still being sent",
            "We are still recording this enquiry, or another change got in its way. Please wait \
             a moment, then send the form again: it will not be recorded twice."
                .to_owned(),
        ),
        Refusal::TooLarge => (
            "Your enquiry is too long",
            "Please shorten your message and send the form again.".to_owned(),
        ),
        Refusal::TooMany { retry_after_secs } => (
            "Too many enquiries",
            format!(
                "Too many enquiries were sent from your network just now. Please wait {} and \
                 send the form again.",
                wait_in_words(retry_after_secs)
            ),
        ),
    };
    let body = format!(
        "<div role=\"alert\">\n<p>Your enquiry was not sent.</p>\n<p>{}</p>\n</div>\n{}",
        escape(&advice),
        back(origin)
    );
    page(title, &body)
}

/// "1 minute", "45 seconds", "3 minutes" (rounded up).
fn wait_in_words(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".to_owned(),
        2..=59 => format!("{seconds} seconds"),
        60 => "1 minute".to_owned(),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

/// The form field a JSON Pointer of the lead request names (`/consent/text` is the
/// `consent_text` field, `/interests/2` the third `interests`).
pub fn field_of(pointer: &str) -> String {
    let path = pointer.trim_start_matches('/');
    let mut parts = path.split('/');
    match (parts.next(), parts.next()) {
        (Some("consent"), Some(part)) => format!("consent_{part}"),
        (Some(first), _) if !first.is_empty() => first.to_owned(),
        _ => "form".to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn markup_in_any_value_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        let page = errors(
            &[Problem {
                field: "name<b>",
                message: "<img src=x onerror=alert(1)>",
            }],
            Some("https://clinic.example\"><script>"),
        );
        assert!(!page.contains("<img") && !page.contains("<script>") && !page.contains("<b>"));
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    }

    #[test]
    fn pages_have_a_language_a_title_and_a_way_back() {
        let page = errors(
            &[Problem {
                field: "phone",
                message: "must be a valid phone number",
            }],
            None,
        );
        assert!(page.contains("<html lang=\"en\">"));
        assert!(page.contains("<title>Your enquiry was not sent</title>"));
        assert!(page.contains("<li><strong>phone</strong>: must be a valid phone number</li>"));
        assert!(page.contains("Back button"));
        assert!(thanks(Some("https://clinic.example")).contains("href=\"https://clinic.example\""));
    }

    #[test]
    fn the_crisis_page_lists_every_resource_first() {
        let resources = CrisisResources::us_default();
        let page = crisis(&resources, None);
        assert!(page.contains("role=\"alert\""));
        for resource in &resources.resources {
            assert!(page.contains(&escape(&resource.label)));
        }
    }

    #[test]
    fn a_refused_enquiry_says_so_and_when_to_try_again() {
        let page = refused(
            Refusal::TooMany {
                retry_after_secs: 61,
            },
            None,
        );
        assert!(page.contains("<title>Too many enquiries</title>"));
        assert!(page.contains("wait 2 minutes"));
        assert!(page.contains("role=\"alert\""));
        assert!(refused(Refusal::TooLarge, None).contains("shorten your message"));
        assert!(refused(Refusal::Busy, Some("https://clinic.example")).contains("Return to"));
        assert_eq!(wait_in_words(30), "30 seconds");
        assert_eq!(wait_in_words(60), "1 minute");
    }

    #[test]
    fn pointers_name_the_form_fields() {
        assert_eq!(field_of("/phone"), "phone");
        assert_eq!(field_of("/consent/text"), "consent_text");
        assert_eq!(field_of("/interests/2"), "interests");
        assert_eq!(field_of(""), "form");
    }
}
