//! The fixed part of the abstract protocol: its sorts, the total orders on
//! epochs and log positions, quorum membership, and the axioms about them.
//!
//! Epochs and lsns are uninterpreted sorts with a total-order relation rather
//! than integers, so every formula stays in (or near) the effectively
//! propositional fragment and Z3 decides the checks by finite model search.

use z3::{Sort, Symbol};

use crate::logic::{and, eq, exists, forall, implies, or, var, Relation, Term};

/// Which quorum systems elect leaders and commit entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuorumSystem {
    /// One sort of quorums (majorities) for both elections and commits, with
    /// the axiom that any two quorums share a node.
    Majority,
    /// Two sorts: election quorums and commit quorums (e.g. |Q_elect| +
    /// |Q_commit| > n), with the axioms that every election quorum meets every
    /// commit quorum and that any two election quorums meet.
    Flexible,
}

/// An axiom about quorums that a check may leave out on purpose, to show that
/// a theorem depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuorumAxiom {
    /// Any two election quorums share a node.
    ElectionsIntersect,
    /// Every election quorum shares a node with every commit quorum.
    ElectionMeetsCommit,
}

/// Sorts, order relations, distinguished constants and quorum membership.
#[derive(Debug, Clone)]
pub struct Signature {
    /// The quorum system this signature describes.
    pub quorums: QuorumSystem,
    /// Replicas.
    pub node: Sort,
    /// Epochs (Raft terms), totally ordered by [`Signature::epoch_le`].
    pub epoch: Sort,
    /// Log positions, totally ordered by [`Signature::lsn_le`].
    pub lsn: Sort,
    /// Quorums that elect a leader.
    pub election_quorum: Sort,
    /// Quorums that commit an entry (the same sort as election quorums under
    /// [`QuorumSystem::Majority`]).
    pub commit_quorum: Sort,
    /// `epoch_le(a, b)`: epoch `a` is not after epoch `b`.
    pub epoch_le: Relation,
    /// `lsn_le(i, j)`: position `i` is not after position `j`.
    pub lsn_le: Relation,
    /// `in_election_quorum(n, q)`.
    pub in_election_quorum: Relation,
    /// `in_commit_quorum(n, q)` (the same symbol as election membership under
    /// [`QuorumSystem::Majority`]).
    pub in_commit_quorum: Relation,
    /// The first epoch, in which every node starts and no leader is elected.
    pub epoch_zero: Term,
    /// The first position, holding the root entry `(lsn_zero, epoch_zero)`
    /// that every log starts with.
    pub lsn_zero: Term,
}

impl Signature {
    /// Declares the signature for `quorums` in the current thread's context.
    pub fn new(quorums: QuorumSystem) -> Self {
        let node = Sort::uninterpreted(Symbol::String("Node".into()));
        let epoch = Sort::uninterpreted(Symbol::String("Epoch".into()));
        let lsn = Sort::uninterpreted(Symbol::String("Lsn".into()));
        let election_quorum = Sort::uninterpreted(Symbol::String("ElectionQuorum".into()));
        let (commit_quorum, in_election_quorum, in_commit_quorum) = match quorums {
            QuorumSystem::Majority => {
                let member = Relation::new("in_quorum", &[&node, &election_quorum]);
                (election_quorum.clone(), member.clone(), member)
            }
            QuorumSystem::Flexible => {
                let commit = Sort::uninterpreted(Symbol::String("CommitQuorum".into()));
                let in_election = Relation::new("in_election_quorum", &[&node, &election_quorum]);
                let in_commit = Relation::new("in_commit_quorum", &[&node, &commit]);
                (commit, in_election, in_commit)
            }
        };
        Signature {
            quorums,
            epoch_le: Relation::new("epoch_le", &[&epoch, &epoch]),
            lsn_le: Relation::new("lsn_le", &[&lsn, &lsn]),
            epoch_zero: var("epoch_zero", &epoch),
            lsn_zero: var("lsn_zero", &lsn),
            node,
            epoch,
            lsn,
            election_quorum,
            commit_quorum,
            in_election_quorum,
            in_commit_quorum,
        }
    }

    /// `a ≤ b` on epochs.
    pub fn epoch_le(&self, a: &Term, b: &Term) -> z3::ast::Bool {
        self.epoch_le.holds(&[a, b])
    }

    /// `a < b` on epochs.
    pub fn epoch_lt(&self, a: &Term, b: &Term) -> z3::ast::Bool {
        self.epoch_le(b, a).not()
    }

    /// `i ≤ j` on positions.
    pub fn lsn_le(&self, i: &Term, j: &Term) -> z3::ast::Bool {
        self.lsn_le.holds(&[i, j])
    }

    /// `i < j` on positions.
    pub fn lsn_lt(&self, i: &Term, j: &Term) -> z3::ast::Bool {
        self.lsn_le(j, i).not()
    }

    /// The axioms: both orders are total orders with the zero constants as
    /// least elements, and quorums intersect as the quorum system promises,
    /// except for the axioms in `dropped`.
    pub fn axioms(&self, dropped: &[QuorumAxiom]) -> Vec<z3::ast::Bool> {
        let mut axioms = total_order(&self.epoch_le, &self.epoch);
        axioms.extend(total_order(&self.lsn_le, &self.lsn));
        let e = var("e", &self.epoch);
        axioms.push(forall(&[&e], self.epoch_le(&self.epoch_zero, &e)));
        let i = var("i", &self.lsn);
        axioms.push(forall(&[&i], self.lsn_le(&self.lsn_zero, &i)));

        if !dropped.contains(&QuorumAxiom::ElectionsIntersect) {
            axioms.push(self.intersect(
                (&self.election_quorum, &self.in_election_quorum),
                (&self.election_quorum, &self.in_election_quorum),
            ));
        }
        if self.quorums == QuorumSystem::Flexible
            && !dropped.contains(&QuorumAxiom::ElectionMeetsCommit)
        {
            axioms.push(self.intersect(
                (&self.election_quorum, &self.in_election_quorum),
                (&self.commit_quorum, &self.in_commit_quorum),
            ));
        }
        axioms
    }

    /// Domain-closure axioms: every sort has at most `size` elements. Used
    /// only to help the solver build counterexamples; a model of a bounded
    /// query is also a model of the unbounded one.
    pub fn bounded_universe(&self, size: usize) -> Vec<z3::ast::Bool> {
        let mut sorts = vec![&self.node, &self.epoch, &self.lsn, &self.election_quorum];
        if self.quorums == QuorumSystem::Flexible {
            sorts.push(&self.commit_quorum);
        }
        sorts
            .into_iter()
            .map(|sort| {
                let elements: Vec<Term> = (0..size).map(|_| var("element", sort)).collect();
                let x = var("x", sort);
                let cases: Vec<_> = elements.iter().map(|el| eq(&x, el)).collect();
                forall(&[&x], or(&cases))
            })
            .collect()
    }

    /// `∀ q1 q2. ∃ n. n ∈ q1 ∧ n ∈ q2`.
    fn intersect(&self, a: (&Sort, &Relation), b: (&Sort, &Relation)) -> z3::ast::Bool {
        let q1 = var("q1", a.0);
        let q2 = var("q2", b.0);
        let n = var("n", &self.node);
        forall(
            &[&q1, &q2],
            exists(&[&n], and(&[a.1.holds(&[&n, &q1]), b.1.holds(&[&n, &q2])])),
        )
    }
}

/// Reflexivity, antisymmetry, transitivity and totality of `le` on `sort`.
fn total_order(le: &Relation, sort: &Sort) -> Vec<z3::ast::Bool> {
    let (a, b, c) = (var("a", sort), var("b", sort), var("c", sort));
    vec![
        forall(&[&a], le.holds(&[&a, &a])),
        forall(
            &[&a, &b],
            implies(and(&[le.holds(&[&a, &b]), le.holds(&[&b, &a])]), eq(&a, &b)),
        ),
        forall(
            &[&a, &b, &c],
            implies(
                and(&[le.holds(&[&a, &b]), le.holds(&[&b, &c])]),
                le.holds(&[&a, &c]),
            ),
        ),
        forall(&[&a, &b], or(&[le.holds(&[&a, &b]), le.holds(&[&b, &a])])),
    ]
}
