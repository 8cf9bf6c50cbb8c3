//! Kubernetes objects checked against the official `OpenAPI` schemas, by the `kubernetes-validate`
//! tool that `scripts/test-env.sh` installs. Shared by the tests of every crate that generates
//! objects (included by path).

use std::path::Path;
use std::process::Command;

/// Where `scripts/test-env.sh` installs the validator.
const VALIDATOR: &str = "/var/lib/eider-test/kubernetes-validate/bin/kubernetes-validate";

/// The oldest Kubernetes with native sidecars, and the newest the validator knows.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.29.0", "1.37.0"];

/// Asserts that every object in `files` is valid for each supported Kubernetes, strictly (no
/// unknown field).
#[track_caller]
pub fn assert_valid(files: &[&Path]) {
    for version in KUBERNETES_VERSIONS {
        let output = Command::new(VALIDATOR)
            .args(["--strict", "--quiet", "--kubernetes-version", version])
            .args(files)
            .output()
            .unwrap_or_else(|error| {
                panic!("cannot run {VALIDATOR} ({error}): run `bash scripts/test-env.sh` first")
            });
        assert!(
            output.status.success(),
            "Kubernetes {version} refuses the objects:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
