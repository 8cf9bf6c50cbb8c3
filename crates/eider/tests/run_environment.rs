//! `eider run` against the real Docker Engine: what a container receives besides its command
//! (environment, secrets, source, shared storage, permissions) and what a job is refused.
//!
//! Needs the engine and images prepared by `scripts/test-env.sh`. Where a test must show what
//! eider asked of the engine, or that it asked nothing, eider talks to the engine through a
//! recording proxy (`support::proxy`) and the test reads the requests it sent.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::proxy::{RecordingProxy, parse_requests};
use support::{
    BUSYBOX, NO_COMMAND_IMAGE, Project, Run, assert_no_leftovers, events::ContainerEvents,
};

/// A project whose Drakefile is `text` with every `IMAGE` replaced by the test image (scripts
/// keep their `${...}` without format-string escapes).
fn project(text: &str) -> Project {
    Project::new(&text.replace("IMAGE", BUSYBOX))
}

/// Runs `eider run ARGUMENTS...` with extra variables in eider's environment and `removed`
/// taken out of it.
fn run_with(
    project: &Project,
    arguments: &[&str],
    variables: &[(&str, &str)],
    removed: &[&str],
) -> Run {
    let mut command = project.eider();
    command.arg("run").args(arguments);
    for (name, value) in variables {
        command.env(name, value);
    }
    for name in removed {
        command.env_remove(name);
    }
    Run::from(command.output().expect("run eider"))
}

/// Runs `eider run ARGUMENTS...` through `proxy`.
fn run_through(project: &Project, proxy: &RecordingProxy, arguments: &[&str]) -> Run {
    run_with(
        project,
        arguments,
        &[("DOCKER_HOST", &proxy.docker_host())],
        &[],
    )
}

/// The `NAME=VALUE` lines of `lines` whose name is one of `names`, in order.
fn variables_named(lines: &[String], names: &[&str]) -> Vec<String> {
    lines
        .iter()
        .filter(|line| {
            line.split_once('=')
                .is_some_and(|(name, _)| names.contains(&name))
        })
        .cloned()
        .collect()
}

/// The lines of stderr that eider itself wrote (not container output).
fn status_lines(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|line| !line.starts_with('['))
        .collect()
}

/// Asserts that eider wrote `line` as a whole line on stderr.
#[track_caller]
fn assert_stderr_line(run: &Run, line: &str) {
    assert!(
        run.stderr.lines().any(|written| written == line),
        "no line `{line}` in stderr:\n{}",
        run.stderr
    );
}

/// Asserts that `text` appears nowhere in eider's output.
#[track_caller]
fn assert_never_printed(run: &Run, text: &str) {
    assert!(
        !run.stdout.contains(text) && !run.stderr.contains(text),
        "`{text}` was printed\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

/// Asserts that `lines` are masks (or empty lines), at least one.
#[track_caller]
fn assert_only_masks(lines: &[String]) {
    assert!(
        !lines.is_empty() && lines.iter().all(|line| line == "***" || line.is_empty()),
        "{lines:?}"
    );
}

/// A job name no other test process uses, for engine-wide label filters.
fn unique_job_name(prefix: &str) -> String {
    format!("{prefix}-{}", std::process::id())
}

/// Asserts that the engine holds no container of job `job`, whatever its run.
#[track_caller]
fn assert_no_container_of_job(job: &str) {
    let filter = format!("label=eider.job={job}");
    let found = support::docker(&["ps", "-a", "-q", "--filter", &filter]);
    assert!(found.is_empty(), "containers of job {job}: {found:?}");
}

// ---------------------------------------------------------------------------------------------
// 1. The Drakefile's `environment`.

#[test]
fn drakefile_environment_splits_at_the_first_equals_sign_keeps_order_and_the_later_duplicate_wins()
{
    let project = project(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  listed:
    primaryContainer:
      name: main
      image: IMAGE
      environment: ["Z=first", "A=1=2", "B", "C=drake", "Z=wins"]
      command: ["env"]
  empty:
    primaryContainer:
      name: main
      image: IMAGE
      environment: ["B"]
      command: ["sh", "-c", '[ "${B+set}" = set ] && [ -z "$B" ] && echo B-set-and-empty']
  mapped:
    primaryContainer:
      name: main
      image: IMAGE
      environment:
        Z: "1=2"
        B: ""
        A: drake
      command: ["env"]
"#,
    );
    let run = project.run(&["listed", "empty", "mapped"]);
    run.assert_code(0);
    assert_eq!(
        variables_named(&run.lines_of("listed", "main"), &["A", "B", "C", "Z"]),
        ["Z=wins", "A=1=2", "B=", "C=drake"]
    );
    assert_eq!(run.lines_of("empty", "main"), ["B-set-and-empty"]);
    assert_eq!(
        variables_named(&run.lines_of("mapped", "main"), &["A", "B", "Z"]),
        ["Z=1=2", "B=", "A=drake"]
    );
    assert!(
        run.stderr
            .contains("`Z` is set twice; the later value wins"),
        "{}",
        run.stderr
    );
    assert_no_leftovers(&run);
}

#[test]
fn the_mapping_form_of_environment_is_refused_before_v0_6_0_and_nothing_runs() {
    let project = project(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.5.0
jobs:
  mapped:
    primaryContainer:
      name: main
      image: IMAGE
      environment:
        Z: "1=2"
      command: ["env"]
"#,
    );
    let proxy = RecordingProxy::start();
    let run = run_through(&project, &proxy, &["mapped"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("jobs.mapped.primaryContainer.environment"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("specVersion v0.6.0 only"),
        "{}",
        run.stderr
    );
    assert_stderr_line(
        &run,
        "error: Drakefile.yaml is invalid: 1 error; nothing was run",
    );
    assert_eq!(run.stdout, "");
    assert_eq!(proxy.connection_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// 2. Sources outside the Drakefile.

/// `listed` prints its environment; `checked` checks the values that output would mask.
const PRECEDENCE_DRAKEFILE: &str = r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  listed:
    primaryContainer:
      name: main
      image: IMAGE
      environment: ["ALL_SOURCES=drakefile-wins"]
      command: ["env"]
  checked:
    primaryContainer:
      name: main
      image: IMAGE
      command: ["sh", "-c"]
      args:
      - |
        [ "$ONLY_SECRET" = only-from-secrets ] || exit 11
        [ "$EXPANDED" = pre-expanded-value-post ] || exit 12
        [ -z "${NOT_IN_EIDER+set}" ] || exit 13
        echo all-checked
"#;

#[test]
fn secrets_env_files_and_arguments_merge_in_precedence_order_under_the_drakefile() {
    let project = project(PRECEDENCE_DRAKEFILE);
    project.write(
        "secrets.yaml",
        "ONLY_SECRET: only-from-secrets\n\
         SECRET_ENVFILE: secrets-loses-to-env-file\n\
         SECRET_ARG: secrets-loses-to-argument\n\
         ALL_SOURCES: secrets-loses-to-drakefile\n\
         EXPANDED: \"pre-${EIDER_TEST_EXPANDED}-post\"\n",
    );
    project.write(
        "first.env",
        "# comment\n\
         SECRET_ENVFILE=env-file-wins\n\
         FILE_ARG=env-file-loses-to-argument\n\
         \n\
         ALL_SOURCES=env-file-loses-to-drakefile\n\
         FILE_ONLY=\"quoted\"=kept\n\
         INHERITED_IN_FILE\n\
         FILE_ORDER=first\n",
    );
    project.write("second.env", "FILE_ORDER=second\n");
    let arguments = [
        "listed",
        "checked",
        "-s",
        "secrets.yaml",
        "--env-file",
        "first.env",
        "--env-file",
        "second.env",
        "-e",
        "SECRET_ARG=argument-wins",
        "-e",
        "FILE_ARG=argument-wins-over-file",
        "-e",
        "ALL_SOURCES=argument-loses-to-drakefile",
        "-e",
        "FROM_EIDER",
        "-e",
        "NOT_IN_EIDER",
        "-e",
        "ARG_TWICE=first",
        "-e",
        "ARG_TWICE=second",
    ];
    let run = run_with(
        &project,
        &arguments,
        &[
            ("EIDER_TEST_EXPANDED", "expanded-value"),
            ("INHERITED_IN_FILE", "from-eider-environment"),
            ("FROM_EIDER", "inherited-value"),
        ],
        &["NOT_IN_EIDER"],
    );
    run.assert_code(0);
    let names = [
        "ONLY_SECRET",
        "SECRET_ENVFILE",
        "SECRET_ARG",
        "ALL_SOURCES",
        "EXPANDED",
        "FILE_ARG",
        "FILE_ONLY",
        "INHERITED_IN_FILE",
        "FILE_ORDER",
        "FROM_EIDER",
        "NOT_IN_EIDER",
        "ARG_TWICE",
    ];
    // One value per key: external keys in the order they first appear, the Drakefile's last.
    // Values that come from the secrets file are masked.
    assert_eq!(
        variables_named(&run.lines_of("listed", "main"), &names),
        [
            "ONLY_SECRET=***",
            "SECRET_ENVFILE=env-file-wins",
            "SECRET_ARG=argument-wins",
            "EXPANDED=***",
            "FILE_ARG=argument-wins-over-file",
            "FILE_ONLY=\"quoted\"=kept",
            "INHERITED_IN_FILE=from-eider-environment",
            "FILE_ORDER=second",
            "FROM_EIDER=inherited-value",
            "ARG_TWICE=second",
            "ALL_SOURCES=drakefile-wins",
        ]
    );
    assert_eq!(run.lines_of("checked", "main"), ["all-checked"]);
    assert_stderr_line(
        &run,
        "warning: -e NOT_IN_EIDER: NOT_IN_EIDER is not set in eider's environment; containers \
         do not get it",
    );
    assert_never_printed(&run, "only-from-secrets");
    assert_never_printed(&run, "pre-expanded-value-post");
    assert_no_leftovers(&run);
}

#[test]
fn the_default_secrets_file_is_the_one_beside_the_drakefile_and_s_replaces_it() {
    let project = project(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  secrets:
    primaryContainer:
      name: main
      image: IMAGE
      command: ["sh", "-c"]
      args:
      - |
        echo "token=$TOKEN"
        echo "default-only=${DEFAULT_ONLY-unset}"
        [ "$TOKEN" = "$EXPECTED" ] && echo token-as-expected
"#,
    );
    // The Drakefile lives in `ci/`; eider runs from the project's top directory, where another
    // Drakesecrets.yaml must not be read.
    let drakefile = project.path().join("ci/Drakefile.yaml");
    std::fs::create_dir_all(project.path().join("ci")).expect("create ci/");
    std::fs::rename(project.path().join("Drakefile.yaml"), &drakefile).expect("move Drakefile");
    project.write(
        "ci/Drakesecrets.yaml",
        "TOKEN: beside-the-drakefile\nDEFAULT_ONLY: only-in-default\n",
    );
    project.write("Drakesecrets.yaml", "TOKEN: in-the-working-directory\n");
    project.write("other-secrets.yaml", "TOKEN: from-the-s-option\n");

    let beside = run_with(
        &project,
        &[
            "-f",
            "ci/Drakefile.yaml",
            "secrets",
            "-e",
            "EXPECTED=beside-the-drakefile",
        ],
        &[],
        &[],
    );
    beside.assert_code(0);
    assert_eq!(
        beside.lines_of("secrets", "main"),
        ["token=***", "default-only=***", "token-as-expected"]
    );
    assert_never_printed(&beside, "beside-the-drakefile");
    assert_no_leftovers(&beside);

    let explicit = run_with(
        &project,
        &[
            "-f",
            "ci/Drakefile.yaml",
            "secrets",
            "-s",
            "other-secrets.yaml",
            "-e",
            "EXPECTED=from-the-s-option",
        ],
        &[],
        &[],
    );
    explicit.assert_code(0);
    assert_eq!(
        explicit.lines_of("secrets", "main"),
        ["token=***", "default-only=unset", "token-as-expected"]
    );
    assert_no_leftovers(&explicit);
}

// ---------------------------------------------------------------------------------------------
// 3. Secrets in output.

#[test]
fn secret_values_are_masked_in_every_stream_of_every_container() {
    let project = project(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  leak:
    sidecarContainers:
    - name: side
      image: IMAGE
      sharedStorageMountPath: /shared
      command: ["sh", "-c"]
      args:
      - |
        echo "side out $TOKEN"
        echo "side err $TOKEN" >&2
        printf 'sec'; sleep 0.2; printf 'ret-value split\n'
        touch /shared/side-done
        exec sleep 30
    primaryContainer:
      name: main
      image: IMAGE
      sharedStorageMountPath: /shared
      command: ["sh", "-c"]
      args:
      - |
        for attempt in $(seq 200); do [ -e /shared/side-done ] && break; sleep 0.05; done
        echo "out $TOKEN end"
        echo "err $TOKEN end" >&2
        printf 'sec'; sleep 0.2; printf 'ret-value split\n'
        printf 'sec' >&2; sleep 0.2; printf 'ret-value split\n' >&2
        half="$(head -c 2000 /dev/zero | tr '\0' x)"
        echo "${half}${TOKEN}${half}"
        head -c 1048572 /dev/zero | tr '\0' y
        printf '%s' "$TOKEN"
        head -c 1000 /dev/zero | tr '\0' z
        echo
        echo "pin=$PIN"
        printf '%s\n' "$KEY" >&2
  console:
    primaryContainer:
      name: main
      image: IMAGE
      tty: true
      command: ["sh", "-c"]
      args:
      - |
        echo "tty $TOKEN"
        printf 'sec'; sleep 0.2; printf 'ret-value split\n'
        printf '%s\n' "$KEY"
  pull:
    primaryContainer:
      name: main
      image: 127.0.0.1:5000/secret-value:latest
      command: ["true"]
"#,
    );
    project.write(
        "Drakesecrets.yaml",
        "TOKEN: secret-value\n\
         PIN: q7z\n\
         KEY: |\n  -----BEGIN TEST KEY-----\n  second-line-of-the-key\n  -----END TEST KEY-----\n",
    );
    let run = project.run(&["leak", "console", "pull"]);
    run.assert_code(1);

    assert_eq!(run.lines_of("leak", "side"), ["side out ***", "*** split"]);
    assert_eq!(run.error_lines_of("leak", "side"), ["side err ***"]);
    let half = "x".repeat(2000);
    let main: Vec<String> = run.lines_of("leak", "main");
    assert_eq!(
        main[..3],
        [
            "out *** end".to_owned(),
            "*** split".to_owned(),
            format!("{half}***{half}")
        ]
    );
    assert_eq!(main.last().map(String::as_str), Some("pin=q7z"));
    // The line of more than 1 MiB may be cut into pieces; put together, only the secret changed.
    let long: String = main[3..main.len() - 1].concat();
    assert_eq!(
        long,
        format!("{}***{}", "y".repeat(1_048_572), "z".repeat(1000))
    );
    // A multi-line secret is masked whole, or line by line when its lines arrive apart.
    let errors = run.error_lines_of("leak", "main");
    assert_eq!(errors[..2], ["err *** end", "*** split"]);
    assert_only_masks(&errors[2..]);
    // A terminal ends lines with CR LF, which the multi-line secret does not hold.
    let console: Vec<String> = run
        .lines_of("console", "main")
        .into_iter()
        .map(|line| {
            line.strip_suffix('\r')
                .map_or_else(|| line.clone(), ToOwned::to_owned)
        })
        .collect();
    assert_eq!(console[..2], ["tty ***", "*** split"]);
    assert_only_masks(&console[2..]);

    // The image name holds the secret: every status and error line that names it is masked.
    assert_stderr_line(
        &run,
        "     Pulling 127.0.0.1:5000/***:latest (for pull/main)",
    );
    assert!(
        run.stderr
            .contains("error: job `pull`: container `main`: image `127.0.0.1:5000/***:latest` is not available"),
        "{}",
        run.stderr
    );
    assert_stderr_line(
        &run,
        "warning: secrets shorter than 4 characters are not masked in output: PIN",
    );
    for line in status_lines(&run) {
        assert!(
            !line.contains("q7z"),
            "a status line shows the short secret: {line}"
        );
    }
    for secret in [
        "secret-value",
        "BEGIN TEST KEY",
        "second-line-of-the-key",
        "END TEST KEY",
    ] {
        assert_never_printed(&run, secret);
    }
    assert_no_leftovers(&run);
}

#[test]
fn a_bad_secrets_file_is_an_input_error_that_names_the_place_and_never_the_value() {
    let project = project(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  never:
    primaryContainer:
      name: main
      image: IMAGE
      command: ["true"]
"#,
    );
    project.write("list.yaml", "- TOKEN=s3cr3t-value\n");
    project.write(
        "nested.yaml",
        "A: fine-value\nTOKEN:\n  nested: s3cr3t-value\n",
    );
    project.write(
        "unclosed.yaml",
        "A: fine-value\nTOKEN: \"s3cr3t-value${HOME\"\n",
    );
    let cases = [
        (
            "list.yaml",
            "error: list.yaml:1:1: a secrets file is a mapping of names to values, found a list",
        ),
        (
            "nested.yaml",
            "error: nested.yaml:3:3: secret `TOKEN` must be a string, found a mapping",
        ),
        (
            "unclosed.yaml",
            "error: unclosed.yaml:2:21: secret `TOKEN`: `${` is not closed by `}`; write \
             `${NAME}` to use a variable of eider's environment, or `$$` for a literal `$`",
        ),
    ];
    for (file, expected) in cases {
        let proxy = RecordingProxy::start();
        let run = run_through(&project, &proxy, &["never", "-s", file]);
        run.assert_code(2);
        assert_eq!(run.stderr, format!("{expected}\n"), "{file}");
        assert_eq!(run.stdout, "", "{file}");
        assert_never_printed(&run, "s3cr3t");
        assert_eq!(
            proxy.connection_count(),
            0,
            "{file}: eider reached the engine"
        );
    }

    // The default file beside the Drakefile is checked the same way.
    std::fs::copy(
        project.path().join("nested.yaml"),
        project.path().join("Drakesecrets.yaml"),
    )
    .expect("copy the secrets file");
    let proxy = RecordingProxy::start();
    let run = run_through(&project, &proxy, &["never"]);
    run.assert_code(2);
    let root = project
        .path()
        .canonicalize()
        .expect("canonical project directory");
    assert_eq!(
        run.stderr,
        format!(
            "error: {}/Drakesecrets.yaml:3:3: secret `TOKEN` must be a string, found a mapping\n",
            root.display()
        )
    );
    assert_eq!(proxy.connection_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// 4. Privileged containers and the Docker socket.

/// A Drakefile with job `job`, whose primary (`main`) and sidecar (`side`) get `primary` and
/// `sidecar` as extra fields.
fn permission_project(job: &str, sidecar: &str, primary: &str) -> Project {
    project(&format!(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  {job}:
    sidecarContainers:
    - name: side
      image: IMAGE
      command: ["sleep", "30"]
{sidecar}
    primaryContainer:
      name: main
      image: IMAGE
      command: ["sh", "-c", "grep CapEff /proc/self/status"]
{primary}
"#
    ))
}

#[test]
fn privileged_is_refused_without_permission_and_nothing_is_created() {
    for (label, sidecar, primary, container) in [
        ("primary", "", "      privileged: true", "main"),
        ("sidecar", "      privileged: true", "", "side"),
    ] {
        let job = unique_job_name(&format!("privileged-{label}"));
        let project = permission_project(&job, sidecar, primary);
        let proxy = RecordingProxy::start();
        let run = run_through(&project, &proxy, &[&job]);
        run.assert_code(1);
        assert_stderr_line(
            &run,
            &format!(
                "error: job `{job}`: container `{container}` asks to run privileged, which is \
                 not allowed"
            ),
        );
        assert_stderr_line(
            &run,
            "hint: a privileged container can take over this machine; if you trust this \
             Drakefile, pass --allow-privileged (or set allow-privileged = true in the eider \
             config file)",
        );
        proxy.assert_nothing_created();
        assert_no_container_of_job(&job);
        assert_no_leftovers(&run);
    }
}

#[test]
fn allowed_privileged_reaches_the_engine_for_the_containers_that_ask() {
    for (label, sidecar, primary, privileged) in [
        ("primary", "", "      privileged: true", "main"),
        ("sidecar", "      privileged: true", "", "side"),
    ] {
        let job = unique_job_name(&format!("allowed-{label}"));
        let project = permission_project(&job, sidecar, primary);
        let proxy = RecordingProxy::start();
        let run = run_through(&project, &proxy, &[&job, "--allow-privileged"]);
        let asked = proxy.create_of(&job, privileged);
        assert!(asked.raw.contains("\"Privileged\":true"), "{}", asked.raw);
        for create in proxy.creates() {
            if create.name != asked.name {
                assert_eq!(create.privileged(), Some(false), "{}", create.raw);
            }
        }
        // This machine's engine cannot start privileged containers (its VM lacks capabilities);
        // an engine that can runs the job, and the primary then reports its capabilities.
        if run.code == Some(1) {
            let prefix = format!(
                "error: job `{job}`: container `{privileged}`: cannot start the container: "
            );
            assert!(
                run.stderr.lines().any(|line| line.starts_with(&prefix)),
                "{}",
                run.stderr
            );
        } else {
            run.assert_code(0);
            assert_eq!(run.lines_of(&job, "main").len(), 1, "{}", run.stdout);
        }
        assert_no_container_of_job(&job);
        assert_no_leftovers(&run);
    }
}

#[test]
fn the_docker_socket_is_refused_without_permission_and_nothing_is_created() {
    let job = unique_job_name("socket-refused");
    let project = permission_project(&job, "", "      mountDockerSocket: true");
    let proxy = RecordingProxy::start();
    let run = run_through(&project, &proxy, &[&job]);
    run.assert_code(1);
    assert_stderr_line(
        &run,
        &format!(
            "error: job `{job}`: container `main` asks for the Docker socket, which is not allowed"
        ),
    );
    assert_stderr_line(
        &run,
        "hint: the Docker socket gives full control of the engine; if you trust this Drakefile, \
         pass --allow-docker-socket (or set allow-docker-socket = true in the eider config file)",
    );
    proxy.assert_nothing_created();
    assert_no_container_of_job(&job);
    assert_no_leftovers(&run);
}

/// The Drakefile of the socket tests: the primary checks that it sees a socket.
const SOCKET_DRAKEFILE: &str = r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  socket:
    sidecarContainers:
    - name: side
      image: IMAGE
      command: ["sleep", "30"]
    primaryContainer:
      name: main
      image: IMAGE
      mountDockerSocket: true
      command: ["sh", "-c", "[ -S /var/run/docker.sock ] && echo socket-present"]
"#;

#[test]
fn an_allowed_docker_socket_is_bound_once_into_the_container_that_asks() {
    let project = project(SOCKET_DRAKEFILE);
    let proxy = RecordingProxy::start();
    let run = run_through(&project, &proxy, &["socket", "--allow-docker-socket"]);
    run.assert_code(0);
    assert_eq!(run.lines_of("socket", "main"), ["socket-present"]);
    // eider binds the socket of the engine it talks to: here, the proxy's.
    let main = proxy.create_of("socket", "main");
    assert_eq!(
        main.raw
            .matches("\"Target\":\"/var/run/docker.sock\"")
            .count(),
        1,
        "{}",
        main.raw
    );
    assert_eq!(
        main.mounts(),
        [(
            "bind".to_owned(),
            proxy.socket().display().to_string(),
            "/var/run/docker.sock".to_owned(),
            false
        )]
    );
    assert!(main.body["HostConfig"]["Binds"].is_null(), "{}", main.raw);
    let side = proxy.create_of("socket", "side");
    assert!(!side.raw.contains("docker.sock"), "{}", side.raw);
    assert_no_leftovers(&run);
}

#[test]
fn the_docker_socket_permission_comes_from_the_user_config_never_from_the_project() {
    let project = project(SOCKET_DRAKEFILE);
    let config = "[run]\nallow-docker-socket = true\n";
    let user_config = project.config_home().join("eider/config.toml");
    std::fs::create_dir_all(user_config.parent().expect("config directory"))
        .expect("create the config directory");
    std::fs::write(&user_config, config).expect("write the user config");

    let allowed = project.run(&["socket"]);
    allowed.assert_code(0);
    assert_eq!(allowed.lines_of("socket", "main"), ["socket-present"]);
    assert_no_leftovers(&allowed);

    // The same permission in a file of the project is ignored, even when named explicitly.
    project.write("eider.toml", config);
    let proxy = RecordingProxy::start();
    let refused = run_through(&project, &proxy, &["socket", "--config", "eider.toml"]);
    refused.assert_code(1);
    assert_stderr_line(
        &refused,
        "warning: eider.toml is inside the project's source tree: its permissions \
         (allow-privileged, allow-docker-socket) are ignored",
    );
    assert_stderr_line(
        &refused,
        "error: job `socket`: container `main` asks for the Docker socket, which is not allowed",
    );
    proxy.assert_nothing_created();
    assert_no_leftovers(&refused);
}

// ---------------------------------------------------------------------------------------------
// 5. The source.

/// A job per source mode, and `none`, whose primary has no `sourceMountPath`.
const SOURCE_MODES_DRAKEFILE: &str = r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  none:
    sidecarContainers:
    - name: side
      image: IMAGE
      sourceMountPath: /src
      command: ["sleep", "30"]
    - name: empty
      image: IMAGE
      sourceMountPath: ""
      command: ["sleep", "30"]
    primaryContainer:
      name: main
      image: IMAGE
      command: ["sh", "-c"]
      args:
      - |
        [ ! -e /src ] && ! grep -q ' /src ' /proc/mounts && echo no-source
  readonly:
    primaryContainer:
      name: main
      image: IMAGE
      sourceMountPath: /src
      command: ["sh", "-c"]
      args:
      - |
        cat /src/marker.txt
        touch /src/ro-write.txt 2>/dev/null && echo write-succeeded || echo write-refused
  readwrite:
    sourceMountMode: RW
    primaryContainer:
      name: main
      image: IMAGE
      sourceMountPath: /src
      command: ["sh", "-c", "echo from-container > /src/rw-written.txt"]
  copied:
    sourceMountMode: COPY
    sidecarContainers:
    - name: side
      image: IMAGE
      sourceMountPath: /work
      command: ["sh", "-c", "echo from-side > /work/from-side.txt && exec sleep 30"]
    primaryContainer:
      name: main
      image: IMAGE
      sourceMountPath: /work
      workingDirectory: /work
      command: ["sh", "-c"]
      args:
      - |
        cat marker.txt
        [ -L outside-link ] && readlink outside-link
        [ -L outside-directory ] && readlink outside-directory
        [ -L up ] && readlink up
        [ -x tool.sh ] && echo tool-executable
        echo copy-write > copy-written.txt && echo changed > marker.txt && cat marker.txt
        for attempt in $(seq 100); do [ -e from-side.txt ] && break; sleep 0.05; done
        cat from-side.txt
  copied_again:
    sourceMountMode: COPY
    primaryContainer:
      name: main
      image: IMAGE
      sourceMountPath: /work
      command: ["sh", "-c"]
      args:
      - |
        [ ! -e /work/copy-written.txt ] && [ ! -e /work/from-side.txt ] && cat /work/marker.txt
"#;

#[test]
fn source_modes_give_no_source_a_read_only_tree_a_writable_tree_or_a_private_copy() {
    let project = project(SOURCE_MODES_DRAKEFILE);
    project.write("marker.txt", "marker-content\n");
    let tool = project.write("tool.sh", "#!/bin/sh\n");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755))
        .expect("make tool.sh executable");
    let outside = tempfile::tempdir().expect("a directory outside the project");
    let outside_file = outside.path().join("outside.txt");
    std::fs::write(&outside_file, "outside-content\n").expect("write outside file");
    std::os::unix::fs::symlink(&outside_file, project.path().join("outside-link"))
        .expect("link to a file outside the tree");
    std::os::unix::fs::symlink(outside.path(), project.path().join("outside-directory"))
        .expect("link to a directory outside the tree");
    std::os::unix::fs::symlink("..", project.path().join("up")).expect("link to the parent");

    let proxy = RecordingProxy::start();
    let run = run_through(
        &project,
        &proxy,
        &["none", "readonly", "readwrite", "copied", "copied_again"],
    );
    run.assert_code(0);

    assert_eq!(run.lines_of("none", "main"), ["no-source"]);
    assert_eq!(proxy.create_of("none", "main").mounts(), []);
    assert_eq!(proxy.create_of("none", "empty").mounts(), []);
    let root = project
        .path()
        .canonicalize()
        .expect("canonical project directory")
        .display()
        .to_string();
    assert_eq!(
        proxy.create_of("none", "side").mounts(),
        [("bind".to_owned(), root.clone(), "/src".to_owned(), true)]
    );

    assert_eq!(
        run.lines_of("readonly", "main"),
        ["marker-content", "write-refused"]
    );
    assert!(!project.path().join("ro-write.txt").exists());

    assert_eq!(
        proxy.create_of("readwrite", "main").mounts(),
        [("bind".to_owned(), root, "/src".to_owned(), false)]
    );
    assert_eq!(
        std::fs::read_to_string(project.path().join("rw-written.txt")).expect("written by RW"),
        "from-container\n"
    );

    // One copy per job, shared by its containers; links are copied as links.
    assert_eq!(
        run.lines_of("copied", "main"),
        [
            "marker-content",
            &outside_file.display().to_string(),
            &outside.path().display().to_string(),
            "..",
            "tool-executable",
            "changed",
            "from-side",
        ]
    );
    let copy = proxy.create_of("copied", "main").mounts();
    assert_eq!(proxy.create_of("copied", "side").mounts(), copy);
    assert_eq!(copy.len(), 1, "{copy:?}");
    // The copy lives in a volume of the engine, so that the engine can remove what containers
    // wrote into it as root, whoever runs eider.
    assert!(
        copy[0].0 == "volume" && copy[0].1.ends_with("-copied-source") && !copy[0].3,
        "the copy is not a writable volume of its own: {copy:?}"
    );
    assert_eq!(run.lines_of("copied_again", "main"), ["marker-content"]);
    assert_ne!(proxy.create_of("copied_again", "main").mounts(), copy);
    for written in ["copy-written.txt", "from-side.txt"] {
        assert!(!project.path().join(written).exists(), "{written}");
    }
    assert_eq!(
        std::fs::read_to_string(project.path().join("marker.txt")).expect("marker"),
        "marker-content\n"
    );
    assert_eq!(
        std::fs::read_to_string(&outside_file).expect("outside file"),
        "outside-content\n"
    );
    assert_no_leftovers(&run);
}

/// A seed-draft Drakefile: `write` writes into the source, `read` reads what it wrote.
const SEED_DRAKEFILE: &str = r"uri: github.com/lovethedrake/drakespec
version: v0.0.0
jobs:
  write:
    containers:
    - name: main
      image: IMAGE
      sourceMountPath: /src
      command: sh -c 'echo from-write > /src/seed-written.txt'
  read:
    containers:
    - name: main
      image: IMAGE
      sourceMountPath: /src
      command: sh -c 'cat /src/marker.txt /src/seed-written.txt'
";

#[test]
fn seed_draft_jobs_of_a_run_share_one_writable_copy_of_the_source() {
    let project = project(SEED_DRAKEFILE);
    project.write("marker.txt", "marker-content\n");

    let shared = project.run(&["write", "read"]);
    shared.assert_code(0);
    assert_eq!(
        shared.lines_of("read", "main"),
        ["marker-content", "from-write"]
    );
    assert!(!project.path().join("seed-written.txt").exists());
    assert_no_leftovers(&shared);

    // The next run gets a fresh copy: what the previous run wrote is gone.
    let fresh = project.run(&["read"]);
    fresh.assert_code(1);
    assert_eq!(fresh.lines_of("read", "main"), ["marker-content"]);
    assert_no_leftovers(&fresh);
}

#[test]
fn seed_draft_source_mode_rw_binds_the_live_tree() {
    let project = project(SEED_DRAKEFILE);
    project.write("marker.txt", "marker-content\n");
    let run = project.run(&["write", "read", "--source-mode", "rw"]);
    run.assert_code(0);
    assert_eq!(
        run.lines_of("read", "main"),
        ["marker-content", "from-write"]
    );
    assert_eq!(
        std::fs::read_to_string(project.path().join("seed-written.txt")).expect("written"),
        "from-write\n"
    );
    assert_no_leftovers(&run);
}

// ---------------------------------------------------------------------------------------------
// 6. Shared storage.

#[test]
fn shared_storage_is_one_volume_per_run_shared_by_its_jobs_and_kept_on_request() {
    let project = project(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.1.0
jobs:
  produce:
    containers:
    - name: main
      image: IMAGE
      sharedStorageMountPath: /shared
      command: ["sh", "-c"]
      args:
      - |
        [ -z "$(ls -A /shared)" ] || exit 3
        mkdir /shared/dir && echo made-by-produce > /shared/dir/artifact.txt
  consume:
    containers:
    - name: main
      image: IMAGE
      sharedStorageMountPath: /shared
      command: ["cat", "/shared/dir/artifact.txt"]
  fresh:
    containers:
    - name: main
      image: IMAGE
      sharedStorageMountPath: /shared
      command: ["sh", "-c", "ls -A /shared | wc -l"]
"#,
    );
    let kept = tempfile::tempdir().expect("a directory for the kept storage");
    let destination = kept.path().join("shared");
    let destination_text = destination.display().to_string();

    let proxy = RecordingProxy::start();
    let first = run_through(
        &project,
        &proxy,
        &["produce", "consume", "--keep-shared", &destination_text],
    );
    first.assert_code(0);
    assert_eq!(first.lines_of("consume", "main"), ["made-by-produce"]);
    let volume_creates = proxy
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.target.contains("/volumes/create"))
        .count();
    assert_eq!(volume_creates, 1);
    let volume = format!("eider-{}-shared", support::run_id(&first));
    let mount = [("volume".to_owned(), volume, "/shared".to_owned(), false)];
    assert_eq!(proxy.create_of("produce", "main").mounts(), mount);
    assert_eq!(proxy.create_of("consume", "main").mounts(), mount);
    assert_stderr_line(
        &first,
        &format!("warning: shared storage copied to {destination_text}"),
    );
    assert_eq!(
        std::fs::read_to_string(destination.join("dir/artifact.txt")).expect("kept artifact"),
        "made-by-produce\n"
    );
    assert_no_leftovers(&first);

    let second = project.run(&["fresh"]);
    second.assert_code(0);
    assert_eq!(second.lines_of("fresh", "main"), ["0"]);
    assert_no_leftovers(&second);
}

// ---------------------------------------------------------------------------------------------
// 7. Platforms.

#[test]
fn a_job_for_another_platform_fails_before_anything_is_started() {
    let windows = project(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.5.0
jobs:
  windows:
    osFamily: windows
    primaryContainer:
      name: main
      image: IMAGE
      command: ["cmd", "/c", "echo"]
"#,
    );
    let arm = project(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  arm:
    cpuArch: arm64
    primaryContainer:
      name: main
      image: IMAGE
      sharedStorageMountPath: /shared
      command: ["true"]
"#,
    );
    let cases = [
        (
            &windows,
            "windows",
            "error: job `windows` needs osFamily `windows`, but the engine runs `linux` containers",
            "hint: run it on an engine that runs windows containers",
        ),
        (
            &arm,
            "arm",
            "error: job `arm` needs cpuArch `arm64`, but the engine runs `amd64`",
            "hint: run it on an engine of architecture arm64",
        ),
    ];
    for (project, job, error, hint) in cases {
        let proxy = RecordingProxy::start();
        let run = run_through(project, &proxy, &[job]);
        run.assert_code(1);
        assert_stderr_line(&run, error);
        assert_stderr_line(&run, hint);
        assert_eq!(run.stdout, "");
        // The engine's platform is asked while the first container is created; nothing of the
        // job starts, and what was created is removed.
        proxy.assert_nothing_started();
        assert_no_leftovers(&run);
    }
}

#[test]
fn the_recording_proxy_parses_chunked_and_sized_bodies() {
    let bytes = b"POST /v1.41/containers/create?name=a HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}\
GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n\
POST /v1.41/containers/create?name=b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
    let requests = parse_requests(bytes);
    let seen: Vec<(&str, &str, &[u8])> = requests
        .iter()
        .map(|request| {
            (
                request.method.as_str(),
                request.target.as_str(),
                request.body.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("POST", "/v1.41/containers/create?name=a", &b"{}"[..]),
            ("GET", "/_ping", &b""[..]),
            ("POST", "/v1.41/containers/create?name=b", &b"{\"a\":1}"[..]),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Regressions.

/// The uid and gid eider runs as in [`run_unprivileged`] when the tests run as root.
const NOBODY: u32 = 65_534;

/// Gives `path` and everything below it (links themselves, not their targets) to `uid`.
fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).expect("change the owner");
    let metadata = std::fs::symlink_metadata(path).expect("metadata");
    if metadata.is_dir() {
        for entry in std::fs::read_dir(path).expect("list the directory") {
            chown_tree(&entry.expect("a directory entry").path(), uid);
        }
    }
}

/// Runs `eider run ARGUMENTS...` through `proxy` as a user without special rights, as most
/// users run it: when the tests run as root and `setpriv` is there, as `nobody`, with the
/// project, state and config directories given to it.
fn run_unprivileged(project: &Project, proxy: &RecordingProxy, arguments: &[&str]) -> Run {
    use std::os::unix::fs::MetadataExt;
    let as_root = std::fs::metadata(project.path())
        .expect("project metadata")
        .uid()
        == 0;
    let can_switch = std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    let mut command = if as_root && can_switch {
        for directory in [project.path(), project.state_path(), project.config_home()] {
            chown_tree(directory, NOBODY);
        }
        proxy.open_to_everyone();
        let mut command = std::process::Command::new("setpriv");
        command
            .arg(format!("--reuid={NOBODY}"))
            .arg(format!("--regid={NOBODY}"))
            .arg("--clear-groups")
            .arg(env!("CARGO_BIN_EXE_eider"))
            .env("HOME", project.state_path());
        command
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_eider"))
    };
    for (name, _) in std::env::vars() {
        if name.starts_with("EIDER_") {
            command.env_remove(name);
        }
    }
    command
        .current_dir(project.path())
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", project.config_home())
        .env("DOCKER_HOST", proxy.docker_host())
        .stdin(std::process::Stdio::null())
        .arg("run")
        .args(arguments);
    Run::from(command.output().expect("run eider"))
}

#[test]
fn a_copy_written_into_by_root_with_read_only_directories_is_removed_by_an_unprivileged_eider() {
    let project = project(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  copied:
    sourceMountMode: COPY
    primaryContainer:
      name: main
      image: IMAGE
      sourceMountPath: /src
      command: ["sh", "-c"]
      args: ["cat /src/cache/module/file && mkdir -p /src/out/deep && touch /src/out/deep/f && chmod 500 /src/out"]
"#,
    );
    // Like a Go module cache: directories without write permission; the container then adds
    // root-owned ones, which only the engine can remove when eider is not root.
    project.write("cache/module/file", "cached\n");
    let proxy = RecordingProxy::start();
    let lock = |mode| {
        for (directory, mode) in [("cache/module", mode), ("cache", mode & 0o500)] {
            std::fs::set_permissions(
                project.path().join(directory),
                std::fs::Permissions::from_mode(mode),
            )
            .expect("change the mode");
        }
    };
    lock(0o555);
    let run = run_unprivileged(&project, &proxy, &["copied"]);
    lock(0o755);
    run.assert_code(0);
    assert_eq!(run.lines_of("copied", "main"), ["cached"]);
    assert!(!run.stderr.contains("cannot remove"), "{}", run.stderr);
    assert_no_leftovers(&run);
}

/// A job whose primary reaches its sidecar over localhost.
const NETWORK_DRAKEFILE: &str = r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  talk:
    sidecarContainers:
    - name: server
      image: IMAGE
      command: ["sh", "-c", "echo pong | nc -l -p 8093"]
    primaryContainer:
      name: client
      image: IMAGE
      command: ["sh", "-c"]
      args: ["for i in 1 2 3 4 5 6 7 8 9 10; do nc 127.0.0.1 8093 && exit 0; sleep 0.2; done; exit 1"]
"#;

#[test]
fn the_first_container_gets_the_named_network_and_the_others_join_its_namespace() {
    let project = project(NETWORK_DRAKEFILE);
    for (arguments, first_network) in [
        (&["talk"][..], serde_json::Value::Null),
        (&["--network", "none", "talk"][..], "none".into()),
    ] {
        let proxy = RecordingProxy::start();
        let run = run_through(&project, &proxy, arguments);
        run.assert_code(0);
        assert_eq!(run.lines_of("talk", "client"), ["pong"]);
        let server = proxy.create_of("talk", "server");
        assert_eq!(server.body["HostConfig"]["NetworkMode"], first_network);
        let first_started = proxy
            .requests()
            .into_iter()
            .find(|request| request.method == "POST" && request.target.ends_with("/start"))
            .expect("a start request")
            .target;
        let client = proxy.create_of("talk", "client");
        let joined = client.body["HostConfig"]["NetworkMode"]
            .as_str()
            .expect("the primary joins a namespace")
            .to_owned();
        let first_id = joined.strip_prefix("container:").expect("container:<id>");
        assert!(
            first_started.contains(&format!("/containers/{first_id}/start")),
            "{joined} is not the first container started ({first_started})"
        );
        assert_no_leftovers(&run);
    }
}

#[test]
fn kept_shared_storage_hands_the_host_no_setuid_or_setgid_files() {
    let project = project(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  escalate:
    primaryContainer:
      name: main
      image: IMAGE
      sharedStorageMountPath: /shared
      command: ["sh", "-c"]
      args:
      - |
        cp /bin/busybox /shared/setuid-root && chmod 6755 /shared/setuid-root
        mkdir /shared/setgid && chmod 2775 /shared/setgid
        cp /bin/busybox /shared/setgid/setuid-inside && chmod 4750 /shared/setgid/setuid-inside
        mkdir /shared/sticky && chmod 1777 /shared/sticky
        cd /shared && stat -c '%a %n' setuid-root setgid setgid/setuid-inside sticky
"#,
    );
    let kept = tempfile::tempdir().expect("a directory for the kept storage");
    let destination = kept.path().join("shared");
    let destination_text = destination.display().to_string();
    let run = project.run(&["escalate", "--keep-shared", &destination_text]);
    run.assert_code(0);
    // The job really wrote the bits: what the host gets is the copy's doing.
    assert_eq!(
        run.lines_of("escalate", "main"),
        [
            "6755 setuid-root",
            "2775 setgid",
            "4750 setgid/setuid-inside",
            "1777 sticky"
        ]
    );
    let modes: Vec<String> = ["setuid-root", "setgid", "setgid/setuid-inside", "sticky"]
        .iter()
        .map(|relative| {
            let metadata = std::fs::symlink_metadata(destination.join(relative))
                .unwrap_or_else(|error| panic!("{relative} was not copied out: {error}"));
            format!("{:o} {relative}", metadata.permissions().mode() & 0o7777)
        })
        .collect();
    assert_eq!(
        modes,
        [
            "755 setuid-root",
            "775 setgid",
            "750 setgid/setuid-inside",
            "1777 sticky"
        ]
    );
    assert_no_leftovers(&run);
}

// Both helper containers (the one that fills a copy of the source, the one that copies shared
// storage out) are of the job's image, which in the next two tests has no command of its own.

#[test]
fn an_image_without_entrypoint_or_cmd_can_fill_a_copy_of_the_source() {
    let released = Project::new(&format!(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  bare:
    sourceMountMode: COPY
    primaryContainer:
      name: main
      image: {NO_COMMAND_IMAGE}
      sourceMountPath: /src
      command: ["cat", "/src/marker.txt"]
"#
    ));
    let seed = Project::new(&format!(
        r"uri: github.com/lovethedrake/drakespec
version: v0.0.0
jobs:
  bare:
    containers:
    - name: main
      image: {NO_COMMAND_IMAGE}
      sourceMountPath: /src
      command: cat /src/marker.txt
"
    ));
    for project in [&released, &seed] {
        project.write("marker.txt", "marker-content\n");
        let run = project.run(&["bare"]);
        run.assert_code(0);
        assert_eq!(run.lines_of("bare", "main"), ["marker-content"]);
        assert_no_leftovers(&run);
    }
}

#[test]
fn an_image_without_entrypoint_or_cmd_can_keep_shared_storage() {
    let project = Project::new(&format!(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  bare:
    primaryContainer:
      name: main
      image: {NO_COMMAND_IMAGE}
      sharedStorageMountPath: /shared
      command: ["sh", "-c", "echo made-by-bare > /shared/kept.txt"]
"#
    ));
    let kept = tempfile::tempdir().expect("a directory for the kept storage");
    let destination = kept.path().join("shared");
    let destination_text = destination.display().to_string();
    let run = project.run(&["bare", "--keep-shared", &destination_text]);
    run.assert_code(0);
    assert_stderr_line(
        &run,
        &format!("warning: shared storage copied to {destination_text}"),
    );
    assert_eq!(
        std::fs::read_to_string(destination.join("kept.txt")).expect("the kept copy"),
        "made-by-bare\n"
    );
    assert_no_leftovers(&run);
}

#[test]
fn mounts_at_one_path_are_a_validation_error_and_run_creates_nothing() {
    let same = unique_job_name("same-path");
    let socket = unique_job_name("socket-path");
    let project = project(&format!(
        r#"specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  {same}:
    primaryContainer:
      name: main
      image: IMAGE
      sourceMountPath: /src/
      sharedStorageMountPath: /src
      command: ["true"]
  {socket}:
    primaryContainer:
      name: main
      image: IMAGE
      sourceMountPath: /var/run/docker.sock
      mountDockerSocket: true
      command: ["true"]
"#
    ));
    let same_field = format!("jobs.{same}.primaryContainer.sharedStorageMountPath");
    let socket_field = format!("jobs.{socket}.primaryContainer.sourceMountPath");
    let validated = project.command(&["validate"]);
    validated.assert_code(2);
    for expected in [
        &format!("x {same_field}: "),
        "[Drakefile.yaml:9:31]",
        &format!("x {socket_field}: "),
        "[Drakefile.yaml:15:24]",
        "error: Drakefile.yaml is invalid: 2 errors; nothing was run",
    ] {
        assert!(
            validated.stderr.contains(expected),
            "no `{expected}` in stderr:\n{}",
            validated.stderr
        );
    }
    let json = project.command(&["validate", "--json"]);
    json.assert_code(2);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON on stdout");
    let found: Vec<(String, u64, u64, String)> = report["diagnostics"]
        .as_array()
        .expect("a list of diagnostics")
        .iter()
        .map(|diagnostic| {
            (
                diagnostic["file"].as_str().unwrap_or_default().to_owned(),
                diagnostic["line"].as_u64().unwrap_or_default(),
                diagnostic["column"].as_u64().unwrap_or_default(),
                diagnostic["field"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("Drakefile.yaml".to_owned(), 9, 31, same_field),
            ("Drakefile.yaml".to_owned(), 15, 24, socket_field),
        ]
    );

    let recorder = ContainerEvents::record();
    let proxy = RecordingProxy::start();
    let run = run_through(&project, &proxy, &[&same, &socket, "--allow-docker-socket"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("error: Drakefile.yaml is invalid: 2 errors; nothing was run"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Running"), "{}", run.stderr);
    proxy.assert_nothing_created();
    for job in [&same, &socket] {
        assert!(recorder.of_job(job).is_empty(), "{job}");
    }
}
