//! Running the `git` program in a repository: how the command line learns the current branch
//! (the event of a run) and how packaging learns a package's provenance. The program itself,
//! not a library, so that every repository layout git understands (worktrees, submodules,
//! `GIT_DIR`) works. One runner for both, in a crate of its own, so that neither depends on the
//! other for it.

use std::process::{Command, Output};

use camino::Utf8Path;

/// Runs `program` (`git`, or another name in tests) with `arguments` in `directory`.
pub fn run(program: &str, directory: &Utf8Path, arguments: &[&str]) -> std::io::Result<Output> {
    Command::new(program)
        .arg("-C")
        .arg(directory)
        .args(arguments)
        .output()
}

/// Runs git in a test repository with fixed dates, a test user and no signing, so that commits
/// and tags are the same on every machine; asserts it succeeded and returns its stdout. For
/// tests only (feature `test-support`): the unit tests of the crates that ask git and the CLI's
/// integration tests share it.
#[cfg(feature = "test-support")]
pub fn run_for_test(directory: impl AsRef<std::path::Path>, arguments: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(directory.as_ref())
        .args([
            "-c",
            "user.email=tests@example.invalid",
            "-c",
            "user.name=Tests",
        ])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(arguments)
        .env("GIT_COMMITTER_DATE", "@1700000000 +0000")
        .env("GIT_AUTHOR_DATE", "@1700000000 +0000")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
