//! Unit tests of [`Replica::check_invariants`](super::Replica::check_invariants).
