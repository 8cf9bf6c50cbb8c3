//! Projects to package and the commands of packaging: `eider package` and `eider verify` in a
//! project, with what they print.

use super::{BUSYBOX, Project, Run, git};

/// A job whose primary prints a file of the source, found in the image at /src.
pub fn packaged_drakefile(job: &str) -> String {
    super::drakefile(&format!(
        "  {job}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /src
      environment:
      - GREETING=hello from the package
      command: [sh, -c]
      args: ['echo \"$GREETING\"; cat /src/data/message.txt']
"
    ))
}

/// A project with a Drakefile, a source tree and a git commit (the package's version and time).
pub fn project(job: &str) -> Project {
    let project = Project::new(&packaged_drakefile(job));
    project.write("data/message.txt", "the packaged message\n");
    project.write("data/ignored.log", "left out by .gitignore\n");
    project.write(".gitignore", "*.log\n");
    project.write(".drakeignore", "scratch/\n");
    project.write("scratch/notes.txt", "left out by .drakeignore\n");
    project.write("Drakesecrets.yaml", "TOKEN: never-in-an-image-7731\n");
    git(project.path(), &["init", "-q"]);
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-q", "-m", "source"]);
    git(project.path(), &["tag", "v1.0.0"]);
    project
}

pub fn package(project: &Project, arguments: &[&str]) -> Run {
    eider(project, "package", arguments)
}

pub fn verify(project: &Project, arguments: &[&str]) -> Run {
    eider(project, "verify", arguments)
}

/// `eider COMMAND ARGUMENTS...` in the project, to completion.
pub fn eider(project: &Project, command: &str, arguments: &[&str]) -> Run {
    let output = project
        .eider()
        .arg(command)
        .args(arguments)
        .output()
        .unwrap_or_else(|error| panic!("run eider {command}: {error}"));
    Run::from(output)
}

/// The digest printed on stdout.
pub fn digest_of(run: &Run) -> String {
    run.assert_code(0);
    let digest = run.stdout.trim().to_owned();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "not a digest: {digest:?}\n{}",
        run.stderr
    );
    digest
}

/// Removes every local image of a repository when dropped: the images that runs of packages
/// load into the engine (`eider-verified/JOB`).
pub struct RemoveRepository(pub String);

impl Drop for RemoveRepository {
    fn drop(&mut self) {
        let Ok(listed) = std::process::Command::new("docker")
            .args(["images", "--format", "{{.Repository}}:{{.Tag}}", &self.0])
            .output()
        else {
            return;
        };
        for image in String::from_utf8_lossy(&listed.stdout).lines() {
            let _ignored = std::process::Command::new("docker")
                .args(["image", "rm", "-f", image])
                .output();
        }
    }
}
