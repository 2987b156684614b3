//! Sessions: a client writes, then reads from random nodes with
//! `consistency=session`, carrying the session token it was given, so the
//! reads must show its writes (read-your-writes) and never go back
//! (monotonic reads).

use super::{Actor, Call, Shared};
use crate::history::{Op, ReadMode, SessionId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The name of session key `index` (apart from the registers, whose reads
/// are all leader reads).
pub fn key(index: usize) -> String {
    format!("s{index}")
}

/// Run session `session` until told to stop, over `keys` keys.
pub async fn run(shared: Shared, session: SessionId, keys: usize, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut actor = Actor::new(shared.clone(), Some(session));
    let mut token: Option<String> = None;
    while !shared.stopping() {
        let Some(node) = shared.random_node(&mut rng) else {
            shared.think(&mut rng).await;
            continue;
        };
        let key = key(rng.random_range(0..keys.max(1)));
        let (op, call) = if rng.random_bool(0.3) {
            let value = shared.fresh_value();
            (
                Op::Write {
                    key: key.clone(),
                    value,
                },
                Call::Put { key, value },
            )
        } else {
            let mode = ReadMode::Session;
            (
                Op::Read {
                    key: key.clone(),
                    mode,
                },
                Call::Get { key, mode },
            )
        };
        let (_, answered) = actor.perform(node, op, &call, token.as_deref()).await;
        if answered.is_some() {
            token = answered;
        }
        shared.think(&mut rng).await;
    }
}
