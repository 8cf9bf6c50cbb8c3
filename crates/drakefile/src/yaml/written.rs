//! The document as written: every node where the text has it, with its anchor and its style,
//! aliases and merge keys left unresolved.
//!
//! Validation reads values (`loader.rs` resolves aliases and merges so that rules see what a
//! field means). A tool that rewrites the text, such as `eider upgrade`, needs the other view:
//! where each value was written, whether as a block or in brackets, quoted or plain, and which
//! anchors other places repeat. Both trees come from the same parser events, so their spans
//! agree.

use std::collections::HashMap;

use granit_parser::{Event, Parser, StructureStyle};

use super::loader::{SyntaxError, byte_offset};
use super::node::{Span, Value};
use super::scalar::resolve_plain;

/// A node of a [`WrittenDocument`], by index.
pub(crate) type NodeId = usize;

/// How a scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarStyle {
    /// Without quotes.
    Plain,
    /// In `'single quotes'`.
    SingleQuoted,
    /// In `"double quotes"`.
    DoubleQuoted,
    /// A `|` block.
    Literal,
    /// A `>` block.
    Folded,
}

impl ScalarStyle {
    /// Whether the scalar is a `|` or `>` block, whose text starts on the line after its
    /// indicator.
    pub(crate) fn is_block(self) -> bool {
        matches!(self, Self::Literal | Self::Folded)
    }
}

/// An anchor (`&name`) as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WrittenAnchor {
    /// The name, without `&`.
    pub(crate) name: String,
    /// Where `&name` is.
    pub(crate) span: Span,
}

/// What a written node is.
#[derive(Debug, Clone)]
pub(crate) enum WrittenKind {
    /// A scalar and its value after escapes and folding.
    Scalar {
        /// The value.
        value: String,
        /// How it is written.
        style: ScalarStyle,
    },
    /// `*name`: a repetition of the anchored node `target`.
    Alias {
        /// The anchored node.
        target: NodeId,
    },
    /// A sequence.
    Sequence {
        /// Written in brackets (`true`) or as `- ` items.
        flow: bool,
        /// The items in document order.
        items: Vec<NodeId>,
    },
    /// A mapping; `<<` merge keys are ordinary entries here.
    Mapping {
        /// Written in braces (`true`) or as `key: value` lines.
        flow: bool,
        /// `(key, value)` pairs in document order.
        entries: Vec<(NodeId, NodeId)>,
    },
}

/// One node as written.
#[derive(Debug, Clone)]
pub(crate) struct WrittenNode {
    /// Its content: a scalar's token (quotes included; for a block scalar, its text without the
    /// indicator line, up to where the next token starts); a flow collection with its brackets;
    /// a block collection from its first child to the end of its last.
    pub(crate) span: Span,
    /// Its anchor, if it has one.
    pub(crate) anchor: Option<WrittenAnchor>,
    /// What it is.
    pub(crate) kind: WrittenKind,
}

/// A field found in a mapping, possibly through `<<` merge keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WrittenField {
    /// The key node.
    pub(crate) key: NodeId,
    /// The value node as written (possibly an alias).
    pub(crate) value: NodeId,
    /// Whether a merge key brought the field in, rather than the mapping itself.
    pub(crate) merged: bool,
}

/// A whole document as written.
#[derive(Debug, Clone, Default)]
pub(crate) struct WrittenDocument {
    nodes: Vec<WrittenNode>,
    root: Option<NodeId>,
    /// How many aliases repeat each anchored node.
    alias_counts: HashMap<NodeId, usize>,
}

impl WrittenDocument {
    /// Reads `text`. Errors are those of [`super::load`], which the caller has usually seen
    /// already.
    pub(crate) fn parse(text: &str) -> Result<Self, SyntaxError> {
        let options = granit_parser::options! { emit_anchor_events: true };
        let mut builder = Builder {
            text,
            document: Self::default(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            last_created: None,
        };
        for event in Parser::new_from_str_with_options(text, options) {
            match event {
                Ok((event, span)) => builder.handle(event, &span)?,
                Err(error) => {
                    let marker = error.marker();
                    let offset = byte_offset(text, marker.byte_offset(), marker.index());
                    return Err(SyntaxError {
                        message: error.info(),
                        span: Span::new(offset, offset),
                        help: None,
                        related: None,
                    });
                }
            }
        }
        Ok(builder.document)
    }

    /// The root node, if the text holds a document.
    pub(crate) fn root(&self) -> Option<NodeId> {
        self.root
    }

    /// The node `id`.
    pub(crate) fn node(&self, id: NodeId) -> &WrittenNode {
        &self.nodes[id]
    }

    /// The node an alias repeats, or `id` itself.
    pub(crate) fn resolve(&self, id: NodeId) -> NodeId {
        match self.nodes[id].kind {
            WrittenKind::Alias { target } => target,
            _ => id,
        }
    }

    /// Whether `id` is an alias.
    pub(crate) fn is_alias(&self, id: NodeId) -> bool {
        matches!(self.nodes[id].kind, WrittenKind::Alias { .. })
    }

    /// How many aliases repeat `id`.
    pub(crate) fn alias_count(&self, id: NodeId) -> usize {
        self.alias_counts.get(&id).copied().unwrap_or(0)
    }

    /// Whether `id` or a node inside it defines an anchor.
    pub(crate) fn defines_anchor(&self, id: NodeId) -> bool {
        let node = &self.nodes[id];
        node.anchor.is_some()
            || match &node.kind {
                WrittenKind::Scalar { .. } | WrittenKind::Alias { .. } => false,
                WrittenKind::Sequence { items, .. } => {
                    items.iter().any(|item| self.defines_anchor(*item))
                }
                WrittenKind::Mapping { entries, .. } => entries
                    .iter()
                    .any(|(key, value)| self.defines_anchor(*key) || self.defines_anchor(*value)),
            }
    }

    /// Where the node's text starts: its anchor when it has one, else its content.
    pub(crate) fn written_start(&self, id: NodeId) -> usize {
        let node = &self.nodes[id];
        let start = node.span.start;
        node.anchor
            .as_ref()
            .map_or(start, |anchor| anchor.span.start.min(start)) as usize
    }

    /// The text of a scalar (keys are scalars).
    pub(crate) fn scalar(&self, id: NodeId) -> Option<&str> {
        match &self.nodes[id].kind {
            WrittenKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The text of a scalar that YAML reads as a string (quoted, a block, or plain text that is
    /// not a number, a boolean or null).
    pub(crate) fn string(&self, id: NodeId) -> Option<&str> {
        match &self.nodes[id].kind {
            WrittenKind::Scalar {
                value,
                style: ScalarStyle::Plain,
            } => matches!(resolve_plain(value), Value::String { .. }).then_some(value.as_str()),
            WrittenKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The entries of a mapping, as written.
    pub(crate) fn entries(&self, id: NodeId) -> Option<&[(NodeId, NodeId)]> {
        match &self.nodes[id].kind {
            WrittenKind::Mapping { entries, .. } => Some(entries),
            _ => None,
        }
    }

    /// The items of a sequence, as written.
    pub(crate) fn items(&self, id: NodeId) -> Option<&[NodeId]> {
        match &self.nodes[id].kind {
            WrittenKind::Sequence { items, .. } => Some(items),
            _ => None,
        }
    }

    /// Whether `id` is a collection written in brackets or braces.
    pub(crate) fn is_flow(&self, id: NodeId) -> bool {
        matches!(
            self.nodes[id].kind,
            WrittenKind::Sequence { flow: true, .. } | WrittenKind::Mapping { flow: true, .. }
        )
    }

    /// Whether a key is the merge key `<<` (plain, as YAML 1.1 defines it).
    pub(crate) fn is_merge_key(&self, id: NodeId) -> bool {
        matches!(
            &self.nodes[id].kind,
            WrittenKind::Scalar { value, style: ScalarStyle::Plain } if value == "<<"
        )
    }

    /// The field `name` of the mapping `mapping` (aliases followed), as the loader resolves it:
    /// the mapping's own entry first, then merge sources in order.
    pub(crate) fn field(&self, mapping: NodeId, name: &str) -> Option<WrittenField> {
        self.field_within(self.resolve(mapping), name, false, 0)
    }

    fn field_within(
        &self,
        mapping: NodeId,
        name: &str,
        merged: bool,
        depth: usize,
    ) -> Option<WrittenField> {
        // Merge sources nest at most as deep as the document does; this bounds a malformed one.
        if depth > 64 {
            return None;
        }
        let entries = self.entries(mapping)?;
        if let Some((key, value)) = entries
            .iter()
            .find(|(key, _)| !self.is_merge_key(*key) && self.scalar(*key) == Some(name))
        {
            return Some(WrittenField {
                key: *key,
                value: *value,
                merged,
            });
        }
        for (key, value) in entries {
            if !self.is_merge_key(*key) {
                continue;
            }
            let source = self.resolve(*value);
            let sources: Vec<NodeId> = match self.items(source) {
                Some(items) => items.iter().map(|item| self.resolve(*item)).collect(),
                None => vec![source],
            };
            for source in sources {
                if let Some(found) = self.field_within(source, name, true, depth + 1) {
                    return Some(found);
                }
            }
        }
        None
    }
}

enum Frame {
    Sequence(NodeId),
    Mapping {
        id: NodeId,
        pending_key: Option<NodeId>,
    },
}

struct Builder<'text> {
    text: &'text str,
    document: WrittenDocument,
    stack: Vec<Frame>,
    /// The parser's anchor ids and the nodes they name.
    anchors: HashMap<usize, NodeId>,
    /// The node the last scalar or collection-start event created, which an anchor event
    /// (emitted right after it) belongs to.
    last_created: Option<NodeId>,
}

impl Builder<'_> {
    fn span(&self, span: &granit_parser::Span) -> Span {
        let start = byte_offset(self.text, span.start.byte_offset(), span.start.index());
        let end = byte_offset(self.text, span.end.byte_offset(), span.end.index());
        Span::new(start, end)
    }

    fn create(&mut self, span: Span, kind: WrittenKind) -> NodeId {
        self.document.nodes.push(WrittenNode {
            span,
            anchor: None,
            kind,
        });
        let id = self.document.nodes.len() - 1;
        self.last_created = Some(id);
        id
    }

    fn handle(&mut self, event: Event<'_>, span: &granit_parser::Span) -> Result<(), SyntaxError> {
        let span = self.span(span);
        match event {
            Event::Scalar(value, style, anchor, _) => {
                let style = match style {
                    granit_parser::ScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
                    granit_parser::ScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
                    granit_parser::ScalarStyle::Literal => ScalarStyle::Literal,
                    granit_parser::ScalarStyle::Folded => ScalarStyle::Folded,
                    granit_parser::ScalarStyle::Plain => ScalarStyle::Plain,
                };
                let id = self.create(
                    span,
                    WrittenKind::Scalar {
                        value: value.into_owned(),
                        style,
                    },
                );
                self.remember_anchor(anchor, id);
                self.deliver(id);
            }
            Event::Anchor(anchor, name) => {
                if let Some(id) = self.last_created {
                    self.document.nodes[id].anchor = Some(WrittenAnchor {
                        name: name.into_owned(),
                        span,
                    });
                    self.anchors.insert(anchor, id);
                }
            }
            Event::Alias(anchor) => {
                let Some(target) = self.anchors.get(&anchor).copied() else {
                    return Err(SyntaxError {
                        message: "this alias refers to the node that contains it".to_owned(),
                        span,
                        help: None,
                        related: None,
                    });
                };
                *self.document.alias_counts.entry(target).or_default() += 1;
                let id = self.create(span, WrittenKind::Alias { target });
                self.deliver(id);
            }
            Event::SequenceStart(style, anchor, _) => {
                let id = self.create(
                    span,
                    WrittenKind::Sequence {
                        flow: style == StructureStyle::Flow,
                        items: Vec::new(),
                    },
                );
                self.remember_anchor(anchor, id);
                self.stack.push(Frame::Sequence(id));
            }
            Event::MappingStart(style, anchor, _) => {
                let id = self.create(
                    span,
                    WrittenKind::Mapping {
                        flow: style == StructureStyle::Flow,
                        entries: Vec::new(),
                    },
                );
                self.remember_anchor(anchor, id);
                self.stack.push(Frame::Mapping {
                    id,
                    pending_key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(Frame::Sequence(id) | Frame::Mapping { id, .. }) = self.stack.pop() else {
                    return Ok(());
                };
                let end = self.collection_end(id, span);
                let node = &mut self.document.nodes[id];
                node.span = Span::new(node.span.start as usize, end);
                self.last_created = None;
                self.deliver(id);
            }
            _ => {}
        }
        Ok(())
    }

    fn remember_anchor(&mut self, anchor: usize, id: NodeId) {
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
    }

    /// A flow collection ends with its closing bracket; a block collection ends where its last
    /// child does (its end event comes at the next token, past comments and blank lines).
    fn collection_end(&self, id: NodeId, end_event: Span) -> usize {
        let nodes = &self.document.nodes;
        let last_child = match &nodes[id].kind {
            WrittenKind::Sequence { flow: false, items } => items.last().copied(),
            WrittenKind::Mapping {
                flow: false,
                entries,
            } => entries.last().map(|(_, value)| *value),
            _ => None,
        };
        match last_child {
            Some(child) => (nodes[child].span.end as usize).max(nodes[id].span.start as usize),
            None => end_event.end as usize,
        }
    }

    fn deliver(&mut self, id: NodeId) {
        match self.stack.last_mut() {
            None => self.document.root = Some(id),
            Some(Frame::Sequence(sequence)) => {
                if let WrittenKind::Sequence { items, .. } =
                    &mut self.document.nodes[*sequence].kind
                {
                    items.push(id);
                }
            }
            Some(Frame::Mapping {
                id: mapping,
                pending_key,
            }) => match pending_key.take() {
                None => *pending_key = Some(id),
                Some(key) => {
                    if let WrittenKind::Mapping { entries, .. } =
                        &mut self.document.nodes[*mapping].kind
                    {
                        entries.push((key, id));
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> WrittenDocument {
        WrittenDocument::parse(text).expect("valid YAML")
    }

    #[test]
    fn aliases_stay_aliases_and_are_counted() {
        let text = "a: &x {k: v}\nb: *x\nc: *x\n";
        let document = parse(text);
        let root = document.root().expect("a root");
        let entries = document.entries(root).expect("a mapping");
        let anchored = entries[0].1;
        assert_eq!(
            document
                .node(anchored)
                .anchor
                .as_ref()
                .map(|anchor| anchor.name.as_str()),
            Some("x")
        );
        assert!(document.is_flow(anchored));
        assert!(document.is_alias(entries[1].1));
        assert_eq!(document.resolve(entries[2].1), anchored);
        assert_eq!(document.alias_count(anchored), 2);
        assert_eq!(document.node(entries[1].1).span.slice(text), "*x");
    }

    #[test]
    fn fields_are_found_through_merge_keys_explicit_first() {
        let text = "base: &b\n  image: x\n  name: base\nuse:\n  <<: *b\n  name: own\n";
        let document = parse(text);
        let root = document.root().expect("a root");
        let using = document.entries(root).expect("a mapping")[1].1;
        let name = document.field(using, "name").expect("name");
        assert!(!name.merged);
        assert_eq!(document.scalar(name.value), Some("own"));
        let image = document.field(using, "image").expect("image");
        assert!(image.merged);
        assert_eq!(document.node(image.value).span.slice(text), "x");
        assert!(document.field(using, "missing").is_none());
    }

    #[test]
    fn block_collections_span_their_children_only() {
        // A block sequence starts at its first item's content, after the `- `.
        let text = "a:\n- x\n- y  # comment\n\nb: 1\n";
        let document = parse(text);
        let root = document.root().expect("a root");
        let list = document.entries(root).expect("a mapping")[0].1;
        assert_eq!(document.node(list).span.slice(text), "x\n- y");
        assert!(!document.is_flow(list));
    }

    #[test]
    fn an_anchor_before_a_block_mapping_belongs_to_it() {
        let text = "items:\n- &base\n  name: main\n";
        let document = parse(text);
        let root = document.root().expect("a root");
        let list = document.entries(root).expect("a mapping")[0].1;
        let item = document.items(list).expect("a sequence")[0];
        assert_eq!(
            document.written_start(item),
            text.find('&').expect("anchor")
        );
        assert!(document.defines_anchor(root));
    }
}
