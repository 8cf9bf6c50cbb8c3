//! The integrity of what packaging writes and reads, against the real binary: layouts and the
//! layer cache never share a file, a damaged cache entry is made again, `eider verify` refuses
//! layout files that are not regular files, and an interrupted or killed `eider package` leaves
//! no temporary file behind for long.

mod support;

use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::packaging::{package, project, verify};
use support::{Project, unique, wait_with_patience};

/// The digest of the package's source layer (its last), as `eider package --json` describes it.
fn packaged(project: &Project, job: &str, outputs: &[String]) -> String {
    let mut arguments = vec![job, "--json"];
    for output in outputs {
        arguments.extend(["--output", output.as_str()]);
    }
    let run = package(project, &arguments);
    run.assert_code(0);
    let description: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let layers = description["layers"].as_array().expect("layers");
    layers
        .last()
        .and_then(|layer| layer["digest"].as_str())
        .expect("layer digest")
        .trim_start_matches("sha256:")
        .to_owned()
}

/// Changes one byte in the middle of `file`, in place (as a job writing into a mounted tree
/// would): the file keeps its inode, so whatever shares it changes too.
fn change_one_byte_in_place(file: &Path) {
    let length = std::fs::metadata(file).expect("metadata").len();
    let mut opened = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
        .expect("open for writing");
    let middle = length / 2;
    let mut byte = [0_u8];
    opened.seek(SeekFrom::Start(middle)).expect("seek");
    std::io::Read::read_exact(&mut opened, &mut byte).expect("read");
    opened.seek(SeekFrom::Start(middle)).expect("seek");
    opened.write_all(&[byte[0] ^ 0xff]).expect("write");
}

fn layout(project: &Project, name: &str) -> (PathBuf, String) {
    let directory = project.state_path().join(name);
    let location = format!("oci:{}", directory.display());
    (directory, location)
}

fn cache_directory(project: &Project) -> PathBuf {
    project.state_path().join("cache").join("eider")
}

#[test]
fn a_blob_changed_in_one_layout_reaches_neither_the_cache_nor_another_layout() {
    let job = unique("shared-blob");
    let project = project(&job);
    let (first, first_location) = layout(&project, "first");
    let (_second, second_location) = layout(&project, "second");
    let layer = packaged(
        &project,
        &job,
        &[
            format!("{first_location}:{job}"),
            format!("{second_location}:{job}"),
        ],
    );

    change_one_byte_in_place(&first.join("blobs/sha256").join(&layer));
    verify(&project, &[&format!("{first_location}:{job}")]).assert_code(1);
    verify(&project, &[&format!("{second_location}:{job}")]).assert_code(0);

    // The next package reuses the cache: what it writes must be whole.
    let (_third, third_location) = layout(&project, "third");
    packaged(&project, &job, &[format!("{third_location}:{job}")]);
    verify(&project, &[&format!("{third_location}:{job}")]).assert_code(0);
}

#[test]
fn a_damaged_blob_in_the_cache_is_made_again_not_handed_out() {
    let job = unique("damaged-cache");
    let project = project(&job);
    let (_first, first_location) = layout(&project, "first");
    let layer = packaged(&project, &job, &[format!("{first_location}:{job}")]);

    let cached = cache_directory(&project).join("blobs/sha256").join(&layer);
    change_one_byte_in_place(&cached);
    let (_second, second_location) = layout(&project, "second");
    let again = packaged(&project, &job, &[format!("{second_location}:{job}")]);
    assert_eq!(again, layer, "the same source gives the same layer");
    verify(&project, &[&format!("{second_location}:{job}")]).assert_code(0);
    verify(&project, &[&format!("{first_location}:{job}")]).assert_code(0);
}

/// Replaces `file` by what `make` puts at its path.
fn replace(file: &Path, make: impl FnOnce(&Path)) {
    std::fs::remove_file(file).expect("remove");
    make(file);
}

fn fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success());
}

fn link_to_dev_zero(path: &Path) {
    std::os::unix::fs::symlink("/dev/zero", path).expect("symlink");
}

/// `eider verify` of `location`, which must end, refused, naming what is wrong.
fn verify_refuses(project: &Project, location: &str, expected: &str) {
    let child = project.spawn(&["verify", location]);
    let run = wait_with_patience(child, Duration::from_secs(60));
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains(expected), "{}", run.stderr);
}

#[test]
fn verify_refuses_layout_files_that_are_not_regular_files_instead_of_reading_them_forever() {
    let job = unique("unbounded");
    let project = project(&job);
    let (directory, location) = layout(&project, "layout");
    let location = format!("{location}:{job}");
    let layer = packaged(&project, &job, std::slice::from_ref(&location));
    let blobs = directory.join("blobs/sha256");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(directory.join("index.json")).expect("index"))
            .expect("JSON");
    let manifest = index["manifests"][0]["digest"]
        .as_str()
        .expect("manifest digest")
        .trim_start_matches("sha256:")
        .to_owned();

    // A layer blob that is a FIFO: reading it would wait for a writer forever.
    replace(&blobs.join(&layer), fifo);
    verify_refuses(&project, &location, "a FIFO, not a regular file");

    // A layer blob that leads to /dev/zero: hashing it would never end.
    replace(&blobs.join(&layer), link_to_dev_zero);
    verify_refuses(
        &project,
        &location,
        "a character device, not a regular file",
    );

    // A manifest and an index that lead to /dev/zero: reading them would take all memory.
    replace(&blobs.join(&manifest), link_to_dev_zero);
    verify_refuses(
        &project,
        &location,
        "a character device, not a regular file",
    );
    replace(&directory.join("index.json"), link_to_dev_zero);
    verify_refuses(
        &project,
        &location,
        "a character device, not a regular file",
    );
}

/// A project whose source is large enough that packaging it takes a few seconds: data that
/// does not compress.
fn slow_project(job: &str) -> Project {
    let project = project(job);
    let status = std::process::Command::new("head")
        .args(["-c", "200000000", "/dev/urandom"])
        .stdout(std::fs::File::create(project.path().join("data/noise.bin")).expect("create noise"))
        .status()
        .expect("head");
    assert!(status.success());
    support::git(project.path(), &["add", "-A"]);
    support::git(project.path(), &["commit", "-q", "-m", "noise"]);
    project
}

/// The temporary files of packaging directly in `directory`.
fn temporaries_in(directory: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with(".eider-tmp-"))
        .collect();
    names.sort();
    names
}

/// Starts `eider package` of `job` into a layout and waits until it has a temporary file in
/// the cache.
fn package_until_it_writes(project: &Project, job: &str) -> std::process::Child {
    let (_directory, location) = layout(project, "layout");
    let mut child = project.spawn(&["package", job, "--output", &format!("{location}:{job}")]);
    let cache = cache_directory(project);
    let deadline = Instant::now() + Duration::from_secs(120);
    while temporaries_in(&cache).is_empty() {
        if let Some(status) = child.try_wait().expect("poll eider") {
            panic!("eider package ended ({status}) before it wrote a temporary file");
        }
        assert!(Instant::now() < deadline, "no temporary file appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

fn signal(child: &std::process::Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[test]
fn an_interrupted_package_removes_its_temporary_files_and_exits_130_or_143() {
    for (signal_name, code) in [("INT", 130), ("TERM", 143)] {
        let job = unique("interrupted");
        let project = slow_project(&job);
        let child = package_until_it_writes(&project, &job);
        signal(&child, signal_name);
        let run = wait_with_patience(child, Duration::from_secs(30));
        run.assert_code(code);
        assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
        assert_eq!(
            temporaries_in(&cache_directory(&project)),
            Vec::<String>::new()
        );
        assert_eq!(
            temporaries_in(&project.state_path().join("layout")),
            Vec::<String>::new()
        );
    }
}

#[test]
fn what_a_killed_package_left_is_removed_by_eider_clean_and_by_the_next_package() {
    let job = unique("killed");
    let project = slow_project(&job);

    let mut child = package_until_it_writes(&project, &job);
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    let cache = cache_directory(&project);
    assert_ne!(temporaries_in(&cache), Vec::<String>::new());
    let cleaned = project.command(&["clean"]);
    cleaned.assert_code(0);
    assert!(
        cleaned.stderr.contains("temporary file"),
        "{}",
        cleaned.stderr
    );
    assert_eq!(temporaries_in(&cache), Vec::<String>::new());

    let mut child = package_until_it_writes(&project, &job);
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    assert_ne!(temporaries_in(&cache), Vec::<String>::new());
    let (_directory, location) = layout(&project, "layout");
    package(&project, &[&job, "--output", &format!("{location}:{job}")]).assert_code(0);
    assert_eq!(temporaries_in(&cache), Vec::<String>::new());
}
