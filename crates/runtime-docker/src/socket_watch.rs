//! Containers a job may start through the Docker socket it was allowed: eider cannot tell them
//! from containers that something else created on the engine at the same time, so it never
//! removes them, but it names every one still there when the job ends.

use std::collections::HashSet;

use eider_runtime::labels;

use crate::DockerRuntime;
use crate::model::ContainerId;

/// The containers without eider's labels that existed when a job with the Docker socket began.
pub(crate) struct SocketWatch {
    before: HashSet<ContainerId>,
}

impl SocketWatch {
    /// Takes note of the engine's foreign containers; none when the engine cannot be asked.
    pub(crate) async fn begin(runtime: &DockerRuntime) -> Option<Self> {
        let before = runtime
            .list_unlabelled(labels::RUN_ID)
            .await
            .ok()?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        Some(Self { before })
    }

    /// The names of the foreign containers that appeared since [`Self::begin`] and are still
    /// there, sorted; empty when the engine cannot be asked.
    pub(crate) async fn appeared(&self, runtime: &DockerRuntime) -> Vec<String> {
        let Ok(now) = runtime.list_unlabelled(labels::RUN_ID).await else {
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
