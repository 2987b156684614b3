//! Running the suite's checks at other structural bounds than their
//! profile's: `steadfast check --writes 2 --crashes 1 matrix/n=3-Quorum`.
//!
//! Each override replaces one bound of every selected check's model; the
//! check keeps its stated expectations, so a larger bound shows whether
//! they still hold there (and how many states it takes, which is how the
//! README's table of growing bounds was measured).

use crate::actor::ClientOp;
use crate::model::NetworkKind;
use crate::suite::Check;

/// A network kind as the command line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NetworkArg {
    /// Messages reordered, each delivered at most once.
    Unordered,
    /// Per-link FIFO: in order on each link, links interleaved.
    Fifo,
    /// Messages reordered and delivered any number of times.
    Duplicating,
}

impl From<NetworkArg> for NetworkKind {
    fn from(arg: NetworkArg) -> NetworkKind {
        match arg {
            NetworkArg::Unordered => NetworkKind::Unordered,
            NetworkArg::Fifo => NetworkKind::Ordered,
            NetworkArg::Duplicating => NetworkKind::Duplicating,
        }
    }
}

/// Structural bounds to run the selected checks at instead of their own
/// (each `None` leaves the check's bound as it is).
#[derive(Clone, Debug, Default, PartialEq, Eq, clap::Args)]
pub struct Overrides {
    /// Servers that may start elections (the first N).
    #[arg(long)]
    pub campaigners: Option<usize>,
    /// Elections each campaigner may start over its life.
    #[arg(long)]
    pub elections: Option<u8>,
    /// The highest epoch any server may reach.
    #[arg(long)]
    pub max_epoch: Option<u64>,
    /// Crash-restarts, in all.
    #[arg(long)]
    pub crashes: Option<usize>,
    /// One client writing this many values, in place of the check's clients.
    #[arg(long)]
    pub writes: Option<u8>,
    /// The network's misbehaviour.
    #[arg(long, value_enum)]
    pub network: Option<NetworkArg>,
}

impl Overrides {
    /// True when no bound is overridden.
    pub fn is_empty(&self) -> bool {
        *self == Overrides::default()
    }

    /// `check` with these bounds in place of its own. The campaigner count
    /// is capped at the number of servers.
    pub fn apply(&self, mut check: Check) -> Check {
        let model = &mut check.model;
        if let Some(campaigners) = self.campaigners {
            model.campaigners = campaigners.min(model.servers);
        }
        if let Some(elections) = self.elections {
            model.elections = elections;
        }
        if let Some(max_epoch) = self.max_epoch {
            model.max_epoch = max_epoch;
        }
        if let Some(crashes) = self.crashes {
            model.max_crashes = crashes;
        }
        if let Some(writes) = self.writes {
            model.clients = vec![(1..=writes).map(ClientOp::Put).collect()];
        }
        if let Some(network) = self.network {
            model.network = network.into();
        }
        check
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{checks, Profile};

    #[test]
    fn overrides_replace_exactly_the_bounds_they_name() {
        let check = checks(Profile::Ci).remove(0);
        assert!(Overrides::default().is_empty());
        assert_eq!(Overrides::default().apply(check.clone()).model, check.model);
        let overrides = Overrides {
            campaigners: Some(9),
            elections: Some(2),
            max_epoch: Some(4),
            crashes: Some(1),
            writes: Some(2),
            network: Some(NetworkArg::Duplicating),
        };
        let model = overrides.apply(check.clone()).model;
        assert_eq!(model.campaigners, model.servers, "capped at the servers");
        assert_eq!(model.elections, 2);
        assert_eq!(model.max_epoch, 4);
        assert_eq!(model.max_crashes, 1);
        assert_eq!(
            model.clients,
            vec![vec![ClientOp::Put(1), ClientOp::Put(2)]]
        );
        assert_eq!(model.network, NetworkKind::Duplicating);
        assert_eq!(model.durability, check.model.durability);
        assert_eq!(model.servers, check.model.servers);
    }
}
