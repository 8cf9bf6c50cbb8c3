//! Where a container mounts the source, the shared storage and the Docker socket: each at an
//! absolute path, and no two at the same one. The engine refuses a container with two mounts at
//! one path, but only when the job runs, in its own words; here the file is refused before
//! anything runs, pointing at both fields.

use crate::DOCKER_SOCKET_PATH;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::OsFamily;
use crate::path::FieldPath;
use crate::yaml::Span;

use super::Validator;
use super::container::absolute_path;
use super::values::Fields;

/// A mount path as written, and where.
struct Written {
    path: String,
    span: Span,
}

/// `sourceMountPath` and `sharedStorageMountPath` (empty means none), after checking that
/// neither lands where another mount does. `socket` is where `mountDockerSocket: true` is
/// written, when it is.
pub(super) fn read_mounts(
    validator: &mut Validator<'_>,
    fields: &Fields<'_>,
    path: &FieldPath<'_>,
    os_family: OsFamily,
    socket: Option<Span>,
) -> (Option<String>, Option<String>) {
    let mut read = |name: &str| {
        let field = fields.get(name)?;
        let text = absolute_path(validator, &field.value, &path.key(name), os_family, true)?;
        Some(Written {
            path: text,
            span: field.value.span,
        })
    };
    let source = read("sourceMountPath");
    let shared = read("sharedStorageMountPath");
    if let (Some(source), Some(shared)) = (&source, &shared)
        && normalized(&source.path, os_family) == normalized(&shared.path, os_family)
    {
        validator.report(
            Diagnostic::error(
                Code::InvalidValue,
                path.key("sharedStorageMountPath"),
                shared.span,
                format!("`{}` is also where the source is mounted", shared.path),
            )
            .with_label("same path as `sourceMountPath`")
            .with_related(source.span, "the source is mounted here")
            .with_help("mount the shared storage and the source at different paths"),
        );
    }
    if let Some(socket) = socket {
        for (name, what, example, written) in [
            ("sourceMountPath", "the source", "/src", &source),
            (
                "sharedStorageMountPath",
                "the shared storage",
                "/shared",
                &shared,
            ),
        ] {
            let Some(written) = written else {
                continue;
            };
            if normalized(&written.path, os_family) != DOCKER_SOCKET_PATH {
                continue;
            }
            validator.report(
                Diagnostic::error(
                    Code::InvalidValue,
                    path.key(name),
                    written.span,
                    format!(
                        "`{}` is where `mountDockerSocket: true` mounts the Docker socket",
                        written.path
                    ),
                )
                .with_label("the Docker socket's path")
                .with_related(socket, "mountDockerSocket: true")
                .with_help(format!("mount {what} somewhere else, e.g. `{example}`")),
            );
        }
    }
    (
        source.map(|mount| mount.path),
        shared.map(|mount| mount.path),
    )
}

/// `path` as the engine compares mount points: repeated separators and `.` dropped, `..`
/// resolved, no trailing separator, so that `/src/` and `/src` are one path. A Windows path
/// also has `\\` as a separator and one case.
fn normalized(path: &str, os_family: OsFamily) -> String {
    let path = match os_family {
        OsFamily::Linux => path.to_owned(),
        OsFamily::Windows => path.replace('\\', "/").to_lowercase(),
    };
    let mut components: Vec<&str> = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                components.pop();
            }
            other => components.push(other),
        }
    }
    format!("/{}", components.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_name_one_mount_point_normalize_alike() {
        for (written, expected) in [
            ("/src", "/src"),
            ("/src/", "/src"),
            ("//src//", "/src"),
            ("/src/./", "/src"),
            ("/other/../src", "/src"),
            ("/../src", "/src"),
            ("/", "/"),
            ("/var/run/docker.sock/", DOCKER_SOCKET_PATH),
        ] {
            assert_eq!(normalized(written, OsFamily::Linux), expected, "{written}");
        }
        assert_ne!(
            normalized("/Src", OsFamily::Linux),
            normalized("/src", OsFamily::Linux)
        );
        assert_eq!(
            normalized("C:\\Src\\", OsFamily::Windows),
            normalized("c:/src", OsFamily::Windows)
        );
    }
}
