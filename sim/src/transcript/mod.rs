//! Transcript tests in the style of etcd raft's `testdata/*.txt`: a script
//! of commands drives real [`Replica`]s step by step, and every message and
//! output they produce is printed in its one-line description
//! ([`steadfast::describe`]), so a reader sees the protocol work.
//!
//! Each node is a real `Replica` with the reference host's storage
//! ([`MemStorage`](crate::host::MemStorage), which performs the storage
//! side of every output), its own manual clock, and a queue of messages
//! addressed to it that are delivered only when a command says so.
//!
//! # Running and rewriting
//!
//! The scripts live in `sim/testdata/`; `sim/tests/transcripts.rs` runs
//! every one with `datadriven::walk`:
//!
//! ```text
//! cargo test -p steadfast-sim --test transcripts
//! ```
//!
//! After a deliberate change of behaviour or of a description, regenerate
//! the expected outputs with datadriven's rewrite switch (the `REWRITE`
//! environment variable; its value does not matter) and review the diff:
//!
//! ```text
//! REWRITE=1 cargo test -p steadfast-sim --test transcripts
//! git diff sim/testdata
//! ```
//!
//! `RUN=name.txt` limits a run to one script.
//!
//! # Commands
//!
//! Node ids are bare numbers (`campaign 1`); options are `key=value` or
//! `key=(a,b)`. Every input prints what caused it and, indented under it,
//! each output the replica produced, as the host performed it (storage
//! through `MemStorage`; `Send` queues the message for its recipient).
//!
//! - `add-nodes N [voters=(..)] [learners=(..)] [durability=quorum|async|all|semi-sync-K]
//!   [pre-vote=B] [check-quorum=B] [lease=MS] [retain=N] [chunk=BYTES]
//!   [max-entries=N] [in-flight=N] [seed=N] [storage=immediate|deferred]`:
//!   start N nodes (ids after the existing ones), all voters unless listed
//!   as learners. With `storage=deferred` log writes wait in the host's
//!   queue until `persist`, and a crash loses them.
//! - `persist ID [writes=N]`: make ID's first N queued log writes (default
//!   all) durable and report it to the replica.
//! - `campaign ID`: fire ID's election timeout (its clock jumps to the deadline).
//! - `tick [ID..] [ms=N]`: advance clocks by N ms (default 50), firing every
//!   deadline passed on the way; `tick-heartbeat [ID..]`: fire the next
//!   deadline of the leaders (or of ID..); `advance-clock [ID..] ms=N`: time
//!   passes without the node being told (no timeout fires).
//! - `propose ID [WORD]`: propose a write with the payload WORD, or one write
//!   per input line.
//! - `deliver-msgs [ID..] [drop=true] [type=KIND]`: deliver (or drop) the
//!   messages queued for ID.. (default: everyone), oldest first; KIND is
//!   the first word of a message's description (`Append` includes
//!   heartbeats, `RequestVote` pre-votes).
//! - `process-ready [ID..]`: perform outputs still waiting in the replicas.
//! - `stabilize [ID..]`: deliver and perform until no message is queued.
//! - `crash ID`, `restart ID` (from `MemStorage::durable`).
//! - `partition ID..` (those nodes against the rest), `isolate ID`, `heal`.
//! - `transfer-leader FROM TO` (FROM is whichever of the two leads), or
//!   `transfer-leader FROM to=TO`.
//! - `snapshot ID`: the host snapshots its state machine (`take_snapshot`).
//! - `add-learner ID`, `promote ID`, `remove ID` [via=LEADER]: a membership
//!   change on the leader; `add-learner` also starts ID's replica.
//! - `read-index ID [read=N]`; `read-local ID [write=(E,LSN)] [read=(E,LSN)]`
//!   (a session token: its last write and last read positions).
//! - `status ID`, `log ID`, `raft-state`.
//!
//! Messages to a crashed node or across a cut link are dropped, and the drop
//! is printed. Errors the core returns are printed, never panicked on.

mod admin;
mod args;
mod network;
mod node;
mod reads;
mod status;
mod steps;

pub use args::Args;

use network::Network;
use node::{Node, Options};
use std::collections::BTreeMap;
use std::fmt::{Display, Write};
use steadfast::{NodeId, Replica};

/// The state of one script: its nodes and their network.
#[derive(Clone, Debug, Default)]
pub struct Transcript {
    nodes: BTreeMap<NodeId, Node>,
    network: Network,
    options: Options,
    next_request: u64,
    next_read: u64,
}

impl Transcript {
    /// An empty transcript: no nodes yet.
    pub fn new() -> Transcript {
        Transcript::default()
    }

    /// Run one command; returns what it printed (errors included).
    pub fn run(&mut self, verb: &str, mut args: Args, input: &str) -> String {
        let mut out = String::new();
        let result = self
            .dispatch(verb, &mut args, input, &mut out)
            .and_then(|()| args.finish());
        if let Err(error) = result {
            line(&mut out, 0, format_args!("error: {error}"));
        }
        out
    }

    fn dispatch(
        &mut self,
        verb: &str,
        args: &mut Args,
        input: &str,
        out: &mut String,
    ) -> Result<(), String> {
        match verb {
            "add-nodes" => self.add_nodes(args, out),
            "campaign" => self.campaign(args.id()?, out),
            "tick" => {
                let ms = args.opt_or("ms", 50)?;
                self.tick(args.ids(), ms, out)
            }
            "tick-heartbeat" => self.tick_heartbeat(args.ids(), out),
            "advance-clock" => {
                let ms = args.opt("ms")?.ok_or("advance-clock needs ms=N")?;
                self.advance_clock(args.ids(), ms, out)
            }
            "propose" => {
                let id = args.id()?;
                let mut payloads = args.words();
                payloads.extend(input.lines().map(str::to_string));
                self.propose(id, payloads, out)
            }
            "deliver-msgs" => {
                let drop = args.opt_or("drop", false)?;
                let kind: Option<String> = args.opt("type")?;
                self.deliver_msgs(args.ids(), drop, kind.as_deref(), out)
            }
            "process-ready" => self.process_ready(args.ids(), out),
            "stabilize" => self.stabilize(args.ids(), out),
            "crash" => self.crash(args.id()?, out),
            "restart" => self.restart(args.id()?, out),
            "partition" => self.partition(args.ids(), out),
            "isolate" => self.partition(vec![args.id()?], out),
            "heal" => {
                self.network.heal();
                line(out, 0, "healed: every link restored");
                Ok(())
            }
            "transfer-leader" => self.transfer_leader(args, out),
            "snapshot" => self.snapshot(args.id()?, out),
            "persist" => {
                let id = args.id()?;
                let writes = args.opt("writes")?;
                self.persist(id, writes, out)
            }
            "add-learner" | "promote" | "remove" => self.change_membership(verb, args, out),
            "read-index" => self.read_index(args, out),
            "read-local" => self.read_local(args, out),
            "status" => self.status(args.id()?, out),
            "log" => self.log(args.id()?, out),
            "raft-state" => self.raft_state(out),
            _ => Err(format!("unknown command {verb}")),
        }
    }

    fn node(&self, id: NodeId) -> Result<&Node, String> {
        self.nodes.get(&id).ok_or_else(|| format!("no node {id}"))
    }

    fn node_mut(&mut self, id: NodeId) -> Result<&mut Node, String> {
        self.nodes
            .get_mut(&id)
            .ok_or_else(|| format!("no node {id}"))
    }

    /// The running replica of `id`, with its clock.
    fn running(&mut self, id: NodeId) -> Result<(&mut Replica, steadfast::Instant), String> {
        let node = self.node_mut(id)?;
        let clock = node.clock;
        node.replica
            .as_mut()
            .map(|r| (r, clock))
            .ok_or_else(|| format!("{id} is down"))
    }

    /// Every node id, in order.
    fn ids(&self) -> Vec<NodeId> {
        self.nodes.keys().copied().collect()
    }

    /// `ids`, or every node when empty.
    fn or_all(&self, ids: Vec<NodeId>) -> Vec<NodeId> {
        if ids.is_empty() {
            self.ids()
        } else {
            ids
        }
    }
}

/// Append one line, indented by `indent` spaces.
fn line(out: &mut String, indent: usize, text: impl Display) {
    let _ = writeln!(out, "{:indent$}{text}", "");
}
