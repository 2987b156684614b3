use super::register::{as_register_op, is_linearizable, RegisterOp};
use super::*;
use crate::history::{OkValue, Op, Operation, Outcome, Pos, ReadMode};
use proptest::prelude::*;
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn pos(lsn: u64) -> Pos {
    Pos { epoch: 1, lsn }
}

/// A history builder: operations get ids and clients in order.
#[derive(Default)]
struct Ops(Vec<Operation>);

impl Ops {
    fn push(&mut self, op: Op, session: Option<u64>, from: u64, to: u64, outcome: Outcome) {
        let id = self.0.len() as u64;
        self.0.push(Operation {
            id,
            client: id,
            session,
            node: 1,
            op,
            invoked: ms(from),
            ended: ms(to),
            outcome,
        });
    }

    fn write(&mut self, key: &str, value: u64, from: u64, to: u64, outcome: Outcome) {
        let op = Op::Write {
            key: key.into(),
            value,
        };
        self.push(op, None, from, to, outcome);
    }

    fn read(&mut self, key: &str, value: Option<u64>, from: u64, to: u64) {
        let op = Op::Read {
            key: key.into(),
            mode: ReadMode::Linearizable,
        };
        self.push(op, None, from, to, read_ok(value, 1));
    }

    fn history(&self) -> History {
        History {
            operations: self.0.clone(),
        }
    }
}

fn written(lsn: u64) -> Outcome {
    Outcome::Ok(OkValue::Written { position: pos(lsn) })
}

fn read_ok(value: Option<u64>, lsn: u64) -> Outcome {
    Outcome::Ok(OkValue::Value {
        value,
        position: pos(lsn),
    })
}

fn unknown() -> Outcome {
    Outcome::Unknown {
        reason: "timed out".into(),
    }
}

fn fail() -> Outcome {
    Outcome::Fail {
        reason: "no leader".into(),
    }
}

#[test]
fn a_sequential_register_history_is_linearizable() {
    let mut h = Ops::default();
    h.read("k", None, 0, 1);
    h.write("k", 1, 2, 3, written(1));
    h.read("k", Some(1), 4, 5);
    h.write("k", 2, 6, 7, written(2));
    h.read("k", Some(2), 8, 9);
    let v = check(&h.history());
    assert!(v.linearizable && v.all_held(), "{}", v.summary());
    assert_eq!((v.registers, v.register_operations), (1, 5));
}

#[test]
fn a_stale_read_is_not_linearizable_and_shrinks_to_what_shows_it() {
    let mut h = Ops::default();
    h.write("k", 1, 0, 1, written(1));
    h.read("k", Some(1), 2, 3);
    h.write("k", 2, 4, 5, written(2));
    // Unrelated traffic on the key that the shrinking must drop.
    h.read("k", Some(2), 6, 7);
    h.write("k", 3, 8, 9, written(3));
    h.read("k", Some(3), 10, 11);
    // Stale: 1 was overwritten long before this read began.
    h.read("k", Some(1), 12, 13);
    h.read("other", None, 0, 13);
    let v = check(&h.history());
    assert!(!v.linearizable);
    assert_eq!(v.non_linearizable.len(), 1, "{}", v.summary());
    let failure = &v.non_linearizable[0];
    assert_eq!(failure.key, "k");
    assert_eq!(failure.operations, 7);
    // Write 1, a later write, and the stale read: nothing less shows it.
    let values: Vec<_> = failure
        .minimal
        .iter()
        .map(|op| as_register_op("k", op).map(|(r, _)| r))
        .collect();
    assert_eq!(values.len(), 3, "{}", v.summary());
    assert!(values.contains(&Some(RegisterOp::Read(Some(1)))));
    assert!(values.contains(&Some(RegisterOp::Write(1))));
    let refs: Vec<&Operation> = failure.minimal.iter().collect();
    assert!(!is_linearizable("k", &refs));
    // Removing any one operation (with the reads of its value) of the
    // minimal sub-history makes it linearizable.
    for skip in 0..refs.len() {
        let gone = as_register_op("k", refs[skip]).map(|(r, _)| r);
        let rest: Vec<&Operation> = refs
            .iter()
            .enumerate()
            .filter(|(i, op)| {
                let this = as_register_op("k", op).map(|(r, _)| r);
                let reads_gone = matches!((gone, this),
                    (Some(RegisterOp::Write(w)), Some(RegisterOp::Read(Some(r)))) if w == r);
                *i != skip && !reads_gone
            })
            .map(|(_, op)| *op)
            .collect();
        assert!(is_linearizable("k", &rest), "still failing without {skip}");
    }
}

#[test]
fn an_unknown_write_may_take_effect_any_time_after_its_invocation() {
    let mut h = Ops::default();
    h.write("k", 1, 0, 1, written(1));
    h.write("k", 2, 2, 3, unknown());
    h.read("k", Some(1), 10, 11);
    // Took effect long after the client gave up.
    h.read("k", Some(2), 20, 21);
    assert!(check(&h.history()).linearizable);

    // But once seen, it cannot be unseen.
    h.read("k", Some(1), 30, 31);
    assert!(!check(&h.history()).linearizable);
}

#[test]
fn a_refused_write_that_a_read_sees_is_a_violation() {
    let mut h = Ops::default();
    h.write("k", 1, 0, 1, fail());
    h.read("k", Some(1), 2, 3);
    let v = check(&h.history());
    assert!(!v.linearizable, "{}", v.summary());
}

#[test]
fn session_and_stale_reads_are_not_held_to_linearizability() {
    let mut h = Ops::default();
    h.write("k", 1, 0, 1, written(1));
    let stale = Op::Read {
        key: "k".into(),
        mode: ReadMode::Stale,
    };
    h.push(stale, None, 2, 3, read_ok(None, 0));
    let v = check(&h.history());
    assert!(v.linearizable && v.lost_acked_writes.is_empty());
}

#[test]
fn an_acknowledged_write_a_later_read_does_not_see_is_lost() {
    let mut h = Ops::default();
    h.write("k", 1, 0, 1, written(1));
    h.write("k", 2, 2, 3, written(2));
    h.read("k", Some(1), 10, 11);
    h.write("j", 7, 0, 1, written(3));
    h.read("j", None, 10, 11);
    let v = check(&h.history());
    let lost: Vec<_> = v
        .lost_acked_writes
        .iter()
        .map(|l| l.write.op.clone())
        .collect();
    assert_eq!(
        lost,
        vec![
            Op::Write {
                key: "j".into(),
                value: 7
            },
            Op::Write {
                key: "k".into(),
                value: 2
            },
        ]
    );
    assert!(!v.all_held());
}

#[test]
fn concurrent_writes_read_in_either_order_lose_nothing() {
    let mut h = Ops::default();
    h.write("k", 1, 0, 5, written(1));
    h.write("k", 2, 1, 4, written(2));
    h.read("k", Some(1), 6, 7);
    let v = check(&h.history());
    assert!(v.all_held(), "{}", v.summary());
}

fn add(h: &mut Ops, element: u64, from: u64, to: u64, outcome: Outcome) {
    h.push(Op::Add { element }, None, from, to, outcome);
}

fn read_set(h: &mut Ops, elements: Vec<u64>, from: u64, to: u64) {
    let op = Op::ReadSet {
        mode: ReadMode::Linearizable,
    };
    let outcome = Outcome::Ok(OkValue::Elements {
        elements,
        position: pos(9),
    });
    h.push(op, None, from, to, outcome);
}

#[test]
fn set_adds_acknowledged_must_appear_in_every_later_read() {
    let mut h = Ops::default();
    add(&mut h, 1, 0, 1, written(1));
    add(&mut h, 2, 0, 1, unknown());
    add(&mut h, 3, 2, 3, written(2));
    // Concurrent with the add of 4: either way is fine.
    add(&mut h, 4, 4, 8, written(3));
    read_set(&mut h, vec![3, 1], 5, 6);
    assert!(check(&h.history()).all_held());

    // Not in a read invoked after it was acknowledged: lost.
    read_set(&mut h, vec![1, 4], 10, 11);
    let v = check(&h.history());
    assert_eq!(v.lost_acked_writes.len(), 1, "{}", v.summary());
    assert_eq!(v.lost_acked_writes[0].write.op, Op::Add { element: 3 });
}

#[test]
fn a_refused_add_seen_in_a_read_is_reported() {
    let mut h = Ops::default();
    add(&mut h, 5, 0, 1, fail());
    read_set(&mut h, vec![5], 2, 3);
    let v = check(&h.history());
    assert_eq!(v.refused_but_applied.len(), 1);
    assert!(!v.all_held());
}

fn session_write(h: &mut Ops, session: u64, key: &str, value: u64, lsn: u64, at: u64) {
    let op = Op::Write {
        key: key.into(),
        value,
    };
    h.push(op, Some(session), at, at + 1, written(lsn));
}

fn session_read(h: &mut Ops, session: u64, key: &str, value: Option<u64>, lsn: u64, at: u64) {
    let op = Op::Read {
        key: key.into(),
        mode: ReadMode::Session,
    };
    h.push(op, Some(session), at, at + 1, read_ok(value, lsn));
}

#[test]
fn sessions_read_their_writes_and_never_go_back() {
    let mut h = Ops::default();
    session_write(&mut h, 1, "k", 1, 5, 0);
    session_read(&mut h, 1, "k", Some(1), 5, 2);
    // Another client's newer write, then an older-looking read by someone
    // else's session: other sessions are not bound by this one.
    h.write("k", 2, 3, 4, written(6));
    session_read(&mut h, 2, "k", None, 4, 5);
    session_read(&mut h, 1, "k", Some(2), 6, 6);
    let v = check(&h.history());
    assert!(v.session_guarantees, "{}", v.summary());
    assert_eq!(v.session_reads, 3);
}

#[test]
fn a_session_read_older_than_its_own_write_breaks_read_your_writes() {
    let mut h = Ops::default();
    h.write("k", 1, 0, 1, written(3));
    session_write(&mut h, 1, "k", 2, 5, 2);
    session_read(&mut h, 1, "k", Some(1), 5, 4);
    let v = check(&h.history());
    assert!(!v.session_guarantees);
    assert_eq!(v.session_violations[0].guarantee, "read-your-writes");
}

#[test]
fn a_session_reading_backwards_breaks_monotonic_reads() {
    let mut h = Ops::default();
    h.write("k", 1, 0, 1, written(3));
    h.write("k", 2, 2, 3, written(4));
    session_read(&mut h, 1, "k", Some(2), 4, 4);
    session_read(&mut h, 1, "k", Some(1), 4, 6);
    let v = check(&h.history());
    assert_eq!(v.session_violations.len(), 1, "{}", v.summary());
    assert_eq!(v.session_violations[0].guarantee, "monotonic-reads");

    // The observed position going back is also caught, on any key.
    let mut h = Ops::default();
    session_read(&mut h, 1, "a", None, 7, 0);
    session_read(&mut h, 1, "b", None, 6, 2);
    let v = check(&h.history());
    assert_eq!(v.session_violations.len(), 1, "{}", v.summary());
}

/// Small random register histories: overlapping intervals, a few values,
/// some writes unknown. The `todc-utils` search and stateright's
/// `LinearizabilityTester` (an exhaustive search over interleavings) must
/// agree on every one.
fn small_history() -> impl Strategy<Value = Vec<Operation>> {
    let op = (0u64..20, 1u64..6, any::<bool>(), 0u64..3, 0u8..4);
    prop::collection::vec(op, 1..7).prop_map(|ops| {
        ops.into_iter()
            .enumerate()
            .map(|(i, (start, len, is_write, value, how))| {
                let (op, outcome) = if is_write {
                    let outcome = if how == 0 { unknown() } else { written(1) };
                    (
                        Op::Write {
                            key: "k".into(),
                            value: value + 1,
                        },
                        outcome,
                    )
                } else {
                    let read = (value > 0).then_some(value);
                    (
                        Op::Read {
                            key: "k".into(),
                            mode: ReadMode::Linearizable,
                        },
                        read_ok(read, 1),
                    )
                };
                Operation {
                    id: i as u64,
                    client: i as u64,
                    session: None,
                    node: 1,
                    op,
                    invoked: ms(start),
                    ended: ms(start + len),
                    outcome,
                }
            })
            .collect()
    })
}

fn stateright_says(ops: &[Operation]) -> bool {
    use stateright::semantics::register::{Register, RegisterOp as Sop, RegisterRet};
    use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
    let mut events = Vec::new();
    for (thread, op) in ops.iter().enumerate() {
        events.push((op.invoked, 0u8, thread, op));
        if !matches!(op.outcome, Outcome::Unknown { .. }) {
            events.push((op.ended, 1u8, thread, op));
        }
    }
    events.sort_by_key(|(at, kind, thread, _)| (*at, *kind, *thread));
    let mut tester = LinearizabilityTester::new(Register(None::<u64>));
    for (_, kind, thread, op) in events {
        let result = match (kind, &op.op, &op.outcome) {
            (0, Op::Write { value, .. }, _) => tester.on_invoke(thread, Sop::Write(Some(*value))),
            (0, _, _) => tester.on_invoke(thread, Sop::Read),
            (_, Op::Write { .. }, _) => tester.on_return(thread, RegisterRet::WriteOk),
            (_, _, Outcome::Ok(OkValue::Value { value, .. })) => {
                tester.on_return(thread, RegisterRet::ReadOk(*value))
            }
            _ => unreachable!("reads here all end Ok"),
        };
        assert!(result.is_ok());
    }
    tester.is_consistent()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn wgl_agrees_with_stateright_on_small_histories(ops in small_history()) {
        let refs: Vec<&Operation> = ops.iter().collect();
        prop_assert_eq!(is_linearizable("k", &refs), stateright_says(&ops));
    }
}

/// The cross-check above means something only if the small histories
/// include both verdicts in numbers.
#[test]
fn the_small_histories_include_both_verdicts() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut yes, mut no) = (0, 0);
    for _ in 0..2000 {
        let ops = small_history().new_tree(&mut runner).unwrap().current();
        let refs: Vec<&Operation> = ops.iter().collect();
        let verdict = is_linearizable("k", &refs);
        assert_eq!(verdict, stateright_says(&ops), "{ops:#?}");
        if verdict {
            yes += 1;
        } else {
            no += 1;
        }
    }
    assert!(yes > 300 && no > 300, "linearizable {yes}, not {no}");
    eprintln!("small histories: {yes} linearizable, {no} not");
}
