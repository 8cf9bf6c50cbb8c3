#!/usr/bin/env bash
# Acceptance cases of `eider run --backend kubernetes` against a real cluster (kind, k3s,
# minikube, a cloud cluster): the cluster KUBECONFIG points at, its current context (or
# EIDER_CONTEXT), in a namespace of its own that the script creates and deletes (or
# EIDER_NAMESPACE, which must exist). Without KUBECONFIG, it says so and skips.
#
#   KUBECONFIG=~/.kube/config bash scripts/test-kubernetes.sh
#
# The cluster's nodes pull EIDER_TEST_IMAGE (default: busybox:1.36). Every case checks eider's
# exit code and output; at the end nothing eider created may be left in the namespace. The
# source cases need EIDER_REGISTRY: a repository eider pushes source images to and the cluster
# pulls from.
# Exits non-zero when a case fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -z "${KUBECONFIG:-}" ]]; then
    echo "skipped: KUBECONFIG is not set; point it at a cluster's kubeconfig to run these cases" >&2
    exit 0
fi
if [[ ! -r "$KUBECONFIG" ]]; then
    echo "skipped: KUBECONFIG names $KUBECONFIG, which cannot be read" >&2
    exit 0
fi

image="${EIDER_TEST_IMAGE:-busybox:1.36}"
if ! command -v cargo >/dev/null 2>&1 && [[ -f "${CARGO_HOME:-$HOME/.cargo}/env" ]]; then
    # shellcheck source=/dev/null
    source "${CARGO_HOME:-$HOME/.cargo}/env"
fi
cargo build -q --locked -p eider
eider="$PWD/target/debug/eider"

work="$(mktemp -d)"
created_namespace=""
cleanup() {
    if [[ -n "$created_namespace" ]]; then
        kubectl delete namespace "$created_namespace" --wait=false >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

if [[ -z "${EIDER_NAMESPACE:-}" ]]; then
    if command -v kubectl >/dev/null 2>&1; then
        created_namespace="eider-acceptance-$$"
        kubectl create namespace "$created_namespace" >/dev/null
        export EIDER_NAMESPACE="$created_namespace"
    else
        export EIDER_NAMESPACE=default
    fi
fi
export EIDER_BACKEND=kubernetes NO_COLOR=1

failures=0
pass() { printf 'ok    %s\n' "$1"; }
fail() {
    printf 'FAIL  %s\n' "$1"
    sed 's/^/      /' "$work/out" "$work/err" | tail -20
    failures=$((failures + 1))
}

# Runs eider in a project whose Drakefile is stdin; leaves its exit code in $code.
run_case() {
    local project="$work/project"
    rm -rf "$project" && mkdir -p "$project"
    cat >"$project/Drakefile.yaml"
    code=0
    (cd "$project" && timeout 600 "$eider" run "$@") >"$work/out" 2>"$work/err" || code=$?
}

header="specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:"

# A sidecar reached over localhost, its output and the primary's attributed.
run_case test <<EOF
$header
  test:
    sidecarContainers:
    - name: web
      image: $image
      command: [busybox, sh, -c, "mkdir -p /www && echo hello > /www/index.html && echo web-up && exec busybox httpd -f -p 8080 -h /www"]
    primaryContainer:
      name: main
      image: $image
      command: [busybox, sh, -c, "until busybox wget -qO- http://127.0.0.1:8080/; do sleep 1; done"]
EOF
if [[ $code -eq 0 ]] && grep -qx '\[test/main\] hello' "$work/out" &&
    grep -qx '\[test/web\] web-up' "$work/out"; then
    pass "a sidecar is reached over localhost"
else
    fail "a sidecar is reached over localhost (exit $code)"
fi

# The primary's exit code decides.
run_case test <<EOF
$header
  test:
    primaryContainer:
      name: main
      image: $image
      command: [busybox, sh, -c, "exit 3"]
EOF
if [[ $code -eq 1 ]] && grep -q 'container `main` exited with code 3' "$work/err"; then
    pass "the primary's exit code decides"
else
    fail "the primary's exit code decides (exit $code)"
fi

# Secrets reach the containers and are masked.
printf 'TOKEN: acceptance-s3cr3t\n' >"$work/secrets.yaml"
run_case test -s "$work/secrets.yaml" <<EOF
$header
  test:
    primaryContainer:
      name: main
      image: $image
      command: [busybox, sh, -c, "echo token=\$TOKEN"]
EOF
if [[ $code -eq 0 ]] && grep -qx '\[test/main\] token=\*\*\*' "$work/out" &&
    ! grep -q acceptance-s3cr3t "$work/out" "$work/err"; then
    pass "secrets reach the containers, masked"
else
    fail "secrets reach the containers, masked (exit $code)"
fi

# An image the nodes cannot pull fails the job with the cluster's reason.
run_case test <<EOF
$header
  test:
    primaryContainer:
      name: main
      image: registry.invalid/eider/does-not-exist:1
      command: ["true"]
EOF
if [[ $code -eq 1 ]] && grep -Eq 'ErrImagePull|ImagePullBackOff' "$work/err"; then
    pass "an image the cluster cannot pull fails the job"
else
    fail "an image the cluster cannot pull fails the job (exit $code)"
fi

# A pipeline runs as a DAG.
run_case -p ci -c 2 <<EOF
$header
  a:
    primaryContainer: {name: main, image: $image, command: [busybox, echo, a]}
  b:
    primaryContainer: {name: main, image: $image, command: [busybox, echo, b]}
  c:
    primaryContainer: {name: main, image: $image, command: [busybox, echo, c]}
pipelines:
  ci:
    jobs:
    - name: a
    - name: b
      dependencies: [a]
    - name: c
      dependencies: [a]
EOF
if [[ $code -eq 0 ]] && grep -qx '\[c/main\] c' "$work/out"; then
    pass "a pipeline runs"
else
    fail "a pipeline runs (exit $code)"
fi

# Shared storage is copied out with --keep-shared (the helper image, busybox by default, pulled
# by the nodes).
run_case -p ci --keep-shared "$work/kept" <<EOF
$header
  write:
    primaryContainer:
      name: main
      image: $image
      sharedStorageMountPath: /shared
      command: [busybox, sh, -c, "mkdir -p /shared/out && echo kept > /shared/out/note"]
pipelines:
  ci:
    jobs:
    - name: write
EOF
if [[ $code -eq 0 ]] && [[ "$(cat "$work/kept/out/note" 2>/dev/null)" == kept ]]; then
    pass "--keep-shared copies the claim out"
else
    fail "--keep-shared copies the claim out (exit $code)"
fi

# The source reaches the Pods as a source image pushed to EIDER_REGISTRY, a repository eider
# pushes to and the cluster pulls from.
if [[ -n "${EIDER_REGISTRY:-}" ]]; then
    project="$work/project"
    rm -rf "$project" && mkdir -p "$project"
    echo "from the tree" >"$project/notes.txt"
    cat >"$project/Drakefile.yaml" <<EOF
$header
  look:
    sourceMountMode: RO
    primaryContainer:
      name: main
      image: $image
      sourceMountPath: /src
      command: [busybox, sh, -c, "cat /src/notes.txt; busybox touch /src/x 2>/dev/null && echo writable || echo read-only"]
  change:
    sourceMountMode: COPY
    primaryContainer:
      name: main
      image: $image
      sourceMountPath: /src
      command: [busybox, sh, -c, "echo changed > /src/notes.txt && cat /src/notes.txt"]
EOF
    code=0
    (cd "$project" && timeout 600 "$eider" run look change) >"$work/out" 2>"$work/err" || code=$?
    if [[ $code -eq 0 ]] && grep -qx '\[look/main\] read-only' "$work/out" &&
        grep -qx '\[look/main\] from the tree' "$work/out" &&
        grep -qx '\[change/main\] changed' "$work/out"; then
        pass "the source reaches the Pods read-only and as a private copy"
    else
        fail "the source reaches the Pods read-only and as a private copy (exit $code)"
    fi
else
    echo "skipped: the source cases (set EIDER_REGISTRY to a repository eider pushes to and the cluster pulls from)" >&2
fi

# Ctrl-C deletes what the run created and exits 130.
project="$work/project"
rm -rf "$project" && mkdir -p "$project"
cat >"$project/Drakefile.yaml" <<EOF
$header
  wait:
    primaryContainer:
      name: main
      image: $image
      command: [busybox, sh, -c, "echo waiting; exec busybox sleep 600"]
EOF
(cd "$project" && exec "$eider" run wait --grace-period 2s) >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 120); do
    grep -q waiting "$work/out" 2>/dev/null && break
    sleep 1
done
kill -INT "$pid" 2>/dev/null || true
code=0
wait "$pid" || code=$?
if [[ $code -eq 130 ]]; then
    pass "Ctrl-C ends the run and cleans up"
else
    fail "Ctrl-C ends the run and cleans up (exit $code)"
fi

# Nothing is left: eider clean finds nothing of this machine's eiders.
code=0
"$eider" clean >"$work/out" 2>"$work/err" || code=$?
if [[ $code -eq 0 ]] && grep -q 'removed 0 Pods and 0 other objects' "$work/err"; then
    pass "nothing is left behind"
else
    fail "nothing is left behind (exit $code)"
fi

if [[ $failures -gt 0 ]]; then
    echo "$failures case(s) failed" >&2
    exit 1
fi
echo "every case passed" >&2
