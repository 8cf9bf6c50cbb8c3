//! Pipelines and checks shared by the drawing tests.

use drakefile::{Pipeline, PipelineJob};

/// A pipeline built directly, for names that a Drakefile would reject.
pub fn pipeline(name: &str, jobs: &[(&str, &[&str])]) -> Pipeline {
    Pipeline {
        name: name.to_owned(),
        triggers: Vec::new(),
        jobs: jobs
            .iter()
            .map(|(job, dependencies)| PipelineJob {
                name: (*job).to_owned(),
                dependencies: dependencies.iter().map(|&name| name.to_owned()).collect(),
            })
            .collect(),
    }
}

/// `a` fans out to `b` and `c`, which both lead to `d`, parsed from a Drakefile.
pub fn diamond() -> Pipeline {
    let job = |name: &str| {
        format!("  {name}:\n    primaryContainer:\n      name: main\n      image: busybox:1.36\n")
    };
    let text = format!(
        "specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n{}{}{}{}\
         pipelines:\n  diamond:\n    jobs:\n    - name: a\n    - name: b\n      dependencies: [a]\n    \
         - name: c\n      dependencies: [a]\n    - name: d\n      dependencies: [b, c]\n",
        job("a"),
        job("b"),
        job("c"),
        job("d"),
    );
    let parsed =
        drakefile::parse("Drakefile.yaml", &text).expect("the diamond is a valid Drakefile");
    parsed
        .drakefile
        .pipeline("diamond")
        .expect("the diamond pipeline is defined")
        .clone()
}

/// A chain of two jobs and a job with no edges at all.
pub fn isolated() -> Pipeline {
    pipeline(
        "isolated",
        &[("build", &[]), ("test", &["build"]), ("alone", &[])],
    )
}

/// A DAG of `count` jobs shaped like a monorepo's CI: one root fans out to groups of ten, each
/// with fan-outs, chains and a fan-in, plus links to earlier groups chosen by a fixed
/// pseudo-random sequence so that some edges span several columns.
pub fn generated(count: usize) -> Pipeline {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |bound: usize| {
        // Knuth's MMIX linear congruential generator: deterministic and good enough to scatter.
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % bound
    };
    let name = |index: usize| format!("job-{index:03}");
    let jobs = (0..count)
        .map(|index| {
            let dependencies: Vec<usize> = if index == 0 {
                Vec::new()
            } else {
                let group = (index - 1) / 10;
                let start = group * 10 + 1;
                match (index - 1) % 10 {
                    0 => vec![0],
                    1..=3 => vec![start],
                    4..=6 => vec![index - 3],
                    7 => vec![index - 3, index - 2, index - 1],
                    8 if group > 0 && next(2) == 0 => vec![index - 1, next(group) * 10 + 1],
                    8 => vec![index - 1],
                    _ if group > 0 => vec![index - 1, next(group) * 10 + 2 + next(3)],
                    _ => vec![index - 1],
                }
            };
            PipelineJob {
                name: name(index),
                dependencies: dependencies.into_iter().map(name).collect(),
            }
        })
        .collect();
    Pipeline {
        name: "generated".to_owned(),
        triggers: Vec::new(),
        jobs,
    }
}

/// Panics unless `xml` is a well-formed XML document: one root element, balanced tags, quoted
/// and distinct attributes, known entity references, and no `<` or `&` out of place.
pub fn assert_well_formed(xml: &str) {
    let mut rest = xml;
    let mut open: Vec<&str> = Vec::new();
    let mut roots = 0;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        if open.is_empty() {
            assert!(text.trim().is_empty(), "text outside the root: {text:?}");
        }
        assert_entities(text);
        rest = &rest[start..];
        if let Some(after) = rest.strip_prefix("<?") {
            rest = skip_past(after, "?>");
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = skip_past(after, "-->");
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            assert!(!open.is_empty(), "character data outside the root");
            rest = skip_past(after, "]]>");
        } else if let Some(after) = rest.strip_prefix("</") {
            let (name, after) = split_name(after);
            let after = after.trim_start();
            assert!(after.starts_with('>'), "end tag {name} is not closed");
            assert_eq!(open.pop(), Some(name), "end tag {name} does not match");
            rest = &after[1..];
        } else {
            if open.is_empty() {
                roots += 1;
            }
            let (name, mut after) = split_name(&rest[1..]);
            let mut attributes: Vec<&str> = Vec::new();
            loop {
                after = after.trim_start();
                if let Some(tail) = after.strip_prefix("/>") {
                    after = tail;
                    break;
                }
                if let Some(tail) = after.strip_prefix('>') {
                    open.push(name);
                    after = tail;
                    break;
                }
                let (attribute, tail) = split_name(after);
                assert!(
                    !attributes.contains(&attribute),
                    "{name} repeats {attribute}"
                );
                attributes.push(attribute);
                let tail = tail
                    .trim_start()
                    .strip_prefix('=')
                    .expect("an attribute has a value");
                let tail = tail.trim_start();
                let quote = tail.chars().next().expect("an attribute value");
                assert!(quote == '"' || quote == '\'', "{attribute} is not quoted");
                let end = tail[1..].find(quote).expect("an attribute value ends");
                let value = &tail[1..=end];
                assert!(!value.contains('<'), "{attribute} contains <");
                assert_entities(value);
                after = &tail[end + 2..];
            }
            rest = after;
        }
    }
    assert!(rest.trim().is_empty(), "text after the root: {rest:?}");
    assert!(open.is_empty(), "unclosed elements: {open:?}");
    assert_eq!(roots, 1, "a document has exactly one root element");
}

fn skip_past<'a>(text: &'a str, end: &str) -> &'a str {
    let at = text.find(end).unwrap_or_else(|| panic!("{end} is missing"));
    &text[at + end.len()..]
}

fn split_name(text: &str) -> (&str, &str) {
    let end = text
        .find(|character: char| {
            !(character.is_alphanumeric() || matches!(character, '-' | '_' | ':' | '.'))
        })
        .unwrap_or(text.len());
    assert!(
        end > 0,
        "a name is expected at {:?}",
        &text[..text.len().min(20)]
    );
    text.split_at(end)
}

fn assert_entities(text: &str) {
    for (at, _) in text.match_indices('&') {
        let reference = &text[at + 1..];
        let end = reference
            .find(';')
            .expect("an entity reference ends with ;");
        let name = &reference[..end];
        let known = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
            || name
                .strip_prefix("#x")
                .is_some_and(|hex| u32::from_str_radix(hex, 16).is_ok())
            || name
                .strip_prefix('#')
                .is_some_and(|decimal| decimal.parse::<u32>().is_ok());
        assert!(known, "unknown entity &{name};");
    }
}
