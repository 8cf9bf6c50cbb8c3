//! `eider lock` and `eider run --locked` against the real Docker Engine and the open test
//! registry prepared by `scripts/test-env.sh`: what the lock records for a local and a registry
//! image, how `--check` sees a Drakefile or a tag that changed, and that a locked run keeps the
//! locked digest and refuses what the lock does not cover.
//!
//! Every repository a test pushes to is unique to it, and a guard removes what it pushed and
//! tagged, also when the test fails.

mod support;

use std::fmt::Write as _;
use std::process::Command;

use support::{
    BUSYBOX, ENTRYPOINT_IMAGE, Project, Run, docker, drakefile, events::ContainerEvents, registry,
    registry_image, test_environment, unique,
};

/// What `eider-test/entrypoint` prints when run without a command (its ENTRYPOINT and CMD).
const ENTRYPOINT_OUTPUT: &str = "from-entrypoint from-cmd";

/// Registry manifests and local image references a test made, removed when it ends.
#[derive(Default)]
struct Cleanup {
    /// `REGISTRY/REPOSITORY@DIGEST` of manifests pushed to a test registry, with the
    /// registry's `USER:PASSWORD` when it asks for them.
    manifests: Vec<(String, Option<String>)>,
    /// Local references (tags, `REPOSITORY@DIGEST`) to remove from the engine.
    local: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // Best effort: what remains is unique to this test and harms no other.
        for (manifest, credentials) in &self.manifests {
            let mut delete = Command::new("skopeo");
            delete.args(["delete", "--tls-verify=false"]);
            if let Some(credentials) = credentials {
                delete.args(["--creds", credentials]);
            }
            let _ = delete.arg(format!("docker://{manifest}")).output();
        }
        if !self.local.is_empty() {
            let _ = Command::new("docker")
                .args(["image", "rm", "--force"])
                .args(&self.local)
                .output();
        }
    }
}

impl Cleanup {
    /// Pushes `image` to `REPOSITORY:TAG` in the test registry and leaves no local tag behind;
    /// returns the manifest digest the registry gave it (the engine's `RepoDigests` entry).
    fn push(&mut self, image: &str, repository: &str, tag: &str) -> String {
        let target = format!("{repository}:{tag}");
        docker(&["tag", image, &target]);
        self.local.push(target.clone());
        docker(&["push", "--quiet", &target]);
        let digest = repo_digest(&target, repository);
        self.manifests
            .push((format!("{repository}@{digest}"), None));
        self.local.push(format!("{repository}@{digest}"));
        // Without a local tag, `auto` resolution has to ask the registry.
        docker(&["image", "rm", &target]);
        digest
    }
}

/// Copies local `image` to `REFERENCE` in the test registry that asks for `credentials`
/// (the engine cannot push there without a `docker login`); returns the manifest digest.
fn push_with_credentials(
    cleanup: &mut Cleanup,
    image: &str,
    reference: &str,
    credentials: &str,
) -> String {
    let copied = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds"])
        .arg(credentials)
        .arg(format!("docker-daemon:{image}"))
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    assert!(
        copied.status.success(),
        "skopeo copy: {}",
        String::from_utf8_lossy(&copied.stderr)
    );
    let inspected = Command::new("skopeo")
        .args([
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            "--creds",
        ])
        .arg(credentials)
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    let digest = String::from_utf8_lossy(&inspected.stdout).trim().to_owned();
    assert!(digest.starts_with("sha256:"), "skopeo inspect: {digest}");
    let repository = reference
        .rsplit_once(':')
        .map_or(reference, |(name, _)| name);
    cleanup.manifests.push((
        format!("{repository}@{digest}"),
        Some(credentials.to_owned()),
    ));
    digest
}

/// The digest of `image`'s `RepoDigests` entry for `repository`: the manifest digest the
/// registry holds, as the engine recorded it after a push or a pull.
fn repo_digest(image: &str, repository: &str) -> String {
    let prefix = format!("{repository}@");
    docker(&[
        "image",
        "inspect",
        "--format",
        "{{range .RepoDigests}}{{println .}}{{end}}",
        image,
    ])
    .iter()
    .find_map(|line| line.strip_prefix(&prefix).map(ToOwned::to_owned))
    .unwrap_or_else(|| panic!("{image} has no repo digest for {repository}"))
}

/// The engine's id of a local image.
fn image_id(image: &str) -> String {
    docker(&["image", "inspect", "--format", "{{.Id}}", image]).concat()
}

/// `sha256:HEX` of a file's bytes, from `sha256sum`.
fn file_digest(path: &std::path::Path) -> String {
    let output = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("run sha256sum");
    let text = String::from_utf8_lossy(&output.stdout);
    let hex = text.split_whitespace().next().expect("a digest");
    format!("sha256:{hex}")
}

/// A job whose primary container runs `image`, with `command` when there is one (else the
/// image's entrypoint and cmd).
fn job(name: &str, image: &str, command: Option<&str>) -> String {
    let mut yaml =
        format!("  {name}:\n    primaryContainer:\n      name: main\n      image: {image}\n");
    if let Some(command) = command {
        let _ = writeln!(yaml, "      command: {command}");
    }
    yaml
}

fn lock(project: &Project, arguments: &[&str]) -> Run {
    project.command(&[&["lock"], arguments].concat())
}

fn read_lock(project: &Project) -> String {
    std::fs::read_to_string(project.path().join("Drakefile.lock")).expect("Drakefile.lock")
}

#[test]
fn lock_records_the_engine_id_of_a_local_image_and_the_manifest_digest_of_a_registry_image() {
    let mut cleanup = Cleanup::default();
    let repository = format!("{}/eider-test/{}", registry(), unique("lock-digests"));
    let manifest = cleanup.push(BUSYBOX, &repository, "v1");
    let remote = format!("{repository}:v1");
    let local_id = image_id(BUSYBOX);
    // `Always` must not make the engine pull an image id, which no registry serves.
    let local_job = format!(
        "{}      imagePullPolicy: Always\n",
        job("local", BUSYBOX, Some("[\"echo\", \"local\"]"))
    );
    let project = Project::new(&drakefile(&format!(
        "{local_job}{}",
        job("remote", &remote, Some("[\"echo\", \"remote\"]")),
    )));

    let run = lock(&project, &[]);
    run.assert_code(0);
    assert_eq!(run.stdout, "", "lock prints nothing on stdout");
    assert!(
        run.stderr
            .contains(&format!("Locked {BUSYBOX} -> {local_id} (daemon)")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("Locked {remote} -> {manifest} (registry)")),
        "{}",
        run.stderr
    );
    let drakefile_digest = file_digest(&project.path().join("Drakefile.yaml"));
    let expected = format!(
        r#"{{
  "drakefile": "{drakefile_digest}",
  "images": {{
    "{remote}": {{
      "digest": "{manifest}",
      "pinned": "{repository}@{manifest}",
      "source": "registry"
    }},
    "{BUSYBOX}": {{
      "digest": "{local_id}",
      "pinned": "{local_id}",
      "source": "daemon"
    }}
  }},
  "lockVersion": 1
}}
"#
    );
    let written = read_lock(&project);
    assert_eq!(written, expected);

    // The same images give the same bytes.
    lock(&project, &[]).assert_code(0);
    assert_eq!(read_lock(&project), written);

    // Both pins run: the engine's id as it is, the registry's digest pulled.
    let run = project.run(&["--locked", "local", "remote"]);
    run.assert_code(0);
    assert_eq!(run.lines_of("local", "main"), ["local"]);
    assert_eq!(run.lines_of("remote", "main"), ["remote"]);
}

#[test]
fn base_from_decides_where_an_image_present_in_both_is_resolved() {
    let image = registry_image();
    let repository = image.trim_end_matches(":latest");
    let project = Project::new(&drakefile(&job("both", &image, None)));

    lock(&project, &[]).assert_code(0);
    let lock_text = read_lock(&project);
    assert!(
        lock_text.contains(&format!("\"digest\": \"{}\"", image_id(&image))),
        "auto prefers the local engine:\n{lock_text}"
    );
    assert!(lock_text.contains("\"source\": \"daemon\""), "{lock_text}");

    lock(&project, &["--base-from", "registry"]).assert_code(0);
    let manifest = repo_digest(&image, repository);
    let lock_text = read_lock(&project);
    assert!(
        lock_text.contains(&format!("\"pinned\": \"{repository}@{manifest}\"")),
        "the registry's manifest digest:\n{lock_text}"
    );
    assert!(
        lock_text.contains("\"source\": \"registry\""),
        "{lock_text}"
    );
}

#[test]
fn lock_check_is_current_until_the_drakefile_changes_its_images() {
    let project = Project::new(&drakefile(&job("first", BUSYBOX, Some("[\"true\"]"))));
    lock(&project, &[]).assert_code(0);
    let written = read_lock(&project);

    let run = lock(&project, &["--check"]);
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("Drakefile.lock is up to date (1 image)"),
        "{}",
        run.stderr
    );

    project.write(
        "Drakefile.yaml",
        &drakefile(&format!(
            "{}{}",
            job("first", BUSYBOX, Some("[\"true\"]")),
            job("second", ENTRYPOINT_IMAGE, None)
        )),
    );
    let run = lock(&project, &["--check"]);
    run.assert_code(1);
    assert!(
        run.stderr.contains(&format!(
            "missing: image `{ENTRYPOINT_IMAGE}` (job `second`, container `main`) is not in the lock"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("error: Drakefile.lock is out of date: 1 difference"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: run `eider lock`"),
        "{}",
        run.stderr
    );

    project.write(
        "Drakefile.yaml",
        &drakefile(&job("second", ENTRYPOINT_IMAGE, None)),
    );
    let run = lock(&project, &["--check"]);
    run.assert_code(1);
    assert!(
        run.stderr.contains(&format!(
            "stale: image `{BUSYBOX}` is in the lock but no longer in the Drakefile"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("out of date: 2 differences"),
        "{}",
        run.stderr
    );
    assert_eq!(read_lock(&project), written, "--check writes nothing");
}

#[test]
fn a_tag_that_moves_fails_the_check_and_changes_nothing_for_a_locked_run() {
    let mut cleanup = Cleanup::default();
    let repository = format!("{}/eider-test/{}", registry(), unique("lock-moved"));
    let tag = format!("{repository}:v1");
    let name = unique("moved");
    let project = Project::new(&drakefile(&job(&name, &tag, None)));

    let locked = cleanup.push(ENTRYPOINT_IMAGE, &repository, "v1");
    lock(&project, &[]).assert_code(0);
    assert!(
        read_lock(&project).contains(&format!("\"pinned\": \"{repository}@{locked}\"")),
        "{}",
        read_lock(&project)
    );
    lock(&project, &["--check"]).assert_code(0);

    // The tag moves to an image with no entrypoint.
    let moved = cleanup.push(BUSYBOX, &repository, "v1");
    assert_ne!(locked, moved);
    let run = lock(&project, &["--check"]);
    run.assert_code(1);
    assert!(
        run.stderr.contains(&format!(
            "moved: image `{tag}` is locked at {locked} (registry) but now resolves to {moved} \
             (registry)"
        )),
        "{}",
        run.stderr
    );

    let run = project.run(&["--locked", &name]);
    run.assert_code(0);
    assert_eq!(run.lines_of(&name, "main"), [ENTRYPOINT_OUTPUT]);

    // Without the lock the moved tag runs: busybox's shell, which prints nothing.
    cleanup.local.push(tag.clone());
    let run = project.run(&[&name]);
    run.assert_code(0);
    assert_eq!(run.lines_of(&name, "main"), Vec::<String>::new());
}

#[test]
fn a_locked_run_refuses_an_image_the_lock_does_not_cover_and_runs_nothing() {
    let covered = unique("covered");
    let uncovered = unique("uncovered");
    let project = Project::new(&drakefile(&job(&covered, BUSYBOX, Some("[\"true\"]"))));
    lock(&project, &[]).assert_code(0);
    project.write(
        "Drakefile.yaml",
        &drakefile(&format!(
            "{}{}",
            job(&covered, BUSYBOX, Some("[\"true\"]")),
            job(&uncovered, ENTRYPOINT_IMAGE, None)
        )),
    );
    let recorder = ContainerEvents::record();

    let expected = format!(
        "error: Drakefile.lock does not cover image `{ENTRYPOINT_IMAGE}` (job `{uncovered}`, \
         container `main`)"
    );
    for arguments in [
        vec!["--locked", covered.as_str(), uncovered.as_str()],
        vec!["--locked", "--dry-run", uncovered.as_str()],
    ] {
        let run = project.run(&arguments);
        run.assert_code(2);
        assert_eq!(run.stdout, "", "{arguments:?}");
        assert!(run.stderr.contains(&expected), "{}", run.stderr);
        assert!(
            run.stderr.contains("hint: run `eider lock`"),
            "{}",
            run.stderr
        );
    }
    for job in [&covered, &uncovered] {
        assert_eq!(
            recorder.of_job(job),
            Vec::<String>::new(),
            "a container of {job} was created"
        );
    }
}

#[test]
fn a_missing_lock_file_is_bad_input_with_a_hint_to_write_it() {
    let name = unique("unlocked");
    let project = Project::new(&drakefile(&job(&name, BUSYBOX, Some("[\"true\"]"))));
    let recorder = ContainerEvents::record();
    for run in [
        project.run(&["--locked", &name]),
        lock(&project, &["--check"]),
    ] {
        run.assert_code(2);
        assert!(
            run.stderr
                .contains("error: no lock file: Drakefile.lock does not exist"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("hint: run `eider lock`"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(recorder.of_job(&name), Vec::<String>::new());
}

#[test]
fn registry_auth_reaches_the_registry_and_never_the_output() {
    let mut cleanup = Cleanup::default();
    let registry = test_environment("EIDER_TEST_AUTH_REGISTRY");
    let user = test_environment("EIDER_TEST_AUTH_REGISTRY_USER");
    let password = test_environment("EIDER_TEST_AUTH_REGISTRY_PASSWORD");
    let credentials = format!("{user}:{password}");
    let tag = format!("{registry}/eider-test/{}:v1", unique("lock-auth"));
    let digest = push_with_credentials(&mut cleanup, BUSYBOX, &tag, &credentials);
    let project = Project::new(&drakefile(&job("private", &tag, None)));
    // No Docker configuration: the flag is the only source of credentials.
    let lock = |arguments: &[&str]| {
        Run::from(
            project
                .eider()
                .env("DOCKER_CONFIG", project.state_path())
                .arg("lock")
                .args(arguments)
                .output()
                .expect("run eider"),
        )
    };

    let run = lock(&[]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("requires authentication"),
        "{}",
        run.stderr
    );

    let wrong = format!("{registry}={user}:not-the-password-3141");
    let run = lock(&["--registry-auth", &wrong]);
    run.assert_code(1);
    assert!(
        !run.stderr.contains("not-the-password-3141"),
        "{}",
        run.stderr
    );

    lock(&["--registry-auth", &format!("{registry}={credentials}")]).assert_code(0);
    assert!(
        read_lock(&project).contains(&format!("\"digest\": \"{digest}\"")),
        "{}",
        read_lock(&project)
    );
}

#[test]
fn registry_auth_without_a_host_goes_to_no_registry_of_lock_which_writes_to_none() {
    let project = Project::new(&drakefile(&job("local", BUSYBOX, None)));
    let run = Run::from(
        project
            .eider()
            .args(["lock", "--registry-auth", "alice:secret-of-lock-2718"])
            .output()
            .expect("run eider"),
    );
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("warning: --registry-auth USER:PASSWORD is not used"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("HOST=USER:PASSWORD"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("secret-of-lock-2718"),
        "{}",
        run.stderr
    );
}
