//! Linearizability of one register's history, decided by the
//! Wing–Gong–Lowe search with memoization of `todc-utils`.
//!
//! Which operations take part:
//! - writes that ended `Ok`, from invocation to end;
//! - writes that ended `Unknown`: they may have taken effect at any time
//!   after their invocation, so their end is placed after everything else;
//! - reads served as linearizable or lease reads that ended `Ok`.
//!
//! Writes that ended `Fail` did not happen and are left out (a read of
//! their value then has no write to explain it, which is a violation).
//! Reads that did not end `Ok` told us nothing. Session and stale reads are
//! not promised to be linearizable and are checked elsewhere.

use crate::history::{OkValue, Op, Operation, Outcome, ReadMode};
use todc_utils::linearizability::history::{Action, History};
use todc_utils::linearizability::WGLChecker;
use todc_utils::specifications::Specification;

/// An operation on a register as the checker sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOp {
    /// Write this value.
    Write(u64),
    /// A read that returned this (`None`: the key was never written).
    Read(Option<u64>),
}

/// A register that starts unset.
pub struct RegisterSpec;

impl Specification for RegisterSpec {
    type State = Option<u64>;
    type Operation = RegisterOp;

    fn init() -> Self::State {
        None
    }

    fn apply(operation: &RegisterOp, state: &Option<u64>) -> (bool, Option<u64>) {
        match operation {
            RegisterOp::Write(value) => (true, Some(*value)),
            RegisterOp::Read(value) => (value == state, *state),
        }
    }
}

/// Whether a read served this way is promised to be linearizable.
pub fn is_linearizable_mode(mode: ReadMode) -> bool {
    matches!(mode, ReadMode::Linearizable | ReadMode::Lease)
}

/// The operation on register `key` that `op` is, if it takes part in the
/// check (see the module docs), and whether its end is known.
pub fn as_register_op(key: &str, op: &Operation) -> Option<(RegisterOp, bool)> {
    match (&op.op, &op.outcome) {
        (Op::Write { key: k, value }, Outcome::Ok(_)) if k == key => {
            Some((RegisterOp::Write(*value), true))
        }
        (Op::Write { key: k, value }, Outcome::Unknown { .. }) if k == key => {
            Some((RegisterOp::Write(*value), false))
        }
        (Op::Read { key: k, mode }, Outcome::Ok(OkValue::Value { value, .. }))
            if k == key && is_linearizable_mode(*mode) =>
        {
            Some((RegisterOp::Read(*value), true))
        }
        _ => None,
    }
}

/// Whether `ops` (any operations; those not on `key` are ignored) form a
/// linearizable history of register `key`.
pub fn is_linearizable(key: &str, ops: &[&Operation]) -> bool {
    let taking_part: Vec<(RegisterOp, &Operation, bool)> = ops
        .iter()
        .filter_map(|op| as_register_op(key, op).map(|(r, ended)| (r, *op, ended)))
        .collect();
    if taking_part.is_empty() {
        return true;
    }
    // Every operation is its own process, so a call and its response pair
    // up trivially. Events sort by time; at equal times calls come first,
    // which claims no order that the clock did not show.
    let mut events: Vec<(std::time::Duration, u8, usize, Action<RegisterOp>)> = Vec::new();
    for (process, (register_op, op, ended)) in taking_part.iter().enumerate() {
        let call = match register_op {
            // The value a read will return is not known at its call; the
            // checker looks only at the response.
            RegisterOp::Read(_) => RegisterOp::Read(None),
            write => *write,
        };
        events.push((op.invoked, 0, process, Action::Call(call)));
        let end = if *ended {
            op.ended
        } else {
            std::time::Duration::MAX
        };
        events.push((end, 1, process, Action::Response(*register_op)));
    }
    events.sort_by_key(|(at, kind, process, _)| (*at, *kind, *process));
    let actions = events
        .into_iter()
        .map(|(_, _, process, action)| (process, action))
        .collect();
    WGLChecker::<RegisterSpec>::is_linearizable(History::from_actions(actions))
}
