//! One-line, human-readable descriptions of messages, outputs and entries,
//! in the spirit of etcd raft's `DescribeMessage`: compact, stable (tests
//! and transcripts compare them byte for byte) and free of `Debug` noise.
//!
//! Positions print as `e3/7` (epoch 3, lsn 7), nodes as `n2`, and command
//! payloads quoted when short and printable (`"x=1"`), else by size
//! (`cmd(40B)`):
//!
//! ```
//! use steadfast::{Entry, EntryKind, Epoch, Lsn, Message, Position};
//!
//! let append = Message::Append {
//!     epoch: Epoch(3),
//!     prev: Position::new(Epoch(2), Lsn(5)),
//!     entries: vec![
//!         Entry { epoch: Epoch(3), lsn: Lsn(6), kind: EntryKind::Command(b"x=1".to_vec().into()) },
//!         Entry { epoch: Epoch(3), lsn: Lsn(7), kind: EntryKind::Noop },
//!     ],
//!     commit: Lsn(5),
//!     round: 7,
//! };
//! assert_eq!(
//!     append.to_string(),
//!     r#"Append e3 prev=e2/5 commit=5 round=7 [e3/6 "x=1", e3/7 noop]"#
//! );
//! ```

use crate::entry::{Entry, EntryKind, HardState};
use crate::membership::{Membership, MembershipChange};
use crate::replica::{Output, ProposalOutcome, ReadError, Role};
use crate::session::{ReadDecision, ReadRejection};
use crate::types::{NodeId, Position};
use crate::wire::{AppendResult, Envelope, Message};
use std::fmt;

/// Payloads at most this long and printable are shown quoted.
const QUOTE_MAX: usize = 24;

/// A [`Position`] in the compact form `e3/7` (epoch 3, lsn 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Short(pub Position);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0.epoch, self.0.lsn)
    }
}

/// An optional node: `n2`, or `none`.
struct MaybeNode(Option<NodeId>);

impl fmt::Display for MaybeNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "{id}"),
            None => f.write_str("none"),
        }
    }
}

/// A list of displayable items: `[a, b, c]`.
struct List<'a, T>(&'a [T]);

impl<T: fmt::Display> fmt::Display for List<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{item}")?;
        }
        f.write_str("]")
    }
}

/// The positions a batch of entries spans: `e3/6..e3/8`, or `e3/6`.
struct Span<'a>(&'a [Entry]);

impl fmt::Display for Span<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.first(), self.0.last()) {
            (Some(first), Some(last)) if first.lsn == last.lsn => {
                write!(f, "{}", Short(first.position()))
            }
            (Some(first), Some(last)) => {
                write!(f, "{}..{}", Short(first.position()), Short(last.position()))
            }
            _ => f.write_str("(none)"),
        }
    }
}

/// Node ids in parentheses: `(n1,n2,n3)`.
struct Nodes<'a, I>(&'a I);

impl<'a, I> fmt::Display for Nodes<'a, I>
where
    &'a I: IntoIterator<Item = &'a NodeId>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, id) in self.0.into_iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{id}")?;
        }
        f.write_str(")")
    }
}

/// A command payload: quoted when short and printable, else its size.
struct Payload<'a>(&'a [u8]);

impl fmt::Display for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let printable = self.0.len() <= QUOTE_MAX
            && self
                .0
                .iter()
                .all(|&b| (b.is_ascii_graphic() && b != b'"' && b != b'\\') || b == b' ');
        match std::str::from_utf8(self.0) {
            Ok(text) if printable => write!(f, "\"{text}\""),
            _ => write!(f, "cmd({}B)", self.0.len()),
        }
    }
}

impl fmt::Display for Membership {
    /// `voters=(n1,n2,n3)`, with ` learners=(n4)` when there are learners.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "voters={}", Nodes(&self.voters))?;
        if !self.learners.is_empty() {
            write!(f, " learners={}", Nodes(&self.learners))?;
        }
        Ok(())
    }
}

impl fmt::Display for MembershipChange {
    /// `add-learner n4`, `promote n4`, `remove n2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MembershipChange::AddLearner(id) => write!(f, "add-learner {id}"),
            MembershipChange::PromoteLearner(id) => write!(f, "promote {id}"),
            MembershipChange::Remove(id) => write!(f, "remove {id}"),
        }
    }
}

impl fmt::Display for Entry {
    /// `e3/6 "x=1"`, `e3/6 cmd(300B)`, `e3/7 noop`, `e3/8 conf voters=(n1,n2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", Short(self.position()))?;
        match &self.kind {
            EntryKind::Noop => f.write_str("noop"),
            EntryKind::Command(bytes) => write!(f, "{}", Payload(bytes)),
            EntryKind::Membership(m) => write!(f, "conf {m}"),
        }
    }
}

impl fmt::Display for HardState {
    /// `e3 vote=n2` (or `vote=none`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} vote={}", self.epoch, MaybeNode(self.voted_for))
    }
}

impl fmt::Display for Message {
    /// One line per message, its kind first, then its epoch.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Append {
                epoch,
                prev,
                entries,
                commit,
                round,
            } => write!(
                f,
                "Append {epoch} prev={} commit={commit} round={round} {}",
                Short(*prev),
                List(entries)
            ),
            Message::AppendResponse {
                epoch,
                result,
                round,
            } => {
                write!(f, "AppendResponse {epoch} ")?;
                match result {
                    AppendResult::Accepted { matched, applied } => {
                        write!(f, "ok matched={matched} applied={applied}")?
                    }
                    AppendResult::Rejected {
                        rejected_prev,
                        hint,
                    } => write!(f, "rejected prev={rejected_prev} hint={}", Short(*hint))?,
                }
                write!(f, " round={round}")
            }
            Message::RequestVote {
                epoch,
                last,
                pre_vote,
                transfer,
            } => {
                write!(f, "RequestVote {epoch} last={}", Short(*last))?;
                if *pre_vote {
                    f.write_str(" pre-vote")?;
                }
                if *transfer {
                    f.write_str(" transfer")?;
                }
                Ok(())
            }
            Message::VoteResponse {
                epoch,
                pre_vote,
                granted,
            } => {
                let verdict = if *granted { "granted" } else { "rejected" };
                write!(f, "VoteResponse {epoch} {verdict}")?;
                if *pre_vote {
                    f.write_str(" pre-vote")?;
                }
                Ok(())
            }
            Message::TimeoutNow { epoch } => write!(f, "TimeoutNow {epoch}"),
            Message::InstallSnapshot {
                epoch,
                snapshot,
                offset,
                data,
                done,
            } => {
                write!(
                    f,
                    "InstallSnapshot {epoch} snap={} size={} offset={offset} len={}",
                    Short(snapshot.position),
                    snapshot.size,
                    data.len()
                )?;
                if *done {
                    f.write_str(" done")?;
                }
                Ok(())
            }
            Message::InstallSnapshotResponse {
                epoch,
                snapshot,
                next_offset,
            } => write!(
                f,
                "InstallSnapshotResponse {epoch} snap={} next={next_offset}",
                Short(*snapshot)
            ),
        }
    }
}

impl fmt::Display for Envelope {
    /// `n1->n2 <message>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}->{} {}", self.from, self.to, self.message)
    }
}

impl fmt::Display for Role {
    /// The role's name: `Leader`, `Follower`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Follower => "Follower",
            Role::PreCandidate => "PreCandidate",
            Role::Candidate => "Candidate",
            Role::Leader => "Leader",
            Role::Learner => "Learner",
        })
    }
}

impl fmt::Display for ProposalOutcome {
    /// `committed at e3/6`, `not leader (leader n1)`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProposalOutcome::Committed(at) => write!(f, "committed at {}", Short(*at)),
            ProposalOutcome::NotLeader { leader } => {
                write!(f, "not leader (leader {})", MaybeNode(*leader))
            }
            ProposalOutcome::TransferInProgress => f.write_str("transfer in progress"),
            ProposalOutcome::LeadershipLost { leader } => {
                write!(f, "leadership lost (leader {})", MaybeNode(*leader))
            }
        }
    }
}

/// A [`ReadError`] without `Debug` noise.
struct ReadFailure(ReadError);

impl fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            ReadError::NotLeader { leader } => {
                write!(f, "not leader (leader {})", MaybeNode(leader))
            }
            ReadError::DuplicateRead(id) => write!(f, "duplicate read {}", id.0),
            ReadError::LeadershipLost { leader } => {
                write!(f, "leadership lost (leader {})", MaybeNode(leader))
            }
            ReadError::TimedOut => f.write_str("timed out"),
        }
    }
}

/// Describe a [`ReadError`] on one line: `leadership lost (leader n2)`.
pub fn read_error(error: ReadError) -> impl fmt::Display {
    ReadFailure(error)
}

impl fmt::Display for ReadDecision {
    /// `serve at e3/6`, `wait applied=e3/4 needed=6`, `redirect leader=n1`,
    /// `rejected: history lost (token e2/6, log e3/6)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadDecision::Serve { at } => write!(f, "serve at {}", Short(*at)),
            ReadDecision::Wait { applied, needed } => {
                write!(f, "wait applied={} needed={needed}", Short(*applied))
            }
            ReadDecision::Redirect { leader } => {
                write!(f, "redirect leader={}", MaybeNode(*leader))
            }
            ReadDecision::Rejected(ReadRejection::HistoryLost { expected, found }) => write!(
                f,
                "rejected: history lost (token {}, log {})",
                Short(*expected),
                Short(*found)
            ),
            ReadDecision::Rejected(ReadRejection::Compacted {
                expected,
                log_start,
            }) => write!(
                f,
                "rejected: compacted (token {}, log starts after {})",
                Short(*expected),
                Short(*log_start)
            ),
        }
    }
}

impl fmt::Display for Output {
    /// One line per output, its kind first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::PersistHardState(hard) => write!(f, "PersistHardState {hard}"),
            Output::Truncated { after, discarded } => {
                write!(f, "Truncated after {after} discarding {}", List(discarded))
            }
            Output::RolledBack { entries } => write!(f, "RolledBack {}", List(entries)),
            Output::Append { entries } => write!(f, "Append {}", Span(entries)),
            Output::Send { to, message } => write!(f, "Send to {to}: {message}"),
            Output::Apply { entries } => write!(f, "Apply {}", Span(entries)),
            Output::Reply { request, outcome } => write!(f, "Reply req={} {outcome}", request.0),
            Output::RoleChanged {
                role,
                epoch,
                leader,
            } => write!(
                f,
                "RoleChanged {role} {epoch} leader={}",
                MaybeNode(*leader)
            ),
            Output::ReadReady { read, position } => {
                write!(f, "ReadReady read={} at {}", read.0, Short(*position))
            }
            Output::ReadFailed { read, error } => {
                write!(f, "ReadFailed read={} {}", read.0, ReadFailure(*error))
            }
            Output::Compacted { through } => write!(f, "Compacted through {}", Short(*through)),
            Output::ReadSnapshotChunk {
                to,
                snapshot,
                offset,
                max_len,
            } => write!(
                f,
                "ReadSnapshotChunk for {to} snap={} offset={offset} max={max_len}",
                Short(*snapshot)
            ),
            Output::ReceiveSnapshotChunk {
                snapshot,
                offset,
                data,
            } => write!(
                f,
                "ReceiveSnapshotChunk snap={} offset={offset} len={}",
                Short(*snapshot),
                data.len()
            ),
            Output::InstallSnapshot { snapshot, replaced } => {
                write!(
                    f,
                    "InstallSnapshot snap={} size={} {}",
                    Short(snapshot.position),
                    snapshot.size,
                    snapshot.membership
                )?;
                if !replaced.is_empty() {
                    let replaced: Vec<Short> = replaced.iter().copied().map(Short).collect();
                    write!(f, " replaced={}", List(&replaced))?;
                }
                Ok(())
            }
            Output::MembershipChanged { membership } => {
                write!(f, "MembershipChanged {membership}")
            }
        }
    }
}

#[cfg(test)]
#[path = "describe_tests.rs"]
mod tests;
