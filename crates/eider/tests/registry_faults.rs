//! eider against the real test registry behind a fault-injecting proxy: pulls by the engine
//! (`eider run`) and by eider's own client (`eider verify`, `eider package --base`), and pushes
//! (`eider package -o docker://`). Transient faults are retried and the result is whole; the
//! others fail fast, naming the image and what the registry said; a failed push leaves no tag.

mod support;

use std::process::Command;
use std::time::Duration;

use eider_fault_proxy::{Fault, FaultProxy, Rule, unused_address};
use support::{BUSYBOX, Project, Run, assert_no_leftovers, drakefile, git, registry, unique};

const MANIFESTS: &str = "/v2/*/manifests/*";
const BLOBS: &str = "/v2/*/blobs/sha256:*";
const UPLOADS: &str = "/v2/*/blobs/uploads/*";
/// Short waits between tries, so that a test that retries stays fast.
const RETRY_BASE_MS: &str = "20";

/// The test image, as the engine would name it when pulled through `proxy`.
fn busybox_through(proxy: &FaultProxy) -> String {
    format!("{}/eider-test/busybox:latest", proxy.address())
}

/// Removes an image name from the engine when dropped (the layers stay: they are the test
/// image's).
struct ImageNameGuard(String);

impl Drop for ImageNameGuard {
    fn drop(&mut self) {
        let _ignored = Command::new("docker")
            .args(["image", "rm", "--force", &self.0])
            .output();
    }
}

/// A job that runs `image` and prints `ran`, pulling it every time.
fn pulling_project(image: &str) -> (Project, String) {
    let job = unique("pull-fault");
    let project = Project::new(&drakefile(&format!(
        "  {job}:
    primaryContainer:
      name: main
      image: {image}
      imagePullPolicy: Always
      command: [echo, ran]
"
    )));
    (project, job)
}

fn run_with_fast_retries(project: &Project, job: &str) -> Run {
    eider(project, &["run", "--timeout", "2m", job])
}

/// Runs `job`, which pulls `image`, and asserts that it failed because the image is not
/// available, naming it.
#[track_caller]
fn run_without_the_image(project: &Project, job: &str, image: &str) -> Run {
    let run = run_with_fast_retries(project, job);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains(&format!("image `{image}` is not available")),
        "{}",
        run.stderr
    );
    run
}

/// `eider ARGS...` in the project, with short retry waits.
fn eider(project: &Project, arguments: &[&str]) -> Run {
    Run::from(
        project
            .eider()
            .env("EIDER_REGISTRY_RETRY_BASE_MS", RETRY_BASE_MS)
            .args(arguments)
            .output()
            .expect("run eider"),
    )
}

// The engine's pulls (`eider run`).

#[test]
fn run_retries_a_pull_the_registry_answered_with_5xx_or_429_and_runs_the_job() {
    let proxy = FaultProxy::start(&registry());
    let image = busybox_through(&proxy);
    let _image_name = ImageNameGuard(image.clone());
    proxy.add(Rule::new("*", MANIFESTS, Fault::status(503)).first(1));
    proxy.add(Rule::new("*", MANIFESTS, Fault::too_many_requests("1")).first(1));
    let (project, job) = pulling_project(&image);

    let run = run_with_fast_retries(&project, &job);
    run.assert_code(0);
    assert_eq!(run.stdout, format!("[{job}/main] ran\n"));
    let statuses: Vec<Option<u16>> = proxy
        .matching("*", MANIFESTS)
        .iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(statuses[..2], [Some(503), Some(429)], "{statuses:?}");
    assert!(statuses[2..].iter().all(|status| *status == Some(200)));
    assert_no_leftovers(&run);
}

#[test]
fn run_gives_up_on_a_registry_that_refuses_connections_after_bounded_tries_naming_the_image() {
    let image = format!("{}/eider-test/busybox:latest", unused_address());
    let _image_name = ImageNameGuard(image.clone());
    let (project, job) = pulling_project(&image);

    let run = run_without_the_image(&project, &job, &image);
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    assert!(run.stderr.contains("(tried 4 times)"), "{}", run.stderr);
    assert_no_leftovers(&run);
}

#[test]
fn run_fails_fast_when_the_image_is_missing_naming_it() {
    let proxy = FaultProxy::start(&registry());
    let image = format!("{}/eider-test/{}:latest", proxy.address(), unique("absent"));
    let _image_name = ImageNameGuard(image.clone());
    let (project, job) = pulling_project(&image);

    let run = run_without_the_image(&project, &job, &image);
    assert!(run.stderr.contains("manifest unknown"), "{}", run.stderr);
    assert!(!run.stderr.contains("tried"), "{}", run.stderr);
    // One pull: the engine's `HEAD` and `GET` of the manifest, once each.
    let manifest_requests = proxy.matching("*", MANIFESTS).len();
    assert_eq!(manifest_requests, 2, "{:#?}", proxy.requests());
    assert_no_leftovers(&run);
}

#[test]
fn run_fails_fast_when_the_registry_wants_credentials() {
    let proxy = FaultProxy::start(&registry());
    proxy.add(Rule::new("*", "*", Fault::unauthorized()));
    let image = busybox_through(&proxy);
    let _image_name = ImageNameGuard(image.clone());
    let (project, job) = pulling_project(&image);

    let run = run_without_the_image(&project, &job, &image);
    assert!(!run.stderr.contains("tried"), "{}", run.stderr);
    let first_try = proxy.requests().len();
    assert!(first_try <= 3, "{:#?}", proxy.requests());
    assert_no_leftovers(&run);
}

// eider's own pulls (`eider verify`, `eider package --base`).

#[test]
fn verify_retries_5xx_429_and_a_blob_cut_mid_body_and_reads_the_same_image() {
    let project = Project::new(&drakefile(""));
    let direct = eider(&project, &["verify", &support::registry_image()]);
    direct.assert_code(0);

    let proxy = FaultProxy::start(&registry());
    proxy.add(Rule::new("GET", MANIFESTS, Fault::status(502)).first(1));
    proxy.add(Rule::new("GET", MANIFESTS, Fault::too_many_requests("1")).first(1));
    proxy.add(Rule::new("GET", BLOBS, Fault::ResetResponseBody { after: 1000 }).first(1));
    let through = eider(&project, &["verify", &busybox_through(&proxy)]);
    through.assert_code(0);
    assert_eq!(through.stdout, direct.stdout);
    let manifests = proxy.matching("GET", MANIFESTS);
    assert_eq!(
        manifests
            .iter()
            .map(|request| request.status)
            .collect::<Vec<_>>()[..3],
        [Some(502), Some(429), Some(200)]
    );
    let waited = manifests[2].at.duration_since(manifests[1].at);
    assert!(waited >= Duration::from_secs(1), "waited {waited:?}");
}

#[test]
fn verify_fails_fast_on_a_missing_image_naming_it_and_the_registry_s_answer() {
    let project = Project::new(&drakefile(""));
    let proxy = FaultProxy::start(&registry());
    let image = format!("{}/eider-test/{}:v1", proxy.address(), unique("absent"));
    let run = eider(&project, &["verify", &image]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains(&format!("cannot fetch the manifest of {image}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("404 Not Found: MANIFEST_UNKNOWN"),
        "{}",
        run.stderr
    );
    assert_eq!(proxy.matching("GET", MANIFESTS).len(), 1);
}

#[test]
fn verify_fails_fast_when_the_registry_refuses_the_credentials_and_never_shows_them() {
    let project = Project::new(&drakefile(""));
    let proxy = FaultProxy::start(&support::test_environment("EIDER_TEST_AUTH_REGISTRY"));
    let image = format!("{}/eider-test/busybox:latest", proxy.address());
    let secret = "wrong-password-5521";
    let run = eider(
        &project,
        &[
            "verify",
            &image,
            "--registry-auth",
            &format!("eider-test:{secret}"),
        ],
    );
    run.assert_code(1);
    assert!(run.stderr.contains(&image), "{}", run.stderr);
    assert!(
        run.stderr.contains("refused the credentials"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(secret), "{}", run.stderr);
    // Once to meet the challenge, once with the credentials: never again.
    assert_eq!(proxy.matching("GET", MANIFESTS).len(), 2);
}

#[test]
fn package_base_from_a_registry_retries_5xx_and_fails_fast_on_404() {
    let (project, job) = source_project();
    let proxy = FaultProxy::start(&registry());
    proxy.add(Rule::new("*", MANIFESTS, Fault::status(503)).first(2));
    let base = format!("docker://{}", busybox_through(&proxy));
    let layout = format!("oci:{}:{job}", project.state_path().join("out").display());
    let run = eider(&project, &["package", &job, "--base", &base, "-o", &layout]);
    run.assert_code(0);
    let statuses: Vec<Option<u16>> = proxy
        .matching("*", MANIFESTS)
        .iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(statuses[..3], [Some(503), Some(503), Some(200)]);

    let missing = format!("{}/eider-test/{}:v1", proxy.address(), unique("absent"));
    let before = proxy.requests().len();
    let run = eider(
        &project,
        &[
            "package",
            &job,
            "--base",
            &format!("docker://{missing}"),
            "-o",
            &layout,
        ],
    );
    run.assert_code(1);
    assert!(run.stderr.contains(&missing), "{}", run.stderr);
    assert!(run.stderr.contains("404 Not Found"), "{}", run.stderr);
    let tries = proxy.requests()[before..]
        .iter()
        .filter(|request| request.is("*", MANIFESTS))
        .count();
    assert_eq!(tries, 1, "{:#?}", proxy.requests());
}

// Pushes (`eider package -o docker://`).

/// A project with a job to package, committed in git (the package's version).
fn source_project() -> (Project, String) {
    let job = unique("push-fault");
    let project = Project::new(&drakefile(&format!(
        "  {job}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /src
      command: [cat, /src/data.txt]
"
    )));
    // Enough incompressible bytes that a layer is uploaded in several pieces.
    let noise: String = (0..200_000_u32)
        .map(|index| char::from(b'a' + (index.wrapping_mul(2_654_435_761) >> 27) as u8 % 26))
        .collect();
    project.write("data.txt", &noise);
    git(project.path(), &["init", "-q"]);
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-q", "-m", "source"]);
    (project, job)
}

/// What skopeo reads for `reference` straight from the registry: its digest, or `None` when
/// the registry has no such image.
fn skopeo_digest(reference: &str) -> Option<String> {
    let output = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo runs (bash scripts/test-env.sh installs it)");
    if !output.status.success() {
        return None;
    }
    let inspected: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("skopeo prints JSON");
    inspected["Digest"].as_str().map(str::to_owned)
}

#[test]
fn package_push_recovers_from_resets_mid_blob_a_lost_session_and_a_503_on_the_manifest() {
    let (project, job) = source_project();
    let proxy = FaultProxy::start(&registry());
    // The layer streamed while it is compressed is cut; so is the first ordinary upload.
    proxy.add(Rule::new("PATCH", UPLOADS, Fault::ResetRequestBody { after: 1000 }).first(1));
    proxy.add(Rule::new("PUT", UPLOADS, Fault::ResetRequestBody { after: 100 }).first(1));
    proxy.add(Rule::new("PUT", UPLOADS, Fault::upload_unknown()).first(1));
    proxy.add(Rule::new("PUT", MANIFESTS, Fault::status(503)).first(1));
    let name = format!("eider-test/{job}:v1");
    let through = format!("{}/{name}", proxy.address());

    let run = eider(
        &project,
        &["package", &job, "-o", &format!("docker://{through}")],
    );
    run.assert_code(0);
    let digest = run.stdout.trim().to_owned();
    assert!(digest.starts_with("sha256:"), "{}", run.stderr);
    // The registry holds the whole image, under the digest eider printed.
    assert_eq!(
        skopeo_digest(&format!("{}/{name}", registry())),
        Some(digest.clone())
    );
    let verified = eider(&project, &["verify", &format!("{}/{name}", registry())]);
    verified.assert_code(0);
    assert_eq!(verified.stdout.trim(), digest);
    // The manifest went after every blob.
    let requests = proxy.requests();
    let manifest_at = requests
        .iter()
        .rposition(|request| request.is("PUT", MANIFESTS))
        .expect("the manifest was put");
    assert!(
        requests[manifest_at + 1..]
            .iter()
            .all(|request| !request.path.contains("/blobs/")),
        "{requests:#?}"
    );
    assert_eq!(proxy.matching("PUT", MANIFESTS).len(), 2);

    // Pushed again: every blob is there, none is uploaded.
    let before = proxy.requests().len();
    let again = eider(
        &project,
        &["package", &job, "-o", &format!("docker://{through}")],
    );
    again.assert_code(0);
    let uploads: Vec<_> = proxy.requests()[before..]
        .iter()
        .filter(|request| request.path.contains("/uploads/"))
        .cloned()
        .collect();
    assert!(uploads.is_empty(), "{uploads:#?}");
}

#[test]
fn package_push_whose_manifest_is_always_refused_names_it_and_leaves_no_tag() {
    let (project, job) = source_project();
    let proxy = FaultProxy::start(&registry());
    proxy.add(Rule::new("PUT", MANIFESTS, Fault::status(503)));
    let name = format!("eider-test/{job}:v1");
    let through = format!("{}/{name}", proxy.address());

    let run = eider(
        &project,
        &["package", &job, "-o", &format!("docker://{through}")],
    );
    run.assert_code(1);
    assert!(
        run.stderr
            .contains(&format!("cannot push the package to docker://{through}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("cannot push manifest sha256:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("503 Service Unavailable"),
        "{}",
        run.stderr
    );
    assert_eq!(skopeo_digest(&format!("{}/{name}", registry())), None);
}

/// A registry that asks every client for basic credentials, and records what it is sent.
fn registry_asking_for_credentials() -> FaultProxy {
    let proxy = FaultProxy::start(&registry());
    proxy.add(Rule::new("*", "/v2/*", Fault::unauthorized()));
    proxy
}

/// Asserts that `proxy` saw requests and that none carried credentials.
#[track_caller]
fn assert_never_sent_credentials(proxy: &FaultProxy) {
    let requests = proxy.requests();
    assert!(!requests.is_empty(), "the registry was never asked");
    for request in requests {
        assert_eq!(
            request.authorization, None,
            "{} {} carried credentials",
            request.method, request.path
        );
    }
}

#[test]
fn push_credentials_never_go_to_a_registry_the_drakefile_names() {
    let other = registry_asking_for_credentials();
    let job = unique("credential-scope");
    let project = Project::new(&drakefile(&format!(
        "  {job}:
    sidecarContainers:
    - name: helper
      image: {}
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /src
      command: [echo, ran]
",
        busybox_through(&other)
    )));
    git(project.path(), &["init", "-q"]);
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-q", "-m", "source"]);
    let destination = format!(
        "{}/eider-test/{job}:1",
        support::test_environment("EIDER_TEST_AUTH_REGISTRY")
    );
    let credentials = format!(
        "{}:{}",
        support::test_environment("EIDER_TEST_AUTH_REGISTRY_USER"),
        support::test_environment("EIDER_TEST_AUTH_REGISTRY_PASSWORD")
    );
    let run = Run::from(
        project
            .eider()
            .env("EIDER_REGISTRY_AUTH", &credentials)
            .env("DOCKER_CONFIG", project.state_path())
            .env("EIDER_REGISTRY_RETRY_BASE_MS", RETRY_BASE_MS)
            .args(["package", &job, "--output", &destination])
            .output()
            .expect("run eider"),
    );
    run.assert_code(1);
    assert!(
        run.stderr.contains(&busybox_through(&other)),
        "{}",
        run.stderr
    );
    assert_never_sent_credentials(&other);
}

#[test]
fn credentials_for_one_host_never_go_to_another_in_lock_and_verify() {
    let other = registry_asking_for_credentials();
    let image = busybox_through(&other);
    let project = Project::new(&drakefile(&format!(
        "  uses-other:
    primaryContainer:
      name: main
      image: {image}
      command: [echo, ran]
"
    )));
    let authenticated = support::test_environment("EIDER_TEST_AUTH_REGISTRY");
    let user = support::test_environment("EIDER_TEST_AUTH_REGISTRY_USER");
    let password = support::test_environment("EIDER_TEST_AUTH_REGISTRY_PASSWORD");
    // The Docker configuration has credentials for the authenticated registry only.
    std::fs::write(
        project.state_path().join("config.json"),
        format!(
            r#"{{"auths": {{"{authenticated}": {{"username": "{user}", "password": "{password}"}}}}}}"#
        ),
    )
    .expect("write the Docker configuration");
    let eider_with = |arguments: &[&str]| {
        Run::from(
            project
                .eider()
                .env("DOCKER_CONFIG", project.state_path())
                .env("EIDER_REGISTRY_RETRY_BASE_MS", RETRY_BASE_MS)
                .args(arguments)
                .output()
                .expect("run eider"),
        )
    };
    let scoped = format!("{authenticated}={user}:{password}");
    eider_with(&[
        "lock",
        "--base-from",
        "registry",
        "--registry-auth",
        &scoped,
    ])
    .assert_code(1);
    assert_never_sent_credentials(&other);
    eider_with(&["verify", &image, "--registry-auth", &scoped]).assert_code(1);
    assert_never_sent_credentials(&other);
}
