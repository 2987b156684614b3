//! Stepping: time (campaign, ticks), client writes, message delivery, and
//! performing a replica's outputs through the reference host.

use super::node::check;
use super::{line, Transcript};
use steadfast::{Envelope, Instant, NodeId, Output, ProposeError, RequestId, Role};

/// `stabilize` gives up after this many rounds (a livelock in a script).
const MAX_ROUNDS: usize = 1_000;

impl Transcript {
    /// Perform every output `id`'s replica has, printing each at `indent`.
    pub(super) fn process(&mut self, id: NodeId, indent: usize, out: &mut String) {
        loop {
            let Some(node) = self.nodes.get_mut(&id) else {
                return;
            };
            let clock = node.clock;
            let Some(replica) = node.replica.as_mut() else {
                return;
            };
            let Some(output) = replica.poll_output() else {
                check(replica);
                return;
            };
            line(out, indent, &output);
            if let Err(error) = node.storage.perform(replica, clock, &output) {
                line(out, indent + 2, format_args!("host error: {error}"));
            }
            match output {
                Output::Send { to, message } => {
                    let envelope = Envelope {
                        from: id,
                        to,
                        message,
                    };
                    self.send(envelope, indent + 2, out);
                }
                // Storage was performed by the reference host above; replies,
                // reads and role changes are shown by the line printed.
                Output::PersistHardState(_)
                | Output::Truncated { .. }
                | Output::RolledBack { .. }
                | Output::Append { .. }
                | Output::Apply { .. }
                | Output::Reply { .. }
                | Output::RoleChanged { .. }
                | Output::MembershipChanged { .. }
                | Output::ReadReady { .. }
                | Output::ReadFailed { .. }
                | Output::Compacted { .. }
                | Output::ReadSnapshotChunk { .. }
                | Output::ReceiveSnapshotChunk { .. }
                | Output::InstallSnapshot { .. } => {}
            }
        }
    }

    /// Put a message on the network, or drop it (and say so).
    fn send(&mut self, envelope: Envelope, indent: usize, out: &mut String) {
        match self.drop_reason(&envelope) {
            Some(reason) => line(out, indent, format_args!("dropped: {reason}")),
            None => self.network.push(envelope),
        }
    }

    /// Why a message cannot reach its recipient now, if it cannot.
    fn drop_reason(&self, envelope: &Envelope) -> Option<String> {
        let (from, to) = (envelope.from, envelope.to);
        match self.nodes.get(&to) {
            None => Some(format!("{to} does not exist")),
            Some(node) if node.replica.is_none() => Some(format!("{to} is down")),
            Some(_) if self.network.blocked(from, to) => {
                Some(format!("{from} and {to} are partitioned"))
            }
            Some(_) => None,
        }
    }

    /// Deliver one message (or drop it), then perform the recipient's outputs.
    fn deliver(&mut self, envelope: Envelope, out: &mut String) {
        if let Some(reason) = self.drop_reason(&envelope) {
            line(out, 0, format_args!("dropped {envelope}: {reason}"));
            return;
        }
        line(out, 0, &envelope);
        let Envelope { from, to, message } = envelope;
        if let Ok((replica, clock)) = self.running(to) {
            if let Err(error) = replica.handle_message(clock, from, message) {
                line(out, 2, format_args!("error: {error}"));
            }
        }
        self.process(to, 2, out);
    }

    /// `deliver-msgs`: deliver or drop what is queued for `ids`.
    pub(super) fn deliver_msgs(
        &mut self,
        ids: Vec<NodeId>,
        drop: bool,
        kind: Option<&str>,
        out: &mut String,
    ) -> Result<(), String> {
        let ids = if ids.is_empty() {
            self.network.recipients()
        } else {
            ids
        };
        for to in ids {
            for envelope in self.network.take(to, kind) {
                if drop {
                    line(out, 0, format_args!("dropped {envelope}"));
                } else {
                    self.deliver(envelope, out);
                }
            }
        }
        Ok(())
    }

    /// `process-ready`: perform outputs still waiting in the replicas.
    pub(super) fn process_ready(
        &mut self,
        ids: Vec<NodeId>,
        out: &mut String,
    ) -> Result<(), String> {
        for id in self.or_all(ids) {
            let mut done = String::new();
            self.process(id, 2, &mut done);
            if !done.is_empty() {
                line(out, 0, format_args!("{id}:"));
                out.push_str(&done);
            }
        }
        Ok(())
    }

    /// `stabilize`: deliver and perform until nothing is queued for `ids`.
    pub(super) fn stabilize(&mut self, ids: Vec<NodeId>, out: &mut String) -> Result<(), String> {
        let ids = self.or_all(ids);
        self.process_ready(ids.clone(), out)?;
        for _ in 0..MAX_ROUNDS {
            let mut moved = false;
            for &to in &ids {
                for envelope in self.network.take(to, None) {
                    moved = true;
                    self.deliver(envelope, out);
                }
            }
            if !moved {
                return Ok(());
            }
        }
        Err(format!("not stable after {MAX_ROUNDS} rounds"))
    }

    /// Fire `id`'s next deadline: its clock jumps there first.
    fn fire(&mut self, id: NodeId, what: &str, out: &mut String) -> Result<(), String> {
        let (replica, clock) = self.running(id)?;
        let Some(deadline) = replica.poll_timeout() else {
            return Err(format!("{id} has no timer ({})", replica.role()));
        };
        let now = clock.max(deadline);
        replica.handle_timeout(now);
        self.node_mut(id)?.clock = now;
        line(out, 0, format_args!("{id} {now}: {what}"));
        self.process(id, 2, out);
        Ok(())
    }

    /// `campaign`: fire `id`'s election timeout.
    pub(super) fn campaign(&mut self, id: NodeId, out: &mut String) -> Result<(), String> {
        let (replica, _) = self.running(id)?;
        if replica.role() == Role::Leader {
            return Err(format!("{id} already leads {}", replica.epoch()));
        }
        self.fire(id, "election timeout", out)
    }

    /// `tick-heartbeat`: fire the next deadline of the leaders (or `ids`).
    pub(super) fn tick_heartbeat(
        &mut self,
        ids: Vec<NodeId>,
        out: &mut String,
    ) -> Result<(), String> {
        let ids = if ids.is_empty() { self.leaders() } else { ids };
        if ids.is_empty() {
            return Err("no leader".to_string());
        }
        for id in ids {
            self.fire(id, "heartbeat timeout", out)?;
        }
        Ok(())
    }

    /// The running leaders.
    pub(super) fn leaders(&self) -> Vec<NodeId> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.replica.as_ref().is_some_and(|r| r.role() == Role::Leader))
            .map(|(id, _)| *id)
            .collect()
    }

    /// `tick`: move clocks `ms` ahead, firing each deadline passed.
    pub(super) fn tick(
        &mut self,
        ids: Vec<NodeId>,
        ms: u64,
        out: &mut String,
    ) -> Result<(), String> {
        for id in self.or_all(ids) {
            if self.node(id)?.replica.is_none() {
                continue;
            }
            let target = Instant(self.node(id)?.clock.0.saturating_add(ms));
            let mut fired = false;
            let mut last = None;
            loop {
                let (replica, _) = self.running(id)?;
                match replica.poll_timeout() {
                    Some(deadline) if deadline <= target && last.is_none_or(|l| deadline > l) => {
                        last = Some(deadline);
                        fired = true;
                        self.fire(id, "timeout", out)?;
                    }
                    _ => break,
                }
            }
            let node = self.node_mut(id)?;
            node.clock = node.clock.max(target);
            if !fired {
                line(out, 0, format_args!("{id} {target}"));
            }
        }
        Ok(())
    }

    /// `advance-clock`: time passes on `ids`; no timer fires.
    pub(super) fn advance_clock(
        &mut self,
        ids: Vec<NodeId>,
        ms: u64,
        out: &mut String,
    ) -> Result<(), String> {
        for id in self.or_all(ids) {
            let node = self.node_mut(id)?;
            node.clock = Instant(node.clock.0.saturating_add(ms));
            line(out, 0, format_args!("{id} {}", node.clock));
        }
        Ok(())
    }

    /// `propose`: one write per payload on `id`.
    pub(super) fn propose(
        &mut self,
        id: NodeId,
        payloads: Vec<String>,
        out: &mut String,
    ) -> Result<(), String> {
        if payloads.is_empty() {
            return Err("propose needs a payload (a word, or input lines)".to_string());
        }
        for payload in payloads {
            self.next_request += 1;
            let request = RequestId(self.next_request);
            let (replica, clock) = self.running(id)?;
            match replica.propose(clock, request, payload.clone().into_bytes()) {
                Ok(at) => line(
                    out,
                    0,
                    format_args!(
                        "{id}: propose req={} \"{payload}\" at {}",
                        request.0,
                        steadfast::describe::Short(at)
                    ),
                ),
                Err(ProposeError::NotLeader { leader }) => line(
                    out,
                    0,
                    format_args!(
                        "{id}: propose req={} \"{payload}\" refused: not leader (leader {})",
                        request.0,
                        leader.map_or_else(|| "none".to_string(), |l| l.to_string())
                    ),
                ),
                Err(error) => line(
                    out,
                    0,
                    format_args!(
                        "{id}: propose req={} \"{payload}\" refused: {error}",
                        request.0
                    ),
                ),
            }
            self.process(id, 2, out);
        }
        Ok(())
    }
}
