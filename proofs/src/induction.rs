//! Inductive-invariant checks: initiation (`Init ⇒ Inv`) and consecution
//! (`Inv ∧ Step ⇒ Inv′`, one query per step and conjunct), each decided by Z3
//! as the unsatisfiability of its negation.

use std::fmt;

use z3::{Params, SatResult, Solver};

use crate::invariants::Conjunct;
use crate::logic::and;
use crate::protocol::{Guard, Protocol, Step};
use crate::signature::{QuorumAxiom, QuorumSystem, Signature};
use crate::state::State;

/// Per-query solver time limit. Every query of the shipped invariants is
/// answered in well under a second; hitting this limit is a failure.
const QUERY_TIMEOUT_MS: u32 = 30_000;

/// Which model a check is about: a quorum system, and any axiom or guard
/// removed on purpose.
#[derive(Debug, Clone, Default)]
pub struct Variant {
    /// The quorum system.
    pub quorums: Option<QuorumSystem>,
    /// Quorum axioms left out.
    pub without_axioms: Vec<QuorumAxiom>,
    /// Protocol guards left out.
    pub without_guards: Vec<Guard>,
    /// When set, every sort has at most this many elements. Only for
    /// searching counterexamples: validity in a bounded universe proves
    /// nothing about the unbounded one, a counterexample in it is genuine.
    pub universe_bound: Option<usize>,
}

impl Variant {
    /// The protocol as specified under `quorums`.
    pub fn of(quorums: QuorumSystem) -> Self {
        Variant {
            quorums: Some(quorums),
            ..Variant::default()
        }
    }

    /// This variant with quorum axiom `axiom` removed.
    pub fn without_axiom(mut self, axiom: QuorumAxiom) -> Self {
        self.without_axioms.push(axiom);
        self
    }

    /// This variant with protocol guard `guard` removed.
    pub fn without_guard(mut self, guard: Guard) -> Self {
        self.without_guards.push(guard);
        self
    }

    /// This variant searched for counterexamples among universes of at most
    /// `size` elements per sort.
    pub fn within(mut self, size: usize) -> Self {
        self.universe_bound = Some(size);
        self
    }

    fn quorum_system(&self) -> QuorumSystem {
        self.quorums.unwrap_or(QuorumSystem::Majority)
    }
}

/// One proof obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Obligation {
    /// `Init ⇒ conjunct`.
    Initiation,
    /// `Inv ∧ step ⇒ conjunct′`.
    Consecution(Step),
}

impl fmt::Display for Obligation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Obligation::Initiation => write!(f, "init"),
            Obligation::Consecution(step) => write!(f, "{step:?}"),
        }
    }
}

/// The solver's answer to one obligation for one conjunct.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The obligation is valid (its negation is unsatisfiable).
    Valid,
    /// A counterexample to induction: a model of the negation, printed.
    Counterexample(String),
    /// The solver gave up (time limit or incompleteness), with its reason.
    Unknown(String),
}

/// The verdict for one obligation and one conjunct.
#[derive(Debug, Clone)]
pub struct Finding {
    /// What was checked.
    pub obligation: Obligation,
    /// The conjunct that must hold afterwards.
    pub conjunct: &'static str,
    /// The solver's answer.
    pub verdict: Verdict,
}

/// All findings of one invariant check.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One finding per obligation and conjunct, in order.
    pub findings: Vec<Finding>,
}

impl Report {
    /// True when every obligation is valid: the invariant is inductive.
    pub fn is_inductive(&self) -> bool {
        self.findings
            .iter()
            .all(|f| matches!(f.verdict, Verdict::Valid))
    }

    /// The findings that are not valid.
    pub fn failures(&self) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|f| !matches!(f.verdict, Verdict::Valid))
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in self.failures() {
            let verdict = match &finding.verdict {
                Verdict::Valid => "valid".to_string(),
                Verdict::Counterexample(_) => "counterexample to induction".to_string(),
                Verdict::Unknown(reason) => format!("unknown ({reason})"),
            };
            writeln!(
                f,
                "{} / {}: {verdict}",
                finding.obligation, finding.conjunct
            )?;
        }
        let proved = self.findings.len() - self.failures().len();
        write!(f, "{proved}/{} obligations valid", self.findings.len())
    }
}

/// Checks one obligation for the conjunct named `conjunct` and returns the
/// counterexample to induction the solver found, or `None` when the
/// obligation is valid or undecided.
pub fn counterexample(
    variant: &Variant,
    invariant: &[Conjunct],
    obligation: Obligation,
    conjunct: &str,
) -> Option<String> {
    check_obligation(variant, invariant, obligation, Some(conjunct))
        .into_iter()
        .find_map(|f| match f.verdict {
            Verdict::Counterexample(model) => Some(model),
            _ => None,
        })
}

/// Checks initiation and consecution of `invariant` (the conjunction of its
/// conjuncts) for every step of `variant`'s protocol.
pub fn check_inductive(variant: &Variant, invariant: &[Conjunct]) -> Report {
    let mut report = Report::default();
    let mut obligations = vec![Obligation::Initiation];
    obligations.extend(Step::ALL.iter().map(|s| Obligation::Consecution(*s)));
    for obligation in obligations {
        report
            .findings
            .extend(check_obligation(variant, invariant, obligation, None));
    }
    report
}

/// Checks one obligation for each conjunct of `invariant`, or only for the
/// conjunct named `only`.
pub fn check_obligation(
    variant: &Variant,
    invariant: &[Conjunct],
    obligation: Obligation,
    only: Option<&str>,
) -> Vec<Finding> {
    let sig = Signature::new(variant.quorum_system());
    let protocol = Protocol::new(&sig, &variant.without_guards);
    let pre = State::new(&sig, "");
    let post = State::new(&sig, "'");

    let solver = Solver::new();
    let mut params = Params::new();
    params.set_u32("timeout", QUERY_TIMEOUT_MS);
    solver.set_params(&params);
    for axiom in sig.axioms(&variant.without_axioms) {
        solver.assert(&axiom);
    }
    if let Some(size) = variant.universe_bound {
        for axiom in sig.bounded_universe(size) {
            solver.assert(&axiom);
        }
    }
    let target = match obligation {
        Obligation::Initiation => {
            solver.assert(protocol.init(&pre));
            &pre
        }
        Obligation::Consecution(step) => {
            let assumed: Vec<_> = invariant.iter().map(|c| (c.formula)(&sig, &pre)).collect();
            solver.assert(and(&assumed));
            solver.assert(protocol.transition(step, &pre, &post));
            &post
        }
    };

    invariant
        .iter()
        .filter(|c| only.is_none_or(|name| name == c.name))
        .map(|conjunct| {
            solver.push();
            solver.assert((conjunct.formula)(&sig, target).not());
            let verdict = match solver.check() {
                SatResult::Unsat => Verdict::Valid,
                SatResult::Sat => Verdict::Counterexample(
                    solver
                        .get_model()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| "(no model produced)".into()),
                ),
                SatResult::Unknown => Verdict::Unknown(
                    solver
                        .get_reason_unknown()
                        .unwrap_or_else(|| "no reason given".into()),
                ),
            };
            solver.pop(1);
            Finding {
                obligation,
                conjunct: conjunct.name,
                verdict,
            }
        })
        .collect()
}
