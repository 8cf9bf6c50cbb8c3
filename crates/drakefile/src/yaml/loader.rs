//! Builds the located tree from the parser's events, resolving aliases and merge keys.

use std::collections::HashMap;
use std::rc::Rc;

use granit_parser::{Event, Parser, ScalarStyle, Tag};

use super::node::{Entry, Item, Node, Span, Value};
use super::scalar::resolve_plain;

/// Deeper nesting than this is refused: no Drakefile needs it, and it bounds recursion in every
/// later walk of the tree.
const MAX_DEPTH: usize = 128;

/// Aliases let a small text stand for a huge document ("billion laughs"); validation walks
/// what aliases stand for, so the expanded size is capped. Real Drakefiles of 2,000 jobs with
/// 10 containers each expand to well under a million nodes.
const MAX_EXPANDED_NODES: u64 = 5_000_000;

/// Merge keys copy entries; capping the copies keeps the work linear in the input even for a
/// document that merges one large mapping many times.
const MAX_MERGED_ENTRIES: usize = 1_000_000;

/// Why the text is not a YAML document that eider can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
    /// How to fix it, when there is something to say.
    pub help: Option<String>,
    /// Another place that explains the error, such as the first of two duplicate keys.
    pub related: Option<(Span, String)>,
}

impl SyntaxError {
    fn new(message: impl Into<String>, span: Span) -> Self {
        Self {
            message: message.into(),
            span,
            help: None,
            related: None,
        }
    }

    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A document read despite problems that leave the rest of it readable.
#[derive(Debug)]
pub struct Loaded {
    /// The document; `None` when the text holds no document at all.
    pub root: Option<Rc<Node>>,
    /// Problems that did not stop the reading, in the order found: a key set twice in one
    /// mapping: both entries are kept, so what each holds is still checked. (A `<<` that merges
    /// something other than mappings stays an error: leaving it out would report every field it
    /// was meant to bring as missing.)
    pub problems: Vec<SyntaxError>,
}

/// Parses one YAML document. `Ok(None)` means the text holds no document at all. Every problem
/// is an error here, the first one found; [`load_reporting`] reads past those it can.
pub fn load(text: &str) -> Result<Option<Rc<Node>>, SyntaxError> {
    let loaded = load_reporting(text)?;
    match loaded.problems.into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(loaded.root),
    }
}

/// Parses one YAML document, reading past the problems that leave the rest of it readable, so
/// that a validator can report them beside everything else. Problems that make the text
/// unreadable (bad syntax, a second document, an unknown anchor or tag, too deep, too large)
/// are the error.
pub fn load_reporting(text: &str) -> Result<Loaded, SyntaxError> {
    let mut builder = TreeBuilder {
        text,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        documents: 0,
        merged_entries: 0,
        problems: Vec::new(),
    };
    for event in Parser::new_from_str(text) {
        match event {
            Ok((event, span)) => builder.handle(event, span)?,
            Err(error) => {
                let marker = error.marker();
                let offset = byte_offset(text, marker.byte_offset(), marker.index());
                let message = error.info();
                let message = if message.is_empty() {
                    "invalid YAML".to_owned()
                } else {
                    message
                };
                return Err(SyntaxError::new(message, Span::new(offset, offset)));
            }
        }
    }
    if let Some(root) = &builder.root
        && root.expanded_size > MAX_EXPANDED_NODES
    {
        return Err(SyntaxError::new(
            format!("aliases expand this document to more than {MAX_EXPANDED_NODES} values"),
            root.span,
        )
        .with_help("a Drakefile this large through aliases is almost certainly an alias bomb; expand fewer aliases"));
    }
    Ok(Loaded {
        root: builder.root,
        problems: builder.problems,
    })
}

/// The byte offset of a parser position: its own when it has one, else from its character index.
pub(super) fn byte_offset(text: &str, byte_offset: Option<usize>, char_index: usize) -> usize {
    byte_offset.unwrap_or_else(|| {
        text.char_indices()
            .nth(char_index)
            .map_or(text.len(), |(offset, _)| offset)
    })
}

enum Frame {
    Sequence {
        start: usize,
        anchor: usize,
        items: Vec<Item>,
    },
    Mapping {
        start: usize,
        anchor: usize,
        entries: Vec<RawEntry>,
        pending_key: Option<Rc<Node>>,
    },
}

struct RawEntry {
    key: Rc<Node>,
    value: Rc<Node>,
    via: Option<Span>,
}

struct TreeBuilder<'text> {
    text: &'text str,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Rc<Node>>,
    root: Option<Rc<Node>>,
    documents: usize,
    merged_entries: usize,
    problems: Vec<SyntaxError>,
}

impl TreeBuilder<'_> {
    fn span(&self, span: &granit_parser::Span) -> Span {
        let start = byte_offset(self.text, span.start.byte_offset(), span.start.index());
        let end = byte_offset(self.text, span.end.byte_offset(), span.end.index());
        Span::new(start, end)
    }

    fn handle(
        &mut self,
        event: Event<'_>,
        event_span: granit_parser::Span,
    ) -> Result<(), SyntaxError> {
        let span = self.span(&event_span);
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(SyntaxError::new("a second YAML document starts here", span)
                        .with_help("a Drakefile is one YAML document: remove this `---` and what follows, or merge the documents"));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let in_key_position = matches!(
                    self.stack.last(),
                    Some(Frame::Mapping {
                        pending_key: None,
                        ..
                    })
                );
                let value = resolve_scalar(&text, style, tag.as_deref(), in_key_position, span)?;
                let node = Rc::new(Node::new(span, value));
                self.complete(node, anchor, None);
            }
            Event::Alias(anchor) => {
                let Some(node) = self.anchors.get(&anchor).cloned() else {
                    return Err(SyntaxError::new(
                        "this alias refers to the node that contains it",
                        span,
                    )
                    .with_help("an alias can only repeat a node that is complete before it"));
                };
                self.deliver(node, Some(span));
            }
            Event::UnresolvedAlias(name) => {
                return Err(SyntaxError::new(format!("unknown anchor `{name}`"), span)
                    .with_help("define the anchor with `&name` before using it with `*name`"));
            }
            Event::SequenceStart(_, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "seq", span)?;
                self.push(
                    Frame::Sequence {
                        start: span.start as usize,
                        anchor,
                        items: Vec::new(),
                    },
                    span,
                )?;
            }
            Event::MappingStart(_, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "map", span)?;
                self.push(
                    Frame::Mapping {
                        start: span.start as usize,
                        anchor,
                        entries: Vec::new(),
                        pending_key: None,
                    },
                    span,
                )?;
            }
            Event::SequenceEnd => {
                if let Some(Frame::Sequence {
                    start,
                    anchor,
                    items,
                }) = self.stack.pop()
                {
                    let end = items.last().map_or(span.end, |item| {
                        item.via.unwrap_or(item.node.span).end.max(span.start)
                    });
                    let node = Rc::new(Node::new(
                        Span::new(start, end as usize),
                        Value::Sequence(items),
                    ));
                    self.complete(node, anchor, None);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Mapping {
                    start,
                    anchor,
                    entries,
                    ..
                }) = self.stack.pop()
                {
                    // A block collection ends where the next token starts; its last value's end
                    // is the better end for a highlight.
                    let end = entries.last().map_or(span.end, |entry| {
                        entry.value.span.end.max(entry.key.span.end)
                    });
                    let entries = self.resolve_merges(entries)?;
                    let node = Rc::new(Node::new(
                        Span::new(start, end as usize),
                        Value::Mapping(entries),
                    ));
                    self.complete(node, anchor, None);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, frame: Frame, span: Span) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError::new(
                format!("nesting deeper than {MAX_DEPTH} levels"),
                span,
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn complete(&mut self, node: Rc<Node>, anchor: usize, via: Option<Span>) {
        if anchor != 0 {
            self.anchors.insert(anchor, Rc::clone(&node));
        }
        self.deliver(node, via);
    }

    fn deliver(&mut self, node: Rc<Node>, via: Option<Span>) {
        match self.stack.last_mut() {
            None => {
                // The parser reports a second root only through a second document, checked above.
                self.root = Some(node);
            }
            Some(Frame::Sequence { items, .. }) => items.push(Item { node, via }),
            Some(Frame::Mapping {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => entries.push(RawEntry {
                    key,
                    value: node,
                    via,
                }),
            },
        }
    }

    /// Applies `<<` merge keys (YAML 1.1 merge type, as the reference parser did): explicit keys
    /// win over merged ones, earlier merge sources win over later ones, and merged pairs take the
    /// place of the `<<` key so that ordered mappings (environment maps) read as written.
    fn resolve_merges(&mut self, raw: Vec<RawEntry>) -> Result<Vec<Entry>, SyntaxError> {
        let mut explicit = KeySet::default();
        for entry in &raw {
            if is_merge_key(&entry.key) {
                continue;
            }
            if let Some(text) = entry.key.scalar_text()
                && let Some(first) = explicit.insert(text, entry.key.span)
            {
                let mut error = SyntaxError::new(format!("duplicate key `{text}`"), entry.key.span)
                    .with_help(format!(
                        "a mapping may set `{text}` only once; keep one of them"
                    ));
                error.related = Some((first, "first set here".to_owned()));
                self.problems.push(error);
            }
        }
        if !raw.iter().any(|entry| is_merge_key(&entry.key)) {
            return Ok(raw
                .into_iter()
                .map(|entry| Entry {
                    key: entry.key,
                    value: entry.value,
                    via: entry.via,
                })
                .collect());
        }
        let mut merged = KeySet::default();
        let mut entries = Vec::with_capacity(raw.len());
        for entry in &raw {
            if !is_merge_key(&entry.key) {
                entries.push(Entry {
                    key: Rc::clone(&entry.key),
                    value: Rc::clone(&entry.value),
                    via: entry.via,
                });
                continue;
            }
            let merge_site = entry.key.span;
            let sources: Vec<&Node> = match &entry.value.value {
                Value::Mapping(_) => vec![&entry.value],
                Value::Sequence(items) => items.iter().map(|item| &*item.node).collect(),
                _ => {
                    return Err(SyntaxError::new(
                        format!("`<<` merges a mapping, found {}", entry.value.kind_name()),
                        entry.value.span,
                    )
                    .with_help("write `<<: *anchor` where `&anchor` names a mapping, or a list of such aliases"));
                }
            };
            for source in sources {
                let Some(source_entries) = source.as_mapping() else {
                    return Err(SyntaxError::new(
                        format!("`<<` merges mappings only, found {}", source.kind_name()),
                        source.span,
                    ));
                };
                self.merged_entries += source_entries.len();
                if self.merged_entries > MAX_MERGED_ENTRIES {
                    return Err(SyntaxError::new(
                        format!("merge keys copy more than {MAX_MERGED_ENTRIES} entries"),
                        merge_site,
                    ));
                }
                for source_entry in source_entries {
                    if let Some(text) = source_entry.key_text()
                        && (explicit.contains(text) || merged.insert(text, merge_site).is_some())
                    {
                        continue;
                    }
                    entries.push(Entry {
                        key: Rc::clone(&source_entry.key),
                        value: Rc::clone(&source_entry.value),
                        via: Some(merge_site),
                    });
                }
            }
        }
        Ok(entries)
    }
}

/// Keys of one mapping. Most mappings have a handful of keys, where a linear scan beats hashing
/// and allocates nothing; large ones switch to a hash map.
#[derive(Default)]
struct KeySet<'a> {
    few: Vec<(&'a str, Span)>,
    many: Option<HashMap<&'a str, Span>>,
}

impl<'a> KeySet<'a> {
    const LINEAR_LIMIT: usize = 16;

    /// Adds `key`; returns where it was first seen if it already was.
    fn insert(&mut self, key: &'a str, span: Span) -> Option<Span> {
        if let Some(many) = &mut self.many {
            return match many.entry(key) {
                std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(span);
                    None
                }
            };
        }
        if let Some((_, first)) = self.few.iter().find(|(existing, _)| *existing == key) {
            return Some(*first);
        }
        self.few.push((key, span));
        if self.few.len() > Self::LINEAR_LIMIT {
            self.many = Some(self.few.drain(..).collect());
        }
        None
    }

    fn contains(&self, key: &str) -> bool {
        match &self.many {
            Some(many) => many.contains_key(key),
            None => self.few.iter().any(|(existing, _)| *existing == key),
        }
    }
}

fn is_merge_key(key: &Node) -> bool {
    matches!(&key.value, Value::String { text, plain: true } if text == "<<")
}

#[expect(
    clippy::cast_precision_loss,
    reason = "`!!float 123` asks for the integer as a float"
)]
fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    in_key_position: bool,
    span: Span,
) -> Result<Value, SyntaxError> {
    let plain = style == ScalarStyle::Plain;
    let Some(tag) = tag else {
        // Keys stay text: Drakefile keys are field, job and variable names, and the reference
        // parser turned every key into a JSON string.
        return Ok(if plain && !in_key_position {
            resolve_plain(text)
        } else {
            Value::String {
                text: text.to_owned(),
                plain,
            }
        });
    };
    if tag.is_yaml_core_schema_tag("str") || tag.handle() == "!" && tag.suffix().is_empty() {
        return Ok(Value::String {
            text: text.to_owned(),
            plain: false,
        });
    }
    let expected = ["null", "bool", "int", "float"]
        .into_iter()
        .find(|suffix| tag.is_yaml_core_schema_tag(suffix));
    let Some(expected) = expected else {
        return Err(unsupported_tag(tag, span));
    };
    let value = resolve_plain(text);
    let matches = matches!(
        (&value, expected),
        (Value::Null, "null")
            | (Value::Bool(_), "bool")
            | (Value::Integer(_), "int" | "float")
            | (Value::Float(_), "float")
    );
    if !matches {
        return Err(SyntaxError::new(
            format!("`{text}` is not a valid !!{expected}"),
            span,
        ));
    }
    Ok(match value {
        Value::Integer(integer) if expected == "float" => Value::Float(integer as f64),
        other => other,
    })
}

fn check_collection_tag(tag: Option<&Tag>, expected: &str, span: Span) -> Result<(), SyntaxError> {
    match tag {
        None => Ok(()),
        Some(tag)
            if tag.is_yaml_core_schema_tag(expected)
                || tag.handle() == "!" && tag.suffix().is_empty() =>
        {
            Ok(())
        }
        Some(tag) => Err(unsupported_tag(tag, span)),
    }
}

fn unsupported_tag(tag: &Tag, span: Span) -> SyntaxError {
    SyntaxError::new(
        format!("unsupported YAML tag `{}{}`", tag.handle(), tag.suffix()),
        span,
    )
    .with_help(
        "remove the tag: a Drakefile holds plain strings, numbers, booleans, lists and mappings",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Rc<Node> {
        load(text).expect("valid YAML").expect("a document")
    }

    fn keys(node: &Node) -> Vec<String> {
        node.as_mapping()
            .expect("mapping")
            .iter()
            .map(|entry| entry.key_text().unwrap_or("?").to_owned())
            .collect()
    }

    #[test]
    fn merge_keys_keep_explicit_values_and_document_order() {
        let tree = root("base: &b {A: 1, B: 2, C: 3}\nuse:\n  X: 0\n  <<: *b\n  B: 9\n");
        let using = &tree.as_mapping().expect("mapping")[1].value;
        assert_eq!(keys(using), ["X", "A", "C", "B"]);
        let b = &using.as_mapping().expect("mapping")[3];
        assert!(matches!(b.value.value, Value::Integer(9)));
        assert!(b.via.is_none());
        assert!(using.as_mapping().expect("mapping")[1].via.is_some());
    }

    #[test]
    fn earlier_merge_sources_win() {
        let tree = root("a: &a {K: 1}\nb: &b {K: 2, L: 3}\nc:\n  <<: [*a, *b]\n");
        let merged = &tree.as_mapping().expect("mapping")[2].value;
        assert_eq!(keys(merged), ["K", "L"]);
        assert!(matches!(
            merged.as_mapping().expect("mapping")[0].value.value,
            Value::Integer(1)
        ));
    }

    #[test]
    fn aliases_point_at_the_anchored_text() {
        let text = "a: &x hello\nb: *x\n";
        let tree = root(text);
        let entry = &tree.as_mapping().expect("mapping")[1];
        assert_eq!(entry.value.span.slice(text), "hello");
        assert_eq!(entry.via.map(|span| span.slice(text)), Some("*x"));
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let error = load("a: 1\nb: 2\na: 3\n").expect_err("duplicate");
        assert_eq!(error.message, "duplicate key `a`");
        assert_eq!(error.span, Span::new(10, 11));
    }

    #[test]
    fn every_duplicate_key_is_reported_and_reading_goes_on() {
        let loaded = load_reporting("a: 1\nb: {x: 1, x: 2}\na: 3\n").expect("readable");
        let problems: Vec<(&str, Span)> = loaded
            .problems
            .iter()
            .map(|problem| (problem.message.as_str(), problem.span))
            .collect();
        assert_eq!(
            problems,
            [
                ("duplicate key `x`", Span::new(15, 16)),
                ("duplicate key `a`", Span::new(21, 22))
            ]
        );
        // Both entries stay, so what each holds is still validated.
        assert_eq!(keys(&loaded.root.expect("a document")), ["a", "b", "a"]);
    }

    #[test]
    fn keys_stay_text() {
        let tree = root("1: a\ntrue: b\nnull: c\n");
        assert_eq!(keys(&tree), ["1", "true", "null"]);
    }

    #[test]
    fn a_second_document_is_rejected() {
        let error = load("a: 1\n---\nb: 2\n").expect_err("two documents");
        assert!(error.message.contains("second YAML document"));
    }

    #[test]
    fn an_empty_text_has_no_document() {
        assert!(load("").expect("valid").is_none());
        assert!(load("# only a comment\n").expect("valid").is_none());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        let error = load(&text).expect_err("too deep");
        assert!(error.message.contains("nesting"), "{}", error.message);
    }

    #[test]
    fn unknown_anchors_and_tags_are_errors() {
        assert!(load("a: *nope\n").is_err());
        assert!(load("a: !custom x\n").is_err());
        assert!(matches!(
            root("a: !!str 12\n").as_mapping().expect("mapping")[0]
                .value
                .value,
            Value::String { .. }
        ));
    }

    #[test]
    fn alias_bombs_are_refused_before_anything_walks_them() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut previous = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h'] {
            let aliases = vec![format!("*{previous}"); 10].join(", ");
            text = format!("{text}{name}: &{name} [{aliases}]\n");
            previous = name;
        }
        let error = load(&text).expect_err("alias bomb");
        assert!(
            error.message.contains("aliases expand"),
            "{}",
            error.message
        );
    }

    #[test]
    fn merging_a_scalar_is_an_error() {
        let error = load("a:\n  <<: 3\n").expect_err("bad merge");
        assert!(error.message.contains("merges a mapping"));
    }
}
