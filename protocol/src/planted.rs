//! Known bugs the checkers must keep finding (feature `planted-bugs`).
//!
//! The simulator, the models and the conformance checks show that they catch
//! a broken core by switching one of these on in a replica with
//! [`Replica::plant_bug`](crate::Replica::plant_bug). The feature exists for
//! those test crates only: a production build never enables it, and
//! [`Config`](crate::Config) has no bug switch. Without the feature the
//! checks below compile to `false`.

/// A deliberately broken rule of the protocol.
#[cfg(feature = "planted-bugs")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PlantedBug {
    /// Grant votes without the "candidate is at least as up to date" check.
    VoteWithoutUpToDateCheck,
    /// Commit by counting replicas for entries of earlier epochs (the
    /// Raft paper's Figure 8 bug).
    CommitOldEpochEntries,
    /// Let a leader propose a membership change before it has committed an
    /// entry of its own epoch (the single-server-change bug Ongaro reported
    /// in 2015: the change can conflict with an uncommitted change of an
    /// earlier leader and lose a committed entry).
    MembershipChangeBeforeOwnEpochCommit,
    /// The old vote rule: a replica (pre-)votes only while its own
    /// membership lists both itself and the candidate as voters. A learner
    /// that missed its promotion, or a voter that missed the candidate's,
    /// then refuses the very votes that could elect a leader: safe, but
    /// the cluster can stay leaderless for good (a liveness bug).
    VoteOnlyAmongOwnVoters,
}

/// `planted!(replica, Bug)`: whether `replica` runs with `PlantedBug::Bug`;
/// always `false` without the `planted-bugs` feature.
macro_rules! planted {
    ($replica:expr, $bug:ident) => {{
        #[cfg(feature = "planted-bugs")]
        let planted = $replica.planted_bug == Some($crate::planted::PlantedBug::$bug);
        #[cfg(not(feature = "planted-bugs"))]
        let planted = false;
        planted
    }};
}
pub(crate) use planted;
