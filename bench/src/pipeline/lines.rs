//! Checks eider's stdout from the output pipeline: every line must be one whole line of one
//! job, `[JOB/main] JOB NUMBER PAYLOAD`, exactly as the job printed it, and each job's lines
//! must all be there, in order.

use std::io::{BufRead as _, BufReader, Read};

use crate::pipeline::spec::{OUTPUT_JOBS, OUTPUT_LINES, output_line};

/// How much of the first bad line is kept to show.
const SHOWN_LINE_BYTES: usize = 160;

/// What the check found in one run's stdout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineCheck {
    /// Whole lines of each job of [`OUTPUT_JOBS`], in that order.
    pub whole: [u64; 2],
    /// Lines that are not a whole line of one job: torn, merged, cut or foreign.
    pub torn: u64,
    /// Whole lines that did not come right after the job's previous line.
    pub out_of_order: u64,
    /// How often a line came from the other job than the line before: how finely the two jobs'
    /// output was interleaved (0 would mean the check proved little).
    pub switches: u64,
    /// The first line that was not whole, cut short, for the report.
    pub first_torn: Option<String>,
}

impl LineCheck {
    /// Whether every line was whole, in order, and none was missing.
    pub fn intact(&self) -> bool {
        self.torn == 0 && self.out_of_order == 0 && self.whole == [OUTPUT_LINES; 2]
    }
}

/// Reads `reader` to its end and checks every line.
pub fn check(reader: impl Read) -> std::io::Result<LineCheck> {
    let prefixes: Vec<String> = OUTPUT_JOBS
        .iter()
        .map(|(name, _)| format!("[{name}/main] "))
        .collect();
    let mut reader = BufReader::with_capacity(256 * 1024, reader);
    let mut result = LineCheck::default();
    let mut last_number = [0_u64; 2];
    let mut last_job = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(result);
        }
        let Some(job) = whole_line_job(&line, &prefixes) else {
            result.torn += 1;
            if result.first_torn.is_none() {
                let shown = &line[..line.len().min(SHOWN_LINE_BYTES)];
                result.first_torn = Some(String::from_utf8_lossy(shown).into_owned());
            }
            continue;
        };
        let (job, number) = job;
        if number != last_number[job] + 1 {
            result.out_of_order += 1;
        }
        last_number[job] = number;
        result.whole[job] += 1;
        if last_job.is_some_and(|last| last != job) {
            result.switches += 1;
        }
        last_job = Some(job);
    }
}

/// The job whose whole line `line` is, and the line's number.
fn whole_line_job(line: &[u8], prefixes: &[String]) -> Option<(usize, u64)> {
    let job = prefixes
        .iter()
        .position(|prefix| line.starts_with(prefix.as_bytes()))?;
    let content = &line[prefixes[job].len()..];
    let (name, letter) = OUTPUT_JOBS[job];
    let number_field = content.get(name.len() + 1..name.len() + 7)?;
    let number: u64 = std::str::from_utf8(number_field).ok()?.parse().ok()?;
    (content == output_line(name, letter, number).as_bytes()).then_some((job, number))
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::pipeline::spec::{OUTPUT_LINES, output_line};

    fn line(job: &str, letter: char, number: u64) -> String {
        format!("[{job}/main] {}", output_line(job, letter, number))
    }

    #[test]
    fn interleaved_whole_lines_are_intact() {
        let mut text = String::new();
        for number in 1..=OUTPUT_LINES {
            text.push_str(&line("left", 'L', number));
            text.push_str(&line("right", 'R', number));
        }
        let result = check(text.as_bytes()).expect("reading memory");
        assert!(result.intact(), "{result:?}");
        assert_eq!(result.switches, 2 * OUTPUT_LINES - 1);
    }

    #[test]
    fn a_torn_line_a_missing_line_and_a_reordered_line_are_found() {
        let left = line("left", 'L', 1);
        let right = line("right", 'R', 1);
        let torn = format!("{}{}", &left[..20], right);
        let text = format!(
            "{torn}{}{}{}",
            &left[20..],
            line("left", 'L', 3),
            line("left", 'L', 2)
        );
        let result = check(text.as_bytes()).expect("reading memory");
        assert_eq!(result.torn, 2);
        assert_eq!(result.whole, [2, 0]);
        assert_eq!(result.out_of_order, 2);
        assert!(!result.intact());
        assert!(
            result
                .first_torn
                .is_some_and(|shown| shown.starts_with("[left/main] left 00"))
        );
    }

    #[test]
    fn a_last_line_without_newline_is_torn() {
        let text = line("left", 'L', 1);
        let result = check(text.trim_end().as_bytes()).expect("reading memory");
        assert_eq!(result.torn, 1);
    }
}
