//! What a client asks for next: a seeded choice of write or read and of the
//! key, and the value to write.

use super::BenchArgs;
use rand::distr::Alphanumeric;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// Set `key` to `value`.
    Write {
        /// The key.
        key: String,
        /// `value_size` alphanumeric characters (one byte each).
        value: String,
    },
    /// Read `key`.
    Read {
        /// The key.
        key: String,
    },
}

/// The name of key number `n`.
pub(crate) fn key_name(n: u64) -> String {
    format!("key{n:08}")
}

/// One client's stream of operations, reproducible from the seed.
#[derive(Debug)]
pub(crate) struct Workload {
    rng: StdRng,
    write_fraction: f64,
    keys: u64,
    value_size: usize,
}

impl Workload {
    /// Client number `client`'s stream (seeded with `seed + client`).
    pub(crate) fn new(args: &BenchArgs, client: usize) -> Workload {
        Workload {
            rng: StdRng::seed_from_u64(args.seed.wrapping_add(client as u64)),
            write_fraction: args.write_fraction.clamp(0.0, 1.0),
            keys: args.keys.max(1),
            value_size: args.value_size,
        }
    }

    /// The next operation.
    pub(crate) fn next_op(&mut self) -> Op {
        let write = self.rng.random_bool(self.write_fraction);
        let key = key_name(self.rng.random_range(0..self.keys));
        if write {
            let value = (&mut self.rng)
                .sample_iter(Alphanumeric)
                .take(self.value_size)
                .map(char::from)
                .collect();
            Op::Write { key, value }
        } else {
            Op::Read { key }
        }
    }
}
