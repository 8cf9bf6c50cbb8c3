//! podman as `scripts/test-env.sh` prepared it: its own storage and settings, apart from the
//! Docker Engine, to run the Kubernetes objects `eider manifests` prints for real (`podman kube
//! play`, podman 4.3 as Debian ships it). Its command-line tool, [`podman`], is also how the
//! tests of eider on Podman's API ([`super::Engine::Podman`]) look at what a run left.
//!
//! What podman 4.3 cannot take as a cluster would, the tests change before playing, each change
//! in one function here that says why:
//! - it runs init containers one after the other, each to its end, before any regular container:
//!   a native sidecar (an init container with `restartPolicy: Always`) that serves would keep
//!   its Pod from ever starting ([`Manifests::with_sidecars_as_regular_containers`]);
//! - it takes a `kind: Secret` document and stores it as a podman secret, but in YAML, while
//!   its `secretKeyRef` reads a secret as a JSON object of base64 values, and fails on its own
//!   ([`Manifests::take_secrets`], [`Played::create_secret`]).
//!
//! It ignores what it has no use for (the owner config map, `activeDeadlineSeconds`, the node
//! selectors), turns each claim into a named volume, and does not keep the order of `env`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use serde::Deserialize as _;
use serde_norway::Value;

/// Where `scripts/test-env.sh` keeps podman's storage and settings.
const PODMAN_DIR: &str = "/var/lib/eider-test/podman";

/// The test image as podman names it.
pub const IMAGE: &str = "localhost/eider-test/busybox:latest";

/// What `eider manifests` names a run's objects after (`eider-manifest`, `eider-manifest-0-JOB`).
const GENERATED_RUN: &str = "eider-manifest";

/// `podman` with the test environment's storage and settings.
pub fn podman() -> Command {
    let mut command = Command::new("podman");
    command
        .env("CONTAINERS_CONF", format!("{PODMAN_DIR}/containers.conf"))
        .args(["--root", &format!("{PODMAN_DIR}/root")])
        .args(["--runroot", &format!("{PODMAN_DIR}/runroot")])
        .args(["--cgroup-manager", "cgroupfs", "--events-backend", "file"]);
    command
}

/// Whether podman is installed. A test without it says so and passes: the machine cannot run
/// it. Anything else that goes wrong with podman fails the test.
pub fn installed() -> bool {
    match Command::new("podman").arg("--version").output() {
        Ok(_) => true,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "skipped: podman is not installed (`bash scripts/test-env.sh` installs it and \
                 prepares its storage)"
            );
            false
        }
        Err(error) => panic!("cannot run podman: {error}"),
    }
}

fn run(arguments: &[&str]) -> Output {
    podman().args(arguments).output().unwrap_or_else(|error| {
        panic!("cannot run podman ({error}): run `bash scripts/test-env.sh`")
    })
}

#[track_caller]
fn run_ok(arguments: &[&str]) -> Output {
    let output = run(arguments);
    assert!(
        output.status.success(),
        "podman {} failed:\n{}{}",
        arguments.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The documents `eider manifests` printed, to be played.
#[derive(Clone)]
pub struct Manifests {
    documents: Vec<Value>,
}

impl Manifests {
    /// The documents of `text`, multi-document YAML.
    pub fn parse(text: &str) -> Self {
        let documents = serde_norway::Deserializer::from_str(text)
            .map(|document| Value::deserialize(document).expect("a YAML document"))
            .collect();
        Self { documents }
    }

    /// The kind of each document, in order.
    pub fn kinds(&self) -> Vec<&str> {
        self.documents.iter().map(kind).collect()
    }

    /// The documents of kind `wanted`.
    pub fn of_kind(&self, wanted: &str) -> Vec<&Value> {
        self.documents
            .iter()
            .filter(|document| kind(document) == wanted)
            .collect()
    }

    /// Only the documents named in `names`, in their order here.
    pub fn only(&self, names: &[&str]) -> Self {
        Self {
            documents: self
                .documents
                .iter()
                .filter(|document| names.contains(&name(document)))
                .cloned()
                .collect(),
        }
    }

    /// The Pods with each native sidecar as a regular container ahead of the primary, in the
    /// same order. podman 4.3 starts init containers one after the other and waits for each to
    /// end before it starts the next one or any regular container, whatever their
    /// `restartPolicy` (which it ignores): a sidecar that serves never ends, and its Pod would
    /// never start. As regular containers the sidecars still share the Pod's localhost with the
    /// primary and start in order, but nothing waits for them to have started: a primary that
    /// talks to a sidecar tries again for a while, as on any cluster whose sidecar is slow to
    /// listen.
    pub fn with_sidecars_as_regular_containers(mut self) -> Self {
        for pod in &mut self.documents {
            if kind(pod) != "Pod" {
                continue;
            }
            let spec = pod
                .get_mut("spec")
                .and_then(Value::as_mapping_mut)
                .expect("a Pod spec");
            let Some(Value::Sequence(init)) = spec.remove("initContainers") else {
                continue;
            };
            let mut containers = Vec::new();
            let mut kept = Vec::new();
            for mut container in init {
                let restart = container
                    .as_mapping_mut()
                    .and_then(|container| container.remove("restartPolicy"));
                if restart.as_ref().and_then(Value::as_str) == Some("Always") {
                    containers.push(container);
                } else {
                    // An init container that runs to its end (the source's copy) stays one.
                    kept.push(container);
                }
            }
            if !kept.is_empty() {
                spec.insert(Value::from("initContainers"), Value::Sequence(kept));
            }
            if let Some(Value::Sequence(regular)) = spec.get_mut("containers") {
                containers.append(regular);
                *regular = containers;
            }
        }
        self
    }

    /// What the kubelet does to each container before it runs it, and podman 4.3 does not: the
    /// `$(NAME)` references to the container's variables in its environment values, command
    /// and args are expanded, and `$$` becomes `$` (the expansion of the API double, which
    /// follows the kubelet's). Secret values are not known here and stay unexpanded; eider
    /// never writes a reference anyway, only doubled dollars.
    fn expanded_as_the_kubelet_does(mut self) -> Self {
        for pod in &mut self.documents {
            if kind(pod) != "Pod" {
                continue;
            }
            let Some(spec) = pod.get_mut("spec").and_then(Value::as_mapping_mut) else {
                continue;
            };
            for list in ["initContainers", "containers"] {
                let Some(Value::Sequence(containers)) = spec.get_mut(list) else {
                    continue;
                };
                for container in containers.iter_mut().filter_map(Value::as_mapping_mut) {
                    expand_container(container);
                }
            }
        }
        self
    }

    /// Takes the Secrets out. podman 4.3 takes a `kind: Secret` document, but stores it as a
    /// podman secret holding the object as YAML, and its `secretKeyRef` then fails ("secret ...
    /// is not valid JSON"): it reads a secret as a JSON object of base64 values. The test
    /// creates each Secret as such a podman secret instead ([`Played::create_secret`]), with the
    /// values the printed Secret redacts.
    pub fn take_secrets(&mut self) -> Vec<Secret> {
        let (secrets, others) = std::mem::take(&mut self.documents)
            .into_iter()
            .partition(|document| kind(document) == "Secret");
        self.documents = others;
        secrets
            .into_iter()
            .map(|secret| serde_norway::from_value(secret).expect("a Secret"))
            .collect()
    }

    /// The documents as YAML.
    pub fn text(&self) -> String {
        self.documents
            .iter()
            .fold(String::new(), |mut text, document| {
                text.push_str("---\n");
                text.push_str(&serde_norway::to_string(document).expect("YAML text"));
                text
            })
    }
}

/// The `kind` of a document.
pub fn kind(document: &Value) -> &str {
    document
        .get("kind")
        .and_then(Value::as_str)
        .expect("a kind")
}

fn expand_container(container: &mut serde_norway::Mapping) {
    let mut defined: Vec<(String, Vec<u8>)> = Vec::new();
    if let Some(Value::Sequence(variables)) = container.get_mut("env") {
        for variable in variables.iter_mut().filter_map(Value::as_mapping_mut) {
            let name = variable
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if let Some(Value::String(value)) = variable.get_mut("value") {
                *value = eider_kube_double::expand_references(value, &defined);
                defined.push((name, value.clone().into_bytes()));
            }
        }
    }
    for field in ["command", "args"] {
        if let Some(Value::Sequence(words)) = container.get_mut(field) {
            for word in words.iter_mut() {
                if let Value::String(text) = word {
                    *text = eider_kube_double::expand_references(text, &defined);
                }
            }
        }
    }
}

/// The `metadata.name` of a document.
pub fn name(document: &Value) -> &str {
    document
        .get("metadata")
        .and_then(|metadata| metadata.get("name"))
        .and_then(Value::as_str)
        .expect("a name")
}

/// Tells plays apart (within a test binary; the process id apart between binaries).
static PLAYS: AtomicUsize = AtomicUsize::new(0);

/// What a test played in podman: Pods, the volumes its claims became and its secrets, all
/// removed when dropped, whether the test passed or not.
pub struct Played {
    /// What stands for `eider-manifest` in the names of the played objects.
    run: String,
    pods: Vec<String>,
    volumes: Vec<String>,
    secrets: Vec<String>,
    directory: tempfile::TempDir,
}

impl Played {
    /// Nothing played yet. Each `Played` names its objects after a run of its own, as each
    /// eider run has an id of its own: tests that play at once (and other checkouts sharing
    /// podman's storage) never meet, and leftovers of a killed test never stand in the way.
    pub fn new() -> Self {
        let run = format!(
            "eider-t{}-{}",
            std::process::id(),
            PLAYS.fetch_add(1, Ordering::Relaxed)
        );
        Self {
            run,
            pods: Vec::new(),
            volumes: Vec::new(),
            secrets: Vec::new(),
            directory: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// The name podman knows the object `eider manifests` named `generated` by.
    pub fn name(&self, generated: &str) -> String {
        match generated.strip_prefix(GENERATED_RUN) {
            Some(rest) => format!("{}{rest}", self.run),
            None => generated.to_owned(),
        }
    }

    /// Creates `secret` as a podman secret of the same name that `secretKeyRef` can read,
    /// holding `values`; the printed Secret must name exactly their keys.
    pub fn create_secret(&mut self, secret: &Secret, values: &[(&str, &str)]) {
        let generated = secret.metadata.name.as_deref().expect("a Secret's name");
        let printed: Vec<&String> = secret
            .string_data
            .iter()
            .flatten()
            .map(|(key, _)| key)
            .collect();
        let mut given: Vec<&str> = values.iter().map(|(key, _)| *key).collect();
        given.sort_unstable();
        assert_eq!(printed, given, "the Secret's keys");
        let data: BTreeMap<&str, ByteString> = values
            .iter()
            .map(|(key, value)| (*key, ByteString(value.as_bytes().to_vec())))
            .collect();
        let name = self.name(generated);
        self.secrets.push(name.clone());
        let mut child = podman()
            .args(["secret", "create", &name, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("podman secret create");
        child
            .stdin
            .take()
            .expect("its input")
            .write_all(serde_json::to_string(&data).expect("JSON").as_bytes())
            .expect("the secret written");
        let output = child.wait_with_output().expect("podman secret create ends");
        assert!(
            output.status.success(),
            "podman secret create failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Plays `manifests` with loopback only, as the Docker Engine's containers have, named
    /// after this play's run.
    pub fn play(&mut self, manifests: &Manifests) {
        for pod in manifests.of_kind("Pod") {
            self.pods.push(self.name(name(pod)));
        }
        for claim in manifests.of_kind("PersistentVolumeClaim") {
            self.volumes.push(self.name(name(claim)));
        }
        let text = manifests
            .clone()
            .expanded_as_the_kubelet_does()
            .text()
            .replace(&format!("{GENERATED_RUN}-"), &format!("{}-", self.run));
        let path = self
            .directory
            .path()
            .join(format!("play-{}.yaml", self.pods.len()));
        std::fs::write(&path, text).expect("the YAML written");
        self.play_file(&path);
    }

    fn play_file(&self, path: &Path) {
        // The test registry, where source images are pushed, speaks plain HTTP on loopback.
        run_ok(&[
            "kube",
            "play",
            "--network",
            "none",
            "--tls-verify=false",
            &path.to_string_lossy(),
        ]);
    }

    /// Waits for container `container` of the Pod `eider manifests` named `pod` to exit; its
    /// exit code, as podman has it, and its output.
    pub fn wait(&self, pod: &str, container: &str) -> (i64, String) {
        let name = format!("{}-{container}", self.name(pod));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let state = run_ok(&[
                "inspect",
                "--format",
                "{{.State.Status}} {{.State.ExitCode}}",
                &name,
            ]);
            let state = String::from_utf8_lossy(&state.stdout).trim().to_owned();
            if let Some(code) = state.strip_prefix("exited ") {
                let logs = run_ok(&["logs", &name]);
                let mut text = String::from_utf8_lossy(&logs.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&logs.stderr));
                return (code.parse().expect("an exit code"), text);
            }
            assert!(Instant::now() < deadline, "{name} did not exit: {state}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The labels of the volume the claim `eider manifests` named `claim` became.
    pub fn volume_labels(&self, claim: &str) -> BTreeMap<String, String> {
        let output = run_ok(&[
            "volume",
            "inspect",
            "--format",
            "{{json .Labels}}",
            &self.name(claim),
        ]);
        serde_json::from_slice(&output.stdout).expect("the volume's labels")
    }
}

impl Drop for Played {
    fn drop(&mut self) {
        // Pods first: a volume in use cannot be removed. Sidecars still running are killed at
        // once; a test has nothing more to learn from them.
        for pod in &self.pods {
            let _removed = run(&["pod", "rm", "--force", "--time", "0", pod]);
        }
        for volume in &self.volumes {
            let _removed = run(&["volume", "rm", "--force", volume]);
        }
        for secret in &self.secrets {
            let _removed = run(&["secret", "rm", secret]);
        }
    }
}
