//! The inductive invariants, as named conjuncts, and the three theorems'
//! invariants built from them.
//!
//! Each conjunct is a closed formula over one [`State`]. A theorem's
//! invariant is a list of conjuncts whose conjunction is inductive; the last
//! conjunct listed is the theorem's statement, the others are its lemmas.

use z3::ast::Bool;

use crate::logic::{and, eq, exists, forall, iff, implies, ne, var};
use crate::signature::Signature;
use crate::state::State;

/// One named conjunct of an inductive invariant.
#[derive(Debug, Clone, Copy)]
pub struct Conjunct {
    /// The lemma's name, as cited in the written proofs.
    pub name: &'static str,
    /// Builds the conjunct over a state.
    pub formula: fn(&Signature, &State) -> Bool,
}

macro_rules! conjuncts {
    ($($name:ident),* $(,)?) => {
        &[$(Conjunct { name: stringify!($name), formula: $name }),*]
    };
}

/// The invariant proving ElectionSafety.
pub const ELECTION_SAFETY: &[Conjunct] =
    conjuncts![one_vote_per_epoch, leader_has_vote_quorum, election_safety];

/// The invariant proving LogMatching.
pub const LOG_MATCHING: &[Conjunct] = conjuncts![
    one_vote_per_epoch,
    leader_has_vote_quorum,
    election_safety,
    no_votes_in_epoch_zero,
    leader_epoch_at_most_current,
    leading_is_current_leader,
    log_is_functional,
    entries_come_from_leaders,
    leader_holds_own_epoch,
    log_matching,
];

/// The invariant proving LeaderCompleteness (and with it NoLostAckedWrites).
pub const LEADER_COMPLETENESS: &[Conjunct] = conjuncts![
    one_vote_per_epoch,
    leader_has_vote_quorum,
    election_safety,
    no_votes_in_epoch_zero,
    votes_at_most_current,
    votes_go_to_nodes_at_or_past_epoch,
    leader_epoch_at_most_current,
    leading_is_current_leader,
    root_entry,
    log_is_functional,
    log_epochs_monotone,
    log_epochs_at_most_current,
    entries_come_from_leaders,
    leader_holds_own_epoch,
    epoch_runs_are_prefix_closed,
    log_matching,
    committed_within_epoch,
    committed_has_leader,
    committed_on_commit_quorum,
    held_is_committed,
    held_entry_is_kept,
    held_at_epoch,
    held_has_own_epoch_entry,
    committed_prefix_of_later_entries,
    voters_elect_complete_candidates,
    leader_completeness,
];

/// `leader(a, e) ∧ leader(b, e) ⇒ a = b`: at most one leader per epoch.
pub fn election_safety(sig: &Signature, s: &State) -> Bool {
    let (a, b, e) = (
        var("a", &sig.node),
        var("b", &sig.node),
        var("e", &sig.epoch),
    );
    forall(
        &[&a, &b, &e],
        implies(
            and(&[s.leader.holds(&[&a, &e]), s.leader.holds(&[&b, &e])]),
            eq(&a, &b),
        ),
    )
}

/// `voted(m, e, a) ∧ voted(m, e, b) ⇒ a = b`.
pub fn one_vote_per_epoch(sig: &Signature, s: &State) -> Bool {
    let (m, a, b) = (
        var("m", &sig.node),
        var("a", &sig.node),
        var("b", &sig.node),
    );
    let e = var("e", &sig.epoch);
    forall(
        &[&m, &e, &a, &b],
        implies(
            and(&[s.voted.holds(&[&m, &e, &a]), s.voted.holds(&[&m, &e, &b])]),
            eq(&a, &b),
        ),
    )
}

/// `leader(n, e) ⇒ ∃ q ∈ ElectionQuorum. ∀ m ∈ q. voted(m, e, n)`.
pub fn leader_has_vote_quorum(sig: &Signature, s: &State) -> Bool {
    let (n, m, e) = (
        var("n", &sig.node),
        var("m", &sig.node),
        var("e", &sig.epoch),
    );
    let q = var("q", &sig.election_quorum);
    forall(
        &[&n, &e],
        implies(
            s.leader.holds(&[&n, &e]),
            exists(
                &[&q],
                forall(
                    &[&m],
                    implies(
                        sig.in_election_quorum.holds(&[&m, &q]),
                        s.voted.holds(&[&m, &e, &n]),
                    ),
                ),
            ),
        ),
    )
}

/// No vote is ever cast in epoch zero (a candidate first moves past it).
pub fn no_votes_in_epoch_zero(sig: &Signature, s: &State) -> Bool {
    let (m, c) = (var("m", &sig.node), var("c", &sig.node));
    forall(&[&m, &c], s.voted.holds(&[&m, &sig.epoch_zero, &c]).not())
}

/// `voted(m, e, c) ⇒ e ≤ current_epoch(m)`.
pub fn votes_at_most_current(sig: &Signature, s: &State) -> Bool {
    let (m, c, e) = (
        var("m", &sig.node),
        var("c", &sig.node),
        var("e", &sig.epoch),
    );
    forall(
        &[&m, &e, &c],
        implies(
            s.voted.holds(&[&m, &e, &c]),
            sig.epoch_le(&e, &s.epoch_of(&m)),
        ),
    )
}

/// `voted(m, e, c) ⇒ e ≤ current_epoch(c)`: votes go to candidates already
/// in the epoch.
pub fn votes_go_to_nodes_at_or_past_epoch(sig: &Signature, s: &State) -> Bool {
    let (m, c, e) = (
        var("m", &sig.node),
        var("c", &sig.node),
        var("e", &sig.epoch),
    );
    forall(
        &[&m, &e, &c],
        implies(
            s.voted.holds(&[&m, &e, &c]),
            sig.epoch_le(&e, &s.epoch_of(&c)),
        ),
    )
}

/// `leader(n, e) ⇒ e ≤ current_epoch(n)`.
pub fn leader_epoch_at_most_current(sig: &Signature, s: &State) -> Bool {
    let (n, e) = (var("n", &sig.node), var("e", &sig.epoch));
    forall(
        &[&n, &e],
        implies(s.leader.holds(&[&n, &e]), sig.epoch_le(&e, &s.epoch_of(&n))),
    )
}

/// `leading(n) ⇒ leader(n, current_epoch(n))`.
pub fn leading_is_current_leader(sig: &Signature, s: &State) -> Bool {
    let n = var("n", &sig.node);
    forall(
        &[&n],
        implies(
            s.leading.holds(&[&n]),
            s.leader.holds(&[&n, &s.epoch_of(&n)]),
        ),
    )
}

/// Every log holds the root entry `(lsn_zero, epoch_zero)`, and epoch zero
/// has no other entry.
pub fn root_entry(sig: &Signature, s: &State) -> Bool {
    let (n, i) = (var("n", &sig.node), var("i", &sig.lsn));
    and(&[
        forall(&[&n], s.log.holds(&[&n, &sig.lsn_zero, &sig.epoch_zero])),
        forall(
            &[&n, &i],
            implies(
                s.log.holds(&[&n, &i, &sig.epoch_zero]),
                eq(&i, &sig.lsn_zero),
            ),
        ),
    ])
}

/// A log holds at most one entry per position.
pub fn log_is_functional(sig: &Signature, s: &State) -> Bool {
    let (n, i) = (var("n", &sig.node), var("i", &sig.lsn));
    let (e, y) = (var("e", &sig.epoch), var("y", &sig.epoch));
    forall(
        &[&n, &i, &e, &y],
        implies(
            and(&[s.log.holds(&[&n, &i, &e]), s.log.holds(&[&n, &i, &y])]),
            eq(&e, &y),
        ),
    )
}

/// Epochs never decrease along a log.
pub fn log_epochs_monotone(sig: &Signature, s: &State) -> Bool {
    let (n, i, j) = (var("n", &sig.node), var("i", &sig.lsn), var("j", &sig.lsn));
    let (e, y) = (var("e", &sig.epoch), var("y", &sig.epoch));
    forall(
        &[&n, &i, &e, &j, &y],
        implies(
            and(&[
                s.log.holds(&[&n, &i, &e]),
                s.log.holds(&[&n, &j, &y]),
                sig.lsn_le(&i, &j),
            ]),
            sig.epoch_le(&e, &y),
        ),
    )
}

/// `log(n, i, e) ⇒ e ≤ current_epoch(n)`.
pub fn log_epochs_at_most_current(sig: &Signature, s: &State) -> Bool {
    let (n, i, e) = (
        var("n", &sig.node),
        var("i", &sig.lsn),
        var("e", &sig.epoch),
    );
    forall(
        &[&n, &i, &e],
        implies(
            s.log.holds(&[&n, &i, &e]),
            sig.epoch_le(&e, &s.epoch_of(&n)),
        ),
    )
}

/// `log(n, i, e) ∧ e ≠ epoch_zero ⇒ ∃ l. leader(l, e)`.
pub fn entries_come_from_leaders(sig: &Signature, s: &State) -> Bool {
    let (n, l, i, e) = (
        var("n", &sig.node),
        var("l", &sig.node),
        var("i", &sig.lsn),
        var("e", &sig.epoch),
    );
    forall(
        &[&n, &i, &e],
        implies(
            and(&[s.log.holds(&[&n, &i, &e]), ne(&e, &sig.epoch_zero)]),
            exists(&[&l], s.leader.holds(&[&l, &e])),
        ),
    )
}

/// While the leader of epoch `e` is still in `e`, it holds every entry of
/// epoch `e` that any log holds.
pub fn leader_holds_own_epoch(sig: &Signature, s: &State) -> Bool {
    let (n, l, i, e) = (
        var("n", &sig.node),
        var("l", &sig.node),
        var("i", &sig.lsn),
        var("e", &sig.epoch),
    );
    forall(
        &[&n, &l, &i, &e],
        implies(
            and(&[
                s.log.holds(&[&n, &i, &e]),
                s.leader.holds(&[&l, &e]),
                eq(&s.epoch_of(&l), &e),
            ]),
            s.log.holds(&[&l, &i, &e]),
        ),
    )
}

/// `log(a, i, e) ∧ log(b, j, e) ∧ i ≤ j ⇒ log(b, i, e)`: a log holding an
/// entry of epoch `e` holds every earlier entry of epoch `e` of any log.
pub fn epoch_runs_are_prefix_closed(sig: &Signature, s: &State) -> Bool {
    let (a, b) = (var("a", &sig.node), var("b", &sig.node));
    let (i, j, e) = (var("i", &sig.lsn), var("j", &sig.lsn), var("e", &sig.epoch));
    forall(
        &[&a, &b, &i, &j, &e],
        implies(
            and(&[
                s.log.holds(&[&a, &i, &e]),
                s.log.holds(&[&b, &j, &e]),
                sig.lsn_le(&i, &j),
            ]),
            s.log.holds(&[&b, &i, &e]),
        ),
    )
}

/// LogMatching: `log(a, i, e) ∧ log(b, i, e) ∧ j ≤ i ⇒ (log(a, j, y) ⇔
/// log(b, j, y))`: the same `(epoch, lsn)` in two logs implies identical
/// prefixes.
pub fn log_matching(sig: &Signature, s: &State) -> Bool {
    let (a, b) = (var("a", &sig.node), var("b", &sig.node));
    let (i, j) = (var("i", &sig.lsn), var("j", &sig.lsn));
    let (e, y) = (var("e", &sig.epoch), var("y", &sig.epoch));
    forall(
        &[&a, &b, &i, &e, &j, &y],
        implies(
            and(&[
                s.log.holds(&[&a, &i, &e]),
                s.log.holds(&[&b, &i, &e]),
                sig.lsn_le(&j, &i),
            ]),
            iff(s.log.holds(&[&a, &j, &y]), s.log.holds(&[&b, &j, &y])),
        ),
    )
}

/// `committed(i, x, e) ⇒ x ≤ e`.
pub fn committed_within_epoch(sig: &Signature, s: &State) -> Bool {
    let i = var("i", &sig.lsn);
    let (x, e) = (var("x", &sig.epoch), var("e", &sig.epoch));
    forall(
        &[&i, &x, &e],
        implies(s.committed.holds(&[&i, &x, &e]), sig.epoch_le(&x, &e)),
    )
}

/// `committed(i, x, e) ⇒ ∃ l. leader(l, e)`.
pub fn committed_has_leader(sig: &Signature, s: &State) -> Bool {
    let (i, l) = (var("i", &sig.lsn), var("l", &sig.node));
    let (x, e) = (var("x", &sig.epoch), var("e", &sig.epoch));
    forall(
        &[&i, &x, &e],
        implies(
            s.committed.holds(&[&i, &x, &e]),
            exists(&[&l], s.leader.holds(&[&l, &e])),
        ),
    )
}

/// `committed(i, x, e) ⇒ ∃ q ∈ CommitQuorum. ∀ m ∈ q. held(m, i, x, e)`.
pub fn committed_on_commit_quorum(sig: &Signature, s: &State) -> Bool {
    let (i, m) = (var("i", &sig.lsn), var("m", &sig.node));
    let (x, e) = (var("x", &sig.epoch), var("e", &sig.epoch));
    let q = var("q", &sig.commit_quorum);
    forall(
        &[&i, &x, &e],
        implies(
            s.committed.holds(&[&i, &x, &e]),
            exists(
                &[&q],
                forall(
                    &[&m],
                    implies(
                        sig.in_commit_quorum.holds(&[&m, &q]),
                        s.held.holds(&[&m, &i, &x, &e]),
                    ),
                ),
            ),
        ),
    )
}

/// `held(m, i, x, e) ⇒ committed(i, x, e)`.
pub fn held_is_committed(sig: &Signature, s: &State) -> Bool {
    let (m, i, x, e) = held_vars(sig);
    forall(
        &[&m, &i, &x, &e],
        implies(
            s.held.holds(&[&m, &i, &x, &e]),
            s.committed.holds(&[&i, &x, &e]),
        ),
    )
}

/// `held(m, i, x, e) ⇒ log(m, i, x)`: a commit-quorum member never loses the
/// committed entry.
pub fn held_entry_is_kept(sig: &Signature, s: &State) -> Bool {
    let (m, i, x, e) = held_vars(sig);
    forall(
        &[&m, &i, &x, &e],
        implies(s.held.holds(&[&m, &i, &x, &e]), s.log.holds(&[&m, &i, &x])),
    )
}

/// `held(m, i, x, e) ⇒ e ≤ current_epoch(m)`.
pub fn held_at_epoch(sig: &Signature, s: &State) -> Bool {
    let (m, i, x, e) = held_vars(sig);
    forall(
        &[&m, &i, &x, &e],
        implies(
            s.held.holds(&[&m, &i, &x, &e]),
            sig.epoch_le(&e, &s.epoch_of(&m)),
        ),
    )
}

/// `held(m, i, x, e) ⇒ ∃ j. i ≤ j ∧ held(m, j, e, e)`: every commit ends in
/// an entry of the committing leader's own epoch, which the quorum holds.
pub fn held_has_own_epoch_entry(sig: &Signature, s: &State) -> Bool {
    let (m, i, x, e) = held_vars(sig);
    let j = var("j", &sig.lsn);
    forall(
        &[&m, &i, &x, &e],
        implies(
            s.held.holds(&[&m, &i, &x, &e]),
            exists(
                &[&j],
                and(&[sig.lsn_le(&i, &j), s.held.holds(&[&m, &j, &e, &e])]),
            ),
        ),
    )
}

/// `committed(i, x, e) ∧ log(n, j, y) ∧ e < y ⇒ log(n, i, x)`: a log holding
/// any entry of an epoch after the commit holds the committed entry.
pub fn committed_prefix_of_later_entries(sig: &Signature, s: &State) -> Bool {
    let n = var("n", &sig.node);
    let (i, j) = (var("i", &sig.lsn), var("j", &sig.lsn));
    let (x, e, y) = (
        var("x", &sig.epoch),
        var("e", &sig.epoch),
        var("y", &sig.epoch),
    );
    forall(
        &[&i, &x, &e, &n, &j, &y],
        implies(
            and(&[
                s.committed.holds(&[&i, &x, &e]),
                s.log.holds(&[&n, &j, &y]),
                sig.epoch_lt(&e, &y),
            ]),
            s.log.holds(&[&n, &i, &x]),
        ),
    )
}

/// A node that held a committed entry votes in a later epoch `f` only for a
/// candidate that holds the entry, and the candidate keeps it while it is in
/// `f`.
pub fn voters_elect_complete_candidates(sig: &Signature, s: &State) -> Bool {
    let (m, c) = (var("m", &sig.node), var("c", &sig.node));
    let i = var("i", &sig.lsn);
    let (x, e, f) = (
        var("x", &sig.epoch),
        var("e", &sig.epoch),
        var("f", &sig.epoch),
    );
    forall(
        &[&m, &i, &x, &e, &f, &c],
        implies(
            and(&[
                s.held.holds(&[&m, &i, &x, &e]),
                s.voted.holds(&[&m, &f, &c]),
                sig.epoch_lt(&e, &f),
                eq(&s.epoch_of(&c), &f),
            ]),
            s.log.holds(&[&c, &i, &x]),
        ),
    )
}

/// LeaderCompleteness: `committed(i, x, e) ∧ leader(l, f) ∧ e ≤ f ∧
/// current_epoch(l) = f ⇒ log(l, i, x)`: an entry committed in epoch `e` is
/// in the log of every leader of epoch `f ≥ e` for as long as it leads `f`.
pub fn leader_completeness(sig: &Signature, s: &State) -> Bool {
    let (l, i) = (var("l", &sig.node), var("i", &sig.lsn));
    let (x, e, f) = (
        var("x", &sig.epoch),
        var("e", &sig.epoch),
        var("f", &sig.epoch),
    );
    forall(
        &[&i, &x, &e, &l, &f],
        implies(
            and(&[
                s.committed.holds(&[&i, &x, &e]),
                s.leader.holds(&[&l, &f]),
                sig.epoch_le(&e, &f),
                eq(&s.epoch_of(&l), &f),
            ]),
            s.log.holds(&[&l, &i, &x]),
        ),
    )
}

fn held_vars(
    sig: &Signature,
) -> (
    crate::logic::Term,
    crate::logic::Term,
    crate::logic::Term,
    crate::logic::Term,
) {
    (
        var("m", &sig.node),
        var("i", &sig.lsn),
        var("x", &sig.epoch),
        var("e", &sig.epoch),
    )
}

/// `invariant` without the conjunct named `name`, to show that the rest is
/// not inductive on its own.
pub fn without(invariant: &[Conjunct], name: &str) -> Vec<Conjunct> {
    assert!(
        invariant.iter().any(|c| c.name == name),
        "no conjunct named {name}"
    );
    invariant
        .iter()
        .copied()
        .filter(|c| c.name != name)
        .collect()
}
