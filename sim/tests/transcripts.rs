//! Transcript tests: every script in `sim/testdata/` is run by
//! [`steadfast_sim::transcript::Transcript`] and its output compared with
//! the expected output written in the script.
//!
//! Rewrite the expected outputs after a deliberate change (then review the
//! diff): `REWRITE=1 cargo test -p steadfast-sim --test transcripts`.
//! `RUN=election.txt` runs one script.

use std::path::{Path, PathBuf};
use std::process::Command;
use steadfast_sim::transcript::{Args, Transcript};

/// Where the scripts are: `sim/testdata`, unless `TRANSCRIPT_DIR` says
/// otherwise (the rewrite check points it at a copy).
fn testdata() -> PathBuf {
    std::env::var_os("TRANSCRIPT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata"))
}

/// Run one script (or, with `RUN` set, the one it names in `dir`).
fn run(path: &Path) {
    datadriven::walk(&path.to_string_lossy(), |file| {
        let mut transcript = Transcript::new();
        file.run(|case| {
            let args = Args::new(case.args.clone());
            transcript.run(&case.directive, args, &case.input)
        });
    });
}

#[test]
fn transcripts() {
    let dir = testdata();
    if std::env::var_os("RUN").is_some() {
        // datadriven resolves RUN against the directory itself.
        return run(&dir);
    }
    // Every `*.txt` script (the README is not one); a failing script does
    // not hide the others.
    let mut failed = Vec::new();
    for script in scripts(&dir) {
        let outcome = std::panic::catch_unwind(|| run(&script));
        if outcome.is_err() {
            failed.push(script.display().to_string());
        }
    }
    assert!(failed.is_empty(), "failing transcripts: {failed:?}");
}

/// The scripts, by name.
fn scripts(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("testdata is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

/// Rewriting reproduces every script byte for byte: run the rewrite (in a
/// child process of this test binary, on a copy of the scripts) and compare.
/// A script that a rewrite would change is either stale or formatted in a
/// way datadriven does not reproduce.
#[test]
fn rewriting_reproduces_every_script() {
    if std::env::var_os("REWRITE").is_some() {
        // The scripts are being rewritten by the test above right now.
        return;
    }
    let original = testdata();
    let copy = std::env::temp_dir().join(format!("steadfast-transcripts-{}", std::process::id()));
    std::fs::create_dir_all(&copy).expect("a scratch directory");
    let files = scripts(&original);
    assert!(files.len() >= 20, "expected at least 20 scripts");
    for file in &files {
        std::fs::copy(file, copy.join(file.file_name().expect("a file name"))).expect("copy");
    }
    let status = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", "transcripts", "--test-threads=1"])
        .env("REWRITE", "1")
        .env("TRANSCRIPT_DIR", &copy)
        .env_remove("RUN")
        .status()
        .expect("the rewrite runs");
    assert!(status.success(), "the rewrite run failed");
    let mut changed = Vec::new();
    for file in &files {
        let name = file.file_name().expect("a file name");
        let before = std::fs::read(file).expect("read");
        let after = std::fs::read(copy.join(name)).expect("read");
        if before != after {
            changed.push(name.to_string_lossy().into_owned());
        }
    }
    let _ = std::fs::remove_dir_all(&copy);
    assert!(
        changed.is_empty(),
        "rewriting changed {changed:?}: run REWRITE=1 cargo test -p steadfast-sim --test transcripts and review the diff"
    );
}
