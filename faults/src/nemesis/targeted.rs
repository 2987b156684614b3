//! The targeted faults that make the expected anomalies likely:
//!
//! - **Isolate the leader and write to it**: under `Async` the leader
//!   acknowledges writes it alone has persisted; cut off, it keeps doing so
//!   while the others elect a new leader, and everything it acknowledged in
//!   the meantime is truncated when it rejoins: lost acknowledged writes.
//!   Under `Quorum` those writes never commit and end `Unknown`.
//! - **Stale lease read**: the lease is safe only while clocks drift less
//!   than the bound. With `--skew`, the old leader's clock is made to run
//!   slow (its offset pushed back a little less than real time, every
//!   50 ms), so it believes its lease holds long after the others elected a
//!   new leader and overwrote a register: a `consistency=lease` read on it
//!   returns the old value, which is not linearizable.

use super::{FaultRecord, Nemesis};
use crate::cluster::ClusterError;
use crate::history::{OkValue, Op, Outcome, ReadMode};
use crate::proxy::Action;
use crate::workload::{set, Actor, Call, Shared};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The register the stale-lease step writes and reads.
pub const LEASE_PROBE_KEY: &str = "lease-probe";

/// How long the others may take to elect a new leader.
const ELECTION: Duration = Duration::from_secs(10);

/// Cut `leader` off from every peer (connections closed and refused).
fn isolate(nemesis: &Nemesis<'_>, leader: u64) {
    let all: BTreeSet<u64> = nemesis.cluster.nodes().into_iter().collect();
    let alone = BTreeSet::from([leader]);
    let rest = &all - &alone;
    nemesis
        .cluster
        .network()
        .update(|rules| rules.between(&alone, &rest, Action::Cut));
}

pub(super) async fn isolate_and_write(
    nemesis: &mut Nemesis<'_>,
    leader: u64,
    adds: u32,
    hold: Duration,
    record: &mut FaultRecord,
) -> Result<(), ClusterError> {
    record.nodes = vec![leader];
    isolate(nemesis, leader);
    // Adds sent to the isolated leader itself, concurrently.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..adds {
        let shared = nemesis.shared.clone();
        tasks.spawn(async move {
            let mut actor = Actor::new(shared.clone(), None);
            let element = shared.fresh_element();
            let (operation, _) = actor
                .perform(leader, Op::Add { element }, &set::add_call(element), None)
                .await;
            matches!(operation.outcome, Outcome::Ok(_))
        });
    }
    let new_leader = nemesis.cluster.wait_leader(ELECTION, Some(leader)).await;
    tokio::time::sleep(hold).await;
    let mut acked = 0;
    while let Some(done) = tasks.join_next().await {
        acked += usize::from(done.unwrap_or(false));
    }
    nemesis.cluster.kill(leader)?;
    nemesis.cluster.network().heal();
    nemesis.cluster.spawn(leader)?;
    record.detail = format!(
        "leader {leader} cut off; {acked} of {adds} adds sent to it were acknowledged; new leader {new_leader:?}; old leader killed, network healed, restarted"
    );
    Ok(())
}

/// Write `value` to the probe register on `node`, a few attempts; whether
/// it was acknowledged.
async fn write_probe(actor: &mut Actor, node: u64, value: u64) -> bool {
    for _ in 0..5 {
        let key = LEASE_PROBE_KEY.to_owned();
        let op = Op::Write {
            key: key.clone(),
            value,
        };
        let (operation, _) = actor
            .perform(node, op, &Call::Put { key, value }, None)
            .await;
        match operation.outcome {
            Outcome::Ok(_) => return true,
            // The write may still land: never write the same value twice.
            Outcome::Unknown { .. } => return false,
            Outcome::Fail { .. } => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    false
}

/// A lease read of the probe register on `node`: the value, if served.
async fn lease_read(actor: &mut Actor, node: u64) -> Option<Option<u64>> {
    let key = LEASE_PROBE_KEY.to_owned();
    let mode = ReadMode::Lease;
    let op = Op::Read {
        key: key.clone(),
        mode,
    };
    let (operation, _) = actor
        .perform(node, op, &Call::Get { key, mode }, None)
        .await;
    match operation.outcome {
        Outcome::Ok(OkValue::Value { value, .. }) => Some(value),
        _ => None,
    }
}

/// Make `node`'s clock run at 2% speed until `stop`: every 50 ms its
/// offset goes back 49 ms (the core never sees time go back; it stands
/// nearly still).
fn slow_clock(shared: &Shared, node: u64, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    let addr = shared.client.endpoints().http(node);
    tokio::spawn(async move {
        let Some(addr) = addr else { return };
        let Ok(http) = reqwest::Client::builder()
            .timeout(Duration::from_millis(200))
            .build()
        else {
            return;
        };
        let url = format!("http://{addr}/admin/clock-offset");
        let mut offset: i64 = 0;
        while !stop.load(Ordering::Relaxed) {
            offset -= 49;
            let _ = http
                .post(&url)
                .json(&serde_json::json!({ "ms": offset }))
                .send()
                .await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

pub(super) async fn stale_lease_read(
    nemesis: &mut Nemesis<'_>,
    leader: u64,
    record: &mut FaultRecord,
) -> Result<(), ClusterError> {
    record.nodes = vec![leader];
    let shared = nemesis.shared.clone();
    let mut actor = Actor::new(shared.clone(), None);
    let before = shared.fresh_value();
    if !write_probe(&mut actor, leader, before).await {
        record.detail = format!("the first probe write on leader {leader} was not acknowledged");
        return Ok(());
    }
    let warm = lease_read(&mut actor, leader).await;
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = nemesis
        .skew
        .then(|| slow_clock(&shared, leader, Arc::clone(&stop)));
    // Let the slow clock take hold before the cut.
    tokio::time::sleep(Duration::from_millis(100)).await;
    isolate(nemesis, leader);
    let Some(new_leader) = nemesis.cluster.wait_leader(ELECTION, Some(leader)).await else {
        stop.store(true, Ordering::Relaxed);
        record.detail = format!("leader {leader} cut off, but no new leader was elected");
        return Ok(());
    };
    let after = shared.fresh_value();
    let overwritten = write_probe(&mut actor, new_leader, after).await;
    let mut reads = Vec::new();
    for _ in 0..3 {
        reads.push(lease_read(&mut actor, leader).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(ticker) = ticker {
        let _ = ticker.await;
    }
    // Back to real time: the old leader's lease and leadership lapse.
    let _ = nemesis.cluster.set_clock_offset(leader, 0).await;
    nemesis.cluster.network().heal();
    let stale = reads.iter().filter(|r| **r == Some(Some(before))).count();
    record.detail = format!(
        "probe {before} written on leader {leader} (lease read before the cut: {warm:?}); {} cut off; new leader {new_leader} wrote {after} (acknowledged: {overwritten}); lease reads on the old leader: {reads:?} ({stale} stale){}",
        if nemesis.skew { "its clock run slow and" } else { "it was" },
        if nemesis.skew { "" } else { "; no skew" },
    );
    Ok(())
}
