//! One global order for the steps of every trace of a run, consistent with
//! causality.
//!
//! Each node's steps keep their recorded order (its incarnations one after
//! another, by start time). Across nodes, a step that handles a message
//! comes after the sender's step that emitted it: receives are matched to
//! sends by sender, receiver and content, first come first matched (the
//! transport keeps each pair's messages in order, and may drop some).
//! Within those constraints, steps are taken by their wall-clock stamps
//! (one machine-wide clock). A receive with no matching send (the sender's
//! trace lost it to a kill, or it was never recorded) is ordered by its
//! stamp alone and counted.

use super::format::Input;
use super::reader::{Event, Trace};
use std::collections::BTreeMap;
use steadfast::wire::Message;
use steadfast::{NodeId, Output};

/// How far past the last matched send a receive looks for its own (bounds
/// the work for receives whose send is not in the traces).
const MATCH_WINDOW: usize = 4096;

/// A step of one trace: `traces[trace]`, step `step` (0: its restart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StepRef {
    /// Index into the traces given.
    pub trace: usize,
    /// Step index within it.
    pub step: usize,
}

/// Where the message a step handles came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// The step does not handle a message.
    Nothing,
    /// Sent by this step of the sender's trace.
    From(StepRef),
    /// No recorded send matches it.
    Unmatched,
}

/// One step in the global order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalStep {
    /// The step.
    pub at: StepRef,
    /// The node whose step it is.
    pub node: NodeId,
    /// Its wall-clock stamp (the input's, or the restart's).
    pub at_ns: u64,
    /// The send it depends on, for a message.
    pub received: Received,
}

/// The steps of every trace in one causal order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CausalOrder {
    /// Every step of every trace.
    pub steps: Vec<GlobalStep>,
    /// Receives matched to their send.
    pub matched: usize,
    /// Receives with no recorded send (ordered by their stamp alone).
    pub unmatched: usize,
    /// Receives matched at first whose constraint had to be dropped (every
    /// node's next step waited for another: an identical message was
    /// matched to the wrong send); ordered by their stamp, and counted in
    /// `unmatched` rather than `matched`.
    pub relaxed: usize,
}

/// A trace's steps: stamp, input, and the messages its outputs sent.
struct StepInfo<'t> {
    at_ns: u64,
    input: Option<&'t Input>,
    sends: Vec<(NodeId, &'t Message)>,
}

fn steps_of(trace: &Trace) -> Vec<StepInfo<'_>> {
    let mut steps = vec![StepInfo {
        at_ns: trace.header.started_ns,
        input: None,
        sends: Vec::new(),
    }];
    for event in &trace.events {
        match event {
            Event::Input(record) => steps.push(StepInfo {
                at_ns: record.at_ns,
                input: Some(&record.input),
                sends: Vec::new(),
            }),
            Event::Polled(polled) => {
                let Some(step) = steps.last_mut() else {
                    continue;
                };
                for output in &polled.outputs {
                    if let Output::Send { to, message } = output {
                        step.sends.push((*to, message));
                    }
                }
            }
        }
    }
    steps
}

/// Order the steps of `traces` (any number of nodes and incarnations).
pub fn causal_order(traces: &[Trace]) -> CausalOrder {
    let steps: Vec<Vec<StepInfo<'_>>> = traces.iter().map(steps_of).collect();
    // Each node's steps, incarnation after incarnation.
    let mut incarnations: BTreeMap<NodeId, Vec<usize>> = BTreeMap::new();
    for (i, trace) in traces.iter().enumerate() {
        incarnations.entry(trace.header.node).or_default().push(i);
    }
    let mut queues: BTreeMap<NodeId, Vec<StepRef>> = BTreeMap::new();
    for (&node, list) in &mut incarnations {
        list.sort_by_key(|&i| (traces[i].header.started_ns, traces[i].path.clone()));
        let queue = queues.entry(node).or_default();
        for &trace in list.iter() {
            queue.extend((0..steps[trace].len()).map(|step| StepRef { trace, step }));
        }
    }
    // Sends per (sender, receiver), in the sender's order.
    let mut sends: BTreeMap<(NodeId, NodeId), Vec<(StepRef, &Message)>> = BTreeMap::new();
    for (&node, queue) in &queues {
        for &at in queue {
            for &(to, message) in &steps[at.trace][at.step].sends {
                sends.entry((node, to)).or_default().push((at, message));
            }
        }
    }
    let mut order = CausalOrder::default();
    let mut received: BTreeMap<StepRef, Received> = BTreeMap::new();
    let mut cursors: BTreeMap<(NodeId, NodeId), usize> = BTreeMap::new();
    for (&node, queue) in &queues {
        for &at in queue {
            let Some(Input::Message { from, message, .. }) = steps[at.trace][at.step].input else {
                continue;
            };
            let pair = (*from, node);
            let cursor = cursors.entry(pair).or_default();
            let candidates = sends.get(&pair).map_or(&[][..], Vec::as_slice);
            let found = candidates
                .iter()
                .enumerate()
                .skip(*cursor)
                .take(MATCH_WINDOW)
                .find(|(_, (_, sent))| *sent == message);
            let source = match found {
                Some((index, (sent_at, _))) => {
                    *cursor = index + 1;
                    order.matched += 1;
                    Received::From(*sent_at)
                }
                None => {
                    order.unmatched += 1;
                    Received::Unmatched
                }
            };
            received.insert(at, source);
        }
    }
    // Merge: the earliest stamp among the nodes whose next step has its
    // send already taken.
    let mut heads: BTreeMap<NodeId, usize> = queues.keys().map(|&n| (n, 0)).collect();
    let mut taken: Vec<usize> = vec![0; traces.len()];
    let is_taken = |taken: &[usize], s: StepRef| taken[s.trace] > s.step;
    loop {
        let mut best: Option<(u64, NodeId, StepRef, bool)> = None;
        for (&node, &head) in &heads {
            let Some(&at) = queues[&node].get(head) else {
                continue;
            };
            let ready = match received.get(&at) {
                Some(Received::From(sent)) => is_taken(&taken, *sent),
                _ => true,
            };
            let stamp = steps[at.trace][at.step].at_ns;
            // Ready steps first, then the earliest stamp.
            let better = match best {
                None => true,
                Some((best_stamp, _, _, best_ready)) => {
                    (ready && !best_ready) || (ready == best_ready && stamp < best_stamp)
                }
            };
            if better {
                best = Some((stamp, node, at, ready));
            }
        }
        let Some((stamp, node, at, ready)) = best else {
            break;
        };
        let mut source = received.get(&at).copied().unwrap_or(Received::Nothing);
        if !ready {
            // Every next step waits for another: an identical message was
            // matched to a later send. Take the earliest by its stamp.
            order.relaxed += 1;
            order.matched -= 1;
            order.unmatched += 1;
            source = Received::Unmatched;
        }
        order.steps.push(GlobalStep {
            at,
            node,
            at_ns: stamp,
            received: source,
        });
        taken[at.trace] = at.step + 1;
        if let Some(head) = heads.get_mut(&node) {
            *head += 1;
        }
    }
    order
}
