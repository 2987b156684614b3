//! Recording a single-node replica driven by hand, then reading, tearing,
//! corrupting and tampering with its trace.

use super::*;
use std::path::{Path, PathBuf};
use steadfast::{Config, Durable, Instant, NodeId, Output, RequestId};

/// A single voter that elects itself, takes `writes` proposals and is told
/// each is durable, performing its outputs as a host would. Returns the
/// trace file and the number of inputs made.
fn record_single_node(dir: &Path, writes: u64) -> (PathBuf, usize) {
    let config = Config::new(NodeId(1), [NodeId(1)]).with_seed(3);
    let mut replica =
        TracedReplica::restart(config, Durable::default(), Instant(0), 9, Some(dir)).unwrap();
    let mut inputs = 0;
    let mut now = Instant(0);
    let drain = |replica: &mut TracedReplica, now: Instant, inputs: &mut usize| loop {
        let mut appended = None;
        while let Some(output) = replica.poll_output() {
            if let Output::Append { entries } = &output {
                appended = entries.last().map(steadfast::Entry::position);
            }
        }
        let Some(through) = appended else { break };
        replica.handle_persisted(now, through);
        *inputs += 1;
    };
    while replica.role() != steadfast::Role::Leader {
        now = replica.poll_timeout().unwrap();
        replica.handle_timeout(now);
        inputs += 1;
        drain(&mut replica, now, &mut inputs);
    }
    for i in 0..writes {
        now = Instant(now.0 + 1);
        replica
            .propose(now, RequestId(i + 1), format!("w{i}").into_bytes())
            .unwrap();
        inputs += 1;
        drain(&mut replica, now, &mut inputs);
    }
    // A refused input is recorded with its error.
    assert!(replica.transfer_leadership(now, NodeId(9)).is_err());
    inputs += 1;
    drain(&mut replica, now, &mut inputs);
    let path = replica.trace_path().unwrap().to_owned();
    assert!(replica.finish_trace().is_none());
    (path, inputs)
}

#[test]
fn a_recorded_run_replays_step_for_step() {
    let dir = tempfile::tempdir().unwrap();
    let (path, inputs) = record_single_node(dir.path(), 5);
    let trace = read_trace(&path).unwrap();
    assert_eq!(trace.header.node, NodeId(1));
    assert_eq!(trace.header.cluster_id, 9);
    assert!(matches!(trace.end, TraceEnd::Clean { .. }));
    let report = replay(&path).unwrap();
    assert_eq!(report.steps, inputs);
    // Election (hard state, role), then per write at least an append and
    // an apply and a reply.
    assert!(report.outputs >= 3 * 5, "{report}");
    assert_eq!(trace_files(dir.path()).unwrap(), vec![path]);
}

#[test]
fn a_torn_last_record_ends_the_trace_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (path, inputs) = record_single_node(dir.path(), 5);
    let bytes = std::fs::read(&path).unwrap();
    // Cut into the last records: without the end record, then mid-record.
    let whole = replay(&path).unwrap();
    for cut in [1, 3, 11, 40] {
        std::fs::write(&path, &bytes[..bytes.len() - cut]).unwrap();
        let trace = read_trace(&path).unwrap();
        match trace.end {
            TraceEnd::Torn {
                offset,
                bytes: ignored,
            } => {
                assert_eq!(offset + ignored, (bytes.len() - cut) as u64);
            }
            other => panic!("cut {cut}: expected a torn end, got {other:?}"),
        }
        let report = replay(&path).unwrap();
        assert!(report.steps <= inputs && report.outputs <= whole.outputs);
        assert!(report.to_string().contains("torn last record"), "{report}");
    }
    // A tail of zeros (a file system extended the file) is torn too.
    let mut zeros = bytes.clone();
    zeros.extend_from_slice(&[0; 700]);
    std::fs::write(&path, &zeros).unwrap();
    assert!(matches!(
        read_trace(&path).unwrap().end,
        TraceEnd::Torn { .. }
    ));
}

#[test]
fn a_file_cut_at_a_record_boundary_has_no_end_record() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = record_single_node(dir.path(), 2);
    let mut trace = read_trace(&path).unwrap();
    trace.end = TraceEnd::Cut;
    write_trace(&path, &trace).unwrap();
    let read = read_trace(&path).unwrap();
    assert_eq!(read.end, TraceEnd::Cut);
    assert_eq!(read.events, trace.events);
}

#[test]
fn damage_with_records_after_it_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = record_single_node(dir.path(), 5);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    match read_trace(&path) {
        Err(TraceReadError::Corrupt { offset, .. }) => assert!(offset <= middle as u64),
        other => panic!("expected corruption, got {other:?}"),
    }
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(
        read_trace(&path),
        Err(TraceReadError::NoHeader { .. })
    ));
}

#[test]
fn a_tampered_output_is_the_divergence_replay_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = record_single_node(dir.path(), 3);
    let mut trace = read_trace(&path).unwrap();
    // The first Apply: claim it applied one entry fewer.
    let (event, output) = trace
        .events
        .iter()
        .enumerate()
        .find_map(|(e, event)| match event {
            Event::Polled(polled) => polled
                .outputs
                .iter()
                .position(|o| matches!(o, Output::Apply { .. }))
                .map(|o| (e, o)),
            Event::Input(_) => None,
        })
        .expect("the run applied entries");
    let step = trace.events[..event]
        .iter()
        .filter(|e| matches!(e, Event::Input(_)))
        .count();
    if let Event::Polled(polled) = &mut trace.events[event] {
        polled.outputs[output] = Output::Apply { entries: vec![] };
    }
    write_trace(&path, &trace).unwrap();
    let Err(ReplayError::Diverged(divergence)) = replay(&path) else {
        panic!("the tampered output went unnoticed");
    };
    assert_eq!(divergence.step, step);
    assert!(divergence.what.starts_with("output #"), "{divergence}");
    assert!(
        divergence.expected.contains("Apply { entries: [] }"),
        "{divergence}"
    );
    assert!(
        divergence.got.contains("Apply { entries: [Entry"),
        "{divergence}"
    );
}

#[test]
fn a_tampered_input_diverges_at_its_own_step() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = record_single_node(dir.path(), 3);
    let mut trace = read_trace(&path).unwrap();
    // The second proposal's payload changed: its entry, then everything
    // carrying it, differs from what was recorded.
    let mut proposals = trace
        .events
        .iter_mut()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Event::Input(InputRecord {
                input: Input::Propose { command, .. },
                ..
            }) => Some((i, command)),
            _ => None,
        });
    let _ = proposals.next();
    let (index, command) = proposals.next().expect("three proposals");
    *command = steadfast::Bytes::from_static(b"forged");
    let step = trace.events[..=index]
        .iter()
        .filter(|e| matches!(e, Event::Input(_)))
        .count();
    write_trace(&path, &trace).unwrap();
    let Err(ReplayError::Diverged(divergence)) = replay(&path) else {
        panic!("the tampered input went unnoticed");
    };
    assert_eq!(divergence.step, step, "{divergence}");
    assert!(divergence
        .input
        .as_deref()
        .unwrap_or("")
        .contains("Propose"));
}

#[test]
fn a_tampered_return_value_is_reported_as_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = record_single_node(dir.path(), 1);
    let mut trace = read_trace(&path).unwrap();
    let refused = trace
        .events
        .iter_mut()
        .find_map(|e| match e {
            Event::Input(record) if matches!(record.result, CallResult::Refused(_)) => Some(record),
            _ => None,
        })
        .expect("the transfer to a stranger was refused");
    refused.result = CallResult::Done;
    write_trace(&path, &trace).unwrap();
    let Err(ReplayError::Diverged(divergence)) = replay(&path) else {
        panic!("the tampered result went unnoticed");
    };
    assert_eq!(divergence.what, "result");
    assert!(divergence.got.contains("BadTransferTarget"), "{divergence}");
}

#[test]
fn recording_off_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new(NodeId(1), [NodeId(1)]);
    let mut replica =
        TracedReplica::restart(config, Durable::default(), Instant(0), 1, None).unwrap();
    replica.handle_timeout(Instant(10_000));
    while replica.poll_output().is_some() {}
    assert!(replica.trace_path().is_none());
    assert!(replica.flush_trace().is_none() && replica.finish_trace().is_none());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
