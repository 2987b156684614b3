//! Per-key registers: each client writes unique values to, and reads, a
//! handful of keys, through random nodes (redirected to the leader).

use super::{Actor, Call, Shared};
use crate::history::{Op, ReadMode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The name of register `index`.
pub fn key(index: usize) -> String {
    format!("r{index}")
}

/// Run one register client until told to stop: half writes, half reads
/// in `mode`, on `keys` registers.
pub async fn run(shared: Shared, keys: usize, mode: ReadMode, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut actor = Actor::new(shared.clone(), None);
    while !shared.stopping() {
        let Some(node) = shared.random_node(&mut rng) else {
            shared.think(&mut rng).await;
            continue;
        };
        let key = key(rng.random_range(0..keys.max(1)));
        if rng.random_bool(0.5) {
            let value = shared.fresh_value();
            let op = Op::Write {
                key: key.clone(),
                value,
            };
            actor
                .perform(node, op, &Call::Put { key, value }, None)
                .await;
        } else {
            let op = Op::Read {
                key: key.clone(),
                mode,
            };
            actor
                .perform(node, op, &Call::Get { key, mode }, None)
                .await;
        }
        shared.think(&mut rng).await;
    }
}
