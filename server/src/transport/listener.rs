//! The acceptor's side: accept connections, check each hello, answer it,
//! and hand accepted connections to their peer's task.

use super::connection::{self, Connection};
use super::handshake::{self, Frame, Greeting, Refusal, MAX_HANDSHAKE_BYTES};
use super::stats::Counters;
use super::{Shared, HANDSHAKE_TIMEOUT};
use futures_util::{SinkExt, StreamExt};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// How long to pause accepting after `accept` fails (e.g. out of file
/// descriptors), so that a persistent failure does not spin.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Accept connections until shutdown; each gets its own handshake task.
pub(crate) async fn run(shared: Arc<Shared>, listener: TcpListener) {
    let node = shared.local.node;
    loop {
        let accepted = shared.shutdown.run_until_cancelled(listener.accept()).await;
        match accepted {
            None => return,
            Some(Ok((stream, from))) => {
                let task_shared = Arc::clone(&shared);
                shared.tasks.spawn_on(
                    async move {
                        let greeting = greet(&task_shared, stream, from);
                        task_shared.shutdown.run_until_cancelled(greeting).await;
                    },
                    &shared.runtime,
                );
            }
            Some(Err(e)) => {
                tracing::warn!(%node, error = %e, "accept failed");
                let pause = tokio::time::sleep(ACCEPT_PAUSE);
                if shared.shutdown.run_until_cancelled(pause).await.is_none() {
                    return;
                }
            }
        }
    }
}

/// Read the hello on a connection from `from`, answer it, and hand the
/// connection on if accepted.
async fn greet(shared: &Shared, stream: TcpStream, from: SocketAddr) {
    let node = shared.local.node;
    let mut connection = connection::framed(stream);
    let hello = match tokio::time::timeout(HANDSHAKE_TIMEOUT, connection.next()).await {
        Ok(Some(Ok(hello))) => hello,
        Ok(Some(Err(e))) if e.kind() == ErrorKind::InvalidData => {
            let reason = Refusal::TooLong {
                limit: MAX_HANDSHAKE_BYTES,
            };
            return refuse(shared, connection, from, reason).await;
        }
        Ok(Some(Err(e))) => {
            tracing::debug!(%node, %from, error = %e, "connection failed before its hello");
            return;
        }
        Ok(None) => {
            tracing::debug!(%node, %from, "connection closed before its hello");
            return;
        }
        Err(_) => {
            tracing::debug!(%node, %from, "no hello within {HANDSHAKE_TIMEOUT:?}: closing");
            return;
        }
    };
    let greeting = match handshake::check_hello(&hello, shared.local, |peer| shared.is_peer(peer)) {
        Ok(greeting) => greeting,
        Err(reason) => return refuse(shared, connection, from, reason).await,
    };
    let peer = greeting.from;
    let Some(handover) = shared.handover(peer) else {
        tracing::debug!(%node, %peer, "peer removed during its handshake: closing");
        return;
    };
    let accept = Frame::Accept(Greeting {
        cluster_id: shared.local.cluster_id,
        from: node,
        to: peer,
    });
    if let Err(e) = answer(&mut connection, &accept).await {
        tracing::debug!(%node, %peer, error = %e, "could not accept the handshake");
        return;
    }
    connection::open_for_envelopes(&mut connection);
    if handover.send(connection).await.is_err() {
        tracing::debug!(%node, %peer, "peer removed during its handshake: closing");
    }
}

/// Count and log a refused hello, and tell the dialer why before closing.
async fn refuse(shared: &Shared, mut connection: Connection, from: SocketAddr, reason: Refusal) {
    Counters::bump(&shared.counters.refused_handshakes);
    tracing::warn!(node = %shared.local.node, %from, %reason, "refused a peer's handshake");
    if let Err(e) = answer(&mut connection, &Frame::Refuse(reason)).await {
        tracing::debug!(node = %shared.local.node, %from, error = %e, "could not send the refusal");
    }
}

/// Send a handshake answer, within [`HANDSHAKE_TIMEOUT`].
async fn answer(connection: &mut Connection, frame: &Frame) -> std::io::Result<()> {
    let sent = tokio::time::timeout(HANDSHAKE_TIMEOUT, connection.send(handshake::encode(frame)));
    match sent.await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(
            ErrorKind::TimedOut,
            format!("no progress within {HANDSHAKE_TIMEOUT:?}"),
        )),
    }
}
