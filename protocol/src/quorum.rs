//! Quorum counting: the commit point under each [`Durability`] policy, the
//! vote tally, read-index (heartbeat round) confirmation and check-quorum.
//!
//! Pure functions over what a replica knows; none of them allocates. Voter
//! sets are small, so the `k`-th highest value is found by sorting the
//! values in a fixed buffer on the stack (by counting, for each value, how
//! many reach it, past [`SORTED_ON_STACK`] values).

use crate::durability::{Durability, ElectionQuorum};
use crate::types::Lsn;

/// The sizes of the three quorums of one membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QuorumSizes {
    /// Voters (leader included) whose durable copy commits an entry.
    pub commit: usize,
    /// Votes (the candidate's own included) that elect a leader.
    pub election: usize,
    /// Voters (leader included) a leader must hear from within an election
    /// timeout to be sure no other leader was elected meanwhile: enough to
    /// meet every election quorum. Also the voters that must echo a
    /// heartbeat round before it confirms a read.
    pub check: usize,
}

impl QuorumSizes {
    /// The quorum sizes among `voters` voters, with durability policy
    /// `durability` and election rule `election`.
    pub fn new(voters: usize, durability: Durability, election: ElectionQuorum) -> QuorumSizes {
        let election_size = election.size(voters, durability);
        QuorumSizes {
            commit: durability.commit_quorum(voters),
            election: election_size,
            check: (voters + 1).saturating_sub(election_size),
        }
    }
}

/// The `k`-th highest of `values` (`k` counted from 1): the highest value
/// that at least `k` of them reach. `None` when fewer than `k` values are
/// given; the highest value when `k` is 0.
///
/// Up to [`SORTED_ON_STACK`] values (every realistic voter set) are sorted in a
/// buffer on the stack, in one pass over `values`; more are counted.
pub fn kth_highest<T, I>(values: I, k: usize) -> Option<T>
where
    T: Ord + Copy,
    I: Iterator<Item = T> + Clone,
{
    // Descending; `None` past the values held.
    let mut sorted: [Option<T>; SORTED_ON_STACK] = [None; SORTED_ON_STACK];
    for (len, value) in values.clone().enumerate() {
        if len == SORTED_ON_STACK {
            return kth_highest_by_counting(values, k);
        }
        let mut i = len;
        while i > 0 && sorted.get(i - 1).copied().flatten() < Some(value) {
            sorted.swap(i - 1, i);
            i -= 1;
        }
        if let Some(slot) = sorted.get_mut(i) {
            *slot = Some(value);
        }
    }
    sorted.get(k.saturating_sub(1)).copied().flatten()
}

/// How many values [`kth_highest`] sorts on the stack.
pub const SORTED_ON_STACK: usize = 16;

/// [`kth_highest`] for any number of values: for each value, count how
/// many values reach it (quadratic, with no buffer).
fn kth_highest_by_counting<T, I>(values: I, k: usize) -> Option<T>
where
    T: Ord + Copy,
    I: Iterator<Item = T> + Clone,
{
    let mut best: Option<T> = None;
    for candidate in values.clone() {
        if best.is_some_and(|b| b >= candidate) {
            continue;
        }
        let reaching = values.clone().filter(|v| *v >= candidate).count();
        if reaching >= k {
            best = Some(candidate);
        }
    }
    best
}

/// The highest lsn a leader may commit: its own durable prefix
/// (`leader_persisted`) and the durable copies of enough voting followers
/// (`followers_matched`, one per voting follower) to make up
/// `commit_quorum` voters.
///
/// The leader always needs its own durable copy; it counts towards the
/// quorum only when `leader_votes` (a leader that removed itself, its
/// removal not yet committed, needs `commit_quorum` followers).
pub fn commit_point<I>(
    commit_quorum: usize,
    leader_persisted: Lsn,
    leader_votes: bool,
    followers_matched: I,
) -> Lsn
where
    I: Iterator<Item = Lsn> + Clone,
{
    let needed_followers = if leader_votes {
        commit_quorum.saturating_sub(1)
    } else {
        commit_quorum
    };
    if needed_followers == 0 {
        return leader_persisted;
    }
    kth_highest(followers_matched, needed_followers).map_or(Lsn(0), |lsn| lsn.min(leader_persisted))
}

/// True when `granted` votes (the candidate's own included) win an election
/// that needs `election_quorum` of them.
pub fn election_won(granted: usize, election_quorum: usize) -> bool {
    granted >= election_quorum
}

/// True when `refused` of `voters` voters have refused a (pre-)vote, so
/// that the rest cannot make up an election quorum of `election_quorum`:
/// the candidate has lost and may stop asking.
pub fn election_lost(refused: usize, voters: usize, election_quorum: usize) -> bool {
    voters.saturating_sub(refused) < election_quorum
}

/// The highest heartbeat round confirmed by enough voters to meet every
/// election quorum (`check_quorum` of them, at least one): `own_round` is
/// the leader's current round when it is a voter (`None` when it removed
/// itself), `echoed` the highest round each voting follower echoed (0 if
/// none). `None` when there are too few voters to confirm anything.
pub fn confirmed_round<I>(own_round: Option<u64>, echoed: I, check_quorum: usize) -> Option<u64>
where
    I: Iterator<Item = u64> + Clone,
{
    kth_highest(own_round.into_iter().chain(echoed), check_quorum.max(1))
}

/// Check-quorum: true when `active_voters` (the leader included when it is
/// a voter) heard from within the last round are enough to meet every
/// election quorum.
pub fn leadership_holds(active_voters: usize, check_quorum: usize) -> bool {
    active_voters >= check_quorum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lsns(values: &[u64]) -> impl Iterator<Item = Lsn> + Clone + '_ {
        values.iter().map(|&v| Lsn(v))
    }

    /// The reference: sort descending, pick the `k`-th.
    fn sorted_kth(values: &[u64], k: usize) -> Option<u64> {
        let mut v = values.to_vec();
        v.sort_unstable_by(|a, b| b.cmp(a));
        if k == 0 {
            return v.first().copied();
        }
        v.get(k - 1).copied()
    }

    #[test]
    fn kth_highest_matches_sorting() {
        let cases: [&[u64]; 6] = [
            &[],
            &[4],
            &[3, 3, 3],
            &[1, 5, 2, 5],
            &[9, 0, 7, 7, 1],
            &[2, 8],
        ];
        for values in cases {
            for k in 0..=values.len() + 1 {
                assert_eq!(
                    kth_highest(values.iter().copied(), k),
                    sorted_kth(values, k),
                    "{values:?} k={k}"
                );
            }
        }
    }

    #[test]
    fn kth_highest_past_the_stack_buffer_matches_sorting() {
        let values: Vec<u64> = (0..40).map(|i| (i * 7919) % 23).collect();
        for n in [
            SORTED_ON_STACK - 1,
            SORTED_ON_STACK,
            SORTED_ON_STACK + 1,
            values.len(),
        ] {
            let values = &values[..n];
            for k in 0..=n + 1 {
                assert_eq!(
                    kth_highest(values.iter().copied(), k),
                    sorted_kth(values, k),
                    "{n} values, k={k}"
                );
                assert_eq!(
                    kth_highest_by_counting(values.iter().copied(), k),
                    sorted_kth(values, k),
                    "counting, {n} values, k={k}"
                );
            }
        }
    }

    #[test]
    fn quorum_sizes_follow_policy_and_election_rule() {
        let m = ElectionQuorum::Majority;
        let q = QuorumSizes::new(5, Durability::Quorum, m);
        assert_eq!((q.commit, q.election, q.check), (3, 3, 3));
        let q = QuorumSizes::new(3, Durability::Async, m);
        assert_eq!((q.commit, q.election, q.check), (1, 2, 2));
        let q = QuorumSizes::new(3, Durability::Async, ElectionQuorum::Flexible);
        assert_eq!((q.commit, q.election, q.check), (1, 3, 1));
        let q = QuorumSizes::new(4, Durability::All, m);
        assert_eq!((q.commit, q.election, q.check), (4, 3, 2));
    }

    #[test]
    fn commit_point_under_each_policy() {
        let followers = [7, 3, 5, 0];
        let sizes = |d: Durability| QuorumSizes::new(5, d, ElectionQuorum::Majority).commit;
        // Async: the leader's own durable copy suffices.
        assert_eq!(
            commit_point(sizes(Durability::Async), Lsn(6), true, lsns(&followers)),
            Lsn(6)
        );
        // Semi-sync k=1: the best follower, capped by the leader's copy.
        let semi1 = sizes(Durability::SemiSync { k: 1 });
        assert_eq!(commit_point(semi1, Lsn(6), true, lsns(&followers)), Lsn(6));
        assert_eq!(commit_point(semi1, Lsn(9), true, lsns(&followers)), Lsn(7));
        // Quorum of 5: the leader and the two best followers.
        let quorum = sizes(Durability::Quorum);
        assert_eq!(commit_point(quorum, Lsn(9), true, lsns(&followers)), Lsn(5));
        // All: the worst follower.
        assert_eq!(
            commit_point(sizes(Durability::All), Lsn(9), true, lsns(&followers)),
            Lsn(0)
        );
        // A leader that removed itself counts one follower more.
        assert_eq!(
            commit_point(quorum, Lsn(9), false, lsns(&followers)),
            Lsn(3)
        );
        // Too few followers: nothing commits.
        assert_eq!(commit_point(3, Lsn(9), true, lsns(&[8])), Lsn(0));
        // A single voter commits what it made durable.
        assert_eq!(commit_point(1, Lsn(4), true, lsns(&[])), Lsn(4));
    }

    #[test]
    fn votes_rounds_and_check_quorum() {
        assert!(election_won(2, 2));
        assert!(!election_won(1, 2));
        // Leader at round 5, followers echoed 4, 2: check quorum 2 → round 4.
        assert_eq!(confirmed_round(Some(5), [4, 2].into_iter(), 2), Some(4));
        assert_eq!(confirmed_round(Some(5), [4, 2].into_iter(), 3), Some(2));
        // A removed leader's own round does not count.
        assert_eq!(confirmed_round(None, [4, 2].into_iter(), 2), Some(2));
        assert_eq!(confirmed_round(None, [4].into_iter(), 2), None);
        // A check quorum of 0 still needs one voter.
        assert_eq!(confirmed_round(Some(3), [].into_iter(), 0), Some(3));
        assert!(leadership_holds(2, 2));
        assert!(!leadership_holds(1, 2));
    }
}
