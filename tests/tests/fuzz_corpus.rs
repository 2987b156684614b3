//! Replays every committed fuzz input on stable `cargo test`: each file
//! under `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` goes
//! through the same check the cargo-fuzz target runs (`steadfast_sim::fuzzing`,
//! or `steadfast_server::fuzzing` for the server's targets).
//!
//! The seed corpus is written by the ignored test below:
//!
//! ```sh
//! cargo test -p steadfast-tests --test fuzz_corpus -- --ignored write_seed_corpus
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use steadfast::wire;
use steadfast_formats::frame::{Frame, RecordKind};
use steadfast_sim::fuzzing::check_for;
use steadfast_sim::fuzzing::cluster::{run_cluster, Program};
use steadfast_sim::fuzzing::snapshot::run_snapshot;

/// A fuzz target: its name, its check, and the crate whose `fuzzing`
/// module holds the check.
type Target = (&'static str, fn(&[u8]), &'static str);

/// Every fuzz target.
fn targets() -> Vec<Target> {
    let sim = steadfast_sim::fuzzing::TARGETS
        .iter()
        .map(|&(name, check)| (name, check, "steadfast_sim"));
    let server = steadfast_server::fuzzing::TARGETS
        .iter()
        .map(|&(name, check)| (name, check as fn(&[u8]), "steadfast_server"));
    sim.chain(server).collect()
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files in `fuzz/<kind>/<target>/`, sorted.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn every_corpus_and_regression_input_passes_its_check() {
    let mut failures = Vec::new();
    let mut counts = BTreeMap::new();
    for (target, check, _) in targets() {
        for kind in ["corpus", "regressions"] {
            for path in inputs(kind, target) {
                let bytes = fs::read(&path).expect("readable fuzz input");
                if catch_unwind(AssertUnwindSafe(|| check(&bytes))).is_err() {
                    failures.push(path.display().to_string());
                }
                *counts.entry(target).or_insert(0) += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fuzz inputs failing their check: {failures:#?}"
    );
    for (target, _, _) in targets() {
        assert!(
            counts.get(target).copied().unwrap_or(0) >= 3,
            "target {target} has (almost) no committed seed corpus: {counts:?}"
        );
    }
}

#[test]
fn every_fuzz_target_runs_a_registered_check() {
    let dir = fuzz_dir().join("fuzz_targets");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("fuzz/fuzz_targets exists")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    names.sort();
    let targets = targets();
    let mut registered: Vec<String> = targets.iter().map(|(n, _, _)| (*n).to_owned()).collect();
    registered.sort();
    assert_eq!(names, registered);
    for (name, _, krate) in &targets {
        let source = fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap();
        assert!(
            source.contains(&format!("{krate}::fuzzing::check_{name}(data)")),
            "fuzz target {name} must call {krate}::fuzzing::check_{name}"
        );
        if *krate == "steadfast_sim" {
            assert!(check_for(name).is_some());
        }
    }
}

/// The regression input of the first bug the `cluster` target found: at the
/// last epoch a replica voted twice in one epoch. Kept as a named test so
/// the scenario stays readable next to its bytes.
#[test]
fn regression_double_vote_at_the_exhausted_epoch() {
    let bytes = fs::read(fuzz_dir().join("regressions/cluster/double-vote-at-exhausted-epoch"))
        .expect("regression input present");
    let outcome = run_cluster(&bytes);
    assert!(outcome.events >= 3, "{outcome:?}");
    // The same scenario, written as a program: n2 campaigns in the last
    // epoch and wins n1's vote, then n1's own timer fires.
    let program = Program::new()
        .without_pre_vote()
        .without_check_quorum()
        .near_epoch_limit(0)
        .timeout(1)
        .deliver(0)
        .timeout(0)
        .settle(32);
    run_cluster(&program.bytes());
}

// ----- the seed corpus ------------------------------------------------------

#[path = "fuzz_corpus/seeds.rs"]
mod seeds;
use seeds::*;

#[test]
fn seed_programs_reach_what_they_are_named_for() {
    for (name, program, must_commit) in programs() {
        assert_meaningful(name, must_commit, &run_cluster(&program.bytes()));
    }
}

/// Writes the seed corpus under `fuzz/corpus/<target>/`, replacing the
/// files it wrote before. Run by hand after changing an encoder or the
/// cluster program format, then commit the result.
/// The `restart` seeds reach what they are named for: accepted states
/// that are driven, and a refusal of every kind the search finds.
#[test]
fn restart_seeds_reach_what_they_are_named_for() {
    for (name, bytes) in restart_seeds() {
        let outcome = steadfast_sim::fuzzing::restart::run_restart(&bytes);
        assert_eq!(
            outcome.accepted,
            name.starts_with("accepted"),
            "{name}: {outcome:?}"
        );
    }
}

#[test]
#[ignore = "writes fuzz/corpus; run by hand"]
fn write_seed_corpus() {
    let (statements, wal, logical_events) = workload_records();
    let triggers = change_rows();
    let envelopes: Vec<Vec<u8>> = envelopes()
        .iter()
        .map(|e| wire::encode(e).unwrap())
        .collect();
    let mut frames = vec![
        Frame::new(RecordKind::Statement, 1, Vec::new()).encode(),
        Frame::new(RecordKind::Logical, 2, b"body".to_vec()).encode(),
    ];
    frames.extend(statements.iter().take(2).cloned());
    frames.extend(triggers.iter().take(1).cloned());
    frames.extend(logical_events.iter().take(2).cloned());
    let mut segments = Vec::new();
    let stream: Vec<u8> = triggers.concat();
    segments.push(stream.clone());
    segments.push(stream[..stream.len() - 3].to_vec());
    let mut corrupt = stream.clone();
    corrupt[triggers[0].len() + 20] ^= 0x10;
    segments.push(corrupt);
    segments.push(
        [
            statements[0].clone(),
            logical_events[0].clone(),
            wal[0].clone(),
        ]
        .concat(),
    );

    let mut cluster = Vec::new();
    for (name, program, must_commit) in programs() {
        let bytes = program.bytes();
        assert_meaningful(name, must_commit, &run_cluster(&bytes));
        cluster.push((name.to_owned(), bytes));
    }

    let mut snapshot = Vec::new();
    for (name, bytes, installs) in snapshot_programs() {
        let outcome = run_snapshot(&bytes);
        assert!(
            outcome.installs >= installs,
            "seed {name} installs too little: {outcome:?}"
        );
        if name == "hostile" {
            assert!(
                outcome.refused >= 1 && outcome.answers.1 >= 1,
                "seed {name} injects nothing: {outcome:?}"
            );
        }
        snapshot.push((name.to_owned(), bytes));
    }

    let named = |prefix: &str, items: Inputs| -> Seeds {
        items
            .into_iter()
            .enumerate()
            .map(|(i, b)| (format!("{prefix}-{i:02}"), b))
            .collect()
    };
    let corpus: Vec<(&str, Seeds)> = vec![
        ("wire", named("envelope", envelopes)),
        ("frame", named("frame", frames)),
        ("segment", named("segment", segments)),
        ("statement", named("statement", statements)),
        ("physical", named("wal", wal.into_iter().take(4).collect())),
        ("logical", named("event", logical_events)),
        ("trigger", named("change-row", triggers)),
        ("cluster", cluster),
        ("snapshot", snapshot),
        ("restart", restart_seeds()),
    ];
    for (target, files) in corpus {
        let dir = fuzz_dir().join("corpus").join(target);
        fs::create_dir_all(&dir).unwrap();
        for old in inputs("corpus", target) {
            fs::remove_file(old).unwrap();
        }
        let check = check_for(target).unwrap();
        for (name, bytes) in files {
            check(&bytes);
            fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
        }
    }
}
