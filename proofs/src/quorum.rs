//! Quorum systems as sets, and the intersection property every safety proof
//! rests on, checked exhaustively for small clusters.

/// A set of nodes `0..n` as a bitmask (n ≤ 16 here).
pub type NodeSet = u32;

/// Every subset of `0..n` with at least `size` members.
pub fn quorums(n: u32, size: u32) -> impl Iterator<Item = NodeSet> {
    (0..(1u32 << n)).filter(move |s| s.count_ones() >= size)
}

/// True when every quorum of size `a` meets every quorum of size `b` in a
/// cluster of `n` nodes, decided by enumeration.
pub fn always_intersect(n: u32, a: u32, b: u32) -> bool {
    quorums(n, a).all(|qa| quorums(n, b).all(|qb| qa & qb != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_majorities_always_intersect() {
        for n in 1..=9 {
            let majority = n / 2 + 1;
            assert!(always_intersect(n, majority, majority), "n = {n}");
        }
    }

    #[test]
    fn flexible_quorums_intersect_exactly_when_sizes_exceed_n() {
        for n in 1..=7 {
            for a in 1..=n {
                for b in 1..=n {
                    assert_eq!(always_intersect(n, a, b), a + b > n, "n={n} a={a} b={b}");
                }
            }
        }
    }
}
