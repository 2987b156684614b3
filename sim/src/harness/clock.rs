//! Per-host clocks that may run fast or slow against simulated real time,
//! to model violated clock assumptions (e.g. a read lease's drift bound).

use steadfast::types::Instant;

/// A host's clock: local time advances `rate_per_mille / 1000` times as fast
/// as the simulation's real time, from an anchor where the two were related.
/// The default runs exactly with real time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Clock {
    rate_per_mille: u64,
    anchor_real: Instant,
    anchor_local: Instant,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock {
            rate_per_mille: 1000,
            anchor_real: Instant(0),
            anchor_local: Instant(0),
        }
    }
}

impl Clock {
    /// The local time at real time `real` (never before the anchor).
    pub fn local(&self, real: Instant) -> Instant {
        let elapsed = u128::from(real.0.saturating_sub(self.anchor_real.0));
        let local = elapsed * u128::from(self.rate_per_mille) / 1000;
        Instant(
            self.anchor_local
                .0
                .saturating_add(u64::try_from(local).unwrap_or(u64::MAX)),
        )
    }

    /// The earliest real time at which the local clock reads at least `local`.
    pub fn real(&self, local: Instant) -> Instant {
        let Some(ahead) = local.0.checked_sub(self.anchor_local.0) else {
            return self.anchor_real;
        };
        let rate = u128::from(self.rate_per_mille.max(1));
        let real = (u128::from(ahead) * 1000).div_ceil(rate);
        Instant(
            self.anchor_real
                .0
                .saturating_add(u64::try_from(real).unwrap_or(u64::MAX)),
        )
    }

    /// From real time `now` on, run at `rate_per_mille` (at least 1): local
    /// time stays continuous and never goes back.
    pub fn set_rate(&mut self, now: Instant, rate_per_mille: u64) {
        self.anchor_local = self.local(now);
        self.anchor_real = now;
        self.rate_per_mille = rate_per_mille.max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_clock_lags_and_its_deadlines_map_to_later_real_times() {
        let mut clock = Clock::default();
        assert_eq!(clock.local(Instant(100)), Instant(100));
        clock.set_rate(Instant(100), 250);
        assert_eq!(clock.local(Instant(500)), Instant(200));
        assert_eq!(clock.real(Instant(200)), Instant(500));
        assert_eq!(clock.real(Instant(201)), Instant(504));
        assert!(clock.local(clock.real(Instant(201))) >= Instant(201));
        assert_eq!(
            clock.real(Instant(50)),
            Instant(100),
            "past deadlines are due now"
        );
    }
}
