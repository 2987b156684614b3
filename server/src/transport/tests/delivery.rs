//! What arrives: every envelope in every direction, again after either
//! side restarts, and the queued ones after a peer comes up; what a full
//! queue drops.

use super::*;

#[tokio::test]
async fn three_transports_deliver_every_message_in_every_direction_in_order() {
    const EACH: u64 = 50;
    let ids = [1, 2, 3];
    let mut nodes = cluster(&ids).await;
    for (i, &from) in ids.iter().enumerate() {
        for &to in ids.iter().filter(|&&to| to != from) {
            for n in 0..EACH {
                assert!(
                    nodes[i].0.send(append(from, to, n)),
                    "{from} -> {to} #{n} queued"
                );
            }
        }
    }
    for (i, &to) in ids.iter().enumerate() {
        let mut next: BTreeMap<u64, u64> = BTreeMap::new();
        for _ in 0..2 * EACH {
            let envelope = recv(&mut nodes[i].1).await;
            let from = envelope.from.0;
            let n = next.entry(from).or_default();
            assert_eq!(
                envelope,
                append(from, to, *n),
                "intact, and in order from {from}"
            );
            *n += 1;
        }
        assert_eq!(
            next,
            BTreeMap::from_iter(ids.iter().filter(|&&f| f != to).map(|&f| (f, EACH)))
        );
        assert!(nodes[i].1.try_recv().is_err(), "nothing more");
    }
    for (transport, _) in &nodes {
        until("every envelope counted as sent", || {
            transport.stats().sent == 2 * EACH
        })
        .await;
        let stats = transport.stats();
        assert_eq!(
            (
                stats.received,
                stats.dropped,
                stats.invalid,
                stats.inbound_dropped,
                stats.refused_handshakes
            ),
            (2 * EACH, 0, 0, 0, 0),
            "{stats:?}"
        );
    }
    for (transport, _) in &nodes {
        transport.shutdown().await;
    }
}

/// Send numbered envelopes from `from` until one arrives at `to`; returns
/// once one has (the first ones may be lost with a dying connection).
/// Envelopes numbered below `first` (left over from an earlier call) are
/// passed over.
async fn until_one_arrives(
    from: (&Transport, u64),
    to: (&mut Receiver<Envelope>, u64),
    first: u64,
) {
    let (sender, from_id) = from;
    let (inbox, to_id) = to;
    within("an envelope through a new connection", async {
        for n in first.. {
            sender.send(append(from_id, to_id, n));
            let wait = tokio::time::timeout(Duration::from_millis(20), inbox.recv());
            if let Ok(Some(envelope)) = wait.await {
                assert_eq!(envelope.from, NodeId(from_id));
                if matches!(envelope.message, Message::Append { round, .. } if round >= first) {
                    return;
                }
            }
        }
    })
    .await;
}

#[tokio::test]
async fn the_dialer_reconnects_to_an_acceptor_restarted_on_the_same_address() {
    let mut nodes = cluster(&[1, 2]).await;
    let (acceptor, _) = nodes.pop().expect("node 2");
    let (dialer, mut dialer_inbox) = nodes.pop().expect("node 1");
    let addr = acceptor.local_addr();
    until_one_arrives((&acceptor, 2), (&mut dialer_inbox, 1), 1000).await;
    acceptor.shutdown().await;
    until("the dialer notices", || dialer.stats().connected.is_empty()).await;

    let mut restarted = config(CLUSTER, 2, addr);
    restarted.peers.insert(NodeId(1), dialer.local_addr());
    let (acceptor, mut acceptor_inbox) = start(restarted).await;
    assert_eq!(acceptor.local_addr(), addr);
    until_one_arrives((&dialer, 1), (&mut acceptor_inbox, 2), 2000).await;
    until_one_arrives((&acceptor, 2), (&mut dialer_inbox, 1), 3000).await;
    assert_eq!(dialer.stats().connected, BTreeSet::from([NodeId(2)]));
    acceptor.shutdown().await;
    dialer.shutdown().await;
}

#[tokio::test]
async fn an_acceptor_takes_the_connection_of_a_restarted_dialer() {
    let mut nodes = cluster(&[1, 2]).await;
    let (acceptor, mut acceptor_inbox) = nodes.pop().expect("node 2");
    let (dialer, _) = nodes.pop().expect("node 1");
    dialer.shutdown().await;

    let mut restarted = config(CLUSTER, 1, any_port());
    restarted.peers.insert(NodeId(2), acceptor.local_addr());
    let (dialer, mut dialer_inbox) = start(restarted).await;
    acceptor.add_peer(NodeId(1), dialer.local_addr()); // its new address
    until_one_arrives((&dialer, 1), (&mut acceptor_inbox, 2), 4000).await;
    until_one_arrives((&acceptor, 2), (&mut dialer_inbox, 1), 5000).await;
    assert_eq!(acceptor.stats().refused_handshakes, 0);
    acceptor.shutdown().await;
    dialer.shutdown().await;
}

#[tokio::test]
async fn a_full_queue_drops_without_blocking_and_the_queued_envelopes_go_out_later() {
    const CAPACITY: u64 = 8;
    const EXTRA: u64 = 5;
    let peer_addr = free_port();
    let mut node = config(CLUSTER, 1, any_port());
    node.queue_capacity = CAPACITY as usize;
    node.peers.insert(NodeId(2), peer_addr);
    let (dialer, _inbox) = start(node).await;

    let accepted: Vec<bool> = (0..CAPACITY + EXTRA)
        .map(|n| dialer.send(append(1, 2, n)))
        .collect();
    let expected: Vec<bool> = (0..CAPACITY + EXTRA).map(|n| n < CAPACITY).collect();
    assert_eq!(accepted, expected);
    assert_eq!(dialer.stats().dropped, EXTRA);
    assert!(!dialer.send(append(1, 9, 0)), "no such peer");
    assert!(!dialer.send(append(3, 2, 0)), "not from this node");
    assert_eq!(dialer.stats().dropped, EXTRA + 2);

    let mut peer = config(CLUSTER, 2, peer_addr);
    peer.peers.insert(NodeId(1), dialer.local_addr());
    let (peer, mut peer_inbox) = start(peer).await;
    for n in 0..CAPACITY {
        assert_eq!(recv(&mut peer_inbox).await, append(1, 2, n));
    }
    until("all counted as sent", || dialer.stats().sent == CAPACITY).await;
    peer.shutdown().await;
    dialer.shutdown().await;
    assert!(!dialer.send(append(1, 2, 0)), "shut down");
}

#[tokio::test]
async fn a_newer_connection_from_a_peer_replaces_the_older_one() {
    let (acceptor, mut inbox) = start(config(CLUSTER, 2, any_port())).await;
    acceptor.add_peer(NodeId(1), free_port());
    let mut older = dial_by_hand(acceptor.local_addr(), 1, 2).await;
    let only_1 = BTreeSet::from([NodeId(1)]);
    until("connected", || acceptor.stats().connected == only_1).await;
    let mut newer = dial_by_hand(acceptor.local_addr(), 1, 2).await;
    let end = within("the older connection closed", older.next()).await;
    assert!(
        !matches!(end, Some(Ok(_))),
        "no frame on the older connection: {end:?}"
    );

    assert!(acceptor.send(append(2, 1, 0)));
    let sent = within("a frame on the newer connection", newer.next()).await;
    let sent = sent.expect("a frame").expect("read");
    assert_eq!(steadfast::wire::decode(&sent), Ok(append(2, 1, 0)));
    within("send", newer.send(frame(&append(1, 2, 5))))
        .await
        .expect("sent");
    assert_eq!(recv(&mut inbox).await, append(1, 2, 5));
    let stats = acceptor.stats();
    assert_eq!((stats.connected, stats.refused_handshakes), (only_1, 0));
    acceptor.shutdown().await;
}
