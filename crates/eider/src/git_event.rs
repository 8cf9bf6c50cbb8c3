//! The event a local run stands for when none is named: a push of the checked-out branch, or of
//! the tag at a detached HEAD, as git says.

use camino::Utf8Path;
use drakefile::triggers::Event;

/// The event for the repository at `directory`: [`Event::PushBranch`] of the current branch,
/// else [`Event::PushTag`] of a tag pointing exactly at HEAD. The error is a message for the
/// user: git is missing, `directory` is not a repository, or HEAD is detached and not tagged.
pub fn event_from_git(directory: &Utf8Path) -> Result<Event, String> {
    event_from("git", directory)
}

/// [`event_from_git`] with the program to run, so tests can name one that does not exist.
fn event_from(program: &str, directory: &Utf8Path) -> Result<Event, String> {
    let branch = run(
        program,
        directory,
        &["symbolic-ref", "--short", "-q", "HEAD"],
    )?;
    match branch.status.code() {
        Some(0) => return text(&branch.stdout, "branch name").map(Event::PushBranch),
        // `-q`: HEAD is not a symbolic reference, i.e. detached; nothing printed.
        Some(1) => {}
        _ => return Err(failure("symbolic-ref", directory, &branch.stderr)),
    }
    let tag = run(program, directory, &["describe", "--tags", "--exact-match"])?;
    if tag.status.success() {
        return text(&tag.stdout, "tag name").map(Event::PushTag);
    }
    // The repository is readable (symbolic-ref worked), so a failure here means no tag points at
    // HEAD; git words that differently when the repository has no tags at all.
    Err("HEAD is detached and not tagged: pass --branch or --tag".to_owned())
}

fn run(
    program: &str,
    directory: &Utf8Path,
    arguments: &[&str],
) -> Result<std::process::Output, String> {
    eider_git::run(program, directory, arguments)
        .map_err(|error| format!("cannot run `{program}` to find the current branch: {error}"))
}

/// The single line git printed.
fn text(stdout: &[u8], what: &str) -> Result<String, String> {
    let text = std::str::from_utf8(stdout)
        .map_err(|_| format!("the {what} git printed is not valid UTF-8"))?
        .trim_end_matches(['\n', '\r']);
    if text.is_empty() {
        return Err(format!("git printed an empty {what}"));
    }
    Ok(text.to_owned())
}

fn failure(command: &str, directory: &Utf8Path, stderr: &[u8]) -> String {
    let message = String::from_utf8_lossy(stderr);
    let message = message.trim();
    if message.is_empty() {
        format!("`git {command}` failed in {directory}")
    } else {
        format!("`git {command}` failed in {directory}: {message}")
    }
}

#[cfg(test)]
mod tests {
    use camino::Utf8PathBuf;

    use super::*;

    /// A temporary repository with a commit on branch `trunk`.
    struct Repository {
        _directory: tempfile::TempDir,
        path: Utf8PathBuf,
    }

    impl Repository {
        fn new() -> Self {
            let directory = tempfile::tempdir().expect("a temporary directory");
            let path =
                Utf8PathBuf::from_path_buf(directory.path().to_owned()).expect("a UTF-8 path");
            let repository = Self {
                _directory: directory,
                path,
            };
            repository.git(&["init", "-q"]);
            repository.git(&["symbolic-ref", "HEAD", "refs/heads/trunk"]);
            repository.git(&["config", "user.email", "tests@example.invalid"]);
            repository.git(&["config", "user.name", "Tests"]);
            repository.git(&["config", "commit.gpgsign", "false"]);
            repository.git(&["config", "tag.gpgsign", "false"]);
            repository
        }

        fn git(&self, arguments: &[&str]) {
            eider_git::run_for_test(&self.path, arguments);
        }

        fn commit(&self, message: &str) {
            self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        }
    }

    #[test]
    fn the_current_branch_is_a_branch_push() {
        let repository = Repository::new();
        // Before the first commit the branch exists only as HEAD's target.
        assert_eq!(
            event_from_git(&repository.path),
            Ok(Event::PushBranch("trunk".to_owned()))
        );
        repository.commit("first");
        repository.git(&["checkout", "-q", "-b", "feature/triggers"]);
        assert_eq!(
            event_from_git(&repository.path),
            Ok(Event::PushBranch("feature/triggers".to_owned()))
        );
    }

    #[test]
    fn a_branch_wins_over_a_tag_at_head() {
        let repository = Repository::new();
        repository.commit("first");
        repository.git(&["tag", "v1.0.0"]);
        assert_eq!(
            event_from_git(&repository.path),
            Ok(Event::PushBranch("trunk".to_owned()))
        );
    }

    #[test]
    fn a_detached_head_with_a_tag_is_a_tag_push() {
        let repository = Repository::new();
        repository.commit("first");
        repository.git(&["tag", "-a", "-m", "release", "v1.0.0"]);
        repository.git(&["checkout", "-q", "--detach"]);
        assert_eq!(
            event_from_git(&repository.path),
            Ok(Event::PushTag("v1.0.0".to_owned()))
        );
    }

    #[test]
    fn a_detached_head_without_a_tag_is_an_error() {
        let repository = Repository::new();
        repository.commit("first");
        repository.git(&["tag", "v1.0.0"]);
        repository.commit("second");
        repository.git(&["checkout", "-q", "--detach"]);
        assert_eq!(
            event_from_git(&repository.path),
            Err("HEAD is detached and not tagged: pass --branch or --tag".to_owned())
        );
    }

    #[test]
    fn a_directory_outside_a_repository_is_an_error() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = Utf8Path::from_path(directory.path()).expect("a UTF-8 path");
        let error = event_from_git(path).expect_err("not a repository");
        assert!(
            error.starts_with(&format!("`git symbolic-ref` failed in {path}: ")),
            "{error}"
        );
        assert!(error.contains("not a git repository"), "{error}");
    }

    #[test]
    fn a_missing_git_is_an_error() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = Utf8Path::from_path(directory.path()).expect("a UTF-8 path");
        let error = event_from("eider-no-such-git", path).expect_err("no such program");
        assert!(
            error.starts_with("cannot run `eider-no-such-git` to find the current branch: "),
            "{error}"
        );
    }
}
