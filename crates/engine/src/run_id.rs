//! Run ids: short, unique enough to tell concurrent runs apart on one engine, and valid in
//! container and volume names.

use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// A new run id: 10 lowercase hex digits.
pub fn new_run_id() -> String {
    // The standard library's hasher keys are random per process; mixing in the time and the pid
    // makes two runs started in the same instant differ too.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    format!("{:010x}", hasher.finish() & 0xff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::new_run_id;

    #[test]
    fn run_ids_are_short_hex_and_differ() {
        let first = new_run_id();
        let second = new_run_id();
        assert_eq!(first.len(), 10);
        assert!(first.chars().all(|character| character.is_ascii_hexdigit()));
        assert_ne!(first, second);
    }
}
