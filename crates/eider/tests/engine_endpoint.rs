//! Which engine eider uses, found as the docker CLI finds it, against the real engine: a Docker
//! context (made with the docker CLI, in a configuration directory of the test) chosen by
//! `config.json` or `DOCKER_CONTEXT`, `DOCKER_HOST` over both, and TLS on a TCP port (with
//! `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`, or a context's TLS files). The engines these
//! tests reach are the tests' engine behind a proxy of their own, so that a run that ignored
//! the choice would reach it directly and be caught.

mod support;

use std::path::Path;
use std::process::Command;

use support::proxy::RecordingProxy;
use support::tls_engine::{Authority, TlsEngine};
use support::{Project, Run, assert_no_leftovers, busybox_job, drakefile, terminal_job, unique};

/// Every variable that chooses the engine; each test sets its own.
const ENGINE_VARIABLES: [&str; 7] = [
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_TLS_VERIFY",
    "DOCKER_TLS",
    "DOCKER_CERT_PATH",
    "XDG_RUNTIME_DIR",
];

/// A project of two jobs: `NAME-plain` prints `plain` (the engine's framed output) and
/// `NAME-terminal` prints `terminal` with a terminal (eider's own raw attach).
fn two_jobs(name: &str) -> (Project, String, String) {
    let (plain, terminal) = (format!("{name}-plain"), format!("{name}-terminal"));
    let project = Project::new(&drakefile(&format!(
        "{}{}",
        busybox_job(&plain, &[], "echo plain"),
        terminal_job(&terminal, "echo terminal")
    )));
    (project, plain, terminal)
}

/// `eider run JOBS...` in `project` with only `variables` choosing the engine.
fn run_with(project: &Project, variables: &[(&str, &str)], jobs: &[&str]) -> Run {
    let mut command = project.eider();
    for variable in ENGINE_VARIABLES {
        command.env_remove(variable);
    }
    command
        .envs(variables.iter().copied())
        .arg("run")
        .args(jobs);
    Run::from(command.output().expect("run eider"))
}

/// Asserts that both jobs of [`two_jobs`] ran and their output arrived.
#[track_caller]
fn assert_both_ran(run: &Run, plain: &str, terminal: &str) {
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        format!("[{plain}/main] plain\n[{terminal}/main] terminal\n")
    );
    assert_no_leftovers(run);
}

/// Runs the docker CLI with its configuration in `config`.
fn docker_cli(config: &Path, arguments: &[&str]) {
    let output = Command::new("docker")
        .env("DOCKER_CONFIG", config)
        .args(arguments)
        .output()
        .expect("run the docker CLI");
    assert!(
        output.status.success(),
        "docker {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn text(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[test]
fn the_current_context_of_the_docker_config_chooses_the_engine() {
    let proxy = RecordingProxy::start();
    let config = tempfile::tempdir().expect("a docker config directory");
    let host = proxy.docker_host();
    docker_cli(
        config.path(),
        &[
            "context",
            "create",
            "proxied",
            "--docker",
            &format!("host={host}"),
        ],
    );
    docker_cli(config.path(), &["context", "use", "proxied"]);
    let (project, plain, terminal) = two_jobs(&unique("context-current"));
    let run = run_with(
        &project,
        &[("DOCKER_CONFIG", text(config.path()))],
        &[&plain, &terminal],
    );
    assert_both_ran(&run, &plain, &terminal);
    // Through the context's socket, not the engine's own.
    assert!(
        proxy.creates().len() >= 2,
        "the jobs' containers were not created through the context's engine"
    );
}

#[test]
fn docker_context_wins_over_the_current_context_and_docker_host_over_both() {
    let proxy = RecordingProxy::start();
    let config = tempfile::tempdir().expect("a docker config directory");
    let host = proxy.docker_host();
    docker_cli(
        config.path(),
        &[
            "context",
            "create",
            "proxied",
            "--docker",
            &format!("host={host}"),
        ],
    );
    // The current context names an engine that is not there: a run that followed it would fail.
    docker_cli(
        config.path(),
        &[
            "context",
            "create",
            "nowhere",
            "--docker",
            "host=unix:///nonexistent/docker.sock",
        ],
    );
    docker_cli(config.path(), &["context", "use", "nowhere"]);
    let (project, plain, terminal) = two_jobs(&unique("context-variable"));
    let config_path = text(config.path());
    let run = run_with(
        &project,
        &[
            ("DOCKER_CONFIG", config_path),
            ("DOCKER_CONTEXT", "proxied"),
        ],
        &[&plain, &terminal],
    );
    assert_both_ran(&run, &plain, &terminal);
    let through_context = proxy.creates().len();
    assert!(
        through_context >= 2,
        "not created through DOCKER_CONTEXT's engine"
    );
    let other = RecordingProxy::start();
    let run = run_with(
        &project,
        &[
            ("DOCKER_CONFIG", config_path),
            ("DOCKER_CONTEXT", "nowhere"),
            ("DOCKER_HOST", &other.docker_host()),
        ],
        &[&plain, &terminal],
    );
    assert_both_ran(&run, &plain, &terminal);
    assert!(
        other.creates().len() >= 2,
        "not created through DOCKER_HOST's engine"
    );
    assert_eq!(proxy.creates().len(), through_context);
}

/// Settings that replace `directory` in output with `[CONFIG]`, and a context's store key
/// with `[KEY]`.
fn redactions(directory: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(text(directory)), "[CONFIG]");
    settings.add_filter("[0-9a-f]{64}", "[KEY]");
    settings.add_filter(r"127\.0\.0\.1:[0-9]+", "127.0.0.1:[PORT]");
    settings
}

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

/// Exit code, stdout and stderr, to snapshot.
fn transcript(run: &Run) -> String {
    format!(
        "exit code: {:?}\n----- stdout -----\n{}----- stderr -----\n{}",
        run.code, run.stdout, run.stderr
    )
}

#[test]
fn a_context_that_does_not_exist_is_bad_input_naming_it_and_its_file() {
    let config = tempfile::tempdir().expect("a docker config directory");
    let (project, plain, _) = two_jobs(&unique("context-missing"));
    let run = run_with(
        &project,
        &[
            ("DOCKER_CONFIG", text(config.path())),
            ("DOCKER_CONTEXT", "missing"),
        ],
        &[&plain],
    );
    redactions(config.path()).bind(|| {
        insta::assert_snapshot!(transcript(&run), @r"
        exit code: Some(2)
        ----- stdout -----
        ----- stderr -----
        error: context `missing` (named by DOCKER_CONTEXT) does not exist: there is no [CONFIG]/contexts/meta/[KEY]/meta.json
        hint: correct the file or variable named above, or choose another engine with DOCKER_HOST, DOCKER_CONTEXT or `docker context use NAME`
        ");
    });
}

#[test]
fn a_broken_context_is_bad_input_naming_the_file_and_the_place() {
    let config = tempfile::tempdir().expect("a docker config directory");
    docker_cli(
        config.path(),
        &[
            "context",
            "create",
            "broken",
            "--docker",
            "host=unix:///nonexistent/docker.sock",
        ],
    );
    let meta = std::fs::read_dir(config.path().join("contexts/meta"))
        .expect("the context store")
        .next()
        .expect("the context's directory")
        .expect("an entry")
        .path()
        .join("meta.json");
    std::fs::write(&meta, "{\"Endpoints\": {\"docker\": {\"Host\": 3}}}").expect("break it");
    let (project, plain, _) = two_jobs(&unique("context-broken"));
    let run = run_with(
        &project,
        &[
            ("DOCKER_CONFIG", text(config.path())),
            ("DOCKER_CONTEXT", "broken"),
        ],
        &[&plain],
    );
    redactions(config.path()).bind(|| {
        insta::assert_snapshot!(transcript(&run), @r"
        exit code: Some(2)
        ----- stdout -----
        ----- stderr -----
        error: context `broken` is not valid: [CONFIG]/contexts/meta/[KEY]/meta.json
          Caused by: invalid type: integer `3`, expected a string at line 1 column 35
        hint: correct the file or variable named above, or choose another engine with DOCKER_HOST, DOCKER_CONTEXT or `docker context use NAME`
        ");
    });
}

#[test]
fn ssh_engine_addresses_are_refused_as_unsupported_as_an_engine_problem() {
    let (project, plain, _) = two_jobs(&unique("ssh"));
    let run = run_with(&project, &[("DOCKER_HOST", "ssh://user@engine")], &[&plain]);
    insta::assert_snapshot!(transcript(&run), @r"
    exit code: Some(3)
    ----- stdout -----
    ----- stderr -----
    error: `ssh://` engine addresses are not supported: `ssh://user@engine` (from DOCKER_HOST)
    hint: forward the engine's socket over SSH (`ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock HOST`) and point DOCKER_HOST at it (`unix:///tmp/docker.sock`)
    ");
}

#[test]
fn jobs_run_and_their_output_arrives_over_tls_with_docker_tls_verify_and_docker_cert_path() {
    let authority = Authority::new("engine authority");
    let engine = TlsEngine::start(&authority);
    let files = authority.client_files();
    let (project, plain, terminal) = two_jobs(&unique("tls-variables"));
    let run = run_with(
        &project,
        &[
            ("DOCKER_HOST", &engine.docker_host()),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", text(files.path())),
        ],
        &[&plain, &terminal],
    );
    assert_both_ran(&run, &plain, &terminal);
    assert!(engine.handshakes() > 0, "nothing came over TLS");
}

#[test]
fn jobs_run_and_their_output_arrives_over_tls_with_the_files_of_a_context() {
    let authority = Authority::new("engine authority");
    let engine = TlsEngine::start(&authority);
    let files = authority.client_files();
    let config = tempfile::tempdir().expect("a docker config directory");
    let file = |name: &str| files.path().join(name).to_str().expect("UTF-8").to_owned();
    docker_cli(
        config.path(),
        &[
            "context",
            "create",
            "secure",
            "--docker",
            &format!(
                "host={},ca={},cert={},key={}",
                engine.docker_host(),
                file("ca.pem"),
                file("cert.pem"),
                file("key.pem")
            ),
        ],
    );
    // The context's store keeps copies: the originals may go.
    drop(files);
    let (project, plain, terminal) = two_jobs(&unique("tls-context"));
    let run = run_with(
        &project,
        &[
            ("DOCKER_CONFIG", text(config.path())),
            ("DOCKER_CONTEXT", "secure"),
        ],
        &[&plain, &terminal],
    );
    assert_both_ran(&run, &plain, &terminal);
    assert!(engine.handshakes() > 0, "nothing came over TLS");
}

#[test]
fn an_engine_certificate_of_another_authority_is_refused_with_a_tls_error_and_hint() {
    let engine = TlsEngine::start(&Authority::new("engine authority"));
    let files = Authority::new("another authority").client_files();
    let (project, plain, _) = two_jobs(&unique("tls-wrong-ca"));
    let run = run_with(
        &project,
        &[
            ("DOCKER_HOST", &engine.docker_host()),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", text(files.path())),
        ],
        &[&plain],
    );
    assert_eq!(engine.handshakes(), 0);
    redactions(files.path()).bind(|| {
        insta::assert_snapshot!(transcript(&run), @r"
        exit code: Some(3)
        ----- stdout -----
        ----- stderr -----
        error: TLS with the Docker Engine at tcp://127.0.0.1:[PORT] over TLS (from DOCKER_HOST) failed
          Caused by: Error in the hyper legacy client: client error (Connect)
          Caused by: client error (Connect)
          Caused by: invalid peer certificate: UnknownIssuer
        hint: check the TLS files: ca.pem must be the authority that signed the engine's certificate, and the engine must accept cert.pem (DOCKER_CERT_PATH, or the files of the context)
        ");
    });
}

#[test]
fn a_context_that_does_not_exist_stops_a_lock_instead_of_asking_the_registries() {
    let config = tempfile::tempdir().expect("a docker config directory");
    let (project, _, _) = two_jobs(&unique("lock-context-missing"));
    let mut command = project.eider();
    for variable in ENGINE_VARIABLES {
        command.env_remove(variable);
    }
    command
        .env("DOCKER_CONFIG", config.path())
        .env("DOCKER_CONTEXT", "missing")
        .arg("lock");
    let run = Run::from(command.output().expect("run eider"));
    assert!(!project.path().join("Drakefile.lock").exists());
    redactions(config.path()).bind(|| {
        insta::assert_snapshot!(transcript(&run), @r"
        exit code: Some(2)
        ----- stdout -----
        ----- stderr -----
        error: context `missing` (named by DOCKER_CONTEXT) does not exist: there is no [CONFIG]/contexts/meta/[KEY]/meta.json
        hint: correct the file or variable named above, or choose another engine with DOCKER_HOST, DOCKER_CONTEXT or `docker context use NAME`
        ");
    });
}
