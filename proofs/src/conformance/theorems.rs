//! The three theorems' statements (`proofs/src/invariants.rs`:
//! `election_safety`, `log_matching`, `leader_completeness`) evaluated on
//! one finite abstract state.
//!
//! For a step taken strictly these hold by the proofs; evaluating them is a
//! check of the checker. For a step that needed the as-sent reading the
//! proofs say nothing, and this is the only evidence that the weakened step
//! kept the theorems on the sampled runs.

use super::state::AbstractState;

/// `election_safety`: `leader(a, e) ∧ leader(b, e) ⇒ a = b`.
pub fn election_safety(s: &AbstractState) -> Result<(), String> {
    for (a, e) in &s.leader {
        if let Some((b, _)) = s.leader.iter().find(|(b, f)| f == e && b != a) {
            return Err(format!("ElectionSafety: {a} and {b} both won {e}"));
        }
    }
    Ok(())
}

/// `log_matching`: two logs holding the same `(i, e)` agree on every entry
/// at or below `i`.
pub fn log_matching(s: &AbstractState) -> Result<(), String> {
    for (a, log_a) in &s.log {
        for (b, log_b) in s.log.range(a..).skip(1) {
            let common = log_a
                .iter()
                .rev()
                .find(|(i, e)| log_b.get(i) == Some(e))
                .map(|(i, _)| *i);
            let Some(top) = common else { continue };
            if log_a.range(..=top).ne(log_b.range(..=top)) {
                return Err(format!(
                    "LogMatching: {a} and {b} share lsn {top} but not its prefix"
                ));
            }
        }
    }
    Ok(())
}

/// `leader_completeness`: `committed(i, x, e) ∧ leader(l, f) ∧ e ≤ f ∧
/// current(l) = f ⇒ log(l, i, x)`.
pub fn leader_completeness(s: &AbstractState) -> Result<(), String> {
    for &(l, f) in &s.leader {
        if s.epoch(l) != f {
            continue;
        }
        if let Some((i, x, e)) = s
            .committed
            .iter()
            .find(|(i, x, e)| *e <= f && !s.holds(l, *i, *x))
        {
            return Err(format!(
                "LeaderCompleteness: {l}, leader of {f}, lacks {}@{} committed in {e}",
                i.0, x.0
            ));
        }
    }
    Ok(())
}

/// All three, first failure reported.
pub fn check_all(s: &AbstractState) -> Result<(), String> {
    election_safety(s)?;
    log_matching(s)?;
    leader_completeness(s)
}
