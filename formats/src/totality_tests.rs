//! Every decoder is total: arbitrary bytes, raw or inside a valid
//! envelope, give a value or a typed error, never a panic.

use super::frame::{Frame, RecordKind};
use super::testing::decode_with_every_format;
use proptest::prelude::*;

proptest! {
    #[test]
    fn decoders_survive_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_with_every_format(&bytes);
    }

    #[test]
    fn decoders_survive_arbitrary_bodies_in_valid_frames(
        kind in prop_oneof![
            Just(RecordKind::Statement),
            Just(RecordKind::Physical),
            Just(RecordKind::Logical),
            Just(RecordKind::Trigger),
        ],
        version in 1u8..=2,
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let bytes = Frame::new(kind, version, body).encode();
        let decoded = decode_with_every_format(&bytes);
        // At most the format the frame names can accept it.
        let index = match kind {
            RecordKind::Statement => 0,
            RecordKind::Physical => 1,
            RecordKind::Logical => 2,
            RecordKind::Trigger => 3,
        };
        for (i, ok) in decoded.iter().enumerate() {
            prop_assert!(i == index || !ok);
        }
    }
}

#[test]
fn a_record_of_one_format_is_refused_by_the_others() {
    let bytes = super::trigger::encode(&super::trigger::ChangeRow {
        seq: 1,
        txid: 1,
        table: "t".into(),
        op: super::store::ChangeOp::Insert,
        key: 1,
        row: Default::default(),
    });
    assert_eq!(
        super::statement::decode(&bytes).unwrap_err().to_string(),
        "record is a Trigger record, expected a Statement record"
    );
    assert_eq!(
        decode_with_every_format(&bytes),
        [false, false, false, true]
    );
}
