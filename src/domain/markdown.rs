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
//!
//! Work is linear in the input: [`check`] refuses bodies beyond the limits below
//! (headings, nesting, links, raw HTML tags), and [`render`] enforces the same
//! limits on any input by dropping what lies beyond them. Raw formatting tags
//! (`<b>`, `<i>`, ...) left open are closed at the end of their block, so the
//! HTML parser never re-opens them in every later paragraph.

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

/// Most headings a body may have; each gets an anchor.
pub const MAX_HEADINGS: usize = 200;
/// Deepest nesting of block quotes, lists, list items and inline formatting.
pub const MAX_NESTING: usize = 32;
/// Most links and images a body may have.
pub const MAX_LINKS: usize = 2_000;
/// Most raw HTML tags (counted by their `<`) a body may have.
pub const MAX_RAW_HTML_TAGS: usize = 1_000;
/// Most table cells a body may have, counting the empty ones short rows are padded with.
pub const MAX_TABLE_CELLS: usize = 10_000;
/// Longest heading text kept in the outline, in characters.
pub const OUTLINE_TEXT_MAX_CHARS: usize = 200;

/// A limit a body goes beyond; the message follows the field name in an API error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("must have at most {MAX_HEADINGS} headings")]
    Headings,
    #[error("must nest quotes, lists and emphasis at most {MAX_NESTING} levels deep")]
    Nesting,
    #[error("must have at most {MAX_LINKS} links and images")]
    Links,
    #[error("must have at most {MAX_RAW_HTML_TAGS} raw HTML tags")]
    RawHtml,
    #[error("must have at most {MAX_TABLE_CELLS} table cells")]
    TableCells,
}

/// Refuses a body that goes beyond a limit, naming the first one it meets.
pub fn check(markdown: &str) -> Result<(), LimitError> {
    let mut bounded = Bounded::new(Parser::new_ext(markdown, parser_options()));
    bounded.by_ref().for_each(drop);
    bounded.exceeded.map_or(Ok(()), Err)
}

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
    let mut events: Vec<Event<'_>> =
        Bounded::new(Parser::new_ext(markdown, parser_options())).collect();
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
// Limits
// ---------------------------------------------------------------------------

/// Formatting elements the HTML parser re-opens in every later block while
/// they are left open ("reconstruct the active formatting elements").
const FORMATTING_TAGS: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];

/// Phrasing elements: their start tag ends no element opened before it.
const KEEPS_FORMATTING: &[&str] = &[
    "abbr", "bdi", "bdo", "cite", "data", "del", "dfn", "ins", "kbd", "mark", "q", "samp", "span",
    "sub", "sup", "time", "var",
];

/// Phrasing elements without content.
const VOID_PHRASING: &[&str] = &["br", "img", "wbr"];

/// Passes Markdown events through within the limits: a tag beyond a limit is
/// dropped with its end (its content stays), raw HTML beyond the limit is
/// dropped, and raw formatting tags opened in a block are closed at its end.
struct Bounded<'a, I> {
    events: I,
    /// One entry per open tag: whether it was kept.
    open: Vec<bool>,
    depth: usize,
    headings: usize,
    links: usize,
    raw_tags: usize,
    table_cells: usize,
    /// Raw formatting and phrasing tags opened since the last block ended.
    raw_open: Vec<RawOpen>,
    /// Events to hand out before reading on.
    pending: std::collections::VecDeque<Event<'a>>,
    exceeded: Option<LimitError>,
}

impl<'a, I: Iterator<Item = Event<'a>>> Bounded<'a, I> {
    fn new(events: I) -> Self {
        Bounded {
            events,
            open: Vec::new(),
            depth: 0,
            headings: 0,
            links: 0,
            raw_tags: 0,
            table_cells: 0,
            raw_open: Vec::new(),
            pending: std::collections::VecDeque::new(),
            exceeded: None,
        }
    }

    fn exceed(&mut self, limit: LimitError) -> bool {
        self.exceeded.get_or_insert(limit);
        false
    }

    /// Whether a start tag stays, counting it.
    fn admit(&mut self, tag: &Tag<'_>) -> bool {
        if self.depth >= MAX_NESTING && counts_as_nesting(tag) {
            return self.exceed(LimitError::Nesting);
        }
        match tag {
            Tag::Heading { .. } => {
                self.headings += 1;
                self.headings <= MAX_HEADINGS || self.exceed(LimitError::Headings)
            }
            Tag::Link { .. } | Tag::Image { .. } => {
                self.links += 1;
                self.links <= MAX_LINKS || self.exceed(LimitError::Links)
            }
            Tag::TableCell => {
                self.table_cells += 1;
                self.table_cells <= MAX_TABLE_CELLS || self.exceed(LimitError::TableCells)
            }
            _ => true,
        }
    }

    /// Raw HTML within the limit, counting its tags. Raw formatting tags still open are closed
    /// before any tag that could pop them off the parser's stack (an end tag, a block), as
    /// the parser would otherwise re-open them after it, again and again.
    fn admit_raw(&mut self, html: CowStr<'a>) -> Option<CowStr<'a>> {
        self.raw_tags = self.raw_tags.saturating_add(html.matches('<').count());
        if self.raw_tags > MAX_RAW_HTML_TAGS {
            self.exceed(LimitError::RawHtml);
            return None;
        }
        // Every `<name` counts, even one inside a comment or an attribute: an extra
        // closing tag is harmless, a missing one is not.
        let mut rewritten: Option<String> = None;
        let mut copied = 0;
        for (index, _) in html.match_indices('<') {
            let Some((closing, name)) = html_tag_name(html.get(index..).unwrap_or_default()) else {
                continue;
            };
            let closers = self.raw_tag(closing, name);
            if !closers.is_empty() {
                let out = rewritten.get_or_insert_with(String::new);
                out.push_str(html.get(copied..index).unwrap_or_default());
                out.push_str(&closers);
                copied = index;
            }
        }
        Some(match rewritten {
            Some(mut out) => {
                out.push_str(html.get(copied..).unwrap_or_default());
                CowStr::from(out)
            }
            None => html,
        })
    }

    /// Notes one raw tag; returns the closing tags to put before it.
    fn raw_tag(&mut self, closing: bool, name: String) -> String {
        let formatting = FORMATTING_TAGS.iter().find(|tag| **tag == name);
        match (closing, formatting) {
            (false, Some(tag)) => {
                self.raw_open.push(RawOpen::Formatting(tag));
                String::new()
            }
            (true, Some(_)) => String::new(),
            (false, None) if VOID_PHRASING.contains(&name.as_str()) => String::new(),
            (false, None) if KEEPS_FORMATTING.contains(&name.as_str()) => {
                self.raw_open.push(RawOpen::Phrasing(name));
                String::new()
            }
            // `</span>` pops what was opened inside the span.
            (true, None) if KEEPS_FORMATTING.contains(&name.as_str()) => {
                let found = self
                    .raw_open
                    .iter()
                    .rposition(|open| matches!(open, RawOpen::Phrasing(open) if *open == name));
                self.close_raw_from(found.unwrap_or(0))
            }
            _ => self.close_raw_from(0),
        }
    }

    /// Forgets the raw tags from `index` on, returning closing tags for the formatting ones.
    fn close_raw_from(&mut self, index: usize) -> String {
        let mut closers = String::new();
        while self.raw_open.len() > index {
            if let Some(RawOpen::Formatting(tag)) = self.raw_open.pop() {
                closers.push_str("</");
                closers.push_str(tag);
                closers.push('>');
            }
        }
        closers
    }

    /// Queues closing tags for raw formatting tags opened in the block that ends.
    fn close_raw_formatting(&mut self) {
        let closers = self.close_raw_from(0);
        if !closers.is_empty() {
            self.pending
                .push_back(Event::InlineHtml(CowStr::from(closers)));
        }
    }
}

/// A raw tag opened in the current block.
enum RawOpen {
    Formatting(&'static str),
    Phrasing(String),
}

fn counts_as_nesting(tag: &Tag<'_>) -> bool {
    !matches!(
        tag,
        Tag::Paragraph | Tag::Heading { .. } | Tag::CodeBlock(_) | Tag::HtmlBlock
    )
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Bounded<'a, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            let event = self.events.next()?;
            match &event {
                Event::Start(tag) => {
                    let keep = self.admit(tag);
                    self.open.push(keep);
                    if keep {
                        self.depth += 1;
                        return Some(event);
                    }
                }
                Event::End(tag) => {
                    if is_block(tag) || matches!(tag, TagEnd::HtmlBlock | TagEnd::TableCell) {
                        self.close_raw_formatting();
                    }
                    if self.open.pop().unwrap_or(true) {
                        self.depth = self.depth.saturating_sub(1);
                        self.pending.push_back(event);
                    }
                }
                Event::Html(_) | Event::InlineHtml(_) => match event {
                    Event::Html(html) => {
                        if let Some(html) = self.admit_raw(html) {
                            return Some(Event::Html(html));
                        }
                    }
                    Event::InlineHtml(html) => {
                        if let Some(html) = self.admit_raw(html) {
                            return Some(Event::InlineHtml(html));
                        }
                    }
                    _ => return Some(event),
                },
                _ => return Some(event),
            }
        }
    }
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
                text: excerpt_from(&text, OUTLINE_TEXT_MAX_CHARS),
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
///
/// Each base remembers the next suffix to try, so a thousand "FAQ" headings
/// cost a thousand lookups, not half a million. A candidate is skipped only
/// when some heading already holds it, and every anchor is the candidate of
/// exactly one base, so the skips add up to at most the number of headings.
#[derive(Default)]
struct AnchorSet {
    used: HashSet<String>,
    next_suffix: HashMap<String, usize>,
    #[cfg(test)]
    probes: usize,
}

impl AnchorSet {
    fn claim(&mut self, base: &str) -> String {
        #[cfg(test)]
        {
            self.probes += 1;
        }
        if self.used.insert(base.to_owned()) {
            return base.to_owned();
        }
        let next = self.next_suffix.entry(base.to_owned()).or_insert(2);
        loop {
            #[cfg(test)]
            {
                self.probes += 1;
            }
            let candidate = format!("{base}-{next}");
            *next += 1;
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
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
        // A block whose raw HTML went beyond the limit is empty: no need to sanitise it.
        if let Some(html) = self.html_block.take().filter(|html| !html.is_empty()) {
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
    fn a_hundred_thousand_empty_headings_render_with_a_bounded_outline() {
        let body = "#\n".repeat(100_000);
        let rendered = render(&body);
        assert_eq!(rendered.outline.len(), MAX_HEADINGS);
        assert_eq!(rendered.html.matches(" id=").count(), MAX_HEADINGS);
        assert!(
            rendered.html.len() <= 8 * body.len(),
            "{}",
            rendered.html.len()
        );
        assert_eq!(check(&body), Err(LimitError::Headings));
    }

    #[test]
    fn identical_headings_cost_a_bounded_number_of_anchor_probes_each() {
        let mut anchors = AnchorSet::default();
        let claimed: HashSet<String> = (0..20_000).map(|_| anchors.claim("section")).collect();
        assert_eq!(claimed.len(), 20_000);
        assert!(anchors.probes <= 2 * 20_000, "{} probes", anchors.probes);
    }

    #[test]
    fn anchors_already_taken_by_other_headings_are_skipped_once() {
        let mut anchors = AnchorSet::default();
        let claimed: Vec<String> = ["faq-2", "faq-3", "faq", "faq", "faq", "faq"]
            .into_iter()
            .map(|base| anchors.claim(base))
            .collect();
        assert_eq!(
            claimed,
            ["faq-2", "faq-3", "faq", "faq-4", "faq-5", "faq-6"]
        );
        assert!(anchors.probes <= 6 + 6 + 2, "{} probes", anchors.probes);
    }

    #[test]
    fn nesting_beyond_the_limit_is_flattened() {
        for body in [
            ">".repeat(100_000),
            "> ".repeat(50_000),
            format!("{}a", "- ".repeat(50_000)),
            format!("{}a", "1. ".repeat(30_000)),
        ] {
            let rendered = render(&body);
            let opened = rendered.html.matches("<blockquote>").count()
                + rendered.html.matches("<li>").count();
            assert!(opened <= MAX_NESTING, "{opened} levels");
            assert_eq!(check(&body), Err(LimitError::Nesting));
        }
    }

    #[test]
    fn unclosed_brackets_and_emphasis_render_as_text() {
        for body in [
            "[".repeat(100_000),
            "*".repeat(100_000),
            "_a".repeat(50_000),
        ] {
            let rendered = render(&body);
            assert!(rendered.html.len() <= 8 * body.len());
            assert_eq!(check(&body), Ok(()));
        }
    }

    #[test]
    fn links_beyond_the_limit_keep_only_their_text() {
        let body = "[a](https://x.test) ".repeat(MAX_LINKS + 10);
        let rendered = render(&body);
        assert_eq!(rendered.html.matches("<a ").count(), MAX_LINKS);
        assert_eq!(check(&body), Err(LimitError::Links));
        assert_eq!(check(&"[a](https://x.test) ".repeat(MAX_LINKS)), Ok(()));
    }

    #[test]
    fn raw_formatting_tags_left_open_are_closed_at_the_end_of_their_block() {
        let opened: String = (0..100).map(|i| format!("<b title=\"{i}\">")).collect();
        let body = format!("{opened}\n\n{}", "x\n\n".repeat(2_000));
        let rendered = render(&body);
        assert!(
            rendered.html.matches("<b").count() <= 100,
            "{} <b> elements",
            rendered.html.matches("<b").count()
        );
        assert_eq!(check(&body), Ok(()));
    }

    #[test]
    fn table_cells_beyond_the_limit_are_dropped() {
        // Short rows are padded to the header's width: 2,000 columns by 1,000 rows.
        let body = format!(
            "{}\n{}\n{}",
            "|a".repeat(2_000),
            "|-".repeat(2_000),
            "x\n".repeat(1_000)
        );
        let rendered = render(&body);
        let cells = rendered.html.matches("<td>").count() + rendered.html.matches("<th>").count();
        assert_eq!(cells, MAX_TABLE_CELLS);
        assert_eq!(check(&body), Err(LimitError::TableCells));
    }

    #[test]
    fn raw_formatting_tags_are_closed_before_a_raw_tag_that_would_pop_them() {
        let opened: String = (0..400).map(|i| format!("<b title=\"{i}\">")).collect();
        for closer in ["x<p>", "<span>x</span>", "x</div>"] {
            let body = format!("{opened}{}", closer.repeat(100));
            let html = render(&body).html;
            assert!(
                html.matches("<b>").count() <= 400,
                "{closer}: {} <b> elements",
                html.matches("<b>").count()
            );
        }
        let html = render("<b>bold <sup>2</sup> <br> still</b> done").html;
        assert!(
            html.contains("<b>bold <sup>2</sup> <br> still</b> done"),
            "{html}"
        );
    }

    #[test]
    fn raw_html_beyond_the_limit_is_dropped() {
        let body = "<b>x</b> ".repeat(MAX_RAW_HTML_TAGS);
        let rendered = render(&body);
        assert_eq!(rendered.html.matches("<b>").count(), MAX_RAW_HTML_TAGS / 2);
        assert_eq!(check(&body), Err(LimitError::RawHtml));
    }

    #[test]
    fn long_heading_texts_are_cut_in_the_outline() {
        let rendered = render(&format!("# {}", "word ".repeat(1_000)));
        let entry = &rendered.outline[0];
        assert!(entry.text.chars().count() <= OUTLINE_TEXT_MAX_CHARS);
        assert!(entry.anchor.len() <= crate::domain::slug::Slug::MAX_LEN);
    }

    #[test]
    fn a_realistic_article_is_within_every_limit() {
        assert_eq!(check(ARTICLE), Ok(()));
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

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Markdown-shaped input: fragments that open structure, raw HTML and URLs, repeated.
    fn markdownish() -> impl Strategy<Value = String> {
        let fragment = prop_oneof![
            Just("#".to_owned()),
            Just("## ".to_owned()),
            Just(">".to_owned()),
            Just("- ".to_owned()),
            Just("1. ".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just("](".to_owned()),
            Just(")".to_owned()),
            Just("![".to_owned()),
            Just("*".to_owned()),
            Just("_".to_owned()),
            Just("`".to_owned()),
            Just("```".to_owned()),
            Just("|".to_owned()),
            Just("|-|".to_owned()),
            Just("~~".to_owned()),
            Just("\n".to_owned()),
            Just("\n\n".to_owned()),
            Just(" ".to_owned()),
            Just("    ".to_owned()),
            Just("&amp;".to_owned()),
            Just("<".to_owned()),
            Just("<b title=x>".to_owned()),
            Just("</b>".to_owned()),
            Just("<p>".to_owned()),
            Just("<div>".to_owned()),
            Just("<script>alert(1)</script>".to_owned()),
            Just("<img src=x onerror=alert(1)>".to_owned()),
            Just("<a href=\"javascript:alert(1)\">".to_owned()),
            Just("javascript:alert(1)".to_owned()),
            Just("https://x.test/".to_owned()),
            Just("<!--".to_owned()),
            "[a-zA-Z0-9]{1,6}",
            "\\PC{1,3}",
        ];
        (prop::collection::vec(fragment, 0..60), 1usize..40)
            .prop_map(|(fragments, times)| fragments.concat().repeat(times))
    }

    /// The tags of serialised HTML with their attributes (values are always double-quoted; text
    /// never holds a raw `<`).
    fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
        let mut found = Vec::new();
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            rest = &rest[start + 1..];
            if rest.starts_with('/') {
                continue;
            }
            let end = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            let name = rest[..end].to_owned();
            rest = &rest[end..];
            let mut attributes = Vec::new();
            loop {
                rest = rest.trim_start();
                if rest.is_empty() || rest.starts_with('>') || rest.starts_with("/>") {
                    break;
                }
                let end = rest.find(['=', ' ', '>']).unwrap_or(rest.len());
                let key = rest[..end].to_owned();
                rest = &rest[end..];
                let mut value = String::new();
                if let Some(quoted) = rest.strip_prefix("=\"") {
                    let close = quoted.find('"').unwrap_or(quoted.len());
                    value = quoted[..close].to_owned();
                    rest = quoted.get(close + 1..).unwrap_or_default();
                }
                attributes.push((key, value));
            }
            found.push((name, attributes));
        }
        found
    }

    /// Every tag and attribute of sanitised output is on the allow-list, and no URL runs script.
    fn assert_sanitised(html: &str) -> Result<(), TestCaseError> {
        let allowed = allowed_attributes();
        for (name, attributes) in tags(html) {
            prop_assert!(
                ALLOWED_TAGS.contains(&name.as_str()),
                "tag {:?} in {}",
                name,
                html
            );
            for (key, value) in attributes {
                let known = allowed
                    .get(name.as_str())
                    .is_some_and(|keys| keys.contains(key.as_str()))
                    || (name == "a" && key == "rel");
                prop_assert!(known, "attribute {:?} on {:?} in {}", key, name, html);
                // Only URL attributes can run script; `alt="javascript:…"` is just text.
                if key == "href" || key == "src" {
                    let value = value.trim().to_ascii_lowercase();
                    for scheme in ["javascript:", "vbscript:", "data:"] {
                        prop_assert!(!value.starts_with(scheme), "{:?} in {}", value, html);
                    }
                }
            }
        }
        Ok(())
    }

    fn assert_bounded(markdown: &str, body: &RenderedBody) -> Result<(), TestCaseError> {
        prop_assert!(
            body.html.len() <= 64 * markdown.len() + 64,
            "{} -> {}",
            markdown.len(),
            body.html.len()
        );
        prop_assert!(body.outline.len() <= MAX_HEADINGS);
        let anchors: HashSet<&str> = body.outline.iter().map(|e| e.anchor.as_str()).collect();
        prop_assert_eq!(anchors.len(), body.outline.len());
        for entry in &body.outline {
            prop_assert!(entry.text.chars().count() <= OUTLINE_TEXT_MAX_CHARS);
            prop_assert!(is_anchor(&entry.anchor), "{:?}", entry.anchor);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_renders_sanitised_and_bounded(markdown in prop_oneof![
            any::<String>(),
            markdownish(),
        ]) {
            let body = render(&markdown);
            assert_sanitised(&body.html)?;
            assert_bounded(&markdown, &body)?;
            let _ = check(&markdown);
        }

        #[test]
        fn excerpts_never_exceed_their_limit(text in any::<String>(), max in 0usize..300) {
            prop_assert!(excerpt_from(&text, max).chars().count() <= max);
        }
    }
}
