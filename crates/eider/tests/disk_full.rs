//! eider on a full disk: `eider package` into an OCI layout, its layer cache, and the reports of
//! `eider run`, each on a small tmpfs. A full disk must give exit code 1, an error naming the
//! path and saying "No space left on device", no temporary file left behind, and nothing a later
//! run would trust: with space again, the same command succeeds and gives the same image.
//!
//! Mounting a tmpfs needs root (the tests' environment, `scripts/test-env.sh`): without it these
//! tests fail, saying so, rather than pass without testing anything.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{BUSYBOX, Project, Run, drakefile, unique};

/// A tmpfs mounted on a temporary directory, unmounted (and the directory removed) on drop,
/// also when the test fails.
struct SmallDisk {
    directory: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Self {
        let directory = tempfile::tempdir().expect("temporary mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(directory.path())
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "cannot mount a tmpfs on {} ({status}): the disk-full tests need root \
             (run them as scripts/test-env.sh's environment does)",
            directory.path().display()
        );
        Self { directory }
    }

    fn path(&self) -> &Path {
        self.directory.path()
    }

    /// Gives the file system more room: what a user does after freeing space.
    fn grow(&self, megabytes: u32) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={megabytes}m")])
            .arg(self.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "cannot grow the tmpfs ({status})");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ignored = Command::new("umount").arg(self.path()).status();
    }
}

/// Files under `root`, recursively.
fn files_under(root: &Path) -> Vec<PathBuf> {
    entries_under(root).0
}

/// The files and the directories under `root`, recursively.
fn entries_under(root: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut files, mut directories) = (Vec::new(), Vec::new());
    let mut pending = vec![root.to_owned()];
    while let Some(directory) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path.clone());
                directories.push(path);
            } else {
                files.push(path);
            }
        }
    }
    (files, directories)
}

/// No temporary file is left under `root`, and every blob there hashes to its name: nothing a
/// later run would trust is partial.
#[track_caller]
fn assert_nothing_partial(root: &Path) {
    let (files, directories) = entries_under(root);
    for path in files {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        assert!(
            !name.starts_with(".eider-") && !name.starts_with("export-"),
            "temporary file left behind: {}",
            path.display()
        );
        if path
            .parent()
            .is_some_and(|parent| parent.ends_with("blobs/sha256"))
        {
            let bytes = std::fs::read(&path).expect("read a blob");
            assert_eq!(
                sha256_hex(&bytes),
                name,
                "blob {} is partial",
                path.display()
            );
        }
    }
    for path in directories {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        assert!(
            !name.starts_with("export-") && !name.starts_with("load-"),
            "temporary directory left behind: {}",
            path.display()
        );
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    let output = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .expect("sha256sum's stdin")
                .write_all(bytes)?;
            child.wait_with_output()
        })
        .expect("run sha256sum");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A failure for a full disk: exit code 1, the path named, the system's reason given.
#[track_caller]
fn assert_disk_full_failure(run: &Run, path: &Path) {
    run.assert_code(1);
    assert!(
        run.stderr.contains("No space left on device"),
        "no reason given:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&path.display().to_string()),
        "{} not named:\n{}",
        path.display(),
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// A project whose job packages its source, with `megabytes` of incompressible data in it.
fn project_with_source(job: &str, megabytes: usize) -> Project {
    let project = Project::new(&drakefile(&format!(
        "  {job}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sourceMountPath: /src
      command: [ls, /src]
"
    )));
    let data: Vec<u8> = (0..megabytes << 20)
        .scan(0x9e37_79b9_u32, |state, _| {
            *state ^= *state << 13;
            *state ^= *state >> 17;
            *state ^= *state << 5;
            Some(state.to_le_bytes()[0])
        })
        .collect();
    std::fs::write(project.path().join("data.bin"), data).expect("write the source data");
    project
}

/// `eider package JOB -o LOCATION` with the cache in `cache`.
fn package(project: &Project, job: &str, location: &str, cache: &Path) -> Run {
    let output = project
        .eider()
        .env("XDG_CACHE_HOME", cache)
        .args(["package", job, "--output", location])
        .output()
        .expect("run eider package");
    Run::from(output)
}

/// The digest of the (only) image in the layout, from its `index.json`.
fn layout_index(layout: &Path) -> String {
    let index = std::fs::read_to_string(layout.join("index.json")).expect("the layout's index");
    let index: serde_json::Value = serde_json::from_str(&index).expect("index.json is JSON");
    index["manifests"][0]["digest"]
        .as_str()
        .expect("a manifest digest")
        .to_owned()
}

/// The image digest of the same package built with plenty of room everywhere.
fn reference_digest(project: &Project, job: &str) -> String {
    let room = tempfile::tempdir().expect("temporary directory");
    let layout = room.path().join("layout");
    let run = package(
        project,
        job,
        &format!("oci:{}", layout.display()),
        &room.path().join("cache"),
    );
    run.assert_code(0);
    layout_index(&layout)
}

#[test]
fn packaging_into_a_layout_on_a_full_disk_fails_naming_it_and_a_later_run_succeeds() {
    let job = unique("layout-full");
    let project = project_with_source(&job, 8);
    let disk = SmallDisk::mount(4);
    let cache = tempfile::tempdir().expect("temporary cache");
    let layout = disk.path().join("layout");
    let location = format!("oci:{}", layout.display());

    let full = package(&project, &job, &location, cache.path());
    assert_disk_full_failure(&full, &layout);
    assert!(
        !layout.join("index.json").exists(),
        "an index names an image that is not all there"
    );
    assert_nothing_partial(disk.path());
    assert_nothing_partial(cache.path());

    disk.grow(64);
    let again = package(&project, &job, &location, cache.path());
    again.assert_code(0);
    assert_eq!(layout_index(&layout), reference_digest(&project, &job));
    assert_nothing_partial(disk.path());
    let verify = project
        .eider()
        .args(["verify", &location])
        .output()
        .expect("run eider verify");
    Run::from(verify).assert_code(0);
}

#[test]
fn a_full_cache_directory_fails_the_package_naming_it_and_a_later_run_succeeds() {
    let job = unique("cache-full");
    let project = project_with_source(&job, 24);
    let disk = SmallDisk::mount(16);
    let cache = disk.path().join("cache");
    let room = tempfile::tempdir().expect("temporary directory");
    let layout = room.path().join("layout");
    let location = format!("oci:{}", layout.display());

    let full = package(&project, &job, &location, &cache);
    assert_disk_full_failure(&full, &cache);
    assert_nothing_partial(disk.path());
    assert!(!layout.join("index.json").exists());

    disk.grow(128);
    let again = package(&project, &job, &location, &cache);
    again.assert_code(0);
    assert_eq!(layout_index(&layout), reference_digest(&project, &job));
    assert_nothing_partial(disk.path());
}

#[test]
fn a_report_on_a_full_disk_fails_the_run_naming_it_and_leaves_no_partial_report() {
    let job = unique("report-full");
    // Enough output for a JUnit report larger than the disk.
    let project = Project::new(&drakefile(&support::busybox_job(
        &job,
        &[],
        "yes 'a line of the report, and another one, and another' | head -n 40000",
    )));
    let disk = SmallDisk::mount(1);
    let report = disk.path().join("report.xml");
    let run = project.run(&["--report", &format!("junit={}", report.display()), &job]);
    assert_disk_full_failure(&run, &report);
    assert!(!report.exists(), "a truncated report was left");
    assert_nothing_partial(disk.path());
    assert!(
        files_under(disk.path()).is_empty(),
        "{:?}",
        files_under(disk.path())
    );
    support::assert_no_leftovers(&run);
}

#[test]
fn shared_storage_kept_on_a_full_disk_fails_naming_it_and_leaves_no_partial_copy() {
    let job = unique("keep-full");
    // 8 MiB of shared storage, for a 4 MiB disk.
    let project = Project::new(&drakefile(&format!(
        "  {job}:
    primaryContainer:
      name: main
      image: {BUSYBOX}
      sharedStorageMountPath: /shared
      command: {}
",
        support::sh("dd if=/dev/zero of=/shared/big bs=1M count=8 2>/dev/null && echo written")
    )));
    let disk = SmallDisk::mount(4);
    let kept = disk.path().join("shared");
    let run = project.run(&["--keep-shared", &kept.display().to_string(), &job]);
    assert_disk_full_failure(&run, &kept);
    assert_eq!(run.lines_of(&job, "main"), ["written"]);
    assert!(
        !kept.exists(),
        "a partial copy of the shared storage was left: {:?}",
        files_under(&kept)
    );
    support::assert_no_leftovers(&run);
}
