//! The secrets file (`Drakesecrets.yaml`) and `--env-file` parsers on arbitrary text: they never
//! panic, every error names the file, and a parsed secrets file shows no value in its `Debug`.

#![no_main]

use eider_engine::environment::{SecretsFile, parse_env_argument, parse_env_file, parse_secrets};
use libfuzzer_sys::fuzz_target;

const SECRETS: &str = "Drakesecrets.yaml";
const ENV_FILE: &str = "ci.env";

/// eider's own environment, as `${NAME}` and bare `KEY` lines see it.
fn lookup(name: &str) -> Option<String> {
    match name {
        "HOME" => Some("/home/ci".to_owned()),
        "TOKEN" => Some("s3cr3t-${HOME}-$$".to_owned()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    match parse_secrets(SECRETS, text, &lookup) {
        Ok(secrets) => {
            // The values must not reach `Debug`: with every value blanked it reads the same.
            let blanked = SecretsFile {
                variables: secrets
                    .variables
                    .iter()
                    .map(|(name, _)| (name.clone(), String::new()))
                    .collect(),
                warnings: secrets.warnings.clone(),
            };
            assert_eq!(format!("{secrets:?}"), format!("{blanked:?}"));
            for warning in &secrets.warnings {
                assert!(
                    warning.contains(SECRETS),
                    "warning without the file: {warning}"
                );
            }
        }
        Err(error) => {
            let message = error.to_string();
            assert!(message.starts_with(&format!("{SECRETS}:")), "{message}");
        }
    }
    if let Err(error) = parse_env_file(ENV_FILE, text, &lookup) {
        let message = error.to_string();
        assert!(message.starts_with(&format!("{ENV_FILE}:")), "{message}");
    }
    if let Some(first_line) = text.lines().next() {
        let _ = parse_env_argument(first_line, &lookup);
    }
});
