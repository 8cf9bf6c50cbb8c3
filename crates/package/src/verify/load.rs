//! A verified package loaded into the local engine, to run its job from it.

use super::config;
use super::error::VerifyError;
use super::open::Package;
use crate::engine_load::load_into_engine;
use crate::keys;

/// A package in the local engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedPackage {
    /// The job it holds.
    pub job: String,
    /// The engine's id of the image.
    pub image: eider_oci::Digest,
}

impl Package {
    /// Loads the package into the local engine, named `eider-verified/JOB:CONFIG`.
    pub async fn load_into_engine(&self) -> Result<LoadedPackage, VerifyError> {
        let read = config::read(&self.store, &self.manifest).map_err(VerifyError::Package)?;
        let Some(job) = read.labels.get(keys::JOB).cloned() else {
            return Err(VerifyError::NoJob);
        };
        let config = &read.manifest.config;
        let image = load_into_engine(
            &self.store,
            &read.config,
            &read.manifest.layers,
            &format!("eider-verified/{job}:{}", &config.digest.hex()[..12]),
        )
        .await
        .map_err(VerifyError::Load)?;
        Ok(LoadedPackage { job, image })
    }
}
