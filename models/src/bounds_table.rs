//! The checks' structural bounds as a Markdown table (`steadfast list
//! --markdown`, the README's bounds table).

use crate::suite::Bounds;

impl Bounds {
    /// Every bound on one line (`steadfast list`), the name left out.
    pub fn summary(&self) -> String {
        format!(
            "servers={}{} campaigners={} elections={} heartbeats={} max_epoch={} writes={} reads={}{} crashes={} loss={} duplication={} reordering={} entries/msg={} {}{}",
            self.servers,
            if self.learners > 0 {
                format!(" ({} learner)", self.learners)
            } else {
                String::new()
            },
            self.campaigners,
            self.elections_per_replica,
            self.heartbeats_per_reign,
            self.max_epoch,
            self.writes,
            self.reads,
            if self.membership_changes > 0 {
                format!(" membership_changes={}", self.membership_changes)
            } else {
                String::new()
            },
            self.crashes,
            self.loss,
            self.duplication,
            self.reordering,
            self.max_entries_per_message,
            self.depth
                .map_or("exhaustive".to_string(), |d| format!("depth≤{d}")),
            if self.symmetry { " symmetry" } else { "" },
        )
    }
}

/// One row per check: its name and every structural bound.
pub fn bounds_markdown(rows: &[Bounds]) -> String {
    let mut out = String::from(
        "| check | servers | campaigners | elections each | heartbeats per reign | max epoch | writes | reads | crashes | loss | duplication | reordering | entries per message | search |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|---|\n",
    );
    let yes = |b: bool| if b { "yes" } else { "no" };
    for b in rows {
        let search = match b.depth {
            Some(depth) => format!("breadth-first, depth ≤ {depth}"),
            None if b.symmetry => "exhaustive, symmetry".to_string(),
            None => "exhaustive".to_string(),
        };
        let servers = if b.learners > 0 {
            format!("{} ({} learner)", b.servers, b.learners)
        } else {
            b.servers.to_string()
        };
        let writes = if b.membership_changes > 0 {
            format!("{} (+{} membership change)", b.writes, b.membership_changes)
        } else {
            b.writes.to_string()
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            b.name,
            servers,
            b.campaigners,
            b.elections_per_replica,
            b.heartbeats_per_reign,
            b.max_epoch,
            writes,
            b.reads,
            b.crashes,
            yes(b.loss),
            yes(b.duplication),
            yes(b.reordering),
            b.max_entries_per_message,
            search,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{checks, Profile};

    #[test]
    fn every_check_gets_one_row_with_its_bounds() {
        let rows: Vec<Bounds> = checks(Profile::Ci).iter().map(|c| c.bounds()).collect();
        let table = bounds_markdown(&rows);
        assert_eq!(table.lines().count(), rows.len() + 2);
        let crash = table
            .lines()
            .find(|l| l.starts_with("| `crash/"))
            .expect("a crash check");
        let cells: Vec<&str> = crash.split('|').map(str::trim).collect();
        assert_eq!(cells[9], "1", "one crash: {crash}");
        assert!(cells[14].starts_with("breadth-first, depth ≤"), "{crash}");
    }
}
