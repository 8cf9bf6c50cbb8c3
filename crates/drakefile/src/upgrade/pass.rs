//! One pass of conversions over one text: what they edit, what they refuse, what they report.

use std::collections::HashSet;

use crate::version::SpecVersion;
use crate::yaml::Span;
use crate::yaml::written::{NodeId, WrittenDocument};

use super::edit::Edits;
use super::layout::Layout;
use super::sites::Location;

/// Something the upgrade cannot convert faithfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    /// Where, in the text of the pass.
    pub(super) span: Span,
    /// The field it concerns.
    pub(super) location: Location,
    /// Why, as a lowercase fragment.
    pub(super) message: String,
    /// What the user can do instead.
    pub(super) help: String,
}

/// Something the upgrade changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Conversion {
    /// Where, in the text of the pass.
    pub(super) span: Span,
    /// The field it concerns.
    pub(super) location: Location,
    /// What was done, as a lowercase fragment.
    pub(super) description: String,
}

/// The state of one pass: the text, its written tree, and what the conversions decided.
pub(super) struct Pass<'text> {
    pub(super) text: &'text str,
    pub(super) document: &'text WrittenDocument,
    pub(super) layout: Layout,
    /// The version the text is in (the declared one, or the previous step's target).
    pub(super) from: SpecVersion,
    /// The version the pass converts to (equal to `from` when only fixing the file).
    pub(super) to: SpecVersion,
    /// The version the whole upgrade goes to, for forms that a later step accepts again.
    pub(super) target: SpecVersion,
    pub(super) edits: Edits,
    pub(super) refusals: Vec<Refusal>,
    pub(super) conversions: Vec<Conversion>,
    /// Nodes already converted: aliases and merges reach one written node from several places.
    converted: HashSet<NodeId>,
}

impl<'text> Pass<'text> {
    pub(super) fn new(
        text: &'text str,
        document: &'text WrittenDocument,
        from: SpecVersion,
        to: SpecVersion,
        target: SpecVersion,
    ) -> Self {
        Self {
            text,
            document,
            layout: Layout::of(text, document),
            from,
            to,
            target,
            edits: Edits::default(),
            refusals: Vec::new(),
            conversions: Vec::new(),
            converted: HashSet::new(),
        }
    }

    /// Marks `node` as converted; `false` when it already was.
    pub(super) fn first_visit(&mut self, node: NodeId) -> bool {
        self.converted.insert(node)
    }

    /// The span of a written node.
    pub(super) fn span(&self, node: NodeId) -> Span {
        self.document.node(node).span
    }

    /// Records a refusal.
    pub(super) fn refuse(
        &mut self,
        span: Span,
        location: &Location,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.refusals.push(Refusal {
            span,
            location: location.clone(),
            message: message.into(),
            help: help.into(),
        });
    }

    /// Records a conversion.
    pub(super) fn converted(
        &mut self,
        span: Span,
        location: &Location,
        description: impl Into<String>,
    ) {
        self.conversions.push(Conversion {
            span,
            location: location.clone(),
            description: description.into(),
        });
    }
}
