//! Checking a [`History`]: per-key registers for linearizability, the
//! grow-only set and the registers for lost acknowledged writes, sessions
//! for read-your-writes and monotonic reads.
//!
//! - [`register`]: linearizability of one register (Wing–Gong–Lowe with
//!   memoization, from `todc-utils`);
//! - [`shrink`]: the minimal failing sub-history of a register that is not
//!   linearizable;
//! - [`lost`]: acknowledged writes a later read shows lost, refused adds a
//!   read shows applied;
//! - [`session`]: session guarantees.

pub mod lost;
pub mod register;
pub mod session;
pub mod shrink;

#[cfg(test)]
mod tests;

use crate::history::{History, OkValue, Op, Operation, Outcome};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Everything the checkers found in one history.
#[derive(Clone, Debug, Serialize)]
pub struct Verdicts {
    /// Every register's history is linearizable.
    pub linearizable: bool,
    /// Registers checked, and operations of theirs that took part.
    pub registers: usize,
    /// Operations that took part in the register checks.
    pub register_operations: usize,
    /// Registers whose history is not, each with a minimal failing
    /// sub-history.
    pub non_linearizable: Vec<KeyFailure>,
    /// Acknowledged writes (register writes and set adds) that a later read
    /// shows lost, each with that read.
    pub lost_acked_writes: Vec<LostWrite>,
    /// Set adds refused outright whose element a read returned anyway.
    pub refused_but_applied: Vec<LostWrite>,
    /// Read-your-writes and monotonic reads held in every session.
    pub session_guarantees: bool,
    /// Session reads checked.
    pub session_reads: usize,
    /// The session violations, each with the operations that show it.
    pub session_violations: Vec<SessionViolation>,
}

/// A register whose history is not linearizable.
#[derive(Clone, Debug, Serialize)]
pub struct KeyFailure {
    /// The register.
    pub key: String,
    /// Operations of the register that took part in the check.
    pub operations: usize,
    /// A sub-history that is still not linearizable, and from which no
    /// operation (a write with the reads of its value) can be removed
    /// without it becoming linearizable.
    pub minimal: Vec<Operation>,
}

/// An operation whose effect a read contradicts.
#[derive(Clone, Debug, Serialize)]
pub struct LostWrite {
    /// The write or add.
    pub write: Operation,
    /// The read that shows it.
    pub read: Operation,
}

/// A session guarantee broken.
#[derive(Clone, Debug, Serialize)]
pub struct SessionViolation {
    /// Which guarantee: `read-your-writes` or `monotonic-reads`.
    pub guarantee: &'static str,
    /// What happened, in a sentence.
    pub what: String,
    /// The operations that show it, in order.
    pub operations: Vec<Operation>,
}

/// Check everything.
pub fn check(history: &History) -> Verdicts {
    let ops = normalized(history);
    let mut by_key: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
    for op in &ops {
        let key = match &op.op {
            Op::Write { key, .. } | Op::Read { key, .. } => key.as_str(),
            Op::Add { .. } | Op::ReadSet { .. } => continue,
        };
        by_key.entry(key).or_default().push(op);
    }
    let mut non_linearizable = Vec::new();
    let mut register_operations = 0;
    for (key, key_ops) in &by_key {
        let taking_part = key_ops
            .iter()
            .filter(|op| register::as_register_op(key, op).is_some())
            .count();
        register_operations += taking_part;
        if !register::is_linearizable(key, key_ops) {
            non_linearizable.push(KeyFailure {
                key: (*key).to_owned(),
                operations: taking_part,
                minimal: shrink::minimal_failing(key, key_ops),
            });
        }
    }
    let pairs = |found: Vec<(Operation, Operation)>| {
        found
            .into_iter()
            .map(|(write, read)| LostWrite { write, read })
            .collect::<Vec<_>>()
    };
    let session_violations = session::violations(&ops);
    Verdicts {
        linearizable: non_linearizable.is_empty(),
        registers: by_key.len(),
        register_operations,
        non_linearizable,
        lost_acked_writes: pairs(lost::lost_acked_writes(&ops)),
        refused_but_applied: pairs(lost::refused_but_applied(&ops)),
        session_guarantees: session_violations.is_empty(),
        session_reads: ops
            .iter()
            .filter(|op| {
                op.session.is_some()
                    && matches!(op.op, Op::Read { .. })
                    && matches!(op.outcome, Outcome::Ok(_))
            })
            .count(),
        session_violations,
    }
}

/// The operations in order of invocation, set reads sorted, so that the
/// checkers may rely on both.
fn normalized(history: &History) -> Vec<Operation> {
    let mut ops = history.operations.clone();
    ops.sort_by_key(|op| (op.invoked, op.id));
    for op in &mut ops {
        if let Outcome::Ok(OkValue::Elements { elements, .. }) = &mut op.outcome {
            elements.sort_unstable();
            elements.dedup();
        }
    }
    ops
}

impl Verdicts {
    /// Whether every guarantee checked held.
    pub fn all_held(&self) -> bool {
        self.linearizable
            && self.lost_acked_writes.is_empty()
            && self.refused_but_applied.is_empty()
            && self.session_guarantees
    }

    /// A human summary, a few lines (and the failing sub-histories).
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "registers: {} keys, {} operations checked: {}",
            self.registers,
            self.register_operations,
            if self.linearizable {
                "linearizable".to_owned()
            } else {
                format!("NOT linearizable ({} keys)", self.non_linearizable.len())
            }
        );
        for failure in &self.non_linearizable {
            let _ = writeln!(
                out,
                "  key {}: {} operations; minimal failing sub-history ({} operations):",
                failure.key,
                failure.operations,
                failure.minimal.len()
            );
            for op in &failure.minimal {
                let _ = writeln!(out, "    {}", line(op));
            }
        }
        let _ = writeln!(
            out,
            "lost acknowledged writes: {}",
            self.lost_acked_writes.len()
        );
        for lost in &self.lost_acked_writes {
            let _ = writeln!(out, "    {}", line(&lost.write));
            let _ = writeln!(out, "      shown lost by {}", line(&lost.read));
        }
        if !self.refused_but_applied.is_empty() {
            let _ = writeln!(
                out,
                "adds refused but applied: {}",
                self.refused_but_applied.len()
            );
            for found in &self.refused_but_applied {
                let _ = writeln!(out, "    {}", line(&found.write));
                let _ = writeln!(out, "      seen by {}", line(&found.read));
            }
        }
        let _ = writeln!(
            out,
            "sessions: {} session reads: {}",
            self.session_reads,
            if self.session_guarantees {
                "read-your-writes and monotonic reads held".to_owned()
            } else {
                format!("{} violations", self.session_violations.len())
            }
        );
        for violation in &self.session_violations {
            let _ = writeln!(out, "  {}: {}", violation.guarantee, violation.what);
            for op in &violation.operations {
                let _ = writeln!(out, "    {}", line(op));
            }
        }
        out
    }
}

/// One operation on one line, Jepsen-like.
pub fn line(op: &Operation) -> String {
    let what = match &op.op {
        Op::Write { key, value } => format!("write {key}={value}"),
        Op::Read { key, mode } => format!("read {key} ({mode:?})"),
        Op::Add { element } => format!("add {element}"),
        Op::ReadSet { mode } => format!("read-set ({mode:?})"),
    };
    let outcome = match &op.outcome {
        Outcome::Ok(OkValue::Written { position }) => {
            format!("ok at {}.{}", position.epoch, position.lsn)
        }
        Outcome::Ok(OkValue::Value { value, position }) => format!(
            "ok {} at {}.{}",
            value.map_or("unset".to_owned(), |v| v.to_string()),
            position.epoch,
            position.lsn
        ),
        Outcome::Ok(OkValue::Elements { elements, position }) => format!(
            "ok {} elements at {}.{}",
            elements.len(),
            position.epoch,
            position.lsn
        ),
        Outcome::Fail { reason } => format!("fail ({reason})"),
        Outcome::Unknown { reason } => format!("unknown ({reason})"),
    };
    format!(
        "[{:>9.3}s..{:>9.3}s] client {} node {}: {what}: {outcome}",
        op.invoked.as_secs_f64(),
        op.ended.as_secs_f64(),
        op.client,
        op.node
    )
}
