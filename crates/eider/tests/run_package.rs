//! `eider run PACKAGE` against the real engine and the local registry prepared by
//! `scripts/test-env.sh`: a packaged job run where there is no Drakefile and no source tree,
//! from an OCI layout and from a registry by digest, with its configuration given at run time.

mod support;

use support::packaging::{RemoveRepository, eider, package};
use support::{BUSYBOX, Project, git, registry, registry_image, unique};

/// A job with a sidecar whose primary shows the source it was packaged with and the variables
/// the run gives it, then exits with `$EXIT_CODE` (0 when unset).
fn drakefile(job: &str) -> String {
    support::drakefile(&format!(
        "  {job}:
    sidecarContainers:
    - name: helper
      image: {BUSYBOX}
      command: [sh, -c, 'echo helper up; sleep 60']
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /src
      environment:
      - GREETING=from the Drakefile
      command: [sh, -c]
      args: ['sleep 1; echo \"greeting=$GREETING\"; echo \"given=$GIVEN\"; echo \"token=$TOKEN\"; cat /src/data/message.txt; exit ${{EXIT_CODE:-0}}']
"
    ))
}

/// A committed project holding the job.
fn project(job: &str) -> Project {
    let project = Project::new(&drakefile(job));
    project.write("data/message.txt", "the packaged message\n");
    git(project.path(), &["init", "-q"]);
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-q", "-m", "source"]);
    project
}

/// A directory with nothing in it (no Drakefile, no source) where eider runs.
fn empty_directory() -> Project {
    let empty = Project::new("");
    std::fs::remove_file(empty.path().join("Drakefile.yaml")).expect("remove the Drakefile");
    empty
}

#[test]
fn a_package_in_an_oci_layout_runs_in_an_empty_directory_with_run_time_configuration() {
    let job = unique("run-layout");
    let project = project(&job);
    let layout = project.state_path().join("layout");
    let location = format!("oci:{}:{job}", layout.display());
    package(&project, &[&job, "--output", &location]).assert_code(0);
    let _loaded = RemoveRepository(format!("eider-verified/{job}"));

    let empty = empty_directory();
    let secrets = empty.state_path().join("secrets.yaml");
    std::fs::write(&secrets, "TOKEN: run-time-secret-4417\n").expect("write the secrets");
    let secrets = secrets.to_str().expect("UTF-8 path");
    let run = eider(
        &empty,
        "run",
        &[&location, "-e", "GIVEN=at run time", "-s", secrets],
    );
    run.assert_code(0);
    assert_eq!(
        run.lines_of(&job, "main"),
        [
            "greeting=from the Drakefile",
            "given=at run time",
            "token=***",
            "the packaged message"
        ]
    );
    assert_eq!(run.lines_of(&job, "helper"), ["helper up"]);
    assert!(
        !run.stdout.contains("run-time-secret-4417"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stderr.contains("run-time-secret-4417"),
        "{}",
        run.stderr
    );
    support::assert_no_leftovers(&run);
    // Nothing was written where it ran.
    let left: Vec<_> = std::fs::read_dir(empty.path())
        .expect("list the directory")
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // The Drakefile's environment wins over -e; the primary's failure is the run's.
    let failed = eider(
        &empty,
        "run",
        &[&location, "-e", "GREETING=ignored", "-e", "EXIT_CODE=7"],
    );
    failed.assert_code(1);
    assert_eq!(
        failed.lines_of(&job, "main")[0],
        "greeting=from the Drakefile"
    );
    assert!(
        failed
            .stderr
            .contains("container `main` exited with code 7"),
        "{}",
        failed.stderr
    );
    support::assert_no_leftovers(&failed);
}

#[test]
fn a_package_in_a_registry_runs_by_digest_in_an_empty_directory() {
    let job = unique("run-registry");
    let project = project(&job);
    let reference = format!("{}/eider-test/{job}:v1", registry());
    let packaged = package(&project, &[&job, "--output", &reference, "--json"]);
    packaged.assert_code(0);
    let described: serde_json::Value = serde_json::from_str(&packaged.stdout).expect("JSON");
    let digest = described["digest"].as_str().expect("digest");
    let _loaded = RemoveRepository(format!("eider-verified/{job}"));

    let empty = empty_directory();
    let by_digest = format!("{}/eider-test/{job}@{digest}", registry());
    let run = eider(&empty, "run", &[&by_digest, "-e", "GIVEN=by digest"]);
    run.assert_code(0);
    assert_eq!(
        run.lines_of(&job, "main"),
        [
            "greeting=from the Drakefile",
            "given=by digest",
            "token=",
            "the packaged message"
        ]
    );
    support::assert_no_leftovers(&run);

    // The same package by its tag, through the registry prefix.
    let by_tag = eider(&empty, "run", &[&format!("docker://{reference}")]);
    by_tag.assert_code(0);
    assert_eq!(by_tag.lines_of(&job, "main")[3], "the packaged message");
    support::assert_no_leftovers(&by_tag);
}

#[test]
fn verify_run_without_a_drakefile_runs_the_job_the_package_records() {
    let job = unique("verify-recorded");
    let project = project(&job);
    let layout = project.state_path().join("layout");
    let location = format!("oci:{}:{job}", layout.display());
    package(&project, &[&job, "--output", &location]).assert_code(0);
    let _loaded = RemoveRepository(format!("eider-verified/{job}"));

    let empty = empty_directory();
    let run = eider(&empty, "verify", &[&location, "--run"]);
    run.assert_code(0);
    assert_eq!(run.lines_of(&job, "main")[3], "the packaged message");
    assert_eq!(run.lines_of(&job, "helper"), ["helper up"]);
    support::assert_no_leftovers(&run);
}

#[test]
fn an_image_that_is_not_a_package_is_exit_2_and_runs_nothing() {
    let empty = empty_directory();
    let image = registry_image();
    let run = eider(&empty, "run", &[&image]);
    run.assert_code(2);
    assert!(run.stderr.contains(&image), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is not a package of eider: it has no `dev.eider.job` label"),
        "{}",
        run.stderr
    );
    // No run started: no output, no summary.
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(!run.stderr.contains("(run "), "{}", run.stderr);
}

#[test]
fn a_word_stays_a_job_name_and_needs_a_drakefile() {
    let empty = empty_directory();
    let run = eider(&empty, "run", &["build"]);
    run.assert_code(2);
    assert!(run.stderr.contains("Drakefile.yaml"), "{}", run.stderr);
}

#[test]
fn a_registry_a_package_cannot_be_pushed_to_for_a_cluster_is_refused_before_it_is_fetched() {
    let empty = empty_directory();
    // Nothing is at this address: a fetch would fail otherwise.
    let run = eider(
        &empty,
        "run",
        &[
            "127.0.0.1:9/eider/absent@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "--backend",
            "kubernetes",
            "--registry",
            "127.0.0.1:9/eider/packages:a-tag",
        ],
    );
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("--registry 127.0.0.1:9/eider/packages:a-tag"),
        "{}",
        run.stderr
    );
}
