//! The `eider-kube-double` binary: writes a kubeconfig, prints its URL, stops on SIGTERM.

use std::io::BufRead;
use std::process::{Command, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

#[test]
fn the_binary_serves_until_sigterm() {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = scratch.path().join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_eider-kube-double"))
        .arg(&kubeconfig)
        .args(["--namespace", "jobs", "--token", "secret"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut url = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("the URL is printed");
    let url = url.trim();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let written = std::fs::read_to_string(&kubeconfig).expect("the kubeconfig is written");
    assert!(written.contains(&format!("server: \"{url}\"")), "{written}");
    assert!(written.contains("namespace: \"jobs\""), "{written}");
    assert!(written.contains("token: \"secret\""), "{written}");
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    kill(pid, Signal::SIGTERM).expect("signal");
    let status = child.wait().expect("the binary exits");
    assert!(status.success(), "{status:?}");
}
