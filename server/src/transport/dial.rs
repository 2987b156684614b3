//! The dialer's side of opening a connection: connect, send the hello,
//! check the answer.

use super::connection::{self, Connection};
use super::handshake::{self, Answer, Frame, Greeting};
use super::{Shared, TransportError, HANDSHAKE_TIMEOUT};
use futures_util::{SinkExt, StreamExt};
use std::future::Future;
use std::net::SocketAddr;
use steadfast::NodeId;
use tokio::net::TcpStream;

/// Connect to `peer` at `addr` and complete the handshake; the connection
/// returned is ready for envelopes.
pub(crate) async fn dial(
    shared: &Shared,
    peer: NodeId,
    addr: SocketAddr,
) -> Result<Connection, TransportError> {
    let io = |action| {
        move |source| TransportError::Io {
            action,
            peer,
            addr,
            source,
        }
    };
    let stream = within("connect to", peer, addr, TcpStream::connect(addr))
        .await?
        .map_err(io("connect to"))?;
    let mut connection = connection::framed(stream);
    let hello = Frame::Hello(Greeting {
        cluster_id: shared.local.cluster_id,
        from: shared.local.node,
        to: peer,
    });
    within(
        "send a hello to",
        peer,
        addr,
        connection.send(handshake::encode(&hello)),
    )
    .await?
    .map_err(io("send a hello to"))?;
    let answer = match within("await the answer of", peer, addr, connection.next()).await? {
        Some(Ok(answer)) => answer,
        Some(Err(e)) => return Err(io("read the answer of")(e)),
        None => return Err(TransportError::Closed { peer, addr }),
    };
    match handshake::check_answer(&answer, shared.local, peer) {
        Ok(Answer::Accepted) => {
            connection::open_for_envelopes(&mut connection);
            Ok(connection)
        }
        Ok(Answer::Refused(reason)) => Err(TransportError::Refused { peer, addr, reason }),
        Err(reason) => Err(TransportError::BadAnswer { peer, addr, reason }),
    }
}

/// `step`, unless it takes longer than [`HANDSHAKE_TIMEOUT`].
async fn within<T>(
    action: &'static str,
    peer: NodeId,
    addr: SocketAddr,
    step: impl Future<Output = T>,
) -> Result<T, TransportError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, step)
        .await
        .map_err(|_| TransportError::Timeout {
            action,
            peer,
            addr,
            after: HANDSHAKE_TIMEOUT,
        })
}
