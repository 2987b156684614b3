//! The position order is the election order: checked from outside the crate.

use steadfast::{Epoch, Lsn, Position};

#[test]
fn sorting_positions_puts_the_most_up_to_date_last() {
    let mut v = [
        Position::new(Epoch(2), Lsn(1)),
        Position::new(Epoch(1), Lsn(9)),
        Position::new(Epoch(2), Lsn(0)),
    ];
    v.sort();
    assert_eq!(v.last(), Some(&Position::new(Epoch(2), Lsn(1))));
    assert_eq!(v.first(), Some(&Position::new(Epoch(1), Lsn(9))));
}
