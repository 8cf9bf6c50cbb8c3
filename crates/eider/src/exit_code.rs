//! eider's exit codes: a documented contract (see the README), kept in one place.

/// Everything asked for was done and succeeded.
pub const SUCCESS: u8 = 0;
/// What was asked for ran and failed (reserved for jobs and pipelines).
#[expect(
    dead_code,
    reason = "used once `eider run` exists; listed here so the contract is complete"
)]
pub const FAILURE: u8 = 1;
/// Bad input: an invalid or missing Drakefile, or a wrong command line. Nothing ran.
pub const INVALID_INPUT: u8 = 2;
