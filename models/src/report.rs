//! Human-readable counterexamples: numbered steps and Mermaid sequence
//! diagrams that stop at the first state violating the property and end by
//! naming it, and the verdict table.

use crate::actor::{client_of, Msg, NodeState};
use crate::display::actor_name;
use crate::properties::{Model, State};
use crate::runner::{Found, Verdict};
use stateright::actor::{ActorModelAction, Id};
use stateright::{Model as _, Path};
use steadfast::describe::Short;
use steadfast::Role;

/// One step of a model run.
pub type Action = ActorModelAction<Msg, crate::actor::Tick, ()>;

/// A counterexample path with the model that produced it.
pub struct Trace {
    servers: usize,
    clients: usize,
    steps: Vec<(State, Option<Action>)>,
    /// The property the last state violates, and what exactly breaks it.
    violated: Option<(String, Option<String>)>,
}

impl Trace {
    /// Capture `path` of `model` as a counterexample to `property`: the
    /// path is cut at its first state that violates the property (a search
    /// may have gone on past it before checking), and the trace ends by
    /// naming what that state breaks. With a property the model does not
    /// have, or one the path never violates, the path is kept whole.
    pub fn new(model: &Model, path: Path<State, Action>, property: &str) -> Trace {
        let servers = model.cfg.servers;
        let mut steps = path.into_vec();
        let condition = model
            .properties()
            .into_iter()
            .find(|p| p.name == property)
            .map(|p| p.condition);
        let mut violated = None;
        if let Some(holds) = condition {
            if let Some(first) = steps.iter().position(|(s, _)| !holds(model, s)) {
                steps.truncate(first + 1);
                steps[first].1 = None;
                let mut detail = crate::violation::explain(property, &steps[first].0, servers);
                // A history stops being linearizable when a client takes a
                // reply: name that reply.
                let last = first.checked_sub(1).and_then(|i| steps[i].1.as_ref());
                if let (Some(ActorModelAction::Deliver { src, dst, msg }), Some(d)) =
                    (last, &mut detail)
                {
                    if property == "Linearizable" {
                        *d = format!(
                            "{} took {msg} from {}: {d}",
                            actor_name(*dst, servers),
                            actor_name(*src, servers)
                        );
                    }
                }
                violated = Some((property.to_string(), detail));
            }
        }
        Trace {
            servers,
            clients: model.cfg.clients.len(),
            steps,
            violated,
        }
    }

    /// The number of steps (actions) in the trace.
    pub fn len(&self) -> usize {
        self.steps.len().saturating_sub(1)
    }

    /// True for a trace of no step (the initial state violates).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `⇒ violated: PROPERTY (what exactly)`, for a trace that ends in a
    /// violation.
    pub fn verdict(&self) -> Option<String> {
        let (property, detail) = self.violated.as_ref()?;
        Some(match detail {
            Some(detail) => format!("⇒ violated: {property} ({detail})"),
            None => format!("⇒ violated: {property}"),
        })
    }

    fn name(&self, id: Id) -> String {
        actor_name(id, self.servers)
    }

    /// The step's line, and for a delivery its sender, receiver and
    /// message (an arrow in the diagram).
    fn action(&self, action: &Action) -> (String, Option<(String, String, String)>) {
        let text = describe_action(action, self.servers);
        match action {
            ActorModelAction::Deliver { src, dst, msg } => (
                text,
                Some((self.name(*src), self.name(*dst), msg.to_string())),
            ),
            _ => (text, None),
        }
    }

    /// What changed between two states worth telling a reader, each with
    /// the actor it concerns.
    fn consequences(&self, before: &State, after: &State) -> Vec<(String, String)> {
        let mut notes = Vec::new();
        for (i, (a, b)) in before
            .actor_states
            .iter()
            .zip(after.actor_states.iter())
            .enumerate()
        {
            if let (NodeState::Server(a), NodeState::Server(b)) = (&**a, &**b) {
                let n = format!("n{i}");
                let (ra, rb) = (&a.replica(), &b.replica());
                if (ra.role(), ra.epoch()) != (rb.role(), rb.epoch()) && rb.role() != Role::Follower
                {
                    notes.push((
                        n.clone(),
                        format!("{n} is now {} of {}", rb.role(), rb.epoch()),
                    ));
                }
                if rb.commit() > ra.commit() {
                    notes.push((
                        n.clone(),
                        format!("{n} commits through lsn {}", rb.commit()),
                    ));
                }
                if let (None, Some(p)) = (
                    &a.storage().ghost.truncated_committed,
                    &b.storage().ghost.truncated_committed,
                ) {
                    notes.push((
                        n.clone(),
                        format!("{n} truncates committed entry {}", Short(*p)),
                    ));
                }
            }
        }
        for (request, at) in &after.history.acked {
            if !before.history.acked.contains_key(request) {
                let client = self.name(client_of(*request));
                notes.push((
                    client.clone(),
                    format!("{client}'s write acknowledged, committed at {}", Short(*at)),
                ));
            }
        }
        for read in after
            .history
            .follower_reads
            .iter()
            .skip(before.history.follower_reads.len())
        {
            let client = self.name(read.client);
            let mut note = format!(
                "{client} read {} at {} from {}",
                read.value,
                Short(read.at),
                self.name(read.server)
            );
            if let Some(w) = read.last_write {
                note.push_str(&format!(" (its last write: {})", Short(w)));
            }
            if let Some(p) = read.last_read {
                note.push_str(&format!(" (its previous read: {})", Short(p)));
            }
            notes.push((client, note));
        }
        notes
    }

    /// Numbered steps, ending with the violated property.
    pub fn steps(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (n, window) in self.steps.windows(2).enumerate() {
            let (before, action) = (&window[0].0, &window[0].1);
            let after = &window[1].0;
            let Some(action) = action else { continue };
            let (text, _) = self.action(action);
            let notes: Vec<String> = self
                .consequences(before, after)
                .into_iter()
                .map(|(_, note)| note)
                .collect();
            if notes.is_empty() {
                out.push(format!("{}. {text}", n + 1));
            } else {
                out.push(format!("{}. {text}  ⇒ {}", n + 1, notes.join("; ")));
            }
        }
        out.extend(self.verdict());
        out
    }

    /// A Mermaid sequence diagram of the same steps: messages as arrows,
    /// everything else as a note over the actor it concerns, and the
    /// violation as a note over every server.
    pub fn mermaid(&self) -> String {
        let clean = |text: &str| text.replace(';', ",").replace('#', "");
        let mut out = String::from("sequenceDiagram\n");
        for i in 0..self.servers + self.clients {
            out.push_str(&format!("    participant {}\n", self.name(Id::from(i))));
        }
        for window in self.steps.windows(2) {
            let (before, action) = (&window[0].0, &window[0].1);
            let after = &window[1].0;
            let Some(action) = action else { continue };
            let (text, arrow) = self.action(action);
            match arrow {
                Some((s, d, m)) => out.push_str(&format!("    {s}->>{d}: {}\n", clean(&m))),
                None => {
                    let who = self.name(actor_of(action));
                    let text = text.strip_prefix(&format!("{who}: ")).unwrap_or(&text);
                    out.push_str(&format!("    Note over {who}: {}\n", clean(text)));
                }
            }
            for (who, note) in self.consequences(before, after) {
                out.push_str(&format!("    Note over {who}: {}\n", clean(&note)));
            }
        }
        if let Some(verdict) = self.verdict() {
            let last = self.name(Id::from(self.servers.saturating_sub(1)));
            out.push_str(&format!("    Note over n0,{last}: {}\n", clean(&verdict)));
        }
        out
    }
}

/// One step in one line: `n0 → n1: Append e1 prev=e0/0 …`, `n2: timer
/// fires`, `n1 crashes (keeps only durable state)`.
pub fn describe_action(action: &Action, servers: usize) -> String {
    let name = |id: Id| actor_name(id, servers);
    match action {
        ActorModelAction::Deliver { src, dst, msg } => {
            format!("{} → {}: {msg}", name(*src), name(*dst))
        }
        ActorModelAction::Drop(env) => format!(
            "network drops {} → {}: {}",
            name(env.src),
            name(env.dst),
            env.msg
        ),
        ActorModelAction::Timeout(id, _) => format!("{}: timer fires", name(*id)),
        ActorModelAction::Crash(id) => format!("{} crashes (keeps only durable state)", name(*id)),
        ActorModelAction::Recover(id) => format!("{} restarts from durable state", name(*id)),
        ActorModelAction::SelectRandom { actor, .. } => format!("{} chooses", name(*actor)),
    }
}

/// The actor an action happens at (a drop happens at its destination).
fn actor_of(action: &Action) -> Id {
    match action {
        ActorModelAction::Deliver { dst, .. } => *dst,
        ActorModelAction::Drop(env) => env.dst,
        ActorModelAction::Timeout(id, _)
        | ActorModelAction::Crash(id)
        | ActorModelAction::Recover(id) => *id,
        ActorModelAction::SelectRandom { actor, .. } => *actor,
    }
}

fn found(found: Found) -> &'static str {
    match found {
        Found::Holds => "holds",
        Found::Violated => "VIOLATED",
        Found::Stopped => "STOPPED",
    }
}

/// The verdict table as aligned text: one row per safety property, then
/// one line per model and configuration for its examples (the `sometimes`
/// properties that show the model is not vacuous): `examples found: 3/3`,
/// naming any that was not.
pub fn table(rows: &[Verdict]) -> String {
    let header = [
        "model",
        "configuration",
        "property",
        "expected",
        "found",
        "states",
        "depth",
        "seconds",
    ];
    let mut cells: Vec<[String; 8]> = Vec::new();
    let mut flags: Vec<bool> = Vec::new();
    for r in rows.iter().filter(|r| !r.is_example()) {
        cells.push([
            r.model.clone(),
            r.config.clone(),
            r.property.clone(),
            r.expected.clone(),
            found(r.found).to_string(),
            r.unique_states.to_string(),
            r.max_depth.to_string(),
            format!("{:.1}", r.seconds),
        ]);
        flags.push(!r.ok);
    }
    let mut width = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: &[String]| {
        let mut text = String::new();
        for (i, (cell, w)) in row.iter().zip(width).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            // Counts right-aligned, words left-aligned.
            if i >= 5 {
                text.push_str(&format!("{cell:>w$}"));
            } else {
                text.push_str(&format!("{cell:<w$}"));
            }
        }
        text.trim_end().to_string()
    };
    let mut out = line(&header.map(String::from));
    out.push('\n');
    for (row, bad) in cells.iter().zip(flags) {
        out.push_str(&line(row));
        if bad {
            out.push_str("  << UNEXPECTED");
        }
        out.push('\n');
    }
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for r in rows.iter().filter(|r| r.is_example()) {
        if !groups.contains(&(r.model.as_str(), r.config.as_str())) {
            groups.push((&r.model, &r.config));
        }
    }
    if !groups.is_empty() {
        out.push('\n');
    }
    let label = width[0] + 2 + width[1];
    for (model, config) in groups {
        let examples: Vec<&Verdict> = rows
            .iter()
            .filter(|r| r.is_example() && r.model == model && r.config == config)
            .collect();
        let reached = examples.iter().filter(|r| r.found == Found::Holds).count();
        let name = format!("{model:<w$}  {config}", w = width[0]);
        out.push_str(&format!(
            "{name:<label$}  examples found: {reached}/{}",
            examples.len()
        ));
        let missed: Vec<String> = examples
            .iter()
            .filter(|r| r.found != Found::Holds)
            .map(|r| match r.found {
                Found::Stopped => format!("{} (stopped)", r.example_name()),
                _ => r.example_name().to_string(),
            })
            .collect();
        if !missed.is_empty() {
            out.push_str(&format!(" (not found: {})", missed.join(", ")));
        }
        if examples.iter().any(|r| !r.ok) {
            out.push_str("  << UNEXPECTED");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(model: &str, config: &str, property: &str, found: Found, ok: bool) -> Verdict {
        Verdict {
            model: model.to_string(),
            config: config.to_string(),
            property: property.to_string(),
            expected: "holds".to_string(),
            found,
            unique_states: 1234,
            max_depth: 7,
            seconds: 0.5,
            cpu_seconds: 0.5,
            symmetry: false,
            trace: None,
            mermaid: None,
            shortest: false,
            ok,
        }
    }

    #[test]
    fn the_table_lists_safety_rows_aligned_and_examples_on_one_line_per_model() {
        let rows = vec![
            row(
                "matrix",
                "n=3 Quorum Majority",
                "ElectionSafety",
                Found::Holds,
                true,
            ),
            row(
                "matrix",
                "n=3 Quorum Majority",
                "NoLostAckedWrites",
                Found::Holds,
                true,
            ),
            row(
                "matrix",
                "n=3 Quorum Majority",
                "sometimes: a write is acknowledged",
                Found::Holds,
                true,
            ),
            row(
                "matrix",
                "n=3 Quorum Majority",
                "sometimes: a failover happens",
                Found::Violated,
                false,
            ),
            row(
                "a-much-longer-family",
                "n=5 SemiSync{1} Majority",
                "UniqueIds",
                Found::Holds,
                true,
            ),
        ];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 3 + 1 + 1, "{text}");
        assert!(
            !lines[..4].iter().any(|l| l.contains("sometimes")),
            "{text}"
        );
        // Every column starts at the same place on every row.
        let column = |line: &str, word: &str| line.find(word).expect(word);
        let property = column(lines[0], "property");
        assert_eq!(column(lines[1], "ElectionSafety"), property, "{text}");
        assert_eq!(column(lines[3], "UniqueIds"), property, "{text}");
        let states = column(lines[0], "states") + "states".len();
        assert_eq!(column(lines[1], "1234") + 4, states, "{text}");
        assert!(
            lines[5].contains("examples found: 1/2 (not found: a failover happens)")
                && lines[5].ends_with("<< UNEXPECTED"),
            "{text}"
        );
    }
}
