//! The proxy in-process: a dialer and an acceptor speaking frames through
//! it, under each action, per direction. No timing is asserted: frames that
//! must not arrive are shown missing by a marker frame sent after them.

use super::*;

/// An acceptor on a fresh port, a proxy in front of it, and a network.
struct Setup {
    network: Network,
    proxy: Proxy,
    acceptor: TcpListener,
}

async fn setup() -> Setup {
    let acceptor = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = acceptor.local_addr().unwrap();
    let network = Network::new();
    let proxy = Proxy::start("127.0.0.1:0".parse().unwrap(), target, &network)
        .await
        .unwrap();
    Setup {
        network,
        proxy,
        acceptor,
    }
}

/// Node 1 dials node 2 through the proxy; returns both ends, after the
/// hello went through.
async fn connect(setup: &Setup) -> (Frames, Frames) {
    let mut dialer = framed(TcpStream::connect(setup.proxy.addr()).await.unwrap());
    dialer
        .send(Bytes::from(encode_hello(9, 1, 2)))
        .await
        .unwrap();
    let (stream, _) = setup.acceptor.accept().await.unwrap();
    let mut acceptor = framed(stream);
    let hello = acceptor.next().await.unwrap().unwrap();
    assert_eq!(parse_hello(&hello), Some(Hello { from: 1, to: 2 }));
    (dialer, acceptor)
}

async fn next(frames: &mut Frames) -> Option<Bytes> {
    match frames.next().await {
        Some(Ok(frame)) => Some(frame.freeze()),
        _ => None,
    }
}

#[tokio::test]
async fn frames_pass_both_ways() {
    let setup = setup().await;
    let (mut dialer, mut acceptor) = connect(&setup).await;
    dialer.send(Bytes::from_static(b"ping")).await.unwrap();
    assert_eq!(next(&mut acceptor).await.as_deref(), Some(&b"ping"[..]));
    acceptor.send(Bytes::from_static(b"pong")).await.unwrap();
    assert_eq!(next(&mut dialer).await.as_deref(), Some(&b"pong"[..]));
}

#[tokio::test]
async fn a_drop_is_per_direction() {
    let setup = setup().await;
    let (mut dialer, mut acceptor) = connect(&setup).await;
    // 2 -> 1 is dropped; 1 -> 2 still passes.
    setup.network.update(|rules| rules.set(2, 1, Action::Drop));
    acceptor.send(Bytes::from_static(b"lost")).await.unwrap();
    dialer.send(Bytes::from_static(b"kept")).await.unwrap();
    assert_eq!(next(&mut acceptor).await.as_deref(), Some(&b"kept"[..]));
    // Wait (no deadline) until the proxy has thrown "lost" away, so that
    // healing cannot bring it back.
    while setup.network.dropped() == 0 {
        tokio::task::yield_now().await;
    }
    assert_eq!(setup.network.dropped(), 1);
    setup.network.heal();
    acceptor.send(Bytes::from_static(b"after")).await.unwrap();
    assert_eq!(next(&mut dialer).await.as_deref(), Some(&b"after"[..]));
}

#[tokio::test]
async fn a_delay_keeps_the_frames_and_their_order() {
    let setup = setup().await;
    let (mut dialer, mut acceptor) = connect(&setup).await;
    setup
        .network
        .update(|rules| rules.set(1, 2, Action::Delay { ms: 20 }));
    for frame in [&b"one"[..], b"two", b"three"] {
        dialer.send(Bytes::copy_from_slice(frame)).await.unwrap();
    }
    for expected in [&b"one"[..], b"two", b"three"] {
        assert_eq!(next(&mut acceptor).await.as_deref(), Some(expected));
    }
}

#[tokio::test]
async fn a_cut_closes_the_connection_and_refuses_new_ones_until_healed() {
    let setup = setup().await;
    let (mut dialer, mut acceptor) = connect(&setup).await;
    setup.network.update(|rules| rules.set(1, 2, Action::Cut));
    assert_eq!(
        next(&mut dialer).await,
        None,
        "the dialer's side was closed"
    );
    assert_eq!(next(&mut acceptor).await, None, "the acceptor's side too");
    // A new connection is closed right after its hello, never reaching
    // the acceptor.
    let mut again = framed(TcpStream::connect(setup.proxy.addr()).await.unwrap());
    again
        .send(Bytes::from(encode_hello(9, 1, 2)))
        .await
        .unwrap();
    assert_eq!(next(&mut again).await, None);
    setup.network.heal();
    let (mut dialer, mut acceptor) = connect(&setup).await;
    dialer.send(Bytes::from_static(b"back")).await.unwrap();
    assert_eq!(next(&mut acceptor).await.as_deref(), Some(&b"back"[..]));
}

#[tokio::test]
async fn a_connection_that_does_not_say_hello_is_not_forwarded() {
    let setup = setup().await;
    let mut stranger = framed(TcpStream::connect(setup.proxy.addr()).await.unwrap());
    stranger
        .send(Bytes::from_static(b"GET / HTTP/1.1"))
        .await
        .unwrap();
    assert_eq!(next(&mut stranger).await, None);
    // The acceptor never saw it: the next connection is the first it gets.
    let (mut dialer, mut acceptor) = connect(&setup).await;
    dialer.send(Bytes::from_static(b"ok")).await.unwrap();
    assert_eq!(next(&mut acceptor).await.as_deref(), Some(&b"ok"[..]));
}
