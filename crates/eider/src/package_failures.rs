//! The packaging library's errors as failures of a command: for each, the message, the causes
//! shown under it, the hint and the exit code (bad input is 2, anything else 1).

use eider_error_chain::chain_text;
use eider_oci::LayerError;
use eider_package::build::{BaseError, BuildError, PublishError, SecretsError, SettingsError};
use eider_package::lock::{LockError, LockProblem};
use eider_package::resolve::{AccessError, ResolveError};
use eider_package::verify::VerifyError;
use eider_package::{LOCATION_FORMS, LocationError, LockFileError, PackageError};
use eider_runtime_docker::ConnectError;

use crate::failure::Failure;
use crate::render::Output;

/// How to write or refresh a lock.
const LOCK_HINT: &str = "run `eider lock` to resolve the Drakefile's images and write it";

/// The hint for failures that leave an image without a digest.
const RESOLVE_HINT: &str = "check the image name; pull or build the image into the local engine, \
     or give the registry's credentials with `--registry-auth HOST=USER:PASSWORD` or `docker login`";

/// Where to go when the engine does not answer.
const START_ENGINE_HINT: &str = "start the Docker Engine, or point DOCKER_HOST or a Docker \
     context (`docker context use NAME`) at one";

impl From<LocationError> for Failure {
    fn from(error: LocationError) -> Self {
        Failure::input(error.to_string()).with_hint(LOCATION_FORMS)
    }
}

impl From<LockFileError> for Failure {
    fn from(error: LockFileError) -> Self {
        let message = error.to_string();
        match error {
            LockFileError::Missing { .. } => Failure::input(message).with_hint(LOCK_HINT),
            LockFileError::Read { source, .. } => {
                Failure::input(message).with_cause(source.to_string())
            }
            LockFileError::Write { source, .. } => {
                Failure::runtime(message).with_cause(source.to_string())
            }
            LockFileError::Invalid { problem, .. } => {
                let failure = Failure::input(message);
                match problem {
                    LockProblem::NotJson(source) | LockProblem::Content(source) => {
                        failure.with_cause(source.to_string())
                    }
                    LockProblem::OtherVersion(_) => {
                        failure.with_cause("a lock of another version is written by another eider")
                    }
                    _ => failure,
                }
                .with_hint(
                    "run `eider lock` to write it again (a lock file is written by eider, not by \
                     hand)",
                )
            }
            LockFileError::Encode(source) => Failure::input(message).with_cause(source.to_string()),
            LockFileError::Uncovered { .. } => Failure::input(message).with_hint(
                "run `eider lock` to resolve the Drakefile's images and update the lock",
            ),
            LockFileError::InvalidEntry { source, .. } => Failure::input(message)
                .with_cause(source.to_string())
                .with_hint(LOCK_HINT),
        }
    }
}

impl From<ResolveError> for Failure {
    fn from(error: ResolveError) -> Self {
        let message = error.to_string();
        match &error {
            ResolveError::IdInRegistry { .. } => Failure::input(message)
                .with_hint("resolve it with `--base-from daemon` or `--base-from auto`"),
            ResolveError::EngineUnreachable(source) => {
                let hint = match source {
                    ConnectError::Unreachable { .. } | ConnectError::TimedOut { .. } => format!(
                        "{START_ENGINE_HINT}, or resolve images in their registries with \
                         `--base-from registry`"
                    ),
                    other => crate::backend::docker_connect_hint(other).to_owned(),
                };
                if source.is_configuration() {
                    Failure::input(message)
                } else {
                    Failure::runtime(message)
                }
                .with_sources_of(&error)
                .with_hint(hint)
            }
            ResolveError::NoEngine { .. } => Failure::runtime(message).with_hint(START_ENGINE_HINT),
            ResolveError::NotInEngine { .. } => Failure::runtime(message).with_hint(
                "pull or build it first, or resolve it in its registry with `--base-from \
                 registry` or `--base-from auto`",
            ),
            ResolveError::Engine { source, .. } => {
                Failure::runtime(message).with_cause(source.to_string())
            }
            ResolveError::InvalidId { .. } => Failure::runtime(message),
            // Why the local engine was not used, when it was asked first; no cause otherwise
            // (an empty cause is left out).
            ResolveError::Reference {
                not_local, source, ..
            } => Failure::input(message)
                .with_cause(
                    not_local
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                )
                .with_cause(source.to_string()),
            ResolveError::Registry {
                not_local, source, ..
            } => Failure::runtime(message)
                .with_cause(
                    not_local
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                )
                .with_cause(source.to_string())
                .with_sources_of(source.as_ref())
                .with_hint(RESOLVE_HINT),
        }
    }
}

impl From<AccessError> for Failure {
    fn from(error: AccessError) -> Self {
        match &error {
            // The cause carries nothing of the text, which holds the password.
            AccessError::Credentials(source) => Failure::input("invalid --registry-auth")
                .with_cause(source.to_string())
                .with_hint(
                    "give them as HOST=USER:PASSWORD or USER:PASSWORD (EIDER_REGISTRY_AUTH keeps \
                     them off the command line)",
                ),
            AccessError::Client(_) => Failure::runtime(error.to_string()).with_sources_of(&error),
        }
    }
}

impl From<PackageError> for Failure {
    fn from(error: PackageError) -> Self {
        let message = error.to_string();
        match error {
            PackageError::UnknownJob { name, jobs } => crate::commands::run::selection::unknown(
                "job",
                &name,
                jobs.iter().map(String::as_str),
            ),
            PackageError::NoContainers { .. }
            | PackageError::Provenance(_)
            | PackageError::NoCacheDirectory => Failure::input(message),
            PackageError::Settings(error) => settings_failure(error),
            PackageError::Lock(error) => error.into(),
            PackageError::ReadDrakefile { source, .. } => {
                Failure::input(message).with_cause(source.to_string())
            }
            PackageError::OpenCache { source, .. } => Failure::runtime(message).with_error(&source),
            PackageError::Engine(source) => if source.is_configuration() {
                Failure::input(message)
            } else {
                Failure::runtime(message)
            }
            .with_error(&source)
            .with_hint(crate::backend::docker_connect_hint(&source)),
            PackageError::Resolve(error) => error.into(),
            PackageError::Access(error) => error.into(),
            PackageError::Base(error) => base_failure(error),
            PackageError::Secrets(error) => secrets_failure(error),
            PackageError::Layers(source) => layers_failure(&source),
            PackageError::Describe(source) => {
                Failure::runtime(message).with_cause(source.to_string())
            }
            PackageError::Assemble(source) => Failure::runtime(message).with_error(&source),
            PackageError::Store(source) => Failure::runtime(message).with_error(&source),
            PackageError::Publish(error) => publish_failure(error),
        }
    }
}

fn settings_failure(error: SettingsError) -> Failure {
    let message = error.to_string();
    match error {
        SettingsError::Read { source, .. } => {
            Failure::input(message).with_cause(source.to_string())
        }
        SettingsError::Parse { source, .. } => {
            Failure::input(message).with_cause(source.to_string())
        }
        SettingsError::Dependency { .. } => Failure::input(message),
    }
}

fn base_failure(error: BaseError) -> Failure {
    let message = error.to_string();
    match error {
        BaseError::NoEngine { .. } | BaseError::Task(_) | BaseError::NestedIndex { .. } => {
            Failure::runtime(message)
        }
        BaseError::Layout { source, .. } => Failure::input(message).with_cause(source.to_string()),
        BaseError::Archive { .. } => Failure::input(message)
            .with_hint("`docker load` the archive, then use --base docker-daemon:NAME"),
        BaseError::Resolve(error) => error.into(),
        BaseError::Registry { source, .. } => Failure::runtime(message)
            .with_cause(source.to_string())
            .with_sources_of(source.as_ref()),
        BaseError::Engine { source, .. } => Failure::runtime(message).with_error(source.as_ref()),
    }
}

fn secrets_failure(error: SecretsError) -> Failure {
    let message = error.to_string();
    match error {
        SecretsError::Load(_) => Failure::input(message),
        SecretsError::Matcher(source) => Failure::runtime(message).with_cause(source.to_string()),
        SecretsError::Found { .. } => Failure::input(message).with_hint(
            "secrets are given to a job when it runs, never built into its image: remove the \
             value from the source (or ignore the file in .drakeignore) and from the Drakefile",
        ),
        SecretsError::ReadLayer { source, .. } => {
            Failure::runtime(message).with_cause(source.to_string())
        }
        SecretsError::Task(source) => Failure::runtime(message).with_cause(source.to_string()),
    }
}

/// A layer that could not be built: the source's fault (exit code 2), or the cache's (exit code
/// 1: a full disk, a store that cannot be written).
fn layers_failure(error: &BuildError) -> Failure {
    let failure = match error {
        BuildError::Layer(LayerError::Write { .. } | LayerError::Store(_))
        | BuildError::Task(_) => Failure::runtime("cannot build the layers"),
        BuildError::Layer(_) => Failure::input("cannot build the layers"),
    };
    failure.with_error(error)
}

fn publish_failure(error: PublishError) -> Failure {
    let message = error.to_string();
    match error {
        PublishError::Write { source, .. } => Failure::runtime(message).with_error(source.as_ref()),
        // Shown on one line, as the archive writer's thread reports it.
        PublishError::Archive { source, .. } => {
            Failure::runtime(message).with_cause(chain_text(source.as_ref()))
        }
        PublishError::NoEngine { .. } => {
            Failure::runtime(message).with_cause("the local engine does not answer")
        }
        PublishError::Push { source, .. } => Failure::runtime(message)
            .with_cause(source.to_string())
            .with_sources_of(source.as_ref()),
    }
}

impl From<VerifyError> for Failure {
    fn from(error: VerifyError) -> Self {
        let message = error.to_string();
        match error {
            VerifyError::TemporaryDirectory(source) => {
                Failure::runtime(message).with_cause(source.to_string())
            }
            VerifyError::NotUtf8 | VerifyError::NestedIndex { .. } => Failure::runtime(message),
            VerifyError::Unsupported { .. } => Failure::input(message)
                .with_hint("write the package with --output oci:DIR:TAG or to a registry"),
            VerifyError::OpenLayout { source, .. } => {
                Failure::input(message).with_cause(source.to_string())
            }
            VerifyError::ReadIndex { source, .. } => {
                Failure::runtime(message).with_error(source.as_ref())
            }
            VerifyError::NoSuchTag { tags, .. } => {
                Failure::input(message).with_hint(format!("tags: {}", tags.join(", ")))
            }
            VerifyError::Access(error) => error.into(),
            VerifyError::Reference(_) => Failure::input(message),
            VerifyError::NotAPackage { .. } => Failure::input(message)
                .with_hint("run a package that eider package made, or a job of a Drakefile"),
            VerifyError::InvalidJob { problem, .. } => Failure::input(message)
                .with_sources_of(&problem)
                .with_hint("package the job again with this eider"),
            VerifyError::SidecarMountsSource { .. } => Failure::input(message).with_hint(
                "run it with eider verify PACKAGE --run --drakefile FILE, which gives the \
                 sidecars that Drakefile's tree",
            ),
            VerifyError::Registry { source, .. } => Failure::runtime(message)
                .with_cause(source.to_string())
                .with_sources_of(source.as_ref()),
            VerifyError::Config(source) | VerifyError::Package(source) => {
                Failure::runtime(message).with_cause(source.to_string())
            }
            VerifyError::Drakefile(error) => error.into(),
            VerifyError::InvalidDrakefile(report) => Failure::Invalid(report),
            VerifyError::Load(error) => {
                Failure::runtime(message).with_cause(error.source.to_string())
            }
            VerifyError::NeedsRegistry { .. } => Failure::input(message).with_hint(
                "or push it to a registry yourself and run docker://REGISTRY/REPOSITORY:TAG",
            ),
            VerifyError::Push { source, .. } => Failure::runtime(message)
                .with_cause(source.to_string())
                .with_sources_of(source.as_ref())
                .with_hint("check that eider can push there (--registry-auth, the Docker config)"),
        }
    }
}

/// A lock that could not be written or checked. When several images did not resolve, every
/// failure but the last is shown here, in the order of the images' names; the last is returned,
/// to be shown after them.
pub fn lock_failure(error: LockError, output: Output) -> Failure {
    let message = error.to_string();
    match error {
        LockError::ReadDrakefile { source, .. } => {
            Failure::input(message).with_cause(source.to_string())
        }
        LockError::Connect(error) => error.into(),
        LockError::Access(error) => error.into(),
        LockError::Unresolved(errors) => {
            let mut failures: Vec<Failure> = errors.into_iter().map(Failure::from).collect();
            let last = failures.pop().unwrap_or_else(|| Failure::runtime(message));
            for failure in &failures {
                output.failure(failure);
            }
            last
        }
    }
}

#[cfg(test)]
mod tests {
    use camino::Utf8PathBuf;
    use eider_package::LockFile;
    use eider_registry::CredentialsFormatError;

    use super::*;
    use crate::exit_code::{FAILURE, INVALID_INPUT};

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn text(failure: &Failure) -> String {
        match failure {
            Failure::Message {
                message,
                causes,
                hint,
                ..
            } => format!(
                "{message}\n{}\nhint: {}",
                causes.join("\n"),
                hint.as_deref().unwrap_or_default()
            ),
            other => panic!("unexpected failure {other:?}"),
        }
    }

    fn lock_failure_of(content: Option<&str>) -> Failure {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = Utf8PathBuf::from_path_buf(directory.path().join("Drakefile.lock"))
            .expect("a UTF-8 path");
        if let Some(content) = content {
            fs_err::write(&path, content).expect("written");
        }
        LockFile::load(&path).expect_err("no valid lock").into()
    }

    #[test]
    fn a_missing_lock_is_bad_input_with_a_hint_to_write_it() {
        let failure = lock_failure_of(None);
        assert_eq!(failure.exit_code(), INVALID_INPUT);
        let text = text(&failure);
        assert!(text.contains("Drakefile.lock does not exist"), "{text}");
        assert!(text.contains("hint: run `eider lock`"), "{text}");
    }

    #[test]
    fn a_malformed_lock_is_bad_input_saying_why_with_a_hint_to_write_it_again() {
        for (content, cause) in [
            ("{ not json", "key must be a string"),
            (
                "{\"lockVersion\": 2}",
                "a lock of another version is written by another eider",
            ),
        ] {
            let failure = lock_failure_of(Some(content));
            assert_eq!(failure.exit_code(), INVALID_INPUT);
            let text = text(&failure);
            assert!(text.contains(cause), "{text}");
            assert!(
                text.contains("hint: run `eider lock` to write it again"),
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_registry_credentials_are_bad_input_and_never_shown() {
        let failure = Failure::from(AccessError::Credentials(CredentialsFormatError));
        assert_eq!(failure.exit_code(), INVALID_INPUT);
        let text = text(&failure);
        assert!(text.starts_with("invalid --registry-auth"), "{text}");
        assert!(
            text.contains("hint: give them as HOST=USER:PASSWORD"),
            "{text}"
        );
    }

    #[test]
    fn an_image_id_asked_of_a_registry_is_bad_input_and_a_silent_engine_a_failure() {
        let failure = Failure::from(ResolveError::IdInRegistry {
            image: DIGEST.to_owned(),
        });
        assert_eq!(failure.exit_code(), INVALID_INPUT);
        assert!(text(&failure).contains("hint: resolve it with `--base-from daemon`"));
        let failure = Failure::from(ResolveError::NoEngine {
            image: "tool:dev".to_owned(),
        });
        assert_eq!(failure.exit_code(), FAILURE);
        assert!(text(&failure).contains("hint: start the Docker Engine"));
    }
}
