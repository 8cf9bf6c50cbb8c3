//! Field paths such as `jobs.test.containers[1].environment[0]`, built on the stack while the
//! validator walks the tree and turned into text only when a diagnostic needs one.

use std::fmt;

/// One step of a path.
#[derive(Debug, Clone, Copy)]
pub enum Segment<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A list index.
    Index(usize),
}

/// A path from the document's root; each level borrows its parent.
#[derive(Debug, Clone, Copy)]
pub struct FieldPath<'a> {
    parent: Option<&'a FieldPath<'a>>,
    segment: Option<Segment<'a>>,
}

impl<'a> FieldPath<'a> {
    /// The document itself.
    #[must_use]
    pub const fn root() -> Self {
        Self {
            parent: None,
            segment: None,
        }
    }

    /// The path of a key below this one.
    #[must_use]
    pub fn key(&'a self, key: &'a str) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            segment: Some(Segment::Key(key)),
        }
    }

    /// The path of a list element below this one.
    #[must_use]
    pub fn index(&'a self, index: usize) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            segment: Some(Segment::Index(index)),
        }
    }

    /// The path `levels` segments up, or `None` above the root.
    #[must_use]
    pub fn ancestor(&self, levels: usize) -> Option<&FieldPath<'a>> {
        let mut path = self;
        for _ in 0..levels {
            path = path.parent?;
        }
        Some(path)
    }

    /// The last segment when it is a mapping key.
    #[must_use]
    pub fn last_key(&self) -> Option<&'a str> {
        match self.segment {
            Some(Segment::Key(key)) => Some(key),
            _ => None,
        }
    }

    /// Whether this is the document itself.
    #[must_use]
    pub fn is_root(&self) -> bool {
        self.segment.is_none()
    }

    fn write_to(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            parent.write_to(formatter)?;
        }
        match self.segment {
            None => Ok(()),
            Some(Segment::Index(index)) => write!(formatter, "[{index}]"),
            Some(Segment::Key(key)) => {
                let plain = !key.is_empty()
                    && key.chars().all(|character| {
                        character.is_alphanumeric() || matches!(character, '_' | '-')
                    });
                let first = self.parent.is_none_or(|parent| parent.segment.is_none());
                match (plain, first) {
                    (true, true) => formatter.write_str(key),
                    (true, false) => write!(formatter, ".{key}"),
                    (false, _) => write!(formatter, "[{key:?}]"),
                }
            }
        }
    }
}

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(formatter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_the_document() {
        let root = FieldPath::root();
        let jobs = root.key("jobs");
        let job = jobs.key("test");
        let containers = job.key("containers");
        let container = containers.index(1);
        let environment = container.key("environment");
        let entry = environment.index(0);
        assert_eq!(entry.to_string(), "jobs.test.containers[1].environment[0]");
        assert_eq!(
            environment.key("a.b").to_string(),
            "jobs.test.containers[1].environment[\"a.b\"]"
        );
        assert_eq!(root.to_string(), "");
        assert_eq!(
            entry.ancestor(4).map(ToString::to_string).as_deref(),
            Some("jobs.test")
        );
        assert!(jobs.ancestor(1).is_some_and(FieldPath::is_root));
        assert!(root.ancestor(1).is_none());
    }
}
