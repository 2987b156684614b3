//! The handshake that opens every connection between two peers, before any
//! envelope: the dialer says which cluster it belongs to, who it is and whom
//! it dialed; the acceptor checks that and answers with an accept or a
//! refusal that says why. Pure functions over byte strings: the exchange
//! itself is in `transport/dial.rs` (dialer) and `transport/listener.rs`
//! (acceptor).
//!
//! Each handshake frame is one length-delimited frame, like the envelopes
//! that follow it, holding (integers big-endian):
//!
//! ```text
//! magic    4 bytes  "SFPX"
//! version  1 byte   HANDSHAKE_VERSION
//! kind     1 byte   1 hello (dialer), 2 accept, 3 refuse (acceptor)
//! hello, accept:  cluster_id u64, from u64, to u64         (30 bytes in all)
//! refuse:         reason code u8, two u64 details          (23 bytes in all)
//! ```
//!
//! An accept carries the acceptor's own greeting, so the dialer checks it
//! reached the node it meant to, in the cluster it meant to.

mod refusal;

#[cfg(test)]
mod tests;

pub use refusal::Refusal;

use bytes::Bytes;
use steadfast::NodeId;

/// The first bytes of every handshake frame.
pub(crate) const MAGIC: [u8; 4] = *b"SFPX";
/// The handshake version this build speaks.
pub(crate) const HANDSHAKE_VERSION: u8 = 1;
/// The longest frame read before the handshake is done: a stranger cannot
/// make this node buffer more than this before it has said who it is.
pub(crate) const MAX_HANDSHAKE_BYTES: usize = 64;

const HELLO: u8 = 1;
const ACCEPT: u8 = 2;
const REFUSE: u8 = 3;
const HEADER_LEN: usize = 6;
const GREETING_LEN: usize = HEADER_LEN + 24;
const REFUSAL_LEN: usize = HEADER_LEN + 17;

/// Who is talking to whom: the body of a hello and of an accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Greeting {
    /// The sender's cluster.
    pub cluster_id: u64,
    /// The sender.
    pub from: NodeId,
    /// The node the sender means to talk to.
    pub to: NodeId,
}

/// One handshake frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// Dialer → acceptor, first.
    Hello(Greeting),
    /// Acceptor → dialer: the hello was accepted; envelopes may follow.
    Accept(Greeting),
    /// Acceptor → dialer: the hello was refused; the acceptor closes.
    Refuse(Refusal),
}

/// The node a handshake is checked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Local {
    /// This node's cluster.
    pub cluster_id: u64,
    /// This node.
    pub node: NodeId,
}

/// What a dialer's handshake came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The acceptor accepted, and its greeting checked out.
    Accepted,
    /// The acceptor refused, for this reason.
    Refused(Refusal),
}

/// The bytes of `frame`.
pub(crate) fn encode(frame: &Frame) -> Bytes {
    let mut out = Vec::with_capacity(GREETING_LEN);
    out.extend_from_slice(&MAGIC);
    out.push(HANDSHAKE_VERSION);
    match frame {
        Frame::Hello(greeting) | Frame::Accept(greeting) => {
            out.push(if matches!(frame, Frame::Hello(_)) {
                HELLO
            } else {
                ACCEPT
            });
            out.extend_from_slice(&greeting.cluster_id.to_be_bytes());
            out.extend_from_slice(&greeting.from.0.to_be_bytes());
            out.extend_from_slice(&greeting.to.0.to_be_bytes());
        }
        Frame::Refuse(refusal) => {
            let (code, a, b) = refusal.to_wire();
            out.push(REFUSE);
            out.push(code);
            out.extend_from_slice(&a.to_be_bytes());
            out.extend_from_slice(&b.to_be_bytes());
        }
    }
    Bytes::from(out)
}

/// The frame in `bytes`, or why they are not one. Total: any byte string
/// gives a frame or a refusal.
pub(crate) fn decode(bytes: &[u8]) -> Result<Frame, Refusal> {
    let (header, body) = bytes.split_at_checked(HEADER_LEN).ok_or(Refusal::Length {
        found: bytes.len(),
        expected: HEADER_LEN,
    })?;
    let [m0, m1, m2, m3, version, kind] = *header else {
        return Err(Refusal::Length {
            found: bytes.len(),
            expected: HEADER_LEN,
        });
    };
    if [m0, m1, m2, m3] != MAGIC {
        return Err(Refusal::Magic {
            found: [m0, m1, m2, m3],
        });
    }
    if version != HANDSHAKE_VERSION {
        return Err(Refusal::Version {
            found: version,
            expected: HANDSHAKE_VERSION,
        });
    }
    let expected = match kind {
        HELLO | ACCEPT => GREETING_LEN,
        REFUSE => REFUSAL_LEN,
        found => return Err(Refusal::Kind { found }),
    };
    if bytes.len() != expected {
        return Err(Refusal::Length {
            found: bytes.len(),
            expected,
        });
    }
    let word = |at: usize| -> u64 {
        let mut word = [0u8; 8];
        if let Some(slice) = body.get(at..at + 8) {
            word.copy_from_slice(slice);
        }
        u64::from_be_bytes(word)
    };
    Ok(match kind {
        REFUSE => {
            let code = body.first().copied().unwrap_or_default();
            Frame::Refuse(Refusal::from_wire(code, word(1), word(9))?)
        }
        _ => {
            let greeting = Greeting {
                cluster_id: word(0),
                from: NodeId(word(8)),
                to: NodeId(word(16)),
            };
            if kind == HELLO {
                Frame::Hello(greeting)
            } else {
                Frame::Accept(greeting)
            }
        }
    })
}

/// Check a dialer's hello on the acceptor `local`: same cluster, addressed
/// to this node, from one of its peers (`is_peer`), and from a node with a
/// smaller id. Returns the greeting, or the reason to refuse it.
pub(crate) fn check_hello(
    bytes: &[u8],
    local: Local,
    is_peer: impl FnOnce(NodeId) -> bool,
) -> Result<Greeting, Refusal> {
    let greeting = match decode(bytes)? {
        Frame::Hello(greeting) => greeting,
        Frame::Accept(_) => return Err(Refusal::Kind { found: ACCEPT }),
        Frame::Refuse(_) => return Err(Refusal::Kind { found: REFUSE }),
    };
    check_greeting(greeting, local)?;
    if !is_peer(greeting.from) {
        return Err(Refusal::UnknownPeer(greeting.from));
    }
    if greeting.from >= local.node {
        return Err(Refusal::Direction {
            from: greeting.from,
            to: local.node,
        });
    }
    Ok(greeting)
}

/// Check the acceptor's answer to the hello `local` sent to `peer`: a
/// refusal, or an accept from `peer` in this cluster addressed to this node.
/// An answer that is neither is an error, with the reason.
pub(crate) fn check_answer(bytes: &[u8], local: Local, peer: NodeId) -> Result<Answer, Refusal> {
    let greeting = match decode(bytes)? {
        Frame::Accept(greeting) => greeting,
        Frame::Refuse(refusal) => return Ok(Answer::Refused(refusal)),
        Frame::Hello(_) => return Err(Refusal::Kind { found: HELLO }),
    };
    check_greeting(greeting, local)?;
    if greeting.from != peer {
        return Err(Refusal::WrongPeer {
            found: greeting.from,
            expected: peer,
        });
    }
    Ok(Answer::Accepted)
}

/// The checks a hello and an accept share: the cluster, and the addressee.
fn check_greeting(greeting: Greeting, local: Local) -> Result<(), Refusal> {
    if greeting.cluster_id != local.cluster_id {
        return Err(Refusal::Cluster {
            found: greeting.cluster_id,
            expected: local.cluster_id,
        });
    }
    if greeting.to != local.node {
        return Err(Refusal::WrongNode {
            found: greeting.to,
            expected: local.node,
        });
    }
    Ok(())
}
