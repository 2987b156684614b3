//! What is kept out: nodes of another cluster, strangers, other
//! protocols, bad frames from a peer, and bad configurations.

use super::*;
use crate::transport::handshake::MAGIC;
use tokio::net::TcpStream;

/// `dialer` dials `acceptor` until refused at least twice; neither side
/// ever delivers an envelope or counts the peer connected.
async fn assert_refused(
    acceptor: (Transport, Receiver<Envelope>),
    dialer: (Transport, Receiver<Envelope>),
    dialer_id: u64,
    acceptor_id: u64,
) {
    let (acceptor, mut acceptor_inbox) = acceptor;
    let (dialer, mut dialer_inbox) = dialer;
    assert!(
        dialer.send(append(dialer_id, acceptor_id, 0)),
        "queued while not connected"
    );
    until("two refusals", || acceptor.stats().refused_handshakes >= 2).await;
    assert!(
        acceptor_inbox.try_recv().is_err(),
        "nothing delivered to the acceptor"
    );
    assert!(
        dialer_inbox.try_recv().is_err(),
        "nothing delivered to the dialer"
    );
    assert!(acceptor.stats().connected.is_empty());
    assert!(dialer.stats().connected.is_empty());
    assert_eq!(acceptor.stats().received, 0);
    acceptor.shutdown().await;
    dialer.shutdown().await;
}

#[tokio::test]
async fn a_node_of_another_cluster_is_refused() {
    let acceptor = start(config(CLUSTER, 2, any_port())).await;
    let dialer = start(config(CLUSTER + 1, 1, any_port())).await;
    acceptor.0.add_peer(NodeId(1), dialer.0.local_addr());
    dialer.0.add_peer(NodeId(2), acceptor.0.local_addr());
    assert_refused(acceptor, dialer, 1, 2).await;
}

#[tokio::test]
async fn a_node_not_in_the_peer_set_is_refused() {
    let acceptor = start(config(CLUSTER, 5, any_port())).await;
    let stranger = start(config(CLUSTER, 3, any_port())).await;
    acceptor.0.add_peer(NodeId(2), free_port());
    stranger.0.add_peer(NodeId(5), acceptor.0.local_addr());
    assert_refused(acceptor, stranger, 3, 5).await;
}

#[tokio::test]
async fn bad_frames_from_a_peer_are_dropped_and_counted_and_the_connection_stays_up() {
    let (acceptor, mut inbox) = start(config(CLUSTER, 2, any_port())).await;
    acceptor.add_peer(NodeId(1), free_port());
    let mut connection = dial_by_hand(acceptor.local_addr(), 1, 2).await;
    let bad = [
        Bytes::from_static(b"not an envelope"),
        Bytes::new(),
        frame(&append(3, 2, 0)), // not from the connection's peer
        frame(&append(1, 4, 0)), // not to this node
    ];
    for bytes in bad {
        within("send", connection.send(bytes)).await.expect("sent");
    }
    within("send", connection.send(frame(&append(1, 2, 7))))
        .await
        .expect("sent");
    assert_eq!(recv(&mut inbox).await, append(1, 2, 7));
    let stats = acceptor.stats();
    assert_eq!((stats.invalid, stats.received), (4, 1), "{stats:?}");
    assert_eq!(stats.connected, BTreeSet::from([NodeId(1)]));

    assert!(
        acceptor.send(append(2, 1, 3)),
        "queued for the hand-made peer"
    );
    let reply = within("a reply", connection.next())
        .await
        .expect("a frame")
        .expect("ok");
    assert_eq!(steadfast::wire::decode(&reply), Ok(append(2, 1, 3)));
    acceptor.shutdown().await;
}

#[tokio::test]
async fn a_stranger_speaking_another_protocol_is_refused_without_harm() {
    let (acceptor, mut inbox) = start(config(CLUSTER, 2, any_port())).await;
    acceptor.add_peer(NodeId(1), free_port());
    let mut stream = within("connect", TcpStream::connect(acceptor.local_addr()))
        .await
        .expect("connected");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    within(
        "write",
        stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    )
    .await
    .expect("written");
    let mut answer = Vec::new();
    within("the refusal and the close", stream.read_to_end(&mut answer))
        .await
        .expect("read");
    assert!(
        answer.windows(4).any(|w| w == MAGIC),
        "a refusal frame: {answer:?}"
    );
    let mut short = within("connect", TcpStream::connect(acceptor.local_addr()))
        .await
        .expect("connected");
    within("write", short.write_all(&[0, 0, 0, 3, b'a', b'b', b'c']))
        .await
        .expect("written");
    until("two refusals", || acceptor.stats().refused_handshakes == 2).await;
    assert!(inbox.try_recv().is_err());
    assert!(acceptor.stats().connected.is_empty());
    acceptor.shutdown().await;
}

#[tokio::test]
async fn bad_configurations_are_refused_at_start() {
    let (inbound, _received) = mpsc::channel(1);
    let mut zero_queue = config(CLUSTER, 1, any_port());
    zero_queue.queue_capacity = 0;
    let mut bad_backoff = config(CLUSTER, 1, any_port());
    bad_backoff.backoff_min = Duration::from_secs(3);
    let mut self_peer = config(CLUSTER, 1, any_port());
    self_peer.peers.insert(NodeId(1), any_port());
    let taken = start(config(CLUSTER, 9, any_port())).await.0;
    let bind = config(CLUSTER, 1, taken.local_addr());
    for (config, expected) in [
        (zero_queue, "queue_capacity is 0"),
        (bad_backoff, "backoff from 3s to 100ms"),
        (self_peer, "node n1 is listed among its own peers"),
        (bind, "bind 127.0.0.1:"),
    ] {
        match Transport::start(config, inbound.clone()).await {
            Ok(_) => panic!("started despite: {expected}"),
            Err(e) => assert!(e.to_string().starts_with(expected), "{e}"),
        }
    }
    taken.shutdown().await;
}
