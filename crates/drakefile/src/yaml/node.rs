//! Located YAML nodes.

use std::rc::Rc;

/// A byte range in the Drakefile's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    #[must_use]
    pub fn new(start: usize, end: usize) -> Self {
        Self {
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the span covers no byte.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }

    /// The text the span covers, or `""` when it does not fall on character boundaries.
    #[must_use]
    pub fn slice(self, text: &str) -> &str {
        text.get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }
}

/// One node of the tree: its value and where it was written.
#[derive(Debug)]
pub struct Node {
    /// Where the node's own text is (for a value reached through an alias: the anchored text).
    pub span: Span,
    /// The resolved value.
    pub value: Value,
    /// How many nodes this one stands for once every alias inside it is expanded (saturating).
    pub expanded_size: u64,
}

/// A resolved YAML value (YAML 1.2 core schema).
#[derive(Debug)]
pub enum Value {
    /// `~`, `null` or nothing at all.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Integer(i64),
    /// Any other number.
    Float(f64),
    /// A string. `plain` is true for an unquoted scalar, whose text could have meant something
    /// else in YAML 1.1 (`yes`, `on`), which the reference parser used.
    String {
        /// The scalar's value.
        text: String,
        /// Whether it was written without quotes and without a tag.
        plain: bool,
    },
    /// A sequence, in document order.
    Sequence(Vec<Item>),
    /// A mapping, in document order, with `<<` merge keys already applied.
    Mapping(Vec<Entry>),
}

/// One element of a sequence.
#[derive(Debug, Clone)]
pub struct Item {
    /// The element.
    pub node: Rc<Node>,
    /// Where an alias brought it in, if it came from one.
    pub via: Option<Span>,
}

/// One key/value pair of a mapping.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key.
    pub key: Rc<Node>,
    /// The value.
    pub value: Rc<Node>,
    /// Where a merge key or an alias brought the pair in, if it did.
    pub via: Option<Span>,
}

impl Entry {
    /// The key's text when it is a string (or another scalar), `None` for a collection key.
    #[must_use]
    pub fn key_text(&self) -> Option<&str> {
        self.key.scalar_text()
    }
}

impl Node {
    /// A node of `value`, counting the expanded size of its children.
    #[must_use]
    pub fn new(span: Span, value: Value) -> Self {
        let children = match &value {
            Value::Sequence(items) => items.iter().fold(0_u64, |total, item| {
                total.saturating_add(item.node.expanded_size)
            }),
            Value::Mapping(entries) => entries.iter().fold(0_u64, |total, entry| {
                total
                    .saturating_add(entry.key.expanded_size)
                    .saturating_add(entry.value.expanded_size)
            }),
            _ => 0,
        };
        Self {
            span,
            value,
            expanded_size: children.saturating_add(1),
        }
    }

    /// The text of a string scalar.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The text of any scalar as written (strings, numbers, booleans), for keys and messages.
    #[must_use]
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::String { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The entries of a mapping.
    #[must_use]
    pub fn as_mapping(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Mapping(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items of a sequence.
    #[must_use]
    pub fn as_sequence(&self) -> Option<&[Item]> {
        match &self.value {
            Value::Sequence(items) => Some(items),
            _ => None,
        }
    }

    /// How the value is called in messages: "a string", "a list", ...
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "an empty value",
            Value::Bool(_) => "a boolean",
            Value::Integer(_) | Value::Float(_) => "a number",
            Value::String { .. } => "a string",
            Value::Sequence(_) => "a list",
            Value::Mapping(_) => "a mapping",
        }
    }
}
