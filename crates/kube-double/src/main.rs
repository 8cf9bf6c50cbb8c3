//! Runs a Kubernetes API double until SIGTERM or Ctrl-C: writes its kubeconfig to the path
//! given and prints its URL.

use std::process::ExitCode;

use eider_kube_double::{KubeDouble, ServerVersion, Settings};

const USAGE: &str = "usage: eider-kube-double KUBECONFIG [--namespace NAME]... [--token TOKEN] [--server-version 1.33]";

fn parse(arguments: &[String]) -> Result<(String, Settings, String), String> {
    let mut settings = Settings::default();
    let mut namespaces = Vec::new();
    let mut path = None;
    let mut index = 0;
    while index < arguments.len() {
        let argument = arguments[index].as_str();
        let mut value = || {
            index += 1;
            arguments
                .get(index)
                .cloned()
                .ok_or_else(|| format!("{argument} needs a value"))
        };
        match argument {
            "--namespace" => namespaces.push(value()?),
            "--token" => settings.token = Some(value()?),
            "--server-version" => {
                let text = value()?;
                let (major, minor) = text
                    .split_once('.')
                    .ok_or_else(|| format!("bad version {text:?}"))?;
                settings.version = ServerVersion {
                    major: major.parse().map_err(|_| format!("bad version {text:?}"))?,
                    minor: minor.parse().map_err(|_| format!("bad version {text:?}"))?,
                };
            }
            "--help" | "-h" => return Err(String::new()),
            other if path.is_none() && !other.starts_with('-') => path = Some(other.to_owned()),
            other => return Err(format!("unexpected argument {other:?}")),
        }
        index += 1;
    }
    if !namespaces.is_empty() {
        settings.namespaces = namespaces;
    }
    let namespace = settings
        .namespaces
        .first()
        .cloned()
        .unwrap_or_else(|| "default".to_owned());
    let path = path.ok_or_else(|| "the kubeconfig path is missing".to_owned())?;
    Ok((path, settings, namespace))
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let (path, settings, namespace) = match parse(&arguments) {
        Ok(parsed) => parsed,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("eider-kube-double: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("eider-kube-double: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        // Listen for the signals before the URL is printed: whoever reads it may stop us at once.
        let signals = (
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()),
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()),
        );
        let (Ok(mut terminate), Ok(mut interrupt)) = signals else {
            eprintln!("eider-kube-double: cannot listen for SIGTERM and SIGINT");
            return ExitCode::FAILURE;
        };
        let double = match KubeDouble::start(settings).await {
            Ok(double) => double,
            Err(error) => {
                eprintln!("eider-kube-double: cannot start: {error}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(error) = std::fs::write(&path, double.kubeconfig(&namespace)) {
            eprintln!("eider-kube-double: cannot write {path}: {error}");
            return ExitCode::FAILURE;
        }
        println!("{}", double.url());
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        drop(double);
        ExitCode::SUCCESS
    })
}
