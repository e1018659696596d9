//! The layer checker: plain functions over `file path -> source text`, so the same code checks
//! the real `src/` and the small made-up crates in the tests at the bottom.
//!
//! Every file is parsed with `syn`. A reference is any path that names something in the crate:
//! `use` trees (grouped, nested, renamed, glob), paths in items, expressions, types and patterns,
//! attribute paths and the paths inside attribute arguments (`#[diesel(table_name = ...)]`,
//! `#[serde(with = "crate::...")]`). Relative paths (`self::`, `super::`, a child module's name,
//! a name brought in by `use`) are resolved from the module they are written in. Each reference
//! lands on the deepest module FILE it names: `crate::routes::extract::Json` is
//! `src/routes/extract.rs`, `crate::routes::configure` is `src/routes/mod.rs`.
//!
//! Macro bodies are token soup, not syntax: inside them only absolute `crate::`/`beacon::` paths
//! count. Relative ones are skipped because macros such as diesel's `table!` make modules of
//! their own, where `super::` means something else; `macro_rules!` definitions are skipped whole.
//! `mod x;` declarations are not references: a parent declaring its child is not a dependency.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::{self, Write as _};

use proc_macro2::{Spacing, Span, TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// The library's crate name, through which `main.rs` reaches it.
const LIBRARY: &str = "beacon";

/// The module name given to `src/main.rs`, the binary's own crate root.
const BINARY_ROOT: &str = "main";

/// The module name given to `src/lib.rs`, the library's root. It only declares modules, so it
/// is not in the layer table and any reference into or out of it is reported.
const LIBRARY_ROOT: &str = "lib";

/// One top-level module's row in the layer table.
pub struct Layer {
    pub module: &'static str,
    /// The other top-level modules it may reference.
    pub may_use: &'static [&'static str],
    /// Single items of a module it may not otherwise use (`"db::run"`): the item and anything
    /// under it may be named, and so may the module itself to reach them (`use crate::db;`).
    pub may_name: &'static [&'static str],
    /// External crates it may not name. `"actix"` also covers `actix_web`, `actix_cors`, ...
    pub forbidden_crates: &'static [&'static str],
}

/// Whether `name` (an external crate) is covered by `pattern` (see [`Layer::forbidden_crates`]).
fn crate_matches(name: &str, pattern: &str) -> bool {
    name == pattern
        || name
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('_'))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Krate {
    Library,
    Binary,
}

/// Where `src/<file>` sits: its crate and its module path inside that crate.
fn locate(file: &str) -> Option<(Krate, Vec<String>)> {
    let inner = file.strip_prefix("src/")?.strip_suffix(".rs")?;
    match inner {
        "lib" => Some((Krate::Library, Vec::new())),
        "main" => Some((Krate::Binary, Vec::new())),
        _ => {
            let mut module: Vec<String> = inner.split('/').map(str::to_owned).collect();
            if module.last().is_some_and(|last| last == "mod") {
                module.pop();
            }
            Some((Krate::Library, module))
        }
    }
}

/// The top-level module a file belongs to.
fn top_of(krate: Krate, module: &[String]) -> String {
    match (krate, module.first()) {
        (Krate::Binary, _) => BINARY_ROOT.to_owned(),
        (Krate::Library, None) => LIBRARY_ROOT.to_owned(),
        (Krate::Library, Some(first)) => first.clone(),
    }
}

/// Where a path is written, which decides how it resolves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// A `use` tree: it may bind a name, and a one-segment one (`use super::*`) still counts.
    Use,
    /// Items, expressions, types, patterns, attributes and their arguments.
    Code,
    /// Inside a macro invocation: only absolute paths count.
    MacroBody,
}

#[derive(Clone, Debug)]
struct Mention {
    /// The module the path is written in (the file's module plus any inline `mod` around it).
    scope: Vec<String>,
    segments: Vec<String>,
    leading_colon: bool,
    glob: bool,
    line: usize,
    kind: Kind,
    /// The name a `use` brings into scope.
    binds: Option<String>,
}

impl Mention {
    fn text(&self) -> String {
        let mut text = if self.leading_colon {
            String::from("::")
        } else {
            String::new()
        };
        text.push_str(&self.segments.join("::"));
        if self.glob {
            text.push_str("::*");
        }
        text
    }
}

fn line_of(span: Span) -> usize {
    span.start().line
}

/// Collects every path of one file.
struct Collector {
    scope: Vec<String>,
    mentions: Vec<Mention>,
}

impl Collector {
    fn push(&mut self, segments: Vec<String>, leading_colon: bool, line: usize, kind: Kind) {
        self.mentions.push(Mention {
            scope: self.scope.clone(),
            segments,
            leading_colon,
            glob: false,
            line,
            kind,
            binds: None,
        });
    }

    fn use_tree(&mut self, tree: &syn::UseTree, mut prefix: Vec<String>, leading_colon: bool) {
        let (segments, binds, glob, span) = match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                return self.use_tree(&path.tree, prefix, leading_colon);
            }
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(tree, prefix.clone(), leading_colon);
                }
                return;
            }
            syn::UseTree::Name(name) if name.ident == "self" => {
                let binds = prefix.last().cloned();
                (prefix, binds, false, name.ident.span())
            }
            syn::UseTree::Name(name) => {
                prefix.push(name.ident.to_string());
                let binds = Some(name.ident.to_string());
                (prefix, binds, false, name.ident.span())
            }
            syn::UseTree::Rename(rename) => {
                if rename.ident != "self" {
                    prefix.push(rename.ident.to_string());
                }
                let binds = (rename.rename != "_").then(|| rename.rename.to_string());
                (prefix, binds, false, rename.ident.span())
            }
            syn::UseTree::Glob(glob) => (prefix, None, true, glob.star_token.spans[0]),
        };
        self.mentions.push(Mention {
            scope: self.scope.clone(),
            segments,
            leading_colon,
            glob,
            line: line_of(span),
            kind: Kind::Use,
            binds,
        });
    }

    /// Picks the paths out of a token stream (attribute arguments, macro bodies): runs of
    /// `ident::ident...` and, in attributes, string literals that parse as paths (serde's
    /// `with = "..."`); in macro bodies strings are data.
    fn scan(&mut self, tokens: TokenStream, kind: Kind) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let colons = |i: usize| {
            matches!(trees.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
                && matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':')
        };
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(group) => {
                    self.scan(group.stream(), kind);
                    i += 1;
                }
                TokenTree::Literal(literal) if kind == Kind::Code => {
                    let path = syn::parse_str::<syn::LitStr>(&literal.to_string())
                        .ok()
                        .and_then(|text| syn::parse_str::<syn::Path>(&text.value()).ok());
                    if let Some(path) = path.filter(|path| path.segments.len() >= 2) {
                        let segments = path.segments.iter().map(|s| s.ident.to_string());
                        let leading_colon = path.leading_colon.is_some();
                        self.push(
                            segments.collect(),
                            leading_colon,
                            line_of(literal.span()),
                            kind,
                        );
                    }
                    i += 1;
                }
                TokenTree::Punct(punct) if punct.as_char() == '$' => {
                    // `$crate` and metavariables belong to macro definitions.
                    i += 2;
                }
                _ => {
                    let leading_colon = colons(i);
                    let start = if leading_colon { i + 2 } else { i };
                    let Some(TokenTree::Ident(first)) = trees.get(start) else {
                        i += 1;
                        continue;
                    };
                    let line = line_of(first.span());
                    let mut segments = vec![first.to_string()];
                    i = start + 1;
                    while colons(i) {
                        let Some(TokenTree::Ident(next)) = trees.get(i + 2) else {
                            break;
                        };
                        segments.push(next.to_string());
                        i += 3;
                    }
                    if segments.len() >= 2 || leading_colon {
                        self.push(segments, leading_colon, line, kind);
                    }
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        if let Some((_, items)) = &item.content {
            self.scope.push(item.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.scope.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        self.use_tree(&item.tree, Vec::new(), item.leading_colon.is_some());
    }

    fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        let line = line_of(item.ident.span());
        self.push(vec![item.ident.to_string()], true, line, Kind::Use);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        // A one-segment path in code is a local name or something a `use` brought in, and that
        // `use` is already counted.
        if path.segments.len() >= 2 || path.leading_colon.is_some() {
            let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = path.segments.first().map_or(0, |s| line_of(s.ident.span()));
            self.push(segments, path.leading_colon.is_some(), line, Kind::Code);
        }
        visit::visit_path(self, path);
    }

    /// `pub(crate)` and `pub(in path)` restrict visibility; they depend on nothing.
    fn visit_vis_restricted(&mut self, _: &'ast syn::VisRestricted) {}

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        let path = attr.path();
        if path.is_ident("doc") {
            return;
        }
        // Kept even with one segment: `#[diesel(...)]` says the item derives diesel traits.
        let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let line = path.segments.first().map_or(0, |s| line_of(s.ident.span()));
        self.push(segments, path.leading_colon.is_some(), line, Kind::Code);
        match &attr.meta {
            syn::Meta::Path(_) => {}
            syn::Meta::List(list) => self.scan(list.tokens.clone(), Kind::Code),
            syn::Meta::NameValue(pair) => self.visit_expr(&pair.value),
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        if !mac.path.is_ident("macro_rules") {
            self.scan(mac.tokens.clone(), Kind::MacroBody);
        }
    }
}

/// A reference from one file into another file of the crate.
#[derive(Clone, Debug)]
pub struct Reference {
    pub from: String,
    pub to: String,
    pub line: usize,
    /// The path as written, with a `use` group spelled out (`crate::db::run`).
    pub path: String,
    /// What it names, from the library's root (`["db", "run"]`); empty in the binary.
    pub target: Vec<String>,
    /// Whether it is a glob import, which names everything in `target`.
    pub glob: bool,
}

/// A path that leads out of the crate.
#[derive(Clone, Debug)]
pub struct ExternalUse {
    pub file: String,
    pub line: usize,
    /// Its first segment: an external crate, or a name such as `Status` in `Status::Draft` or an
    /// attribute's `serde`. Only the crate names a layer forbids matter.
    pub krate: String,
    pub path: String,
}

struct SourceFile {
    name: String,
    krate: Krate,
    module: Vec<String>,
    mentions: Vec<Mention>,
}

/// A module path, absolute in its crate.
type Target = (Krate, Vec<String>);

/// What the crate's files reference: each other and external crates.
pub struct Analysis {
    /// Every file with its top-level module.
    pub files: BTreeMap<String, String>,
    pub references: Vec<Reference>,
    pub externals: Vec<ExternalUse>,
    pub unparsable: Vec<String>,
}

struct Resolver<'a> {
    files: &'a [SourceFile],
    /// Library module path -> file.
    modules: HashMap<Vec<String>, String>,
    /// (file index, scope) -> name -> what a `use` there binds it to.
    aliases: HashMap<(usize, Vec<String>), HashMap<String, Target>>,
}

impl Resolver<'_> {
    /// The name's binding seen from `scope`: its own `use`s first, then those of the enclosing
    /// inline modules of the same file (test modules usually reach them through `use super::*`).
    fn alias(&self, file: usize, scope: &[String], name: &str) -> Option<&Target> {
        let floor = self.files[file].module.len();
        (floor..=scope.len()).rev().find_map(|depth| {
            self.aliases
                .get(&(file, scope[..depth].to_vec()))
                .and_then(|names| names.get(name))
        })
    }

    fn is_child_module(&self, file: usize, scope: &[String], name: &str) -> bool {
        if self.files[file].krate != Krate::Library {
            return false;
        }
        let mut child = scope.to_vec();
        child.push(name.to_owned());
        self.modules.contains_key(&child)
    }

    /// The absolute module path a mention names, if it names something in the crate.
    fn resolve(&self, file: usize, mention: &Mention) -> Option<Target> {
        let krate = self.files[file].krate;
        let scope = &mention.scope;
        let (first, rest) = mention.segments.split_first()?;
        if mention.kind != Kind::Use && mention.segments.len() < 2 {
            return None;
        }
        let joined = |base: &[String], tail: &[String]| [base, tail].concat();
        match first.as_str() {
            LIBRARY => Some((Krate::Library, rest.to_vec())),
            _ if mention.leading_colon => None,
            "crate" => Some((krate, rest.to_vec())),
            _ if mention.kind == Kind::MacroBody => None,
            "self" => Some((krate, joined(scope, rest))),
            "super" => {
                let ups = mention
                    .segments
                    .iter()
                    .take_while(|s| *s == "super")
                    .count();
                let base = scope.get(..scope.len().checked_sub(ups)?)?;
                Some((krate, joined(base, &mention.segments[ups..])))
            }
            _ => {
                if let Some((krate, base)) = self.alias(file, scope, first) {
                    Some((*krate, joined(base, rest)))
                } else if self.is_child_module(file, scope, first) {
                    Some((krate, joined(scope, &mention.segments)))
                } else {
                    None
                }
            }
        }
    }

    /// The deepest module file a module path lands in.
    fn file_of(&self, (krate, path): &Target) -> Option<String> {
        match krate {
            Krate::Binary => self
                .files
                .iter()
                .find(|file| file.krate == Krate::Binary)
                .map(|file| file.name.clone()),
            Krate::Library => (0..=path.len())
                .rev()
                .find_map(|depth| self.modules.get(&path[..depth]).cloned()),
        }
    }

    /// The external crate a mention names, if any.
    fn external(&self, file: usize, mention: &Mention) -> Option<String> {
        let first = mention.segments.first()?;
        if ["crate", "self", "super", "Self", LIBRARY].contains(&first.as_str()) {
            return None;
        }
        let local = self.alias(file, &mention.scope, first).is_some()
            || self.is_child_module(file, &mention.scope, first);
        (mention.leading_colon || !local).then(|| first.clone())
    }
}

/// Parses every file and finds what each references.
pub fn analyse(sources: &BTreeMap<String, String>) -> Analysis {
    let mut unparsable = Vec::new();
    let mut files = Vec::new();
    for (name, text) in sources {
        let Some((krate, module)) = locate(name) else {
            unparsable.push(format!("{name}: not a Rust file under src/"));
            continue;
        };
        match syn::parse_file(text) {
            Ok(syntax) => {
                let mut collector = Collector {
                    scope: module.clone(),
                    mentions: Vec::new(),
                };
                collector.visit_file(&syntax);
                files.push(SourceFile {
                    name: name.clone(),
                    krate,
                    module,
                    mentions: collector.mentions,
                });
            }
            Err(error) => {
                let line = error.span().start().line;
                unparsable.push(format!("{name}:{line}: {error}"));
            }
        }
    }

    let modules = files
        .iter()
        .filter(|file| file.krate == Krate::Library)
        .map(|file| (file.module.clone(), file.name.clone()))
        .collect();
    let mut resolver = Resolver {
        files: &files,
        modules,
        aliases: HashMap::new(),
    };

    // A `use` may go through a name another `use` binds, in any order: repeat until nothing
    // new resolves. Each round binds at least one more name, so this ends.
    loop {
        let mut bound = Vec::new();
        for (index, file) in files.iter().enumerate() {
            for mention in &file.mentions {
                let Some(name) = &mention.binds else { continue };
                let key = (index, mention.scope.clone());
                let known = resolver
                    .aliases
                    .get(&key)
                    .is_some_and(|names| names.contains_key(name));
                if let Some(target) = resolver.resolve(index, mention).filter(|_| !known) {
                    bound.push((key, name.clone(), target));
                }
            }
        }
        if bound.is_empty() {
            break;
        }
        for (key, name, target) in bound {
            resolver
                .aliases
                .entry(key)
                .or_default()
                .entry(name)
                .or_insert(target);
        }
    }

    let mut references = Vec::new();
    let mut externals = Vec::new();
    for (index, file) in files.iter().enumerate() {
        for mention in &file.mentions {
            if let Some(target) = resolver.resolve(index, mention) {
                if let Some(to) = resolver.file_of(&target).filter(|to| *to != file.name) {
                    let (krate, target) = target;
                    references.push(Reference {
                        from: file.name.clone(),
                        to,
                        line: mention.line,
                        path: mention.text(),
                        target: if krate == Krate::Library {
                            target
                        } else {
                            Vec::new()
                        },
                        glob: mention.glob,
                    });
                }
            } else if let Some(krate) = resolver.external(index, mention) {
                externals.push(ExternalUse {
                    file: file.name.clone(),
                    line: mention.line,
                    krate,
                    path: mention.text(),
                });
            }
        }
    }

    Analysis {
        files: files
            .iter()
            .map(|file| (file.name.clone(), top_of(file.krate, &file.module)))
            .collect(),
        references,
        externals,
        unparsable,
    }
}

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Tarjan's strongly connected components with more than one member: each is a knot of cycles.
fn knots(graph: &Graph) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        graph: &'a Graph,
        next: usize,
        index: HashMap<&'a str, usize>,
        low: HashMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }

    impl<'a> Tarjan<'a> {
        fn visit(&mut self, node: &'a str) {
            self.index.insert(node, self.next);
            self.low.insert(node, self.next);
            self.next += 1;
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.push(member.to_owned());
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }

    let mut tarjan = Tarjan {
        graph,
        next: 0,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !tarjan.index.contains_key(node.as_str()) {
            tarjan.visit(node);
        }
    }
    tarjan.found.sort();
    tarjan.found
}

/// The elementary cycles that, together, use every edge of a knot: for each edge `a → b`, the
/// shortest way back from `b` to `a`. Each starts at its smallest member.
fn cycles_through(graph: &Graph, knot: &[String]) -> Vec<Vec<String>> {
    let inside = |node: &String| knot.contains(node);
    let next_inside = |node: &String| graph.get(node).into_iter().flatten().filter(|n| inside(n));
    let mut cycles = BTreeSet::new();
    for from in knot {
        for to in next_inside(from) {
            let mut came_from: HashMap<&String, &String> = HashMap::new();
            let mut queue = VecDeque::from([to]);
            while let Some(node) = queue.pop_front() {
                if node == from {
                    break;
                }
                for next in next_inside(node) {
                    if next != to && !came_from.contains_key(next) {
                        came_from.insert(next, node);
                        queue.push_back(next);
                    }
                }
            }
            let mut path = vec![from.clone()];
            let mut node = from;
            while node != to {
                let Some(previous) = came_from.get(node) else {
                    break;
                };
                path.push((*previous).clone());
                node = previous;
            }
            path.reverse();
            // `path` runs to → ... → from; rotate so the cycle starts at its smallest member.
            let start = path
                .iter()
                .enumerate()
                .min_by_key(|(_, n)| *n)
                .map_or(0, |(i, _)| i);
            path.rotate_left(start);
            cycles.insert(path);
        }
    }
    cycles.into_iter().collect()
}

/// One arrow between two top-level modules or two files, with every reference that makes it.
#[derive(Debug)]
pub struct Arrow {
    pub from: String,
    pub to: String,
    pub references: Vec<Reference>,
}

impl Arrow {
    /// One line: how many references, from which files.
    fn summary(&self) -> String {
        let files: BTreeSet<&str> = self.references.iter().map(|r| r.from.as_str()).collect();
        let files: Vec<&str> = files.into_iter().collect();
        let count = self.references.len();
        let plural = if count == 1 { "" } else { "s" };
        format!(
            "{} → {}: {count} reference{plural} in {}",
            self.from,
            self.to,
            files.join(", ")
        )
    }
}

/// A knot of cycles: its members, its elementary cycles, and the arrows inside it.
#[derive(Debug)]
pub struct Knot {
    /// The top-level module whose files these are, or `None` for a knot of top-level modules,
    /// whose arrows are listed in one line each (the ones to change are detailed elsewhere).
    pub within: Option<String>,
    pub members: Vec<String>,
    pub cycles: Vec<Vec<String>>,
    pub arrows: Vec<Arrow>,
}

/// Everything wrong with a crate's layering. Empty when the crate obeys the table.
#[derive(Debug, Default)]
pub struct Problems {
    pub unparsable: Vec<String>,
    /// Top-level modules the table does not place, with every arrow into or out of them.
    pub unplaced: Vec<(String, Vec<Arrow>)>,
    /// Arrows between placed modules that the table does not allow.
    pub forbidden: Vec<Arrow>,
    pub module_cycles: Vec<Knot>,
    pub file_cycles: Vec<Knot>,
    pub forbidden_crates: Vec<(String, ExternalUse)>,
}

impl Problems {
    pub fn is_empty(&self) -> bool {
        self.unparsable.is_empty()
            && self.unplaced.is_empty()
            && self.forbidden.is_empty()
            && self.module_cycles.is_empty()
            && self.file_cycles.is_empty()
            && self.forbidden_crates.is_empty()
    }
}

/// Groups references into arrows by the `(from, to)` key `by` gives each, sorted by that key.
fn arrows<'a>(
    references: impl IntoIterator<Item = &'a Reference>,
    by: impl Fn(&Reference) -> (String, String),
) -> Vec<Arrow> {
    let mut grouped: BTreeMap<(String, String), Vec<Reference>> = BTreeMap::new();
    for reference in references {
        grouped
            .entry(by(reference))
            .or_default()
            .push(reference.clone());
    }
    grouped
        .into_iter()
        .map(|((from, to), references)| Arrow {
            from,
            to,
            references,
        })
        .collect()
}

/// Checks a crate's sources against the layer table.
pub fn check(sources: &BTreeMap<String, String>, layers: &[Layer]) -> Problems {
    let analysis = analyse(sources);
    let top = |file: &str| analysis.files.get(file).cloned().unwrap_or_default();
    let row = |module: &str| layers.iter().find(|layer| layer.module == module);
    let between_modules: Vec<&Reference> = analysis
        .references
        .iter()
        .filter(|r| top(&r.from) != top(&r.to))
        .collect();
    let by_module = |r: &Reference| (top(&r.from), top(&r.to));

    let mut problems = Problems {
        unparsable: analysis.unparsable.clone(),
        ..Problems::default()
    };

    // (a) every arrow between top-level modules is one the table allows.
    let modules: BTreeSet<String> = analysis.files.values().cloned().collect();
    for module in &modules {
        let touching = between_modules
            .iter()
            .copied()
            .filter(|r| top(&r.from) == *module || top(&r.to) == *module);
        let arrows = arrows(touching, by_module);
        // The library root may stay out of the table as long as it only declares modules.
        if row(module).is_none() && (module != LIBRARY_ROOT || !arrows.is_empty()) {
            problems.unplaced.push((module.clone(), arrows));
        }
    }
    let allowed = |reference: &Reference| {
        let (from, to) = by_module(reference);
        let Some(row) = row(&from).filter(|_| row(&to).is_some()) else {
            // An unplaced module's arrows are reported with it.
            return true;
        };
        let items = row
            .may_name
            .iter()
            .map(|item| item.split("::").collect::<Vec<_>>());
        let target = &reference.target;
        row.may_use.contains(&to.as_str())
            || items.into_iter().any(|item| {
                let names_item = target.len() >= item.len() && target[..item.len()] == item[..];
                let reaches_item = !reference.glob
                    && target.len() < item.len()
                    && item[..target.len()] == target[..];
                names_item || reaches_item
            })
    };
    let forbidden = between_modules.iter().copied().filter(|r| !allowed(r));
    problems.forbidden = arrows(forbidden, by_module);

    // (b) no cycle between top-level modules.
    let mut module_graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for (from, to) in between_modules.iter().map(|r| by_module(r)) {
        module_graph.entry(from).or_default().insert(to);
    }
    for members in knots(&module_graph) {
        let inside = between_modules
            .iter()
            .copied()
            .filter(|r| members.contains(&top(&r.from)) && members.contains(&top(&r.to)));
        problems.module_cycles.push(Knot {
            within: None,
            cycles: cycles_through(&module_graph, &members),
            arrows: arrows(inside, by_module),
            members,
        });
    }

    // (c) no cycle between the files of one top-level module.
    for module in &modules {
        let mut file_graph: Graph = analysis
            .files
            .iter()
            .filter(|(_, top)| *top == module)
            .map(|(file, _)| (file.clone(), BTreeSet::new()))
            .collect();
        let inside: Vec<&Reference> = analysis
            .references
            .iter()
            .filter(|r| top(&r.from) == *module && top(&r.to) == *module)
            .collect();
        for reference in &inside {
            file_graph
                .entry(reference.from.clone())
                .or_default()
                .insert(reference.to.clone());
        }
        for members in knots(&file_graph) {
            let knotted = inside
                .iter()
                .copied()
                .filter(|r| members.contains(&r.from) && members.contains(&r.to));
            problems.file_cycles.push(Knot {
                within: Some(module.clone()),
                cycles: cycles_through(&file_graph, &members),
                arrows: arrows(knotted, |r| (r.from.clone(), r.to.clone())),
                members,
            });
        }
    }

    // External crates a layer may not name.
    for external in &analysis.externals {
        let module = top(&external.file);
        let forbidden = row(&module)
            .into_iter()
            .flat_map(|row| row.forbidden_crates);
        if forbidden
            .into_iter()
            .any(|pattern| crate_matches(&external.krate, pattern))
        {
            problems.forbidden_crates.push((module, external.clone()));
        }
    }
    problems
}

/// `file:line path` for each reference, grouped by file and by the path written.
fn write_references(out: &mut String, indent: usize, references: &[Reference]) -> fmt::Result {
    let mut by_arrow: BTreeMap<(&str, &str), BTreeMap<&str, Vec<usize>>> = BTreeMap::new();
    for reference in references {
        by_arrow
            .entry((&reference.from, &reference.to))
            .or_default()
            .entry(&reference.path)
            .or_default()
            .push(reference.line);
    }
    for ((from, to), paths) in by_arrow {
        let uses: Vec<String> = paths
            .into_iter()
            .map(|(path, lines)| {
                let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
                format!("{path} (line {})", lines.join(", "))
            })
            .collect();
        writeln!(out, "{:indent$}{from} → {to}: {}", "", uses.join("; "))?;
    }
    Ok(())
}

fn write_knot(out: &mut String, knot: &Knot, problems: &Problems) -> fmt::Result {
    let members = knot.members.join(", ");
    match &knot.within {
        None => writeln!(out, "  between {members}:")?,
        Some(module) => writeln!(out, "  in {module}, between {members}:")?,
    }
    for cycle in &knot.cycles {
        let mut walk = cycle.clone();
        walk.extend(cycle.first().cloned());
        writeln!(out, "    cycle: {}", walk.join(" → "))?;
    }
    for arrow in &knot.arrows {
        if knot.within.is_some() {
            write_references(out, 4, &arrow.references)?;
            continue;
        }
        let same = |other: &Arrow| other.from == arrow.from && other.to == arrow.to;
        let verdict = if problems.forbidden.iter().any(same) {
            "forbidden, listed above"
        } else if problems
            .unplaced
            .iter()
            .any(|(module, _)| [&arrow.from, &arrow.to].contains(&module))
        {
            "a module the table does not place"
        } else {
            "allowed"
        };
        writeln!(out, "    {} ({verdict})", arrow.summary())?;
    }
    Ok(())
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        if !self.unparsable.is_empty() {
            writeln!(out, "Files syn cannot parse:")?;
            for line in &self.unparsable {
                writeln!(out, "  {line}")?;
            }
        }
        if !self.unplaced.is_empty() {
            writeln!(out, "Top-level modules the layer table does not place:")?;
            for (module, arrows) in &self.unplaced {
                writeln!(out, "  {module}:")?;
                for arrow in arrows {
                    writeln!(out, "    {} → {}:", arrow.from, arrow.to)?;
                    write_references(&mut out, 6, &arrow.references)?;
                }
            }
        }
        if !self.forbidden.is_empty() {
            writeln!(out, "Arrows the layer table forbids:")?;
            for arrow in &self.forbidden {
                writeln!(out, "  {} → {}:", arrow.from, arrow.to)?;
                write_references(&mut out, 4, &arrow.references)?;
            }
        }
        if !self.module_cycles.is_empty() {
            writeln!(out, "Cycles between top-level modules:")?;
            for knot in &self.module_cycles {
                write_knot(&mut out, knot, self)?;
            }
        }
        if !self.file_cycles.is_empty() {
            writeln!(out, "Cycles between files of one top-level module:")?;
            for knot in &self.file_cycles {
                write_knot(&mut out, knot, self)?;
            }
        }
        if !self.forbidden_crates.is_empty() {
            writeln!(out, "External crates a layer may not use:")?;
            for (module, external) in &self.forbidden_crates {
                let ExternalUse {
                    file,
                    line,
                    krate,
                    path,
                } = external;
                writeln!(out, "  {module} uses {krate}: {file}:{line} {path}")?;
            }
        }
        f.write_str(&out)
    }
}

/// The checker run on made-up crates, to prove it can fail and that it reads paths right.
mod self_tests {
    use super::*;
    use crate::layers::LAYERS;

    /// A small crate that obeys the table; each test overwrites a file or two.
    fn clean_crate() -> BTreeMap<String, String> {
        [
            ("src/main.rs", "fn main() { beacon::cli::run(beacon::config::load()); }"),
            ("src/lib.rs", "pub mod cli; pub mod config; pub mod db; pub mod domain; pub mod routes; pub mod services;"),
            ("src/cli.rs", "use crate::{config::Settings, routes};\npub fn run(_: Settings) { routes::configure(); }"),
            ("src/config.rs", "pub struct Settings;\npub fn load() -> Settings { Settings }"),
            ("src/routes/mod.rs", "pub mod leads;\npub fn configure() { leads::create(); }"),
            (
                "src/routes/leads.rs",
                "use crate::services::{self, leads::NewLead};\n\
                 pub fn create() { crate::db::run(); services::leads::submit(NewLead); }",
            ),
            ("src/services/mod.rs", "pub mod leads;\npub mod opt_out;"),
            (
                "src/services/leads.rs",
                "use super::opt_out;\nuse crate::domain::phone::Phone;\n\
                 pub struct NewLead;\npub fn submit(_: NewLead) { opt_out::check(Phone); }",
            ),
            ("src/services/opt_out.rs", "pub(crate) fn check(_: crate::domain::phone::Phone) {}"),
            ("src/db/mod.rs", "pub fn run() {}"),
            ("src/domain/mod.rs", "pub mod phone;"),
            (
                "src/domain/phone.rs",
                "pub struct Phone;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    fn t() { let _ = self::super::Phone; }\n}",
            ),
        ]
        .into_iter()
        .map(|(file, text)| (file.to_owned(), text.to_owned()))
        .collect()
    }

    fn with(changes: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut sources = clean_crate();
        for (file, text) in changes {
            sources.insert((*file).to_owned(), (*text).to_owned());
        }
        sources
    }

    /// `(from, to, line, path)` of every reference in the forbidden arrows.
    fn forbidden(problems: &Problems) -> Vec<(String, String, usize, String)> {
        problems
            .forbidden
            .iter()
            .flat_map(|arrow| &arrow.references)
            .map(|r| (r.from.clone(), r.to.clone(), r.line, r.path.clone()))
            .collect()
    }

    fn reference(from: &str, to: &str, line: usize, path: &str) -> (String, String, usize, String) {
        (from.to_owned(), to.to_owned(), line, path.to_owned())
    }

    #[test]
    fn a_clean_crate_has_no_problems_though_its_files_reference_each_other() {
        let sources = clean_crate();

        let problems = check(&sources, LAYERS);

        assert!(problems.is_empty(), "{problems}");
        let found: BTreeSet<(String, String)> = analyse(&sources)
            .references
            .into_iter()
            .map(|r| (r.from, r.to))
            .collect();
        let expected = [
            ("src/main.rs", "src/cli.rs"),
            ("src/main.rs", "src/config.rs"),
            ("src/cli.rs", "src/config.rs"),
            ("src/cli.rs", "src/routes/mod.rs"),
            ("src/routes/mod.rs", "src/routes/leads.rs"),
            ("src/routes/leads.rs", "src/db/mod.rs"),
            ("src/routes/leads.rs", "src/services/mod.rs"),
            ("src/routes/leads.rs", "src/services/leads.rs"),
            ("src/services/leads.rs", "src/services/opt_out.rs"),
            ("src/services/leads.rs", "src/domain/phone.rs"),
            ("src/services/opt_out.rs", "src/domain/phone.rs"),
        ];
        let expected = expected.map(|(from, to)| (from.to_owned(), to.to_owned()));
        assert_eq!(found, BTreeSet::from(expected));
    }

    #[test]
    fn a_grouped_import_in_the_domain_that_reaches_up_is_reported() {
        let sources = with(&[(
            "src/domain/phone.rs",
            "use crate::{\n    routes::leads,\n    db,\n};\npub struct Phone;",
        )]);

        let problems = check(&sources, LAYERS);

        assert_eq!(
            forbidden(&problems),
            [
                reference("src/domain/phone.rs", "src/db/mod.rs", 3, "crate::db"),
                reference(
                    "src/domain/phone.rs",
                    "src/routes/leads.rs",
                    2,
                    "crate::routes::leads"
                ),
            ]
        );
        let report = problems.to_string();
        assert!(report.contains("domain → db:"), "{report}");
        assert!(
            report.contains(
                "src/domain/phone.rs → src/routes/leads.rs: crate::routes::leads (line 2)"
            ),
            "{report}"
        );
    }

    #[test]
    fn an_inline_crate_path_in_a_domain_function_body_is_reported() {
        let sources = with(&[(
            "src/domain/phone.rs",
            "pub struct Phone;\nimpl Phone {\n    pub fn f() {\n        crate::routes::configure();\n    }\n}",
        )]);

        let problems = check(&sources, LAYERS);

        assert_eq!(
            forbidden(&problems),
            [reference(
                "src/domain/phone.rs",
                "src/routes/mod.rs",
                4,
                "crate::routes::configure"
            )]
        );
    }

    #[test]
    fn a_route_may_name_the_blocking_hop_and_the_pool_but_no_row_and_no_glob() {
        let sources = with(&[
            (
                "src/db/mod.rs",
                "pub mod leads;\npub type Pool = ();\npub fn run() {}",
            ),
            ("src/db/leads.rs", "pub struct LeadRow;"),
            (
                "src/routes/leads.rs",
                "use crate::db::{self, Pool, leads::LeadRow};\nuse crate::db::*;\n\
                 pub fn create(_: Pool) { db::run(); let _ = crate::db::leads::LeadRow; }",
            ),
        ]);

        let problems = check(&sources, LAYERS);

        assert_eq!(
            forbidden(&problems),
            [
                reference(
                    "src/routes/leads.rs",
                    "src/db/leads.rs",
                    1,
                    "crate::db::leads::LeadRow"
                ),
                reference("src/routes/leads.rs", "src/db/mod.rs", 2, "crate::db::*"),
                reference(
                    "src/routes/leads.rs",
                    "src/db/leads.rs",
                    3,
                    "crate::db::leads::LeadRow"
                ),
            ]
        );
    }

    #[test]
    fn a_test_module_counts_for_its_file_and_its_relative_paths_resolve_from_the_file() {
        let sources = with(&[(
            "src/domain/phone.rs",
            "pub struct Phone;\nmod tests {\n    use super::*;\n    use super::super::super::db;\n    fn t() { db::run(); }\n}",
        )]);

        let problems = check(&sources, LAYERS);

        assert_eq!(
            forbidden(&problems),
            [
                reference(
                    "src/domain/phone.rs",
                    "src/db/mod.rs",
                    4,
                    "super::super::super::db"
                ),
                reference("src/domain/phone.rs", "src/db/mod.rs", 5, "db::run"),
            ]
        );
    }

    #[test]
    fn paths_in_attribute_arguments_and_absolute_paths_in_macro_bodies_count() {
        let sources = with(&[(
            "src/domain/phone.rs",
            "#[derive(serde::Deserialize)]\npub struct Phone {\n    \
             #[serde(deserialize_with = \"crate::services::leads::parse\")]\n    number: String,\n}\n\
             pub fn f() { tracing::info!(x = ?crate::routes::configure()); }",
        )]);

        let problems = check(&sources, LAYERS);

        assert_eq!(
            forbidden(&problems),
            [
                reference(
                    "src/domain/phone.rs",
                    "src/routes/mod.rs",
                    6,
                    "crate::routes::configure"
                ),
                reference(
                    "src/domain/phone.rs",
                    "src/services/leads.rs",
                    3,
                    "crate::services::leads::parse"
                ),
            ]
        );
    }

    #[test]
    fn relative_paths_in_macro_bodies_and_restricted_visibility_are_not_references() {
        // diesel's `table!` makes its own module, so its `super::` is not the file's parent.
        let sources = with(&[(
            "src/domain/phone.rs",
            "pub(crate) struct Phone;\npub(in crate::domain) fn f() {}\n\
             table! { mod x { use super::super::db::Thing; } }",
        )]);

        let problems = check(&sources, LAYERS);

        assert!(problems.is_empty(), "{problems}");
    }

    #[test]
    fn the_binary_reaches_the_library_through_its_crate_name() {
        let sources = with(&[(
            "src/main.rs",
            "use beacon::{cli, routes as r};\nfn main() { r::leads::create(); }",
        )]);

        let problems = check(&sources, LAYERS);

        assert_eq!(
            forbidden(&problems),
            [
                reference("src/main.rs", "src/routes/mod.rs", 1, "beacon::routes"),
                reference("src/main.rs", "src/routes/leads.rs", 2, "r::leads::create"),
            ]
        );
    }

    #[test]
    fn a_cycle_between_two_service_files_is_reported_with_the_names_that_make_it() {
        let sources = with(&[(
            "src/services/opt_out.rs",
            "pub(crate) fn check(_: crate::domain::phone::Phone) {\n    super::leads::submit(super::leads::NewLead);\n}",
        )]);

        let problems = check(&sources, LAYERS);

        assert!(problems.forbidden.is_empty() && problems.module_cycles.is_empty());
        let [knot] = &problems.file_cycles[..] else {
            panic!("one knot expected: {problems}")
        };
        assert_eq!(knot.within.as_deref(), Some("services"));
        assert_eq!(
            knot.members,
            ["src/services/leads.rs", "src/services/opt_out.rs"]
        );
        assert_eq!(
            knot.cycles,
            [["src/services/leads.rs", "src/services/opt_out.rs"]]
        );
        let report = problems.to_string();
        assert!(
            report.contains("src/services/opt_out.rs → src/services/leads.rs: super::leads::NewLead (line 2); super::leads::submit (line 2)"),
            "{report}"
        );
    }

    #[test]
    fn a_cycle_between_top_level_modules_is_reported() {
        let sources = with(&[(
            "src/services/opt_out.rs",
            "pub(crate) fn check(_: super::super::domain::phone::Phone) { crate::routes::configure(); }",
        )]);

        let problems = check(&sources, LAYERS);

        assert_eq!(
            forbidden(&problems),
            [reference(
                "src/services/opt_out.rs",
                "src/routes/mod.rs",
                1,
                "crate::routes::configure"
            )]
        );
        let [knot] = &problems.module_cycles[..] else {
            panic!("one knot expected: {problems}")
        };
        assert_eq!(knot.members, ["routes", "services"]);
        assert_eq!(knot.cycles, [["routes", "services"]]);
    }

    #[test]
    fn a_module_missing_from_the_table_is_reported_with_what_it_uses() {
        let mut sources = with(&[(
            "src/services/leads.rs",
            "pub struct NewLead;\npub fn submit(_: NewLead) { crate::auth::check(); }",
        )]);
        sources.insert(
            "src/auth.rs".to_owned(),
            "pub fn check() { crate::db::run(); }".to_owned(),
        );

        let problems = check(&sources, LAYERS);

        let [(module, arrows)] = &problems.unplaced[..] else {
            panic!("one unplaced module expected: {problems}")
        };
        assert_eq!(module, "auth");
        let arrows: Vec<(&str, &str)> = arrows
            .iter()
            .map(|a| (a.from.as_str(), a.to.as_str()))
            .collect();
        assert_eq!(arrows, [("auth", "db"), ("services", "auth")]);
    }

    #[test]
    fn a_forbidden_crate_is_reported_however_its_path_is_written() {
        let sources = with(&[
            (
                "src/domain/phone.rs",
                "use {diesel::prelude::*, std::fmt};\n#[derive(utoipa::ToSchema)]\npub struct Phone;\n\
                 fn f() { ::actix_web::web::block(); }\n#[diesel(table_name = leads)]\nstruct Row;",
            ),
            (
                "src/services/leads.rs",
                "pub struct NewLead;\npub fn submit(_: NewLead) { diesel::insert_into(); actix_web::rt::spawn(); }",
            ),
        ]);

        let problems = check(&sources, LAYERS);

        let found: Vec<(&str, &str, usize, &str)> = problems
            .forbidden_crates
            .iter()
            .map(|(module, e)| (module.as_str(), e.krate.as_str(), e.line, e.path.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("domain", "diesel", 1, "diesel::prelude::*"),
                ("domain", "utoipa", 2, "utoipa::ToSchema"),
                ("domain", "actix_web", 4, "::actix_web::web::block"),
                ("domain", "diesel", 5, "diesel"),
                ("services", "actix_web", 2, "actix_web::rt::spawn"),
            ]
        );
    }

    #[test]
    fn a_file_syn_cannot_parse_is_reported() {
        let sources = with(&[("src/db/mod.rs", "pub fn run( {}")]);

        let problems = check(&sources, LAYERS);

        assert_eq!(problems.unparsable.len(), 1, "{problems}");
        assert!(problems.unparsable[0].starts_with("src/db/mod.rs:1: "));
    }

    #[test]
    fn a_crate_pattern_covers_the_crates_named_after_it_and_no_others() {
        assert!(crate_matches("actix_web", "actix"));
        assert!(crate_matches("actix", "actix"));
        assert!(crate_matches("utoipa_actix_web", "utoipa"));
        assert!(!crate_matches("actix_web", "actix_cors"));
        assert!(!crate_matches("dieselish", "diesel"));
    }
}
