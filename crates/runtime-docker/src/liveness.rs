//! Whether the engine is alive, and what became of a container after the engine came back.

use eider_runtime::{Exit, RuntimeError};

use crate::model::{ContainerId, ContainerState};

use crate::DockerRuntime;
use crate::error::{from_bollard, is_gone_or_done};

impl DockerRuntime {
    /// `/_ping` on a client of its own: a connection kept alive in the shared pool would still
    /// be served by an engine that is shutting down (it closes its listener first and its open
    /// connections only when it exits), and a fresh connection is cheap on a local socket (over
    /// TLS, the configuration made at connect is used again: only the handshake is new).
    pub(crate) async fn ping_fresh(&self) -> Result<(), RuntimeError> {
        let client = self
            .transport
            .client(self.response_timeout)
            .map_err(from_bollard)?;
        match tokio::time::timeout(self.response_timeout, client.ping()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(from_bollard(error)),
            Err(_) => Err(RuntimeError::Unresponsive),
        }
    }

    pub(crate) async fn live_restore_enabled(&self) -> Result<bool, RuntimeError> {
        let info = self.client.info().await.map_err(from_bollard)?;
        Ok(info.live_restore_enabled.unwrap_or(false))
    }

    pub(crate) async fn state_of(&self, id: &ContainerId) -> Result<ContainerState, RuntimeError> {
        let inspect = match self.inspect(id).await {
            Ok(inspect) => inspect,
            Err(error) if is_gone_or_done(&error) => return Ok(ContainerState::Missing),
            Err(error) => return Err(from_bollard(error)),
        };
        let Some(state) = inspect.state else {
            return Ok(ContainerState::Missing);
        };
        if state.running.unwrap_or(false) || state.restarting.unwrap_or(false) {
            return Ok(ContainerState::Running);
        }
        // A container never started has no exit to report: it counts as not yet run.
        if state
            .finished_at
            .as_deref()
            .is_none_or(|time| time.starts_with("0001-"))
        {
            return Ok(ContainerState::Running);
        }
        Ok(ContainerState::Exited(Exit {
            code: state.exit_code.unwrap_or(-1),
            out_of_memory: state.oom_killed.unwrap_or(false),
        }))
    }
}
