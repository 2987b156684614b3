//! The nemesis: runs the schedule's steps against the cluster, one at a
//! time, heals each and waits for recovery, and records what it did and
//! when (the intervals shaded in the latency graph).

mod targeted;

use crate::cluster::{Cluster, ClusterError};
use crate::proxy::Action;
use crate::schedule::{Fault, PartitionShape, Step};
use crate::torn::{self, TornCut};
use crate::workload::Shared;
use rand::rngs::StdRng;
use serde::Serialize;
use std::collections::BTreeSet;
use std::time::Duration;

/// How long the cluster may take to recover after a step is healed.
const RECOVERY: Duration = Duration::from_secs(20);

/// One fault as it happened.
#[derive(Clone, Debug, Serialize)]
pub struct FaultRecord {
    /// Its place in the schedule.
    pub step: usize,
    /// What was scheduled.
    pub fault: Fault,
    /// The nodes it hit.
    pub nodes: Vec<u64>,
    /// When it started, seconds since the start of the run.
    pub start: f64,
    /// When it was healed, seconds since the start of the run.
    pub end: f64,
    /// What happened, in a sentence.
    pub detail: String,
    /// Whether the cluster recovered (a leader every node follows) in time
    /// after the heal.
    pub recovered: bool,
    /// The torn WAL tail, if one was cut.
    pub torn: Option<TornCut>,
    /// Whether the restarted node reported cutting the torn tail.
    pub torn_reported: Option<bool>,
    /// Whether this step was skipped (no leader, nobody to pick), and why.
    pub skipped: Option<String>,
    /// When the cluster did not recover in time: every member's
    /// `GET /status` (or null) at that moment, for diagnosis.
    pub stuck_status: Vec<serde_json::Value>,
}

impl FaultRecord {
    fn new(step: usize, fault: Fault, start: f64) -> FaultRecord {
        FaultRecord {
            step,
            fault,
            nodes: Vec::new(),
            start,
            end: start,
            detail: String::new(),
            recovered: false,
            torn: None,
            torn_reported: None,
            skipped: None,
            stuck_status: Vec::new(),
        }
    }
}

/// Runs steps against a cluster.
pub struct Nemesis<'a> {
    cluster: &'a mut Cluster,
    shared: Shared,
    rng: StdRng,
    /// `--skew`: the stale-lease step runs the old leader's clock slow
    /// past the drift bound.
    skew: bool,
}

impl<'a> Nemesis<'a> {
    /// A nemesis for `cluster`, recording its own operations (targeted
    /// faults write and read) through `shared`.
    pub fn new(cluster: &'a mut Cluster, shared: Shared, rng: StdRng, skew: bool) -> Nemesis<'a> {
        Nemesis {
            cluster,
            shared,
            rng,
            skew,
        }
    }

    fn now(&self) -> f64 {
        self.shared.recorder.elapsed().as_secs_f64()
    }

    /// Run step `index`, heal it and wait for recovery.
    pub async fn run(&mut self, index: usize, step: &Step) -> FaultRecord {
        let mut record = FaultRecord::new(index, step.fault, self.now());
        let hold = Duration::from_millis(step.hold_ms);
        let result = match self.cluster.wait_leader(RECOVERY, None).await {
            None => {
                record.skipped = Some("no leader".into());
                Ok(())
            }
            Some(leader) => self.inject(leader, step.fault, hold, &mut record).await,
        };
        if let Err(e) = result {
            record.detail = format!("{} (failed: {e})", record.detail);
        }
        // Whatever happened, leave no fault behind.
        self.cluster.network().heal();
        if let Err(e) = self.cluster.revive_all() {
            record.detail = format!("{} (revive failed: {e})", record.detail);
        }
        record.end = self.now();
        record.recovered = self.cluster.wait_converged(RECOVERY).await.is_some();
        if !record.recovered {
            for node in self.cluster.nodes() {
                let status = self.cluster.status(node).await;
                record
                    .stuck_status
                    .push(status.unwrap_or(serde_json::Value::Null));
            }
        }
        if record.torn.is_some() {
            if let Some(&node) = record.nodes.first() {
                let log = self.cluster.log_path(node).map(|p| p.to_owned());
                record.torn_reported = Some(log.is_ok_and(|log| torn::reported(&log)));
            }
        }
        record
    }

    /// The followers that are up, ascending.
    async fn followers(&mut self, leader: u64) -> Vec<u64> {
        self.cluster
            .up_nodes()
            .into_iter()
            .filter(|&id| id != leader)
            .collect()
    }

    async fn pick_follower(&mut self, leader: u64, pick: u32) -> Option<u64> {
        let followers = self.followers(leader).await;
        if followers.is_empty() {
            return None;
        }
        followers.get(pick as usize % followers.len()).copied()
    }

    async fn inject(
        &mut self,
        leader: u64,
        fault: Fault,
        hold: Duration,
        record: &mut FaultRecord,
    ) -> Result<(), ClusterError> {
        match fault {
            Fault::KillLeader { torn } => self.kill(leader, torn, hold, record).await,
            Fault::KillFollower { pick, torn } => match self.pick_follower(leader, pick).await {
                Some(node) => self.kill(node, torn, hold, record).await,
                None => skip(record, "no follower up"),
            },
            Fault::Pause {
                leader: on_leader,
                pick,
            } => {
                let node = if on_leader {
                    Some(leader)
                } else {
                    self.pick_follower(leader, pick).await
                };
                let Some(node) = node else {
                    return skip(record, "no follower up");
                };
                record.nodes = vec![node];
                self.cluster.pause(node)?;
                tokio::time::sleep(hold).await;
                self.cluster.resume(node)?;
                record.detail = format!("paused node {node} for {} ms", hold.as_millis());
                Ok(())
            }
            Fault::Partition { shape } => self.partition(leader, shape, hold, record).await,
            Fault::Transfer { pick } => {
                let Some(to) = self.pick_follower(leader, pick).await else {
                    return skip(record, "no follower up");
                };
                record.nodes = vec![leader, to];
                let answer = self
                    .cluster
                    .post(leader, &format!("/cluster/transfer/{to}"), None)
                    .await;
                tokio::time::sleep(hold).await;
                let now = self.cluster.leader().await;
                record.detail = match answer {
                    Ok(_) => format!("leadership {leader} -> {to} asked; leader now {now:?}"),
                    Err(e) => format!("transfer {leader} -> {to} refused: {e}"),
                };
                Ok(())
            }
            Fault::Membership { pick } => self.membership(leader, pick, record).await,
            Fault::ClockSkew { pick, ms } => {
                let node = if pick == 0 {
                    Some(leader)
                } else {
                    self.pick_follower(leader, pick).await
                };
                let Some(node) = node else {
                    return skip(record, "no follower up");
                };
                record.nodes = vec![node];
                self.cluster.set_clock_offset(node, ms).await?;
                tokio::time::sleep(hold).await;
                self.cluster.set_clock_offset(node, 0).await?;
                record.detail = format!("node {node}'s clock shifted by {ms} ms, then back");
                Ok(())
            }
            Fault::IsolateLeaderAndWrite { adds } => {
                targeted::isolate_and_write(self, leader, adds, hold, record).await
            }
            Fault::StaleLeaseRead => targeted::stale_lease_read(self, leader, record).await,
        }
    }

    async fn kill(
        &mut self,
        node: u64,
        tear: bool,
        hold: Duration,
        record: &mut FaultRecord,
    ) -> Result<(), ClusterError> {
        record.nodes = vec![node];
        // A torn tail models power loss on one machine at a time: only
        // while every other node is up and connected.
        let others_up = self.cluster.up_nodes().len() == self.cluster.nodes().len()
            && self.cluster.network().rules().is_healed();
        self.cluster.kill(node)?;
        tokio::time::sleep(hold).await;
        record.detail = format!(
            "kill -9 node {node}, restarted after {} ms",
            hold.as_millis()
        );
        if tear && others_up {
            let dir = self.cluster.data_dir(node)?.to_owned();
            match torn::tear(&dir, &mut self.rng) {
                Ok(Some(cut)) => {
                    record.detail.push_str(&format!(
                        "; WAL tail torn: a write under way after byte {} cut at byte {}",
                        cut.record_end, cut.cut_at
                    ));
                    record.torn = Some(cut);
                }
                Ok(None) => record.detail.push_str("; no record to tear"),
                Err(e) => record.detail.push_str(&format!("; tearing failed: {e}")),
            }
        } else if tear {
            record
                .detail
                .push_str("; not torn: another node was down or partitioned");
        }
        self.cluster.spawn(node)
    }

    async fn partition(
        &mut self,
        leader: u64,
        shape: PartitionShape,
        hold: Duration,
        record: &mut FaultRecord,
    ) -> Result<(), ClusterError> {
        let all: BTreeSet<u64> = self.cluster.nodes().into_iter().collect();
        let network = self.cluster.network().clone();
        let detail = match shape {
            PartitionShape::LeaderMinority => {
                let alone = BTreeSet::from([leader]);
                let rest = &all - &alone;
                network.update(|rules| rules.between(&alone, &rest, Action::Cut));
                record.nodes = vec![leader];
                format!("leader {leader} cut off from {rest:?}")
            }
            PartitionShape::FollowerMinority { pick } => {
                let Some(node) = self.pick_follower(leader, pick).await else {
                    return skip(record, "no follower up");
                };
                let alone = BTreeSet::from([node]);
                let rest = &all - &alone;
                network.update(|rules| rules.between(&alone, &rest, Action::Cut));
                record.nodes = vec![node];
                format!("follower {node} cut off from {rest:?}")
            }
            PartitionShape::Bridge { pick } => {
                let Some(bridge) = self.pick_follower(leader, pick).await else {
                    return skip(record, "no follower up");
                };
                // The leader's side and the other side, the bridge in
                // neither: it hears both.
                let others: Vec<u64> = all
                    .iter()
                    .copied()
                    .filter(|&n| n != bridge && n != leader)
                    .collect();
                let half = others.len() / 2;
                let mut side: BTreeSet<u64> = others[..half].iter().copied().collect();
                side.insert(leader);
                let other: BTreeSet<u64> = others[half..].iter().copied().collect();
                network.update(|rules| rules.between(&side, &other, Action::Drop));
                record.nodes = vec![bridge];
                format!("{side:?} and {other:?} do not hear each other; node {bridge} bridges them")
            }
            PartitionShape::OneWay { pick, from_leader } => {
                let Some(node) = self.pick_follower(leader, pick).await else {
                    return skip(record, "no follower up");
                };
                let (from, to) = if from_leader {
                    (leader, node)
                } else {
                    (node, leader)
                };
                network.update(|rules| rules.set(from, to, Action::Drop));
                record.nodes = vec![from, to];
                format!("frames {from} -> {to} dropped (one way)")
            }
            PartitionShape::Slow { pick, ms } => {
                let Some(node) = self.pick_follower(leader, pick).await else {
                    return skip(record, "no follower up");
                };
                network.update(|rules| {
                    rules.set(leader, node, Action::Delay { ms });
                    rules.set(node, leader, Action::Delay { ms });
                });
                record.nodes = vec![leader, node];
                format!("frames between {leader} and {node} delayed {ms} ms both ways")
            }
        };
        tokio::time::sleep(hold).await;
        network.heal();
        record.detail = format!("{detail}, healed after {} ms", hold.as_millis());
        Ok(())
    }

    async fn membership(
        &mut self,
        leader: u64,
        pick: u32,
        record: &mut FaultRecord,
    ) -> Result<(), ClusterError> {
        let added = self.cluster.add_voter(leader, RECOVERY).await?;
        let leader = self
            .cluster
            .wait_leader(RECOVERY, None)
            .await
            .ok_or_else(|| ClusterError::Request("no leader after adding a voter".into()))?;
        let candidates: Vec<u64> = self
            .followers(leader)
            .await
            .into_iter()
            .filter(|&id| id != added)
            .collect();
        let Some(&removed) = candidates.get(pick as usize % candidates.len().max(1)) else {
            record.nodes = vec![added];
            record.detail = format!("node {added} added and promoted; no follower to remove");
            return Ok(());
        };
        self.cluster.remove_voter(leader, removed, RECOVERY).await?;
        record.nodes = vec![added, removed];
        record.detail =
            format!("node {added} joined, caught up and was promoted; node {removed} removed");
        Ok(())
    }
}

fn skip(record: &mut FaultRecord, why: &str) -> Result<(), ClusterError> {
    record.skipped = Some(why.to_owned());
    Ok(())
}
