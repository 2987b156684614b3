//! The session token as it travels in the `x-session-token` header:
//! `<write epoch>.<write lsn>-<read epoch>.<read lsn>`, e.g. `2.17-2.19`.

use steadfast::{Epoch, Lsn, Position, SessionToken};

/// The header's name.
pub const HEADER: &str = "x-session-token";

/// The token as header text.
pub fn format(token: &SessionToken) -> String {
    let w = token.last_write;
    let r = token.last_read;
    format!("{}.{}-{}.{}", w.epoch.0, w.lsn.0, r.epoch.0, r.lsn.0)
}

/// The token in header text, or `None` if it is not one.
pub fn parse(text: &str) -> Option<SessionToken> {
    let (write, read) = text.trim().split_once('-')?;
    Some(SessionToken {
        last_write: position(write)?,
        last_read: position(read)?,
    })
}

fn position(text: &str) -> Option<Position> {
    let (epoch, lsn) = text.split_once('.')?;
    Some(Position::new(
        Epoch(epoch.parse().ok()?),
        Lsn(lsn.parse().ok()?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let token = SessionToken {
            last_write: Position::new(Epoch(2), Lsn(17)),
            last_read: Position::new(Epoch(3), Lsn(19)),
        };
        assert_eq!(format(&token), "2.17-3.19");
        assert_eq!(parse(&format(&token)), Some(token));
        for bad in [
            "",
            "2.17",
            "2.17-3",
            "a.1-1.1",
            "1.1-1.1-1.1",
            "-1.1-1.1",
            "99999999999999999999.1-1.1",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
