//! What the clients did: every operation with the time it was invoked, the
//! time it ended and how it ended.
//!
//! An operation ends in one of three ways, as in Jepsen: `Ok` (it took
//! effect, with this result), `Fail` (it certainly did not take effect: the
//! server refused it before doing anything) or `Unknown` (it may or may not
//! have taken effect, at any time after its invocation: a timeout, a lost
//! connection, a crashed node). Checkers must treat `Unknown` writes as
//! possibly applied, and may not assume anything about `Unknown` reads.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A client process. A client whose operation ended `Unknown` never invokes
/// again under the same id (the operation may still be in flight), so that
/// at most one operation per client is ever open.
pub type ClientId = u64;

/// A session (several operations that carry one session token).
pub type SessionId = u64;

/// How a read was asked to be served (the server's `consistency=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadMode {
    /// Read-index on the leader.
    Linearizable,
    /// A lease read on the leader.
    Lease,
    /// Any node, at or past the session token.
    Session,
    /// Any node, whatever it has applied.
    Stale,
}

/// A log position as the server reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Pos {
    /// The epoch.
    pub epoch: u64,
    /// The log sequence number.
    pub lsn: u64,
}

/// What a client asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "snake_case")]
pub enum Op {
    /// Write `value` to the register `key`. Values are unique per key over
    /// a run, so a read names the write it saw.
    Write {
        /// The register.
        key: String,
        /// The value (unique per key).
        value: u64,
    },
    /// Read the register `key`.
    Read {
        /// The register.
        key: String,
        /// How the read is served.
        mode: ReadMode,
    },
    /// Add `element` to the grow-only set (unique per run).
    Add {
        /// The element.
        element: u64,
    },
    /// Read the whole grow-only set.
    ReadSet {
        /// How the read is served.
        mode: ReadMode,
    },
}

/// What came back from an operation that ended `Ok`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OkValue {
    /// A write or add committed at this position.
    Written {
        /// Where it was committed.
        position: Pos,
    },
    /// A register read: the value (or none) and the position it observed.
    Value {
        /// The value read, `None` if the key was never written.
        value: Option<u64>,
        /// The log position the read observed.
        position: Pos,
    },
    /// A set read: every element, and the position it observed.
    Elements {
        /// The elements, ascending.
        elements: Vec<u64>,
        /// The log position the read observed.
        position: Pos,
    },
}

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    /// It took effect, with this result.
    Ok(OkValue),
    /// It certainly did not take effect; why.
    Fail {
        /// The reason as the client saw it.
        reason: String,
    },
    /// It may or may not have taken effect; why the client could not tell.
    Unknown {
        /// The reason as the client saw it.
        reason: String,
    },
}

/// One operation, from invocation to end.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Operation {
    /// Unique in the history, in order of invocation.
    pub id: u64,
    /// The client that invoked it.
    pub client: ClientId,
    /// The session whose token it carried, if any.
    pub session: Option<SessionId>,
    /// The node it was sent to (after redirects: the one that answered).
    pub node: u64,
    /// What was asked.
    pub op: Op,
    /// When it was invoked, since the start of the run.
    pub invoked: Duration,
    /// When the client saw it end, since the start of the run. For an
    /// `Unknown` operation this is when the client gave up; the operation
    /// may still take effect later.
    pub ended: Duration,
    /// How it ended.
    pub outcome: Outcome,
}

impl Operation {
    /// Whether it may have taken effect (ended `Ok` or `Unknown`).
    pub fn may_have_happened(&self) -> bool {
        !matches!(self.outcome, Outcome::Fail { .. })
    }
}

/// A whole run's operations, in order of invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The operations.
    pub operations: Vec<Operation>,
}
