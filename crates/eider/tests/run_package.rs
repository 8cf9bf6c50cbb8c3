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

/// A project holding `job`, packaged into an OCI layout of its state directory; returns the
/// project and the package's location (`oci:DIR:JOB`).
fn packaged(job: &str) -> (Project, String) {
    let project = project(job);
    let layout = project.state_path().join("layout");
    let location = format!("oci:{}:{job}", layout.display());
    package(&project, &[job, "--output", &location]).assert_code(0);
    (project, location)
}

/// The JSON file at `path`.
fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// A blob of an OCI layout, by digest.
fn blob_path(layout: &std::path::Path, digest: &str) -> std::path::PathBuf {
    let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
    layout.join("blobs/sha256").join(hex)
}

/// The manifest of the only image of an OCI layout: its digest and content.
fn only_manifest(layout: &std::path::Path) -> (String, serde_json::Value) {
    let index = read_json(&layout.join("index.json"));
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .expect("a manifest digest")
        .to_owned();
    let manifest = read_json(&blob_path(layout, &digest));
    (digest, manifest)
}

#[test]
fn env_files_and_arguments_reach_a_package_with_the_precedence_of_a_drakefile_run() {
    let job = unique("run-env");
    let (project, location) = packaged(&job);
    let _loaded = RemoveRepository(format!("eider-verified/{job}"));

    // The same configuration, in files of their own, for both runs.
    let configuration = project.state_path().join("configuration");
    std::fs::create_dir_all(&configuration).expect("a directory for the configuration");
    let secrets = configuration.join("secrets.yaml");
    std::fs::write(&secrets, "TOKEN: from-the-secrets-5150\n").expect("write the secrets");
    let env_file = configuration.join("run.env");
    std::fs::write(
        &env_file,
        "# secrets < env file < -e < the job's own environment\n\
         TOKEN=from the env file\n\
         GIVEN=from the env file\n\
         GREETING=the env file loses\n",
    )
    .expect("write the env file");
    let (secrets, env_file) = (
        secrets.to_str().expect("UTF-8 path"),
        env_file.to_str().expect("UTF-8 path"),
    );
    let arguments = |target: &str| -> Vec<String> {
        [
            target,
            "-s",
            secrets,
            "--env-file",
            env_file,
            "-e",
            "GIVEN=from -e",
            "-e",
            "GREETING=-e loses",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let expected = [
        "greeting=from the Drakefile",
        "given=from -e",
        "token=from the env file",
        "the packaged message",
    ];

    let from_drakefile = project.run(
        &arguments(&job)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    from_drakefile.assert_code(0);
    assert_eq!(from_drakefile.lines_of(&job, "main"), expected);

    let empty = empty_directory();
    let from_package = eider(
        &empty,
        "run",
        &arguments(&location)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    from_package.assert_code(0);
    assert_eq!(from_package.lines_of(&job, "main"), expected);
    support::assert_no_leftovers(&from_package);

    // Without -e, the env file's value is the one given; its values are not secrets.
    let env_file_only = eider(&empty, "run", &[&location, "--env-file", env_file]);
    env_file_only.assert_code(0);
    assert_eq!(
        env_file_only.lines_of(&job, "main")[..3],
        [
            "greeting=from the Drakefile",
            "given=from the env file",
            "token=from the env file"
        ]
    );
}

#[test]
fn a_package_run_writes_the_reports_it_is_asked_for() {
    let job = unique("run-report");
    let (project, location) = packaged(&job);
    let _loaded = RemoveRepository(format!("eider-verified/{job}"));
    let json = project.state_path().join("report.json");
    let junit = project.state_path().join("report.xml");

    let empty = empty_directory();
    let run = eider(
        &empty,
        "run",
        &[
            &location,
            "-e",
            "EXIT_CODE=3",
            "--report",
            &format!("json={}", json.display()),
            "--report",
            &format!("junit={}", junit.display()),
        ],
    );
    run.assert_code(1);
    support::assert_no_leftovers(&run);

    let report = read_json(&json);
    assert_eq!(report["version"], 1, "{report:#}");
    let record = &report["runs"][0];
    assert_eq!(record["runId"], support::run_id(&run), "{report:#}");
    assert_eq!(record["succeeded"], false, "{report:#}");
    let jobs = record["jobs"].as_array().expect("jobs is a list");
    assert_eq!(jobs.len(), 1, "{report:#}");
    assert_eq!(jobs[0]["name"], job.as_str(), "{report:#}");
    assert_eq!(jobs[0]["result"], "failed", "{report:#}");
    assert_eq!(jobs[0]["exitCode"], 3, "{report:#}");
    assert_eq!(jobs[0]["container"], "main", "{report:#}");

    let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    assert_eq!(xml.matches("<testcase ").count(), 1, "{xml}");
    assert!(xml.contains(&format!("<testcase name=\"{job}\"")), "{xml}");
    assert!(xml.contains("<failure"), "{xml}");
    // The job's output, as the run printed it.
    assert!(xml.contains("[main] the packaged message"), "{xml}");
}

#[test]
fn a_packaged_job_that_outlives_its_timeout_ends_as_a_drakefile_run_does_and_leaves_nothing() {
    let job = unique("run-timeout");
    let project = Project::new(&support::drakefile(&support::busybox_job(
        &job,
        &[("forever", "exec sleep 1000")],
        "echo started; exec sleep 60",
    )));
    git(project.path(), &["init", "-q"]);
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-q", "-m", "source"]);
    let layout = project.state_path().join("layout");
    let location = format!("oci:{}:{job}", layout.display());
    package(&project, &[&job, "--output", &location]).assert_code(0);
    let _loaded = RemoveRepository(format!("eider-verified/{job}"));

    let from_drakefile = project.run(&["--timeout", "2s", &job]);
    let empty = empty_directory();
    let from_package = eider(&empty, "run", &[&location, "--timeout", "2s"]);
    for run in [&from_drakefile, &from_package] {
        run.assert_code(1);
        assert_eq!(run.lines_of(&job, "main"), ["started"]);
        assert!(
            run.stderr
                .contains(&format!("Timed out {job}: timed out after 2s")),
            "{}",
            run.stderr
        );
        support::assert_no_leftovers(run);
    }
    assert_eq!(from_package.code, from_drakefile.code);
    let label = format!("label=eider.job={job}");
    assert_eq!(
        support::docker(&["ps", "-a", "-q", "--filter", &label]),
        Vec::<String>::new()
    );
}

#[test]
fn a_package_whose_recorded_job_is_invalid_is_exit_2_and_runs_nothing() {
    let job = unique("run-invalid");
    let (project, location) = packaged(&job);
    let _loaded = RemoveRepository(format!("eider-verified/{job}"));
    let layout = project.state_path().join("layout");

    // The same package, its job's definition made one no Drakefile could hold (a container
    // name with a space), with its config, manifest and index written again to match: every
    // digest checks out, only the job is wrong.
    let (manifest_digest, mut manifest) = only_manifest(&layout);
    let config_digest = manifest["config"]["digest"]
        .as_str()
        .expect("a config digest")
        .to_owned();
    let mut config = read_json(&blob_path(&layout, &config_digest));
    let labels = &mut config["config"]["Labels"];
    let mut definition: serde_json::Value = serde_json::from_str(
        labels["dev.eider.job.definition"]
            .as_str()
            .expect("a job definition label"),
    )
    .expect("the definition is JSON");
    definition["containers"][0]["name"] = serde_json::json!("not valid");
    labels["dev.eider.job.definition"] = serde_json::json!(definition.to_string());
    let write_blob = |bytes: Vec<u8>| -> (String, usize) {
        let digest = eider_oci::Digest::of(&bytes).to_string();
        std::fs::write(blob_path(&layout, &digest), &bytes).expect("write a blob");
        (digest, bytes.len())
    };
    let (config_digest, config_size) =
        write_blob(serde_json::to_vec(&config).expect("the config as JSON"));
    manifest["config"]["digest"] = serde_json::json!(config_digest);
    manifest["config"]["size"] = serde_json::json!(config_size);
    let (new_manifest, manifest_size) =
        write_blob(serde_json::to_vec(&manifest).expect("the manifest as JSON"));
    let mut index = read_json(&layout.join("index.json"));
    assert_eq!(index["manifests"][0]["digest"], manifest_digest.as_str());
    index["manifests"][0]["digest"] = serde_json::json!(new_manifest);
    index["manifests"][0]["size"] = serde_json::json!(manifest_size);
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).expect("the index as JSON"),
    )
    .expect("write the index");

    let empty = empty_directory();
    let run = eider(&empty, "run", &[&location]);
    run.assert_code(2);
    assert!(
        run.stderr.contains(&format!(
            "{location} records no job eider can run: label `dev.eider.job.definition` is not \
             a job eider can run"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("the container name `not valid` is not a valid name"),
        "{}",
        run.stderr
    );
    // Nothing ran and nothing reached the engine.
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(!run.stderr.contains("(run "), "{}", run.stderr);
    let loaded = support::docker(&["images", "-q", &format!("eider-verified/{job}")]);
    assert_eq!(loaded, Vec::<String>::new());
}

#[test]
fn a_layer_written_to_after_a_run_is_refused_on_the_next_run() {
    use std::io::{Read as _, Seek as _, Write as _};

    let job = unique("run-tampered");
    let (project, location) = packaged(&job);
    let _loaded = RemoveRepository(format!("eider-verified/{job}"));
    let layout = project.state_path().join("layout");
    // A blob's record is kept only once its file is older than the file system clock's
    // coarsest tick (two seconds) when it is read.
    std::thread::sleep(std::time::Duration::from_millis(2_500));

    let empty = empty_directory();
    eider(&empty, "run", &[&location]).assert_code(0);
    let (_, manifest) = only_manifest(&layout);
    let layers: Vec<String> = manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|layer| layer["digest"].as_str().expect("a digest").to_owned())
        .collect();
    // The run recorded every layer it found whole.
    let record = read_json(&empty.state_path().join("cache/eider/verified-blobs.json"));
    let recorded: Vec<&str> = record["blobs"]
        .as_object()
        .expect("blobs")
        .values()
        .map(|entry| entry["digest"].as_str().expect("a digest"))
        .collect();
    for layer in &layers {
        assert!(recorded.contains(&layer.as_str()), "{layer}: {record:#}");
    }
    eider(&empty, "run", &[&location]).assert_code(0);

    // The source layer changed in place: same size, same inode, its modification time set
    // back. Only its change time, which no program sets back, tells.
    let source_layer = layers.last().expect("a layer");
    let path = blob_path(&layout, source_layer);
    let modified = std::fs::metadata(&path)
        .and_then(|metadata| metadata.modified())
        .expect("the layer's modification time");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open the layer");
    let middle = file.metadata().expect("the layer's size").len() / 2;
    let mut byte = [0_u8];
    file.seek(std::io::SeekFrom::Start(middle)).expect("seek");
    file.read_exact(&mut byte).expect("read a byte");
    byte[0] ^= 0xff;
    file.seek(std::io::SeekFrom::Start(middle)).expect("seek");
    file.write_all(&byte).expect("write a byte");
    file.set_modified(modified)
        .expect("set the modification time back");
    drop(file);

    let refused = eider(&empty, "run", &[&location]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("failed verification"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains(&format!("{source_layer} is corrupt: its content hashes to")),
        "{}",
        refused.stderr
    );
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    assert!(!refused.stderr.contains("(run "), "{}", refused.stderr);
}
