//! Ending a job: what still runs is stopped or killed, and how each sidecar ended is collected.

use eider_runtime::{Ending, Exit, JobEnd};

use super::{DockerJob, EXIT_NOTICE_TIMEOUT};

impl DockerJob {
    pub(super) async fn end_containers(&mut self, ending: Ending) -> JobEnd {
        if ending == Ending::PrimaryExited
            && let Some(timing) = self.clock.timing()
        {
            self.runtime.pacer.record(timing);
        }
        let mut end = JobEnd::default();
        match ending {
            Ending::Stop(grace) => {
                let stops = self
                    .containers
                    .iter()
                    .map(|container| self.runtime.stop_container(&container.id, grace));
                futures_util::future::join_all(stops).await;
            }
            Ending::Kill | Ending::PrimaryExited => {
                // An exited primary needs no signal (the engine would only answer that it does
                // not run): kill what may still run.
                let running = if ending == Ending::PrimaryExited {
                    self.containers
                        .split_last()
                        .map_or(&[][..], |(_, sidecars)| sidecars)
                } else {
                    &self.containers[..]
                };
                let kills = running
                    .iter()
                    .map(|container| self.runtime.kill_container(&container.id));
                futures_util::future::join_all(kills).await;
                end.sidecar_exits = self.sidecar_exits().await;
            }
        }
        if let Some(watch) = self.socket_watch.take() {
            let appeared = watch.appeared(&self.runtime).await;
            if !appeared.is_empty() {
                end.warnings.push(format!(
                    "containers that eider did not create appeared while the job had the \
                     Docker socket and are still there: {} (eider leaves them; `docker rm \
                     -f NAME` removes one)",
                    appeared.join(", ")
                ));
            }
        }
        end
    }

    /// How each started sidecar ended, once those still running were killed: every exit is
    /// known then, or about to be.
    async fn sidecar_exits(&mut self) -> Vec<(String, Exit)> {
        let exits = self.exits.iter_mut().map(|watch| async move {
            let exit =
                tokio::time::timeout(EXIT_NOTICE_TIMEOUT, watch.exited.wait_for(Option::is_some))
                    .await
                    .ok()
                    .and_then(|exit| exit.ok().and_then(|exit| *exit));
            watch.task.abort();
            exit.map(|exit| (watch.name.clone(), exit))
        });
        futures_util::future::join_all(exits)
            .await
            .into_iter()
            .flatten()
            .collect()
    }
}
