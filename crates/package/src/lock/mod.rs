//! `Drakefile.lock`: the file, and the resolutions that write and check it.

mod file;
mod resolution;

pub use file::{
    EntryError, ImageUse, LOCK_VERSION, LockFile, LockFileError, LockProblem, LockedImage,
    images_of,
};
pub use resolution::{Difference, LockError, check, lock};
