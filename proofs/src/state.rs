//! The mutable part of the abstract protocol: one copy of every state symbol
//! per state, so a transition relates a `pre` state to a `post` state.

use crate::logic::{Function, Relation, Term};
use crate::signature::Signature;

/// The protocol state as relations over the signature's sorts.
///
/// Persistent state (`current_epoch`, `voted`, `log`) survives a crash;
/// `leading` is volatile. `leader`, `committed` and `held` are ghost state:
/// history the proofs need, never read by a guard that a real node could not
/// evaluate.
#[derive(Debug, Clone)]
pub struct State {
    /// `current_epoch(n)`: the epoch node `n` has persisted as its own.
    pub current_epoch: Function,
    /// `voted(voter, e, candidate)`: `voter` granted its vote in epoch `e` to
    /// `candidate`.
    pub voted: Relation,
    /// Ghost: `leader(n, e)`: `n` won the election of epoch `e` (ever).
    pub leader: Relation,
    /// `leading(n)`: `n` currently acts as leader (volatile; cleared by a
    /// crash, an epoch change or fencing).
    pub leading: Relation,
    /// `log(n, i, e)`: node `n`'s log holds at position `i` an entry written
    /// in epoch `e`. An entry is named by its `(epoch, lsn)`.
    pub log: Relation,
    /// Ghost: `committed(i, x, e)`: the leader of epoch `e` committed (and so
    /// acknowledged) the entry `(i, x)`.
    pub committed: Relation,
    /// Ghost: `held(n, i, x, e)`: `n` was in the commit quorum that held the
    /// entry `(i, x)` when the leader of epoch `e` committed it.
    pub held: Relation,
}

impl State {
    /// Declares a fresh copy of every state symbol, names suffixed by `tag`.
    pub fn new(sig: &Signature, tag: &str) -> Self {
        let name = |base: &str| format!("{base}{tag}");
        let (n, e, i) = (&sig.node, &sig.epoch, &sig.lsn);
        State {
            current_epoch: Function::new(&name("current_epoch"), &[n], e),
            voted: Relation::new(&name("voted"), &[n, e, n]),
            leader: Relation::new(&name("leader"), &[n, e]),
            leading: Relation::new(&name("leading"), &[n]),
            log: Relation::new(&name("log"), &[n, i, e]),
            committed: Relation::new(&name("committed"), &[i, e, e]),
            held: Relation::new(&name("held"), &[n, i, e, e]),
        }
    }

    /// `current_epoch(n)`.
    pub fn epoch_of(&self, n: &Term) -> Term {
        self.current_epoch.at(&[n])
    }
}
