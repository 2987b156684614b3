//! Operator actions: starting nodes, crashes and restarts, partitions,
//! leadership transfer, snapshots and membership changes.

use super::args::Args;
use super::node::{Node, Options};
use super::{line, Transcript};
use std::collections::BTreeSet;
use steadfast::describe::Short;
use steadfast::{MembershipChange, MembershipError, NodeId, Replica, RequestId};

impl Transcript {
    /// `persist ID [writes=N]`: make the first N (default: all) queued log
    /// writes of ID's host durable, report it to the replica and perform
    /// what follows (with `storage=deferred`; otherwise nothing is queued).
    pub(super) fn persist(
        &mut self,
        id: NodeId,
        writes: Option<usize>,
        out: &mut String,
    ) -> Result<(), String> {
        let node = self.node_mut(id)?;
        let clock = node.clock;
        let queued = node.storage.pending_writes().len();
        let count = writes.unwrap_or(queued).min(queued);
        let replica = node
            .replica
            .as_mut()
            .ok_or_else(|| format!("{id} is down"))?;
        let result = node.storage.flush(Some(replica), clock, count);
        let through = node.storage.log().last().map(|e| Short(e.position()));
        match through {
            Some(through) => line(
                out,
                0,
                format_args!(
                    "{id}: {count} of {queued} writes durable, log durable through {through}"
                ),
            ),
            None => line(
                out,
                0,
                format_args!("{id}: {count} of {queued} writes durable, log empty"),
            ),
        }
        if let Err(error) = result {
            line(out, 2, format_args!("host error: {error}"));
        }
        self.process(id, 2, out);
        Ok(())
    }

    /// `add-nodes N [voters=(..)] [learners=(..)] [options]`.
    pub(super) fn add_nodes(&mut self, args: &mut Args, out: &mut String) -> Result<(), String> {
        let count = args.id()?.0;
        let options = Options::take(args)?;
        let first = self.nodes.keys().last().map_or(1, |id| id.0 + 1);
        let new: Vec<NodeId> = (first..first + count).map(NodeId).collect();
        let learners: BTreeSet<NodeId> = args
            .list("learners")?
            .unwrap_or_default()
            .into_iter()
            .map(NodeId)
            .collect();
        let voters: BTreeSet<NodeId> = match args.list("voters")? {
            Some(list) => list.into_iter().map(NodeId).collect(),
            None => new
                .iter()
                .copied()
                .filter(|id| !learners.contains(id))
                .collect(),
        };
        for &id in &new {
            let node = Node::start(options.config(id, &voters, &learners), options.persistence)?;
            self.nodes.insert(id, node);
        }
        self.options = options;
        line(out, 0, self.options.describe());
        for id in new {
            self.describe_start(id, out);
        }
        Ok(())
    }

    /// A fresh node's role and election deadline.
    fn describe_start(&self, id: NodeId, out: &mut String) {
        let Some(replica) = self.nodes.get(&id).and_then(|n| n.replica.as_ref()) else {
            return;
        };
        match replica.poll_timeout() {
            Some(deadline) => line(
                out,
                0,
                format_args!(
                    "{id}: {} {} {}, election timeout at {deadline}",
                    replica.role(),
                    replica.epoch(),
                    replica.membership()
                ),
            ),
            None => line(
                out,
                0,
                format_args!(
                    "{id}: {} {} {}",
                    replica.role(),
                    replica.epoch(),
                    replica.membership()
                ),
            ),
        }
    }

    /// `crash ID`: the replica and everything volatile is gone.
    pub(super) fn crash(&mut self, id: NodeId, out: &mut String) -> Result<(), String> {
        let node = self.node_mut(id)?;
        if node.replica.take().is_none() {
            return Err(format!("{id} is already down"));
        }
        node.storage.crash();
        let lost = self.network.clear(id);
        line(
            out,
            0,
            format_args!("{id} crashed; {lost} queued message(s) to it lost"),
        );
        Ok(())
    }

    /// `restart ID`: rebuild the replica from what its storage made durable.
    pub(super) fn restart(&mut self, id: NodeId, out: &mut String) -> Result<(), String> {
        let node = self.node_mut(id)?;
        if node.replica.is_some() {
            return Err(format!("{id} is running"));
        }
        let durable = node.storage.durable();
        let summary = format!(
            "{id} restarted from durable state: {} log={} snapshot={}",
            durable.hard_state,
            durable.log.len(),
            node.storage.snapshot_position().lsn
        );
        let replica = Replica::restart(node.config.clone(), durable, node.clock)
            .map_err(|e| e.to_string())?;
        node.replica = Some(replica);
        line(out, 0, summary);
        self.describe_start(id, out);
        self.process(id, 2, out);
        Ok(())
    }

    /// `partition ID..`: cut `side` off from every other node.
    pub(super) fn partition(&mut self, side: Vec<NodeId>, out: &mut String) -> Result<(), String> {
        if side.is_empty() {
            return Err("partition needs the ids of one side".to_string());
        }
        let rest: Vec<NodeId> = self
            .ids()
            .into_iter()
            .filter(|id| !side.contains(id))
            .collect();
        self.network.partition(&side, &rest);
        let names = |ids: &[NodeId]| {
            ids.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        line(
            out,
            0,
            format_args!("partition ({}) | ({})", names(&side), names(&rest)),
        );
        Ok(())
    }

    /// `transfer-leader FROM TO` or `transfer-leader FROM to=TO`.
    pub(super) fn transfer_leader(
        &mut self,
        args: &mut Args,
        out: &mut String,
    ) -> Result<(), String> {
        let to: Option<u64> = args.opt("to")?;
        let ids = args.ids();
        let (from, to) = match (ids.as_slice(), to) {
            ([from], Some(to)) => (*from, NodeId(to)),
            ([a, b], None) => {
                let leaders = self.leaders();
                if leaders.contains(a) {
                    (*a, *b)
                } else if leaders.contains(b) {
                    (*b, *a)
                } else {
                    return Err(format!("neither {a} nor {b} leads"));
                }
            }
            _ => return Err("transfer-leader FROM TO".to_string()),
        };
        let (replica, clock) = self.running(from)?;
        let result = replica.transfer_leadership(clock, to);
        match result {
            Ok(()) => line(out, 0, format_args!("{from}: transfer leadership to {to}")),
            Err(error) => line(
                out,
                0,
                format_args!("{from}: transfer to {to} refused: {error}"),
            ),
        }
        self.process(from, 2, out);
        Ok(())
    }

    /// `snapshot ID`: the host snapshots its state machine.
    pub(super) fn snapshot(&mut self, id: NodeId, out: &mut String) -> Result<(), String> {
        let node = self.node_mut(id)?;
        let clock = node.clock;
        let replica = node
            .replica
            .as_mut()
            .ok_or_else(|| format!("{id} is down"))?;
        match node.storage.take_snapshot(replica, clock) {
            Some(at) => {
                let size = node.storage.snapshot().map_or(0, |s| s.meta.size);
                line(
                    out,
                    0,
                    format_args!("{id}: snapshot at {} ({size} bytes)", Short(at)),
                );
            }
            None => line(out, 0, format_args!("{id}: no snapshot taken")),
        }
        self.process(id, 2, out);
        Ok(())
    }

    /// `add-learner ID`, `promote ID`, `remove ID` [via=LEADER].
    pub(super) fn change_membership(
        &mut self,
        verb: &str,
        args: &mut Args,
        out: &mut String,
    ) -> Result<(), String> {
        let target = args.id()?;
        let leader = match args.opt::<u64>("via")? {
            Some(id) => NodeId(id),
            None => *self.leaders().last().ok_or("no leader")?,
        };
        let change = match verb {
            "add-learner" => {
                self.start_learner(target, leader, out)?;
                MembershipChange::AddLearner(target)
            }
            "promote" => MembershipChange::PromoteLearner(target),
            _ => MembershipChange::Remove(target),
        };
        self.next_request += 1;
        let request = RequestId(self.next_request);
        let (replica, clock) = self.running(leader)?;
        match replica.propose_membership(clock, request, change) {
            Ok(at) => line(
                out,
                0,
                format_args!(
                    "{leader}: propose {change} req={} at {}",
                    request.0,
                    Short(at)
                ),
            ),
            Err(MembershipError::NotLeader { .. }) => line(
                out,
                0,
                format_args!("{leader}: {change} refused: not the leader"),
            ),
            Err(error) => line(out, 0, format_args!("{leader}: {change} refused: {error}")),
        }
        self.process(leader, 2, out);
        Ok(())
    }

    /// Start a new node as a learner of the leader's current membership.
    fn start_learner(
        &mut self,
        id: NodeId,
        leader: NodeId,
        out: &mut String,
    ) -> Result<(), String> {
        if self.nodes.contains_key(&id) {
            return Err(format!("{id} already exists"));
        }
        let membership = self
            .node(leader)?
            .replica
            .as_ref()
            .ok_or("leader is down")?
            .membership()
            .clone();
        let mut learners = membership.learners.clone();
        learners.insert(id);
        let node = Node::start(
            self.options.config(id, &membership.voters, &learners),
            self.options.persistence,
        )?;
        self.nodes.insert(id, node);
        self.describe_start(id, out);
        Ok(())
    }
}
