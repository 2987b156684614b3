//! The client commands the models replicate, encoded as opaque entry
//! payloads, and the register state machine they drive.
//!
//! A command carries its request id so a new leader that receives a retried
//! request it already holds does not append it twice, and the state machine
//! applies each request at most once.

use steadfast::{Entry, Lsn, Replica};

/// A register value. `0` is the initial value.
pub type Value = u8;

/// A client operation on the replicated register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    /// Write `value`.
    Put {
        /// Client-unique request id.
        request: u64,
        /// The value.
        value: Value,
    },
    /// Read the register (served by read-index, not through the log).
    Get {
        /// Client-unique request id.
        request: u64,
    },
    /// Allocate the next auto-increment id (like `AUTO_INCREMENT`): the id
    /// is the number of distinct allocations in the log through this one.
    Allocate {
        /// Client-unique request id.
        request: u64,
    },
}

impl Command {
    /// The request id.
    pub fn request(self) -> u64 {
        match self {
            Command::Put { request, .. }
            | Command::Get { request }
            | Command::Allocate { request } => request,
        }
    }

    /// Encode as an entry payload: tag, request id (8 bytes LE), value.
    pub fn encode(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(10);
        match self {
            Command::Put { request, value } => {
                out.push(1);
                out.extend(request.to_le_bytes());
                out.push(value);
            }
            Command::Get { request } => {
                out.push(2);
                out.extend(request.to_le_bytes());
            }
            Command::Allocate { request } => {
                out.push(3);
                out.extend(request.to_le_bytes());
            }
        }
        out
    }

    /// Decode an entry payload; `None` for anything else.
    pub fn decode(bytes: &[u8]) -> Option<Command> {
        let (&tag, rest) = bytes.split_first()?;
        let request = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
        match (tag, rest.get(8..)?) {
            (1, [value]) => Some(Command::Put {
                request,
                value: *value,
            }),
            (2, []) => Some(Command::Get { request }),
            (3, []) => Some(Command::Allocate { request }),
            _ => None,
        }
    }

    /// The command an entry carries, if any.
    pub fn of(entry: &Entry) -> Option<Command> {
        entry.command().and_then(Command::decode)
    }
}

/// The register's value after applying the log through `through`, each
/// request at most once.
pub fn register_at(entries: &[Entry], through: Lsn) -> Value {
    let mut seen = std::collections::BTreeSet::new();
    let mut value = 0;
    for entry in entries.iter().take_while(|e| e.lsn <= through) {
        if let Some(cmd) = Command::of(entry) {
            if seen.insert(cmd.request()) {
                if let Command::Put { value: v, .. } = cmd {
                    value = v;
                }
            }
        }
    }
    value
}

/// The id the allocation `request` received: the number of distinct
/// allocations in the log through its first occurrence.
pub fn id_allocated(entries: &[Entry], request: u64) -> Option<u64> {
    let mut seen = std::collections::BTreeSet::new();
    for entry in entries {
        if let Some(Command::Allocate { request: r }) = Command::of(entry) {
            seen.insert(r);
            if r == request {
                return Some(seen.len() as u64);
            }
        }
    }
    None
}

/// True when `replica`'s log already holds `request`.
pub fn holds_request(replica: &Replica, request: u64) -> bool {
    replica
        .entries()
        .iter()
        .filter_map(Command::of)
        .any(|c| c.request() == request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use steadfast::{EntryKind, Epoch};

    #[test]
    fn commands_round_trip_and_garbage_is_refused() {
        for c in [
            Command::Put {
                request: 7,
                value: 3,
            },
            Command::Get { request: u64::MAX },
            Command::Allocate { request: 3 },
        ] {
            assert_eq!(Command::decode(&c.encode()), Some(c));
        }
        assert_eq!(Command::decode(&[]), None);
        assert_eq!(Command::decode(&[1, 2, 3]), None);
        assert_eq!(Command::decode(&[9; 10]), None);
    }

    #[test]
    fn the_register_applies_each_request_once() {
        let entry = |lsn, c: Command| Entry {
            epoch: Epoch(1),
            lsn: Lsn(lsn),
            kind: EntryKind::Command(c.encode().into()),
        };
        let log = [
            entry(
                1,
                Command::Put {
                    request: 1,
                    value: 5,
                },
            ),
            entry(
                2,
                Command::Put {
                    request: 2,
                    value: 6,
                },
            ),
            entry(
                3,
                Command::Put {
                    request: 1,
                    value: 5,
                },
            ),
        ];
        assert_eq!(register_at(&log, Lsn(0)), 0);
        assert_eq!(register_at(&log, Lsn(1)), 5);
        assert_eq!(
            register_at(&log, Lsn(3)),
            6,
            "the retried request 1 is not re-applied"
        );
    }
}
