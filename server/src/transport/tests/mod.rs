//! Transports on 127.0.0.1 talking to each other: delivery in every
//! direction, refused handshakes, reconnection, full queues, and bad frames
//! from a peer. Every wait is bounded (`PATIENCE`), never a fixed sleep.

mod delivery;
mod hostile;

use super::handshake::{self, Frame, Greeting};
use super::*;
use futures_util::{SinkExt, StreamExt};
use std::future::Future;
use steadfast::{Bytes, Entry, EntryKind, Epoch, Lsn, Message, Position};
use tokio::net::TcpStream;
use tokio::sync::mpsc::Receiver;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// The longest any test waits for something that should happen.
const PATIENCE: Duration = Duration::from_secs(5);
const CLUSTER: u64 = 7;

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A port nothing listens on (bound, read, released).
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind(any_port()).expect("bind a probe listener");
    listener.local_addr().expect("the probe's address")
}

fn config(cluster_id: u64, node: u64, listen: SocketAddr) -> TransportConfig {
    let mut config = TransportConfig::new(cluster_id, NodeId(node), listen, BTreeMap::new());
    config.backoff_min = Duration::from_millis(10);
    config.backoff_max = Duration::from_millis(100);
    config
}

async fn start(config: TransportConfig) -> (Transport, Receiver<Envelope>) {
    let (inbound, received) = mpsc::channel(4096);
    let transport = Transport::start(config, inbound)
        .await
        .unwrap_or_else(|e| panic!("transport did not start: {e}"));
    (transport, received)
}

/// An append from `from` to `to` whose payload names both and `n`.
fn append(from: u64, to: u64, n: u64) -> Envelope {
    let entry = Entry {
        epoch: Epoch(2),
        lsn: Lsn(n + 1),
        kind: EntryKind::Command(Bytes::from(format!("{from} -> {to} #{n}"))),
    };
    Envelope {
        from: NodeId(from),
        to: NodeId(to),
        message: Message::Append {
            epoch: Epoch(2),
            prev: Position::new(Epoch(1), Lsn(n)),
            entries: vec![entry],
            commit: Lsn(n),
            round: n,
        },
    }
}

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {PATIENCE:?}"))
}

async fn recv(received: &mut Receiver<Envelope>) -> Envelope {
    within("an envelope", received.recv())
        .await
        .expect("the inbound channel is open")
}

/// Wait until `condition` holds, polling.
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    within(what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

/// Transports for `ids`, each knowing all the others, and connected.
/// Acceptors learn their peers before dialers dial them (larger ids first),
/// so no handshake is refused for a peer not yet added.
async fn cluster(ids: &[u64]) -> Vec<(Transport, Receiver<Envelope>)> {
    let mut nodes = Vec::new();
    for &id in ids {
        nodes.push(start(config(CLUSTER, id, any_port())).await);
    }
    let addrs: Vec<_> = nodes.iter().map(|(t, _)| t.local_addr()).collect();
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(ids[i]));
    for i in order {
        for (j, &id) in ids.iter().enumerate() {
            if i != j {
                nodes[i].0.add_peer(NodeId(id), addrs[j]);
            }
        }
    }
    for (i, (transport, _)) in nodes.iter().enumerate() {
        let others: BTreeSet<_> = ids
            .iter()
            .filter(|&&id| id != ids[i])
            .map(|&id| NodeId(id))
            .collect();
        until("every peer connected", || {
            transport.stats().connected == others
        })
        .await;
    }
    nodes
}

/// Dial `to` at `addr` by hand, as node `from`, and complete the handshake.
async fn dial_by_hand(
    addr: SocketAddr,
    from: u64,
    to: u64,
) -> Framed<TcpStream, LengthDelimitedCodec> {
    let stream = within("connect", TcpStream::connect(addr))
        .await
        .expect("connected");
    let mut connection = Framed::new(stream, LengthDelimitedCodec::new());
    let hello = Frame::Hello(Greeting {
        cluster_id: CLUSTER,
        from: NodeId(from),
        to: NodeId(to),
    });
    within("send the hello", connection.send(handshake::encode(&hello)))
        .await
        .expect("hello sent");
    let answer = within("the answer", connection.next()).await;
    let answer = answer.expect("an answer").expect("a frame");
    assert!(
        matches!(handshake::decode(&answer), Ok(Frame::Accept(_))),
        "{answer:?}"
    );
    connection
}

/// The frame holding `envelope`.
fn frame(envelope: &Envelope) -> Bytes {
    Bytes::from(steadfast::wire::encode(envelope).expect("a test envelope encodes"))
}

/// Hosts share the transport between tasks and spawn its futures.
#[test]
fn the_transport_and_its_futures_can_move_between_threads() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    fn spawnable<T: std::future::Future + Send>(_: &T) {}
    shareable::<Transport>();
    let (inbound, _received) = mpsc::channel(1);
    spawnable(&Transport::start(config(CLUSTER, 1, any_port()), inbound));
    let _ = |transport: Transport| async move { spawnable(&transport.shutdown()) };
}
