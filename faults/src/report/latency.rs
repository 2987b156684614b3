//! `latency.svg`: every operation's latency against the time it was
//! invoked, one panel per kind of operation, `ok` / `fail` / `unknown`
//! told apart by colour and mark, fault intervals shaded (as in Jepsen's
//! latency graphs). SVG only, with plotters' built-in text layout, so no
//! system font library is needed.

use crate::history::{History, Op, Outcome};
use crate::nemesis::FaultRecord;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// A graph that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw {path}: {message}")]
pub struct GraphError {
    path: String,
    message: String,
}

/// Which operations go in a panel.
type Wanted = fn(&Op) -> bool;

/// The panels: a title and which operations go in it.
const PANELS: [(&str, Wanted); 4] = [
    ("register write", |op| matches!(op, Op::Write { .. })),
    ("register read", |op| matches!(op, Op::Read { .. })),
    ("set add", |op| matches!(op, Op::Add { .. })),
    ("set read", |op| matches!(op, Op::ReadSet { .. })),
];

const OK: RGBColor = RGBColor(31, 119, 180);
const FAIL: RGBColor = RGBColor(214, 39, 40);
const UNKNOWN: RGBColor = RGBColor(255, 127, 14);
const FAULT: RGBAColor = RGBAColor(120, 120, 120, 0.18);

/// Draw the graph of `history` with `faults` shaded into `path`.
pub fn draw(path: &Path, history: &History, faults: &[FaultRecord]) -> Result<(), GraphError> {
    let error = |e: &dyn std::fmt::Display| GraphError {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let root = SVGBackend::new(path, (1200, 1000)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| error(&e))?;
    let end = history
        .operations
        .iter()
        .map(|op| op.ended.as_secs_f64())
        .chain(faults.iter().map(|f| f.end))
        .fold(1.0, f64::max);
    let panels = root.split_evenly((PANELS.len(), 1));
    for ((title, wanted), area) in PANELS.iter().zip(&panels) {
        panel(area, title, *wanted, end, history, faults).map_err(|e| error(&e))?;
    }
    root.present().map_err(|e| error(&e))?;
    Ok(())
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn panel(
    area: &Area<'_>,
    title: &str,
    wanted: Wanted,
    end: f64,
    history: &History,
    faults: &[FaultRecord],
) -> Result<(), Box<dyn std::error::Error>> {
    let points: Vec<(f64, f64, &Outcome)> = history
        .operations
        .iter()
        .filter(|op| wanted(&op.op))
        .map(|op| {
            let latency = op.ended.saturating_sub(op.invoked).as_secs_f64() * 1000.0;
            (op.invoked.as_secs_f64(), latency.max(0.1), &op.outcome)
        })
        .collect();
    let top = points.iter().map(|p| p.1).fold(10.0, f64::max) * 1.5;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{title} ({} operations)", points.len()),
            ("sans-serif", 16),
        )
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..end, (0.1..top).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("seconds since start")
        .y_desc("latency (ms)")
        .draw()?;
    chart.draw_series(faults.iter().filter(|f| f.skipped.is_none()).map(|f| {
        Rectangle::new(
            [(f.start, 0.1), (f.end.max(f.start + 0.05), top)],
            FAULT.filled(),
        )
    }))?;
    chart
        .draw_series(
            points
                .iter()
                .filter(|p| matches!(p.2, Outcome::Ok(_)))
                .map(|p| Circle::new((p.0, p.1), 2, OK.filled())),
        )?
        .label("ok")
        .legend(|(x, y)| Circle::new((x, y), 3, OK.filled()));
    chart
        .draw_series(
            points
                .iter()
                .filter(|p| matches!(p.2, Outcome::Fail { .. }))
                .map(|p| Cross::new((p.0, p.1), 3, FAIL)),
        )?
        .label("fail")
        .legend(|(x, y)| Cross::new((x, y), 3, FAIL));
    chart
        .draw_series(
            points
                .iter()
                .filter(|p| matches!(p.2, Outcome::Unknown { .. }))
                .map(|p| TriangleMarker::new((p.0, p.1), 4, UNKNOWN.filled())),
        )?
        .label("unknown")
        .legend(|(x, y)| TriangleMarker::new((x, y), 4, UNKNOWN.filled()));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{OkValue, Operation, Pos};
    use crate::schedule::Fault;
    use std::time::Duration;

    fn operation(id: u64, op: Op, outcome: Outcome) -> Operation {
        Operation {
            id,
            client: 1,
            session: None,
            node: 1,
            op,
            invoked: Duration::from_millis(100 * id),
            ended: Duration::from_millis(100 * id + 7),
            outcome,
        }
    }

    #[test]
    fn the_graph_has_every_panel_and_outcome_and_the_fault_shaded() {
        let at = Pos { epoch: 1, lsn: 1 };
        let history = History {
            operations: vec![
                operation(
                    1,
                    Op::Add { element: 1 },
                    Outcome::Ok(OkValue::Written { position: at }),
                ),
                operation(
                    2,
                    Op::Write {
                        key: "r0".into(),
                        value: 3,
                    },
                    Outcome::Unknown {
                        reason: "timeout".into(),
                    },
                ),
                operation(
                    3,
                    Op::Read {
                        key: "r0".into(),
                        mode: crate::history::ReadMode::Linearizable,
                    },
                    Outcome::Fail {
                        reason: "refused".into(),
                    },
                ),
            ],
        };
        let fault = FaultRecord {
            step: 0,
            fault: Fault::KillLeader { torn: false },
            nodes: vec![1],
            start: 0.15,
            end: 0.25,
            detail: String::new(),
            recovered: true,
            torn: None,
            torn_reported: None,
            skipped: None,
            stuck_status: Vec::new(),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latency.svg");
        draw(&path, &history, &[fault]).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        for title in ["register write", "register read", "set add", "set read"] {
            assert!(svg.contains(title), "{title} missing");
        }
        for label in ["ok", "fail", "unknown"] {
            assert!(
                svg.contains(&format!(">{label}<")) || svg.contains(label),
                "{label}"
            );
        }
        assert!(svg.contains("opacity=\"0.18\""), "no shaded fault interval");
    }
}
