//! Check a recorded run of the reference server against the verified
//! model: `cargo run -p steadfast-proofs --example check_traces -- DIR`
//! (the `--trace-dir` every node of the run wrote to). Prints the report;
//! exits 1 unless every step conforms (2 if the traces cannot be read).

use std::process::ExitCode;

use steadfast_proofs::conformance::{check_trace_dir, Verdict};

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: check_traces DIR");
        return ExitCode::from(2);
    };
    match check_trace_dir(std::path::Path::new(&dir)) {
        Ok(report) => {
            println!("{report}");
            if matches!(report.verdict, Verdict::Conforms) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("check_traces: {e}");
            ExitCode::from(2)
        }
    }
}
