//! The peers' handshake hello, as far as the proxy reads it: who dials
//! whom. The layout is the server's (`transport/handshake`): one
//! length-delimited frame of magic `SFPX`, version 1, kind 1 (hello), then
//! cluster id, from and to as big-endian `u64`s.

/// The dialer and the node it dialed, read from a hello frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hello {
    /// The dialing node.
    pub from: u64,
    /// The node it means to reach.
    pub to: u64,
}

const MAGIC: &[u8; 4] = b"SFPX";
const VERSION: u8 = 1;
const KIND_HELLO: u8 = 1;
const LEN: usize = 30;

/// The hello in `frame`, or `None` if it is not one.
pub fn parse(frame: &[u8]) -> Option<Hello> {
    if frame.len() != LEN || &frame[..4] != MAGIC || frame[4] != VERSION || frame[5] != KIND_HELLO {
        return None;
    }
    let word = |at: usize| -> Option<u64> {
        let bytes: [u8; 8] = frame.get(at..at + 8)?.try_into().ok()?;
        Some(u64::from_be_bytes(bytes))
    };
    Some(Hello {
        from: word(14)?,
        to: word(22)?,
    })
}

/// The bytes of a hello from `from` to `to` in cluster `cluster` (for
/// tests of the proxy).
pub fn encode(cluster: u64, from: u64, to: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(LEN);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(KIND_HELLO);
    out.extend_from_slice(&cluster.to_be_bytes());
    out.extend_from_slice(&from.to_be_bytes());
    out.extend_from_slice(&to.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hello_round_trips_and_anything_else_is_not_one() {
        assert_eq!(parse(&encode(7, 1, 3)), Some(Hello { from: 1, to: 3 }));
        let mut accept = encode(7, 3, 1);
        accept[5] = 2;
        assert_eq!(parse(&accept), None);
        assert_eq!(parse(b"SFPX"), None);
        assert_eq!(parse(&[0; 30]), None);
    }
}
