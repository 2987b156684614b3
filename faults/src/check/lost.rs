//! Acknowledged writes that a later read shows lost, and writes refused
//! outright that a read shows applied anyway.
//!
//! A register write `w` that ended `Ok` is lost when a linearizable (or
//! lease) read invoked after `w` ended returned the key unset, or the value
//! of an `Ok` write that had already ended when `w` was invoked: that read
//! saw a state from before `w`, and no write can undo `w` but by writing a
//! newer value. A set add that ended `Ok` is lost when a linearizable (or
//! lease) read of the whole set invoked after it ended lacks its element;
//! the harness ends every run with such a read after the cluster healed.

use super::register::is_linearizable_mode;
use crate::history::{OkValue, Op, Operation, Outcome};
use std::collections::HashMap;

/// The `Ok` writes and adds that a later read shows lost, in the order of
/// the history, each with the first read that shows it. `ops` are in the
/// order of invocation, as in a [`History`](crate::history::History).
pub fn lost_acked_writes(ops: &[Operation]) -> Vec<(Operation, Operation)> {
    let mut acked_write: HashMap<(&str, u64), &Operation> = HashMap::new();
    let mut register_reads: HashMap<&str, Vec<&Operation>> = HashMap::new();
    let mut set_reads: Vec<&Operation> = Vec::new();
    for op in ops {
        match (&op.op, &op.outcome) {
            (Op::Write { key, value }, Outcome::Ok(_)) => {
                acked_write.insert((key.as_str(), *value), op);
            }
            (Op::Read { key, mode }, Outcome::Ok(_)) if is_linearizable_mode(*mode) => {
                register_reads.entry(key.as_str()).or_default().push(op);
            }
            (Op::ReadSet { mode }, Outcome::Ok(_)) if is_linearizable_mode(*mode) => {
                set_reads.push(op);
            }
            _ => {}
        }
    }
    // The reads invoked after `end`, from a list in order of invocation.
    fn after<'a>(reads: &'a [&'a Operation], end: std::time::Duration) -> &'a [&'a Operation] {
        &reads[reads.partition_point(|r| r.invoked <= end)..]
    }
    let mut lost = Vec::new();
    for w in ops {
        if !matches!(w.outcome, Outcome::Ok(_)) {
            continue;
        }
        let witness = match &w.op {
            Op::Write { key, .. } => {
                let reads = register_reads.get(key.as_str()).map_or(&[][..], |r| &r[..]);
                after(reads, w.ended).iter().find(|r| match &r.outcome {
                    Outcome::Ok(OkValue::Value { value: None, .. }) => true,
                    Outcome::Ok(OkValue::Value { value: Some(v), .. }) => acked_write
                        .get(&(key.as_str(), *v))
                        .is_some_and(|older| older.ended < w.invoked),
                    _ => false,
                })
            }
            Op::Add { element } => after(&set_reads, w.ended).iter().find(|r| {
                matches!(&r.outcome,
                    Outcome::Ok(OkValue::Elements { elements, .. })
                        if elements.binary_search(element).is_err())
            }),
            Op::Read { .. } | Op::ReadSet { .. } => None,
        };
        if let Some(read) = witness {
            lost.push((w.clone(), (*read).clone()));
        }
    }
    lost
}

/// Set adds that ended `Fail` (the server said they did not happen) whose
/// element a read returned anyway, each with that read. (For registers the
/// same breach shows as a read no write explains, so the linearizability
/// check reports it.)
pub fn refused_but_applied(ops: &[Operation]) -> Vec<(Operation, Operation)> {
    let set_reads: Vec<&Operation> = ops
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Ok(OkValue::Elements { .. })))
        .collect();
    let mut found = Vec::new();
    for add in ops {
        let (Op::Add { element }, Outcome::Fail { .. }) = (&add.op, &add.outcome) else {
            continue;
        };
        let seen = set_reads.iter().find(|r| {
            matches!(&r.outcome,
                Outcome::Ok(OkValue::Elements { elements, .. })
                    if elements.binary_search(element).is_ok())
        });
        if let Some(read) = seen {
            found.push((add.clone(), (*read).clone()));
        }
    }
    found
}
