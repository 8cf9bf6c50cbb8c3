//! Where the parts of a Drakefile are written: jobs, their containers, pipelines and their
//! triggers, found in the written tree (aliases followed, merge keys looked through) so that a
//! conversion edits the text that defines each value.

use std::collections::HashSet;
use std::fmt;

use crate::path::FieldPath;
use crate::yaml::written::{NodeId, WrittenDocument};

/// A field path kept for messages, e.g. `jobs.test.containers[1].command`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Location(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Key(String),
    Index(usize),
}

impl Location {
    /// The path of `key` below this one.
    pub(super) fn key(&self, key: &str) -> Self {
        let mut parts = self.0.clone();
        parts.push(Part::Key(key.to_owned()));
        Self(parts)
    }

    /// The path of item `index` below this one.
    pub(super) fn index(&self, index: usize) -> Self {
        let mut parts = self.0.clone();
        parts.push(Part::Index(index));
        Self(parts)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One way to write paths: the validator's.
        fn write(
            formatter: &mut fmt::Formatter<'_>,
            parent: &FieldPath<'_>,
            parts: &[Part],
        ) -> fmt::Result {
            match parts.split_first() {
                None => write!(formatter, "{parent}"),
                Some((Part::Key(key), rest)) => write(formatter, &parent.key(key), rest),
                Some((Part::Index(index), rest)) => write(formatter, &parent.index(*index), rest),
            }
        }
        write(formatter, &FieldPath::root(), &self.0)
    }
}

/// An entry of a named mapping (`jobs`, `pipelines`): a job or a pipeline.
#[derive(Debug, Clone)]
pub(super) struct Named {
    /// Its name.
    pub(super) name: String,
    /// The key node.
    pub(super) key: NodeId,
    /// The value with aliases followed.
    pub(super) mapping: NodeId,
    /// `jobs.NAME` or `pipelines.NAME`.
    pub(super) location: Location,
}

/// The entries of the top-level mapping `field` (`jobs` or `pipelines`), including those merge
/// keys bring in (explicit keys first, as they win).
pub(super) fn named(document: &WrittenDocument, field: &str) -> Vec<Named> {
    let Some(root) = document.root() else {
        return Vec::new();
    };
    let Some(found) = document.field(root, field) else {
        return Vec::new();
    };
    let location = Location::default().key(field);
    let mut all = Vec::new();
    let mut seen = HashSet::new();
    collect_named(
        document,
        document.resolve(found.value),
        &location,
        (&mut all, &mut seen),
        0,
    );
    all
}

fn collect_named(
    document: &WrittenDocument,
    mapping: NodeId,
    location: &Location,
    (all, seen): (&mut Vec<Named>, &mut HashSet<String>),
    depth: usize,
) {
    let Some(entries) = document.entries(mapping) else {
        return;
    };
    if depth > 64 {
        return;
    }
    // Explicit keys win over merged ones, and earlier merge sources over later ones.
    for (key, value) in entries {
        if document.is_merge_key(*key) {
            continue;
        }
        let Some(name) = document.scalar(*key) else {
            continue;
        };
        if !seen.insert(name.to_owned()) {
            continue;
        }
        all.push(Named {
            name: name.to_owned(),
            key: *key,
            mapping: document.resolve(*value),
            location: location.key(name),
        });
    }
    for (key, value) in entries {
        if !document.is_merge_key(*key) {
            continue;
        }
        let source = document.resolve(*value);
        let sources: Vec<NodeId> = match document.items(source) {
            Some(items) => items.iter().map(|item| document.resolve(*item)).collect(),
            None => vec![source],
        };
        for source in sources {
            collect_named(
                document,
                source,
                location,
                (&mut *all, &mut *seen),
                depth + 1,
            );
        }
    }
}

/// A container as written: the node of its mapping, and where it sits.
#[derive(Debug, Clone)]
pub(super) struct ContainerSite {
    /// The container's mapping (aliases followed).
    pub(super) mapping: NodeId,
    /// `jobs.NAME.containers[1]` or `jobs.NAME.primaryContainer`.
    pub(super) location: Location,
}

/// Every container of a job, written in any version's way (`containers`, or
/// `sidecarContainers` and `primaryContainer`).
pub(super) fn containers(document: &WrittenDocument, job: &Named) -> Vec<ContainerSite> {
    let mut sites = Vec::new();
    for list in ["containers", "sidecarContainers"] {
        let Some(field) = document.field(job.mapping, list) else {
            continue;
        };
        let items = document
            .items(document.resolve(field.value))
            .unwrap_or_default();
        for (index, item) in items.iter().enumerate() {
            sites.push(ContainerSite {
                mapping: document.resolve(*item),
                location: job.location.key(list).index(index),
            });
        }
    }
    if let Some(field) = document.field(job.mapping, "primaryContainer") {
        sites.push(ContainerSite {
            mapping: document.resolve(field.value),
            location: job.location.key("primaryContainer"),
        });
    }
    sites
}

/// Whether some container of the job mounts the source (a non-empty `sourceMountPath`).
pub(super) fn mounts_source(document: &WrittenDocument, job: &Named) -> bool {
    containers(document, job).iter().any(|container| {
        document
            .field(container.mapping, "sourceMountPath")
            .and_then(|field| document.scalar(document.resolve(field.value)))
            .is_some_and(|path| !path.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_and_containers_are_found_through_aliases_and_merges() {
        let text = "\
snippets:
  job: &job
    containers:
    - name: main
      sourceMountPath: /src
jobs:
  a: *job
  <<: {b: {primaryContainer: {name: main}}}
  c:
    sidecarContainers: [{name: db}]
    primaryContainer: {name: main, sourceMountPath: ''}
";
        let document = WrittenDocument::parse(text).expect("valid");
        let jobs = named(&document, "jobs");
        let names: Vec<&str> = jobs.iter().map(|job| job.name.as_str()).collect();
        assert_eq!(names, ["a", "c", "b"]);
        let locations: Vec<String> = jobs
            .iter()
            .flat_map(|job| containers(&document, job))
            .map(|site| site.location.to_string())
            .collect();
        assert_eq!(
            locations,
            [
                "jobs.a.containers[0]",
                "jobs.c.sidecarContainers[0]",
                "jobs.c.primaryContainer",
                "jobs.b.primaryContainer"
            ]
        );
        let mounting: Vec<bool> = jobs
            .iter()
            .map(|job| mounts_source(&document, job))
            .collect();
        assert_eq!(mounting, [true, false, false]);
    }
}
