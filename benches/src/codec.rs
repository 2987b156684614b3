//! W4: encode and decode of a 64-entry append, in each library's own wire
//! codec (steadfast: version byte + postcard; raft-rs: protobuf).

use crate::PAYLOAD;
use protobuf::Message as _;
use raft::eraftpb::{Entry as RaftEntry, Message as RaftMessage, MessageType};
use steadfast::wire::{decode, encode};
use steadfast::{Bytes, Entry, EntryKind, Envelope, Epoch, Lsn, Message, NodeId, Position};

/// Entries in the append W4 encodes.
pub const W4_ENTRIES: u64 = 64;

/// A steadfast `Append` of [`W4_ENTRIES`] entries of [`PAYLOAD`].
pub fn steadfast_append() -> Envelope {
    let payload = Bytes::from_static(&PAYLOAD);
    let entries = (1..=W4_ENTRIES)
        .map(|lsn| Entry {
            epoch: Epoch(3),
            lsn: Lsn(1000 + lsn),
            kind: EntryKind::Command(payload.clone()),
        })
        .collect();
    Envelope {
        from: NodeId(1),
        to: NodeId(2),
        message: Message::Append {
            epoch: Epoch(3),
            prev: Position::new(Epoch(3), Lsn(1000)),
            entries,
            commit: Lsn(1000),
            round: 7,
        },
    }
}

/// A raft-rs `MsgAppend` of [`W4_ENTRIES`] entries of [`PAYLOAD`].
pub fn raft_append() -> RaftMessage {
    let mut message = RaftMessage::default();
    message.set_msg_type(MessageType::MsgAppend);
    message.from = 1;
    message.to = 2;
    message.term = 3;
    message.log_term = 3;
    message.index = 1000;
    message.commit = 1000;
    for index in 1..=W4_ENTRIES {
        message.mut_entries().push(RaftEntry {
            term: 3,
            index: 1000 + index,
            data: PAYLOAD.to_vec().into(),
            ..RaftEntry::default()
        });
    }
    message
}

/// Encode and decode `envelope` once; returns the entries decoded.
pub fn steadfast_round_trip(envelope: &Envelope) -> usize {
    let bytes = encode(envelope).unwrap_or_default();
    match decode(&bytes) {
        Ok(Envelope {
            message: Message::Append { entries, .. },
            ..
        }) => entries.len(),
        Ok(_) | Err(_) => 0,
    }
}

/// Encode and decode `message` once; returns the entries decoded.
pub fn raft_round_trip(message: &RaftMessage) -> usize {
    let bytes = message.write_to_bytes().unwrap_or_default();
    RaftMessage::parse_from_bytes(&bytes).map_or(0, |m| m.entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_round_trips_keep_every_entry() {
        assert_eq!(steadfast_round_trip(&steadfast_append()), 64);
        assert_eq!(raft_round_trip(&raft_append()), 64);
    }
}
