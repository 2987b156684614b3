//! What exactly a state violates: for each safety property, the facts of
//! the breach (which write, which servers, which epochs), in one line, for
//! the last line of a counterexample.

use crate::history::FollowerRead;
use crate::properties::{self as p, all_servers, live_servers, State};
use crate::server::ServerState;
use stateright::actor::Id;
use steadfast::describe::Short;
use steadfast::{Entry, Lsn, Role};
use steadfast_sim::harness::log_mismatch;

/// The facts behind `property`'s breach in `state` (of a model with
/// `servers` servers), or `None` when this module cannot name them (the
/// property's name then stands alone).
pub fn explain(property: &str, state: &State, servers: usize) -> Option<String> {
    let name = |id: Id| crate::display::actor_name(id, servers);
    let n = |s: &ServerState| s.replica().id().to_string();
    let leaders = || live_servers(state).filter(|s| s.replica().role() == Role::Leader);
    let entry_at = |s: &ServerState, lsn: Lsn| {
        s.replica()
            .entry(lsn)
            .map_or("nothing".to_string(), |e| Short(e.position()).to_string())
    };
    match property {
        "ElectionSafety" => {
            if let Some((epoch, a, b)) = state.history.two_leaders {
                return Some(format!("{} and {} both led {epoch}", name(a), name(b)));
            }
            let all: Vec<&ServerState> = leaders().collect();
            all.iter().enumerate().find_map(|(i, a)| {
                all[i + 1..]
                    .iter()
                    .find(|b| b.replica().epoch() == a.replica().epoch())
                    .map(|b| {
                        format!(
                            "{} and {} are both leader of {}",
                            n(a),
                            n(b),
                            a.replica().epoch()
                        )
                    })
            })
        }
        "LogMatching" => {
            let live: Vec<&ServerState> = live_servers(state).collect();
            live.iter().enumerate().find_map(|(i, a)| {
                live[i + 1..]
                    .iter()
                    .find_map(|b| log_mismatch(a.replica(), b.replica()))
            })
        }
        "ReplicaInvariants" => live_servers(state).find_map(|s| {
            s.replica()
                .check_invariants()
                .err()
                .map(|v| format!("{}: {v}", n(s)))
        }),
        "EpochNeverBackwards" => all_servers(state).find_map(|s| {
            let g = &s.storage().ghost;
            g.epoch_breach.map(|v| format!("{}: {v}", n(s)))
        }),
        "CommitNeverBackwards" => all_servers(state).find_map(|s| {
            let g = &s.storage().ghost;
            g.commit_breach.map(|v| format!("{}: {v}", n(s)))
        }),
        "AppliesOnlyCommitted" => all_servers(state).find_map(|s| {
            let g = &s.storage().ghost;
            g.apply_breach.map(|v| format!("{}: {v}", n(s)))
        }),
        "NoLostAckedWrites" => leaders().find_map(|leader| {
            let epoch = leader.replica().epoch();
            state
                .history
                .acked
                .values()
                .find(|at| {
                    at.epoch < epoch
                        && leader.replica().entry(at.lsn).map(Entry::position) != Some(**at)
                })
                .map(|at| {
                    format!(
                        "the write acknowledged at {} is not in the log of {}, leader of {epoch}, which has {} at lsn {}",
                        Short(*at),
                        n(leader),
                        entry_at(leader, at.lsn),
                        at.lsn
                    )
                })
        }),
        "NoSplitBrainAck" => {
            let all: Vec<&ServerState> = leaders().collect();
            all.iter().find_map(|old| {
                let old_epoch = old.replica().epoch();
                all.iter()
                    .filter(|new| new.replica().epoch() > old_epoch)
                    .find_map(|new| {
                        state
                            .history
                            .acked
                            .values()
                            .find(|at| {
                                at.epoch == old_epoch
                                    && new.replica().entry(at.lsn).map(Entry::position)
                                        != Some(**at)
                            })
                            .map(|at| {
                                format!(
                                    "{}, still leader of {old_epoch}, acknowledged the write at {} that {}, leader of {}, lacks",
                                    n(old),
                                    Short(*at),
                                    n(new),
                                    new.replica().epoch()
                                )
                            })
                    })
            })
        }
        "StateMachineSafety" => {
            let all: Vec<&ServerState> = all_servers(state).collect();
            if let Some((s, lsn)) = all
                .iter()
                .find_map(|s| s.storage().ghost.applied_conflict.map(|l| (s, l)))
            {
                return Some(format!("{} applied two different entries at lsn {lsn}", n(s)));
            }
            all.iter().enumerate().find_map(|(i, a)| {
                all[i + 1..].iter().find_map(|b| {
                    a.storage().ghost.ever_applied.iter().find_map(|(lsn, ea)| {
                        let eb = b.storage().ghost.ever_applied.get(lsn)?;
                        (ea != eb).then(|| {
                            format!(
                                "at lsn {lsn}, {} applied the entry of {ea} and {} the entry of {eb}",
                                n(a),
                                n(b)
                            )
                        })
                    })
                })
            })
        }
        "CommittedNeverTruncated" => all_servers(state).find_map(|s| {
            s.storage().ghost.truncated_committed.map(|p| {
                format!(
                    "{} truncated {}, an entry it had committed or applied",
                    n(s),
                    Short(p)
                )
            })
        }),
        "Linearizable" => {
            let acked: Vec<String> = state
                .history
                .acked
                .values()
                .map(|p| Short(*p).to_string())
                .collect();
            Some(format!(
                "no order of the clients' operations explains every result; writes acknowledged at: {}",
                if acked.is_empty() { "none".to_string() } else { acked.join(", ") }
            ))
        }
        "UniqueIds" => state
            .history
            .reissued_id
            .map(|id| format!("id {id} was handed to two different requests")),
        "ReadYourWrites" | "MonotonicReads" | "ConsistentPrefix" => {
            let holds: fn(&State, &FollowerRead) -> bool = match property {
                "ReadYourWrites" => p::read_sees_own_write,
                "MonotonicReads" => p::read_not_behind_previous,
                _ => p::read_shows_committed_prefix,
            };
            let r = state.history.follower_reads.iter().find(|r| !holds(state, r))?;
            let mut text = format!(
                "{} read {} at {} from {}",
                name(r.client),
                r.value,
                Short(r.at),
                name(r.server)
            );
            if let Some(w) = r.last_write {
                text.push_str(&format!(", after its write acknowledged at {}", Short(w)));
            }
            if let Some(p) = r.last_read {
                text.push_str(&format!(", after a read at {}", Short(p)));
            }
            Some(text)
        }
        _ => None,
    }
}
