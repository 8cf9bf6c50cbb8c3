//! Which process made something, and whether it still runs: what eider leaves behind it (in the
//! engine: containers and volumes; on disk: temporary files of packaging) names the process that
//! made it, so that a leftover of a process that is gone can be removed and nothing of a live
//! one ever is.

use std::sync::OnceLock;

/// This process's pid namespace: the machine's boot id and the namespace's inode. A pid only
/// says whether its process still runs when read in that namespace: another machine or
/// container sharing an engine or a directory has pids of its own. `None` where `/proc` does
/// not tell (then nothing should be swept automatically).
#[must_use]
pub fn pid_namespace() -> Option<&'static str> {
    static NAMESPACE: OnceLock<Option<String>> = OnceLock::new();
    NAMESPACE
        .get_or_init(|| {
            use std::os::unix::fs::MetadataExt as _;
            let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
            let namespace = std::fs::metadata("/proc/self/ns/pid").ok()?;
            Some(format!("{}:{}", boot.trim(), namespace.ino()))
        })
        .as_deref()
}

/// Whether a process with id `pid` runs in this pid namespace (this one included).
#[must_use]
pub fn runs(pid: u32) -> bool {
    pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_runs_and_one_that_was_waited_for_does_not() {
        assert!(runs(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("wait");
        assert!(!runs(pid));
    }

    #[test]
    fn the_namespace_is_known_here_and_the_same_every_time() {
        let namespace = pid_namespace().expect("/proc tells");
        assert!(namespace.contains(':'), "{namespace}");
        assert_eq!(pid_namespace(), Some(namespace));
    }
}
