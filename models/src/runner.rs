//! Running one check: the search (exhaustive depth-first, or breadth-first
//! to a depth bound), optional symmetry reduction, progress on stderr, an
//! explicit time limit, and the comparison of what was found with what was
//! expected.
//!
//! Verdicts never depend on the machine: a check runs until its structural
//! bounds are exhausted. Only `--max-seconds` can cut a search short, and a
//! property it leaves undecided is reported as [`Found::Stopped`], which is
//! never a pass.

use crate::canonical::canonical;
use crate::model::{ReplicationModel, StopFlag};
use crate::properties::Model;
use crate::suite::{Check, Expect};
use crate::symmetry::representative;
use stateright::{Checker, HasDiscoveries, Model as _, Path};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the checker found for one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Found {
    /// Explored every state within the bounds, no violation.
    Holds,
    /// A violation was found.
    Violated,
    /// The search was cut short (`--max-seconds`) before it exhausted the
    /// bounds or found a violation: nothing was decided.
    Stopped,
}

/// How to run the checks (none of it changes a verdict, except that a time
/// limit can leave one undecided).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Checker threads.
    pub threads: usize,
    /// Cut each check after this long (`None`: run to the end of its bounds).
    pub max_seconds: Option<u64>,
    /// Reduce by renaming servers (exhaustive checks whose model allows it).
    pub symmetry: bool,
    /// Report progress on stderr.
    pub progress: bool,
    /// Dedup states by their [`canonical`](crate::canonical) form
    /// (exhaustive checks; with symmetry, the representative is canonical
    /// too).
    pub canonical: bool,
}

impl Default for RunOptions {
    /// Every core of the machine, no time limit, symmetry on, no progress.
    fn default() -> RunOptions {
        RunOptions {
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_seconds: None,
            symmetry: true,
            progress: false,
            canonical: true,
        }
    }
}

/// One row of the verdict table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Verdict {
    /// Model family.
    pub model: String,
    /// Configuration.
    pub config: String,
    /// Property.
    pub property: String,
    /// Expected outcome.
    pub expected: String,
    /// Found outcome.
    pub found: Found,
    /// Unique states explored (representatives, with symmetry reduction).
    pub unique_states: usize,
    /// Depth reached.
    pub max_depth: usize,
    /// Wall-clock seconds for the whole model.
    pub seconds: f64,
    /// CPU seconds (all threads) for the whole model.
    pub cpu_seconds: f64,
    /// Whether the search was reduced by symmetry.
    pub symmetry: bool,
    /// The counterexample (or example), as numbered steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<String>>,
    /// The same trace as a Mermaid sequence diagram.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mermaid: Option<String>,
    /// Whether the counterexample is a shortest one (found breadth-first:
    /// no path of fewer steps violates the property).
    pub shortest: bool,
    /// Whether `found` matches `expected`.
    pub ok: bool,
}

impl Verdict {
    /// True for an example row (a `sometimes` property the model must
    /// reach), false for a safety property.
    pub fn is_example(&self) -> bool {
        self.property.starts_with(EXAMPLE)
    }

    /// The example's own name (without the `sometimes: ` prefix).
    pub fn example_name(&self) -> &str {
        self.property
            .strip_prefix(EXAMPLE)
            .unwrap_or(&self.property)
    }
}

/// How an example's property name starts in a [`Verdict`].
const EXAMPLE: &str = "sometimes: ";

/// The progress of the check running now, for a report on Ctrl-C.
#[derive(Clone, Debug, Default)]
pub struct Live {
    /// The check's name.
    pub name: String,
    /// Unique states so far.
    pub unique_states: usize,
    /// Depth so far.
    pub max_depth: usize,
    /// Properties already decided by a discovery: a safety property
    /// violated, or an example (`sometimes`) reached.
    pub discovered: Vec<&'static str>,
    /// The check's examples (`sometimes` properties).
    pub examples: Vec<&'static str>,
}

impl Live {
    /// The discoveries that are violations of a safety property.
    pub fn violations(&self) -> Vec<&'static str> {
        self.discovered
            .iter()
            .copied()
            .filter(|name| !self.examples.contains(name))
            .collect()
    }

    /// The examples reached so far.
    pub fn examples_reached(&self) -> Vec<&'static str> {
        self.discovered
            .iter()
            .copied()
            .filter(|name| self.examples.contains(name))
            .collect()
    }
}

/// Shared with a Ctrl-C handler: what the running check has verified so far.
pub type LiveHandle = Arc<Mutex<Live>>;

/// Run one check with `options`, reporting progress into `live`.
pub fn run_with(check: &Check, options: &RunOptions, live: &LiveHandle) -> Vec<Verdict> {
    let name = crate::suite::check_name(check);
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    let stop = StopFlag::default();
    let model: Model = ReplicationModel {
        stop: stop.clone(),
        ..check.model.clone()
    }
    .into_model();
    let symmetry = options.symmetry && check.max_depth == 0 && check.model.is_symmetric();
    let builder = model.checker().threads(options.threads.max(1));
    let watching = Watching {
        options,
        live,
        name: &name,
        started,
        stop: &stop,
    };
    if let Ok(mut l) = live.lock() {
        *l = Live {
            name: name.clone(),
            examples: check.examples.clone(),
            ..Live::default()
        };
    }
    let finish = Finish {
        check,
        stop: &stop,
        started,
        cpu_started,
        threads: options.threads,
    };
    if check.max_depth > 0 {
        let checker = builder.target_max_depth(check.max_depth).spawn_bfs();
        let checker = watching.watch(checker);
        finish.verdicts(&checker, false)
    } else if symmetry {
        let checker = builder.symmetry_fn(representative).spawn_dfs();
        let checker = watching.watch(checker);
        finish.verdicts(&checker, true)
    } else if options.canonical && crate::canonical::applies_to(check.model.network) {
        // Dedup by the canonical form (stateright's depth-first search
        // takes it through `symmetry_fn`; nothing is renamed).
        let checker = builder.symmetry_fn(canonical).spawn_dfs();
        let checker = watching.watch(checker);
        finish.verdicts(&checker, false)
    } else {
        let checker = builder.spawn_dfs();
        let checker = watching.watch(checker);
        finish.verdicts(&checker, false)
    }
}

/// Run one check with the default options and no progress report.
pub fn run(check: &Check) -> Vec<Verdict> {
    run_with(check, &RunOptions::default(), &LiveHandle::default())
}

/// What watches a running check.
struct Watching<'a> {
    options: &'a RunOptions,
    live: &'a LiveHandle,
    name: &'a str,
    started: Instant,
    stop: &'a StopFlag,
}

impl Watching<'_> {
    /// Wait for the checker, reporting progress every few seconds (a redrawn
    /// line on a terminal, plain lines otherwise), and stop it at the time
    /// limit. (stateright's own timeout is only seen by a thread that runs out
    /// of work, which a depth-first search may never do.)
    fn watch<C: Checker<Model>>(&self, mut checker: C) -> C {
        let Watching {
            options,
            live,
            name,
            started,
            stop,
        } = *self;
        let terminal = std::io::stderr().is_terminal();
        let bar = (options.progress && terminal).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        let period = if terminal {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(10)
        };
        let mut last_report = Instant::now();
        let mut last_states = 0usize;
        let handles = checker.handles();
        while handles.iter().any(|h| !h.is_finished()) {
            std::thread::sleep(Duration::from_millis(100));
            if options
                .max_seconds
                .is_some_and(|limit| started.elapsed() >= Duration::from_secs(limit))
            {
                stop.raise();
            }
            if last_report.elapsed() < period {
                continue;
            }
            let unique = checker.unique_state_count();
            let depth = checker.max_depth();
            if let Ok(mut l) = live.lock() {
                l.unique_states = unique;
                l.max_depth = depth;
                l.discovered = checker.discoveries().into_keys().collect();
            }
            let rate =
                (unique.saturating_sub(last_states)) as f64 / last_report.elapsed().as_secs_f64();
            let line = format!(
            "{name}: {unique} unique states ({} generated), depth {depth}, {rate:.0} states/s, {:.0}s",
            checker.state_count(),
            started.elapsed().as_secs_f64()
        );
            match &bar {
                Some(bar) => bar.set_message(line),
                None if options.progress => eprintln!("  {line}"),
                None => {}
            }
            last_report = Instant::now();
            last_states = unique;
        }
        for handle in handles {
            // A checker thread that panicked is a model bug (a host-contract
            // breach names itself in its panic message, already printed).
            if handle.join().is_err() {
                eprintln!("{name}: a checker thread panicked");
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        checker
    }
}

/// CPU seconds this process has used, all threads.
fn cpu_seconds() -> f64 {
    cpu_time::ProcessTime::try_now().map_or(0.0, |t| t.as_duration().as_secs_f64())
}

/// Shortest counterexamples to `violated`: a breadth-first search of the
/// same model, no deeper than the longest path already found, that ends as
/// soon as it has a violation of each. It sees every state up to that
/// depth, so each path it returns is a shortest one.
fn shortest_paths(
    check: &Check,
    violated: &[(
        &'static str,
        Path<crate::properties::State, crate::report::Action>,
    )],
    threads: usize,
    stop: &StopFlag,
) -> Vec<(
    &'static str,
    Path<crate::properties::State, crate::report::Action>,
)> {
    let depth = violated
        .iter()
        .map(|(_, path)| path.clone().into_actions().len())
        .max()
        .unwrap_or(0);
    let model: Model = ReplicationModel {
        stop: stop.clone(),
        ..check.model.clone()
    }
    .into_model();
    let names = violated.iter().map(|(p, _)| *p).collect();
    let checker = model
        .checker()
        .threads(threads.max(1))
        .target_max_depth(depth + 2)
        .finish_when(HasDiscoveries::AllOf(names))
        .spawn_bfs()
        .join();
    violated
        .iter()
        .filter_map(|(p, _)| Some((*p, checker.discovery(p)?)))
        .collect()
}

/// What a finished search is judged with: the check, and how its run went.
struct Finish<'a> {
    check: &'a Check,
    stop: &'a StopFlag,
    started: Instant,
    cpu_started: f64,
    threads: usize,
}

impl Finish<'_> {
    /// The verdict rows of a search that ended (reduced by symmetry or not).
    fn verdicts(&self, checker: &impl Checker<Model>, symmetry: bool) -> Vec<Verdict> {
        let Finish {
            check,
            stop,
            started,
            cpu_started,
            threads,
        } = *self;
        let seconds = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_started;
        let stopped = stop.is_raised();
        let unique = checker.unique_state_count();
        let depth = checker.max_depth();
        let config = check.model.describe();
        let model = checker.model();
        let row = |property: String, expected: &str, found: Found, ok: bool| Verdict {
            model: check.family.to_string(),
            config: config.clone(),
            property,
            expected: expected.to_string(),
            found,
            unique_states: unique,
            max_depth: depth,
            seconds,
            cpu_seconds: cpu,
            symmetry,
            trace: None,
            mermaid: None,
            shortest: false,
            ok,
        };
        // A depth-first search finds some counterexample, often a long one; a
        // second, breadth-first search bounded by its length finds a shortest.
        let violated: Vec<(&'static str, Path<_, _>)> = check
            .expect
            .iter()
            .filter_map(|(property, _)| Some((*property, checker.discovery(property)?)))
            .collect();
        let shortest = if check.max_depth == 0 && !violated.is_empty() && !stopped {
            shortest_paths(check, &violated, threads, stop)
        } else {
            Vec::new()
        };
        let mut rows = Vec::new();
        for (property, expect) in &check.expect {
            let bfs = shortest.iter().find(|(p, _)| p == property);
            let path = match bfs {
                Some((_, path)) => Some(path.clone()),
                None => checker.discovery(property),
            };
            let found = match (&path, stopped) {
                (Some(_), _) => Found::Violated,
                (None, false) => Found::Holds,
                (None, true) => Found::Stopped,
            };
            let ok = matches!(
                (expect, found),
                (Expect::Holds, Found::Holds) | (Expect::Violated, Found::Violated)
            );
            let mut verdict = row(
                property.to_string(),
                &format!("{expect:?}").to_lowercase(),
                found,
                ok,
            );
            if let Some(path) = path {
                let t = crate::report::Trace::new(model, path, property);
                verdict.trace = Some(t.steps());
                verdict.mermaid = Some(t.mermaid());
                verdict.shortest = check.max_depth > 0 || bfs.is_some();
            }
            rows.push(verdict);
        }
        for example in &check.examples {
            let path: Option<Path<_, _>> = checker.discovery(example);
            let found = match (path.is_some(), stopped) {
                (true, _) => Found::Holds,
                (false, false) => Found::Violated,
                (false, true) => Found::Stopped,
            };
            rows.push(row(
                format!("{EXAMPLE}{example}"),
                "holds",
                found,
                found == Found::Holds,
            ));
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_progress_tells_violations_from_examples() {
        let live = Live {
            discovered: vec!["NoLostAckedWrites", "a write is acknowledged"],
            examples: vec!["a write is acknowledged", "a failover happens"],
            ..Live::default()
        };
        assert_eq!(live.violations(), vec!["NoLostAckedWrites"]);
        assert_eq!(live.examples_reached(), vec!["a write is acknowledged"]);
    }
}
