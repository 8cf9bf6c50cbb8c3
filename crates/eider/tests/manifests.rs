//! `eider manifests`: the Kubernetes objects of a run, printed without a cluster, valid for the
//! oldest and the newest Kubernetes the backend supports, and never holding a secret's value.

mod support;

#[path = "../../runtime-kubernetes/tests/support/kubernetes_validate.rs"]
mod kubernetes_validate;

use support::podman::{self, IMAGE, Manifests, Played};
use support::{Project, Run};

const SECRET_VALUE: &str = "s3cr3t-value-never-printed";

const DRAKEFILE: &str = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  test:
    sidecarContainers:
    - name: db
      image: postgres:16
    primaryContainer:
      name: main
      image: golang:1.22
      command: [go, test, ./...]
      environment:
      - MODE=ci
      sharedStorageMountPath: /out
  lint:
    primaryContainer:
      name: lint
      image: golangci/golangci-lint:v1
pipelines:
  ci:
    jobs:
    - name: lint
    - name: test
      dependencies: [lint]
";

fn manifests(project: &Project, arguments: &[&str]) -> Run {
    Run::from(
        project
            .eider()
            .arg("manifests")
            .args(arguments)
            .output()
            .expect("run eider"),
    )
}

#[test]
fn a_pipeline_s_objects_are_valid_kubernetes_and_hold_no_secret_value() {
    let project = Project::new(DRAKEFILE);
    project.write("Drakesecrets.yaml", &format!("TOKEN: {SECRET_VALUE}\n"));
    let run = manifests(&project, &["-p", "ci", "--namespace", "builds"]);
    run.assert_code(0);
    assert!(!run.stdout.contains(SECRET_VALUE), "{}", run.stdout);
    assert!(!run.stderr.contains(SECRET_VALUE), "{}", run.stderr);
    let kinds: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|line| line.strip_prefix("kind: "))
        .collect();
    assert_eq!(
        kinds,
        ["ConfigMap", "Secret", "PersistentVolumeClaim", "Pod", "Pod"]
    );
    assert!(run.stdout.contains("  TOKEN: <redacted>\n"));
    // The run's owner is printed, and how it owns the rest is said, not done: an
    // ownerReference needs the uid the API server gives the owner.
    assert!(run.stdout.contains("\n  name: eider-manifest\n"));
    assert!(!run.stdout.contains("\n  ownerReferences:"));
    assert_eq!(
        run.stdout
            .matches("# Owned by config map eider-manifest when `eider run` creates it")
            .count(),
        4
    );
    assert!(run.stdout.contains(
        "kubectl delete pods,persistentvolumeclaims,secrets,configmaps -n builds -l \
         eider.run-id=manifest"
    ));
    // The one sidecar is a native sidecar container.
    assert_eq!(run.stdout.matches("restartPolicy: Always").count(), 1);
    let path = project.write("objects.yaml", &run.stdout);
    kubernetes_validate::assert_valid(&[&path]);
}

#[test]
fn a_job_a_cluster_cannot_run_is_refused_with_exit_2_and_nothing_printed() {
    let project = Project::new(
        "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  edit:
    sourceMountMode: RW
    primaryContainer:
      name: main
      image: busybox:latest
      sourceMountPath: /src
",
    );
    let run = manifests(&project, &["edit"]);
    run.assert_code(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("job `edit`: container `main` mounts the source tree writable"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_container_that_asks_for_what_is_not_allowed_is_named_at_once() {
    let project = Project::new(
        "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  one:
    primaryContainer: {name: main, image: busybox:latest, privileged: true}
  two:
    primaryContainer: {name: main, image: busybox:latest, mountDockerSocket: true}
",
    );
    let run = manifests(&project, &["one", "two"]);
    run.assert_code(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("job `one`: container `main` asks to run privileged")
    );
    assert!(
        run.stderr
            .contains("job `two`: container `main` asks for the Docker socket")
    );
    manifests(
        &project,
        &["one", "two", "--allow-privileged", "--allow-docker-socket"],
    )
    .assert_code(0);
}

/// The owner is the config map a run creates, and comes first; the comments say how it owns
/// the rest (the version label is the one thing that changes from release to release).
#[test]
fn the_run_s_owner_comes_first_and_says_how_it_owns_the_rest() {
    let project = Project::new(DRAKEFILE);
    let run = manifests(&project, &["lint", "--namespace", "builds"]);
    run.assert_code(0);
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        &format!("version: {}\n", env!("CARGO_PKG_VERSION")),
        "version: [VERSION]\n",
    );
    settings.bind(|| {
        insta::assert_snapshot!(run.stdout.split("\n---\n").next().expect("a document"), @r#"
        ---
        # The run's owner. `eider run` creates it first, then names it in the ownerReferences
        # of every other object of the run, with the uid the API server gave it, so that
        # deleting it has the cluster's garbage collector delete the rest. That uid exists
        # only once the config map does (and a reference with any other uid has the object
        # deleted at once), so the objects below carry no ownerReferences; they carry the
        # run's label instead, and this deletes them all:
        #   kubectl delete pods,persistentvolumeclaims,secrets,configmaps -n builds -l eider.run-id=manifest
        # To have the collector do it, add to each of them, once this config map exists,
        #   ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: eider-manifest, uid: UID}]
        # with UID from `kubectl get configmap eider-manifest -n builds -o jsonpath='{.metadata.uid}'`.
        apiVersion: v1
        kind: ConfigMap
        data:
          description: 'Owns what eider run manifest created: deleting it removes the rest.'
        metadata:
          annotations:
            eider.labels: '{"eider.run-id":"manifest"}'
          labels:
            app.kubernetes.io/managed-by: eider
            app.kubernetes.io/version: [VERSION]
            eider.run-id: manifest
          name: eider-manifest
          namespace: builds
        "#);
    });
}

/// The claim's document in the output, from its kind on, each line ended.
fn claim_spec(stdout: &str) -> String {
    let start = stdout.find("kind: PersistentVolumeClaim").expect("a claim");
    let claim = &stdout[start..];
    format!(
        "{}\n",
        &claim[..claim.find("\n---\n").unwrap_or(claim.len())]
    )
}

#[test]
fn the_claim_has_the_storage_class_and_size_of_the_command_line_then_the_config_file() {
    let project = Project::new(DRAKEFILE);
    let config = project.config_home().join("eider");
    std::fs::create_dir_all(&config).expect("the config directory");
    std::fs::write(
        config.join("config.toml"),
        "[kubernetes]\nnamespace = \"ci\"\nstorage-class = \"nfs\"\nshared-storage-size = \"5Gi\"\n",
    )
    .expect("the config file");

    let from_flags = manifests(
        &project,
        &[
            "test",
            "--storage-class",
            "fast-ssd",
            "--shared-storage-size",
            "20Gi",
        ],
    );
    from_flags.assert_code(0);
    let claim = claim_spec(&from_flags.stdout);
    assert!(
        claim.contains("\n  storageClassName: fast-ssd\n"),
        "{claim}"
    );
    assert!(claim.contains("\n      storage: 20Gi\n"), "{claim}");
    assert!(claim.contains("\n  namespace: ci\n"), "{claim}");
    let path = project.write("objects.yaml", &from_flags.stdout);
    kubernetes_validate::assert_valid(&[&path]);

    let from_config = manifests(&project, &["test"]);
    from_config.assert_code(0);
    let claim = claim_spec(&from_config.stdout);
    assert!(claim.contains("\n  storageClassName: nfs\n"), "{claim}");
    assert!(claim.contains("\n      storage: 5Gi\n"), "{claim}");

    let from_variables = project
        .eider()
        .args(["manifests", "test", "--namespace", "other"])
        .env("EIDER_STORAGE_CLASS", "standard")
        .env("EIDER_SHARED_STORAGE_SIZE", "2Gi")
        .output()
        .expect("run eider");
    let from_variables = Run::from(from_variables);
    from_variables.assert_code(0);
    let claim = claim_spec(&from_variables.stdout);
    assert!(
        claim.contains("\n  storageClassName: standard\n"),
        "{claim}"
    );
    assert!(claim.contains("\n      storage: 2Gi\n"), "{claim}");
    assert!(claim.contains("\n  namespace: other\n"), "{claim}");
}

#[test]
fn without_a_config_file_the_claim_has_the_cluster_s_storage_class_and_1gi() {
    let project = Project::new(DRAKEFILE);
    let run = manifests(&project, &["test"]);
    run.assert_code(0);
    let claim = claim_spec(&run.stdout);
    assert!(!claim.contains("storageClassName"), "{claim}");
    assert!(claim.contains("\n      storage: 1Gi\n"), "{claim}");
    assert!(claim.contains("\n  namespace: default\n"), "{claim}");
}

// The objects played for real: `podman kube play` (podman 4.3) runs the printed Pods, claims and
// (created the way podman 4.3 can read them) Secrets. See `support::podman` for what podman 4.3
// cannot take as a cluster would, and what the tests change for it.

/// `eider manifests ARGS` of a project whose Drakefile is `drakefile`, which must succeed.
fn printed(project: &Project, arguments: &[&str]) -> Manifests {
    let run = manifests(project, arguments);
    run.assert_code(0);
    Manifests::parse(&run.stdout)
}

/// A job `name` of the test image whose primary runs `script` with `sh -c`, and whose YAML
/// `more` adds to the primary (indented as its other fields).
fn shell_job(name: &str, script: &str, more: &str) -> String {
    format!(
        "  {name}:\n    primaryContainer:\n      name: main\n      image: {IMAGE}\n      \
         command: [sh, -c]\n      args: ['{script}']\n{more}"
    )
}

const HEADER: &str = "specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n";

/// podman 4.3 cannot run a native sidecar (an init container with `restartPolicy: Always`): it
/// waits for every init container to end before it starts the regular ones, so a sidecar that
/// serves holds its Pod forever. The sidecar is played as a regular container ahead of the
/// primary; what is checked is that the two share localhost, as the Pod's containers do.
#[test]
fn a_primary_reaches_its_sidecar_on_localhost_under_podman_with_the_sidecar_as_a_regular_container()
{
    if !podman::installed() {
        return;
    }
    let project = Project::new(&format!(
        "{HEADER}  talk:\n    sidecarContainers:\n    - name: server\n      image: {IMAGE}\n      \
         command: [sh, -c, 'echo hello-from-the-sidecar | nc -l -p 8080']\n    \
         primaryContainer:\n      name: main\n      image: {IMAGE}\n      command: [sh, -c]\n      \
         args: ['for try in $(seq 50); do nc 127.0.0.1 8080 </dev/null 2>/dev/null && exit 0; \
         sleep 0.1; done; exit 1']\n"
    ));
    let objects = printed(&project, &["talk"]);
    assert_eq!(objects.kinds(), ["ConfigMap", "Pod"]);
    let mut played = Played::new();
    played.play(&objects.with_sidecars_as_regular_containers());
    let (code, output) = played.wait("eider-manifest-0-talk", "main");
    assert_eq!((code, output.trim_end()), (0, "hello-from-the-sidecar"));
}

/// The environment's precedence under podman: the secrets file, then `-e`, then the
/// Drakefile, each later source winning; values from the secrets file by reference to the
/// run's Secret. podman 4.3 does not read a played `kind: Secret` through `secretKeyRef`, so the
/// Secret is created as the podman secret it reads (same name, the real values); and it does not
/// keep the order of `env`, so the order is checked in the Pod as printed.
#[test]
fn environment_precedence_holds_under_podman_with_the_secret_as_a_podman_secret_and_the_order_in_the_pod()
 {
    if !podman::installed() {
        return;
    }
    let project = Project::new(&format!(
        "{HEADER}{}",
        shell_job(
            "environment",
            "env | grep ^EIDER_ | sort",
            "      environment:\n      - EIDER_FROM_FILE=drakefile\n      - EIDER_BOTH=drakefile-wins\n      \
             - EIDER_SECRET_BY_FILE=drakefile-wins-over-the-secret\n",
        )
    ));
    project.write(
        "Drakesecrets.yaml",
        "EIDER_SECRET_ONLY: s3cret-only\nEIDER_SECRET_BY_FLAG: s3cret-by-flag\n\
         EIDER_SECRET_BY_FILE: s3cret-by-file\n",
    );
    let mut objects = printed(
        &project,
        &[
            "environment",
            "-e",
            "EIDER_SECRET_BY_FLAG=flag-wins-over-the-secret",
            "-e",
            "EIDER_FLAG_ONLY=flag",
            "-e",
            "EIDER_BOTH=flag",
        ],
    );
    // The order: what only the secrets file and `-e` set, in that order, then the Drakefile's
    // in its order; values from the secrets file by reference only.
    let pod = objects.of_kind("Pod")[0];
    let environment: Vec<(String, String)> = pod["spec"]["containers"][0]["env"]
        .as_sequence()
        .expect("env")
        .iter()
        .map(|variable| {
            let value = match variable.get("value") {
                Some(value) => value.as_str().expect("a value").to_owned(),
                None => format!(
                    "secret {}",
                    variable["valueFrom"]["secretKeyRef"]["key"]
                        .as_str()
                        .expect("a key")
                ),
            };
            (variable["name"].as_str().expect("a name").to_owned(), value)
        })
        .collect();
    let expected = [
        ("EIDER_SECRET_ONLY", "secret EIDER_SECRET_ONLY"),
        ("EIDER_SECRET_BY_FLAG", "flag-wins-over-the-secret"),
        ("EIDER_FLAG_ONLY", "flag"),
        ("EIDER_FROM_FILE", "drakefile"),
        ("EIDER_BOTH", "drakefile-wins"),
        ("EIDER_SECRET_BY_FILE", "drakefile-wins-over-the-secret"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    assert_eq!(environment, expected);

    let secrets = objects.take_secrets();
    assert_eq!(secrets.len(), 1);
    let mut played = Played::new();
    // The printed Secret names every variable of the secrets file, its values redacted.
    played.create_secret(
        &secrets[0],
        &[
            ("EIDER_SECRET_ONLY", "s3cret-only"),
            ("EIDER_SECRET_BY_FLAG", "s3cret-by-flag"),
            ("EIDER_SECRET_BY_FILE", "s3cret-by-file"),
        ],
    );
    played.play(&objects);
    let (code, output) = played.wait("eider-manifest-0-environment", "main");
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        output.lines().collect::<Vec<_>>(),
        [
            "EIDER_BOTH=drakefile-wins",
            "EIDER_FLAG_ONLY=flag",
            "EIDER_FROM_FILE=drakefile",
            "EIDER_SECRET_BY_FILE=drakefile-wins-over-the-secret",
            "EIDER_SECRET_BY_FLAG=flag-wins-over-the-secret",
            "EIDER_SECRET_ONLY=s3cret-only",
        ]
    );
}

/// The working directory replaces the image's (`/image-workdir`). It is one the image has:
/// podman 4.3 refuses to start a container whose `workingDir` does not exist ("workdir ... does
/// not exist on container"), where the Docker Engine, and a cluster's runtime, create it.
#[test]
fn the_working_directory_holds_under_podman() {
    if !podman::installed() {
        return;
    }
    let project = Project::new(&format!(
        "{HEADER}{}",
        shell_job("directory", "pwd", "      workingDirectory: /root\n")
    ));
    let mut played = Played::new();
    played.play(&printed(&project, &["directory"]));
    let (code, output) = played.wait("eider-manifest-0-directory", "main");
    assert_eq!((code, output.trim_end()), (0, "/root"));
}

/// `command` replaces the image's entrypoint and `args` follow it word for word: spaces, an
/// empty word and quotes reach the process as written.
#[test]
fn command_and_args_hold_under_podman() {
    if !podman::installed() {
        return;
    }
    let project = Project::new(&format!(
        "{HEADER}  words:\n    primaryContainer:\n      name: main\n      image: {IMAGE}\n      \
         command: [sh, -c, 'printf \"[%s]\" \"$0\" \"$@\"']\n      args: [first, 'two words', '', \
         '\"quoted\"']\n"
    ));
    let mut played = Played::new();
    played.play(&printed(&project, &["words"]));
    let (code, output) = played.wait("eider-manifest-0-words", "main");
    assert_eq!(
        (code, output.as_str()),
        (0, "[first][two words][][\"quoted\"]")
    );
}

/// The run's claim becomes a named volume under podman: what the first job of a pipeline writes
/// there, the next one's primary and sidecar read, played after it as the pipeline orders them.
#[test]
fn the_shared_storage_claim_is_one_volume_that_pods_and_containers_share_under_podman() {
    if !podman::installed() {
        return;
    }
    let project = Project::new(&format!(
        "{HEADER}{}{}    sidecarContainers:\n    - name: reader\n      image: {IMAGE}\n      \
         command: [sh, -c, 'cat /seen/note > /seen/copy; sleep 60']\n      \
         sharedStorageMountPath: /seen\npipelines:\n  hand-over:\n    jobs:\n    - name: write\n    \
         - name: read\n      dependencies: [write]\n",
        shell_job(
            "write",
            "echo from-write > /out/note",
            "      sharedStorageMountPath: /out\n"
        ),
        shell_job(
            "read",
            "for try in $(seq 50); do [ -s /in/copy ] && break; sleep 0.1; done; cat /in/note /in/copy",
            "      sharedStorageMountPath: /in\n"
        ),
    ));
    let objects = printed(&project, &["-p", "hand-over"]).with_sidecars_as_regular_containers();
    assert_eq!(
        objects.kinds(),
        ["ConfigMap", "PersistentVolumeClaim", "Pod", "Pod"]
    );
    let mut played = Played::new();
    played.play(&objects.only(&["eider-manifest-shared", "eider-manifest-0-write"]));
    assert_eq!(
        played.volume_labels("eider-manifest-shared")["eider.run-id"],
        "manifest"
    );
    let (code, output) = played.wait("eider-manifest-0-write", "main");
    assert_eq!(code, 0, "{output}");
    played.play(&objects.only(&["eider-manifest-1-read"]));
    let (code, output) = played.wait("eider-manifest-1-read", "main");
    assert_eq!((code, output.as_str()), (0, "from-write\nfrom-write\n"));
}

/// A failing primary's exit code is its container's under podman, sidecar or not.
#[test]
fn a_failing_primary_s_exit_code_reaches_podman_as_its_container_s() {
    if !podman::installed() {
        return;
    }
    let project = Project::new(&format!(
        "{HEADER}{}    sidecarContainers:\n    - name: idle\n      image: {IMAGE}\n      \
         command: [sleep, '60']\n",
        shell_job("fail", "echo failing; exit 42", "")
    ));
    let mut played = Played::new();
    played.play(&printed(&project, &["fail"]).with_sidecars_as_regular_containers());
    let (code, output) = played.wait("eider-manifest-0-fail", "main");
    assert_eq!((code, output.trim_end()), (42, "failing"));
}

/// The flags that publish the source image to the test registry, on the test image pushed
/// there as its base.
fn source_flags(repository: &str) -> [String; 4] {
    [
        "--registry".to_owned(),
        format!("{}/{repository}", support::registry()),
        "--helper-image".to_owned(),
        support::registry_image(),
    ]
}

/// The source reaches a Pod as eider's source image, pulled from a registry: an init container
/// copies the tree out of it into the Pod's own volume before the job's containers start. `RO`
/// sees it read-only; `COPY` may change its copy, and the tree it came from stays as it was.
#[test]
fn the_source_image_gives_each_pod_the_tree_under_podman_read_only_or_as_a_private_copy() {
    if !podman::installed() {
        return;
    }
    let job = |name: &str, mode: &str, script: &str| {
        format!(
            "  {name}:\n    sourceMountMode: {mode}\n    primaryContainer:\n      name: main\n      \
             image: {IMAGE}\n      sourceMountPath: /src\n      command: [sh, -c]\n      \
             args: ['{script}']\n"
        )
    };
    let project = Project::new(&format!(
        "{HEADER}{}{}",
        job(
            "look",
            "RO",
            "cat /src/notes.txt; touch /src/new 2>/dev/null && echo writable || echo read-only"
        ),
        job(
            "change",
            "COPY",
            "echo changed > /src/notes.txt && cat /src/notes.txt && ls -l /src/tool.sh"
        ),
    ));
    project.write("notes.txt", "from the tree\n");
    project.write("tool.sh", "#!/bin/sh\n");
    let tool = project.path().join("tool.sh");
    let mut mode = std::fs::metadata(&tool).expect("tool.sh").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o755);
    std::fs::set_permissions(&tool, mode).expect("chmod");
    let flags = source_flags("eider-test/podman-source");
    let mut arguments: Vec<&str> = flags.iter().map(String::as_str).collect();
    arguments.extend(["look", "change"]);
    let manifests = printed(&project, &arguments);
    let copies: Vec<&str> = manifests
        .of_kind("Pod")
        .into_iter()
        .filter_map(|pod| pod["spec"]["initContainers"][0]["image"].as_str())
        .collect();
    assert_eq!(copies.len(), 2, "each Pod copies the source");
    assert!(
        copies
            .iter()
            .all(|image| image.contains("/eider-test/podman-source@sha256:")),
        "{copies:?}"
    );
    let mut played = Played::new();
    played.play(&manifests);
    let (code, output) = played.wait("eider-manifest-0-look", "main");
    assert_eq!((code, output.as_str()), (0, "from the tree\nread-only\n"));
    let (code, output) = played.wait("eider-manifest-1-change", "main");
    assert_eq!(code, 0, "{output}");
    assert!(output.starts_with("changed\n-rwxr-xr-x"), "{output}");
    assert_eq!(
        std::fs::read_to_string(project.path().join("notes.txt")).expect("notes.txt"),
        "from the tree\n",
        "the user's tree is never changed"
    );
}

/// The seed draft's one copy of the source per run is a claim that a Pod of its own fills from
/// the source image before the first job: the jobs played after it see the tree, and what one
/// job writes there the next one reads, while the user's tree stays as it was.
#[test]
fn the_seed_draft_s_run_copy_is_filled_once_and_shared_by_the_run_s_jobs_under_podman() {
    if !podman::installed() {
        return;
    }
    let project = Project::new(&format!(
        "uri: github.com/lovethedrake/drakespec\nversion: v0.0.0\njobs:\n  write:\n    \
         containers:\n    - name: main\n      image: {IMAGE}\n      sourceMountPath: /src\n      \
         command: sh -c 'echo from-write > /src/written'\n  read:\n    containers:\n    - name: \
         main\n      image: {IMAGE}\n      sourceMountPath: /src\n      command: sh -c 'cat \
         /src/notes.txt /src/written'\n"
    ));
    project.write("notes.txt", "from the tree\n");
    let flags = source_flags("eider-test/podman-seed-source");
    let mut arguments: Vec<&str> = flags.iter().map(String::as_str).collect();
    arguments.extend(["write", "read"]);
    let objects = printed(&project, &arguments);
    assert_eq!(
        objects.kinds(),
        ["ConfigMap", "PersistentVolumeClaim", "Pod", "Pod", "Pod"]
    );
    let mut played = Played::new();
    played.play(&objects.only(&["eider-manifest-source", "eider-manifest-source-copy"]));
    let (code, output) = played.wait("eider-manifest-source-copy", "eider-source");
    assert_eq!(code, 0, "{output}");
    played.play(&objects.only(&["eider-manifest-0-write"]));
    let (code, output) = played.wait("eider-manifest-0-write", "main");
    assert_eq!(code, 0, "{output}");
    played.play(&objects.only(&["eider-manifest-1-read"]));
    let (code, output) = played.wait("eider-manifest-1-read", "main");
    assert_eq!((code, output.as_str()), (0, "from the tree\nfrom-write\n"));
    assert!(
        !project.path().join("written").exists(),
        "the tree is unchanged"
    );
}
