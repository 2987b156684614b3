//! Transcript tests: every script in `sim/testdata/` is run by
//! [`steadfast_sim::transcript::Transcript`] and its output compared with
//! the expected output written in the script.
//!
//! Rewrite the expected outputs after a deliberate change (then review the
//! diff): `REWRITE=1 cargo test -p steadfast-sim --test transcripts`.

use steadfast_sim::transcript::{Args, Transcript};

#[test]
fn transcripts() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
    datadriven::walk(dir, |file| {
        let mut transcript = Transcript::new();
        file.run(|case| {
            let args = Args::new(case.args.clone());
            transcript.run(&case.directive, args, &case.input)
        });
    });
}
