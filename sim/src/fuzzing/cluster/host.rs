//! One simulated server of the `cluster` target: its configuration, its
//! replica (absent while crashed) and the reference host's storage.

use crate::host::{MemStorage, Persistence};
use steadfast::config::Config;
use steadfast::entry::HardState;
use steadfast::replica::Replica;
use steadfast::types::Instant;

/// One simulated server.
#[derive(Clone, Debug)]
pub(super) struct Host {
    pub(super) config: Config,
    /// `None` while crashed.
    pub(super) replica: Option<Replica>,
    /// Durable storage, pending writes and the state machine.
    pub(super) storage: MemStorage,
}

impl Host {
    pub(super) fn new(
        config: Config,
        replica: Replica,
        hard: HardState,
        persistence: Persistence,
    ) -> Host {
        Host {
            config,
            replica: Some(replica),
            storage: MemStorage::new(persistence).with_hard_state(hard),
        }
    }

    /// The crash: the replica, volatile state and unflushed writes are gone.
    pub(super) fn crash(&mut self) {
        self.replica = None;
        self.storage.crash();
    }

    /// Snapshot the state machine; returns whether the core took it.
    pub(super) fn take_snapshot(&mut self, now: Instant) -> bool {
        let Some(replica) = self.replica.as_mut() else {
            return false;
        };
        self.storage.take_snapshot(replica, now).is_some()
    }
}
