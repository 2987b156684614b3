//! Which node the clients send to: one choice shared by every client,
//! moved by a redirect (to the leader it names) or by a failure (to the
//! next endpoint).

use std::sync::{Mutex, PoisonError};

/// The endpoints (`host:port`) and the one in use.
#[derive(Debug)]
pub(crate) struct Endpoints {
    all: Vec<String>,
    current: Mutex<String>,
}

impl Endpoints {
    /// Start with `all[start]` (the first if out of range).
    pub(crate) fn new(all: Vec<String>, start: usize) -> Endpoints {
        let current = all
            .get(start)
            .or_else(|| all.first())
            .cloned()
            .unwrap_or_default();
        Endpoints {
            all,
            current: Mutex::new(current),
        }
    }

    /// The endpoint in use.
    pub(crate) fn current(&self) -> String {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A node named `to` as the leader: use it from now on.
    pub(crate) fn redirected(&self, to: String) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = to;
    }

    /// `which` failed: if it is still the one in use, move to the endpoint
    /// after it in the list (or the first, if it is not in the list).
    pub(crate) fn failed(&self, which: &str) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if *current != which || self.all.is_empty() {
            return;
        }
        let next = self
            .all
            .iter()
            .position(|e| e == which)
            .map_or(0, |i| (i + 1) % self.all.len());
        *current = self.all[next].clone();
    }
}
