//! Hostile and arbitrary input: nothing panics, every diagnostic points inside the file, and the
//! constructions that could make work grow faster than the input are refused or stay bounded.

use std::fmt::Write as _;

use proptest::prelude::*;

/// Every diagnostic of an invalid file points inside the text and has a sane position.
fn check_invariants(text: &str) {
    match drakefile::parse("fuzz.yaml", text) {
        Ok(parsed) => {
            assert!(parsed.warnings.error_count() == 0);
        }
        Err(report) => {
            assert!(
                report.error_count() > 0,
                "an invalid file has at least one error"
            );
            for diagnostic in report.diagnostics() {
                assert!(
                    diagnostic.span.end as usize <= text.len(),
                    "span past the end: {diagnostic:?}"
                );
                assert!(
                    text.is_char_boundary(diagnostic.span.start as usize),
                    "span inside a character: {diagnostic:?}"
                );
                let (line, column) = report.position(diagnostic.span.start);
                assert!(line >= 1 && column >= 1);
            }
        }
    }
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("~".to_owned()),
        Just("yes".to_owned()),
        Just("v0.6.0".to_owned()),
        Just("github.com/lovethedrake/drakespec".to_owned()),
        Just("\"quoted: value\"".to_owned()),
        Just("'it''s'".to_owned()),
        Just("*anchor".to_owned()),
        Just("&anchor x".to_owned()),
        Just("!!str 1".to_owned()),
        "[a-zA-Z0-9_=./ -]{0,12}",
        any::<i64>().prop_map(|number| number.to_string()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("specUri".to_owned()),
        Just("specVersion".to_owned()),
        Just("uri".to_owned()),
        Just("version".to_owned()),
        Just("jobs".to_owned()),
        Just("pipelines".to_owned()),
        Just("snippets".to_owned()),
        Just("primaryContainer".to_owned()),
        Just("sidecarContainers".to_owned()),
        Just("containers".to_owned()),
        Just("name".to_owned()),
        Just("image".to_owned()),
        Just("command".to_owned()),
        Just("args".to_owned()),
        Just("environment".to_owned()),
        Just("dependencies".to_owned()),
        Just("triggers".to_owned()),
        Just("resources".to_owned()),
        Just("<<".to_owned()),
        "[a-z][a-zA-Z-]{0,8}",
    ]
}

/// Arbitrary YAML in flow style, built from Drakefile-like keys and values.
fn yaml_value() -> impl Strategy<Value = String> {
    scalar().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::vec((key(), inner), 0..6).prop_map(|entries| {
                let body: Vec<String> = entries
                    .into_iter()
                    .map(|(key, value)| format!("{key}: {value}"))
                    .collect();
                format!("{{{}}}", body.join(", "))
            }),
        ]
    })
}

fn document() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        Just("specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\n".to_owned()),
        Just("specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.2.0\n".to_owned()),
        Just("uri: github.com/lovethedrake/drakespec\nversion: v0.0.0\n".to_owned()),
        Just(String::new()),
    ];
    (header, prop::collection::vec((key(), yaml_value()), 0..6)).prop_map(|(header, entries)| {
        let mut text = header;
        for (key, value) in entries {
            writeln!(text, "{key}: {value}").expect("writing to a String");
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_invariants(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_yaml_never_panics(text in document()) {
        check_invariants(&text);
    }

    #[test]
    fn arbitrary_jobs_never_panic(job in yaml_value()) {
        let text = format!("specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n  j: {job}\npipelines:\n  p: {{jobs: [{{name: j}}]}}\n");
        check_invariants(&text);
    }
}

const HEADER: &str = "specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\n";

#[test]
fn an_alias_bomb_in_a_drakefile_is_refused() {
    // Each level multiplies by 10: validating it naively would visit 10^8 containers.
    let mut text = format!(
        "{HEADER}snippets:\n  e: &l0 [A=1, B=2, C=3, D=4, E=5, F=6, G=7, H=8, I=9, J=10]\n"
    );
    for level in 1..8 {
        let previous = level - 1;
        writeln!(
            text,
            "  l{level}: &l{level} [{}]",
            vec![format!("*l{previous}"); 10].join(", ")
        )
        .expect("writing to a String");
    }
    text.push_str(
        "jobs:\n  j:\n    primaryContainer: {name: x, image: busybox, environment: *l7}\n",
    );
    let report = drakefile::parse("bomb.yaml", &text).expect_err("an alias bomb is refused");
    assert_eq!(report.diagnostics()[0].code, drakefile::Code::YamlSyntax);
    assert!(report.diagnostics()[0].message.contains("aliases expand"));
}

#[test]
fn merging_one_large_mapping_many_times_stays_bounded() {
    let keys: Vec<String> = (0..2000).map(|index| format!("K{index}: v")).collect();
    let mut text = format!(
        "{HEADER}snippets:\n  big: &big {{{}}}\n  uses:\n",
        keys.join(", ")
    );
    for index in 0..1000 {
        writeln!(text, "    u{index}: {{<<: *big}}").expect("writing to a String");
    }
    // 2,000 keys merged 1,000 times is 2,000,000 copies: past the cap, refused.
    let report = drakefile::parse("merges.yaml", &text).expect_err("too many merged entries");
    assert!(
        report.diagnostics()[0]
            .message
            .contains("merge keys copy more than")
    );
}

#[test]
fn deep_nesting_is_refused() {
    let text = format!(
        "{HEADER}snippets: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let report = drakefile::parse("deep.yaml", &text).expect_err("too deep");
    let message = &report.diagnostics()[0].message;
    assert!(
        message.contains("nesting") || message.contains("recursion limit"),
        "{message}"
    );
}

#[test]
fn a_megabyte_line_and_many_problems_are_handled() {
    let long = "x".repeat(1 << 20);
    let mut text = format!(
        "{HEADER}jobs:\n  long:\n    primaryContainer: {{name: main, image: busybox, args: [\"{long}\"]}}\n"
    );
    for index in 0..5000 {
        writeln!(
            text,
            "  bad{index}: {{primaryContainer: {{name: x, image: Bad}}}}"
        )
        .expect("writing to a String");
    }
    let report = drakefile::parse("many.yaml", &text).expect_err("5,000 bad images");
    assert_eq!(report.error_count(), 5000);
    let (line, _) = report.position(report.diagnostics()[4999].span.start);
    assert_eq!(line, 6 + 4999);
}
