//! The minimal failing sub-history of a register that is not linearizable.
//!
//! Operations are removed while the rest stays non-linearizable, first in
//! large chunks, then one at a time (delta debugging, complements only), so
//! that in the result no single operation can be removed. Removing a write
//! also removes the reads that returned its value: a read of a value nobody
//! wrote is a trivial violation, and the sub-history must still show the
//! real one.

use super::register::{as_register_op, is_linearizable, RegisterOp};
use crate::history::Operation;

/// A sub-history of `ops` (the operations on register `key`, which must
/// not be linearizable) that is not linearizable either, and from which
/// no operation (a write together with the reads of its value) can be
/// removed without it becoming linearizable. In the order of `ops`.
pub fn minimal_failing(key: &str, ops: &[&Operation]) -> Vec<Operation> {
    let mut kept: Vec<&Operation> = ops
        .iter()
        .copied()
        .filter(|op| as_register_op(key, op).is_some())
        .collect();
    debug_assert!(!is_linearizable(key, &kept));
    let mut chunk = kept.len().div_ceil(2).max(1);
    loop {
        let mut removed_any = false;
        let mut start = 0;
        while start < kept.len() {
            let end = (start + chunk).min(kept.len());
            let candidate = without(key, &kept, start..end);
            if candidate.len() < kept.len() && !is_linearizable(key, &candidate) {
                // Keep going from the same place: what follows moved up.
                kept = candidate;
                removed_any = true;
            } else {
                start = end;
            }
        }
        if chunk > 1 {
            chunk = chunk.div_ceil(2);
        } else if !removed_any {
            // A whole pass one at a time removed nothing: minimal.
            break;
        }
    }
    kept.into_iter().cloned().collect()
}

/// `ops` without those in `range`, and without the reads that returned a
/// value written by a write removed.
fn without<'a>(
    key: &str,
    ops: &[&'a Operation],
    range: std::ops::Range<usize>,
) -> Vec<&'a Operation> {
    let removed_values: Vec<u64> = ops[range.clone()]
        .iter()
        .filter_map(|op| match as_register_op(key, op) {
            Some((RegisterOp::Write(value), _)) => Some(value),
            _ => None,
        })
        .collect();
    ops.iter()
        .enumerate()
        .filter(|(i, op)| {
            if range.contains(i) {
                return false;
            }
            !matches!(
                as_register_op(key, op),
                Some((RegisterOp::Read(Some(value)), _)) if removed_values.contains(&value)
            )
        })
        .map(|(_, op)| *op)
        .collect()
}
