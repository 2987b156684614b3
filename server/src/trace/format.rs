//! What a trace file holds: a header naming everything the replica was
//! built from, then every call the host made into it, in order.
//!
//! One record per call: inputs ([`InputRecord`]) with the value they
//! returned, and the outputs the host pulled ([`Polled`]: consecutive
//! `poll_output` calls, ending with the `None` that drained the queue and
//! the `poll_timeout` asked then). A clean shutdown ends the file with
//! [`Record::End`]. Records are postcard-encoded and framed like the
//! write-ahead log's (length, CRC32C, body: see `storage::record`).

use serde::{Deserialize, Serialize};
use steadfast::wire::Message;
use steadfast::{
    Bytes, Config, Durable, Instant, MembershipChange, NodeId, Output, Position, ReadDecision,
    ReadId, RequestId, SessionToken,
};

/// The version of the record layout; a reader refuses any other.
pub const FORMAT_VERSION: u32 = 1;

/// Trace files end with this extension.
pub const EXTENSION: &str = "trace";

/// One framed record of a trace file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// The first record: how the replica was built.
    Header(Box<Header>),
    /// One input call and what it returned.
    Input(InputRecord),
    /// Outputs pulled since the last record.
    Polled(Polled),
    /// The node stopped cleanly (the last record).
    End {
        /// Wall-clock time, nanoseconds since the Unix epoch.
        at_ns: u64,
    },
}

/// Everything needed to build the replica exactly as the host did:
/// `Replica::restart(config, durable, now)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT_VERSION`] when written.
    pub format: u32,
    /// The node that recorded this trace.
    pub node: NodeId,
    /// The cluster it belongs to.
    pub cluster_id: u64,
    /// The recording process.
    pub pid: u32,
    /// Wall-clock time the replica was built, nanoseconds since the Unix
    /// epoch (one machine-wide clock for every node of a run).
    pub started_ns: u64,
    /// The core's configuration (its seed included).
    pub config: Config,
    /// The durable state the replica was restarted from.
    pub durable: Durable,
    /// The `now` it was restarted at.
    pub now: Instant,
}

/// One input call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    /// Wall-clock time just before the call, nanoseconds since the Unix
    /// epoch.
    pub at_ns: u64,
    /// The call and its arguments.
    pub input: Input,
    /// What the call returned.
    pub result: CallResult,
}

/// A call into the replica, with its arguments (`now` included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// `handle_timeout(now)`.
    Timeout {
        /// The core's time.
        now: Instant,
    },
    /// `handle_message(now, from, message)`.
    Message {
        /// The core's time.
        now: Instant,
        /// The sender.
        from: NodeId,
        /// The message.
        message: Message,
    },
    /// `propose(now, request, command)`.
    Propose {
        /// The core's time.
        now: Instant,
        /// The host's request id.
        request: RequestId,
        /// The payload.
        command: Bytes,
    },
    /// `handle_persisted(now, through)`.
    Persisted {
        /// The core's time.
        now: Instant,
        /// Durable through here.
        through: Position,
    },
    /// `transfer_leadership(now, target)`.
    TransferLeadership {
        /// The core's time.
        now: Instant,
        /// The node to hand over to.
        target: NodeId,
    },
    /// `read_index(now, read)`.
    ReadIndex {
        /// The core's time.
        now: Instant,
        /// The host's read id.
        read: ReadId,
    },
    /// `propose_membership(now, request, change)`.
    ProposeMembership {
        /// The core's time.
        now: Instant,
        /// The host's request id.
        request: RequestId,
        /// The change.
        change: MembershipChange,
    },
    /// `snapshot_taken(now, position, size, checksum)`.
    SnapshotTaken {
        /// The core's time.
        now: Instant,
        /// The snapshot's position.
        position: Position,
        /// Its size in bytes.
        size: u64,
        /// Its CRC32C.
        checksum: u32,
    },
    /// `handle_snapshot_chunk(now, to, snapshot, offset, data)`.
    SnapshotChunk {
        /// The core's time.
        now: Instant,
        /// The follower it is for.
        to: NodeId,
        /// The snapshot's position.
        snapshot: Position,
        /// Where the bytes start.
        offset: u64,
        /// The bytes.
        data: Vec<u8>,
    },
    /// `read_local(token)`: a query (it changes nothing), recorded with its
    /// decision.
    ReadLocal {
        /// The session token.
        token: SessionToken,
    },
}

impl Input {
    /// The message and its sender, for a `Message` input.
    pub fn message(&self) -> Option<(NodeId, &Message)> {
        match self {
            Input::Message { from, message, .. } => Some((*from, message)),
            _ => None,
        }
    }
}

/// What an input call returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallResult {
    /// `Ok(())`, or a call that returns nothing.
    Done,
    /// `Ok(position)` (proposals).
    Position(Position),
    /// A `read_local` decision.
    Decision(ReadDecision),
    /// The call refused the input: the error's `Debug` form.
    Refused(String),
}

impl CallResult {
    /// What a call returning `Result<(), E>` is recorded as.
    pub fn of<E: std::fmt::Debug>(result: &Result<(), E>) -> CallResult {
        match result {
            Ok(()) => CallResult::Done,
            Err(e) => CallResult::Refused(format!("{e:?}")),
        }
    }

    /// What a call returning `Result<Position, E>` is recorded as.
    pub fn of_position<E: std::fmt::Debug>(result: &Result<Position, E>) -> CallResult {
        match result {
            Ok(position) => CallResult::Position(*position),
            Err(e) => CallResult::Refused(format!("{e:?}")),
        }
    }
}

/// Consecutive `poll_output` calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Polled {
    /// Wall-clock time of the first of them, nanoseconds since the Unix
    /// epoch.
    pub at_ns: u64,
    /// The outputs returned, in order.
    pub outputs: Vec<Output>,
    /// `Some` when the last call returned `None` (the queue was drained),
    /// holding what `poll_timeout` answered then.
    pub drained: Option<Option<Instant>>,
}

/// Nanoseconds since the Unix epoch on the machine's clock (0 if the clock
/// is set before 1970).
pub fn wall_clock_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
