//! A package verified: opened from an OCI layout or a registry ([`open`]), checked
//! ([`Package::check`]), its job read back from its labels ([`Package::recorded_job`]), and
//! loaded into the local engine to run that job from it ([`Package::prepare_run`]).

mod check;
mod cluster;
mod config;
mod error;
mod load;
mod open;
mod recorded;

pub use check::{Problem, Verification};
pub use error::{ReadError, RecordedJobProblem, RegistryStep, VerifyError};
pub use load::{LoadedPackage, PackagedJob};
pub use open::{Package, open};
pub use recorded::RecordedJob;
