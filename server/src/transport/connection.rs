//! One established connection to a peer, after the handshake: a write loop
//! that drains the peer's queue into frames, and a read loop that checks
//! each frame received and hands it on. Both run until either ends.

use super::handshake::MAX_HANDSHAKE_BYTES;
use super::stats::Counters;
use super::Shared;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use steadfast::wire::{self, MAX_ENVELOPE_BYTES};
use steadfast::{Envelope, NodeId};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// A connection in length-delimited frames.
pub(crate) type Connection = Framed<TcpStream, LengthDelimitedCodec>;

/// The most envelopes written before a flush.
const MAX_BATCH: usize = 64;

/// Why a connection ended.
#[derive(Debug)]
pub(crate) enum End {
    /// The peer's queue was closed: the peer was removed.
    QueueClosed,
    /// The peer closed the connection.
    PeerClosed,
    /// Reading or writing failed.
    Failed(std::io::Error),
}

/// `stream` in length-delimited frames, reading at most a handshake frame
/// until [`open_for_envelopes`] is called.
pub(crate) fn framed(stream: TcpStream) -> Connection {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY");
    }
    let codec = LengthDelimitedCodec::builder()
        .max_frame_length(MAX_HANDSHAKE_BYTES)
        .new_codec();
    Framed::new(stream, codec)
}

/// Raise the frame limit to [`MAX_ENVELOPE_BYTES`], once the handshake is
/// done.
pub(crate) fn open_for_envelopes(connection: &mut Connection) {
    connection
        .codec_mut()
        .set_max_frame_length(MAX_ENVELOPE_BYTES);
}

/// Carry envelopes to and from `peer` over `connection` until it breaks,
/// the peer closes it, or the queue closes.
pub(crate) async fn run(
    shared: &Shared,
    peer: NodeId,
    connection: Connection,
    queue: &mut mpsc::Receiver<Envelope>,
) -> End {
    let (sink, stream) = connection.split();
    tokio::select! {
        end = write_loop(shared, peer, sink, queue) => end,
        end = read_loop(shared, peer, stream) => end,
    }
}

/// Write the queue's envelopes, flushing after each batch of those ready.
async fn write_loop(
    shared: &Shared,
    peer: NodeId,
    mut sink: SplitSink<Connection, Bytes>,
    queue: &mut mpsc::Receiver<Envelope>,
) -> End {
    loop {
        let Some(first) = queue.recv().await else {
            return End::QueueClosed;
        };
        let mut next = Some(first);
        let mut taken = 0;
        let mut written = 0;
        while let Some(envelope) = next {
            taken += 1;
            if let Some(frame) = encode(shared, peer, &envelope) {
                if let Err(e) = sink.feed(frame).await {
                    return End::Failed(e);
                }
                written += 1;
            }
            next = if taken < MAX_BATCH {
                queue.try_recv().ok()
            } else {
                None
            };
        }
        if let Err(e) = sink.flush().await {
            return End::Failed(e);
        }
        Counters::add(&shared.counters.sent, written);
    }
}

/// The frame for `envelope`, or `None` (counted as dropped) when it cannot
/// be encoded within the frame limit.
fn encode(shared: &Shared, peer: NodeId, envelope: &Envelope) -> Option<Bytes> {
    let failure = match wire::encode(envelope) {
        Ok(bytes) if bytes.len() <= MAX_ENVELOPE_BYTES => return Some(Bytes::from(bytes)),
        Ok(bytes) => format!(
            "{} bytes, over the limit of {MAX_ENVELOPE_BYTES}",
            bytes.len()
        ),
        Err(e) => e.to_string(),
    };
    Counters::bump(&shared.counters.dropped);
    tracing::warn!(node = %shared.local.node, %peer, kind = envelope.message.kind(), %failure, "envelope not sent");
    None
}

/// Read frames until the peer closes the connection or reading fails.
async fn read_loop(shared: &Shared, peer: NodeId, mut stream: SplitStream<Connection>) -> End {
    while let Some(frame) = stream.next().await {
        match frame {
            Ok(bytes) => deliver(shared, peer, &bytes),
            Err(e) => return End::Failed(e),
        }
    }
    End::PeerClosed
}

/// Hand a frame received from `peer` to the inbound channel, if it holds an
/// envelope from `peer` to this node; count it either way.
fn deliver(shared: &Shared, peer: NodeId, frame: &[u8]) {
    let node = shared.local.node;
    let envelope = match wire::decode(frame) {
        Ok(envelope) if envelope.from == peer && envelope.to == node => envelope,
        Ok(envelope) => {
            Counters::bump(&shared.counters.invalid);
            tracing::warn!(%node, %peer, from = %envelope.from, to = %envelope.to, "dropped an envelope not from the connection's peer to this node");
            return;
        }
        Err(e) => {
            Counters::bump(&shared.counters.invalid);
            tracing::warn!(%node, %peer, error = %e, "dropped an undecodable frame");
            return;
        }
    };
    match shared.inbound.try_send(envelope) {
        Ok(()) => Counters::bump(&shared.counters.received),
        Err(TrySendError::Full(envelope)) => {
            Counters::bump(&shared.counters.inbound_dropped);
            tracing::debug!(%node, %peer, kind = envelope.message.kind(), "inbound channel full: envelope dropped");
        }
        Err(TrySendError::Closed(_)) => {
            Counters::bump(&shared.counters.inbound_dropped);
            tracing::debug!(%node, %peer, "inbound channel closed: envelope dropped");
        }
    }
}
