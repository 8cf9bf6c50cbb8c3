//! The kubeconfig a client needs to reach the double.

use crate::status::quote;

/// A kubeconfig with one cluster at `server`, one user (with `token` when set) and one context,
/// `eider-double`, current and in `namespace`. Strings are written as YAML double-quoted
/// scalars, which is JSON's string syntax.
pub(crate) fn kubeconfig(server: &str, token: Option<&str>, namespace: &str) -> String {
    let user = match token {
        Some(token) => format!("    token: {}\n", quote(token)),
        None => "    {}\n".to_owned(),
    };
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: eider-double
  cluster:
    server: {server}
users:
- name: eider-double
  user:
{user}contexts:
- name: eider-double
  context:
    cluster: eider-double
    user: eider-double
    namespace: {namespace}
current-context: eider-double
preferences: {{}}
",
        server = quote(server),
        namespace = quote(namespace),
    )
}
