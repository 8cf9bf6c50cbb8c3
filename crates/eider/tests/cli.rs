//! End-to-end tests of the `eider` binary: each test runs the real executable in a temporary
//! directory and snapshots its exit code, stdout and stderr.
//!
//! Runs use relative paths from the temporary directory where they can; where eider prints an
//! absolute path, the temporary directory is redacted to `[TEMP]`. Color is off (`NO_COLOR=1`)
//! except in the tests about color, and every `EIDER_*` variable of the caller is removed.
//!
//! Write new or changed snapshots with `INSTA_UPDATE=always cargo test -p eider --test cli`,
//! then read every changed `.snap` file before keeping it.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use assert_cmd::Command;
use tempfile::TempDir;

/// The workspace root, where `examples/` lives.
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The example directories, oldest version first.
const EXAMPLES: [&str; 7] = [
    "seed-draft",
    "v0.1.0",
    "v0.2.0",
    "v0.3.0",
    "v0.4.0",
    "v0.5.0",
    "v0.6.0",
];

/// Every variable that changes what eider does, so the caller's environment cannot leak in.
const EIDER_VARIABLES: [&str; 9] = [
    "EIDER_FILE",
    "EIDER_COLOR",
    "EIDER_JSON",
    "EIDER_PIPELINES",
    "EIDER_FORCE",
    "EIDER_SPEC_VERSION",
    "EIDER_UPGRADE_TO",
    "EIDER_DRY_RUN",
    "COLUMNS",
];

/// A valid Drakefile whose jobs and pipelines are written out of alphabetical order.
const UNSORTED: &str = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  test:
    primaryContainer:
      name: main
      image: busybox:1.36
      command: [\"echo\", \"test\"]
  build:
    primaryContainer:
      name: main
      image: busybox:1.36
      command: [\"echo\", \"build\"]
  Zeta:
    primaryContainer:
      name: main
      image: busybox:1.36
  alpha:
    primaryContainer:
      name: main
      image: busybox:1.36
pipelines:
  release:
    jobs:
    - name: build
    - name: test
      dependencies: [build]
  ci:
    jobs:
    - name: build
";

/// An invalid Drakefile with several kinds of problems, each on its own line.
const INVALID: &str = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  build:
    primaryContainer:
      name: main
      image: Busybox:1.36
      enviroment:
      - MODE=release
pipelines:
  ci:
    jobs:
    - name: test
    - name: build
      dependencies: [build]
";

/// A valid Drakefile that draws warnings.
const WITH_WARNINGS: &str = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  build:
    primaryContainer:
      name: main
      image: busybox:1.36
      environment:
      - MODE=debug
      - MODE=release
";

/// A seed-draft Drakefile as written in October 2019: comments, an anchor, command lines.
const SEED_DRAFT: &str = "\
# CI of the inventory service.
uri: github.com/lovethedrake/drakespec
version: v0.0.0
jobs:
  test:
    containers:
    - name: redis
      image: redis:5.0-alpine
    # The tests talk to redis on localhost.
    - &go
      name: go
      image: golang:1.13
      sourceMountPath: /src   # the project
      command: go test ./...
  build:
    containers:
    - <<: *go
      command: go build -o bin/inventory ./cmd/inventory
";

/// A temporary project directory.
struct Project {
    directory: TempDir,
}

impl Project {
    fn new() -> Self {
        Self {
            directory: tempfile::tempdir().expect("a temporary directory can be created"),
        }
    }

    /// A project whose `Drakefile.yaml` holds `text`.
    fn with_drakefile(text: &str) -> Self {
        let project = Self::new();
        project.write("Drakefile.yaml", text);
        project
    }

    fn path(&self) -> &Path {
        self.directory.path()
    }

    /// The text of a file of the project.
    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path().join(relative)).expect("the file can be read")
    }

    /// The names of the files in the project directory, sorted.
    fn file_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path())
            .expect("the project directory can be listed")
            .map(|entry| {
                entry
                    .expect("a directory entry can be read")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the parent directory can be created");
        }
        std::fs::write(&path, contents).expect("the file can be written");
        path
    }

    /// `eider` with `arguments`, run in `relative` below the project directory.
    fn eider_in(&self, relative: &str, arguments: &[&str]) -> Command {
        let mut command = eider(arguments);
        command.current_dir(self.path().join(relative));
        command
    }

    /// `eider` with `arguments`, run in the project directory.
    fn eider(&self, arguments: &[&str]) -> Command {
        self.eider_in("", arguments)
    }

    /// Insta settings that replace the project's absolute path with `[TEMP]`.
    fn redactions(&self) -> insta::Settings {
        let mut settings = insta::Settings::clone_current();
        let canonical = self
            .path()
            .canonicalize()
            .expect("the temporary directory exists");
        for path in [canonical.as_path(), self.path()] {
            settings.add_filter(&regex_escape(&path.to_string_lossy()), "[TEMP]");
        }
        settings
    }
}

/// `eider` with `arguments`, without color and without any `EIDER_*` variable of the caller.
fn eider(arguments: &[&str]) -> Command {
    let mut command = Command::cargo_bin("eider").expect("the eider binary is built");
    for variable in EIDER_VARIABLES {
        command.env_remove(variable);
    }
    command.env("NO_COLOR", "1").args(arguments);
    command
}

/// Escapes the characters that regular expressions treat specially.
fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(character) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

fn run(command: &mut Command) -> Output {
    command.output().expect("eider can be started")
}

fn exit_code(output: &Output) -> i32 {
    output
        .status
        .code()
        .expect("eider exits normally, not by a signal")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Exit code, stdout and stderr as one text to snapshot.
fn transcript(output: &Output) -> String {
    format!(
        "exit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        exit_code(output),
        stdout(output),
        stderr(output)
    )
}

fn parse_json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

#[test]
fn validate_accepts_every_example_without_warnings() {
    let mut lines = String::new();
    for example in EXAMPLES {
        let path = format!("examples/{example}/Drakefile.yaml");
        let output = run(eider(&["-f", &path, "validate"]).current_dir(WORKSPACE));
        assert_eq!(exit_code(&output), 0, "{path}:\n{}", transcript(&output));
        assert_eq!(stderr(&output), "", "{path} draws no warning");
        lines.push_str(&stdout(&output));
    }
    insta::assert_snapshot!(lines, @r"
    examples/seed-draft/Drakefile.yaml: OK (the DrakeSpec seed draft, 3 jobs, 1 pipeline)
    examples/v0.1.0/Drakefile.yaml: OK (DrakeSpec v0.1.0, 3 jobs, 1 pipeline)
    examples/v0.2.0/Drakefile.yaml: OK (DrakeSpec v0.2.0, 2 jobs, 1 pipeline)
    examples/v0.3.0/Drakefile.yaml: OK (DrakeSpec v0.3.0, 2 jobs, 1 pipeline)
    examples/v0.4.0/Drakefile.yaml: OK (DrakeSpec v0.4.0, 2 jobs, 1 pipeline)
    examples/v0.5.0/Drakefile.yaml: OK (DrakeSpec v0.5.0, 3 jobs, 1 pipeline)
    examples/v0.6.0/Drakefile.yaml: OK (DrakeSpec v0.6.0, 3 jobs, 1 pipeline)
    ");
}

#[test]
fn every_example_declares_the_version_of_its_directory() {
    for example in EXAMPLES {
        let path = format!("examples/{example}/Drakefile.yaml");
        let output = run(eider(&["-f", &path, "validate", "--json"]).current_dir(WORKSPACE));
        let outcome = parse_json(&output);
        let expected = if example == "seed-draft" {
            "v0.0.0"
        } else {
            example
        };
        assert_eq!(outcome["specVersion"], expected, "{path}");
        assert_eq!(outcome["diagnostics"], serde_json::json!([]), "{path}");
    }
}

#[test]
fn validate_prints_one_ok_line() {
    let project = Project::with_drakefile(UNSORTED);
    let output = run(&mut project.eider(&["validate"]));
    insta::assert_snapshot!(transcript(&output), @r"
    exit code: 0
    ----- stdout -----
    Drakefile.yaml: OK (DrakeSpec v0.6.0, 4 jobs, 2 pipelines)
    ----- stderr -----
    ");
}

#[test]
fn validate_shows_warnings_on_stderr_and_still_succeeds() {
    let project = Project::with_drakefile(WITH_WARNINGS);
    let output = run(&mut project.eider(&["validate"]));
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn validate_warns_about_trigger_configs_that_never_match_and_old_trigger_forms() {
    let project = Project::with_drakefile(
        "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  test:
    primaryContainer:
      name: node
      image: node:12.13-alpine
      command: [npm, test]
pipelines:
  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches:
            onyl: [master]
        checkSuiteRequest:
          branches: {}
    - specUri: github.com/lovethedrake/drakespec-brig
      specVersion: v1.0.0
      config:
        eventTypes: [test]
    jobs:
    - name: test
",
    );
    let output = run(&mut project.eider(&["validate"]));
    assert_eq!(exit_code(&output), 0, "{}", transcript(&output));
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn validate_names_a_pre_drakespec_file_and_every_place_to_convert() {
    let project = Project::with_drakefile(
        "\
version: v1.0.0
baseGoContainer: &go
  name: go
  image: golang:1.12
jobs:
  test:
    containers:
    - <<: *go
      command: go test ./...
pipelines:
  master:
    criteria:
      branches:
        only: [master]
    jobs:
    - name: test
",
    );
    let output = run(&mut project.eider(&["validate"]));
    assert_eq!(exit_code(&output), 2);
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn validate_renders_every_diagnostic_with_source_and_caret() {
    let project = Project::with_drakefile(INVALID);
    let output = run(&mut project.eider(&["validate"]));
    assert_eq!(exit_code(&output), 2);
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn validate_json_of_a_valid_file() {
    let project = Project::with_drakefile(WITH_WARNINGS);
    let output = run(&mut project.eider(&["validate", "--json"]));
    assert_eq!(exit_code(&output), 0);
    let outcome = parse_json(&output);
    assert_eq!(outcome["valid"], true);
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn validate_json_of_an_invalid_file() {
    let project = Project::with_drakefile(INVALID);
    let output = run(&mut project.eider(&["validate", "--json"]));
    assert_eq!(exit_code(&output), 2);
    let outcome = parse_json(&output);
    assert_eq!(outcome["valid"], false);
    assert!(outcome.get("specVersion").is_none(), "no model, no version");
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn list_prints_job_names_sorted() {
    let project = Project::with_drakefile(UNSORTED);
    let output = run(&mut project.eider(&["list"]));
    insta::assert_snapshot!(transcript(&output), @r"
    exit code: 0
    ----- stdout -----
    Zeta
    alpha
    build
    test
    ----- stderr -----
    ");
}

#[test]
fn ls_p_prints_pipeline_names_sorted() {
    let project = Project::with_drakefile(UNSORTED);
    let output = run(&mut project.eider(&["ls", "-p"]));
    insta::assert_snapshot!(transcript(&output), @r"
    exit code: 0
    ----- stdout -----
    ci
    release
    ----- stderr -----
    ");
}

#[test]
fn list_json_prints_the_normalized_model() {
    let project = Project::with_drakefile(UNSORTED);
    let output = run(&mut project.eider(&["list", "--json"]));
    assert_eq!(exit_code(&output), 0);
    let model = parse_json(&output);
    assert_eq!(model["jobs"].as_array().map(Vec::len), Some(4));
    insta::assert_snapshot!(transcript(&output));
}

/// Each container says whether it is its job's primary: the last one, after the sidecars.
#[test]
fn list_json_marks_the_primary_container() {
    let project = Project::with_drakefile(
        "specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n  test:\n    \
         sidecarContainers:\n    - name: db\n      image: postgres\n    - name: cache\n      \
         image: redis\n    primaryContainer:\n      name: main\n      image: busybox\n",
    );
    let output = run(&mut project.eider(&["list", "--json"]));
    assert_eq!(exit_code(&output), 0);
    let model = parse_json(&output);
    let marks: Vec<(&str, bool)> = model["jobs"][0]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|container| {
            (
                container["name"].as_str().unwrap_or_default(),
                container["primary"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(marks, [("db", false), ("cache", false), ("main", true)]);
}

#[test]
fn list_of_an_invalid_file_fails_like_validate() {
    let project = Project::with_drakefile(INVALID);
    let list = run(&mut project.eider(&["list"]));
    let validate = run(&mut project.eider(&["validate"]));
    assert_eq!(exit_code(&list), 2);
    assert_eq!(stdout(&list), "", "nothing on stdout for an invalid file");
    assert_eq!(stderr(&list), stderr(&validate));
}

#[test]
fn the_drakefile_is_found_in_a_parent_directory() {
    let project = Project::with_drakefile(UNSORTED);
    std::fs::create_dir_all(project.path().join("src/nested"))
        .expect("the subdirectory can be created");
    let list = run(&mut project.eider_in("src/nested", &["list", "-p"]));
    let validate = run(&mut project.eider_in("src/nested", &["validate"]));
    project.redactions().bind(|| {
        insta::assert_snapshot!(format!("{}\n{}", transcript(&list), transcript(&validate)));
    });
}

/// Assumes no `Drakefile.yaml` in the system's temporary directory or above it.
#[test]
fn no_drakefile_anywhere_is_an_error() {
    let project = Project::new();
    let output = run(&mut project.eider(&["validate"]));
    assert_eq!(exit_code(&output), 2);
    project.redactions().bind(|| {
        insta::assert_snapshot!(transcript(&output));
    });
}

#[test]
fn file_that_does_not_exist() {
    let project = Project::new();
    let output = run(&mut project.eider(&["--file", "missing.yaml", "validate"]));
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn file_that_is_a_directory() {
    let project = Project::new();
    std::fs::create_dir(project.path().join("config")).expect("the directory can be created");
    let output = run(&mut project.eider(&["--file", "config", "validate"]));
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn file_that_is_binary() {
    let project = Project::new();
    project.write("Drakefile.yaml", b"specUri: x\n\0\x01\x02\xff\xfe binary");
    let output = run(&mut project.eider(&["-f", "Drakefile.yaml", "list"]));
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn file_that_is_not_utf8() {
    let project = Project::new();
    project.write("Drakefile.yaml", b"specUri: caf\xe9\n");
    let output = run(&mut project.eider(&["validate"]));
    project.redactions().bind(|| {
        insta::assert_snapshot!(transcript(&output));
    });
}

#[test]
fn file_that_is_empty() {
    let project = Project::with_drakefile("");
    let output = run(&mut project.eider(&["-f", "Drakefile.yaml", "validate"]));
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn init_writes_a_valid_drakefile_and_does_not_overwrite_it() {
    let project = Project::new();
    let first = run(&mut project.eider(&["init"]));
    let validate = run(&mut project.eider(&["validate"]));
    let list = run(&mut project.eider(&["list"]));
    let written = std::fs::read_to_string(project.path().join("Drakefile.yaml"))
        .expect("init wrote Drakefile.yaml");

    project.write("Drakefile.yaml", "# mine\n");
    let again = run(&mut project.eider(&["init"]));
    let kept = std::fs::read_to_string(project.path().join("Drakefile.yaml"))
        .expect("the file is still there");
    assert_eq!(
        kept, "# mine\n",
        "init without --force keeps the existing file"
    );

    let forced = run(&mut project.eider(&["init", "--force"]));
    let replaced = std::fs::read_to_string(project.path().join("Drakefile.yaml"))
        .expect("the file is still there");
    assert_eq!(replaced, written, "init --force writes the starter again");

    assert_eq!(exit_code(&first), 0);
    assert_eq!(exit_code(&validate), 0, "{}", transcript(&validate));
    assert_eq!(
        stderr(&validate),
        "",
        "the starter Drakefile draws no warning"
    );
    assert_eq!(exit_code(&again), 2);
    assert_eq!(exit_code(&forced), 0);
    project.redactions().bind(|| {
        insta::assert_snapshot!(
            [&first, &validate, &list, &again, &forced]
                .into_iter()
                .map(transcript)
                .collect::<Vec<_>>()
                .join("\n")
        );
    });
}

#[test]
fn init_with_file_writes_there() {
    let project = Project::new();
    let output = run(&mut project.eider(&["-f", "ci.yaml", "init"]));
    assert_eq!(exit_code(&output), 0, "{}", transcript(&output));
    let validate = run(&mut project.eider(&["-f", "ci.yaml", "validate"]));
    insta::assert_snapshot!(format!("{}\n{}", transcript(&output), transcript(&validate)), @r"
    exit code: 0
    ----- stdout -----
    ----- stderr -----
    wrote ci.yaml; next: `eider validate` and `eider list`

    exit code: 0
    ----- stdout -----
    ci.yaml: OK (DrakeSpec v0.6.0, 2 jobs, 1 pipeline)
    ----- stderr -----
    ");
}

#[test]
fn schema_prints_json_for_the_latest_and_for_older_versions() {
    let latest = run(&mut eider(&["schema"]));
    assert_eq!(exit_code(&latest), 0, "{}", transcript(&latest));
    let latest_schema = parse_json(&latest);
    let latest_text = latest_schema.to_string();
    assert!(
        latest_text.contains("cpuArch"),
        "the latest schema has cpuArch"
    );

    let older = run(&mut eider(&["schema", "--version", "v0.1.0"]));
    assert_eq!(exit_code(&older), 0, "{}", transcript(&older));
    let older_text = parse_json(&older).to_string();
    assert!(older_text.contains("containers"), "v0.1.0 has containers");
    assert!(
        !older_text.contains("primaryContainer"),
        "v0.1.0 has no primaryContainer"
    );
    assert!(!older_text.contains("cpuArch"), "v0.1.0 has no cpuArch");

    for version in ["v0.0.0", "v0.2.0", "v0.3.0", "v0.4.0", "v0.5.0", "v0.6.0"] {
        let output = run(&mut eider(&["schema", "--version", version]));
        assert_eq!(exit_code(&output), 0, "{version}: {}", transcript(&output));
        parse_json(&output);
    }
    assert_eq!(
        stdout(&run(&mut eider(&["schema", "--version", "v0.6.0"]))),
        stdout(&latest)
    );
}

#[test]
fn schema_of_an_unknown_version_is_a_usage_error() {
    let output = run(&mut eider(&["schema", "--version", "v0.7.0"]));
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn version_lists_the_drakespec_versions() {
    let output = run(&mut eider(&["--version"]));
    assert_eq!(exit_code(&output), 0);
    let text = stdout(&output);
    for version in [
        "v0.0.0", "v0.1.0", "v0.2.0", "v0.3.0", "v0.4.0", "v0.5.0", "v0.6.0",
    ] {
        assert!(text.contains(version), "--version names {version}:\n{text}");
    }
    let mut settings = insta::Settings::clone_current();
    // Only eider's own version changes with releases; the DrakeSpec versions are the contract.
    settings.add_filter(
        &format!("(?m)^eider {}$", regex_escape(env!("CARGO_PKG_VERSION"))),
        "eider [VERSION]",
    );
    settings.bind(|| insta::assert_snapshot!(transcript(&output)));
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let output = run(&mut eider(&["frobnicate"]));
    assert_eq!(exit_code(&output), 2);
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn a_missing_subcommand_is_a_usage_error() {
    let output = run(&mut eider(&[]));
    assert_eq!(exit_code(&output), 2);
    assert_eq!(stdout(&output), "");
}

/// `eider list | head -1`: the reader goes away long before eider has written everything.
#[test]
fn a_closed_stdout_ends_quietly() {
    let mut text =
        String::from("specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n");
    // Far more output than a pipe buffers, so eider is still writing when the reader is gone.
    for index in 0..20_000 {
        writeln!(
            text,
            "  job-with-a-rather-long-name-{index:05}:\n    primaryContainer: {{name: main, image: busybox}}"
        )
        .expect("writing to a String cannot fail");
    }
    let project = Project::with_drakefile(&text);
    for arguments in [&["list"][..], &["list", "--json"][..]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_eider"))
            .args(arguments)
            .current_dir(project.path())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("eider can be started");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut first_line = String::new();
        reader
            .read_line(&mut first_line)
            .expect("eider writes a first line");
        drop(reader);
        let output = child.wait_with_output().expect("eider finishes");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !first_line.is_empty(),
            "{arguments:?}: a first line arrived"
        );
        assert!(
            !stderr.contains("panicked"),
            "{arguments:?} panicked:\n{stderr}"
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{arguments:?}: exits 0 on a closed pipe:\n{stderr}"
        );
        assert_eq!(
            stderr, "",
            "{arguments:?}: nothing to say about a closed pipe"
        );
    }
}

#[test]
fn color_always_colors_diagnostics() {
    let project = Project::with_drakefile(INVALID);
    let output = run(project
        .eider(&["--color", "always", "validate"])
        .env_remove("NO_COLOR"));
    assert_eq!(exit_code(&output), 2);
    assert!(
        stderr(&output).contains("\u{1b}["),
        "ANSI escapes with --color always:\n{}",
        stderr(&output)
    );
    assert!(
        !stdout(&output).contains('\u{1b}'),
        "stdout carries no color"
    );
}

#[test]
fn color_always_wins_over_no_color() {
    let project = Project::with_drakefile(INVALID);
    let output = run(&mut project.eider(&["--color", "always", "validate"]));
    assert!(
        stderr(&output).contains("\u{1b}["),
        "an explicit --color always is obeyed"
    );
}

#[test]
fn no_color_with_color_auto_has_no_escapes() {
    let project = Project::with_drakefile(INVALID);
    for arguments in [&["--color", "auto", "validate"][..], &["validate"][..]] {
        let output = run(&mut project.eider(arguments));
        assert_eq!(exit_code(&output), 2);
        assert!(
            !stderr(&output).contains('\u{1b}'),
            "{arguments:?}: no ANSI escapes:\n{}",
            stderr(&output)
        );
    }
    let output = run(project
        .eider(&["--color", "never", "validate"])
        .env_remove("NO_COLOR"));
    assert!(
        !stderr(&output).contains('\u{1b}'),
        "--color never: no ANSI escapes"
    );
}

#[test]
fn eider_file_variable_selects_the_drakefile() {
    let project = Project::new();
    project.write("elsewhere/ci.yaml", UNSORTED);
    let output = run(project
        .eider(&["ls", "-p"])
        .env("EIDER_FILE", "elsewhere/ci.yaml"));
    insta::assert_snapshot!(transcript(&output), @r"
    exit code: 0
    ----- stdout -----
    ci
    release
    ----- stderr -----
    ");
}

/// A Drakefile whose diagnostics quote what the user must copy: code spans with spaces, paths,
/// a URL, and `command` lists suggested from strings.
const COPYABLE_HINTS: &str = "\
specUri: github.com/lovethedrake/drakespec-with-a-very-long-suffix
specVersion: v0.5.0
jobs:
  test:
    primaryContainer:
      name: main
      image: golang:1.22
      command: go test -race -covermode=atomic -coverprofile=coverage.out ./cmd/... ./internal/...
      args: curl -fsSL https://example.com/lovethedrake/drakespec/releases/download/v0.6.0/install.sh
      environment:
      - GOFLAGS: -race -covermode=atomic -coverpkg=./cmd/...,./internal/...
";

#[test]
fn a_wrapped_hint_never_breaks_inside_a_code_span_a_path_or_a_url() {
    let project = Project::with_drakefile(COPYABLE_HINTS);
    let copyable = [
        "`github.com/lovethedrake/drakespec-with-a-very-long-suffix`",
        "`- GOFLAGS=-race -covermode=atomic -coverpkg=./cmd/...,./internal/...`",
        r#"`["go", "test", "-race", "-covermode=atomic", "-coverprofile=coverage.out", "./cmd/...", "./internal/..."]`"#,
        r#"`["curl", "-fsSL", "https://example.com/lovethedrake/drakespec/releases/download/v0.6.0/install.sh"]`"#,
    ];
    for color in ["never", "always"] {
        for columns in ["30", "60", "100"] {
            let output = run(project
                .eider(&["--color", color, "validate"])
                .env("COLUMNS", columns));
            assert_eq!(exit_code(&output), 2);
            let stderr = stderr(&output);
            for text in copyable {
                assert!(
                    stderr.contains(text),
                    "--color {color}, COLUMNS={columns}: {text} is not whole on one line:\n{stderr}"
                );
            }
        }
    }
}

#[test]
fn columns_sets_the_width_of_diagnostics_even_when_piped() {
    let project = Project::with_drakefile(COPYABLE_HINTS);
    let output = run(project.eider(&["validate"]).env("COLUMNS", "30"));
    let stderr = stderr(&output);
    assert!(
        stderr.contains("  help: write it as a list:\n"),
        "the prose before a long list wraps at 30 columns:\n{stderr}"
    );
    assert!(
        !stderr.contains("expected a list of strings, found a string"),
        "a message wider than 30 columns wraps:\n{stderr}"
    );
}

#[test]
fn completions_print_the_checked_in_script_of_each_shell() {
    for (shell, file) in [
        ("bash", "eider.bash"),
        ("elvish", "eider.elv"),
        ("fish", "eider.fish"),
        ("powershell", "_eider.ps1"),
        ("zsh", "_eider"),
    ] {
        let output = run(&mut eider(&["completions", shell]));
        assert_eq!(exit_code(&output), 0, "{shell}:\n{}", transcript(&output));
        assert_eq!(stderr(&output), "", "{shell}: nothing on stderr");
        let checked_in = std::fs::read_to_string(format!("{WORKSPACE}/docs/completions/{file}"))
            .expect("the completion script is checked in");
        assert!(
            stdout(&output) == checked_in,
            "`eider completions {shell}` differs from docs/completions/{file}"
        );
    }
}

#[test]
fn completions_for_bash_load_in_bash_and_complete_subcommands_and_flags() {
    let script = r#"source <("$EIDER" completions bash) || exit 1
complete -p eider || exit 1
COMP_WORDS=(eider ru); COMP_CWORD=1; _eider eider ru eider
echo "subcommands: ${COMPREPLY[*]}"
COMP_WORDS=(eider run --grace); COMP_CWORD=2; _eider eider --grace run
echo "flags: ${COMPREPLY[*]}"
"#;
    let output = run(Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script])
        .env("EIDER", env!("CARGO_BIN_EXE_eider")));
    insta::assert_snapshot!(transcript(&output), @r"
    exit code: 0
    ----- stdout -----
    complete -o bashdefault -o default -o nosort -F _eider eider
    subcommands: run
    flags: --grace-period
    ----- stderr -----
    ");
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    let output = run(&mut eider(&["completions", "nushell"]));
    insta::assert_snapshot!(transcript(&output), @r"
    exit code: 2
    ----- stdout -----
    ----- stderr -----
    error: invalid value 'nushell' for '<SHELL>'
      [possible values: bash, elvish, fish, powershell, zsh]

    For more information, try '--help'.
    ");
}

#[test]
fn help_lists_every_command() {
    let output = run(&mut eider(&["--help"]));
    assert_eq!(exit_code(&output), 0);
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn upgrade_help_names_its_flags_and_their_variables() {
    let output = run(&mut eider(&["upgrade", "--help"]));
    assert_eq!(exit_code(&output), 0);
    insta::assert_snapshot!(transcript(&output));
}

#[cfg(unix)]
#[test]
fn upgrade_rewrites_the_drakefile_in_place_keeping_its_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let project = Project::with_drakefile(SEED_DRAFT);
    let path = project.path().join("Drakefile.yaml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640))
        .expect("the mode can be set");
    let output = run(&mut project.eider(&["upgrade"]));
    assert_eq!(exit_code(&output), 0, "{}", transcript(&output));
    let mode = std::fs::metadata(&path)
        .expect("the Drakefile is there")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640, "the file keeps its mode");
    assert_eq!(
        project.file_names(),
        ["Drakefile.yaml"],
        "no temporary file is left"
    );
    let validate = run(&mut project.eider(&["validate"]));
    assert_eq!(exit_code(&validate), 0, "{}", transcript(&validate));
    insta::assert_snapshot!(format!(
        "{}----- Drakefile.yaml -----\n{}",
        transcript(&output),
        project.read("Drakefile.yaml")
    ));
}

#[test]
fn upgrade_dry_run_prints_a_diff_and_writes_nothing() {
    let project = Project::with_drakefile(SEED_DRAFT);
    let output = run(&mut project.eider(&["upgrade", "--dry-run", "--to", "v0.2.0"]));
    assert_eq!(exit_code(&output), 0, "{}", transcript(&output));
    assert_eq!(
        project.read("Drakefile.yaml"),
        SEED_DRAFT,
        "nothing is written"
    );
    assert_eq!(project.file_names(), ["Drakefile.yaml"]);
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn upgrade_to_a_version_stops_there() {
    let project = Project::new();
    project.write("ci/Drakefile.yaml", SEED_DRAFT);
    let output = run(project
        .eider(&["-f", "ci/Drakefile.yaml", "upgrade"])
        .env("EIDER_UPGRADE_TO", "v0.1.0"));
    assert_eq!(exit_code(&output), 0, "{}", transcript(&output));
    let validate = run(&mut project.eider(&["-f", "ci/Drakefile.yaml", "validate"]));
    insta::assert_snapshot!(stdout(&validate), @"ci/Drakefile.yaml: OK (DrakeSpec v0.1.0, 2 jobs, 0 pipelines)");
    let written = project.read("ci/Drakefile.yaml");
    assert!(
        written.contains("    containers:\n"),
        "v0.1.0 still lists `containers`:\n{written}"
    );
    assert!(
        written.contains("command: [\"go\", \"test\", \"./...\"]"),
        "{written}"
    );
}

#[test]
fn upgrade_that_cannot_be_faithful_exits_2_and_writes_nothing() {
    let text = format!(
        "{SEED_DRAFT}  nothing:\n    containers: []\npipelines:\n  ci:\n    triggers:\n    - on: push\n    jobs:\n    - name: test\n"
    );
    let project = Project::with_drakefile(&text);
    let output = run(&mut project.eider(&["upgrade"]));
    assert_eq!(exit_code(&output), 2);
    assert_eq!(project.read("Drakefile.yaml"), text, "nothing is written");
    assert_eq!(project.file_names(), ["Drakefile.yaml"]);
    insta::assert_snapshot!(transcript(&output));
}

#[test]
fn upgrade_of_a_file_at_the_target_says_so_and_writes_nothing() {
    let project = Project::with_drakefile(UNSORTED);
    let before = std::fs::metadata(project.path().join("Drakefile.yaml")).expect("metadata");
    let output = run(&mut project.eider(&["upgrade"]));
    let after = std::fs::metadata(project.path().join("Drakefile.yaml")).expect("metadata");
    assert_eq!(
        before.modified().expect("a modification time"),
        after.modified().expect("a modification time"),
        "the file is not rewritten"
    );
    insta::assert_snapshot!(transcript(&output), @r"
    exit code: 0
    ----- stdout -----
    ----- stderr -----
    Drakefile.yaml already follows DrakeSpec v0.6.0: nothing to upgrade
    ");
}

#[test]
fn upgrade_to_an_older_version_is_refused() {
    let project = Project::with_drakefile(UNSORTED);
    let output = run(&mut project.eider(&["upgrade", "--to", "v0.2.0"]));
    assert_eq!(
        project.read("Drakefile.yaml"),
        UNSORTED,
        "nothing is written"
    );
    insta::assert_snapshot!(transcript(&output), @r"
    exit code: 2
    ----- stdout -----
    ----- stderr -----
    error: Drakefile.yaml declares v0.6.0, which is newer than v0.2.0; an upgrade never goes back
    hint: `--to` takes v0.6.0 or a newer version
    ");
}

/// Reading a Drakefile drops its byte-order mark; rewriting it must not.
#[test]
fn upgrade_keeps_a_byte_order_mark() {
    let project = Project::new();
    project.write(
        "Drakefile.yaml",
        format!("\u{feff}{}", SEED_DRAFT.replace('\n', "\r\n")),
    );
    let output = run(&mut project.eider(&["upgrade"]));
    assert_eq!(exit_code(&output), 0, "{}", transcript(&output));
    let written = project.read("Drakefile.yaml");
    assert!(
        written.starts_with("\u{feff}# CI of the inventory service.\r\nspecUri: "),
        "{written:?}"
    );
    assert!(
        !written.replace("\r\n", "").contains('\n'),
        "every line ends in CRLF: {written:?}"
    );
}
