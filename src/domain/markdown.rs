//! Renders an article body (CommonMark + tables + strikethrough) to sanitised
//! HTML, plus the derived data the front-end needs: a heading outline with
//! stable anchors, plain text for search, word count and reading time.
//!
//! Raw HTML policy: raw HTML in the Markdown is passed to the HTML renderer and
//! then *sanitised* by ammonia together with everything else. Tags on the
//! allow-list below survive (so an editor's `<sup>2</sup>` or `<em>` still
//! works); every other tag is dropped while its text is kept, except
//! `<script>`/`<style>`, which are dropped with their content. Attributes and
//! URLs are filtered by the same policy as Markdown-generated HTML.
//!
//! Known limit: a raw `<h2 id="x">` keeps its (slug-shaped) id but is not part
//! of the outline, and its id is not deduplicated against generated anchors.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use crate::domain::slug::Slug;

/// Words per minute used for the reading-time estimate.
const WORDS_PER_MINUTE: usize = 230;

/// Anchor used for headings whose text yields no usable slug.
const FALLBACK_ANCHOR: &str = "section";

/// The result of rendering an article body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedBody {
    /// Sanitised HTML, safe to inject into the front-end.
    pub html: String,
    /// Headings (h1–h4) for a table of contents.
    pub outline: Vec<OutlineEntry>,
    pub word_count: u32,
    /// `ceil(words / 230)`, at least 1 when there is any word, 0 otherwise.
    pub reading_time_minutes: u32,
    /// Plain text of the first top-level paragraph, for a derived excerpt.
    pub first_paragraph: Option<String>,
    /// The whole body as plain text (for search indexing), one block a line.
    pub plain_text: String,
}

/// One heading of the table of contents; `anchor` is the heading's `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutlineEntry {
    pub level: u8,
    pub text: String,
    pub anchor: String,
}

/// Renders Markdown to sanitised HTML and derived metadata.
pub fn render(markdown: &str) -> RenderedBody {
    let mut events: Vec<Event<'_>> = Parser::new_ext(markdown, parser_options()).collect();
    let outline = assign_heading_anchors(&mut events);
    let text = PlainText::collect(&events);

    let mut raw_html = String::with_capacity(markdown.len() + markdown.len() / 2);
    pulldown_cmark::html::push_html(&mut raw_html, events.into_iter());
    let html = SANITIZER.clean(&raw_html).to_string();

    let plain_text = text.blocks.join("\n");
    let words = count_words(&plain_text);
    RenderedBody {
        html,
        outline,
        word_count: saturating_u32(words),
        reading_time_minutes: saturating_u32(words.div_ceil(WORDS_PER_MINUTE)),
        first_paragraph: text.first_paragraph,
        plain_text,
    }
}

/// Collapses whitespace and cuts `text` to at most `max_chars` characters
/// (the "…" included) at a word boundary. A first word longer than the limit
/// is cut inside the word, always on a `char` boundary.
pub fn excerpt_from(text: &str, max_chars: usize) -> String {
    let collapsed = collapse_whitespace(text);
    if collapsed.chars().count() <= max_chars {
        return collapsed;
    }
    let Some(budget) = max_chars.checked_sub(1) else {
        return String::new();
    };
    let head = prefix_chars(&collapsed, budget);
    // The cut falls between words when the next char is a space.
    let at_boundary = collapsed
        .get(head.len()..)
        .is_some_and(|rest| rest.starts_with(' '));
    let words = if at_boundary {
        head
    } else {
        head.rfind(' ')
            .and_then(|space| head.get(..space))
            .unwrap_or(head)
    };
    let cleaned = words.trim_end_matches(is_trailing_junk);
    let kept = if cleaned.is_empty() { head } else { cleaned };
    format!("{}…", kept.trim_end())
}

fn parser_options() -> Options {
    // Heading attributes stay off so `{#id}` cannot spoof anchors.
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

// ---------------------------------------------------------------------------
// Heading anchors and outline
// ---------------------------------------------------------------------------

/// Gives every heading a unique `id` and returns the h1–h4 outline.
fn assign_heading_anchors(events: &mut [Event<'_>]) -> Vec<OutlineEntry> {
    let mut anchors = AnchorSet::default();
    let mut outline = Vec::new();
    let mut index = 0;
    while index < events.len() {
        let Some(Event::Start(Tag::Heading { level, .. })) = events.get(index) else {
            index += 1;
            continue;
        };
        let level = *level as u8;
        let inner = events.get(index + 1..).unwrap_or_default();
        let inner_len = inner
            .iter()
            .position(|event| matches!(event, Event::End(TagEnd::Heading(_))))
            .unwrap_or(inner.len());
        let text = PlainText::inline(inner.get(..inner_len).unwrap_or_default());
        let anchor = anchors.claim(&base_anchor(&text));
        if let Some(Event::Start(Tag::Heading { id, .. })) = events.get_mut(index) {
            *id = Some(CowStr::from(anchor.clone()));
        }
        if level <= 4 {
            outline.push(OutlineEntry {
                level,
                text,
                anchor,
            });
        }
        index += inner_len + 1;
    }
    outline
}

fn base_anchor(heading_text: &str) -> String {
    Slug::from_title(heading_text).map_or_else(|| FALLBACK_ANCHOR.to_owned(), String::from)
}

/// Hands out anchors, suffixing `-2`, `-3`, ... on collisions.
#[derive(Default)]
struct AnchorSet {
    used: HashSet<String>,
}

impl AnchorSet {
    fn claim(&mut self, base: &str) -> String {
        if self.used.insert(base.to_owned()) {
            return base.to_owned();
        }
        let mut n: usize = 2;
        loop {
            let candidate = format!("{base}-{n}");
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }
}

// ---------------------------------------------------------------------------
// Plain text extraction
// ---------------------------------------------------------------------------

/// Walks Markdown events and keeps only reader-visible text, one block per
/// paragraph, heading, list item, table row, code block or HTML block.
/// Image alt text and URLs of links are not body text and are skipped.
#[derive(Default)]
struct PlainText {
    blocks: Vec<String>,
    first_paragraph: Option<String>,
    current: String,
    /// Lists, block quotes and tables: a paragraph inside them is not "first".
    container_depth: usize,
    image_depth: usize,
    /// Inside inline `<script>`/`<style>`, whose content ammonia drops.
    in_raw_code: bool,
    html_block: Option<String>,
}

impl PlainText {
    fn collect(events: &[Event<'_>]) -> PlainText {
        let mut text = PlainText::default();
        for event in events {
            text.push(event);
        }
        text.flush();
        text
    }

    /// Text of an inline run (a heading's content) on one line.
    fn inline(events: &[Event<'_>]) -> String {
        PlainText::collect(events).blocks.join(" ")
    }

    fn push(&mut self, event: &Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(*tag),
            Event::Text(text) | Event::Code(text) => self.push_text(text),
            Event::Html(html) => self.push_html_block_line(html),
            Event::InlineHtml(html) => self.inline_html(html),
            Event::SoftBreak | Event::HardBreak => self.current.push(' '),
            Event::Rule => self.flush(),
            _ => {}
        }
    }

    fn start(&mut self, tag: &Tag<'_>) {
        match tag {
            Tag::Image { .. } => self.image_depth += 1,
            Tag::HtmlBlock => {
                self.flush();
                self.html_block = Some(String::new());
            }
            Tag::List(_) | Tag::BlockQuote(_) | Tag::Table(_) | Tag::FootnoteDefinition(_) => {
                self.flush();
                self.container_depth += 1;
            }
            tag if is_block(&tag.to_end()) => self.flush(),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Image => self.image_depth = self.image_depth.saturating_sub(1),
            TagEnd::HtmlBlock => self.finish_html_block(),
            TagEnd::Paragraph => self.end_paragraph(),
            TagEnd::TableCell => self.current.push(' '),
            TagEnd::List(_)
            | TagEnd::BlockQuote(_)
            | TagEnd::Table
            | TagEnd::FootnoteDefinition => {
                self.flush();
                self.container_depth = self.container_depth.saturating_sub(1);
            }
            tag if is_block(&tag) => self.flush(),
            _ => {}
        }
    }

    fn push_text(&mut self, text: &str) {
        if self.image_depth == 0 && !self.in_raw_code {
            self.current.push_str(text);
        }
    }

    fn end_paragraph(&mut self) {
        let top_level = self.container_depth == 0;
        let text = self.flush_block();
        if top_level && self.first_paragraph.is_none() {
            self.first_paragraph = text;
        }
    }

    fn inline_html(&mut self, html: &str) {
        match html_tag_name(html) {
            Some((false, name)) if is_raw_code_tag(&name) => self.in_raw_code = true,
            Some((true, name)) if is_raw_code_tag(&name) => self.in_raw_code = false,
            // `a<br>b` reads as two words.
            Some((_, name)) if name == "br" => self.current.push(' '),
            _ => {}
        }
    }

    fn push_html_block_line(&mut self, html: &str) {
        if let Some(block) = self.html_block.as_mut() {
            block.push_str(html);
        }
    }

    fn finish_html_block(&mut self) {
        if let Some(html) = self.html_block.take() {
            self.current.push_str(&html_to_text(&html));
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.flush_block();
    }

    /// Ends the current block, returning its text if it had any.
    fn flush_block(&mut self) -> Option<String> {
        let text = collapse_whitespace(&self.current);
        self.current.clear();
        if text.is_empty() {
            return None;
        }
        self.blocks.push(text.clone());
        Some(text)
    }
}

/// Block-level tags separate plain-text blocks.
fn is_block(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::CodeBlock
            | TagEnd::Item
            | TagEnd::TableHead
            | TagEnd::TableRow
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::MetadataBlock(_)
    )
}

fn is_raw_code_tag(name: &str) -> bool {
    name == "script" || name == "style"
}

/// Parses `<name ...>` / `</name>` into (is_closing, lowercase name).
fn html_tag_name(html: &str) -> Option<(bool, String)> {
    let inner = html.trim().strip_prefix('<')?;
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, inner),
    };
    let name: String = inner
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (!name.is_empty()).then_some((closing, name))
}

/// Text content of a raw HTML block, as a browser would show it once sanitised.
fn html_to_text(html: &str) -> String {
    let escaped = TEXT_ONLY.clean(html).to_string();
    // The serializer escapes only these in text nodes; `&amp;` must go last.
    escaped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

// ---------------------------------------------------------------------------
// Words and excerpts
// ---------------------------------------------------------------------------

/// Counts whitespace-separated tokens that contain a letter or digit and are
/// not bare URLs; punctuation such as "—" or "[ ]" is not a word.
fn count_words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|token| token.chars().any(char::is_alphanumeric) && !looks_like_url(token))
        .count()
}

fn looks_like_url(token: &str) -> bool {
    let token = token.trim_start_matches(|c: char| !c.is_alphanumeric());
    let lower = token.get(..8).unwrap_or(token).to_ascii_lowercase();
    ["http://", "https://", "www.", "mailto:"]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The longest prefix of `text` with at most `max_chars` chars.
fn prefix_chars(text: &str, max_chars: usize) -> &str {
    let end = text
        .char_indices()
        .nth(max_chars)
        .map_or(text.len(), |(index, _)| index);
    text.get(..end).unwrap_or(text)
}

/// Punctuation that reads badly right before an ellipsis.
fn is_trailing_junk(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '–' | '—' | '(' | '[' | '"' | '“')
}

fn saturating_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------
// Sanitiser policy
// ---------------------------------------------------------------------------

/// Built once: building an ammonia policy allocates several sets.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(article_policy);

/// Strips all tags, keeping text (minus `<script>`/`<style>` content).
static TEXT_ONLY: LazyLock<ammonia::Builder<'static>> = LazyLock::new(ammonia::Builder::empty);

const ALLOWED_TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
];

const HEADINGS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6"];

fn article_policy() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(ALLOWED_TAGS.iter().copied().collect())
        .clean_content_tags(["script", "style"].into_iter().collect())
        .generic_attributes(HashSet::new())
        .tag_attributes(allowed_attributes())
        .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
        // Relative and `#fragment` links are fine for same-site navigation.
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        // Anchors must match the outline exactly, so no id prefix.
        .id_prefix(None)
        .attribute_filter(filter_attribute);
    builder
}

fn allowed_attributes() -> HashMap<&'static str, HashSet<&'static str>> {
    let mut map: HashMap<&'static str, HashSet<&'static str>> = HashMap::new();
    let mut allow = |tag: &'static str, attributes: &[&'static str]| {
        map.entry(tag).or_default().extend(attributes);
    };
    allow("a", &["href", "title"]);
    allow("abbr", &["title"]);
    allow("img", &["src", "alt", "title", "width", "height"]);
    allow("ol", &["start"]);
    allow("code", &["class"]);
    allow("th", &["style"]);
    allow("td", &["style"]);
    for heading in HEADINGS {
        allow(heading, &["id"]);
    }
    map
}

/// Value-level rules ammonia's name allow-list cannot express.
fn filter_attribute<'a>(element: &str, attribute: &str, value: &'a str) -> Option<Cow<'a, str>> {
    let keep = match (element, attribute) {
        ("img", "src") => is_absolute_http(value),
        ("code", "class") => return language_classes(value),
        ("th" | "td", "style") => is_table_alignment(value),
        (_, "id") => is_anchor(value),
        _ => true,
    };
    keep.then_some(Cow::Borrowed(value))
}

fn is_absolute_http(url: &str) -> bool {
    let head = url
        .trim_start()
        .get(..8)
        .unwrap_or_default()
        .to_ascii_lowercase();
    head.starts_with("http://") || head.starts_with("https://")
}

/// Keeps only `language-*` classes (the ones pulldown-cmark emits for fenced code).
fn language_classes(value: &str) -> Option<Cow<'_, str>> {
    let kept: Vec<&str> = value
        .split_ascii_whitespace()
        .filter(|class| {
            class.strip_prefix("language-").is_some_and(|lang| {
                !lang.is_empty()
                    && lang.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '#' | '.')
                    })
            })
        })
        .collect();
    (!kept.is_empty()).then(|| Cow::Owned(kept.join(" ")))
}

/// Exactly the alignment styles pulldown-cmark writes for table columns.
fn is_table_alignment(style: &str) -> bool {
    matches!(
        style,
        "text-align: left" | "text-align: center" | "text-align: right"
    )
}

/// Heading ids look like the anchors we generate (slug characters only).
fn is_anchor(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    const ARTICLE: &str = r#"Post-traumatic stress disorder (**PTSD**) affects *millions* of people, and [new research](https://example.com/study) offers hope.

## Understanding PTSD

PTSD can develop after a traumatic event.

## How ketamine helps

1. **Rapid relief** from symptoms within hours.
2. **Neuroplasticity** that supports therapy.
3. **Fewer sessions** than many alternatives.

### 1. Rapid relief

Some patients notice changes after one infusion.

## Conclusion

Ketamine is not a cure, but it is a promising option.

## Ready to take the next step?

- [ ] Talk to your doctor
- [ ] Check your insurance
- [ ] Book a consultation
"#;

    fn anchors(body: &RenderedBody) -> Vec<&str> {
        body.outline
            .iter()
            .map(|entry| entry.anchor.as_str())
            .collect()
    }

    #[test]
    fn a_realistic_article_gets_an_outline_with_levels_texts_and_anchors() {
        let body = render(ARTICLE);
        let outline: Vec<(u8, &str, &str)> = body
            .outline
            .iter()
            .map(|e| (e.level, e.text.as_str(), e.anchor.as_str()))
            .collect();
        assert_eq!(
            outline,
            vec![
                (2, "Understanding PTSD", "understanding-ptsd"),
                (2, "How ketamine helps", "how-ketamine-helps"),
                (3, "1. Rapid relief", "1-rapid-relief"),
                (2, "Conclusion", "conclusion"),
                (
                    2,
                    "Ready to take the next step?",
                    "ready-to-take-the-next-step"
                ),
            ]
        );
    }

    #[test]
    fn a_realistic_article_renders_headings_with_ids_and_an_ordered_list() {
        let html = render(ARTICLE).html;
        assert!(
            html.contains(r#"<h2 id="understanding-ptsd">Understanding PTSD</h2>"#),
            "{html}"
        );
        assert!(html.contains(r#"<h3 id="1-rapid-relief">"#), "{html}");
        assert!(html.contains("<ol>"), "{html}");
        assert!(
            html.contains("<li><strong>Rapid relief</strong> from symptoms"),
            "{html}"
        );
        assert!(html.contains("<ul>"), "{html}");
        assert!(html.contains("<li>[ ] Talk to your doctor</li>"), "{html}");
    }

    #[test]
    fn links_keep_safe_hrefs_and_get_noopener_noreferrer() {
        let html = render(ARTICLE).html;
        assert!(
            html.contains(
                r#"<a href="https://example.com/study" rel="noopener noreferrer">new research</a>"#
            ),
            "{html}"
        );
        let html = render("[top](#understanding-ptsd) [page](/articles/x) [mail](mailto:a@b.c) [call](tel:+15551234)").html;
        for href in [
            "#understanding-ptsd",
            "/articles/x",
            "mailto:a@b.c",
            "tel:+15551234",
        ] {
            assert!(
                html.contains(&format!(r#"href="{href}""#)),
                "{href} in {html}"
            );
        }
    }

    #[test]
    fn first_paragraph_is_the_intro_with_inline_markup_flattened() {
        assert_eq!(
            render(ARTICLE).first_paragraph.as_deref(),
            Some(
                "Post-traumatic stress disorder (PTSD) affects millions of people, and new research offers hope."
            )
        );
    }

    #[test]
    fn first_paragraph_skips_headings_lists_and_image_only_paragraphs() {
        let body = render(
            "# Title\n\n- a list item\n\n![alt text](https://x.test/a.png)\n\nThe real intro.\n\nSecond.",
        );
        assert_eq!(body.first_paragraph.as_deref(), Some("The real intro."));
    }

    #[test]
    fn plain_text_has_one_block_per_line_without_markup_or_urls() {
        let body = render(ARTICLE);
        let lines: Vec<&str> = body.plain_text.lines().collect();
        assert_eq!(lines[1], "Understanding PTSD");
        assert_eq!(lines[4], "Rapid relief from symptoms within hours.");
        assert_eq!(lines.last().copied(), Some("[ ] Book a consultation"));
        assert!(!body.plain_text.contains("https://"));
        assert!(!body.plain_text.contains("**"));
    }

    #[test]
    fn script_tags_are_removed_with_their_content() {
        let body =
            render("Before\n\n<script>alert(1)</script>\n\nInline <script>alert(2)</script> after");
        assert!(!body.html.contains("<script"), "{}", body.html);
        assert!(!body.html.contains("alert"), "{}", body.html);
        assert!(!body.plain_text.contains("alert"), "{}", body.plain_text);
    }

    #[test]
    fn event_handlers_are_stripped_from_raw_html() {
        let html =
            render("<img src=x onerror=alert(1)>\n\nText <b onclick=\"steal()\">bold</b>").html;
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("alert"), "{html}");
        assert!(html.contains("<b>bold</b>"), "{html}");
    }

    #[test]
    fn javascript_links_lose_their_href() {
        let html = render("[click](javascript:alert(1))").html;
        assert!(!html.to_lowercase().contains("javascript"), "{html}");
        assert!(html.contains("click"), "{html}");
    }

    #[test]
    fn mixed_case_and_obfuscated_javascript_urls_in_raw_html_are_removed() {
        for raw in [
            r#"<a href="JaVaScRiPt:alert(1)">x</a>"#,
            r#"<a href=" javascript:alert(1)">x</a>"#,
            "<a href=\"java\tscript:alert(1)\">x</a>",
            r#"<a href="javascript&colon;alert(1)">x</a>"#,
            r#"<a href="&#106;avascript:alert(1)">x</a>"#,
        ] {
            let html = render(raw).html;
            assert!(!html.contains("href"), "{raw} -> {html}");
        }
    }

    #[test]
    fn data_urls_are_removed_from_links_and_images() {
        let html =
            render("[x](data:text/html;base64,PHNjcmlwdD4=) ![y](data:image/png;base64,AAAA)").html;
        assert!(!html.contains("data:"), "{html}");
    }

    #[test]
    fn images_keep_only_absolute_http_sources_and_safe_attributes() {
        let html = render(r#"![A scan](https://cdn.example.com/scan.png "Brain scan")"#).html;
        assert!(
            html.contains(r#"src="https://cdn.example.com/scan.png""#),
            "{html}"
        );
        assert!(html.contains(r#"alt="A scan""#), "{html}");
        assert!(html.contains(r#"title="Brain scan""#), "{html}");
        let html = render(r#"<img src="/local.png" width="10" style="x" class="y">"#).html;
        assert_eq!(html.trim(), r#"<img width="10">"#);
    }

    #[test]
    fn ids_classes_and_styles_survive_only_where_allowed() {
        let html = render(
            "<p id=\"x\" class=\"big\" style=\"color:red\">hi</p>\n\n<h2 id=\"Bad Id\">H</h2>",
        )
        .html;
        assert!(!html.contains("id="), "{html}");
        assert!(!html.contains("class="), "{html}");
        assert!(!html.contains("style="), "{html}");
    }

    #[test]
    fn code_blocks_keep_only_language_classes() {
        let html = render("```rust\nfn main() {}\n```").html;
        assert!(html.contains(r#"<code class="language-rust">"#), "{html}");
        let html = render(r#"<code class="evil language-js">x</code>"#).html;
        assert!(html.contains(r#"<code class="language-js">"#), "{html}");
    }

    #[test]
    fn duplicate_headings_get_numbered_anchors() {
        let body = render("## FAQ\n\n## FAQ\n\n## FAQ\n\n## FAQ 2");
        assert_eq!(anchors(&body), ["faq", "faq-2", "faq-3", "faq-2-2"]);
        assert!(
            body.html.contains(r#"<h2 id="faq-2">FAQ</h2>"#),
            "{}",
            body.html
        );
    }

    #[test]
    fn headings_without_usable_text_are_called_section() {
        let body = render("## ???\n\n## 💡\n\n## Section");
        assert_eq!(anchors(&body), ["section", "section-2", "section-3"]);
    }

    #[test]
    fn outline_lists_h1_to_h4_but_every_heading_gets_an_id() {
        let body = render("# One\n## Two\n### Three\n#### Four\n##### Five\n###### Six");
        let levels: Vec<u8> = body.outline.iter().map(|e| e.level).collect();
        assert_eq!(levels, [1, 2, 3, 4]);
        assert!(body.html.contains(r#"<h5 id="five">"#), "{}", body.html);
        assert!(body.html.contains(r#"<h6 id="six">"#), "{}", body.html);
    }

    #[test]
    fn heading_text_is_flattened_from_inline_markup() {
        let body = render("## *Ketamine* & `PTSD`: [a guide](https://x.test)");
        assert_eq!(body.outline[0].text, "Ketamine & PTSD: a guide");
        assert_eq!(body.outline[0].anchor, "ketamine-and-ptsd-a-guide");
    }

    #[test]
    fn heading_attribute_syntax_is_not_interpreted() {
        let body = render("## Title {#custom}");
        assert_eq!(body.outline[0].anchor, "title-custom");
    }

    #[test]
    fn tables_render_with_alignment_and_count_cell_words() {
        let body = render(
            "| Option | Onset |\n|:------|------:|\n| Ketamine | Hours |\n| SSRIs | Weeks |",
        );
        let html = &body.html;
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<thead>"), "{html}");
        assert!(
            html.contains(r#"<th style="text-align: left">Option</th>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<td style="text-align: right">Hours</td>"#),
            "{html}"
        );
        assert_eq!(body.word_count, 6);
        assert_eq!(body.plain_text, "Option Onset\nKetamine Hours\nSSRIs Weeks");
    }

    #[test]
    fn strikethrough_renders_as_del() {
        assert!(render("~~old~~ new").html.contains("<del>old</del>"));
    }

    #[test]
    fn word_count_ignores_markup_urls_and_punctuation() {
        let body = render(
            "# Heading here\n\nOne **two** [three](https://example.com/a-b-c) — four.\n\n- five\n- six <https://example.com/autolink>\n\n![alt words](https://x.test/i.png)",
        );
        assert_eq!(body.word_count, 8);
    }

    #[test]
    fn reading_time_rounds_up_at_230_words_per_minute() {
        let words = |n: usize| vec!["word"; n].join(" ");
        let cases = [(1, 1), (230, 1), (231, 2), (460, 2), (461, 3)];
        for (n, minutes) in cases {
            let body = render(&words(n));
            assert_eq!(body.word_count as usize, n);
            assert_eq!(body.reading_time_minutes, minutes, "{n} words");
        }
    }

    #[test]
    fn an_empty_body_renders_to_nothing() {
        for empty in ["", "   \n\n  "] {
            let body = render(empty);
            assert_eq!(body.html, "");
            assert!(body.outline.is_empty());
            assert_eq!(body.word_count, 0);
            assert_eq!(body.reading_time_minutes, 0);
            assert_eq!(body.first_paragraph, None);
            assert_eq!(body.plain_text, "");
        }
    }

    #[test]
    fn harmless_inline_html_is_kept_and_unknown_tags_are_unwrapped() {
        let body = render("CO<sub>2</sub> and <em>care</em> in <custom-tag>a box</custom-tag>");
        assert!(body.html.contains("CO<sub>2</sub>"), "{}", body.html);
        assert!(body.html.contains("<em>care</em>"), "{}", body.html);
        assert!(!body.html.contains("custom-tag"), "{}", body.html);
        assert_eq!(body.plain_text, "CO2 and care in a box");
    }

    #[test]
    fn raw_html_blocks_count_as_text_without_their_tags() {
        let body =
            render("<div class=\"callout\">\nCall us &amp; book <b>today</b>\n</div>\n\nAfter");
        assert_eq!(body.plain_text, "Call us & book today\nAfter");
        assert_eq!(body.word_count, 5);
        assert!(!body.html.contains("<div"), "{}", body.html);
    }

    #[test]
    fn html_comments_are_stripped() {
        assert!(!render("Text <!-- secret -->").html.contains("secret"));
    }

    #[test]
    fn excerpt_from_returns_short_text_unchanged_but_collapsed() {
        assert_eq!(
            excerpt_from("  Short\n\ntext  here ", 50),
            "Short text here"
        );
        assert_eq!(excerpt_from("exactly ten", 11), "exactly ten");
    }

    #[test]
    fn excerpt_from_cuts_at_a_word_boundary_and_appends_an_ellipsis() {
        let text = "Ketamine offers rapid relief for treatment resistant symptoms";
        assert_eq!(excerpt_from(text, 20), "Ketamine offers…");
        assert_eq!(excerpt_from(text, 22), "Ketamine offers rapid…");
        assert!(excerpt_from(text, 22).chars().count() <= 22);
    }

    #[test]
    fn excerpt_from_drops_dangling_punctuation_before_the_ellipsis() {
        assert_eq!(
            excerpt_from("Hope, relief, and more words", 15),
            "Hope, relief…"
        );
        assert_eq!(excerpt_from("Results — and more", 10), "Results…");
    }

    #[test]
    fn excerpt_from_never_splits_multi_byte_characters() {
        let text = "Ünïcödé wörds ñañaña 日本語のテキスト 🌅🌅🌅 end";
        for max in 0..=text.chars().count() + 1 {
            let excerpt = excerpt_from(text, max);
            assert!(excerpt.chars().count() <= max, "{max}: {excerpt}");
        }
        assert_eq!(excerpt_from(text, 14), "Ünïcödé wörds…");
        assert_eq!(excerpt_from("日本語のテキスト", 5), "日本語の…");
        assert_eq!(excerpt_from("🌅🌅🌅🌅", 3), "🌅🌅…");
    }

    #[test]
    fn excerpt_from_handles_tiny_limits() {
        assert_eq!(excerpt_from("Hello world", 0), "");
        assert_eq!(excerpt_from("Hello world", 1), "…");
        assert_eq!(excerpt_from("", 5), "");
    }

    #[test]
    fn outline_serializes_for_the_api() {
        let body = render("## Understanding PTSD");
        assert_eq!(
            serde_json::to_string(&body.outline).unwrap(),
            r#"[{"level":2,"text":"Understanding PTSD","anchor":"understanding-ptsd"}]"#
        );
    }
}
