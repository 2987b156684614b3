//! The 64-bit digests model states cache for their largest parts.

use std::hash::{BuildHasher, Hash};

/// aHash with fixed keys: fast on the many small writes a derived `Hash`
/// makes, and the same in every run.
fn keys() -> ahash::RandomState {
    ahash::RandomState::with_seeds(0x5eed, 0xfa57, 0xde1a, 0x7e11)
}

/// The digest of `value`.
pub fn digest<T: Hash + ?Sized>(value: &T) -> u64 {
    keys().hash_one(value)
}

/// A hasher to feed a digest piece by piece.
pub fn hasher() -> impl std::hash::Hasher {
    keys().build_hasher()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_stable_and_tell_values_apart() {
        assert_eq!(digest(&(1u8, "a")), digest(&(1u8, "a")));
        assert_ne!(digest(&(1u8, "a")), digest(&(2u8, "a")));
    }
}
