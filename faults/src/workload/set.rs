//! The grow-only set: elements are keys under [`SET_PREFIX`]
//! (the server has no set type); a read of the set is one prefix read.

use super::{Actor, Call, Shared, SET_PREFIX};
use crate::history::{OkValue, Op, Outcome, ReadMode};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Duration;

/// The `Call` that adds `element`.
pub fn add_call(element: u64) -> Call {
    Call::Put {
        key: format!("{SET_PREFIX}{element}"),
        value: element,
    }
}

/// Run one adder until told to stop.
pub async fn run_adder(shared: Shared, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut actor = Actor::new(shared.clone(), None);
    while !shared.stopping() {
        if let Some(node) = shared.random_node(&mut rng) {
            let element = shared.fresh_element();
            actor
                .perform(node, Op::Add { element }, &add_call(element), None)
                .await;
        }
        shared.think(&mut rng).await;
    }
}

/// Run one reader of the whole set until told to stop (it reads less
/// often than the adders add).
pub async fn run_reader(shared: Shared, mode: ReadMode, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut actor = Actor::new(shared.clone(), None);
    while !shared.stopping() {
        if let Some(node) = shared.random_node(&mut rng) {
            actor
                .perform(node, Op::ReadSet { mode }, &Call::ReadSet { mode }, None)
                .await;
        }
        for _ in 0..4 {
            shared.think(&mut rng).await;
        }
    }
}

/// After the faults stopped and the cluster healed: read the whole set
/// (linearizably) until a read succeeds or `attempts` run out. Every
/// attempt is recorded. Returns the elements read.
pub async fn final_read(shared: &Shared, attempts: usize) -> Option<Vec<u64>> {
    let mut rng = StdRng::seed_from_u64(0);
    let mut actor = Actor::new(shared.clone(), None);
    let mode = ReadMode::Linearizable;
    for _ in 0..attempts {
        if let Some(node) = shared.random_node(&mut rng) {
            let (operation, _) = actor
                .perform(node, Op::ReadSet { mode }, &Call::ReadSet { mode }, None)
                .await;
            if let Outcome::Ok(OkValue::Elements { elements, .. }) = operation.outcome {
                return Some(elements);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}
