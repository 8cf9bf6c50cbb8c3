//! Containers a job may start through the Docker socket it was allowed: eider cannot tell them
//! from containers that something else created on the engine at the same time, so it never
//! removes them, but it names every one still there when the job ends.

use std::collections::HashSet;

use drakefile::Job;
use eider_runtime::{ContainerId, Runtime};

use crate::labels;

/// The containers without eider's labels that existed when a job with the Docker socket began.
pub(crate) struct SocketWatch {
    before: HashSet<ContainerId>,
}

impl SocketWatch {
    /// Takes note of the engine's foreign containers, if a container of `job` gets the socket.
    pub(crate) async fn begin<R: Runtime>(runtime: &R, job: &Job) -> Option<Self> {
        if !job
            .containers
            .iter()
            .any(|container| container.mount_docker_socket)
        {
            return None;
        }
        let before = runtime
            .list_containers_without(labels::RUN_ID)
            .await
            .ok()?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        Some(Self { before })
    }

    /// The names of the foreign containers that appeared since [`Self::begin`] and are still
    /// there, sorted; empty when the engine cannot be asked.
    pub(crate) async fn appeared<R: Runtime>(&self, runtime: &R) -> Vec<String> {
        let Ok(now) = runtime.list_containers_without(labels::RUN_ID).await else {
            return Vec::new();
        };
        let mut names: Vec<String> = now
            .into_iter()
            .filter(|(id, _)| !self.before.contains(id))
            .map(|(_, name)| name)
            .collect();
        names.sort();
        names
    }
}
