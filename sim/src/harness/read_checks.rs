//! Read guarantees checked on every read a simulated client is served:
//! read your writes, monotonic reads, consistent prefix, and
//! linearizability of leader reads.

use super::checks::{History, Property};
use super::reads::SessionId;
use steadfast::types::{Instant, Lsn, NodeId, Position};

/// One served read, with what the client knew when it asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadObservation {
    /// The replica that served it.
    pub node: NodeId,
    /// The client session.
    pub session: SessionId,
    /// A leader read that promised linearizability (read-index or lease).
    pub linearizable: bool,
    /// The position of the last entry the read showed.
    pub at: Position,
    /// The positions of the state-machine entries the read showed, in order.
    pub view: Vec<Position>,
    /// The session's acknowledged writes when the read was asked for.
    pub session_writes: Vec<Position>,
    /// Where the session's previous read ended, if it read before.
    pub previous_read: Option<Position>,
    /// Every write acknowledged (by anyone) when the read was asked for.
    pub acked_before: Vec<Position>,
}

/// True when `view` shows the entry at exactly `position`.
fn shows(view: &[Position], position: Position) -> bool {
    if position.lsn == Lsn(0) {
        return true;
    }
    usize::try_from(position.lsn.0 - 1)
        .ok()
        .and_then(|i| view.get(i))
        == Some(&position)
}

/// Why `view` is not a gapless, in-order log prefix ending at `at`, if it is not.
fn prefix_defect(view: &[Position], at: Position) -> Option<String> {
    for (i, position) in view.iter().enumerate() {
        let expected = Lsn(u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1));
        if position.lsn != expected {
            return Some(format!("shows {position} where lsn {expected} belongs"));
        }
        if i > 0 && view[i - 1].epoch > position.epoch {
            return Some(format!("shows {} before {position}", view[i - 1]));
        }
    }
    let end = view.last().copied().unwrap_or(Position::ZERO);
    (end != at).then(|| format!("claims to end at {at} but shows up to {end}"))
}

impl History {
    /// A client was served `read`: check every read guarantee.
    pub fn on_read(&mut self, at: Instant, read: &ReadObservation) {
        self.reads_checked += 1;
        let who = format!("{} read at {} by {:?}", read.node, read.at, read.session);
        if let Some(defect) = prefix_defect(&read.view, read.at) {
            self.violate(Property::ConsistentPrefix, at, format!("{who} {defect}"));
        }
        let unseen: Vec<String> = read
            .session_writes
            .iter()
            .filter(|w| !shows(&read.view, **w))
            .map(ToString::to_string)
            .collect();
        if !unseen.is_empty() {
            let detail = format!("{who} misses the session's writes {}", unseen.join(" "));
            self.violate(Property::ReadYourWrites, at, detail);
        }
        if let Some(previous) = read.previous_read {
            if !shows(&read.view, previous) {
                let detail = format!("{who} does not show {previous}, seen by an earlier read");
                self.violate(Property::MonotonicReads, at, detail);
            }
        }
        if read.linearizable {
            let stale: Vec<String> = read
                .acked_before
                .iter()
                .filter(|w| !shows(&read.view, **w))
                .map(ToString::to_string)
                .collect();
            if !stale.is_empty() {
                let detail = format!(
                    "{who} misses writes acknowledged before it: {}",
                    stale.join(" ")
                );
                self.violate(Property::Linearizable, at, detail);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steadfast::types::Epoch;

    fn pos(epoch: u64, lsn: u64) -> Position {
        Position::new(Epoch(epoch), Lsn(lsn))
    }

    fn observation(view: Vec<Position>) -> ReadObservation {
        ReadObservation {
            node: NodeId(1),
            session: SessionId(1),
            linearizable: true,
            at: view.last().copied().unwrap_or(Position::ZERO),
            view,
            session_writes: Vec::new(),
            previous_read: None,
            acked_before: Vec::new(),
        }
    }

    fn found(read: &ReadObservation) -> Vec<Property> {
        let mut history = History::default();
        history.on_read(Instant(0), read);
        history.violations.iter().map(|v| v.property).collect()
    }

    #[test]
    fn a_clean_read_violates_nothing() {
        let mut read = observation(vec![pos(1, 1), pos(1, 2), pos(2, 3)]);
        read.session_writes = vec![pos(1, 2)];
        read.previous_read = Some(pos(1, 1));
        read.acked_before = vec![pos(2, 3)];
        assert_eq!(found(&read), vec![]);
    }

    #[test]
    fn each_broken_guarantee_is_reported() {
        let gap = observation(vec![pos(1, 1), pos(1, 3)]);
        assert_eq!(found(&gap), vec![Property::ConsistentPrefix]);
        let out_of_order = observation(vec![pos(2, 1), pos(1, 2)]);
        assert_eq!(found(&out_of_order), vec![Property::ConsistentPrefix]);
        let mut stale = observation(vec![pos(1, 1)]);
        stale.session_writes = vec![pos(1, 2)];
        stale.previous_read = Some(pos(1, 2));
        stale.acked_before = vec![pos(1, 2)];
        assert_eq!(
            found(&stale),
            vec![
                Property::ReadYourWrites,
                Property::MonotonicReads,
                Property::Linearizable
            ]
        );
        let mut other_branch = observation(vec![pos(1, 1), pos(3, 2)]);
        other_branch.session_writes = vec![pos(2, 2)];
        assert_eq!(found(&other_branch), vec![Property::ReadYourWrites]);
    }
}
