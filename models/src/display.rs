//! How model states and steps read: messages and actors on one line each
//! (`Display`), and a whole model state as a few short lines, for
//! counterexamples and the Explorer.
//!
//! Positions print as `e2/3` (epoch 2, lsn 3), as the core's own
//! descriptions do ([`steadfast::describe`]).

use crate::actor::{ClientState, Msg, NodeState, RejectReason};
use crate::properties::State;
use crate::server::ServerState;
use stateright::actor::Id;
use std::fmt;
use steadfast::describe::Short;

/// The name of actor `id` in a model of `servers` servers: servers are
/// `n0, n1, …`, clients `client0, client1, …`.
pub fn actor_name(id: Id, servers: usize) -> String {
    let i = usize::from(id);
    if i < servers {
        format!("n{i}")
    } else {
        format!("client{}", i - servers)
    }
}

impl fmt::Display for Msg {
    /// One line: a peer message as the core describes it, a client message
    /// by its operation and result (request ids are implied by the sender).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Msg::Peer(m) => write!(f, "{m}"),
            Msg::Put { value, .. } => write!(f, "Put({value})"),
            Msg::Get { .. } => f.write_str("Get"),
            Msg::NextId { .. } => f.write_str("NextId"),
            Msg::PutOk { at, .. } => write!(f, "PutOk at {}", Short(*at)),
            Msg::GetOk { value, .. } => write!(f, "GetOk({value})"),
            Msg::IdOk { id, .. } => write!(f, "IdOk({id})"),
            Msg::ReadAt { token, .. } if token.is_empty() => f.write_str("ReadAt (no token)"),
            Msg::ReadAt { token, .. } => write!(
                f,
                "ReadAt token(write={}, read={})",
                Short(token.last_write),
                Short(token.last_read)
            ),
            Msg::ReadAtOk { at, value, .. } => write!(f, "ReadAtOk({value}) at {}", Short(*at)),
            Msg::ReadAtRejected { reason, .. } => write!(f, "ReadAtRejected({reason})"),
            Msg::Reconfigure { change, .. } => write!(f, "Reconfigure({change})"),
            Msg::ReconfigureOk { at, .. } => write!(f, "ReconfigureOk at {}", Short(*at)),
        }
    }
}

impl fmt::Debug for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RejectReason::HistoryLost => "history lost",
            RejectReason::Compacted => "compacted",
        })
    }
}

impl fmt::Display for ServerState {
    /// `Leader e2 · log e1/1 e2/2 · commit 2 · applied 2 · voted n0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.replica();
        write!(f, "{} {} · log", r.role(), r.epoch())?;
        if r.log_start().lsn.0 > 0 {
            write!(f, " [snapshot {}]", Short(r.log_start()))?;
        }
        if r.entries().is_empty() {
            f.write_str(" empty")?;
        }
        for entry in r.entries() {
            write!(f, " {}", Short(entry.position()))?;
        }
        write!(f, " · commit {} · applied {}", r.commit(), r.applied())?;
        if let Some(vote) = r.hard_state().voted_for {
            write!(f, " · voted {vote}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ClientState {
    /// `op 1 · waiting` or `op 2 · idle`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "next op {}", self.next)?;
        if self.awaiting.is_some() {
            f.write_str(" · waiting for a reply")?;
        }
        if !self.token.is_empty() {
            write!(
                f,
                " · token(write={}, read={})",
                Short(self.token.last_write),
                Short(self.token.last_read)
            )?;
        }
        Ok(())
    }
}

/// A whole model state in a few lines: one per actor (crashed servers
/// marked, armed timers noted), the messages in flight, and what the
/// history holds (acknowledged writes, leaders by epoch, follower reads).
pub fn render(state: &State, servers: usize) -> String {
    let mut out = String::new();
    let name = |i: usize| actor_name(Id::from(i), servers);
    for (i, actor) in state.actor_states.iter().enumerate() {
        let crashed = state.crashed.get(i).copied().unwrap_or(false);
        let timer = state
            .timers_set
            .get(i)
            .is_some_and(|t| t.iter().next().is_some());
        let line = match &**actor {
            NodeState::Server(s) if crashed => format!(
                "CRASHED (durable: {}, log to {})",
                s.replica().hard_state(),
                Short(s.replica().last())
            ),
            NodeState::Server(s) => s.to_string(),
            NodeState::Client(c) => c.to_string(),
        };
        let timer = if timer && !crashed {
            " · timer set"
        } else {
            ""
        };
        out.push_str(&format!("{:<8} {line}{timer}\n", name(i)));
    }
    let mut flight: Vec<String> = state
        .network
        .iter_all()
        .map(|env| {
            format!(
                "{} → {}: {}",
                name(usize::from(env.src)),
                name(usize::from(env.dst)),
                env.msg
            )
        })
        .collect();
    flight.sort();
    out.push_str(&format!("in flight: {}\n", flight.len()));
    for message in flight {
        out.push_str(&format!("  {message}\n"));
    }
    let h = &state.history;
    if !h.leaders.is_empty() {
        let leaders: Vec<String> = h
            .leaders
            .iter()
            .map(|(epoch, id)| format!("{epoch}={}", name(usize::from(*id))))
            .collect();
        out.push_str(&format!("leaders: {}\n", leaders.join(" ")));
    }
    if !h.acked.is_empty() {
        let acked: Vec<String> = h.acked.values().map(|p| Short(*p).to_string()).collect();
        out.push_str(&format!("acknowledged writes: {}\n", acked.join(" ")));
    }
    if !h.ids.is_empty() {
        let ids: Vec<String> = h.ids.keys().map(u64::to_string).collect();
        out.push_str(&format!("ids handed out: {}\n", ids.join(" ")));
    }
    for read in &h.follower_reads {
        out.push_str(&format!(
            "{} read {} at {} from {}\n",
            name(usize::from(read.client)),
            read.value,
            Short(read.at),
            name(usize::from(read.server))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{checks, Profile};
    use stateright::Model as _;

    #[test]
    fn an_initial_state_reads_in_a_few_short_lines() {
        let check = checks(Profile::Ci)
            .into_iter()
            .find(|c| c.family == "matrix")
            .expect("a matrix check");
        let servers = check.model.servers;
        let model = check.model.into_model();
        let state = &model.init_states()[0];
        let text = render(state, servers);
        assert!(
            text.starts_with("n0       Follower e0 · log empty"),
            "{text}"
        );
        assert!(
            text.contains("client0  next op 1 · waiting for a reply"),
            "{text}"
        );
        assert!(text.contains("client0 → n0: Put(1)"), "{text}");
        assert!(text.len() < 1_000, "{} bytes:\n{text}", text.len());
        assert!(text.lines().all(|l| l.len() < 120), "{text}");
    }
}
