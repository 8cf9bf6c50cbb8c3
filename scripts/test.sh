#!/usr/bin/env bash
# The project's test command: installs what is missing, prepares the services the tests need,
# then runs the whole test suite. Safe to run again and again.
#
#   bash scripts/test.sh
#
# Exits non-zero when a step or a test fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() {
    printf '\n==> %s\n' "$*" >&2
}

fail() {
    printf 'error: %s\n' "$1" >&2
    if [[ $# -gt 1 ]]; then
        printf 'hint: %s\n' "$2" >&2
    fi
    exit 1
}

# rustup installs into ~/.cargo/bin, which a non-login shell (CI, cron) may not have on PATH.
ensure_rust_toolchain() {
    if ! command -v cargo >/dev/null 2>&1 && [[ -f "${CARGO_HOME:-$HOME/.cargo}/env" ]]; then
        # shellcheck source=/dev/null
        source "${CARGO_HOME:-$HOME/.cargo}/env"
    fi
    command -v cargo >/dev/null 2>&1 ||
        fail "cargo is not installed" "install Rust with rustup: https://rustup.rs"
    step "toolchain: $(cargo --version)"
}

# The integration tests drive a real container engine: scripts/test-env.sh installs it, starts it
# (and a local registry) when nothing answers, and builds the images the tests use.
prepare_test_environment() {
    step "test environment (container engine, registry, test images)"
    bash scripts/test-env.sh ||
        fail "the test environment could not be prepared (see above)" \
            "run bash scripts/test-env.sh alone, as root, to retry just this step"
}

# `--no-fail-fast`: one run reports every failing test, not only the first.
run_tests() {
    if cargo nextest --version >/dev/null 2>&1; then
        step "unit and integration tests (cargo nextest)"
        cargo nextest run --workspace --locked --no-fail-fast ||
            fail "unit or integration tests failed (see above)"
    else
        step "unit and integration tests (cargo test; cargo-nextest is not installed)"
        cargo test --workspace --locked --all-targets --no-fail-fast ||
            fail "unit or integration tests failed (see above)"
    fi
    # nextest does not run doctests; run them only when there are some, so that the suite's
    # closing line is the one that counts the tests.
    if grep -rqs '```rust\|^//! ```$\|^/// ```$' crates/*/src; then
        step "doctests"
        cargo test --workspace --doc --locked --no-fail-fast ||
            fail "doctests failed (see above)"
    fi
}

main() {
    ensure_rust_toolchain
    prepare_test_environment
    run_tests
    step "all tests passed"
}

main "$@"
