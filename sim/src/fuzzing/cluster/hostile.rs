//! The hostile steps of the `cluster` target: messages from outsiders,
//! malformed appends and stale-epoch forgeries, each of which must be
//! refused or fenced without effect. (An outsider's current append or
//! snapshot chunk, and its vote requests, are heard, since the membership in
//! force may leave out a correct leader or candidate: the target sends the
//! first in an older epoch and skips the second.)

use super::sim::{node_id, Sim};
use crate::fuzzing::{heard_from_strangers, set_epoch};
use steadfast::entry::Entry;
use steadfast::replica::{InputError, Output, Replica};
use steadfast::types::{Epoch, Lsn, NodeId, Position};
use steadfast::wire::Message;

impl Sim {
    /// Bring replica `i`'s clock to `now` without any other effect, so a
    /// refused input can be compared against an exact copy.
    fn touch(&mut self, i: usize) -> Option<Replica> {
        let now = self.now;
        let replica = self.hosts[i].replica.as_mut()?;
        replica.handle_persisted(now, Position::ZERO);
        Some(replica.clone())
    }

    pub(super) fn outsider(&mut self, i: usize, from: u64, as_self: bool, message: Message) {
        let mut message = message;
        if !as_self {
            let Some(epoch) = self.hosts[i].replica.as_ref().map(Replica::epoch) else {
                return;
            };
            if heard_from_strangers(&message, epoch) {
                // The core hears these from anyone (a leader's current
                // traffic, vote requests: see `Replica::handle_message`);
                // an outsider's copy in an older epoch must be refused.
                match (&message, epoch.0.checked_sub(1)) {
                    (Message::RequestVote { .. }, _) | (_, None) => return,
                    (_, Some(older)) => set_epoch(&mut message, Epoch(older)),
                }
            }
        }
        let members = self.hosts.len() as u64;
        let from = if as_self {
            node_id(i)
        } else if (1..=members).contains(&from) {
            NodeId(from + members)
        } else {
            NodeId(from)
        };
        self.expect_refusal(i, from, message, |e| {
            if as_self {
                *e == InputError::FromSelf
            } else {
                *e == InputError::UnknownSender(from)
            }
        });
    }

    /// A malformed append (see [`malformed_append`]) in a member's name.
    pub(super) fn malformed(
        &mut self,
        to: usize,
        from: NodeId,
        how: u8,
        (epoch, prev): (Epoch, Position),
        entries: Vec<Entry>,
        commit: Lsn,
    ) {
        let message = malformed_append(how, epoch, prev, entries, commit);
        self.expect_refusal(to, from, message, |e| {
            matches!(e, InputError::MalformedAppend(_))
        });
    }

    /// Deliver `message` from `from` to replica `i`, which must refuse it
    /// with an error `expected` accepts (or, if `from` is no longer one of
    /// its members, as from an unknown sender) and stay exactly as it was.
    fn expect_refusal(
        &mut self,
        i: usize,
        from: NodeId,
        message: Message,
        expected: impl Fn(&InputError) -> bool,
    ) {
        let Some(before) = self.touch(i) else {
            return;
        };
        let stranger = from != node_id(i) && !before.membership().contains(from);
        if stranger && heard_from_strangers(&message, before.epoch()) {
            // Not refused any more when its sender is outside the membership
            // (see `outsider`); nothing to check here.
            return;
        }
        let now = self.now;
        let kind = message.kind();
        let replica = self.hosts[i].replica.as_mut().expect("touched");
        let result = replica.handle_message(now, from, message);
        match result {
            Err(error) if expected(&error) => {}
            Err(InputError::UnknownSender(sender)) if stranger && sender == from => {}
            other => self.fail(&format!(
                "{} answered a hostile {kind} from {from} with {other:?}",
                node_id(i)
            )),
        }
        if self.hosts[i].replica.as_ref() != Some(&before) {
            self.fail(&format!(
                "{} changed state on a refused {kind} from {from}",
                node_id(i)
            ));
        }
        self.hostile += 1;
    }

    pub(super) fn stale(&mut self, i: usize, from: NodeId, epoch: u64, mut message: Message) {
        let Some(before) = self.touch(i) else {
            return;
        };
        let stranger = !before.membership().contains(from);
        let current = before.epoch();
        if current.0 == 0 {
            return;
        }
        set_epoch(&mut message, Epoch(epoch % current.0));
        let now = self.now;
        let kind = message.kind();
        let replica = self.hosts[i].replica.as_mut().expect("touched");
        let result = replica.handle_message(now, from, message);
        let outputs: Vec<Output> = std::iter::from_fn(|| replica.poll_output()).collect();
        let unchanged = *replica == before;
        // A stale append or snapshot chunk may also be malformed, and the
        // claimed sender may have been removed; refusing it (state
        // unchanged, checked below) is then right.
        if let Err(error) = result.or_else(|e| match e {
            InputError::MalformedAppend(_) | InputError::MalformedSnapshot(_) => Ok(()),
            InputError::UnknownSender(sender) if stranger && sender == from => Ok(()),
            other => Err(other),
        }) {
            self.fail(&format!(
                "{} refused a stale {kind} from {from}: {error}",
                node_id(i)
            ));
        }
        if !unchanged {
            self.fail(&format!(
                "{} changed state on a stale {kind} from {from}",
                node_id(i)
            ));
        }
        self.hostile += 1;
        for output in outputs {
            // At most an answer to the sender, in the current epoch.
            let answers_sender = matches!(
                &output,
                Output::Send { to, message } if *to == from && message.epoch() == current
            );
            if !answers_sender {
                self.fail(&format!(
                    "{} answered a stale {kind} from {from} with {output:?}",
                    node_id(i)
                ));
            }
            self.perform(i, output);
        }
    }
}

/// An append that breaks one rule of [`InputError::MalformedAppend`],
/// chosen by `how`; the other fields are the fuzzer's.
fn malformed_append(
    how: u8,
    mut epoch: Epoch,
    mut prev: Position,
    mut entries: Vec<Entry>,
    commit: Lsn,
) -> Message {
    let template = entries.first().cloned().unwrap_or(Entry {
        epoch,
        lsn: Lsn(0),
        kind: steadfast::entry::EntryKind::Noop,
    });
    epoch.0 = epoch.0.min(u64::MAX - 1);
    match how % 4 {
        // `prev` is newer than the sender's epoch.
        0 => prev.epoch = epoch.next(),
        // The first entry does not follow `prev`.
        1 => {
            prev.epoch = prev.epoch.min(epoch);
            let first = Entry {
                lsn: Lsn(prev.lsn.0.wrapping_add(2)),
                ..template
            };
            entries.insert(0, first);
        }
        // An entry newer than the sender's epoch.
        2 => {
            prev.epoch = prev.epoch.min(epoch);
            let first = Entry {
                epoch: epoch.next(),
                lsn: prev.lsn.next(),
                ..template
            };
            entries.insert(0, first);
        }
        // An entry older than `prev`.
        _ => {
            prev.epoch = Epoch(prev.epoch.0.clamp(1, epoch.0.max(1)));
            epoch = epoch.max(prev.epoch);
            let first = Entry {
                epoch: Epoch(prev.epoch.0 - 1),
                lsn: prev.lsn.next(),
                ..template
            };
            entries.insert(0, first);
        }
    }
    Message::Append {
        epoch,
        prev,
        entries,
        commit,
        round: 0,
    }
}
