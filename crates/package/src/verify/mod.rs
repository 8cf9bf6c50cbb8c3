//! A package verified: opened from an OCI layout or a registry ([`open`]), checked
//! ([`Package::check`]), and loaded into the local engine to run its job
//! ([`Package::load_into_engine`]).

mod check;
mod config;
mod error;
mod load;
mod open;

pub use check::Problem;
pub use error::{ReadError, RegistryStep, VerifyError};
pub use load::LoadedPackage;
pub use open::{Package, open};
