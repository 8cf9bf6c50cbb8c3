//! A container run as a host process: its own process group, stdout and stderr into one pipe
//! (so the log keeps the order things were written), and its exit code.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::sync::watch;

use crate::logs::ContainerLog;
use crate::shared::{Shared, lock};

/// What to run.
pub(crate) struct Launch {
    pub argv: Vec<String>,
    pub environment: Vec<(OsString, OsString)>,
    pub working_directory: PathBuf,
}

/// A started container process.
pub(crate) struct ContainerProcess {
    pub process_group: i32,
    exit: watch::Receiver<Option<i32>>,
}

/// Longest partial line kept before it is written to the log without its end.
const MAX_LINE: usize = 16 * 1024;

/// How long the output may stay open after the process exited.
const DRAIN_TIME: Duration = Duration::from_secs(2);

fn read_output(mut reader: std::io::PipeReader, log: &ContainerLog) {
    let mut pending = Vec::new();
    let mut buffer = [0_u8; 8192];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => {
                pending.extend_from_slice(&buffer[..count]);
                while let Some(end) = pending.iter().position(|byte| *byte == b'\n') {
                    let rest = pending.split_off(end + 1);
                    log.append(std::mem::replace(&mut pending, rest));
                }
                if pending.len() >= MAX_LINE {
                    log.append(std::mem::take(&mut pending));
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if !pending.is_empty() {
        log.append(pending);
    }
    log.close_output();
}

impl ContainerProcess {
    /// Starts the process; its output goes to `log`.
    pub fn spawn(
        shared: &Arc<Shared>,
        launch: &Launch,
        log: &Arc<ContainerLog>,
    ) -> std::io::Result<Self> {
        let Some((program, arguments)) = launch.argv.split_first() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "no command specified",
            ));
        };
        let (reader, writer) = std::io::pipe()?;
        let error_writer = writer.try_clone()?;
        let mut command = tokio::process::Command::new(program);
        command
            .args(arguments)
            .env_clear()
            .envs(launch.environment.iter().map(|(key, value)| (key, value)))
            .current_dir(&launch.working_directory)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(error_writer)
            .process_group(0);
        let spawned = command.spawn();
        // The command holds the pipe's write ends: they must close for the reader to see the end.
        drop(command);
        let mut child = spawned?;
        let process_group = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .ok_or_else(|| std::io::Error::other("the process has no id"))?;
        lock(&shared.process_groups).insert(process_group);
        let reader_log = Arc::clone(log);
        std::thread::Builder::new()
            .name("container-output".to_owned())
            .spawn(move || read_output(reader, &reader_log))?;
        let (sender, exit) = watch::channel(None);
        let shared = Arc::clone(shared);
        let log = Arc::clone(log);
        tokio::spawn(async move {
            let code = match child.wait().await {
                Ok(status) => status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(Signal::SIGKILL as i32)),
                Err(_) => 128 + Signal::SIGKILL as i32,
            };
            // The container ends with its first process: nothing else in it keeps running.
            Shared::signal_group(process_group, Signal::SIGKILL);
            lock(&shared.process_groups).remove(&process_group);
            log.mark_exited();
            let _ = sender.send(Some(code));
            tokio::time::sleep(DRAIN_TIME).await;
            log.force_finish();
        });
        Ok(Self {
            process_group,
            exit,
        })
    }

    /// The exit code once the process has ended (128 + signal when a signal ended it).
    pub fn exit_code(&self) -> Option<i32> {
        *self.exit.borrow()
    }

    /// Waits for the process to end and returns its exit code.
    pub async fn wait(&self) -> i32 {
        let mut exit = self.exit.clone();
        loop {
            if let Some(code) = *exit.borrow_and_update() {
                return code;
            }
            if exit.changed().await.is_err() {
                return 128 + Signal::SIGKILL as i32;
            }
        }
    }

    /// Signals every process of the container, unless it has already ended.
    pub fn signal(&self, signal: Signal) {
        if self.exit_code().is_none() {
            Shared::signal_group(self.process_group, signal);
        }
    }
}
