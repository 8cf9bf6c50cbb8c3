//! eider's exit codes: a documented contract (see the README), kept in one place.

/// Everything asked for was done and succeeded.
pub const SUCCESS: u8 = 0;
/// What was asked for ran and failed: a job failed, timed out or could not run.
pub const FAILURE: u8 = 1;
/// Bad input: an invalid or missing Drakefile, or a wrong command line. Nothing ran.
pub const INVALID_INPUT: u8 = 2;
/// The runner failed, not the jobs: the container engine could not be reached, or a job ended
/// because the engine stopped answering or restarted under it, and no job failed on its own.
/// Running again may succeed.
pub const INFRASTRUCTURE_FAILURE: u8 = 3;
/// Interrupted by SIGINT (Ctrl-C): 128 + 2, as shells report it.
pub const INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM: 128 + 15.
pub const TERMINATED: u8 = 143;
