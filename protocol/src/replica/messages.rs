//! Routing a peer's message: refusing what no correct peer sends, fencing
//! older epochs, adopting newer ones, and handing the message to the part
//! of the protocol it belongs to.

use super::{follower, snapshot, InputError, Replica};
use crate::types::NodeId;
use crate::wire::Message;

impl Replica {
    /// [`handle_message`](Replica::handle_message) after the time was
    /// advanced.
    pub(super) fn step_message(
        &mut self,
        from: NodeId,
        message: Message,
    ) -> Result<(), InputError> {
        if from == self.config.id {
            return Err(InputError::FromSelf);
        }
        if !self.is_member(from)
            && !self.is_handover_from_removed_leader(from, &message)
            && !self.heard_from_anyone(&message)
        {
            return Err(InputError::UnknownSender(from));
        }
        if let Message::Append {
            epoch,
            prev,
            entries,
            ..
        } = &message
        {
            follower::validate_append(*epoch, *prev, entries)?;
        }
        if let Message::InstallSnapshot {
            epoch,
            snapshot,
            offset,
            data,
            done,
        } = &message
        {
            snapshot::validate_chunk(*epoch, snapshot, *offset, data, *done)?;
        }
        match message {
            Message::RequestVote {
                epoch,
                last,
                pre_vote: true,
                ..
            } => {
                self.handle_pre_vote_request(from, epoch, last);
                return Ok(());
            }
            Message::VoteResponse {
                epoch,
                pre_vote: true,
                granted,
            } => {
                self.handle_pre_vote_response(from, epoch, granted);
                return Ok(());
            }
            _ => {}
        }
        let epoch = message.epoch();
        if epoch > self.hard.epoch {
            if let Message::RequestVote {
                transfer: false, ..
            } = message
            {
                if self.in_leader_lease() {
                    // Leader stickiness: a live leader exists; do not let a
                    // disruptive candidate depose it.
                    return Ok(());
                }
            }
            let leader = match message {
                Message::Append { .. } | Message::TimeoutNow { .. } => Some(from),
                _ => None,
            };
            self.become_follower(epoch, leader);
        } else if epoch < self.hard.epoch {
            self.fence(from, &message);
            return Ok(());
        }
        match message {
            Message::Append {
                prev,
                entries,
                commit,
                round,
                ..
            } => self.handle_append(from, prev, entries, commit, round),
            Message::AppendResponse { result, round, .. } => {
                self.handle_append_response(from, result, round);
                Ok(())
            }
            Message::RequestVote { last, .. } => {
                self.handle_vote_request(from, last);
                Ok(())
            }
            Message::VoteResponse { granted, .. } => {
                self.handle_vote_response(from, granted);
                Ok(())
            }
            Message::TimeoutNow { .. } => {
                self.handle_timeout_now(from);
                Ok(())
            }
            Message::InstallSnapshot {
                snapshot,
                offset,
                data,
                done,
                ..
            } => self.handle_install_snapshot(from, *snapshot, offset, data, done),
            Message::InstallSnapshotResponse {
                snapshot,
                next_offset,
                ..
            } => {
                self.handle_install_snapshot_response(from, snapshot, next_offset);
                Ok(())
            }
        }
    }
}
