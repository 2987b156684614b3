//! Cross-crate integration tests for steadfast live in `tests/tests/`.
