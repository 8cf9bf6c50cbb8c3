//! Making a package as planned: the base image into the cache, the sidecars' images resolved,
//! the layers built (and streamed to a registry destination), the secrets checked, the image
//! assembled and written to every destination.

use std::sync::Arc;

use drakefile::Container;
use eider_oci::{BuiltLayer, Digest, NewLayer};
use eider_registry::RegistryClient;
use eider_runtime_docker::DockerRuntime;

use super::base::{self, Base};
use super::config::config_changes;
use super::description::{Description, SidecarImage, describe};
use super::error::PackageError;
use super::layers::build_layers;
use super::plan::Plan;
use super::publish::{self, Publication};
use super::secrets::Secrets;
use super::stream_upload::StreamTarget;
use crate::location::ImageLocation;
use crate::progress::{Event, Observer};
use crate::resolve::{self, Resolved};

impl Plan<'_> {
    /// Makes the package and writes it to every destination; returns its description.
    pub async fn package(&self, observer: &Arc<dyn Observer>) -> Result<Description, PackageError> {
        let (daemon, registry) = self.connect(observer.as_ref()).await?;

        let base = self.fetch_base(daemon.as_ref(), &registry).await?;
        observer.event(&Event::BaseReady {
            name: &base.name,
            digest: &base.digest,
        });
        let mut sidecars = Vec::new();
        for container in &self.job.containers[..self.job.containers.len() - 1] {
            let resolved = self.resolve(container, daemon.as_ref(), &registry).await?;
            sidecars.push(SidecarImage {
                container: container.name.clone(),
                image: container.image.clone(),
                digest: resolved.digest().clone(),
                pinned: resolved.pinned(),
            });
        }

        let source_path = self.source_path();
        let secrets = Secrets::load(&self.secrets_files)?;
        // Streaming a layer sends it before it is checked for secrets: only without any.
        let stream_to = if secrets.is_empty() {
            self.stream_target(&registry)
        } else {
            None
        };
        let streamed_layers =
            build_layers(self, &source_path, stream_to.as_ref(), observer.as_ref()).await?;
        let streamed: Vec<Digest> = streamed_layers
            .iter()
            .filter(|(_, layer)| layer.streamed)
            .map(|(_, layer)| layer.built.blob.digest.clone())
            .collect();
        let layers: Vec<(String, BuiltLayer)> = streamed_layers
            .into_iter()
            .map(|(created_by, layer)| (created_by, layer.built))
            .collect();
        let changes = config_changes(self, &base, &source_path, &sidecars)?;
        secrets.check_config(&changes)?;
        secrets
            .check_new_layers(self.cache.store(), &layers)
            .await?;
        let new_layers: Vec<NewLayer> = layers
            .iter()
            .map(|(created_by, built)| NewLayer {
                blob: built.blob.clone(),
                created_by: created_by.clone(),
            })
            .collect();
        let image = eider_oci::assemble(
            &base.image,
            &new_layers,
            &changes,
            self.provenance.epoch,
            self.request.manifest_format,
        )
        .map_err(PackageError::Assemble)?;
        image
            .write_to(self.cache.store())
            .map_err(PackageError::Store)?;

        let publication = Publication {
            image: &image,
            base: &base,
            cache: &self.cache,
            version: &self.provenance.version,
            job: &self.job.name,
            streamed: &streamed,
            observer,
        };
        let mut published = Vec::with_capacity(self.destinations.len());
        for destination in &self.destinations {
            let result =
                publish::publish(&publication, destination, daemon.as_ref(), &registry).await?;
            observer.event(&Event::Written {
                destination: &result.destination,
            });
            published.push(result);
        }
        Ok(describe(self, &image, &base, &layers, sidecars, published))
    }

    /// The repository of the first registry destination, where layers are streamed as they are
    /// compressed.
    fn stream_target<'a>(&self, registry: &'a RegistryClient) -> Option<StreamTarget<'a>> {
        self.destinations
            .iter()
            .find_map(|destination| match destination {
                ImageLocation::Registry { reference } => {
                    eider_registry::Reference::parse(reference)
                        .ok()
                        .map(|reference| StreamTarget {
                            registry,
                            repository: reference.repository().clone(),
                        })
                }
                _ => None,
            })
    }

    /// The local engine (for base images and `docker-daemon:` outputs) and a registry client.
    async fn connect(
        &self,
        observer: &dyn Observer,
    ) -> Result<(Option<DockerRuntime>, RegistryClient), PackageError> {
        let loads_into_engine = self
            .destinations
            .iter()
            .any(|destination| matches!(destination, ImageLocation::DockerDaemon { .. }));
        let daemon = match resolve::connect_daemon(self.request.resolve_from).await? {
            Some(daemon) => Some(daemon),
            None if loads_into_engine => Some(
                DockerRuntime::connect()
                    .await
                    .map_err(PackageError::Engine)?,
            ),
            None => None,
        };
        // Credentials without a host go to where the package is written, never to the
        // registries of its base and sidecar images, which the Drakefile chooses.
        let registries = self
            .destinations
            .iter()
            .filter_map(|destination| match destination {
                ImageLocation::Registry { reference } => resolve::registry_of(reference),
                _ => None,
            });
        let registry = self.request.registry.client(registries, observer)?;
        Ok((daemon, registry))
    }

    /// The base image: the request's, else the primary container's image.
    async fn fetch_base(
        &self,
        daemon: Option<&DockerRuntime>,
        registry: &RegistryClient,
    ) -> Result<Base, PackageError> {
        let compression = self.request.compression;
        if let Some(location) = &self.request.base {
            return Ok(
                base::fetch_location(location, &self.cache, daemon, registry, compression).await?,
            );
        }
        let resolved = self.resolve(self.primary, daemon, registry).await?;
        Ok(base::fetch(&resolved, &self.cache, daemon, registry, compression).await?)
    }

    /// The image of `container` resolved to a digest: from the lock when the package is
    /// locked.
    async fn resolve(
        &self,
        container: &Container,
        daemon: Option<&DockerRuntime>,
        registry: &RegistryClient,
    ) -> Result<Resolved, PackageError> {
        if let Some(lock) = &self.lock {
            let locked = lock.pinned_image(
                &container.image,
                &self.job.name,
                &container.name,
                &self.lock_path,
            )?;
            return Ok(locked.to_resolved(&container.image)?);
        }
        Ok(resolve::resolve(
            &container.image,
            self.request.resolve_from,
            daemon,
            registry,
        )
        .await?)
    }
}
