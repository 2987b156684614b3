use std::sync::{Arc, Mutex};
use steadfast::planted::PlantedBug;
use steadfast::{Durability, ElectionQuorum};
use steadfast_models::actor::ClientOp;
use steadfast_models::model::{NetworkKind, ReplicationModel};
use steadfast_models::runner::{run_with, RunOptions};
use steadfast_models::suite::{Check, Expect};

fn env(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn main() {
    let dur = match std::env::var("DUR").as_deref() {
        Ok("async") => Durability::Async,
        _ => Durability::Quorum,
    };
    let mut m = ReplicationModel::new(env("SERVERS", 3) as usize, dur, ElectionQuorum::Majority);
    m.campaigners = env("CAMP", 3) as usize;
    m.elections = env("ELECT", 2) as u8;
    m.max_epoch = env("EPOCHS", 4);
    m.max_crashes = env("CRASH", 0) as usize;
    m.lossy = env("LOSSY", 0) == 1;
    m.network = match env("NET", 0) {
        1 => NetworkKind::Duplicating,
        2 => NetworkKind::Ordered,
        _ => NetworkKind::Unordered,
    };
    m.max_entries_per_message = env("EPM", 64) as usize;
    m.pre_vote = env("PREVOTE", 0) == 1;
    if let Ok(order) = std::env::var("ORDER") {
        let _ = order;
    }
    let writes = env("WRITES", 2);
    m.clients = vec![(1..=writes).map(|v| ClientOp::Put(v as _)).collect()];
    if env("BUG", 0) == 1 {
        m.planted_bug = Some(PlantedBug::CommitOldEpochEntries);
    }
    let check = Check {
        family: "probe",
        model: m,
        max_depth: env("DEPTH", 0) as usize,
        expect: vec![
            ("NoLostAckedWrites", Expect::Holds),
            ("ElectionSafety", Expect::Holds),
        ],
        examples: vec![],
    };
    let opts = RunOptions {
        threads: env("THREADS", 2) as usize,
        max_seconds: Some(env("SECS", 120)),
        symmetry: env("SYM", 1) == 1,
        progress: true,
    };
    let live: steadfast_models::runner::LiveHandle = Arc::new(Mutex::new(Default::default()));
    let rows = run_with(&check, &opts, &live);
    let discovered = live.lock().unwrap().discovered.clone();
    println!("discovered: {discovered:?}");
    for v in rows {
        println!(
            "{} {:?} states={} depth={} cpu={:.1} sym={}",
            v.property, v.found, v.unique_states, v.max_depth, v.cpu_seconds, v.symmetry
        );
    }
}
