//! The conformance check proper: after every concrete step of a simulated
//! cluster, explain the change of every node as a bounded sequence of model
//! transitions whose guards hold.
//!
//! # Composition
//!
//! One concrete step (one `Cluster::step()`: a message delivery or the due
//! timers, with every resulting output performed; or one operator action:
//! propose, crash, restart, partition) may change several nodes (only due
//! timers do: each fires on its own node) and, on one node, take several
//! model steps. Nodes are explained one after another in id order; for one
//! node the sequence is fixed by [`plan`], in this order, each part present
//! only when the observed change calls for it:
//!
//! 1. `CrashRestart(n)` — `n` stopped leading without changing epoch
//!    (crash, check-quorum step-down);
//! 2. `AdvanceEpoch(n, e)` and/or `Vote(n, c, e)` — a new epoch and/or a
//!    new vote (a campaign is `AdvanceEpoch` then `Vote(n, n, e)`; a vote for
//!    another node adopts its epoch by itself);
//! 3. `BecomeLeader(n)`;
//! 4. the log change from its first differing lsn: `Append` per new entry
//!    on a leader (a new leader's no-op, a proposal); `Replicate` per new
//!    entry on a follower (the first one drops the conflicting suffix, as the
//!    model's `Replicate` does); `Truncate` if entries only disappeared;
//! 5. `Commit(n, k)` — a leader's commit point advanced to `k`.
//!
//! Each transition's guards are checked in the state the previous one left;
//! at the end the model state must agree exactly with the observed node.
//! A follower's commit point is not part of the model (it learns commits);
//! it changes nothing abstract.

use std::fmt;

use steadfast::{Lsn, NodeId};
use steadfast_sim::harness::Cluster;

use super::sent::{Reading, Sent};
use super::state::{observe, unpersisted, AbstractState, NodeView, Observation, Quorums};
use super::theorems;
use super::transition::{GuardFailure, Transition};

/// A concrete step the model does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The planned transition's guard fails under both readings.
    Guard {
        /// The transition that had to be taken.
        transition: Transition,
        /// The guard that fails as the model states it.
        strict: GuardFailure,
        /// The guard that fails even against the senders' states as sent.
        as_sent: GuardFailure,
    },
    /// No sequence of transitions of the fixed shape reaches the observed
    /// node (e.g. a leader's log lost entries).
    Unexplained(String),
    /// A running replica acted on state its host had not made durable.
    Unpersisted(String),
    /// The step was explained, but one of the three theorems fails in the
    /// resulting abstract state (possible only after an as-sent step).
    Theorem(String),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Guard {
                transition,
                strict,
                as_sent,
            } => write!(
                f,
                "{transition} is not a model step: strictly, {strict}; as sent, {as_sent}"
            ),
            Rejection::Unexplained(why) => write!(f, "no model steps explain the change: {why}"),
            Rejection::Unpersisted(why) => write!(f, "state used before it was durable: {why}"),
            Rejection::Theorem(why) => write!(f, "a theorem fails after the step: {why}"),
        }
    }
}

/// The model transitions one concrete step was explained by.
pub type Explanation = Vec<(Transition, Reading)>;

/// Follows one simulated cluster, keeping the abstract state (with its ghost
/// history) in step with it.
#[derive(Debug, Clone)]
pub struct Conformance {
    quorums: Quorums,
    state: AbstractState,
    sent: Sent,
    view: Observation,
}

impl Conformance {
    /// Start following `cluster`, which must be in the model's initial state.
    pub fn new(cluster: &Cluster) -> Result<Conformance, Rejection> {
        let quorums = Quorums::of(cluster);
        let view = observe(cluster, &quorums);
        Conformance::from_observation(quorums, view)
    }

    /// Start following a cluster seen only through its views (one per
    /// voter of `quorums`), which must be the model's initial state: for
    /// hosts other than the simulator, such as recorded traces.
    pub fn from_observation(quorums: Quorums, view: Observation) -> Result<Conformance, Rejection> {
        let state = AbstractState::init(quorums.voters.iter().copied());
        for (&n, v) in &view {
            state
                .agrees_with(n, v)
                .map_err(|e| Rejection::Unexplained(format!("not in Init: {e}")))?;
        }
        let mut sent = Sent::default();
        for &n in &quorums.voters {
            sent.record(&state, n);
        }
        Ok(Conformance {
            quorums,
            state,
            sent,
            view,
        })
    }

    /// The views of the last step explained.
    pub fn observation(&self) -> &Observation {
        &self.view
    }

    /// Not a model step: `node` lost the entries of its log after
    /// `keep_through` that its host had not made durable when it crashed
    /// (its replica had used them, as the core allows, for nothing that
    /// needs them durable). The abstract log and view drop them; the
    /// senders' history keeps what the node could have sent. The caller
    /// says when this may be assumed (see `traces`).
    pub fn forget_unpersisted(&mut self, node: NodeId, keep_through: Lsn) {
        if let Some(log) = self.state.log.get_mut(&node) {
            log.retain(|&lsn, _| lsn <= keep_through);
        }
        if let Some(view) = self.view.get_mut(&node) {
            view.log.retain(|&lsn, _| lsn <= keep_through);
        }
    }

    /// The abstract state so far.
    pub fn state(&self) -> &AbstractState {
        &self.state
    }

    /// The quorum sizes of the finite instance.
    pub fn quorums(&self) -> &Quorums {
        &self.quorums
    }

    /// Explain the cluster's change since the last call (or since [`new`]).
    /// On a rejection the abstract state is left as it was before the step.
    ///
    /// [`new`]: Conformance::new
    pub fn check_step(&mut self, cluster: &Cluster) -> Result<Explanation, Rejection> {
        if let Some(why) = unpersisted(cluster) {
            return Err(Rejection::Unpersisted(why));
        }
        let observed = observe(cluster, &self.quorums);
        self.check_observation(observed)
    }

    /// Explain the change from the last views to `observed` (one view per
    /// voter), as [`check_step`](Conformance::check_step) does for a
    /// simulated cluster; the caller checks persistence before use its
    /// own way. On a rejection the abstract state is left as it was.
    pub fn check_observation(&mut self, observed: Observation) -> Result<Explanation, Rejection> {
        let mut state = self.state.clone();
        let mut sent = self.sent.clone();
        let mut explanation = Vec::new();
        for (&n, view) in &observed {
            let Some(before) = self.view.get(&n) else {
                return Err(Rejection::Unexplained(format!("{n} appeared")));
            };
            if view == before {
                continue;
            }
            for t in plan(&state, n, before, view).map_err(Rejection::Unexplained)? {
                let (post, reading) = take(&state, &self.quorums, &sent, t)?;
                if let Transition::Vote {
                    voter,
                    candidate,
                    epoch,
                } = t
                {
                    if voter == candidate {
                        sent.record_campaign(&state, candidate, epoch);
                    }
                }
                state = post;
                sent.record(&state, n);
                explanation.push((t, reading));
            }
            state.agrees_with(n, view).map_err(Rejection::Unexplained)?;
        }
        theorems::check_all(&state).map_err(Rejection::Theorem)?;
        self.state = state;
        self.sent = sent;
        self.view = observed;
        Ok(explanation)
    }
}

/// Take `t` strictly if its guards hold, else as sent, else reject.
fn take(
    state: &AbstractState,
    quorums: &Quorums,
    sent: &Sent,
    t: Transition,
) -> Result<(AbstractState, Reading), Rejection> {
    match t.apply(state, quorums, sent, Reading::Strict) {
        Ok(post) => Ok((post, Reading::Strict)),
        Err(strict) => match t.apply(state, quorums, sent, Reading::AsSent) {
            Ok(post) => Ok((post, Reading::AsSent)),
            Err(as_sent) => Err(Rejection::Guard {
                transition: t,
                strict,
                as_sent,
            }),
        },
    }
}

/// The fixed-shape sequence of transitions (see the module docs) that should
/// take node `n` from `state` to `after`; `before` is its previous view.
pub fn plan(
    state: &AbstractState,
    n: NodeId,
    before: &NodeView,
    after: &NodeView,
) -> Result<Vec<Transition>, String> {
    let mut steps = Vec::new();
    let was_leading = state.leading.contains(&n);
    let epoch = state.epoch(n);
    if was_leading && !after.leading && after.epoch == epoch {
        steps.push(Transition::CrashRestart { node: n });
    }
    let new_vote = after
        .vote
        .filter(|&c| !state.voted.contains(&(n, after.epoch, c)));
    match new_vote {
        Some(c) => {
            if c == n && after.epoch > epoch {
                steps.push(Transition::AdvanceEpoch {
                    node: n,
                    epoch: after.epoch,
                });
            }
            steps.push(Transition::Vote {
                voter: n,
                candidate: c,
                epoch: after.epoch,
            });
        }
        None if after.epoch != epoch => steps.push(Transition::AdvanceEpoch {
            node: n,
            epoch: after.epoch,
        }),
        None => {}
    }
    if after.leading && !(was_leading && after.epoch == epoch) {
        steps.push(Transition::BecomeLeader { candidate: n });
    }
    let old = state.log_of(n);
    let first_difference = old
        .keys()
        .chain(after.log.keys())
        .copied()
        .filter(|l| old.get(l) != after.log.get(l))
        .min();
    if let Some(from) = first_difference {
        let added: Vec<_> = after.log.range(from..).map(|(l, e)| (*l, *e)).collect();
        if after.leading {
            steps.extend(
                added
                    .iter()
                    .map(|&(lsn, _)| Transition::Append { leader: n, lsn }),
            );
        } else {
            let leader = state.leader_of(after.epoch).ok_or_else(|| {
                format!("{n}'s log changed in {}, which has no leader", after.epoch)
            })?;
            if added.is_empty() {
                steps.push(Transition::Truncate {
                    leader,
                    follower: n,
                    from,
                    epoch: after.epoch,
                });
            }
            steps.extend(
                added
                    .iter()
                    .map(|&(lsn, entry_epoch)| Transition::Replicate {
                        leader,
                        follower: n,
                        lsn,
                        entry_epoch,
                        epoch: after.epoch,
                    }),
            );
        }
    }
    if after.leading && after.commit > before.commit {
        steps.push(Transition::Commit {
            leader: n,
            lsn: after.commit,
        });
    }
    Ok(steps)
}
