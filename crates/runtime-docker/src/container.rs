//! Containers: create, attach, start, wait, stop, remove, list.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, HostConfig, HostConfigLogConfig,
    Mount as EngineMount, MountType, MountVolumeOptions,
};
use bollard::query_parameters::{
    AttachContainerOptions, CreateContainerOptions, InspectContainerOptions, KillContainerOptions,
    ListContainersOptions, RemoveContainerOptions, StopContainerOptions, WaitContainerOptions,
};
use eider_runtime::{Exit, Labels, OutputChunk, OutputStream, RuntimeError, StreamKind};
use futures_util::{StreamExt, TryStreamExt};

use crate::DockerRuntime;
use crate::error::{from_bollard, is_gone_or_done, is_removal_in_progress};
use crate::model::{ContainerId, CreateSpec, MountSource, NetworkMode};
use crate::passing_states::read_through_passing_states;
use crate::terminal_attach::attach_terminal;

/// How long a removal that another request started may take before eider reports it.
const REMOVAL_PATIENCE: Duration = Duration::from_secs(10);

/// Docker's exit code for a process killed by SIGKILL, which is how the OOM killer ends one.
pub(crate) const KILLED_EXIT_CODE: i64 = 137;

/// Set-user-ID and set-group-ID, dropped from everything copied out of a container: a job is
/// root in its container and may write a set-user-ID program there, which on the host, owned by
/// whoever runs eider (root, often), would hand that user's rights to anyone who can run it.
/// Extended attributes (file capabilities) are not copied either (the tar crate's default).
/// The sticky bit stays: it only restricts who may delete in a directory.
const PRIVILEGE_BITS: u32 = 0o6000;

impl DockerRuntime {
    pub(crate) async fn create(&self, spec: &CreateSpec) -> Result<ContainerId, RuntimeError> {
        let options = CreateContainerOptions {
            name: Some(spec.name.clone()),
            ..CreateContainerOptions::default()
        };
        let response = self
            .client
            .create_container(Some(options), create_body(spec))
            .await
            .map_err(from_bollard)?;
        Ok(ContainerId(response.id))
    }

    pub(crate) async fn attach_output(
        &self,
        id: &ContainerId,
        tty: bool,
    ) -> Result<OutputStream, RuntimeError> {
        // A terminal's output is raw bytes, which bollard's decoder may take for frame headers
        // (see `terminal_attach`): eider reads them on a connection of its own, on every kind
        // of endpoint (a socket, TCP, TLS).
        if tty {
            return attach_terminal(&self.transport, id, self.response_timeout).await;
        }
        let options = AttachContainerOptions {
            stream: true,
            stdout: true,
            stderr: true,
            ..AttachContainerOptions::default()
        };
        let attached = self
            .client
            .attach_container(&id.0, Some(options))
            .await
            .map_err(from_bollard)?;
        let stream = attached.output.map(move |item| {
            use bollard::container::LogOutput;
            let chunk = match item.map_err(from_bollard)? {
                LogOutput::StdOut { message } => OutputChunk {
                    stream: if tty {
                        StreamKind::Console
                    } else {
                        StreamKind::Stdout
                    },
                    bytes: message,
                },
                LogOutput::StdErr { message } => OutputChunk {
                    stream: StreamKind::Stderr,
                    bytes: message,
                },
                LogOutput::Console { message } | LogOutput::StdIn { message } => OutputChunk {
                    stream: StreamKind::Console,
                    bytes: message,
                },
            };
            Ok(chunk)
        });
        Ok(Box::pin(stream))
    }

    pub(crate) async fn start_container(&self, id: &ContainerId) -> Result<(), RuntimeError> {
        self.client
            .start_container(&id.0, None)
            .await
            .map_err(from_bollard)
    }

    pub(crate) async fn wait_container(&self, id: &ContainerId) -> Result<Exit, RuntimeError> {
        let options = WaitContainerOptions {
            condition: "not-running".to_owned(),
        };
        let mut stream = self.client.wait_container(&id.0, Some(options));
        let code = match stream.next().await {
            Some(Ok(response)) => response.status_code,
            // bollard reports every non-zero exit as an error; it is an exit all the same.
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, error }))
                if error.is_empty() =>
            {
                code
            }
            Some(Err(error)) => return Err(wait_error(error)),
            // An engine that goes away (stopped, or restarting with live restore) closes the
            // wait without an answer; the container may well still run.
            None => {
                return Err(RuntimeError::BackendLost {
                    message: "the engine ended the wait without an exit code".to_owned(),
                });
            }
        };
        let out_of_memory = code == KILLED_EXIT_CODE && self.state_says_out_of_memory(id).await;
        Ok(Exit {
            code,
            out_of_memory,
        })
    }

    /// What the engine knows of container `id`, read through Podman's passing states.
    pub(crate) async fn inspect(
        &self,
        id: &ContainerId,
    ) -> Result<ContainerInspectResponse, bollard::errors::Error> {
        Box::pin(read_through_passing_states(|| {
            self.client
                .inspect_container(&id.0, None::<InspectContainerOptions>)
        }))
        .await
    }

    /// The container whose network namespace `id` joined, as the engine recorded it
    /// (`container:<id>`): none when it joined none, or cannot be inspected (gone already).
    pub(crate) async fn joined_namespace(&self, id: &ContainerId) -> Option<ContainerId> {
        let inspect = self.inspect(id).await.ok()?;
        let mode = inspect.host_config?.network_mode?;
        mode.strip_prefix("container:")
            .map(|owner| ContainerId(owner.to_owned()))
    }

    pub(crate) async fn stop_container(
        &self,
        id: &ContainerId,
        grace: Duration,
    ) -> Result<(), RuntimeError> {
        let options = StopContainerOptions {
            t: Some(i32::try_from(grace.as_secs()).unwrap_or(i32::MAX)),
            signal: None,
        };
        match self.client.stop_container(&id.0, Some(options)).await {
            Ok(()) => Ok(()),
            Err(error) if is_gone_or_done(&error) => Ok(()),
            Err(error) => Err(from_bollard(error)),
        }
    }

    pub(crate) async fn kill_container(&self, id: &ContainerId) -> Result<(), RuntimeError> {
        let options = KillContainerOptions {
            signal: "SIGKILL".to_owned(),
        };
        match self.client.kill_container(&id.0, Some(options)).await {
            // 409: not running (already exited); 404: gone.
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404 | 409,
                ..
            }) => Ok(()),
            Err(error) => Err(from_bollard(error)),
        }
    }

    pub(crate) async fn remove(&self, id: &ContainerId) -> Result<(), RuntimeError> {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            link: false,
        };
        match self.client.remove_container(&id.0, Some(options)).await {
            Ok(()) => Ok(()),
            Err(error) if is_gone_or_done(&error) => Ok(()),
            // Another request removes it (one sent by an eider that died since, say): it is
            // removed once that one is done, so that a caller never finds it there after.
            Err(error) if is_removal_in_progress(&error) => self.wait_until_gone(id).await,
            Err(error) => Err(from_bollard(error)),
        }
    }

    /// Waits until the engine no longer knows container `id`, for a bounded time.
    async fn wait_until_gone(&self, id: &ContainerId) -> Result<(), RuntimeError> {
        let deadline = tokio::time::Instant::now() + REMOVAL_PATIENCE;
        loop {
            match self.inspect(id).await {
                Err(error) if is_gone_or_done(&error) => return Ok(()),
                Err(error) => return Err(from_bollard(error)),
                Ok(_) if tokio::time::Instant::now() >= deadline => {
                    return Err(RuntimeError::Other(format!(
                        "container {id} was still being removed after {}s",
                        REMOVAL_PATIENCE.as_secs()
                    )));
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    pub(crate) async fn list_labelled(
        &self,
        key: &str,
    ) -> Result<Vec<(ContainerId, Labels)>, RuntimeError> {
        let filters = HashMap::from([("label".to_owned(), vec![key.to_owned()])]);
        Ok(self
            .list_all(Some(filters))
            .await?
            .into_iter()
            .filter_map(|summary| {
                let id = summary.id?;
                let mut labels: Labels = summary.labels.unwrap_or_default().into_iter().collect();
                labels.sort();
                Some((ContainerId(id), labels))
            })
            .collect())
    }

    /// Every container without the label `key`: the engine cannot filter on a missing label, so
    /// all are listed and filtered here.
    pub(crate) async fn list_unlabelled(
        &self,
        key: &str,
    ) -> Result<Vec<(ContainerId, String)>, RuntimeError> {
        Ok(self
            .list_all(None)
            .await?
            .into_iter()
            .filter(|summary| {
                !summary
                    .labels
                    .as_ref()
                    .is_some_and(|labels| labels.contains_key(key))
            })
            .filter_map(|summary| {
                let id = summary.id?;
                // The engine names a container with a leading slash.
                let name = summary
                    .names
                    .and_then(|names| names.into_iter().next())
                    .map_or_else(
                        || id.clone(),
                        |name| name.trim_start_matches('/').to_owned(),
                    );
                Some((ContainerId(id), name))
            })
            .collect())
    }

    /// Every container, running or not, that matches `filters`, read through Podman's passing
    /// states.
    async fn list_all(
        &self,
        filters: Option<HashMap<String, Vec<String>>>,
    ) -> Result<Vec<bollard::models::ContainerSummary>, RuntimeError> {
        let options = ListContainersOptions {
            all: true,
            filters,
            ..ListContainersOptions::default()
        };
        Box::pin(read_through_passing_states(|| {
            self.client.list_containers(Some(options.clone()))
        }))
        .await
        .map_err(from_bollard)
    }

    /// Streams a directory of a (never started) container out as a tar archive and unpacks it,
    /// without set-user-ID and set-group-ID bits.
    pub(crate) async fn copy_out(
        &self,
        id: &ContainerId,
        path: &str,
        destination: &camino::Utf8Path,
    ) -> Result<(), RuntimeError> {
        use bollard::query_parameters::DownloadFromContainerOptions;
        let options = DownloadFromContainerOptions {
            path: format!("{}/.", path.trim_end_matches('/')),
        };
        let stream = self
            .client
            .download_from_container(&id.0, Some(options))
            .map_err(|error| std::io::Error::other(from_bollard(error)));
        let reader = tokio_util::io::StreamReader::new(stream);
        let destination = destination.to_owned();
        // The tar crate reads synchronously: unpack on a blocking thread, fed as bytes arrive.
        tokio::task::spawn_blocking(move || -> Result<(), RuntimeError> {
            let reader = tokio_util::io::SyncIoBridge::new(reader);
            let existed = destination.exists();
            fs_err::create_dir_all(&destination)?;
            let mut archive = tar::Archive::new(reader);
            archive.set_preserve_permissions(true);
            archive.set_mask(PRIVILEGE_BITS);
            archive.set_overwrite(true);
            archive.unpack(&destination).map_err(|error| {
                // Half a copy passes for the whole of it: a directory eider made goes again. One
                // that was there before may hold the user's own files, which eider never removes.
                let left = if existed {
                    "; what was copied before the failure is in it"
                } else if fs_err::remove_dir_all(&destination).is_ok() {
                    ""
                } else {
                    "; the partial copy could not be removed"
                };
                RuntimeError::Other(format!(
                    "cannot unpack into {destination}: {}{left}",
                    eider_error_chain::chain_text(&error)
                ))
            })
        })
        .await
        .map_err(|error| RuntimeError::Other(error.to_string()))?
    }
}

/// A failed wait: the engine's answer when it gave one; otherwise the connection broke (the
/// wait's only I/O), which is the engine going away, whatever the transport called it.
fn wait_error(error: bollard::errors::Error) -> RuntimeError {
    match from_bollard(error) {
        RuntimeError::Io(error) => RuntimeError::BackendLost {
            message: error.to_string(),
        },
        RuntimeError::Other(message) => RuntimeError::BackendLost { message },
        other => other,
    }
}

fn create_body(spec: &CreateSpec) -> ContainerCreateBody {
    let labels: HashMap<String, String> = spec.labels.iter().cloned().collect();
    let environment = spec
        .environment
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let network_mode = match &spec.network {
        NetworkMode::Default => None,
        NetworkMode::Named(name) => Some(name.clone()),
        NetworkMode::Join(id) => Some(format!("container:{}", id.0)),
    };
    let mounts = spec
        .mounts
        .iter()
        .map(|mount| {
            let (typ, source) = match &mount.source {
                MountSource::Host(path) => (MountType::BIND, path.to_string()),
                MountSource::Volume(name) => (MountType::VOLUME, name.clone()),
            };
            EngineMount {
                target: Some(mount.target.clone()),
                source: Some(source),
                typ: Some(typ),
                read_only: Some(mount.read_only),
                volume_options: matches!(mount.source, MountSource::Volume(_)).then(|| {
                    // A shared volume starts empty: never seed it from the image's content.
                    MountVolumeOptions {
                        no_copy: Some(true),
                        ..MountVolumeOptions::default()
                    }
                }),
                ..EngineMount::default()
            }
        })
        .collect::<Vec<_>>();
    let mut host_config = HostConfig {
        network_mode,
        privileged: Some(spec.privileged),
        mounts: (!mounts.is_empty()).then_some(mounts),
        // eider reads every byte through its attachment, and removes the container after: a
        // log file the engine would also write is work (and disk) for nothing, on the critical
        // path of every start.
        log_config: Some(HostConfigLogConfig {
            typ: Some("none".to_owned()),
            config: None,
        }),
        ..HostConfig::default()
    };
    if let Some(limits) = spec.resources {
        host_config.cpu_shares = Some(limits.cpu_shares);
        host_config.cpu_period = Some(limits.cpu_period);
        host_config.cpu_quota = Some(limits.cpu_quota);
        host_config.memory = Some(limits.memory_bytes);
        host_config.memory_reservation = Some(limits.memory_reservation_bytes);
    }
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        entrypoint: spec.entrypoint.clone(),
        cmd: spec.command.clone(),
        env: Some(environment),
        working_dir: spec.working_directory.clone(),
        tty: Some(spec.tty),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        attach_stdin: Some(false),
        open_stdin: Some(false),
        labels: Some(labels),
        host_config: Some(host_config),
        ..ContainerCreateBody::default()
    }
}
