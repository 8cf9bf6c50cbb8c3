//! Where eider keeps per-run state on this machine (private copies of the source):
//! `$EIDER_STATE_DIR`, else `$XDG_STATE_HOME/eider`, else `~/.local/state/eider`.

use camino::Utf8PathBuf;

/// The state directory (created on first use by the engine).
pub fn directory() -> Utf8PathBuf {
    let from = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.is_empty())
            .map(Utf8PathBuf::from)
    };
    from("EIDER_STATE_DIR")
        .or_else(|| from("XDG_STATE_HOME").map(|base| base.join("eider")))
        .or_else(|| from("HOME").map(|home| home.join(".local/state/eider")))
        .unwrap_or_else(|| {
            std::env::temp_dir()
                .join("eider-state")
                .try_into()
                .unwrap_or_else(|_| Utf8PathBuf::from("/tmp/eider-state"))
        })
}
