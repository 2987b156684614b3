//! The verified model's transition relation, executable on finite states.
//!
//! Each [`Transition`] is one instance of a step of `proofs/src/protocol.rs`
//! with its existentially quantified parameters made explicit;
//! [`Transition::apply`] checks that step's guards and computes its effect,
//! exactly as the corresponding `Protocol` function states them (cited on
//! each variant). [`allowed`] decides whether `post` follows from `pre` by
//! one transition.

use std::collections::BTreeSet;
use std::fmt;

use steadfast::{Epoch, Lsn, NodeId};

use super::sent::{Reading, Sent};
use super::state::{AbstractLog, AbstractState, Quorums};
use crate::protocol::Step;

/// One instance of a model step, or a stutter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// No abstract change (`pre = post`).
    Stutter,
    /// `Protocol::advance_epoch`: `current(n) < epoch`; `n` adopts `epoch`
    /// and stops leading.
    AdvanceEpoch {
        /// The node.
        node: NodeId,
        /// Its new epoch.
        epoch: Epoch,
    },
    /// `Protocol::vote`: `0 < epoch`, `current(voter) ≤ epoch =
    /// current(candidate)`, no other vote by `voter` in `epoch`
    /// (`Guard::SingleVotePerEpoch`), the candidate's last `(epoch, lsn)` is
    /// at least the voter's (`Guard::CandidateUpToDate`).
    Vote {
        /// Who grants the vote.
        voter: NodeId,
        /// Who receives it.
        candidate: NodeId,
        /// The election's epoch.
        epoch: Epoch,
    },
    /// `Protocol::become_leader`: an election quorum voted for `candidate`
    /// in `current(candidate)`.
    BecomeLeader {
        /// The winner.
        candidate: NodeId,
    },
    /// `Protocol::append`: `leading(leader)`, `lsn` above every lsn of its
    /// log; adds `(lsn, current(leader))`.
    Append {
        /// The leader.
        leader: NodeId,
        /// The new entry's position.
        lsn: Lsn,
    },
    /// `Protocol::replicate`: the leader of `epoch` ships `(lsn,
    /// entry_epoch)` with its predecessor; the follower holds that
    /// predecessor (`Guard::PrevEntryMatches`), keeps or drops its suffix,
    /// gains the entry and adopts `epoch`. Under [`Reading::Strict`],
    /// `epoch = current(leader)` and `leading(leader)`.
    Replicate {
        /// The sender.
        leader: NodeId,
        /// The receiver.
        follower: NodeId,
        /// The entry's lsn.
        lsn: Lsn,
        /// The entry's epoch.
        entry_epoch: Epoch,
        /// The epoch the leader ships in.
        epoch: Epoch,
    },
    /// `Protocol::truncate`: the follower drops every entry from `from` on,
    /// where it holds an entry the leader of `epoch` does not.
    Truncate {
        /// The leader.
        leader: NodeId,
        /// The follower.
        follower: NodeId,
        /// First lsn dropped.
        from: Lsn,
        /// The leader's epoch.
        epoch: Epoch,
    },
    /// `Protocol::commit`: `leading(leader)`, it holds `(lsn, x)` with `x =
    /// current(leader)` (`Guard::CommitOwnEpochOnly`), and a commit quorum
    /// holds `(lsn, x)` in `current(leader)`; every entry of the leader's log
    /// up to `lsn` becomes committed.
    Commit {
        /// The leader.
        leader: NodeId,
        /// The new commit point.
        lsn: Lsn,
    },
    /// `Protocol::crash_restart`: `node` stops leading. The model has no
    /// separate voluntary step-down; its effect is the same.
    CrashRestart {
        /// The node.
        node: NodeId,
    },
}

impl Transition {
    /// The model step this instantiates (`None` for a stutter).
    pub fn step(&self) -> Option<Step> {
        Some(match self {
            Transition::Stutter => return None,
            Transition::AdvanceEpoch { .. } => Step::AdvanceEpoch,
            Transition::Vote { .. } => Step::Vote,
            Transition::BecomeLeader { .. } => Step::BecomeLeader,
            Transition::Append { .. } => Step::Append,
            Transition::Replicate { .. } => Step::Replicate,
            Transition::Truncate { .. } => Step::Truncate,
            Transition::Commit { .. } => Step::Commit,
            Transition::CrashRestart { .. } => Step::CrashRestart,
        })
    }

    /// The step's name, as in [`Step`]'s `Debug` (or `Stutter`).
    pub fn name(&self) -> String {
        self.step()
            .map_or_else(|| "Stutter".to_string(), |s| format!("{s:?}"))
    }

    /// Check the guards in `pre` and return the post state, or the guard
    /// that failed. Guards that read another node's state are evaluated as
    /// `reading` says; everything else is exactly the model's.
    pub fn apply(
        &self,
        pre: &AbstractState,
        quorums: &Quorums,
        sent: &Sent,
        reading: Reading,
    ) -> Result<AbstractState, GuardFailure> {
        let strict = reading == Reading::Strict;
        let mut post = pre.clone();
        match *self {
            Transition::Stutter => {}
            Transition::AdvanceEpoch { node, epoch } => {
                require(pre.epoch(node) < epoch, "current(n) < e")?;
                post.current_epoch.insert(node, epoch);
                post.leading.remove(&node);
            }
            Transition::Vote {
                voter,
                candidate,
                epoch,
            } => {
                require(Epoch(0) < epoch, "epoch_zero < e")?;
                require(pre.epoch(voter) <= epoch, "current(voter) ≤ e")?;
                let cand_last = if strict {
                    require(pre.epoch(candidate) == epoch, "current(candidate) = e")?;
                    pre.last(candidate)
                } else {
                    require(
                        pre.voted.contains(&(candidate, epoch, candidate)),
                        "candidate campaigned in e",
                    )?;
                    *sent
                        .campaign_last
                        .get(&(candidate, epoch))
                        .ok_or(GuardFailure("candidate's request was recorded"))?
                };
                require(
                    pre.voted
                        .iter()
                        .all(|&(m, e, c)| m != voter || e != epoch || c == candidate),
                    "SingleVotePerEpoch",
                )?;
                require(pre.last(voter) <= cand_last, "CandidateUpToDate")?;
                post.voted.insert((voter, epoch, candidate));
                post.current_epoch.insert(voter, epoch);
                if pre.epoch(voter) != epoch {
                    post.leading.remove(&voter);
                }
            }
            Transition::BecomeLeader { candidate } => {
                let epoch = pre.epoch(candidate);
                let electors = quorums
                    .voters
                    .iter()
                    .filter(|&&m| pre.voted.contains(&(m, epoch, candidate)))
                    .count();
                require(
                    electors >= quorums.election,
                    "an election quorum voted for c",
                )?;
                post.leader.insert((candidate, epoch));
                post.leading.insert(candidate);
            }
            Transition::Append { leader, lsn } => {
                require(pre.leading.contains(&leader), "leading(l)")?;
                require(
                    pre.log_of(leader).keys().all(|&j| j < lsn),
                    "p above every lsn of l",
                )?;
                let epoch = pre.epoch(leader);
                post.log.entry(leader).or_default().insert(lsn, epoch);
            }
            Transition::Replicate {
                leader,
                follower,
                lsn,
                entry_epoch,
                epoch,
            } => {
                let leader_log = leader_log(pre, sent, leader, epoch, reading)?;
                require(leader != follower, "l ≠ f")?;
                require(pre.epoch(follower) <= epoch, "current(f) ≤ current(l)")?;
                require(leader_log.get(&lsn) == Some(&entry_epoch), "l holds (p, x)")?;
                let (&prev_lsn, &prev_epoch) = leader_log
                    .range(..lsn)
                    .next_back()
                    .ok_or(GuardFailure("l holds a predecessor of p"))?;
                require(
                    pre.holds(follower, prev_lsn, prev_epoch),
                    "PrevEntryMatches",
                )?;
                let already = pre.holds(follower, lsn, entry_epoch);
                let log = post.log.entry(follower).or_default();
                if !already {
                    log.retain(|&i, _| i <= prev_lsn);
                }
                log.insert(lsn, entry_epoch);
                post.current_epoch.insert(follower, epoch);
                post.leading.remove(&follower);
            }
            Transition::Truncate {
                leader,
                follower,
                from,
                epoch,
            } => {
                let leader_log = leader_log(pre, sent, leader, epoch, reading)?;
                require(leader != follower, "l ≠ f")?;
                require(pre.epoch(follower) <= epoch, "current(f) ≤ current(l)")?;
                let stale = pre
                    .log_of(follower)
                    .get(&from)
                    .copied()
                    .ok_or(GuardFailure("f holds an entry at t"))?;
                require(
                    leader_log.get(&from) != Some(&stale),
                    "l does not hold (t, z)",
                )?;
                post.log
                    .entry(follower)
                    .or_default()
                    .retain(|&i, _| i < from);
                post.current_epoch.insert(follower, epoch);
                post.leading.remove(&follower);
            }
            Transition::Commit { leader, lsn } => {
                require(pre.leading.contains(&leader), "leading(l)")?;
                let epoch = pre.epoch(leader);
                let entry_epoch = pre
                    .log_of(leader)
                    .get(&lsn)
                    .copied()
                    .ok_or(GuardFailure("l holds (k, x)"))?;
                require(entry_epoch == epoch, "CommitOwnEpochOnly")?;
                let holders: BTreeSet<NodeId> = quorums
                    .voters
                    .iter()
                    .copied()
                    .filter(|&m| {
                        if strict {
                            pre.holds(m, lsn, entry_epoch) && pre.epoch(m) == epoch
                        } else {
                            sent.held_in_epoch
                                .get(&(m, epoch))
                                .is_some_and(|h| h.contains(&(lsn, entry_epoch)))
                        }
                    })
                    .collect();
                require(
                    holders.len() >= quorums.commit,
                    "a commit quorum holds (k, x) in current(l)",
                )?;
                for (&i, &y) in pre.log_of(leader).range(..=lsn) {
                    post.committed.insert((i, y, epoch));
                    for &m in &holders {
                        post.held.insert((m, i, y, epoch));
                    }
                }
            }
            Transition::CrashRestart { node } => {
                post.leading.remove(&node);
            }
        }
        Ok(post)
    }

    /// The node whose state this transition changes (none for a stutter).
    pub fn touches(&self) -> Option<NodeId> {
        match *self {
            Transition::Stutter => None,
            Transition::AdvanceEpoch { node, .. } | Transition::CrashRestart { node } => Some(node),
            Transition::Vote { voter, .. } => Some(voter),
            Transition::BecomeLeader { candidate } => Some(candidate),
            Transition::Append { leader, .. } | Transition::Commit { leader, .. } => Some(leader),
            Transition::Replicate { follower, .. } | Transition::Truncate { follower, .. } => {
                Some(follower)
            }
        }
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Transition::Stutter => write!(f, "Stutter"),
            Transition::AdvanceEpoch { node, epoch } => write!(f, "AdvanceEpoch({node}, {epoch})"),
            Transition::Vote {
                voter,
                candidate,
                epoch,
            } => write!(f, "Vote({voter} → {candidate}, {epoch})"),
            Transition::BecomeLeader { candidate } => write!(f, "BecomeLeader({candidate})"),
            Transition::Append { leader, lsn } => write!(f, "Append({leader}, {lsn})"),
            Transition::Replicate {
                leader,
                follower,
                lsn,
                entry_epoch,
                epoch,
            } => write!(
                f,
                "Replicate({leader} → {follower}, {}@{}, in {epoch})",
                lsn.0, entry_epoch.0
            ),
            Transition::Truncate {
                leader,
                follower,
                from,
                epoch,
            } => write!(
                f,
                "Truncate({leader} → {follower}, from {from}, in {epoch})"
            ),
            Transition::Commit { leader, lsn } => write!(f, "Commit({leader}, {lsn})"),
            Transition::CrashRestart { node } => write!(f, "CrashRestart({node})"),
        }
    }
}

/// The guard of a transition that does not hold, named as in `proofs/model.md`
/// (or as the [`crate::protocol::Guard`] that can remove it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GuardFailure(pub &'static str);

impl fmt::Display for GuardFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "guard `{}` does not hold", self.0)
    }
}

fn require(holds: bool, guard: &'static str) -> Result<(), GuardFailure> {
    if holds {
        Ok(())
    } else {
        Err(GuardFailure(guard))
    }
}

/// The leader's log a `Replicate` or `Truncate` reads: its current log if it
/// leads in `epoch` now (strict), or what it held while leading in `epoch`.
fn leader_log<'a>(
    pre: &'a AbstractState,
    sent: &'a Sent,
    leader: NodeId,
    epoch: Epoch,
    reading: Reading,
) -> Result<&'a AbstractLog, GuardFailure> {
    match reading {
        Reading::Strict => {
            require(pre.leading.contains(&leader), "leading(l)")?;
            require(pre.epoch(leader) == epoch, "current(f) := current(l)")?;
            Ok(pre.log_of(leader))
        }
        Reading::AsSent => {
            require(pre.leader.contains(&(leader, epoch)), "leader(l, e)")?;
            sent.leader_logs
                .get(&(leader, epoch))
                .ok_or(GuardFailure("l led in e"))
        }
    }
}

/// Does `post` follow from `pre` by one transition (or a stutter)? Returns
/// the first instance found, trying [`Reading::Strict`] before
/// [`Reading::AsSent`]. Candidate parameters are read off the difference
/// between the two states, so the search is exhaustive for every instance
/// that could produce `post`.
pub fn allowed(
    pre: &AbstractState,
    post: &AbstractState,
    quorums: &Quorums,
    sent: &Sent,
) -> Option<(Transition, Reading)> {
    let candidates = candidates(pre, post);
    for reading in [Reading::Strict, Reading::AsSent] {
        for t in &candidates {
            if t.apply(pre, quorums, sent, reading).as_ref() == Ok(post) {
                return Some((*t, reading));
            }
        }
    }
    None
}

/// Every transition instance that could turn `pre` into `post`.
fn candidates(pre: &AbstractState, post: &AbstractState) -> Vec<Transition> {
    let mut out = vec![Transition::Stutter];
    let nodes: Vec<NodeId> = post.current_epoch.keys().copied().collect();
    for &n in &nodes {
        let epoch = post.epoch(n);
        out.push(Transition::AdvanceEpoch { node: n, epoch });
        out.push(Transition::CrashRestart { node: n });
        out.push(Transition::BecomeLeader { candidate: n });
        for (&lsn, &x) in post.log_of(n) {
            if pre.log_of(n).get(&lsn) != Some(&x) {
                out.push(Transition::Append { leader: n, lsn });
                for &l in &nodes {
                    out.push(Transition::Replicate {
                        leader: l,
                        follower: n,
                        lsn,
                        entry_epoch: x,
                        epoch,
                    });
                }
            }
        }
        if let Some((&from, _)) = pre
            .log_of(n)
            .iter()
            .find(|(l, _)| !post.log_of(n).contains_key(l))
        {
            for &l in &nodes {
                out.push(Transition::Truncate {
                    leader: l,
                    follower: n,
                    from,
                    epoch,
                });
            }
        }
        for &lsn in post.log_of(n).keys() {
            out.push(Transition::Commit { leader: n, lsn });
        }
    }
    for &(voter, epoch, candidate) in post.voted.difference(&pre.voted) {
        out.push(Transition::Vote {
            voter,
            candidate,
            epoch,
        });
    }
    out
}
