//! How long a dialer waits before dialing a peer again.

use std::time::Duration;

/// Exponential backoff: `min`, doubling after each failure up to `max`,
/// back to `min` after a success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// A backoff from `min` to `max` (the caller checks `0 < min <= max`).
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max,
            next: min,
        }
    }

    /// The wait before the next attempt; the one after it is twice as long
    /// (at most `max`), unless [`Backoff::reset`] comes first.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        delay
    }

    /// An attempt succeeded: the next wait is `min` again.
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn doubles_up_to_the_maximum_and_resets_to_the_minimum() {
        let mut backoff = Backoff::new(ms(50), ms(300));
        let delays: Vec<_> = (0..6).map(|_| backoff.next_delay()).collect();
        assert_eq!(
            delays,
            [ms(50), ms(100), ms(200), ms(300), ms(300), ms(300)]
        );
        backoff.reset();
        assert_eq!(backoff.next_delay(), ms(50));
        assert_eq!(backoff.next_delay(), ms(100));
    }

    #[test]
    fn an_unbounded_maximum_saturates_instead_of_overflowing() {
        let mut backoff = Backoff::new(ms(1), Duration::MAX);
        let last = (0..200).map(|_| backoff.next_delay()).last();
        assert_eq!(last, Some(Duration::MAX));
    }
}
