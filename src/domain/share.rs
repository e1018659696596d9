//! Where an article lives on the public site, and the SEO and share metadata a front-end puts
//! in its page as is: absolute URLs, fallbacks resolved, share links encoded.

use crate::domain::markdown::excerpt_from;

/// Search engines show about this much of a description; a longer excerpt is cut to it.
pub const DESCRIPTION_CHARS: usize = 160;

/// The public site's address and where an article sits under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteUrls {
    /// Absolute, without a trailing slash: `https://clinic.example`.
    site_url: String,
    /// Starts with `/` and holds `{slug}` once: `/blog/{slug}`.
    article_path: String,
}

impl SiteUrls {
    /// `None` when the path does not start with `/` or does not hold exactly one `{slug}`.
    pub fn new(site_url: &str, article_path: &str) -> Option<SiteUrls> {
        let valid_path = article_path.starts_with('/')
            && article_path.matches("{slug}").count() == 1
            && !article_path
                .chars()
                .any(|c| c.is_whitespace() || c.is_control());
        valid_path.then(|| SiteUrls {
            site_url: site_url.trim_end_matches('/').to_owned(),
            article_path: article_path.to_owned(),
        })
    }

    /// The article's absolute URL on the public site.
    pub fn article(&self, slug: &str) -> String {
        format!(
            "{}{}",
            self.site_url,
            self.article_path.replace("{slug}", slug)
        )
    }

    pub fn site_url(&self) -> &str {
        &self.site_url
    }
}

/// What a page's `<head>` needs, each field already resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSeo {
    /// The meta title, else the title.
    pub title: String,
    /// The meta description, else the excerpt cut to 160 characters.
    pub description: String,
    /// The canonical URL, else the article's own URL.
    pub canonical_url: String,
    /// The Open Graph image, else the cover image, else none.
    pub og_image: Option<String>,
}

/// Everything share buttons need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub url: String,
    pub text: String,
    pub pinterest_image: Option<String>,
    pub pinterest_description: String,
    pub links: ShareLinks,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLinks {
    pub facebook: String,
    pub x: String,
    pub linkedin: String,
    /// Pinterest needs an image; without one there is no Pinterest link.
    pub pinterest: Option<String>,
    pub email: String,
}

/// The fields of an article that SEO and sharing are made from.
pub struct ArticleMeta<'a> {
    pub url: &'a str,
    pub title: &'a str,
    pub excerpt: &'a str,
    pub meta_title: Option<&'a str>,
    pub meta_description: Option<&'a str>,
    pub canonical_url: Option<&'a str>,
    pub og_image: Option<&'a str>,
    pub cover_image: Option<&'a str>,
}

impl ArticleMeta<'_> {
    pub fn seo(&self) -> ResolvedSeo {
        ResolvedSeo {
            title: self.meta_title.unwrap_or(self.title).to_owned(),
            description: match self.meta_description {
                Some(description) => description.to_owned(),
                None => excerpt_from(self.excerpt, DESCRIPTION_CHARS),
            },
            canonical_url: self.canonical_url.unwrap_or(self.url).to_owned(),
            og_image: self.og_image.or(self.cover_image).map(str::to_owned),
        }
    }

    pub fn share(&self) -> Share {
        let seo = self.seo();
        let url = encode(self.url);
        let text = self.title.to_owned();
        let image = seo.og_image.clone();
        let links = ShareLinks {
            facebook: format!("https://www.facebook.com/sharer/sharer.php?u={url}"),
            x: format!("https://x.com/intent/post?url={url}&text={}", encode(&text)),
            linkedin: format!("https://www.linkedin.com/sharing/share-offsite/?url={url}"),
            pinterest: image.as_deref().map(|image| {
                format!(
                    "https://pinterest.com/pin/create/button/?url={url}&media={}&description={}",
                    encode(image),
                    encode(&seo.description)
                )
            }),
            email: format!(
                "mailto:?subject={}&body={}",
                encode(&text),
                encode(&format!("{}\n\n{}", seo.description, self.url))
            ),
        };
        Share {
            url: self.url.to_owned(),
            text,
            pinterest_image: image,
            pinterest_description: seo.description,
            links,
        }
    }
}

/// Percent-encodes a query value; spaces become `%20`, which `mailto:` needs too.
fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta<'a>(url: &'a str) -> ArticleMeta<'a> {
        ArticleMeta {
            url,
            title: "Ketamine & PTSD: hope",
            excerpt: "Trauma can linger.",
            meta_title: None,
            meta_description: None,
            canonical_url: None,
            og_image: None,
            cover_image: Some("https://cdn.example/cover.jpg"),
        }
    }

    #[test]
    fn article_urls_join_the_site_and_the_path() {
        let urls = SiteUrls::new("https://clinic.example/", "/blog/{slug}").unwrap();
        assert_eq!(
            urls.article("ketamine"),
            "https://clinic.example/blog/ketamine"
        );
        assert!(SiteUrls::new("https://clinic.example", "blog/{slug}").is_none());
        assert!(SiteUrls::new("https://clinic.example", "/blog/").is_none());
        assert!(SiteUrls::new("https://clinic.example", "/{slug}/{slug}").is_none());
    }

    #[test]
    fn seo_falls_back_to_the_article_fields() {
        let url = "https://clinic.example/blog/k";
        let seo = meta(url).seo();
        assert_eq!(seo.title, "Ketamine & PTSD: hope");
        assert_eq!(seo.description, "Trauma can linger.");
        assert_eq!(seo.canonical_url, url);
        assert_eq!(
            seo.og_image.as_deref(),
            Some("https://cdn.example/cover.jpg")
        );

        let mut custom = meta(url);
        custom.meta_title = Some("Custom");
        custom.og_image = Some("https://cdn.example/og.jpg");
        assert_eq!(custom.seo().title, "Custom");
        assert_eq!(
            custom.seo().og_image.as_deref(),
            Some("https://cdn.example/og.jpg")
        );
    }

    #[test]
    fn a_long_excerpt_is_cut_for_the_description() {
        let long = "word ".repeat(100);
        let mut article = meta("https://clinic.example/blog/k");
        article.excerpt = &long;
        let description = article.seo().description;
        assert!(description.chars().count() <= DESCRIPTION_CHARS);
        assert!(description.ends_with('…'));
    }

    #[test]
    fn share_links_are_encoded_and_pinterest_needs_an_image() {
        let share = meta("https://clinic.example/blog/k").share();
        assert_eq!(
            share.links.facebook,
            "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fclinic.example%2Fblog%2Fk"
        );
        assert!(
            share
                .links
                .x
                .ends_with("&text=Ketamine%20%26%20PTSD%3A%20hope")
        );
        assert!(
            share
                .links
                .email
                .starts_with("mailto:?subject=Ketamine%20%26")
        );
        assert!(share.links.pinterest.is_some());

        let mut without_image = meta("https://clinic.example/blog/k");
        without_image.cover_image = None;
        assert_eq!(without_image.share().links.pinterest, None);
        assert_eq!(without_image.share().pinterest_image, None);
    }
}
