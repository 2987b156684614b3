//! Looking at nodes: `status`, `log` and `raft-state`.

use super::{line, Transcript};
use steadfast::describe::Short;
use steadfast::{NodeId, Replica};

/// One line: role, epoch, leader, commit, applied, last entry, clock.
fn summary(replica: &Replica) -> String {
    let leader = replica
        .leader()
        .map_or_else(|| "none".to_string(), |l| l.to_string());
    format!(
        "{} {} leader={leader} commit={} applied={} last={} {}",
        replica.role(),
        replica.epoch(),
        replica.commit(),
        replica.applied(),
        Short(replica.last()),
        replica.now()
    )
}

impl Transcript {
    /// `status ID`: the summary, the membership, and a leader's view of
    /// each follower.
    pub(super) fn status(&mut self, id: NodeId, out: &mut String) -> Result<(), String> {
        let node = self.node(id)?;
        let Some(replica) = node.replica.as_ref() else {
            line(out, 0, format_args!("{id}: down"));
            return Ok(());
        };
        line(out, 0, format_args!("{id}: {}", summary(replica)));
        line(out, 2, replica.membership());
        for (peer, p) in replica.progress() {
            line(
                out,
                2,
                format_args!(
                    "{peer}: {:?} matched={} next={} applied={} in-flight={}",
                    p.state(),
                    p.matched(),
                    p.next(),
                    p.applied(),
                    p.in_flight()
                ),
            );
        }
        Ok(())
    }

    /// `log ID`: the retained log, one entry a line, and what storage holds.
    pub(super) fn log(&mut self, id: NodeId, out: &mut String) -> Result<(), String> {
        let node = self.node(id)?;
        let Some(replica) = node.replica.as_ref() else {
            line(out, 0, format_args!("{id}: down"));
            return Ok(());
        };
        line(
            out,
            0,
            format_args!(
                "{id}: log after {}, {} entries, {} applied by the host",
                Short(replica.log_start()),
                replica.entries().len(),
                node.storage.applied().len()
            ),
        );
        for entry in replica.entries() {
            line(out, 2, entry);
        }
        Ok(())
    }

    /// `raft-state`: one summary line per node.
    pub(super) fn raft_state(&mut self, out: &mut String) -> Result<(), String> {
        for (id, node) in &self.nodes {
            match node.replica.as_ref() {
                Some(replica) => line(out, 0, format_args!("{id}: {}", summary(replica))),
                None => line(out, 0, format_args!("{id}: down")),
            }
        }
        Ok(())
    }
}
