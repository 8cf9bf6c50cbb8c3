//! A job's images: present, or pulled as its pull policy says, before anything is created.

use drakefile::{Job, PullPolicy};
use eider_runtime::{Runtime, RuntimeError};
use tokio::time::Instant;

use crate::event::Event;
use crate::outcome::JobOutcome;
use crate::run::Run;

use super::backend_error;

impl<R: Runtime> Run<R> {
    /// Pulls what is absent (or everything, under `imagePullPolicy: Always`), once per image.
    pub(super) async fn ensure_images(&self, job: &Job) -> Result<(), JobOutcome> {
        let mut seen: Vec<&str> = Vec::new();
        for container in &job.containers {
            let image = container.image.as_str();
            if seen.contains(&image) {
                continue;
            }
            seen.push(image);
            let known = self
                .present_images
                .lock()
                .is_ok_and(|present| present.contains(image));
            let present = match container.pull_policy {
                PullPolicy::IfNotPresent if known => true,
                policy => match self.runtime.needs_pull(image, policy).await {
                    Ok(needs_pull) => !needs_pull,
                    Err(error) => {
                        return Err(backend_error(
                            job,
                            Some(&container.name),
                            &format!("cannot look up image `{image}`"),
                            &error,
                        ));
                    }
                },
            };
            if present {
                self.remember_image(image);
                continue;
            }
            self.events
                .send(Event::PullStarted {
                    job: job.name.clone(),
                    container: container.name.clone(),
                    image: image.to_owned(),
                })
                .await;
            let pull_started = Instant::now();
            let events = self.events.clone();
            let reported_image = image.to_owned();
            let progress = move |progress| {
                events.try_send(Event::PullProgress {
                    image: reported_image.clone(),
                    progress,
                });
            };
            if let Err(error) = self.runtime.pull_image(image, &progress).await {
                if error.is_backend_fault() {
                    // The engine went away mid-pull: nothing is known about the image.
                    return Err(backend_error(
                        job,
                        Some(&container.name),
                        &format!("cannot pull image `{image}`"),
                        &error,
                    ));
                }
                let (message, hint) = match error {
                    RuntimeError::ImageUnavailable { message, hint, .. } => (message, hint),
                    other => (other.to_string(), None),
                };
                return Err(JobOutcome::Error {
                    message: format!(
                        "job `{}`: container `{}`: image `{image}` is not available: {message}",
                        job.name, container.name,
                    ),
                    hint,
                });
            }
            self.remember_image(image);
            self.events
                .send(Event::PullFinished {
                    image: image.to_owned(),
                    duration: pull_started.elapsed(),
                })
                .await;
        }
        Ok(())
    }

    pub(super) fn remember_image(&self, image: &str) {
        if let Ok(mut present) = self.present_images.lock() {
            present.insert(image.to_owned());
        }
    }
}
