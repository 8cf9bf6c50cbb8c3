//! Job output under stress, against the real Docker Engine: lines of a mebibyte of arbitrary
//! bytes, bursts from several containers at once, invalid UTF-8 and NUL bytes, the log limit
//! (`--log-limit`), and eider's memory while a job prints hundreds of megabytes.
//!
//! `run_jobs.rs` covers a 1 MiB line of one repeated character and a 100,000-line burst from one
//! container; these tests go further (every byte value, both streams, a terminal, concurrent
//! containers) without repeating them.

mod support;

use std::fmt::Write as _;
use std::process::{Command, Output, Stdio};

use support::proxy::RecordingProxy;
use support::{BUSYBOX, Project, assert_no_leftovers, drakefile, sh, terminal_job, unique};

/// Turns a hang (a pipe that blocks, a stream never ended) into a failed run.
const GUARD_TIMEOUT: &str = "300s";

/// A deterministic sequence of `length` bytes of every value but `\n` (so one line), many of
/// them invalid UTF-8, NUL bytes and carriage returns included.
fn arbitrary_line(length: usize) -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    (0..length)
        .map(|_| {
            // xorshift32: cheap, reproducible, every byte value.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            match state.to_le_bytes()[0] {
                b'\n' => 0,
                // A terminal turns "\r\n" into "\n", so no "\r" may end the line.
                b'\r' => 0xff,
                byte => byte,
            }
        })
        .collect()
}

/// `eider run ARGS...` with raw output (bytes, not text).
fn run_raw(project: &Project, arguments: &[&str]) -> Output {
    project
        .eider()
        .arg("run")
        .args(arguments)
        .output()
        .expect("run eider")
}

#[track_caller]
fn assert_code(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "unexpected exit code\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The lines of `stream` that start with `prefix`, without it (each without its `\n`).
fn lines_with_prefix<'a>(stream: &'a [u8], prefix: &str) -> Vec<&'a [u8]> {
    stream
        .split(|byte| *byte == b'\n')
        .filter_map(|line| line.strip_prefix(prefix.as_bytes()))
        .collect()
}

fn text_run(output: &Output) -> support::Run {
    support::Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Byte-exact output

/// Prints `payload` (a file of the source) on stdout and stderr, from a container with a
/// terminal or without, and checks every byte that comes back.
fn assert_payload_passes_through(name_prefix: &str, payload: &[u8], terminal: bool) {
    let name = unique(name_prefix);
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /src
      tty: {terminal}
      command: {}
",
        sh("cat /src/payload; echo; cat /src/payload >&2; echo >&2")
    )));
    std::fs::write(project.path().join("payload"), payload).expect("write the payload");
    let output = run_raw(&project, &["--timeout", GUARD_TIMEOUT, &name]);
    assert_code(&output, 0);

    let mut line = format!("[{name}/main] ").into_bytes();
    line.extend_from_slice(payload);
    line.push(b'\n');
    // A terminal merges stderr into stdout: the payload arrives twice there.
    let (stdout, stderr_lines) = if terminal {
        (line.repeat(2), 0)
    } else {
        (line.clone(), 1)
    };
    let first_difference = output
        .stdout
        .iter()
        .zip(&stdout)
        .position(|(found, expected)| found != expected);
    assert!(
        output.stdout == stdout,
        "stdout altered: {} bytes, expected {}; first difference at {first_difference:?}",
        output.stdout.len(),
        stdout.len()
    );
    let found = output
        .stderr
        .windows(line.len())
        .filter(|window| *window == line.as_slice())
        .count();
    assert_eq!(found, stderr_lines, "the payload lines on stderr");
    assert_no_leftovers(&text_run(&output));
}

#[test]
fn a_mebibyte_line_of_arbitrary_bytes_arrives_byte_exact_on_both_streams() {
    assert_payload_passes_through("mebibyte-bytes", &arbitrary_line(1 << 20), false);
}

#[test]
fn a_mebibyte_line_of_arbitrary_bytes_arrives_byte_exact_through_a_terminal() {
    let mut line = arbitrary_line(1 << 20);
    // The first read of the output then starts like the header of a multiplexed frame, whatever
    // the sizes of the reads after it.
    line[0] = 1;
    assert_payload_passes_through("mebibyte-bytes-tty", &line, true);
}

/// NUL first and last, lone continuation bytes, a truncated sequence, overlong encodings, a
/// surrogate, bytes never valid in UTF-8.
const INVALID_UTF8: &[u8] = b"\x00start\xff\xfe\x80\xbf mid\x00dle \xc3 \xe2\x82 \xc0\xaf \xed\xa0\x80 \xf8\x88\x80\x80\x80 end\x00";

#[test]
fn invalid_utf8_and_nul_bytes_pass_through_byte_exact() {
    assert_payload_passes_through("invalid-utf8", INVALID_UTF8, false);
}

#[test]
fn invalid_utf8_passes_through_a_terminal_byte_exact() {
    assert_payload_passes_through("invalid-utf8-tty", INVALID_UTF8, true);
}

/// Runs a terminal job whose output comes in pieces that each start with byte 0, 1 or 2 (the
/// pauses put each in a read of its own), on the engine at `docker_host` when given, and checks
/// that eider prints every byte: a terminal's output is raw, never taken for the header of a
/// multiplexed frame (which would drop 8 bytes and wait for a length read from the output).
fn assert_frame_like_terminal_output_passes_through(name_prefix: &str, docker_host: Option<&str>) {
    const ROUNDS: usize = 10;
    let name = unique(name_prefix);
    let project = Project::new(&drakefile(&terminal_job(
        &name,
        &format!(
            "for i in $(seq {ROUNDS}); do printf '\\001abc'; sleep 0.05; \
             printf '\\000\\002xyz\\n'; sleep 0.05; printf '\\002\\001\\000\\n'; sleep 0.05; done"
        ),
    )));
    let mut eider = project.eider();
    if let Some(host) = docker_host {
        eider.env("DOCKER_HOST", host);
    }
    let output = eider
        .args(["run", "--timeout", GUARD_TIMEOUT, &name])
        .output()
        .expect("run eider");
    assert_code(&output, 0);
    let prefix = format!("[{name}/main] ");
    let expected = [&b"\x01abc\x00\x02xyz"[..], b"\x02\x01\x00"].repeat(ROUNDS);
    assert_eq!(
        lines_with_prefix(&output.stdout, &prefix),
        expected,
        "terminal output altered"
    );
    assert_no_leftovers(&text_run(&output));
}

#[test]
fn terminal_output_whose_reads_start_with_bytes_0_1_and_2_arrives_byte_exact() {
    assert_frame_like_terminal_output_passes_through("frame-like-tty", None);
}

#[test]
fn terminal_output_whose_reads_start_with_bytes_0_1_and_2_arrives_byte_exact_over_tcp() {
    let proxy = RecordingProxy::start_tcp();
    assert_frame_like_terminal_output_passes_through(
        "frame-like-tty-tcp",
        Some(&proxy.docker_host()),
    );
    let attached = proxy
        .requests()
        .iter()
        .filter(|request| request.method == "POST" && request.target.contains("/attach?"))
        .count();
    assert_eq!(attached, 1, "attach requests through the TCP endpoint");
}

#[test]
fn bursts_of_100000_lines_from_two_containers_and_both_streams_arrive_whole_and_in_order() {
    const COUNT: usize = 100_000;
    let name = unique("burst-two");
    // Both containers write to both streams at once; the primary waits for the sidecar's bursts
    // to end (a file in shared storage) so that all four are complete when the job ends.
    let burst = |who: &str| {
        format!(
            "seq {COUNT} | sed 's/^/{who} out /' & seq {COUNT} | sed 's/^/{who} err /' >&2; wait"
        )
    };
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    sidecarContainers:
    - name: side
      image: {BUSYBOX}
      sharedStorageMountPath: /shared
      command: {}
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sharedStorageMountPath: /shared
      command: {}
",
        sh(&format!(
            "{}; touch /shared/done; exec sleep 1000",
            burst("side")
        )),
        sh(&format!(
            "{}; until [ -e /shared/done ]; do sleep 0.05; done",
            burst("main")
        )),
    )));
    let output = run_raw(&project, &["--timeout", GUARD_TIMEOUT, &name]);
    assert_code(&output, 0);
    for container in ["main", "side"] {
        let prefix = format!("[{name}/{container}] ");
        for (stream, kind) in [(&output.stdout, "out"), (&output.stderr, "err")] {
            let received = lines_with_prefix(stream, &prefix);
            let expected: Vec<Vec<u8>> = (1..=COUNT)
                .map(|number| format!("{container} {kind} {number}").into_bytes())
                .collect();
            assert_eq!(received.len(), COUNT, "{container} {kind}: number of lines");
            assert!(
                received
                    .iter()
                    .zip(&expected)
                    .all(|(got, want)| got == want),
                "{container} {kind}: lines lost, torn, mixed or reordered"
            );
        }
    }
    assert_eq!(
        output.stdout.split(|byte| *byte == b'\n').count(),
        2 * COUNT + 1,
        "stray lines on stdout"
    );
    assert_no_leftovers(&text_run(&output));
}

// ---------------------------------------------------------------------------------------------
// The log limit

/// The notice a job gets once its output reached a limit of `limit`.
fn notice(job: &str, container: &str, limit: &str) -> String {
    format!(
        "[{job}/{container}] eider: log limit of {limit} reached; the rest of the job's output is \
         discarded"
    )
}

/// Every line of job `name` printed is whole, masked (`***`) and part of an unbroken sequence
/// from the start of what its container printed on that stream (`CONTAINER *** N`); all together
/// they stay within `limit` bytes, and less than one line short of it.
#[track_caller]
fn assert_whole_masked_lines_within(output: &Output, name: &str, limit: usize) {
    let mut printed = 0;
    let mut longest = 0;
    for container in ["main", "side"] {
        let prefix = format!("[{name}/{container}] ");
        for stream in [&output.stdout, &output.stderr] {
            let lines: Vec<&[u8]> = lines_with_prefix(stream, &prefix)
                .into_iter()
                .filter(|line| !line.starts_with(b"eider: log limit"))
                .collect();
            for (index, line) in lines.iter().enumerate() {
                let expected = format!("{container} *** {}", index + 1);
                assert_eq!(String::from_utf8_lossy(line), expected, "torn or altered");
                printed += line.len() + 1;
                longest = longest.max(line.len() + 1);
            }
        }
    }
    assert!(
        printed <= limit,
        "{printed} bytes printed past a limit of {limit}"
    );
    // The line that crossed the limit was dropped whole: less than one line short of it.
    assert!(printed > limit - longest, "only {printed} bytes printed");
}

/// The JSON report says the job reached the log limit (and still gives its exit code); the
/// JUnit report's output ends with the notice, once, and holds no secret.
#[track_caller]
fn assert_reports_note_the_limit(json: &std::path::Path, junit: &std::path::Path, secret: &str) {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(json).expect("the JSON report")).expect("valid JSON");
    assert_eq!(report["runs"][0]["jobs"][0]["logLimitReached"], true);
    assert_eq!(report["runs"][0]["jobs"][0]["exitCode"], 3);
    let junit = std::fs::read_to_string(junit).expect("the JUnit report");
    assert_eq!(
        junit.matches("eider: log limit of 64 KiB reached").count(),
        1
    );
    assert!(!junit.contains(secret));
}

#[test]
fn past_the_log_limit_output_stops_at_a_line_end_with_one_notice_and_the_job_runs_to_its_end() {
    const LINES: usize = 20_000;
    const LIMIT: usize = 64 * 1024;
    let name = unique("log-limit");
    let secret = "s3cret-in-every-line-5521";
    // Both containers print far more than the limit, on both streams, every line carrying the
    // secret; the primary then records that it got to its end and fails with 3.
    let print = |who: &str| {
        format!(
            "seq {LINES} | sed \"s/^/{who} $TOKEN /\" & seq {LINES} | sed \"s/^/{who} $TOKEN /\" >&2; wait"
        )
    };
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    sidecarContainers:
    - name: side
      image: {BUSYBOX}
      sharedStorageMountPath: /shared
      command: {}
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sharedStorageMountPath: /shared
      command: {}
",
        sh(&format!(
            "{}; touch /shared/side-done; exec sleep 1000",
            print("side")
        )),
        sh(&format!(
            "{}; until [ -e /shared/side-done ]; do sleep 0.05; done; \
             echo finished > /shared/status; echo after the limit; exit 3",
            print("main")
        )),
    )));
    project.write("Drakesecrets.yaml", &format!("TOKEN: {secret}\n"));
    let kept = tempfile::tempdir().expect("temporary directory");
    let kept_shared = kept.path().join("shared");
    let json = kept.path().join("report.json");
    let junit = kept.path().join("report.xml");
    let output = run_raw(
        &project,
        &[
            "--timeout",
            GUARD_TIMEOUT,
            "--log-limit",
            "64k",
            "--keep-shared",
            kept_shared.to_str().expect("UTF-8 path"),
            "--report",
            &format!("json={}", json.display()),
            "--report",
            &format!("junit={}", junit.display()),
            &name,
        ],
    );
    assert_code(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("container `main` exited with code 3"),
        "{stderr}"
    );
    // The job ran to its end although its output was discarded.
    assert_eq!(
        std::fs::read_to_string(kept_shared.join("status")).expect("the job's status file"),
        "finished\n"
    );

    let notices: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("eider: log limit"))
        .collect();
    assert_eq!(notices.len(), 1, "one notice: {notices:?}");
    assert!(
        [
            notice(&name, "main", "64 KiB"),
            notice(&name, "side", "64 KiB")
        ]
        .contains(&notices[0].to_owned()),
        "{}",
        notices[0]
    );
    // Nothing of the job after the notice.
    let after_notice = &stderr[stderr.find(notices[0]).expect("the notice") + notices[0].len()..];
    assert!(
        !after_notice.contains(&format!("[{name}/")),
        "{after_notice}"
    );
    assert!(!stderr.contains("after the limit") && !stderr.contains(secret));

    assert_whole_masked_lines_within(&output, &name, LIMIT);
    assert!(
        !output
            .stdout
            .windows(secret.len())
            .any(|window| window == secret.as_bytes())
    );

    assert_reports_note_the_limit(&json, &junit, secret);
    assert_no_leftovers(&text_run(&output));
}

#[test]
fn the_log_limit_can_come_from_the_config_file_and_none_lifts_it() {
    let name = unique("log-limit-config");
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      command: {}
",
        sh("seq 1000")
    )));
    let config = project.config_home().join("eider");
    std::fs::create_dir_all(&config).expect("config directory");
    std::fs::write(config.join("config.toml"), "[run]\nlog-limit = \"1KiB\"\n").expect("config");

    let limited = text_run(&run_raw(&project, &["--timeout", GUARD_TIMEOUT, &name]));
    limited.assert_code(0);
    let lines = limited.lines_of(&name, "main");
    let expected: Vec<String> = (1..=lines.len()).map(|n| n.to_string()).collect();
    assert_eq!(lines, expected);
    let bytes: usize = lines.iter().map(|line| line.len() + 1).sum();
    assert!(bytes <= 1024 && bytes > 1024 - 5, "{bytes} bytes printed");
    assert_eq!(
        limited
            .stderr
            .matches(&notice(&name, "main", "1 KiB"))
            .count(),
        1,
        "{}",
        limited.stderr
    );

    let lifted = text_run(&run_raw(
        &project,
        &["--timeout", GUARD_TIMEOUT, "--log-limit", "none", &name],
    ));
    lifted.assert_code(0);
    assert_eq!(lifted.lines_of(&name, "main").len(), 1000);
    assert!(!lifted.stderr.contains("log limit"), "{}", lifted.stderr);
    assert_no_leftovers(&limited);
    assert_no_leftovers(&lifted);
}

#[test]
fn an_invalid_log_limit_is_refused_naming_it() {
    let project = Project::new(&drakefile(&format!(
        "  job:\n    primaryContainer:\n      name: main\n      image: {BUSYBOX}\n"
    )));
    let run = text_run(&run_raw(&project, &["--log-limit", "4 apples", "job"]));
    run.assert_code(2);
    assert!(
        run.stderr.contains("`4 apples` is not a size"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Memory

/// eider's peak resident memory, from `/usr/bin/time -v` (Debian's `time`).
fn peak_resident_kibibytes(stderr: &str) -> u64 {
    stderr
        .lines()
        .rev()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak memory from /usr/bin/time -v in:\n{stderr}"))
}

/// Runs job `name` of `project` under `/usr/bin/time -v`, its stdout to `stdout`: what it wrote
/// on stderr, its exit code, and eider's peak resident memory in KiB.
fn run_measuring_peak_memory(project: &Project, name: &str, stdout: Stdio) -> (support::Run, u64) {
    let eider = project.eider();
    let mut command = Command::new("/usr/bin/time");
    command
        .arg("-v")
        .arg(eider.get_program())
        .arg("run")
        .args(["--timeout", GUARD_TIMEOUT, name])
        .current_dir(project.path())
        .stdin(Stdio::null())
        .stdout(stdout);
    for (key, value) in eider.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    let output = command.output().unwrap_or_else(|error| {
        panic!("/usr/bin/time: {error} (install Debian's `time`: scripts/test-env.sh)")
    });
    let run = text_run(&output);
    let peak = peak_resident_kibibytes(&run.stderr);
    eprintln!("eider's peak resident memory: {peak} KiB");
    (run, peak)
}

/// The first `head` and last `tail` bytes of the file at `path` (fewer when it is shorter).
fn file_ends(path: &std::path::Path, head: usize, tail: usize) -> (Vec<u8>, Vec<u8>) {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let mut file = std::fs::File::open(path).expect("open the output file");
    let mut start = Vec::new();
    (&mut file)
        .take(head as u64)
        .read_to_end(&mut start)
        .expect("read the output file");
    let length = file.metadata().expect("the output file's size").len();
    file.seek(SeekFrom::Start(length.saturating_sub(tail as u64)))
        .expect("seek in the output file");
    let mut end = Vec::new();
    file.read_to_end(&mut end).expect("read the output file");
    (start, end)
}

/// The most eider may hold while a job prints hundreds of megabytes.
const MOST_KIBIBYTES: u64 = 64 * 1024;

#[test]
fn eider_s_memory_stays_bounded_while_a_job_prints_200_megabytes() {
    const BYTES: usize = 200_000_000;
    let name = unique("memory");
    let mut script = String::new();
    // Lines of every length from 1 byte to 64 KiB, and one of 2 MiB, then plain text.
    let _ = write!(
        script,
        "(yes 0123456789abcdef | tr -d '\\n' | head -c 2097152; echo; \
         i=1; while [ $i -le 65536 ]; do head -c $i /dev/zero | tr '\\0' x; echo; i=$((i*2)); done; \
         yes 'the quick brown fox jumps over the lazy dog, again and again and again') \
         | head -c {BYTES}; echo; echo printed everything >&2"
    );
    let project = Project::new(&drakefile(&format!(
        "  {name}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      command: {}
",
        sh(&script)
    )));
    let (run, peak) = run_measuring_peak_memory(&project, &name, Stdio::null());
    run.assert_code(0);
    assert_eq!(
        run.error_lines_of(&name, "main"),
        ["printed everything"],
        "the job's last line, after 200 MB"
    );
    assert!(
        peak < MOST_KIBIBYTES,
        "eider peaked at {peak} KiB while a job printed {BYTES} bytes"
    );
    assert_no_leftovers(&run);
}

/// Terminal output that starts like the header of a multiplexed frame of 2 GiB is output as it
/// comes, never held until the container exits.
#[test]
fn eider_s_memory_stays_bounded_when_terminal_output_starts_like_a_huge_frame() {
    const BYTES: usize = 100_000_000;
    let name = unique("memory-tty");
    // Stream 1 (stdout), length 0x7fffffff; then 100 MB of lines and a last one.
    let script = format!(
        "printf '\\001\\000\\000\\000\\177\\377\\377\\377\\n'; \
         yes 'the quick brown fox jumps over the lazy dog' | head -c {BYTES}; echo; echo last line"
    );
    let project = Project::new(&drakefile(&terminal_job(&name, &script)));
    // On disk, in the project (removed with it); only its two ends are read back.
    let stdout_path = project.path().join("stdout");
    let stdout = std::fs::File::create(&stdout_path).expect("create the stdout file");
    let (run, peak) = run_measuring_peak_memory(&project, &name, stdout.into());
    run.assert_code(0);
    assert!(
        peak < MOST_KIBIBYTES,
        "eider peaked at {peak} KiB while a terminal job printed {BYTES} bytes"
    );
    let prefix = format!("[{name}/main] ");
    let mut first_line = prefix.clone().into_bytes();
    first_line.extend_from_slice(b"\x01\x00\x00\x00\x7f\xff\xff\xff\n");
    let last_line = format!("{prefix}last line\n").into_bytes();
    let (start, end) = file_ends(&stdout_path, first_line.len(), last_line.len());
    assert_eq!(
        String::from_utf8_lossy(&start),
        String::from_utf8_lossy(&first_line),
        "the first line"
    );
    assert_eq!(
        String::from_utf8_lossy(&end),
        String::from_utf8_lossy(&last_line),
        "the last line"
    );
    assert_no_leftovers(&run);
}
