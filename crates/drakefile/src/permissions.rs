//! What a job may do on this machine: the permissions the user grants. The DrakeSpec has
//! executors refuse `privileged` and `mountDockerSocket` unless allowed, never downgrade them
//! silently.

use crate::Job;

/// What the user allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions {
    /// Whether `privileged: true` is honored.
    pub privileged: bool,
    /// Whether `mountDockerSocket: true` is honored.
    pub docker_socket: bool,
}

/// Why a job may not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What is refused.
    pub message: String,
    /// How to allow it.
    pub hint: Option<String>,
}

/// Refuses `job` when any of its containers asks for what `allowed` does not grant, naming
/// every such container and how to allow what it asks.
pub fn check_permissions(job: &Job, allowed: Permissions) -> Result<(), Refusal> {
    let privileged = names(job, |container| container.privileged && !allowed.privileged);
    let socket = names(job, |container| {
        container.mount_docker_socket && !allowed.docker_socket
    });
    let asks: Vec<String> = [
        asking(
            &privileged,
            "asks to run privileged",
            "ask to run privileged",
        ),
        asking(
            &socket,
            "asks for the Docker socket",
            "ask for the Docker socket",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if asks.is_empty() {
        return Ok(());
    }
    let hint = match (privileged.is_empty(), socket.is_empty()) {
        (false, true) => {
            "a privileged container can take over this machine; if you trust this Drakefile, \
             pass --allow-privileged (or set allow-privileged = true in the eider config file)"
        }
        (true, false) => {
            "the Docker socket gives full control of the engine; if you trust this Drakefile, \
             pass --allow-docker-socket (or set allow-docker-socket = true in the eider config \
             file)"
        }
        _ => {
            "a privileged container can take over this machine and the Docker socket gives full \
             control of the engine; if you trust this Drakefile, pass --allow-privileged \
             --allow-docker-socket (or set allow-privileged = true and allow-docker-socket = \
             true in the eider config file)"
        }
    };
    Err(Refusal {
        message: format!(
            "job `{}`: {}, which is not allowed",
            job.name,
            asks.join(" and ")
        ),
        hint: Some(hint.to_owned()),
    })
}

/// The names of `job`'s containers that `refused` picks, in the Drakefile's order.
fn names(job: &Job, refused: impl Fn(&crate::Container) -> bool) -> Vec<&str> {
    job.containers
        .iter()
        .filter(|container| refused(container))
        .map(|container| container.name.as_str())
        .collect()
}

/// "container `a` asks ...", "containers `a` and `b` ask ...", or nothing for no container.
fn asking(names: &[&str], one: &str, several: &str) -> Option<String> {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.as_slice() {
        [] => None,
        [name] => Some(format!("container {name} {one}")),
        [first @ .., last] => Some(format!(
            "containers {} and {last} {several}",
            first.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(yaml: &str) -> Job {
        let parsed = crate::parse("Drakefile.yaml", yaml).expect("a valid Drakefile");
        parsed.drakefile.jobs.into_iter().next().expect("one job")
    }

    const BOTH: &str = "specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  build:
    sidecarContainers:
    - name: dind
      image: docker:dind
      privileged: true
    - name: cache
      image: cache
      privileged: true
    primaryContainer:
      name: main
      image: docker
      mountDockerSocket: true
";

    #[test]
    fn every_container_that_asks_for_what_is_not_allowed_is_named_in_one_refusal() {
        let refusal =
            check_permissions(&job(BOTH), Permissions::default()).expect_err("nothing is allowed");
        assert_eq!(
            refusal.message,
            "job `build`: containers `dind` and `cache` ask to run privileged and container \
             `main` asks for the Docker socket, which is not allowed"
        );
        assert!(
            refusal
                .hint
                .as_deref()
                .is_some_and(|hint| hint.contains("--allow-privileged --allow-docker-socket")),
            "{refusal:?}"
        );
    }

    #[test]
    fn what_is_allowed_is_not_named() {
        let allowed = Permissions {
            privileged: true,
            docker_socket: false,
        };
        let refusal = check_permissions(&job(BOTH), allowed).expect_err("the socket is refused");
        assert_eq!(
            refusal.message,
            "job `build`: container `main` asks for the Docker socket, which is not allowed"
        );
        let all = Permissions {
            privileged: true,
            docker_socket: true,
        };
        assert_eq!(check_permissions(&job(BOTH), all), Ok(()));
    }
}
