//! The abstract protocol: its initial condition and its transitions, each a
//! formula over a `pre` and a `post` `State` (`crate::state`).
//!
//! Communication is atomic: a step that in the real protocol is a message
//! exchange (a vote request and its grant, an append and its acknowledgement)
//! reads the other node's state directly. Every transition's parameters are
//! fresh constants, so asserting a transition formula means "some instance of
//! this step is taken".
//!
//! [`Step`] and [`Guard`] are plain enums, always built (the Z3-free
//! [`conformance`](crate::conformance) check names its transitions by them);
//! the formulas, `Protocol`, need the `z3` feature.

#[cfg(feature = "z3")]
use z3::ast::Bool;

#[cfg(feature = "z3")]
use crate::logic::{and, eq, forall, implies, ne, or, truth, var, Term};
#[cfg(feature = "z3")]
use crate::signature::Signature;
#[cfg(feature = "z3")]
use crate::state::State;

/// A kind of protocol step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// A node's failure detector fires: it moves to a higher epoch (and so
    /// stops leading); it will ask for votes in that epoch.
    AdvanceEpoch,
    /// A voter grants its vote in epoch `e` to a candidate in epoch `e`: at
    /// most one candidate per epoch, and only one whose last `(epoch, lsn)` is
    /// at least the voter's. The voter adopts the epoch.
    Vote,
    /// A candidate holding the votes of an election quorum in its epoch
    /// becomes that epoch's leader.
    BecomeLeader,
    /// The leader appends a client entry of its epoch after its last entry.
    Append,
    /// The leader ships one entry with its predecessor `(prev epoch, prev lsn)`;
    /// a follower whose log holds that predecessor accepts it (dropping any
    /// suffix that does not already hold the entry) and adopts the epoch.
    Replicate,
    /// A follower drops its log from a position whose entry the leader does
    /// not hold, and adopts the leader's epoch (divergence repair, fencing).
    Truncate,
    /// The leader commits (acknowledges) a prefix of its log ending in an
    /// entry of its own epoch, once every node of a commit quorum holds that
    /// entry and is still in the leader's epoch.
    Commit,
    /// A node crashes and restarts: volatile state (`leading`) is lost;
    /// epoch, votes and log are persisted before use and survive.
    CrashRestart,
}

impl Step {
    /// Every step, in the order the checks report them.
    pub const ALL: [Step; 8] = [
        Step::AdvanceEpoch,
        Step::Vote,
        Step::BecomeLeader,
        Step::Append,
        Step::Replicate,
        Step::Truncate,
        Step::Commit,
        Step::CrashRestart,
    ];
}

/// A guard of the protocol that a check may remove, to show that a theorem
/// depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Guard {
    /// [`Step::Vote`]: a voter grants at most one vote per epoch.
    SingleVotePerEpoch,
    /// [`Step::Vote`]: the candidate's last `(epoch, lsn)` is at least the
    /// voter's.
    CandidateUpToDate,
    /// [`Step::Replicate`]: the follower holds the entry's predecessor.
    PrevEntryMatches,
    /// [`Step::Commit`]: the entry that completes the commit is of the
    /// leader's own epoch (without it, the leader may count replicas of an
    /// older epoch's entry: Raft's "Figure 8" bug).
    CommitOwnEpochOnly,
}

/// The symbols a step may change; everything else is framed.
#[cfg(feature = "z3")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Symbol {
    CurrentEpoch,
    Voted,
    Leader,
    Leading,
    Log,
    Committed,
    Held,
}

/// The protocol over one signature, with some guards possibly removed.
#[cfg(feature = "z3")]
#[derive(Debug, Clone)]
pub struct Protocol<'a> {
    sig: &'a Signature,
    removed: Vec<Guard>,
}

#[cfg(feature = "z3")]
impl<'a> Protocol<'a> {
    /// The protocol as specified, minus the guards in `removed`.
    pub fn new(sig: &'a Signature, removed: &[Guard]) -> Self {
        Protocol {
            sig,
            removed: removed.to_vec(),
        }
    }

    /// A guard, or `true` when that guard was removed.
    fn guard(&self, which: Guard, formula: Bool) -> Bool {
        if self.removed.contains(&which) {
            truth()
        } else {
            formula
        }
    }

    /// The initial condition: every node in epoch zero with only the root
    /// entry, no votes, no leaders, nothing committed.
    pub fn init(&self, s: &State) -> Bool {
        let sig = self.sig;
        let (n, c) = (var("n", &sig.node), var("c", &sig.node));
        let (e, x) = (var("e", &sig.epoch), var("x", &sig.epoch));
        let i = var("i", &sig.lsn);
        and(&[
            forall(&[&n], eq(&s.epoch_of(&n), &sig.epoch_zero)),
            forall(&[&n, &e, &c], s.voted.holds(&[&n, &e, &c]).not()),
            forall(&[&n, &e], s.leader.holds(&[&n, &e]).not()),
            forall(&[&n], s.leading.holds(&[&n]).not()),
            forall(
                &[&n, &i, &e],
                s.log
                    .holds(&[&n, &i, &e])
                    .iff(and(&[eq(&i, &sig.lsn_zero), eq(&e, &sig.epoch_zero)])),
            ),
            forall(&[&i, &x, &e], s.committed.holds(&[&i, &x, &e]).not()),
            forall(&[&n, &i, &x, &e], s.held.holds(&[&n, &i, &x, &e]).not()),
        ])
    }

    /// Some instance of `step` leads from `pre` to `post`.
    pub fn transition(&self, step: Step, pre: &State, post: &State) -> Bool {
        match step {
            Step::AdvanceEpoch => self.advance_epoch(pre, post),
            Step::Vote => self.vote(pre, post),
            Step::BecomeLeader => self.become_leader(pre, post),
            Step::Append => self.append(pre, post),
            Step::Replicate => self.replicate(pre, post),
            Step::Truncate => self.truncate(pre, post),
            Step::Commit => self.commit(pre, post),
            Step::CrashRestart => self.crash_restart(pre, post),
        }
    }

    /// `(i, e)` is the last entry of `n`'s log.
    pub fn is_last(&self, s: &State, n: &Term, i: &Term, e: &Term) -> Bool {
        let (j, y) = (var("j", &self.sig.lsn), var("y", &self.sig.epoch));
        and(&[
            s.log.holds(&[n, i, e]),
            forall(
                &[&j, &y],
                implies(s.log.holds(&[n, &j, &y]), self.sig.lsn_le(&j, i)),
            ),
        ])
    }

    fn advance_epoch(&self, pre: &State, post: &State) -> Bool {
        let sig = self.sig;
        let n = var("candidate", &sig.node);
        let e = var("new_epoch", &sig.epoch);
        let mut parts = vec![sig.epoch_lt(&pre.epoch_of(&n), &e)];
        parts.push(self.set_epoch(pre, post, &n, &e));
        parts.push(self.stop_leading(pre, post, &n));
        parts.extend(self.frame(pre, post, &[Symbol::CurrentEpoch, Symbol::Leading]));
        and(&parts)
    }

    fn vote(&self, pre: &State, post: &State) -> Bool {
        let sig = self.sig;
        let voter = var("voter", &sig.node);
        let candidate = var("candidate", &sig.node);
        let epoch = var("vote_epoch", &sig.epoch);
        let (voter_lsn, voter_epoch) = (
            var("voter_last_lsn", &sig.lsn),
            var("voter_last_epoch", &sig.epoch),
        );
        let (cand_lsn, cand_epoch) = (
            var("cand_last_lsn", &sig.lsn),
            var("cand_last_epoch", &sig.epoch),
        );
        let other = var("other", &sig.node);
        let (a, e, b) = (
            var("a", &sig.node),
            var("e", &sig.epoch),
            var("b", &sig.node),
        );
        let n = var("n", &sig.node);

        let mut parts = vec![
            sig.epoch_lt(&sig.epoch_zero, &epoch),
            sig.epoch_le(&pre.epoch_of(&voter), &epoch),
            eq(&pre.epoch_of(&candidate), &epoch),
            self.guard(
                Guard::SingleVotePerEpoch,
                forall(
                    &[&other],
                    implies(
                        pre.voted.holds(&[&voter, &epoch, &other]),
                        eq(&other, &candidate),
                    ),
                ),
            ),
            self.is_last(pre, &voter, &voter_lsn, &voter_epoch),
            self.is_last(pre, &candidate, &cand_lsn, &cand_epoch),
            self.guard(
                Guard::CandidateUpToDate,
                or(&[
                    sig.epoch_lt(&voter_epoch, &cand_epoch),
                    and(&[
                        eq(&voter_epoch, &cand_epoch),
                        sig.lsn_le(&voter_lsn, &cand_lsn),
                    ]),
                ]),
            ),
            forall(
                &[&a, &e, &b],
                post.voted.holds(&[&a, &e, &b]).iff(or(&[
                    pre.voted.holds(&[&a, &e, &b]),
                    and(&[eq(&a, &voter), eq(&e, &epoch), eq(&b, &candidate)]),
                ])),
            ),
            self.set_epoch(pre, post, &voter, &epoch),
            forall(
                &[&n],
                post.leading.holds(&[&n]).iff(and(&[
                    pre.leading.holds(&[&n]),
                    or(&[ne(&n, &voter), eq(&pre.epoch_of(&voter), &epoch)]),
                ])),
            ),
        ];
        parts.extend(self.frame(
            pre,
            post,
            &[Symbol::Voted, Symbol::CurrentEpoch, Symbol::Leading],
        ));
        and(&parts)
    }

    fn become_leader(&self, pre: &State, post: &State) -> Bool {
        let sig = self.sig;
        let candidate = var("candidate", &sig.node);
        let quorum = var("electors", &sig.election_quorum);
        let epoch = pre.epoch_of(&candidate);
        let (m, n, e) = (
            var("m", &sig.node),
            var("n", &sig.node),
            var("e", &sig.epoch),
        );
        let mut parts = vec![
            forall(
                &[&m],
                implies(
                    sig.in_election_quorum.holds(&[&m, &quorum]),
                    pre.voted.holds(&[&m, &epoch, &candidate]),
                ),
            ),
            forall(
                &[&n, &e],
                post.leader.holds(&[&n, &e]).iff(or(&[
                    pre.leader.holds(&[&n, &e]),
                    and(&[eq(&n, &candidate), eq(&e, &epoch)]),
                ])),
            ),
            forall(
                &[&n],
                post.leading
                    .holds(&[&n])
                    .iff(or(&[pre.leading.holds(&[&n]), eq(&n, &candidate)])),
            ),
        ];
        parts.extend(self.frame(pre, post, &[Symbol::Leader, Symbol::Leading]));
        and(&parts)
    }

    fn append(&self, pre: &State, post: &State) -> Bool {
        let sig = self.sig;
        let leader = var("leader", &sig.node);
        let position = var("new_lsn", &sig.lsn);
        let epoch = pre.epoch_of(&leader);
        let (n, i, e) = (
            var("n", &sig.node),
            var("i", &sig.lsn),
            var("e", &sig.epoch),
        );
        let (j, y) = (var("j", &sig.lsn), var("y", &sig.epoch));
        let mut parts = vec![
            pre.leading.holds(&[&leader]),
            forall(
                &[&j, &y],
                implies(pre.log.holds(&[&leader, &j, &y]), sig.lsn_lt(&j, &position)),
            ),
            forall(
                &[&n, &i, &e],
                post.log.holds(&[&n, &i, &e]).iff(or(&[
                    pre.log.holds(&[&n, &i, &e]),
                    and(&[eq(&n, &leader), eq(&i, &position), eq(&e, &epoch)]),
                ])),
            ),
        ];
        parts.extend(self.frame(pre, post, &[Symbol::Log]));
        and(&parts)
    }

    fn replicate(&self, pre: &State, post: &State) -> Bool {
        let sig = self.sig;
        let leader = var("leader", &sig.node);
        let follower = var("follower", &sig.node);
        let (lsn, entry_epoch) = (var("lsn", &sig.lsn), var("entry_epoch", &sig.epoch));
        let (prev_lsn, prev_epoch) = (var("prev_lsn", &sig.lsn), var("prev_epoch", &sig.epoch));
        let epoch = pre.epoch_of(&leader);
        let (n, i, e) = (
            var("n", &sig.node),
            var("i", &sig.lsn),
            var("e", &sig.epoch),
        );
        let (j, y) = (var("j", &sig.lsn), var("y", &sig.epoch));
        let follower_keeps = or(&[
            and(&[eq(&i, &lsn), eq(&e, &entry_epoch)]),
            and(&[
                pre.log.holds(&[&follower, &i, &e]),
                or(&[
                    sig.lsn_le(&i, &prev_lsn),
                    pre.log.holds(&[&follower, &lsn, &entry_epoch]),
                ]),
            ]),
        ]);
        let mut parts = vec![
            pre.leading.holds(&[&leader]),
            ne(&leader, &follower),
            sig.epoch_le(&pre.epoch_of(&follower), &epoch),
            pre.log.holds(&[&leader, &lsn, &entry_epoch]),
            pre.log.holds(&[&leader, &prev_lsn, &prev_epoch]),
            sig.lsn_lt(&prev_lsn, &lsn),
            forall(
                &[&j, &y],
                implies(
                    and(&[pre.log.holds(&[&leader, &j, &y]), sig.lsn_lt(&j, &lsn)]),
                    sig.lsn_le(&j, &prev_lsn),
                ),
            ),
            self.guard(
                Guard::PrevEntryMatches,
                pre.log.holds(&[&follower, &prev_lsn, &prev_epoch]),
            ),
            forall(
                &[&n, &i, &e],
                post.log
                    .holds(&[&n, &i, &e])
                    .iff(eq(&n, &follower).ite(&follower_keeps, &pre.log.holds(&[&n, &i, &e]))),
            ),
            self.set_epoch(pre, post, &follower, &epoch),
            self.stop_leading(pre, post, &follower),
        ];
        parts.extend(self.frame(
            pre,
            post,
            &[Symbol::Log, Symbol::CurrentEpoch, Symbol::Leading],
        ));
        and(&parts)
    }

    fn truncate(&self, pre: &State, post: &State) -> Bool {
        let sig = self.sig;
        let leader = var("leader", &sig.node);
        let follower = var("follower", &sig.node);
        let (from, stale_epoch) = (var("from_lsn", &sig.lsn), var("stale_epoch", &sig.epoch));
        let epoch = pre.epoch_of(&leader);
        let (n, i, e) = (
            var("n", &sig.node),
            var("i", &sig.lsn),
            var("e", &sig.epoch),
        );
        let mut parts = vec![
            pre.leading.holds(&[&leader]),
            ne(&leader, &follower),
            sig.epoch_le(&pre.epoch_of(&follower), &epoch),
            pre.log.holds(&[&follower, &from, &stale_epoch]),
            pre.log.holds(&[&leader, &from, &stale_epoch]).not(),
            forall(
                &[&n, &i, &e],
                post.log.holds(&[&n, &i, &e]).iff(and(&[
                    pre.log.holds(&[&n, &i, &e]),
                    or(&[ne(&n, &follower), sig.lsn_lt(&i, &from)]),
                ])),
            ),
            self.set_epoch(pre, post, &follower, &epoch),
            self.stop_leading(pre, post, &follower),
        ];
        parts.extend(self.frame(
            pre,
            post,
            &[Symbol::Log, Symbol::CurrentEpoch, Symbol::Leading],
        ));
        and(&parts)
    }

    fn commit(&self, pre: &State, post: &State) -> Bool {
        let sig = self.sig;
        let leader = var("leader", &sig.node);
        let quorum = var("acknowledgers", &sig.commit_quorum);
        let lsn = var("commit_lsn", &sig.lsn);
        let entry_epoch = var("commit_entry_epoch", &sig.epoch);
        let epoch = pre.epoch_of(&leader);
        let (m, i, x, e) = (
            var("m", &sig.node),
            var("i", &sig.lsn),
            var("x", &sig.epoch),
            var("e", &sig.epoch),
        );
        let newly = |i: &Term, x: &Term, e: &Term| {
            and(&[
                eq(e, &epoch),
                sig.lsn_le(i, &lsn),
                pre.log.holds(&[&leader, i, x]),
            ])
        };
        let mut parts = vec![
            pre.leading.holds(&[&leader]),
            pre.log.holds(&[&leader, &lsn, &entry_epoch]),
            self.guard(Guard::CommitOwnEpochOnly, eq(&entry_epoch, &epoch)),
            forall(
                &[&m],
                implies(
                    sig.in_commit_quorum.holds(&[&m, &quorum]),
                    and(&[
                        pre.log.holds(&[&m, &lsn, &entry_epoch]),
                        eq(&pre.epoch_of(&m), &epoch),
                    ]),
                ),
            ),
            forall(
                &[&i, &x, &e],
                post.committed
                    .holds(&[&i, &x, &e])
                    .iff(or(&[pre.committed.holds(&[&i, &x, &e]), newly(&i, &x, &e)])),
            ),
            forall(
                &[&m, &i, &x, &e],
                post.held.holds(&[&m, &i, &x, &e]).iff(or(&[
                    pre.held.holds(&[&m, &i, &x, &e]),
                    and(&[
                        sig.in_commit_quorum.holds(&[&m, &quorum]),
                        newly(&i, &x, &e),
                    ]),
                ])),
            ),
        ];
        parts.extend(self.frame(pre, post, &[Symbol::Committed, Symbol::Held]));
        and(&parts)
    }

    fn crash_restart(&self, pre: &State, post: &State) -> Bool {
        let n = var("crashed", &self.sig.node);
        let mut parts = vec![self.stop_leading(pre, post, &n)];
        parts.extend(self.frame(pre, post, &[Symbol::Leading]));
        and(&parts)
    }

    /// `post.current_epoch = pre.current_epoch[n ↦ epoch]`.
    fn set_epoch(&self, pre: &State, post: &State, n: &Term, epoch: &Term) -> Bool {
        let m = var("m", &self.sig.node);
        forall(
            &[&m],
            eq(&post.epoch_of(&m), &eq(&m, n).ite(epoch, &pre.epoch_of(&m))),
        )
    }

    /// `post.leading = pre.leading \ {n}`.
    fn stop_leading(&self, pre: &State, post: &State, n: &Term) -> Bool {
        let m = var("m", &self.sig.node);
        forall(
            &[&m],
            post.leading
                .holds(&[&m])
                .iff(and(&[pre.leading.holds(&[&m]), ne(&m, n)])),
        )
    }

    /// Every symbol not in `changed` keeps its value.
    fn frame(&self, pre: &State, post: &State, changed: &[Symbol]) -> Vec<Bool> {
        let sig = self.sig;
        let (n, c) = (var("n", &sig.node), var("c", &sig.node));
        let (i, e, x) = (
            var("i", &sig.lsn),
            var("e", &sig.epoch),
            var("x", &sig.epoch),
        );
        let mut parts = Vec::new();
        let keep = |s: Symbol| !changed.contains(&s);
        if keep(Symbol::CurrentEpoch) {
            parts.push(forall(&[&n], eq(&post.epoch_of(&n), &pre.epoch_of(&n))));
        }
        if keep(Symbol::Voted) {
            parts.push(forall(
                &[&n, &e, &c],
                post.voted
                    .holds(&[&n, &e, &c])
                    .iff(pre.voted.holds(&[&n, &e, &c])),
            ));
        }
        if keep(Symbol::Leader) {
            parts.push(forall(
                &[&n, &e],
                post.leader
                    .holds(&[&n, &e])
                    .iff(pre.leader.holds(&[&n, &e])),
            ));
        }
        if keep(Symbol::Leading) {
            parts.push(forall(
                &[&n],
                post.leading.holds(&[&n]).iff(pre.leading.holds(&[&n])),
            ));
        }
        if keep(Symbol::Log) {
            parts.push(forall(
                &[&n, &i, &e],
                post.log
                    .holds(&[&n, &i, &e])
                    .iff(pre.log.holds(&[&n, &i, &e])),
            ));
        }
        if keep(Symbol::Committed) {
            parts.push(forall(
                &[&i, &x, &e],
                post.committed
                    .holds(&[&i, &x, &e])
                    .iff(pre.committed.holds(&[&i, &x, &e])),
            ));
        }
        if keep(Symbol::Held) {
            parts.push(forall(
                &[&n, &i, &x, &e],
                post.held
                    .holds(&[&n, &i, &x, &e])
                    .iff(pre.held.holds(&[&n, &i, &x, &e])),
            ));
        }
        parts
    }
}
