//! Helper containers: created from a job's image only so that the engine's archive endpoints
//! reach a volume (to fill a copy of the source, to copy shared storage out), and never started.

use eider_runtime::Labels;

use crate::model::{CreateSpec, NetworkMode, VolumeMount};

/// What a helper container would run. It never runs, but the engine refuses to create a
/// container without a command, and the job's image may have neither ENTRYPOINT nor CMD (one
/// made with `docker import`, or from scratch; the job then sets its own command). Replacing
/// both also keeps the image's own from mattering; the words say what the container is in
/// `docker ps -a`.
const ENTRYPOINT: &str = "eider-helper-never-started";

/// A helper container named `name`, of `image`, with `mount` and nothing else: no network, and
/// `labels` so that a sweep finds it should its removal fail.
pub(crate) fn helper_spec(
    name: String,
    image: &str,
    purpose: &str,
    mount: VolumeMount,
    labels: &Labels,
) -> CreateSpec {
    CreateSpec {
        name,
        image: image.to_owned(),
        entrypoint: Some(vec![ENTRYPOINT.to_owned()]),
        command: Some(vec![purpose.to_owned()]),
        network: NetworkMode::Named("none".to_owned()),
        mounts: vec![mount],
        labels: labels.clone(),
        ..CreateSpec::default()
    }
}

#[cfg(test)]
mod tests {
    use crate::model::MountSource;

    use super::*;

    #[test]
    fn a_helper_brings_its_own_command_whatever_the_image_has() {
        let mount = VolumeMount {
            source: MountSource::Volume("volume".to_owned()),
            target: "/eider-export".to_owned(),
            read_only: true,
        };
        let spec = helper_spec(
            "volume-export".to_owned(),
            "scratch-based:latest",
            "copy-out",
            mount.clone(),
            &Vec::new(),
        );
        assert_eq!(
            (spec.entrypoint, spec.command),
            (
                Some(vec![ENTRYPOINT.to_owned()]),
                Some(vec!["copy-out".to_owned()])
            )
        );
        assert_eq!(spec.mounts, [mount]);
        assert_eq!(spec.network, NetworkMode::Named("none".to_owned()));
    }
}
