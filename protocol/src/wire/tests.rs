use super::*;
use crate::entry::{Entry, EntryKind};
use crate::membership::Membership;
use crate::snapshot::SnapshotMeta;
use crate::types::{Epoch, Lsn, NodeId, Position};
use proptest::prelude::*;

fn position() -> impl Strategy<Value = Position> {
    (any::<u64>(), any::<u64>()).prop_map(|(e, l)| Position::new(Epoch(e), Lsn(l)))
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        any::<u64>(),
        any::<u64>(),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..16)),
        proptest::option::of(membership()),
    )
        .prop_map(|(e, l, data, membership)| Entry {
            epoch: Epoch(e),
            lsn: Lsn(l),
            kind: match membership {
                Some(m) => EntryKind::Membership(Box::new(m)),
                None => data.map_or(EntryKind::Noop, |d| EntryKind::Command(d.into())),
            },
        })
}

fn membership() -> impl Strategy<Value = Membership> {
    (
        proptest::collection::btree_set(any::<u64>().prop_map(NodeId), 0..4),
        proptest::collection::btree_set(any::<u64>().prop_map(NodeId), 0..3),
    )
        .prop_map(|(voters, learners)| Membership { voters, learners })
}

fn snapshot_meta() -> impl Strategy<Value = SnapshotMeta> {
    (position(), membership(), any::<u64>(), any::<u32>()).prop_map(
        |(position, membership, size, checksum)| SnapshotMeta {
            position,
            membership,
            size,
            checksum,
        },
    )
}

fn message() -> impl Strategy<Value = Message> {
    let epoch = any::<u64>().prop_map(Epoch);
    prop_oneof![
        (
            epoch.clone(),
            position(),
            proptest::collection::vec(entry(), 0..4),
            any::<u64>(),
            any::<u64>()
        )
            .prop_map(|(epoch, prev, entries, c, round)| Message::Append {
                epoch,
                prev,
                entries,
                commit: Lsn(c),
                round,
            }),
        (epoch.clone(), any::<u64>(), any::<u64>(), any::<u64>()).prop_map(
            |(epoch, m, a, round)| Message::AppendResponse {
                epoch,
                result: AppendResult::Accepted {
                    matched: Lsn(m),
                    applied: Lsn(a),
                },
                round,
            }
        ),
        (epoch.clone(), any::<u64>(), position(), any::<u64>()).prop_map(
            |(epoch, r, hint, round)| Message::AppendResponse {
                epoch,
                result: AppendResult::Rejected {
                    rejected_prev: Lsn(r),
                    hint,
                },
                round,
            }
        ),
        (epoch.clone(), position(), any::<bool>(), any::<bool>()).prop_map(
            |(epoch, last, pre_vote, transfer)| Message::RequestVote {
                epoch,
                last,
                pre_vote,
                transfer
            }
        ),
        (epoch.clone(), any::<bool>(), any::<bool>()).prop_map(|(epoch, pre_vote, granted)| {
            Message::VoteResponse {
                epoch,
                pre_vote,
                granted,
            }
        }),
        epoch
            .clone()
            .prop_map(|epoch| Message::TimeoutNow { epoch }),
        (
            epoch.clone(),
            snapshot_meta(),
            any::<u64>(),
            proptest::collection::vec(any::<u8>(), 0..32),
            any::<bool>()
        )
            .prop_map(|(epoch, snapshot, offset, data, done)| {
                Message::InstallSnapshot {
                    epoch,
                    snapshot: Box::new(snapshot),
                    offset,
                    data,
                    done,
                }
            }),
        (epoch, position(), any::<u64>()).prop_map(|(epoch, snapshot, next_offset)| {
            Message::InstallSnapshotResponse {
                epoch,
                snapshot,
                next_offset,
            }
        }),
    ]
}

proptest! {
    #[test]
    fn decode_inverts_encode(from in any::<u64>(), to in any::<u64>(), message in message()) {
        let envelope = Envelope { from: NodeId(from), to: NodeId(to), message };
        let bytes = encode(&envelope).expect("plain data encodes");
        prop_assert_eq!(decode(&bytes), Ok(envelope));
    }

    #[test]
    fn decode_is_total_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        // Any outcome is fine as long as it is a value or a typed error.
        let _ = decode(&bytes);
    }

    #[test]
    fn truncated_encodings_are_rejected(message in message(), cut in any::<prop::sample::Index>()) {
        let envelope = Envelope { from: NodeId(1), to: NodeId(2), message };
        let bytes = encode(&envelope).expect("plain data encodes");
        let cut = cut.index(bytes.len());
        prop_assert!(decode(&bytes[..cut]).is_err());
    }
}

#[test]
fn wrong_version_and_trailing_bytes_are_typed_errors() {
    let envelope = Envelope {
        from: NodeId(1),
        to: NodeId(2),
        message: Message::TimeoutNow { epoch: Epoch(3) },
    };
    let mut bytes = encode(&envelope).unwrap();
    bytes.push(0);
    assert_eq!(decode(&bytes), Err(WireError::Trailing(1)));
    bytes[0] = 9;
    assert_eq!(
        decode(&bytes),
        Err(WireError::Version {
            found: 9,
            expected: WIRE_VERSION
        })
    );
    assert_eq!(decode(&[]), Err(WireError::Empty));
}

#[test]
fn a_hostile_length_prefix_is_rejected_without_allocating_it() {
    // An Append claiming u64::MAX entries in a handful of bytes.
    let mut bytes = vec![WIRE_VERSION, 1, 2, 0, 1, 1, 1];
    bytes.extend([0xff; 9]);
    bytes.push(0x01);
    assert!(matches!(decode(&bytes), Err(WireError::Malformed(_))));
}
