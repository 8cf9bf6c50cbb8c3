//! Claims as host directories. The double makes no mounts (its containers are host processes):
//! each `PersistentVolumeClaim` is a directory of the double's scratch space, kept while the
//! claim exists, and a container that mounts the claim at `mountPath` sees it there only because
//! the double rewrites that path, wherever it appears as a whole path or the start of one, in the
//! container's command, arguments, environment values and working directory, and in the command
//! of an exec into it. A script that builds the path from pieces does not reach the claim.
//! `readOnly` is not enforced.

use std::path::PathBuf;

use k8s_openapi::api::core::v1::{Container, PodSpec};

use crate::shared::{Shared, lock};
use crate::store::{Kind, ObjectKey, uid_of};

/// The host directory of the claim `name` in `namespace`, created on first use; none when the
/// claim does not exist.
pub(crate) fn claim_directory(shared: &Shared, namespace: &str, name: &str) -> Option<PathBuf> {
    let uid = {
        let store = lock(&shared.store);
        let claim = store.get(&ObjectKey::new(
            Kind::PersistentVolumeClaim,
            namespace,
            name,
        ))?;
        uid_of(claim)?.to_owned()
    };
    let directory = directory_of(shared, &uid);
    std::fs::create_dir_all(&directory).ok()?;
    Some(directory)
}

/// Where the claim with `uid` lives: by uid, so that a claim created again under the same name
/// starts empty.
fn directory_of(shared: &Shared, uid: &str) -> PathBuf {
    shared.scratch.path().join("claims").join(uid)
}

/// Drops the directory of a removed claim.
pub(crate) fn remove_claim_directory(shared: &Shared, uid: &str) {
    let _ = std::fs::remove_dir_all(directory_of(shared, uid));
}

/// The claims one container mounts: (mount path, host directory), longest mount path first so
/// that a mount inside another wins.
#[derive(Clone, Debug, Default)]
pub(crate) struct Mounts(Vec<(String, String)>);

impl Mounts {
    /// The claims `container` of a Pod with `spec` in `namespace` mounts, as host paths.
    pub(crate) fn of(
        shared: &Shared,
        namespace: &str,
        spec: &PodSpec,
        container: &Container,
    ) -> Self {
        let mut mounts = Vec::new();
        for mount in container.volume_mounts.iter().flatten() {
            let claim = spec
                .volumes
                .iter()
                .flatten()
                .find(|volume| volume.name == mount.name)
                .and_then(|volume| volume.persistent_volume_claim.as_ref());
            let Some(claim) = claim else {
                continue;
            };
            let Some(mut host) = claim_directory(shared, namespace, &claim.claim_name) else {
                continue;
            };
            if let Some(sub_path) = mount.sub_path.as_deref().filter(|path| !path.is_empty()) {
                host.push(sub_path);
                let _ = std::fs::create_dir_all(&host);
            }
            let path = mount.mount_path.trim_end_matches('/');
            if !path.is_empty() {
                mounts.push((path.to_owned(), host.display().to_string()));
            }
        }
        mounts.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
        Self(mounts)
    }

    /// `text` with each mount path that stands as a path of its own (not part of a longer name)
    /// replaced by its host directory.
    pub(crate) fn rewrite(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut index = 0;
        'scan: while index < text.len() {
            let rest = &text[index..];
            let starts_path = text[..index]
                .chars()
                .next_back()
                .is_none_or(|before| !is_path_character(before) && before != '/');
            if starts_path {
                for (path, host) in &self.0 {
                    if let Some(after) = rest.strip_prefix(path.as_str())
                        && after
                            .chars()
                            .next()
                            .is_none_or(|next| next == '/' || !is_path_character(next))
                    {
                        out.push_str(host);
                        index += path.len();
                        continue 'scan;
                    }
                }
            }
            let Some(character) = rest.chars().next() else {
                break;
            };
            out.push(character);
            index += character.len_utf8();
        }
        out
    }
}

/// Whether `character` may continue a file name.
fn is_path_character(character: char) -> bool {
    character.is_alphanumeric() || matches!(character, '.' | '-' | '_' | '~' | '+' | '@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mount_path_is_rewritten_only_where_it_is_a_path_of_its_own() {
        let mounts = Mounts(vec![
            ("/shared/inner".to_owned(), "/host/b".to_owned()),
            ("/shared".to_owned(), "/host/a".to_owned()),
        ]);
        assert_eq!(
            mounts.rewrite("mkdir -p /shared/dir && cd /shared;ls '/shared' /shared/inner/x"),
            "mkdir -p /host/a/dir && cd /host/a;ls '/host/a' /host/b/x"
        );
        assert_eq!(
            mounts.rewrite("/shared-other /x/shared /sharedness a/shared DIR=/shared"),
            "/shared-other /x/shared /sharedness a/shared DIR=/host/a"
        );
        assert_eq!(Mounts::default().rewrite("/shared"), "/shared");
    }
}
