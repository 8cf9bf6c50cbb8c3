//! The JUnit XML report: one test suite per run, one test case per job with its output in
//! `system-out`; failures carry the container and exit code, timeouts and errors say so.

use std::borrow::Cow;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{CapturedOutput, RunRecord};
use crate::failure::Failure;
use eider_engine::{JobOutcome, JobResult};

/// The report's text.
pub fn render(runs: &[RunRecord], output: &CapturedOutput) -> Result<String, Failure> {
    let mut report = Report::new("eider");
    for run in runs {
        let name = run.pipeline.clone().unwrap_or_else(|| "jobs".to_owned());
        let mut suite = TestSuite::new(name.clone());
        suite.set_time(run.wall_time);
        for job in &run.summary.jobs {
            let mut case = TestCase::new(job.name.clone(), status(&job.outcome));
            case.set_classname(name.clone());
            case.set_time(job.duration);
            if let Some(text) = output.get(&(run.summary.run_id.clone(), job.name.clone())) {
                case.set_system_out(xml_text(&String::from_utf8_lossy(text)));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().map_err(|error| {
        Failure::runtime("cannot write the JUnit report").with_cause(error.to_string())
    })
}

fn status(outcome: &JobOutcome) -> TestCaseStatus {
    let message = outcome.description().unwrap_or_default();
    let non_success = |kind| {
        let mut status = TestCaseStatus::non_success(kind);
        status
            .set_message(xml_text(&message))
            .set_type(outcome.result().as_str());
        status
    };
    match outcome.result() {
        JobResult::Passed => TestCaseStatus::success(),
        JobResult::Failed | JobResult::TimedOut => non_success(NonSuccessKind::Failure),
        // JUnit's `error` (not `failure`): the test could not be carried out, which is what an
        // engine that failed under a job means.
        JobResult::Error | JobResult::InfrastructureFailure | JobResult::Interrupted => {
            non_success(NonSuccessKind::Error)
        }
        JobResult::Skipped | JobResult::Cancelled => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(message);
            status
        }
    }
}

/// `text` without the characters that XML 1.0 cannot hold and quick-junit lets through: it
/// strips control characters itself, but not the noncharacters U+FFFE and U+FFFF, which a job
/// may well print and which make the whole report unreadable to an XML parser. They become
/// U+FFFD, as bytes that are not UTF-8 do.
fn xml_text(text: &str) -> Cow<'_, str> {
    let not_xml = |character| matches!(character, '\u{FFFE}' | '\u{FFFF}');
    if text.contains(not_xml) {
        Cow::Owned(text.replace(not_xml, "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noncharacters_become_replacement_characters_and_the_rest_stays() {
        assert_eq!(
            xml_text("a\u{FFFE}b\u{FFFF}c \u{FFFD} \u{10FFFF}"),
            "a\u{FFFD}b\u{FFFD}c \u{FFFD} \u{10FFFF}"
        );
        assert!(matches!(
            xml_text("plain <text>"),
            Cow::Borrowed("plain <text>")
        ));
    }
}
