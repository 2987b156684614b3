//! The fault-injecting TCP proxy between peers.
//!
//! Every node listens for peers on a private port; the address every other
//! node knows it by is a [`Proxy`] that forwards to that port. The proxy is
//! frame-aware: peers speak a handshake and then length-delimited frames
//! (4-byte big-endian length, as tokio-util's `LengthDelimitedCodec`), so it
//! learns from the dialer's hello which directed pair each direction of a
//! connection carries, and applies the [`Network`]'s [`Action`] for that
//! pair to every whole frame: pass, drop, delay, or cut (close the
//! connection and close new ones). Dropping one direction only makes a
//! one-way partition; cutting or dropping between two groups makes
//! majority/minority and bridge partitions.

mod hello;
mod rules;

pub use hello::{encode as encode_hello, parse as parse_hello, Hello};
pub use rules::{Action, Network, Rules};

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// The longest frame forwarded (peers' own limit is lower).
const MAX_FRAME: usize = 64 << 20;

/// How long a new connection may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

type Frames = Framed<TcpStream, LengthDelimitedCodec>;

/// Why a proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A running proxy; it stops (with every connection it carries) when
/// dropped.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listen on `listen` and forward every connection to `target`, under
    /// the rules of `network`.
    pub async fn start(
        listen: SocketAddr,
        target: SocketAddr,
        network: &Network,
    ) -> Result<Proxy, ProxyError> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| ProxyError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ProxyError::Bind {
            addr: listen,
            source,
        })?;
        let link = Link {
            rules: network.watch(),
            dropped: network.drop_counter(),
        };
        let task = tokio::spawn(accept_loop(listener, target, link));
        Ok(Proxy { addr, task })
    }

    /// Where it listens (what peers dial).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What every relay of a proxy shares: the rules, and the drop counter.
#[derive(Clone)]
struct Link {
    rules: watch::Receiver<Rules>,
    dropped: Arc<AtomicU64>,
}

async fn accept_loop(listener: TcpListener, target: SocketAddr, link: Link) {
    // Dropping the set (when the task is aborted) aborts every relay.
    let mut relays = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    relays.spawn(relay(stream, target, link.clone()));
                }
                Err(e) => {
                    tracing::debug!("proxy for {target}: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = relays.join_next(), if !relays.is_empty() => {}
        }
    }
}

fn framed(stream: TcpStream) -> Frames {
    let _ = stream.set_nodelay(true);
    let codec = LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_codec();
    Framed::new(stream, codec)
}

/// Carry one connection: read the hello, then pump frames both ways until
/// either side closes or the pair is cut.
async fn relay(inbound: TcpStream, target: SocketAddr, link: Link) {
    let mut rules = link.rules.clone();
    let mut dialer = framed(inbound);
    let first = match tokio::time::timeout(HELLO_TIMEOUT, dialer.next()).await {
        Ok(Some(Ok(frame))) => frame.freeze(),
        _ => return,
    };
    // Not a hello: nothing to go by; forward nothing.
    let Some(Hello { from, to }) = parse_hello(&first) else {
        return;
    };
    if rules.borrow_and_update().is_cut(from, to) {
        return;
    }
    let Ok(upstream) = TcpStream::connect(target).await else {
        return;
    };
    let mut acceptor = framed(upstream);
    if acceptor.send(first).await.is_err() {
        return;
    }
    let (dialer_sink, dialer_stream) = dialer.split();
    let (acceptor_sink, acceptor_stream) = acceptor.split();
    let cut = async {
        loop {
            if rules.changed().await.is_err() {
                return std::future::pending::<()>().await;
            }
            if rules.borrow_and_update().is_cut(from, to) {
                return;
            }
        }
    };
    tokio::select! {
        () = pump(dialer_stream, acceptor_sink, link.clone(), from, to) => {}
        () = pump(acceptor_stream, dialer_sink, link.clone(), to, from) => {}
        () = cut => {}
    }
}

/// Forward the frames of `stream` (all from `from` to `to`) to `sink` as
/// the rules say, until either side closes or the pair is cut.
async fn pump(
    mut stream: SplitStream<Frames>,
    mut sink: SplitSink<Frames, Bytes>,
    link: Link,
    from: u64,
    to: u64,
) {
    let (queue, mut queued) = mpsc::unbounded_channel::<(Instant, Bytes)>();
    let read = async move {
        while let Some(Ok(frame)) = stream.next().await {
            let action = link.rules.borrow().action(from, to);
            match rules::delay_of(action) {
                Some(delay) => {
                    if queue
                        .send((Instant::now() + delay, frame.freeze()))
                        .is_err()
                    {
                        return;
                    }
                }
                None if action == Action::Cut => return,
                None => {
                    link.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    };
    let write = async move {
        while let Some((at, frame)) = queued.recv().await {
            tokio::time::sleep_until(at).await;
            if sink.send(frame).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        () = read => {}
        () = write => {}
    }
}

#[cfg(test)]
mod tests;
