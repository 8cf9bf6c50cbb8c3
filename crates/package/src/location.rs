//! Where a package goes, and where a base image comes from: one reference syntax for both,
//! the one skopeo and podman use (`oci:`, `docker-archive:`, `docker://`, `docker-daemon:`).

use camino::Utf8PathBuf;

/// A place an image is written to or read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageLocation {
    /// `oci:DIR[:TAG]`: an OCI image layout directory.
    OciLayout {
        /// The layout's directory.
        directory: Utf8PathBuf,
        /// The `org.opencontainers.image.ref.name` of the manifest in `index.json`.
        tag: Option<String>,
    },
    /// `docker-archive:FILE`: the tar that `docker save` writes and `docker load` reads.
    DockerArchive {
        /// The archive.
        file: Utf8PathBuf,
    },
    /// `docker://REGISTRY/REPOSITORY:TAG`, or the same without the prefix.
    Registry {
        /// The reference, without `docker://`.
        reference: String,
    },
    /// `docker-daemon:NAME[:TAG]`: an image of the local engine.
    DockerDaemon {
        /// The image's name in the engine.
        name: String,
    },
}

/// A reference that is none of the forms.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{text}` is not an image location: {reason}")]
pub struct LocationError {
    /// What was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// The forms, for hints.
pub const LOCATION_FORMS: &str = "oci:DIR[:TAG], docker-archive:FILE, docker://REGISTRY/REPOSITORY:TAG \
     (or REGISTRY/REPOSITORY:TAG), docker-daemon:NAME:TAG";

/// The prefixes of the forms.
const PREFIXES: [&str; 4] = ["oci:", "docker-archive:", "docker-daemon:", "docker://"];

impl ImageLocation {
    /// Whether `text`, where a job's name may also stand, names an image instead: it has one of
    /// the forms' prefixes, or a `/` and a `:` or `@` (`REGISTRY/REPOSITORY:TAG`,
    /// `REGISTRY/REPOSITORY@sha256:...`). No job name has any of these characters, so a plain
    /// word stays a job's name.
    #[must_use]
    pub fn is_written_as_image(text: &str) -> bool {
        PREFIXES.iter().any(|prefix| text.starts_with(prefix))
            || text.contains('/') && (text.contains(':') || text.contains('@'))
    }

    /// Parses one of the forms. A bare reference is a registry's when its first component names
    /// a host (has a `.` or a `:`, or is `localhost`), as Docker decides.
    pub fn parse(text: &str) -> Result<ImageLocation, LocationError> {
        let error = |reason| LocationError {
            text: text.to_owned(),
            reason,
        };
        if let Some(rest) = text.strip_prefix("oci:") {
            // A tag never holds a `/`; a directory may hold a `:`.
            let (directory, tag) = match rest.rsplit_once(':') {
                Some((directory, tag)) if !tag.contains('/') && !directory.is_empty() => {
                    (directory, Some(tag))
                }
                _ => (rest, None),
            };
            if directory.is_empty() {
                return Err(error("the directory is missing"));
            }
            if tag.is_some_and(str::is_empty) {
                return Err(error("the tag after the last `:` is empty"));
            }
            return Ok(ImageLocation::OciLayout {
                directory: Utf8PathBuf::from(directory),
                tag: tag.map(str::to_owned),
            });
        }
        if let Some(file) = text.strip_prefix("docker-archive:") {
            if file.is_empty() {
                return Err(error("the file is missing"));
            }
            return Ok(ImageLocation::DockerArchive {
                file: Utf8PathBuf::from(file),
            });
        }
        if let Some(name) = text.strip_prefix("docker-daemon:") {
            if name.is_empty() {
                return Err(error("the image name is missing"));
            }
            return Ok(ImageLocation::DockerDaemon {
                name: name.to_owned(),
            });
        }
        if let Some(reference) = text.strip_prefix("docker://") {
            if reference.is_empty() || reference.starts_with('/') {
                return Err(error("the registry reference is missing"));
            }
            return Ok(ImageLocation::Registry {
                reference: reference.to_owned(),
            });
        }
        let first = text.split('/').next().unwrap_or_default();
        let names_a_host = text.contains('/')
            && (first.contains('.') || first.contains(':') || first == "localhost");
        if names_a_host {
            return Ok(ImageLocation::Registry {
                reference: text.to_owned(),
            });
        }
        Err(error("write it in one of the forms"))
    }
}

impl std::fmt::Display for ImageLocation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImageLocation::OciLayout {
                directory,
                tag: Some(tag),
            } => write!(formatter, "oci:{directory}:{tag}"),
            ImageLocation::OciLayout {
                directory,
                tag: None,
            } => write!(formatter, "oci:{directory}"),
            ImageLocation::DockerArchive { file } => write!(formatter, "docker-archive:{file}"),
            ImageLocation::Registry { reference } => write!(formatter, "docker://{reference}"),
            ImageLocation::DockerDaemon { name } => write!(formatter, "docker-daemon:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn images_are_told_from_job_names() {
        for image in [
            "oci:packages:build",
            "oci:packages",
            "docker://registry.example/team/build:v1",
            "127.0.0.1:5000/team/build@sha256:00",
            "registry.example/team/build:v1",
            "docker-archive:build.tar",
        ] {
            assert!(ImageLocation::is_written_as_image(image), "{image}");
        }
        for job in ["build", "build-1", "team/build", "ubuntu:24.04"] {
            assert!(!ImageLocation::is_written_as_image(job), "{job}");
        }
    }

    use super::*;

    fn parse(text: &str) -> ImageLocation {
        ImageLocation::parse(text).expect("a valid location")
    }

    #[test]
    fn every_form_parses() {
        assert_eq!(
            parse("oci:build/layout:v1"),
            ImageLocation::OciLayout {
                directory: "build/layout".into(),
                tag: Some("v1".to_owned())
            }
        );
        assert_eq!(
            parse("oci:build/layout"),
            ImageLocation::OciLayout {
                directory: "build/layout".into(),
                tag: None
            }
        );
        // A `:` in the directory, and a tag-looking tail that holds a `/`, stay in the path.
        assert_eq!(
            parse("oci:/tmp/a:b/layout"),
            ImageLocation::OciLayout {
                directory: "/tmp/a:b/layout".into(),
                tag: None
            }
        );
        assert_eq!(
            parse("docker-archive:out/app.tar"),
            ImageLocation::DockerArchive {
                file: "out/app.tar".into()
            }
        );
        assert_eq!(
            parse("docker-daemon:team/app:1.0"),
            ImageLocation::DockerDaemon {
                name: "team/app:1.0".to_owned()
            }
        );
        for text in [
            "docker://127.0.0.1:5000/team/app:1.0",
            "127.0.0.1:5000/team/app:1.0",
            "registry.example/team/app:1.0",
            "localhost/app",
        ] {
            assert!(
                matches!(parse(text), ImageLocation::Registry { .. }),
                "{text}"
            );
        }
        assert_eq!(
            parse("docker://registry.example/app:1").to_string(),
            "docker://registry.example/app:1"
        );
    }

    #[test]
    fn malformed_locations_say_why() {
        for (text, reason) in [
            ("oci:", "the directory is missing"),
            ("oci:dir:", "the tag after the last `:` is empty"),
            ("docker-archive:", "the file is missing"),
            ("docker-daemon:", "the image name is missing"),
            ("docker://", "the registry reference is missing"),
            ("team/app:1.0", "write it in one of the forms"),
            ("app.tar", "write it in one of the forms"),
        ] {
            assert_eq!(
                ImageLocation::parse(text),
                Err(LocationError {
                    text: text.to_owned(),
                    reason
                })
            );
        }
    }
}
