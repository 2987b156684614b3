//! Property checks shared by the cargo-fuzz targets (`fuzz/`) and the stable
//! corpus replay test (`tests/tests/fuzz_corpus.rs`).
//!
//! Each `check_*` function takes arbitrary bytes and panics when a property
//! is violated; returning normally means the input was handled correctly.
//! A fuzz target is a one-line call to one of them, and every corpus and
//! regression input is replayed through the same function by `cargo test`.
//!
//! The decoder checks run three things on every input:
//!
//! 1. **Raw bytes**: decoding never panics; whatever decodes re-encodes to
//!    bytes that decode to the same value. (Allocation is bounded by the
//!    fuzzer's `-malloc_limit_mb`, see `fuzz/run.sh`.)
//! 2. **Raw body in a valid envelope** (log formats only): the input wrapped
//!    in a frame with a correct checksum, so the body decoders are reached
//!    although arbitrary bytes almost never carry a valid CRC32C.
//! 3. **Structure-aware round trip**: the input, read as an
//!    [`arbitrary::Unstructured`], builds a value `x`, and
//!    `decode(encode(x)) == x` (or, for values the format cannot carry, a
//!    typed error).
//!
//! [`check_cluster`] is the stateful target: see [`cluster`] for its event
//! language, invariants and threat model.
//!
//! [`check_snapshot`] drives snapshot chunks between a real leader and a
//! real follower: see [`snapshot`] for its steps and properties.
//!
//! [`check_restart`] restarts a replica from arbitrary durable state: see
//! [`restart`] for what it must refuse and what must hold when it accepts.

pub mod cluster;
pub mod restart;
pub mod snapshot;

pub use cluster::check_cluster;
pub use restart::check_restart;
pub use snapshot::check_snapshot;

use arbitrary::{Arbitrary, Unstructured};
use steadfast::wire::{self, Envelope};
use steadfast_formats::frame::{self, Decoded, Frame, FrameConfig, RecordKind, SegmentEnd};
use steadfast_formats::{logical, physical, statement, trigger, DecodeError};

/// A check function: panics if `bytes` exposes a violated property.
pub type Check = fn(&[u8]);

/// Every fuzz target by name, with its check. The names are the cargo-fuzz
/// target names and the directory names under `fuzz/corpus/` and
/// `fuzz/regressions/`.
pub const TARGETS: &[(&str, Check)] = &[
    ("wire", check_wire),
    ("frame", check_frame),
    ("segment", check_segment),
    ("statement", check_statement),
    ("physical", check_physical),
    ("logical", check_logical),
    ("trigger", check_trigger),
    ("cluster", check_cluster),
    ("snapshot", check_snapshot),
    ("restart", check_restart),
];

/// The check registered for the target `name`.
pub fn check_for(name: &str) -> Option<Check> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

const KINDS: [RecordKind; 4] = [
    RecordKind::Statement,
    RecordKind::Physical,
    RecordKind::Logical,
    RecordKind::Trigger,
];

/// Builds an `arbitrary` value from `bytes`, or `None` if they run out.
fn structured<'a, T: Arbitrary<'a>>(bytes: &'a [u8]) -> Option<T> {
    T::arbitrary(&mut Unstructured::new(bytes)).ok()
}

// ----- wire ------------------------------------------------------------

/// The wire codec: raw bytes never panic, and an accepted envelope
/// re-encodes canonically (no longer than the input) to bytes that decode
/// to the same envelope; any arbitrary envelope round-trips.
pub fn check_wire(bytes: &[u8]) {
    match wire::decode(bytes) {
        Ok(envelope) => {
            let again = wire::encode(&envelope).expect("a decoded envelope encodes");
            assert!(
                again.len() <= bytes.len(),
                "canonical encoding ({} bytes) is longer than an accepted one ({} bytes)",
                again.len(),
                bytes.len()
            );
            assert_eq!(
                wire::decode(&again),
                Ok(envelope),
                "re-decoding changed the envelope"
            );
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
    if let Some(envelope) = structured::<Envelope>(bytes) {
        let encoded = wire::encode(&envelope).expect("every envelope encodes");
        assert_eq!(wire::decode(&encoded), Ok(envelope), "envelope round trip");
    }
}

// ----- framing -----------------------------------------------------------

/// Checks one decoded frame against the bytes it came from: the envelope is
/// canonical, so re-encoding gives exactly those bytes.
fn assert_frame_canonical(frame: &Frame, bytes: &[u8]) {
    assert_eq!(
        frame.encode(),
        bytes,
        "a decoded frame must re-encode to its exact bytes"
    );
    assert!(frame.kind.supported_versions().contains(&frame.version));
}

/// Record framing: `decode`, `decode_frame` and the per-format decoders on
/// raw bytes; structured frames round-trip, every strict prefix asks for
/// more bytes, and only the decoder of the frame's kind may accept it.
pub fn check_frame(bytes: &[u8]) {
    let config = FrameConfig::default();
    match frame::decode(bytes) {
        Ok(frame) => assert_frame_canonical(&frame, bytes),
        Err(error) => {
            let _ = error.to_string();
        }
    }
    match frame::decode_frame(bytes, &config) {
        Ok(Decoded::Record { frame, consumed }) => {
            assert!(consumed >= frame::HEADER_LEN && consumed <= bytes.len());
            assert_frame_canonical(&frame, &bytes[..consumed]);
        }
        Ok(Decoded::NeedMore { needed }) => {
            assert!(
                needed > bytes.len(),
                "NeedMore must ask for more than it has"
            );
        }
        Err(_) => {}
    }
    // A small limit is enforced from the header alone.
    let small = FrameConfig { max_body_len: 8 };
    if let Ok(Decoded::Record { frame, .. }) = frame::decode_frame(bytes, &small) {
        assert!(frame.body.len() <= 8, "the body limit was not enforced");
    }
    let _ = decode_with_every_format(bytes);

    if let Some(frame) = structured::<Frame>(bytes) {
        let encoded = frame.encode();
        match frame::decode(&encoded) {
            Ok(decoded) => assert_eq!(decoded, frame, "frame round trip"),
            Err(frame::FrameError::UnknownVersion { .. }) => {
                assert!(!frame.kind.supported_versions().contains(&frame.version));
            }
            Err(error) => panic!("a well-formed frame was refused: {error}"),
        }
        if frame.kind.supported_versions().contains(&frame.version) {
            // Every strict prefix is a valid prefix: "need more", never an error.
            for cut in [
                0,
                1,
                4,
                frame::HEADER_LEN - 1,
                frame::HEADER_LEN,
                encoded.len() - 1,
            ] {
                if cut < encoded.len() {
                    assert!(matches!(
                        frame::decode_frame(&encoded[..cut], &config),
                        Ok(Decoded::NeedMore { needed }) if needed > cut
                    ));
                }
            }
            let accepted = decode_with_every_format(&encoded);
            for (kind, ok) in KINDS.iter().zip(accepted) {
                assert!(
                    !ok || *kind == frame.kind,
                    "a {kind:?} decoder accepted a {:?} record",
                    frame.kind
                );
            }
        }
    }
}

/// Which of the four format decoders accept `bytes` (and for those that
/// do, the JSON export of a logical event does not panic).
fn decode_with_every_format(bytes: &[u8]) -> [bool; 4] {
    let logical = logical::decode(bytes);
    if let Ok(event) = &logical {
        let _ = logical::to_json_lines(std::slice::from_ref(event));
    }
    [
        statement::decode(bytes).is_ok(),
        physical::decode(bytes).is_ok(),
        logical.is_ok(),
        trigger::decode(bytes).is_ok(),
    ]
}

/// The log-segment stream decoder: on raw bytes, the records it returns are
/// back to back from offset 0, each re-encodes to its exact bytes, and the
/// end (clean, truncated or corrupt) is where decoding stopped; a segment
/// built from arbitrary frames decodes to exactly those frames, and every
/// cut of it reports a truncated tail at the right record.
pub fn check_segment(bytes: &[u8]) {
    let config = FrameConfig::default();
    let segment = frame::decode_segment(bytes, &config);
    let mut offset = 0;
    for (at, frame) in &segment.records {
        assert_eq!(*at, offset, "records must be back to back");
        let encoded = frame.encode();
        assert_eq!(
            bytes.get(offset..offset + encoded.len()),
            Some(&encoded[..])
        );
        offset += encoded.len();
    }
    let valid = segment.valid_len(bytes.len());
    assert_eq!(valid, offset, "the valid prefix ends after the last record");
    match &segment.end {
        SegmentEnd::Clean => assert_eq!(offset, bytes.len()),
        SegmentEnd::Truncated { offset: at, .. } => {
            assert!(matches!(
                frame::decode_frame(&bytes[*at..], &config),
                Ok(Decoded::NeedMore { .. })
            ));
        }
        SegmentEnd::Corrupt { offset: at, error } => {
            assert_eq!(
                frame::decode_frame(&bytes[*at..], &config),
                Err(error.clone())
            );
        }
    }

    if let Some(frames) = structured::<Vec<Frame>>(bytes) {
        let frames: Vec<Frame> = frames
            .into_iter()
            .map(|mut f| {
                let versions = f.kind.supported_versions();
                if !versions.contains(&f.version) {
                    f.version = *versions.end();
                }
                f
            })
            .collect();
        let mut stream = Vec::new();
        let mut starts = Vec::new();
        for f in &frames {
            starts.push(stream.len());
            stream.extend(f.encode());
        }
        let segment = frame::decode_segment(&stream, &config);
        assert_eq!(segment.end, SegmentEnd::Clean);
        let decoded: Vec<Frame> = segment.records.into_iter().map(|(_, f)| f).collect();
        assert_eq!(decoded, frames, "segment round trip");
        // Cut the stream inside its last record: every earlier record
        // survives and the tail is reported as truncated where it starts.
        if let (Some(&last_start), Some(last)) = (starts.last(), frames.last()) {
            let len = last.encode().len();
            let cut = last_start + (bytes.len() % len);
            let torn = frame::decode_segment(&stream[..cut], &config);
            assert_eq!(torn.records.len(), frames.len() - 1);
            if cut == last_start {
                assert_eq!(torn.end, SegmentEnd::Clean);
            } else {
                assert!(
                    matches!(torn.end, SegmentEnd::Truncated { offset, .. } if offset == last_start),
                    "a torn tail must be reported at its start: {:?}",
                    torn.end
                );
            }
        }
    }
}

// ----- the four log formats ----------------------------------------------

/// The shared shape of a format check: raw bytes, the input as a body in a
/// valid envelope of every supported version, then `structured` on the
/// input read as `arbitrary` data.
fn check_format<T, E>(
    kind: RecordKind,
    bytes: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, DecodeError>,
    encode: E,
) where
    T: PartialEq + std::fmt::Debug,
    E: Fn(&T) -> Vec<u8>,
{
    let reencodes = |value: T| {
        let again = encode(&value);
        assert_eq!(
            decode(&again),
            Ok(value),
            "a decoded record must round-trip"
        );
    };
    match decode(bytes) {
        Ok(value) => reencodes(value),
        Err(error) => {
            let _ = error.to_string();
        }
    }
    for version in kind.supported_versions() {
        let framed = Frame::new(kind, version, bytes.to_vec()).encode();
        match decode(&framed) {
            Ok(value) => reencodes(value),
            Err(DecodeError::Body { kind: k, error }) => {
                assert_eq!(k, kind);
                let _ = error.to_string();
            }
            Err(other) => panic!("a valid envelope was refused: {other}"),
        }
    }
    for other in KINDS {
        if other != kind {
            let framed = Frame::new(other, *other.supported_versions().end(), bytes.to_vec());
            assert!(matches!(
                decode(&framed.encode()),
                Err(DecodeError::WrongKind { .. })
            ));
        }
    }
}

/// The statement-based format.
pub fn check_statement(bytes: &[u8]) {
    check_format(
        RecordKind::Statement,
        bytes,
        statement::decode,
        statement::encode,
    );
    if let Some(record) = structured::<statement::StatementRecord>(bytes) {
        assert_eq!(statement::decode(&statement::encode(&record)), Ok(record));
    }
}

/// The physical (WAL shipping) format. Arbitrary page writes are first
/// used as they are (any page not exactly `PAGE_SIZE` bytes must be
/// refused), then resized to `PAGE_SIZE` (which must round-trip).
pub fn check_physical(bytes: &[u8]) {
    check_format(
        RecordKind::Physical,
        bytes,
        physical::decode,
        physical::encode,
    );
    if let Some(mut record) = structured::<physical::WalRecord>(bytes) {
        let page_size = steadfast_formats::store::PAGE_SIZE;
        let sizes_ok = record.writes.iter().all(|w| w.bytes.len() == page_size);
        let decoded = physical::decode(&physical::encode(&record));
        if sizes_ok {
            assert_eq!(decoded, Ok(record));
        } else {
            assert!(
                matches!(decoded, Err(DecodeError::Body { .. })),
                "a page write of the wrong size was accepted"
            );
            for write in &mut record.writes {
                write.bytes.resize(page_size, 0);
            }
            assert_eq!(physical::decode(&physical::encode(&record)), Ok(record));
        }
    }
}

/// The logical (row-based) format, in both versions: version 2 carries
/// every event; version 1 drops schema versions and refuses schema events.
pub fn check_logical(bytes: &[u8]) {
    check_format(RecordKind::Logical, bytes, logical::decode, logical::encode);
    if let Some(event) = structured::<logical::LogicalEvent>(bytes) {
        assert_eq!(logical::decode(&logical::encode(&event)), Ok(event.clone()));
        let _ = logical::to_json_lines(std::slice::from_ref(&event));
        match logical::encode_v1(&event) {
            Ok(v1) => {
                let mut expected = event;
                match &mut expected {
                    logical::LogicalEvent::Insert { schema_version, .. }
                    | logical::LogicalEvent::Update { schema_version, .. }
                    | logical::LogicalEvent::Delete { schema_version, .. } => {
                        *schema_version = None;
                    }
                    logical::LogicalEvent::Schema(_) => {
                        panic!("a schema event was written in version 1")
                    }
                    logical::LogicalEvent::Begin { .. } | logical::LogicalEvent::Commit { .. } => {}
                }
                assert_eq!(logical::decode(&v1), Ok(expected), "version 1 round trip");
            }
            Err(logical::LogicalEncodeError::SchemaInVersion1) => {
                assert!(matches!(event, logical::LogicalEvent::Schema(_)));
            }
        }
    }
}

/// The trigger-based format.
pub fn check_trigger(bytes: &[u8]) {
    check_format(RecordKind::Trigger, bytes, trigger::decode, trigger::encode);
    if let Some(row) = structured::<trigger::ChangeRow>(bytes) {
        let encoded = trigger::encode(&row);
        assert_eq!(trigger::decode(&encoded), Ok(row.clone()));
        let frame = frame::decode(&encoded).expect("an encoded row is a valid frame");
        assert_eq!(trigger::from_frame(&frame), Ok(row));
    }
}

/// `message` as if sent in epoch `to` (for stale and forged messages).
/// The fuzz targets' own statement of the rule (an oracle, written apart
/// from the core's): whether a replica in `epoch` hears `message` from a
/// sender outside its membership. A leader's append or snapshot chunk of
/// that epoch or a later one, and any vote request, are heard (the
/// membership in force can leave out a correct leader or candidate).
pub(crate) fn heard_from_strangers(message: &steadfast::Message, epoch: steadfast::Epoch) -> bool {
    use steadfast::Message;
    match message {
        Message::Append { epoch: e, .. } | Message::InstallSnapshot { epoch: e, .. } => *e >= epoch,
        Message::RequestVote { .. } => true,
        _ => false,
    }
}

pub(crate) fn set_epoch(message: &mut steadfast::Message, to: steadfast::Epoch) {
    use steadfast::Message;
    match message {
        Message::Append { epoch, .. }
        | Message::AppendResponse { epoch, .. }
        | Message::RequestVote { epoch, .. }
        | Message::VoteResponse { epoch, .. }
        | Message::TimeoutNow { epoch }
        | Message::InstallSnapshot { epoch, .. }
        | Message::InstallSnapshotResponse { epoch, .. } => *epoch = to,
    }
}
