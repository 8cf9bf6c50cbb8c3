//! `eider package` against the real engine, registries and OCI tools prepared by
//! `scripts/test-env.sh`: reproducible digests across checkouts, interop with skopeo, umoci and
//! `docker load`, pushes to the open and the authenticated registry, and secrets kept out.

mod support;

use std::path::Path;
use std::process::Command;

use support::packaging::{
    RemoveRepository, digest_of, package, packaged_drakefile, project, verify,
};
use support::{BUSYBOX, Project, docker, git, registry, test_environment, unique};

fn tool(program: &str, arguments: &[&str]) -> String {
    let output = Command::new(program)
        .args(arguments)
        .output()
        .unwrap_or_else(|error| panic!("{program} runs: {error}"));
    assert!(
        output.status.success(),
        "{program} {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every file under `directory`, relative, sorted.
fn files_under(directory: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![directory.to_owned()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("read directory") {
            let entry = entry.expect("directory entry");
            let path = entry.path();
            if entry.file_type().expect("file type").is_dir() {
                pending.push(path);
            } else {
                found.push(
                    path.strip_prefix(directory)
                        .expect("under the directory")
                        .display()
                        .to_string(),
                );
            }
        }
    }
    found.sort();
    found
}

#[test]
fn the_same_source_packages_to_the_same_digest_across_checkouts() {
    let job = unique("repro");
    let first = project(&job);
    // A second checkout: another directory, files written in another order with other modes
    // and times, under another umask.
    let second = Project::new(&packaged_drakefile(&job));
    second.write("Drakesecrets.yaml", "TOKEN: never-in-an-image-7731\n");
    second.write("scratch/notes.txt", "left out by .drakeignore\n");
    second.write(".drakeignore", "scratch/\n");
    second.write(".gitignore", "*.log\n");
    second.write("data/ignored.log", "left out by .gitignore\n");
    second.write("data/message.txt", "the packaged message\n");
    Command::new("chmod")
        .args(["0600", "data/message.txt"])
        .current_dir(second.path())
        .status()
        .expect("chmod");
    Command::new("touch")
        .args(["-d", "2001-02-03 04:05:06", "data/message.txt", "data"])
        .current_dir(second.path())
        .status()
        .expect("touch");
    git(second.path(), &["init", "-q"]);
    git(second.path(), &["add", "-A"]);
    git(second.path(), &["commit", "-q", "-m", "source"]);
    git(second.path(), &["tag", "v1.0.0"]);

    let one = digest_of(&package(&first, &[&job]));
    let two = digest_of(&package(&second, &[&job]));
    assert_eq!(one, two, "two checkouts of one source packaged differently");
    // And again, from the cache: the same digest, without rebuilding the layer.
    let again = package(&first, &[&job]);
    assert_eq!(digest_of(&again), one);
    assert!(
        again.stderr.contains("reused"),
        "the unchanged source was built again:\n{}",
        again.stderr
    );
    // A change to the source changes the digest.
    first.write("data/message.txt", "another message\n");
    let changed = digest_of(&package(&first, &[&job]));
    assert_ne!(changed, one);
}

#[test]
fn an_oci_layout_package_reads_with_skopeo_and_unpacks_with_umoci_without_secrets() {
    let job = unique("layout");
    let project = project(&job);
    let layout = project.state_path().join("layout");
    let destination = format!("oci:{}:{job}", layout.display());
    let run = package(&project, &[&job, "--output", &destination, "--json"]);
    run.assert_code(0);
    let description: serde_json::Value =
        serde_json::from_str(&run.stdout).expect("--json prints JSON");
    let digest = description["digest"].as_str().expect("a digest").to_owned();
    assert_eq!(description["version"], "v1.0.0");
    assert_eq!(description["dirty"], false);
    assert_eq!(description["created"], "2023-11-14T22:13:20Z");

    let inspected: serde_json::Value = serde_json::from_str(&tool(
        "skopeo",
        &["inspect", &format!("oci:{}:{job}", layout.display())],
    ))
    .expect("skopeo prints JSON");
    assert_eq!(inspected["Digest"], digest.as_str());
    let labels = &inspected["Labels"];
    assert_eq!(labels["org.opencontainers.image.version"], "v1.0.0");
    assert_eq!(labels["org.opencontainers.image.title"], job.as_str());
    assert_eq!(labels["dev.eider.job"], job.as_str());
    assert_eq!(labels["dev.eider.source.dirty"], "false");
    let definition: serde_json::Value = serde_json::from_str(
        labels["dev.eider.job.definition"]
            .as_str()
            .expect("the job definition label"),
    )
    .expect("the definition is JSON");
    assert_eq!(definition["name"], job.as_str());

    let bundle = project.state_path().join("bundle");
    tool(
        "umoci",
        &[
            "unpack",
            "--rootless",
            "--image",
            &format!("{}:{job}", layout.display()),
            &bundle.display().to_string(),
        ],
    );
    let source = files_under(&bundle.join("rootfs/src"));
    assert_eq!(
        source,
        [
            ".drakeignore",
            ".gitignore",
            "Drakefile.yaml",
            "data/message.txt"
        ],
        "ignored files, .git or the secrets file reached the image"
    );
    let config = std::fs::read_to_string(bundle.join("config.json")).expect("runtime config");
    assert!(
        config.contains("GREETING=hello from the package"),
        "{config}"
    );
    // The secret's value is nowhere: not in a file of the image, not in its config.
    let found = Command::new("grep")
        .args(["-r", "-l", "never-in-an-image-7731"])
        .arg(&bundle)
        .arg(&layout)
        .output()
        .expect("grep runs");
    assert!(
        found.stdout.is_empty(),
        "the secret is in: {}",
        String::from_utf8_lossy(&found.stdout)
    );
}

#[test]
fn a_package_loaded_into_the_engine_runs_the_job_without_the_source_tree() {
    let job = unique("load");
    let project = project(&job);
    let archive = project.state_path().join("image.tar");
    let archive_text = archive.display().to_string();
    let name = format!("eider-test/package-{job}:v1");
    let run = package(
        &project,
        &[
            &job,
            "--output",
            &format!("docker-archive:{archive_text}"),
            "--output",
            &format!("docker-daemon:{name}"),
        ],
    );
    let digest = digest_of(&run);
    let _loaded = RemoveImage(name.clone());
    let loaded_archive = docker(&["load", "-q", "-i", &archive_text]);
    let archive_tag = loaded_archive
        .iter()
        .find_map(|line| line.strip_prefix("Loaded image: "))
        .expect("docker load names the image")
        .to_owned();
    let _archive_image = RemoveImage(archive_tag.clone());
    for image in [&name, &archive_tag] {
        let printed = docker(&["run", "--rm", "--network", "none", image]);
        assert_eq!(
            printed,
            ["hello from the package", "the packaged message"],
            "{image} (package {digest})"
        );
    }
}

#[test]
fn a_push_uploads_once_and_the_registry_serves_the_same_digest() {
    let job = unique("push");
    let project = project(&job);
    let reference = format!("{}/eider-test/{job}:v1", registry());
    let first = package(&project, &[&job, "--output", &reference, "--json"]);
    first.assert_code(0);
    let described: serde_json::Value = serde_json::from_str(&first.stdout).expect("JSON");
    let uploaded = described["outputs"][0]["uploadedBlobs"]
        .as_u64()
        .expect("blobs uploaded");
    assert!(
        uploaded >= 2,
        "config and new layers were not uploaded: {described}"
    );
    let again = package(&project, &[&job, "--output", &reference, "--json"]);
    again.assert_code(0);
    let described_again: serde_json::Value = serde_json::from_str(&again.stdout).expect("JSON");
    assert_eq!(described_again["outputs"][0]["uploadedBlobs"], 0);
    assert_eq!(described_again["digest"], described["digest"]);

    let inspected: serde_json::Value = serde_json::from_str(&tool(
        "skopeo",
        &[
            "inspect",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ],
    ))
    .expect("skopeo prints JSON");
    assert_eq!(inspected["Digest"], described["digest"]);
}

#[test]
fn the_authenticated_registry_takes_a_push_only_with_credentials_and_never_shows_them() {
    let job = unique("auth");
    let project = project(&job);
    let registry = test_environment("EIDER_TEST_AUTH_REGISTRY");
    let user = test_environment("EIDER_TEST_AUTH_REGISTRY_USER");
    let password = test_environment("EIDER_TEST_AUTH_REGISTRY_PASSWORD");
    let reference = format!("{registry}/eider-test/{job}:v1");

    let refused = package(&project, &[&job, "--output", &reference]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("cannot push the package"),
        "{}",
        refused.stderr
    );
    let wrong = package(
        &project,
        &[
            &job,
            "--output",
            &reference,
            "--registry-auth",
            &format!("{user}:wrong-password-5521"),
        ],
    );
    wrong.assert_code(1);
    assert!(
        !wrong.stderr.contains("wrong-password-5521"),
        "{}",
        wrong.stderr
    );

    let pushed = package(
        &project,
        &[
            &job,
            "--output",
            &reference,
            "--registry-auth",
            &format!("{user}:{password}"),
        ],
    );
    let digest = digest_of(&pushed);
    assert!(!pushed.stderr.contains(&password), "{}", pushed.stderr);
    let inspected: serde_json::Value = serde_json::from_str(&tool(
        "skopeo",
        &[
            "inspect",
            "--tls-verify=false",
            "--creds",
            &format!("{user}:{password}"),
            &format!("docker://{reference}"),
        ],
    ))
    .expect("skopeo prints JSON");
    assert_eq!(inspected["Digest"], digest.as_str());
}

#[test]
fn bad_input_is_exit_2_and_names_what_is_wrong() {
    let job = unique("bad");
    let project = project(&job);
    let unknown = package(&project, &[&format!("{job}x")]);
    unknown.assert_code(2);
    assert!(
        unknown.stderr.contains("did you mean"),
        "{}",
        unknown.stderr
    );
    let destination = package(&project, &[&job, "--output", "somewhere.tar"]);
    destination.assert_code(2);
    assert!(
        destination
            .stderr
            .contains("`somewhere.tar` is not an image location"),
        "{}",
        destination.stderr
    );
    assert!(
        destination.stderr.contains("docker-archive:FILE"),
        "{}",
        destination.stderr
    );
}

/// Removes a local image when dropped.
struct RemoveImage(String);

impl Drop for RemoveImage {
    fn drop(&mut self) {
        let _ignored = Command::new("docker")
            .args(["image", "rm", "-f", &self.0])
            .output();
    }
}

#[test]
fn verify_passes_a_package_and_catches_a_corrupted_blob_and_a_changed_job() {
    let job = unique("verify");
    let project = project(&job);
    let layout = project.state_path().join("layout");
    let location = format!("oci:{}:{job}", layout.display());
    let run = package(&project, &[&job, "--output", &location, "--json"]);
    run.assert_code(0);
    let description: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let digest = description["digest"].as_str().expect("digest").to_owned();
    let drakefile = project.path().join("Drakefile.yaml");
    let drakefile = drakefile.to_str().expect("UTF-8 path");
    let verified = verify(&project, &[&location, "--drakefile", drakefile]);
    verified.assert_code(0);
    assert_eq!(verified.stdout.trim(), digest);

    // The job changes in the Drakefile: the package no longer matches it.
    project.write(
        "Drakefile.yaml",
        &packaged_drakefile(&job).replace("hello from the package", "hello from elsewhere"),
    );
    let changed = verify(&project, &[&location, "--drakefile", drakefile]);
    changed.assert_code(1);
    assert!(
        changed.stderr.contains("differs from the one packaged"),
        "{}",
        changed.stderr
    );

    // One byte of the source layer changes: its digest no longer matches.
    let layer = description["layers"][0]["digest"]
        .as_str()
        .expect("layer digest")
        .trim_start_matches("sha256:")
        .to_owned();
    let blob = layout.join("blobs/sha256").join(&layer);
    let mut bytes = std::fs::read(&blob).expect("read the blob");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::remove_file(&blob).expect("remove the blob");
    std::fs::write(&blob, &bytes).expect("write the corrupted blob");
    let corrupted = verify(&project, &[&location]);
    corrupted.assert_code(1);
    assert!(corrupted.stderr.contains(&layer), "{}", corrupted.stderr);
}

#[test]
fn verify_reads_a_package_from_the_registry() {
    let job = unique("verify-registry");
    let project = project(&job);
    let reference = format!("{}/eider-test/{job}:v1", registry());
    let digest = digest_of(&package(&project, &[&job, "--output", &reference]));
    let verified = verify(&project, &[&reference]);
    verified.assert_code(0);
    assert_eq!(verified.stdout.trim(), digest);
}

#[test]
fn run_packaged_runs_the_job_from_its_image_without_touching_the_source_tree() {
    let job = unique("packaged");
    let project = project(&job);
    project.write(
        "Drakefile.yaml",
        &support::drakefile(&format!(
            "  {job}:
    sourceMountMode: RW
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /src
      command: [sh, -c]
      args: ['cat /src/data/message.txt; echo rewritten > /src/data/message.txt; cat /src/data/message.txt']
"
        )),
    );
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-q", "-m", "rewrite"]);
    let _image = RemoveImage(format!(
        "eider-packaged/{job}:v1.0.0-1-g{}",
        short_head(project.path())
    ));
    let run = project.run(&["--packaged", &job]);
    run.assert_code(0);
    assert_eq!(
        run.lines_of(&job, "main"),
        ["the packaged message", "rewritten"]
    );
    // The job wrote into its image's copy: the tree is as it was.
    assert_eq!(
        std::fs::read_to_string(project.path().join("data/message.txt")).expect("read"),
        "the packaged message\n"
    );
    support::assert_no_leftovers(&run);
    // Without --packaged, the same job writes into the live tree (sourceMountMode RW).
    let live = project.run(&[&job]);
    live.assert_code(0);
    assert_eq!(
        std::fs::read_to_string(project.path().join("data/message.txt")).expect("read"),
        "rewritten\n"
    );
}

/// The abbreviated commit that `git describe` shows.
fn short_head(directory: &Path) -> String {
    git(directory, &["rev-parse", "--short=12", "HEAD"])
        .trim()
        .to_owned()
}

#[test]
fn verify_run_executes_the_packaged_job_without_the_source_tree() {
    let job = unique("verify-run");
    let project = project(&job);
    let layout = project.state_path().join("layout");
    let location = format!("oci:{}:{job}", layout.display());
    package(&project, &[&job, "--output", &location]).assert_code(0);
    // The tree changes after packaging: the run shows what the package holds.
    project.write("data/message.txt", "changed after packaging\n");
    let run = verify(&project, &["--run", &location]);
    let _loaded = RemoveRepository(format!("eider-verified/{job}"));
    run.assert_code(0);
    assert_eq!(
        run.lines_of(&job, "main"),
        ["hello from the package", "the packaged message"]
    );
    support::assert_no_leftovers(&run);
}

#[test]
fn a_secret_value_in_a_source_file_or_the_environment_stops_the_package() {
    let job = unique("leak");
    let project = project(&job);
    project.write("config/.env", "TOKEN=never-in-an-image-7731\n");
    let leaked = package(&project, &[&job]);
    leaked.assert_code(2);
    assert!(
        leaked
            .stderr
            .contains("would hold the value of secret `TOKEN`, in a file of the layer"),
        "{}",
        leaked.stderr
    );
    assert!(
        !leaked.stderr.contains("never-in-an-image-7731"),
        "{}",
        leaked.stderr
    );
    assert!(leaked.stdout.is_empty());

    // Ignored, the file is left out, and the package goes through.
    project.write(".drakeignore", "scratch/\nconfig/.env\n");
    digest_of(&package(&project, &[&job]));

    // In the job's environment, the value would be in the config.
    project.write(
        "Drakefile.yaml",
        &packaged_drakefile(&job).replace(
            "GREETING=hello from the package",
            "GREETING=never-in-an-image-7731",
        ),
    );
    let in_config = package(&project, &[&job]);
    in_config.assert_code(2);
    assert!(
        in_config
            .stderr
            .contains("would hold the value of secret `TOKEN`, in environment variable `GREETING`"),
        "{}",
        in_config.stderr
    );
    assert!(
        !in_config.stderr.contains("never-in-an-image-7731"),
        "{}",
        in_config.stderr
    );
}

#[test]
fn run_packaged_with_a_secrets_file_never_builds_the_file_or_its_values_into_the_image() {
    let job = unique("packaged-secrets");
    let project = project(&job);
    project.write(
        "Drakefile.yaml",
        &support::drakefile(&format!(
            "  {job}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /src
      command: [sh, -c]
      args: ['ls -a /src; test ! -e /src/ci-secrets.yaml']
"
        )),
    );
    // A secrets file kept inside the tree, given with -s.
    project.write("ci-secrets.yaml", "API_KEY: value-from-ci-secrets-8812\n");
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-q", "-m", "ci secrets"]);
    let _image = RemoveImage(format!(
        "eider-packaged/{job}:v1.0.0-1-g{}",
        short_head(project.path())
    ));
    let run = project.run(&["--packaged", "-s", "ci-secrets.yaml", &job]);
    run.assert_code(0);
    let listed = run.lines_of(&job, "main");
    assert!(listed.contains(&"data".to_owned()), "{listed:?}");
    assert!(
        !listed.contains(&"ci-secrets.yaml".to_owned()),
        "{listed:?}"
    );

    // A file of the tree holding a value of the -s file: the package is refused, naming the
    // secret and never its value; nothing runs.
    project.write("config/app.env", "KEY=value-from-ci-secrets-8812\n");
    let leaked = project.run(&["--packaged", "-s", "ci-secrets.yaml", &job]);
    leaked.assert_code(2);
    assert!(
        leaked
            .stderr
            .contains("would hold the value of secret `API_KEY`, in a file of the layer"),
        "{}",
        leaked.stderr
    );
    assert!(
        !leaked.stderr.contains("value-from-ci-secrets-8812"),
        "{}",
        leaked.stderr
    );
    assert!(leaked.lines_of(&job, "main").is_empty());

    // The same for a secrets file outside the tree, and for `eider package -s`.
    let outside = project.state_path().join("outside-secrets.yaml");
    std::fs::write(&outside, "API_KEY: value-from-ci-secrets-8812\n").expect("write");
    std::fs::remove_file(project.path().join("ci-secrets.yaml")).expect("remove");
    let outside = outside.to_str().expect("UTF-8 path");
    project
        .run(&["--packaged", "-s", outside, &job])
        .assert_code(2);
    let packaged = package(&project, &[&job, "-s", outside]);
    packaged.assert_code(2);
    assert!(
        packaged.stderr.contains("secret `API_KEY`"),
        "{}",
        packaged.stderr
    );
}

#[test]
fn docker_media_types_and_zstd_are_what_the_registry_gets() {
    let job = unique("media-types");
    let project = project(&job);
    let docker_reference = format!("{}/eider-test/{job}:docker", registry());
    digest_of(&package(
        &project,
        &[&job, "--output", &docker_reference, "--docker-media-types"],
    ));
    let raw: serde_json::Value = serde_json::from_str(&tool(
        "skopeo",
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{docker_reference}"),
        ],
    ))
    .expect("a manifest");
    assert_eq!(
        raw["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        raw["config"]["mediaType"],
        "application/vnd.docker.container.image.v1+json"
    );

    let zstd_reference = format!("{}/eider-test/{job}:zstd", registry());
    digest_of(&package(
        &project,
        &[&job, "--output", &zstd_reference, "--compression", "zstd"],
    ));
    let raw: serde_json::Value = serde_json::from_str(&tool(
        "skopeo",
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{zstd_reference}"),
        ],
    ))
    .expect("a manifest");
    let layers = raw["layers"].as_array().expect("layers");
    assert_eq!(
        layers.last().expect("a source layer")["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
}

#[test]
fn layers_stream_to_the_registry_while_they_are_compressed_and_arrive_whole() {
    let job = unique("stream");
    let project = project(&job);
    // Without secrets to look for, layers go out as they are made.
    std::fs::remove_file(project.path().join("Drakesecrets.yaml")).expect("remove secrets");
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-q", "-m", "no secrets"]);
    let reference = format!("{}/eider-test/{job}:v1", registry());
    let first = package(&project, &[&job, "--output", &reference, "--json"]);
    first.assert_code(0);
    let described: serde_json::Value = serde_json::from_str(&first.stdout).expect("JSON");
    let output = &described["outputs"][0];
    assert!(
        output["streamedLayers"]
            .as_u64()
            .is_some_and(|count| count >= 1),
        "no layer was streamed: {described}"
    );
    // The registry holds exactly what was built: every blob checks out.
    let verified = verify(&project, &[&reference]);
    verified.assert_code(0);
    assert_eq!(
        verified.stdout.trim(),
        described["digest"].as_str().expect("digest")
    );
    // Reused layers are not streamed again, and nothing is uploaded.
    let again = package(&project, &[&job, "--output", &reference, "--json"]);
    again.assert_code(0);
    let again: serde_json::Value = serde_json::from_str(&again.stdout).expect("JSON");
    assert_eq!(again["outputs"][0]["streamedLayers"], 0);
    assert_eq!(again["outputs"][0]["uploadedBlobs"], 0);
}

#[test]
fn a_base_image_can_come_from_an_oci_layout() {
    let job = unique("layered");
    let project = project(&job);
    let layout = project.state_path().join("bases");
    let base_location = format!("oci:{}:base", layout.display());
    let base = package(&project, &[&job, "--output", &base_location, "--json"]);
    base.assert_code(0);
    let base: serde_json::Value = serde_json::from_str(&base.stdout).expect("JSON");

    let on_top = package(&project, &[&job, "--base", &base_location, "--json"]);
    on_top.assert_code(0);
    let on_top: serde_json::Value = serde_json::from_str(&on_top.stdout).expect("JSON");
    assert_eq!(on_top["base"]["image"], base_location.as_str());
    assert_eq!(on_top["base"]["digest"], base["digest"]);
    // The base's own layers come first, unchanged, then the new source layer.
    let inspected: serde_json::Value = serde_json::from_str(&tool(
        "skopeo",
        &[
            "inspect",
            &format!(
                "oci:{}:{job}",
                project.path().join(".eider/packages").display()
            ),
        ],
    ))
    .expect("skopeo prints JSON");
    let layers = inspected["Layers"].as_array().expect("layers");
    let base_inspected: serde_json::Value =
        serde_json::from_str(&tool("skopeo", &["inspect", &base_location])).expect("JSON");
    let base_layers = base_inspected["Layers"].as_array().expect("layers");
    assert_eq!(layers.len(), base_layers.len() + 1);
    assert_eq!(&layers[..base_layers.len()], &base_layers[..]);

    let archive = package(&project, &[&job, "--base", "docker-archive:/nowhere.tar"]);
    archive.assert_code(2);
}

/// `--output oci:DIR` without a tag names the image after the package's version, as every other
/// destination does: umoci (which needs a name) opens it and skopeo addresses it by version.
#[test]
fn an_oci_layout_without_a_tag_names_the_image_after_the_version() {
    let job = unique("untagged");
    let project = project(&job);
    let layout = project.state_path().join("layout");
    let run = package(
        &project,
        &[
            &job,
            "--output",
            &format!("oci:{}", layout.display()),
            "--json",
        ],
    );
    run.assert_code(0);
    let description: serde_json::Value =
        serde_json::from_str(&run.stdout).expect("--json prints JSON");
    let digest = description["digest"].as_str().expect("a digest").to_owned();
    let inspected: serde_json::Value = serde_json::from_str(&tool(
        "skopeo",
        &["inspect", &format!("oci:{}:v1.0.0", layout.display())],
    ))
    .expect("skopeo prints JSON");
    assert_eq!(inspected["Digest"], digest.as_str());
    let listed = tool("umoci", &["ls", "--layout", &layout.display().to_string()]);
    assert_eq!(listed.trim(), "v1.0.0");
}
