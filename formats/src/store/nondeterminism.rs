//! Where a statement's nondeterministic values come from: a live
//! [`Nondeterminism`] provider on the leader, or the [`FixedValues`] the
//! leader recorded when a follower replays the statement.

use crate::codec::{put_bool, put_count, put_i64, put_u64, BodyError, Reader};
/// The seeded generator `rand()` draws from (one per statement).
pub use steadfast::rng::SplitMix64;

/// The sources of values a statement cannot compute from the store alone.
/// The store never reads a clock or a global random generator: the host
/// hands it one of these.
pub trait Nondeterminism {
    /// The wall-clock time, in milliseconds, at which a statement starts.
    /// Every `now()` in the statement returns this value.
    fn now(&mut self) -> i64;

    /// A fresh seed for the statement's `rand()` sequence; asked for at
    /// most once per statement, and only if the statement calls `rand()`.
    fn rand_seed(&mut self) -> u64;

    /// The id `next_id()` returns for `table`, whose last issued id is
    /// `last_id`. The default is `last_id + 1`; a host may interleave ids
    /// across nodes instead (like MySQL's `auto_increment_offset`).
    fn next_id(&mut self, table: &str, last_id: i64) -> i64 {
        let _ = table;
        last_id.wrapping_add(1)
    }
}

/// The values a leader fixed while executing one statement; a follower that
/// replays the statement with them reaches the leader's state (MySQL's
/// `TIMESTAMP`, `RAND` and `INSERT_ID` binlog events).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct FixedValues {
    /// The statement's timestamp (what `now()` returned).
    pub timestamp: i64,
    /// The seed of the statement's `rand()` sequence, if it called `rand()`.
    pub rand_seed: Option<u64>,
    /// Every id `next_id()` (or an omitted key) produced, in order.
    pub generated_ids: Vec<i64>,
}

impl FixedValues {
    /// Appends the binary form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_i64(out, self.timestamp);
        put_bool(out, self.rand_seed.is_some());
        put_u64(out, self.rand_seed.unwrap_or(0));
        put_count(out, self.generated_ids.len());
        for id in &self.generated_ids {
            put_i64(out, *id);
        }
    }

    /// Reads the form written by [`FixedValues::encode`].
    pub fn decode(r: &mut Reader<'_>) -> Result<FixedValues, BodyError> {
        let timestamp = r.i64("timestamp")?;
        let has_seed = r.bool("rand seed presence")?;
        let seed = r.u64("rand seed")?;
        let count = r.count("generated ids", 8)?;
        let mut generated_ids = Vec::new();
        for _ in 0..count {
            generated_ids.push(r.i64("generated id")?);
        }
        Ok(FixedValues {
            timestamp,
            rand_seed: has_seed.then_some(seed),
            generated_ids,
        })
    }
}

/// A deterministic provider for tests and simulation: a clock that advances
/// by `tick_ms` per statement from `start_ms`, and seeds drawn from a
/// seeded generator. Two providers built from different seeds disagree,
/// which is exactly what naive statement replay trips over.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SeededNondeterminism {
    clock_ms: i64,
    tick_ms: i64,
    seeds: SplitMix64,
}

impl SeededNondeterminism {
    /// A provider whose clock starts at `start_ms` and whose seeds derive from `seed`.
    pub fn new(seed: u64, start_ms: i64, tick_ms: i64) -> SeededNondeterminism {
        SeededNondeterminism {
            clock_ms: start_ms,
            tick_ms,
            seeds: SplitMix64::new(seed),
        }
    }
}

impl Nondeterminism for SeededNondeterminism {
    fn now(&mut self) -> i64 {
        self.clock_ms = self.clock_ms.wrapping_add(self.tick_ms);
        self.clock_ms
    }

    fn rand_seed(&mut self) -> u64 {
        self.seeds.next_u64()
    }
}

/// Where the values of one statement execution come from.
pub(crate) enum Source<'a> {
    /// Ask the provider (leader, or naive replay).
    Live(&'a mut dyn Nondeterminism),
    /// Use what the leader recorded (faithful replay).
    Fixed(&'a FixedValues),
}

/// Why a statement could not get a nondeterministic value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Missing {
    RandSeed,
    GeneratedId { index: usize },
}

/// The per-statement state of the sources: the fixed timestamp, the
/// seeded `rand()` sequence, and a record of everything handed out.
pub(crate) struct Sources<'a> {
    source: Source<'a>,
    rng: Option<SplitMix64>,
    pub(crate) recorded: FixedValues,
}

impl<'a> Sources<'a> {
    pub(crate) fn new(mut source: Source<'a>) -> Sources<'a> {
        let timestamp = match &mut source {
            Source::Live(provider) => provider.now(),
            Source::Fixed(fixed) => fixed.timestamp,
        };
        Sources {
            source,
            rng: None,
            recorded: FixedValues {
                timestamp,
                ..FixedValues::default()
            },
        }
    }

    pub(crate) fn now(&self) -> i64 {
        self.recorded.timestamp
    }

    pub(crate) fn rand(&mut self) -> Result<i64, Missing> {
        if self.rng.is_none() {
            let seed = match &mut self.source {
                Source::Live(provider) => provider.rand_seed(),
                Source::Fixed(fixed) => fixed.rand_seed.ok_or(Missing::RandSeed)?,
            };
            self.recorded.rand_seed = Some(seed);
            self.rng = Some(SplitMix64::new(seed));
        }
        let bits = self.rng.as_mut().map_or(0, SplitMix64::next_u64);
        Ok(i64::from_le_bytes(bits.to_le_bytes()))
    }

    pub(crate) fn next_id(&mut self, table: &str, last_id: i64) -> Result<i64, Missing> {
        let index = self.recorded.generated_ids.len();
        let id = match &mut self.source {
            Source::Live(provider) => provider.next_id(table, last_id),
            Source::Fixed(fixed) => *fixed
                .generated_ids
                .get(index)
                .ok_or(Missing::GeneratedId { index })?,
        };
        self.recorded.generated_ids.push(id);
        Ok(id)
    }
}
