//! The YAML layer: a tree of nodes that remember where in the file they were written.
//!
//! Drakefile diagnostics must name a line and a column, and real Drakefiles are assembled from
//! anchors, aliases and `<<` merge keys. Typed deserializers either drop positions when they merge
//! or stop at the first problem, so this layer builds its own located tree from the parser's
//! events and resolves aliases and merge keys itself; validation then walks the tree and reports
//! every problem at once. `written` keeps the other view, the document as written (anchors,
//! aliases, styles), for rewriting the text in place.

pub(crate) mod emit;
mod loader;
mod node;
mod scalar;
pub(crate) mod written;

pub use loader::{Loaded, SyntaxError, load, load_reporting};
pub use node::{Entry, Item, Node, Span, Value};
