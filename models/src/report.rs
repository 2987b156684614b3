//! Human-readable counterexamples: numbered steps and Mermaid sequence
//! diagrams, and the verdict table.

use crate::actor::{Msg, NodeState};
use crate::properties::{Model, State};
use crate::runner::{Found, Verdict};
use stateright::actor::{ActorModelAction, Id};
use stateright::Path;
use steadfast::Role;

/// One step of a model run.
pub type Action = ActorModelAction<Msg, crate::actor::Tick, ()>;

/// A counterexample path with the model that produced it.
pub struct Trace {
    servers: usize,
    steps: Vec<(State, Option<Action>)>,
}

fn describe_message(msg: &Msg) -> String {
    match msg {
        Msg::Peer(m) => m.to_string(),
        Msg::Put { value, .. } => format!("Put({value})"),
        Msg::Get { .. } => "Get".to_string(),
        Msg::NextId { .. } => "NextId".to_string(),
        Msg::PutOk { at, .. } => format!("PutOk at {at}"),
        Msg::GetOk { value, .. } => format!("GetOk({value})"),
        Msg::IdOk { id, .. } => format!("IdOk({id})"),
        Msg::ReadAt { token, .. } if token.is_empty() => "ReadAt (no token)".to_string(),
        Msg::ReadAt { token, .. } => format!(
            "ReadAt token(write={}, read={})",
            token.last_write, token.last_read
        ),
        Msg::ReadAtOk { at, value, .. } => format!("ReadAtOk({value}) at {at}"),
        Msg::ReadAtRejected { reason, .. } => format!("ReadAtRejected({reason:?})"),
    }
}

impl Trace {
    /// Capture `path` of `model`.
    pub fn new(
        model: &Model,
        path: Path<State, ActorModelAction<Msg, crate::actor::Tick, ()>>,
    ) -> Trace {
        Trace {
            servers: model.cfg.servers,
            steps: path.into_vec(),
        }
    }

    fn name(&self, id: Id) -> String {
        let i = usize::from(id);
        if i < self.servers {
            format!("n{i}")
        } else {
            format!("client{}", i - self.servers)
        }
    }

    fn action(
        &self,
        action: &ActorModelAction<Msg, crate::actor::Tick, ()>,
    ) -> (String, Option<(String, String, String)>) {
        match action {
            ActorModelAction::Deliver { src, dst, msg } => {
                let (s, d, m) = (self.name(*src), self.name(*dst), describe_message(msg));
                (format!("{s} → {d}: {m}"), Some((s, d, m)))
            }
            ActorModelAction::Drop(env) => (
                format!(
                    "network drops {} → {}: {}",
                    self.name(env.src),
                    self.name(env.dst),
                    describe_message(&env.msg)
                ),
                None,
            ),
            ActorModelAction::Timeout(id, _) => (format!("{}: timer fires", self.name(*id)), None),
            ActorModelAction::Crash(id) => (
                format!("{} crashes (keeps only durable state)", self.name(*id)),
                None,
            ),
            ActorModelAction::Recover(id) => (
                format!("{} restarts from durable state", self.name(*id)),
                None,
            ),
            ActorModelAction::SelectRandom { actor, .. } => {
                (format!("{} chooses", self.name(*actor)), None)
            }
        }
    }

    /// What changed between two states worth telling a reader.
    fn consequences(&self, before: &State, after: &State) -> Vec<String> {
        let mut notes = Vec::new();
        for (i, (a, b)) in before
            .actor_states
            .iter()
            .zip(after.actor_states.iter())
            .enumerate()
        {
            if let (NodeState::Server(a), NodeState::Server(b)) = (&**a, &**b) {
                let (ra, rb) = (&a.replica(), &b.replica());
                if (ra.role(), ra.epoch()) != (rb.role(), rb.epoch()) && rb.role() != Role::Follower
                {
                    notes.push(format!("n{i} is now {} of {}", rb.role(), rb.epoch()));
                }
                if rb.commit() > ra.commit() {
                    notes.push(format!("n{i} commits through lsn {}", rb.commit()));
                }
                if let (None, Some(p)) = (
                    &a.storage().ghost.truncated_committed,
                    &b.storage().ghost.truncated_committed,
                ) {
                    notes.push(format!("n{i} truncates committed entry {p}"));
                }
            }
        }
        for (request, at) in &after.history.acked {
            if !before.history.acked.contains_key(request) {
                notes.push(format!("client acknowledged: write committed at {at}"));
            }
        }
        for read in after
            .history
            .follower_reads
            .iter()
            .skip(before.history.follower_reads.len())
        {
            let mut note = format!(
                "{} read {} at {} from {}",
                self.name(read.client),
                read.value,
                read.at,
                self.name(read.server)
            );
            if let Some(w) = read.last_write {
                note.push_str(&format!(" (its last write: {w})"));
            }
            if let Some(p) = read.last_read {
                note.push_str(&format!(" (its previous read: {p})"));
            }
            notes.push(note);
        }
        notes
    }

    /// Numbered steps.
    pub fn steps(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut n = 1;
        for window in self.steps.windows(2) {
            let (before, action) = (&window[0].0, &window[0].1);
            let after = &window[1].0;
            if let Some(action) = action {
                let (text, _) = self.action(action);
                let notes = self.consequences(before, after);
                if notes.is_empty() {
                    out.push(format!("{n}. {text}"));
                } else {
                    out.push(format!("{n}. {text}  ⇒ {}", notes.join("; ")));
                }
                n += 1;
            }
        }
        out
    }

    /// A Mermaid sequence diagram of the same steps.
    pub fn mermaid(&self) -> String {
        let mut out = String::from("sequenceDiagram\n");
        for i in 0..self.servers {
            out.push_str(&format!("    participant n{i}\n"));
        }
        for window in self.steps.windows(2) {
            let (before, action) = (&window[0].0, &window[0].1);
            let after = &window[1].0;
            let Some(action) = action else { continue };
            let (text, arrow) = self.action(action);
            match arrow {
                Some((s, d, m)) => {
                    out.push_str(&format!("    {s}->>{d}: {}\n", m.replace(';', ",")))
                }
                None => {
                    let who = text
                        .split(':')
                        .next()
                        .unwrap_or("n0")
                        .split(' ')
                        .next()
                        .unwrap_or("n0")
                        .to_string();
                    let who = if who.starts_with('n') || who.starts_with("client") {
                        who
                    } else {
                        "n0".to_string()
                    };
                    out.push_str(&format!(
                        "    Note over {who}: {}\n",
                        text.replace(';', ",")
                    ));
                }
            }
            for note in self.consequences(before, after) {
                out.push_str(&format!(
                    "    Note right of n0: {}\n",
                    note.replace(';', ",")
                ));
            }
        }
        out
    }
}

/// The verdict table as fixed-width text.
pub fn table(rows: &[Verdict]) -> String {
    let mut out = format!(
        "{:<12} {:<28} {:<34} {:<9} {:<10} {:>10} {:>5} {:>7}  \n",
        "model", "configuration", "property", "expected", "found", "states", "depth", "seconds"
    );
    for r in rows {
        let found = match r.found {
            Found::Holds => "holds",
            Found::Violated => "VIOLATED",
            Found::Stopped => "STOPPED",
        };
        out.push_str(&format!(
            "{:<12} {:<28} {:<34} {:<9} {:<10} {:>10} {:>5} {:>7.1}{}\n",
            r.model,
            r.config,
            r.property,
            r.expected,
            found,
            r.unique_states,
            r.max_depth,
            r.seconds,
            if r.ok { "" } else { "  << UNEXPECTED" }
        ));
    }
    out
}
