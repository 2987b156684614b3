use super::*;
use crate::entry::RequestId;
use crate::replica::ReadId;
use crate::snapshot::SnapshotMeta;
use crate::types::{Epoch, Lsn};

fn pos(epoch: u64, lsn: u64) -> Position {
    Position::new(Epoch(epoch), Lsn(lsn))
}

fn cmd(epoch: u64, lsn: u64, bytes: &[u8]) -> Entry {
    Entry {
        epoch: Epoch(epoch),
        lsn: Lsn(lsn),
        kind: EntryKind::Command(bytes.to_vec().into()),
    }
}

fn noop(epoch: u64, lsn: u64) -> Entry {
    Entry {
        epoch: Epoch(epoch),
        lsn: Lsn(lsn),
        kind: EntryKind::Noop,
    }
}

fn members(voters: &[u64], learners: &[u64]) -> Membership {
    Membership {
        voters: voters.iter().copied().map(NodeId).collect(),
        learners: learners.iter().copied().map(NodeId).collect(),
    }
}

fn meta() -> SnapshotMeta {
    SnapshotMeta {
        position: pos(2, 9),
        membership: members(&[1, 2, 3], &[]),
        size: 48,
        checksum: 7,
    }
}

#[test]
fn entries_show_position_and_payload() {
    assert_eq!(cmd(3, 6, b"x=1").to_string(), r#"e3/6 "x=1""#);
    assert_eq!(cmd(3, 6, &[0, 1, 2]).to_string(), "e3/6 cmd(3B)");
    assert_eq!(cmd(3, 6, &[b'a'; 40]).to_string(), "e3/6 cmd(40B)");
    assert_eq!(cmd(3, 6, b"say \"hi\"").to_string(), "e3/6 cmd(8B)");
    assert_eq!(noop(3, 7).to_string(), "e3/7 noop");
    let conf = Entry {
        epoch: Epoch(3),
        lsn: Lsn(8),
        kind: EntryKind::Membership(Box::new(members(&[1, 2], &[4]))),
    };
    assert_eq!(conf.to_string(), "e3/8 conf voters=(n1,n2) learners=(n4)");
}

#[test]
fn membership_changes() {
    assert_eq!(
        MembershipChange::AddLearner(NodeId(4)).to_string(),
        "add-learner n4"
    );
    assert_eq!(
        MembershipChange::PromoteLearner(NodeId(4)).to_string(),
        "promote n4"
    );
    assert_eq!(MembershipChange::Remove(NodeId(2)).to_string(), "remove n2");
}

#[test]
fn append_lists_its_entries() {
    let append = Message::Append {
        epoch: Epoch(3),
        prev: pos(2, 5),
        entries: vec![cmd(3, 6, b"hello"), noop(3, 7)],
        commit: Lsn(5),
        round: 7,
    };
    assert_eq!(
        append.to_string(),
        r#"Append e3 prev=e2/5 commit=5 round=7 [e3/6 "hello", e3/7 noop]"#
    );
    let heartbeat = Message::Append {
        epoch: Epoch(3),
        prev: pos(3, 7),
        entries: vec![],
        commit: Lsn(7),
        round: 8,
    };
    assert_eq!(
        heartbeat.to_string(),
        "Append e3 prev=e3/7 commit=7 round=8 []"
    );
}

#[test]
fn append_responses_say_ok_or_rejected() {
    let ok = Message::AppendResponse {
        epoch: Epoch(3),
        result: AppendResult::Accepted {
            matched: Lsn(7),
            applied: Lsn(5),
        },
        round: 7,
    };
    assert_eq!(
        ok.to_string(),
        "AppendResponse e3 ok matched=7 applied=5 round=7"
    );
    let rejected = Message::AppendResponse {
        epoch: Epoch(3),
        result: AppendResult::Rejected {
            rejected_prev: Lsn(5),
            hint: pos(2, 4),
        },
        round: 0,
    };
    assert_eq!(
        rejected.to_string(),
        "AppendResponse e3 rejected prev=5 hint=e2/4 round=0"
    );
}

#[test]
fn votes_show_pre_vote_and_transfer() {
    let request = Message::RequestVote {
        epoch: Epoch(4),
        last: pos(3, 7),
        pre_vote: true,
        transfer: false,
    };
    assert_eq!(request.to_string(), "RequestVote e4 last=e3/7 pre-vote");
    let transfer = Message::RequestVote {
        epoch: Epoch(4),
        last: pos(3, 7),
        pre_vote: false,
        transfer: true,
    };
    assert_eq!(transfer.to_string(), "RequestVote e4 last=e3/7 transfer");
    let granted = Message::VoteResponse {
        epoch: Epoch(4),
        pre_vote: false,
        granted: true,
    };
    assert_eq!(granted.to_string(), "VoteResponse e4 granted");
    let refused = Message::VoteResponse {
        epoch: Epoch(4),
        pre_vote: true,
        granted: false,
    };
    assert_eq!(refused.to_string(), "VoteResponse e4 rejected pre-vote");
}

#[test]
fn timeout_now_and_snapshot_messages() {
    assert_eq!(
        Message::TimeoutNow { epoch: Epoch(3) }.to_string(),
        "TimeoutNow e3"
    );
    let chunk = Message::InstallSnapshot {
        epoch: Epoch(3),
        snapshot: Box::new(meta()),
        offset: 0,
        data: vec![0; 48],
        done: true,
    };
    assert_eq!(
        chunk.to_string(),
        "InstallSnapshot e3 snap=e2/9 size=48 offset=0 len=48 done"
    );
    let answer = Message::InstallSnapshotResponse {
        epoch: Epoch(3),
        snapshot: pos(2, 9),
        next_offset: 32,
    };
    assert_eq!(
        answer.to_string(),
        "InstallSnapshotResponse e3 snap=e2/9 next=32"
    );
}

#[test]
fn envelopes_show_the_route() {
    let envelope = Envelope {
        from: NodeId(1),
        to: NodeId(2),
        message: Message::TimeoutNow { epoch: Epoch(3) },
    };
    assert_eq!(envelope.to_string(), "n1->n2 TimeoutNow e3");
}

#[test]
fn storage_outputs() {
    let hard = Output::PersistHardState(HardState {
        epoch: Epoch(3),
        voted_for: Some(NodeId(2)),
    });
    assert_eq!(hard.to_string(), "PersistHardState e3 vote=n2");
    let truncated = Output::Truncated {
        after: Lsn(5),
        discarded: vec![cmd(2, 6, b"x"), noop(2, 7)],
    };
    assert_eq!(
        truncated.to_string(),
        r#"Truncated after 5 discarding [e2/6 "x", e2/7 noop]"#
    );
    let append = Output::Append {
        entries: vec![noop(3, 6), cmd(3, 7, b"a"), cmd(3, 8, b"b")],
    };
    assert_eq!(append.to_string(), "Append e3/6..e3/8");
    let one = Output::Apply {
        entries: vec![noop(3, 6)],
    };
    assert_eq!(one.to_string(), "Apply e3/6");
    let rolled = Output::RolledBack {
        entries: vec![cmd(1, 2, b"y")],
    };
    assert_eq!(rolled.to_string(), r#"RolledBack [e1/2 "y"]"#);
    let compacted = Output::Compacted { through: pos(2, 9) };
    assert_eq!(compacted.to_string(), "Compacted through e2/9");
}

#[test]
fn host_facing_outputs() {
    let send = Output::Send {
        to: NodeId(2),
        message: Message::TimeoutNow { epoch: Epoch(3) },
    };
    assert_eq!(send.to_string(), "Send to n2: TimeoutNow e3");
    let reply = Output::Reply {
        request: RequestId(4),
        outcome: ProposalOutcome::Committed(pos(3, 6)),
    };
    assert_eq!(reply.to_string(), "Reply req=4 committed at e3/6");
    let lost = Output::Reply {
        request: RequestId(5),
        outcome: ProposalOutcome::LeadershipLost { leader: None },
    };
    assert_eq!(
        lost.to_string(),
        "Reply req=5 leadership lost (leader none)"
    );
    let role = Output::RoleChanged {
        role: Role::Leader,
        epoch: Epoch(3),
        leader: Some(NodeId(1)),
    };
    assert_eq!(role.to_string(), "RoleChanged Leader e3 leader=n1");
    let ready = Output::ReadReady {
        read: ReadId(1),
        position: pos(3, 6),
    };
    assert_eq!(ready.to_string(), "ReadReady read=1 at e3/6");
    let failed = Output::ReadFailed {
        read: ReadId(2),
        error: ReadError::LeadershipLost {
            leader: Some(NodeId(2)),
        },
    };
    assert_eq!(
        failed.to_string(),
        "ReadFailed read=2 leadership lost (leader n2)"
    );
    let membership = Output::MembershipChanged {
        membership: members(&[1, 2, 3], &[4]),
    };
    assert_eq!(
        membership.to_string(),
        "MembershipChanged voters=(n1,n2,n3) learners=(n4)"
    );
}

#[test]
fn snapshot_outputs() {
    let read = Output::ReadSnapshotChunk {
        to: NodeId(3),
        snapshot: pos(2, 9),
        offset: 16,
        max_len: 16,
    };
    assert_eq!(
        read.to_string(),
        "ReadSnapshotChunk for n3 snap=e2/9 offset=16 max=16"
    );
    let receive = Output::ReceiveSnapshotChunk {
        snapshot: pos(2, 9),
        offset: 0,
        data: vec![0; 16],
    };
    assert_eq!(
        receive.to_string(),
        "ReceiveSnapshotChunk snap=e2/9 offset=0 len=16"
    );
    let install = Output::InstallSnapshot {
        snapshot: Box::new(meta()),
        replaced: vec![pos(1, 8)],
    };
    assert_eq!(
        install.to_string(),
        "InstallSnapshot snap=e2/9 size=48 voters=(n1,n2,n3) replaced=[e1/8]"
    );
}

#[test]
fn local_read_decisions() {
    assert_eq!(
        ReadDecision::Serve { at: pos(3, 6) }.to_string(),
        "serve at e3/6"
    );
    assert_eq!(
        ReadDecision::Wait {
            applied: pos(3, 4),
            needed: Lsn(6)
        }
        .to_string(),
        "wait applied=e3/4 needed=6"
    );
    assert_eq!(
        ReadDecision::Redirect { leader: None }.to_string(),
        "redirect leader=none"
    );
    let lost = ReadDecision::Rejected(ReadRejection::HistoryLost {
        expected: pos(2, 6),
        found: pos(3, 6),
    });
    assert_eq!(
        lost.to_string(),
        "rejected: history lost (token e2/6, log e3/6)"
    );
}
