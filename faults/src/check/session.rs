//! Session guarantees of reads served with a session token (follower
//! reads): read-your-writes and monotonic reads.
//!
//! Per session, in order of invocation (a session has one operation open
//! at a time), over its `Ok` operations:
//! - **read-your-writes**: a session read of a key must not return the key
//!   unset, or a value older than the session's own last acknowledged write
//!   of that key (older: an `Ok` write committed at an earlier position);
//! - **monotonic reads**: a session read of a key must not return a value
//!   older than one an earlier read of the session returned, and the log
//!   position a session read observed never goes backwards.
//!
//! A value whose write ended `Unknown` has no known position; it can only
//! be compared with the key being unset.

use super::SessionViolation;
use crate::history::{OkValue, Op, Operation, Outcome, Pos, ReadMode, SessionId};
use std::collections::{BTreeMap, HashMap};

/// What a session knows about one key.
#[derive(Default)]
struct Seen<'a> {
    /// Its last acknowledged write of the key, with the position.
    own_write: Option<(&'a Operation, Pos)>,
    /// The read that returned the newest value so far, with the value's
    /// position if known (`None`: the key was unset, or unknown position).
    newest_read: Option<(&'a Operation, Option<u64>, Option<Pos>)>,
}

/// The violations, in order.
pub fn violations(ops: &[Operation]) -> Vec<SessionViolation> {
    let mut written_at: HashMap<(&str, u64), Pos> = HashMap::new();
    for op in ops {
        if let (Op::Write { key, value }, Outcome::Ok(OkValue::Written { position })) =
            (&op.op, &op.outcome)
        {
            written_at.insert((key.as_str(), *value), *position);
        }
    }
    let mut sessions: BTreeMap<SessionId, Vec<&Operation>> = BTreeMap::new();
    for op in ops {
        if let (Some(session), Outcome::Ok(_)) = (op.session, &op.outcome) {
            sessions.entry(session).or_default().push(op);
        }
    }
    let mut found = Vec::new();
    for session_ops in sessions.values() {
        check_session(session_ops, &written_at, &mut found);
    }
    found
}

fn check_session<'a>(
    ops: &[&'a Operation],
    written_at: &HashMap<(&str, u64), Pos>,
    found: &mut Vec<SessionViolation>,
) {
    let mut keys: HashMap<&str, Seen<'a>> = HashMap::new();
    let mut last_position: Option<(&Operation, Pos)> = None;
    for op in ops {
        match (&op.op, &op.outcome) {
            (Op::Write { key, .. }, Outcome::Ok(OkValue::Written { position })) => {
                keys.entry(key.as_str()).or_default().own_write = Some((op, *position));
            }
            (
                Op::Read {
                    key,
                    mode: ReadMode::Session,
                },
                Outcome::Ok(OkValue::Value { value, position }),
            ) => {
                if let Some((earlier, at)) = last_position {
                    if *position < at {
                        found.push(violation(
                            "monotonic-reads",
                            format!(
                                "the read observed position {}.{} after an earlier read observed {}.{}",
                                position.epoch, position.lsn, at.epoch, at.lsn
                            ),
                            &[earlier, op],
                        ));
                    }
                }
                last_position = Some((op, *position));
                let value_at = value.and_then(|v| written_at.get(&(key.as_str(), v)).copied());
                let seen = keys.entry(key.as_str()).or_default();
                if let Some((write, write_at)) = seen.own_write {
                    let older = match (value, value_at) {
                        (None, _) => true,
                        (Some(_), Some(read_at)) => read_at < write_at,
                        (Some(_), None) => false,
                    };
                    if older {
                        found.push(violation(
                            "read-your-writes",
                            format!(
                                "key {key}: read {} after the session's own write of {} committed at {}.{}",
                                describe(*value),
                                describe(write_value(write)),
                                write_at.epoch,
                                write_at.lsn
                            ),
                            &[write, op],
                        ));
                    }
                }
                if let Some((earlier, earlier_value, earlier_at)) = seen.newest_read {
                    let older = match (value, value_at, earlier_value, earlier_at) {
                        (None, _, Some(_), _) => true,
                        (Some(_), Some(now), _, Some(before)) => now < before,
                        _ => false,
                    };
                    if older {
                        found.push(violation(
                            "monotonic-reads",
                            format!(
                                "key {key}: read {} after the session had read {}",
                                describe(*value),
                                describe(earlier_value)
                            ),
                            &[earlier, op],
                        ));
                        continue;
                    }
                }
                // Keep the newest read whose value can still be compared.
                let replace = match seen.newest_read {
                    None => true,
                    Some((_, earlier_value, _)) => {
                        value_at.is_some() || (value.is_some() && earlier_value.is_none())
                    }
                };
                if replace {
                    seen.newest_read = Some((op, *value, value_at));
                }
            }
            _ => {}
        }
    }
}

fn write_value(op: &Operation) -> Option<u64> {
    match op.op {
        Op::Write { value, .. } => Some(value),
        _ => None,
    }
}

fn describe(value: Option<u64>) -> String {
    match value {
        Some(v) => format!("value {v}"),
        None => "the key unset".to_owned(),
    }
}

fn violation(guarantee: &'static str, what: String, ops: &[&Operation]) -> SessionViolation {
    SessionViolation {
        guarantee,
        what,
        operations: ops.iter().map(|op| (*op).clone()).collect(),
    }
}
