//! The handshake's frames: round trips, every check, and bytes that are
//! not a frame.

use super::*;

const ACCEPTOR: Local = Local {
    cluster_id: 7,
    node: NodeId(3),
};
const DIALER: Local = Local {
    cluster_id: 7,
    node: NodeId(1),
};

fn hello(cluster_id: u64, from: u64, to: u64) -> Bytes {
    encode(&Frame::Hello(Greeting {
        cluster_id,
        from: NodeId(from),
        to: NodeId(to),
    }))
}

fn accept(cluster_id: u64, from: u64, to: u64) -> Bytes {
    encode(&Frame::Accept(Greeting {
        cluster_id,
        from: NodeId(from),
        to: NodeId(to),
    }))
}

fn peers_1_and_2(node: NodeId) -> bool {
    node == NodeId(1) || node == NodeId(2)
}

fn every_refusal() -> Vec<Refusal> {
    vec![
        Refusal::Magic { found: *b"GET " },
        Refusal::Version {
            found: 9,
            expected: HANDSHAKE_VERSION,
        },
        Refusal::Length {
            found: 5,
            expected: HEADER_LEN,
        },
        Refusal::TooLong {
            limit: MAX_HANDSHAKE_BYTES,
        },
        Refusal::Kind { found: 200 },
        Refusal::Reason { code: 99 },
        Refusal::Cluster {
            found: u64::MAX,
            expected: 7,
        },
        Refusal::WrongNode {
            found: NodeId(4),
            expected: NodeId(3),
        },
        Refusal::UnknownPeer(NodeId(u64::MAX)),
        Refusal::Direction {
            from: NodeId(5),
            to: NodeId(3),
        },
        Refusal::WrongPeer {
            found: NodeId(2),
            expected: NodeId(3),
        },
    ]
}

#[test]
fn every_frame_round_trips() {
    let greeting = Greeting {
        cluster_id: 0xdead_beef_0000_0001,
        from: NodeId(1),
        to: NodeId(u64::MAX),
    };
    let mut frames = vec![Frame::Hello(greeting), Frame::Accept(greeting)];
    frames.extend(every_refusal().into_iter().map(Frame::Refuse));
    for frame in frames {
        let bytes = encode(&frame);
        assert!(bytes.len() <= MAX_HANDSHAKE_BYTES, "{frame:?}");
        assert_eq!(decode(&bytes), Ok(frame));
    }
}

#[test]
fn a_good_hello_is_accepted_and_its_accept_checks_out() {
    let greeting = check_hello(&hello(7, 1, 3), ACCEPTOR, peers_1_and_2);
    assert_eq!(
        greeting,
        Ok(Greeting {
            cluster_id: 7,
            from: NodeId(1),
            to: NodeId(3),
        })
    );
    assert_eq!(
        check_answer(&accept(7, 3, 1), DIALER, NodeId(3)),
        Ok(Answer::Accepted)
    );
}

#[test]
fn each_bad_hello_field_is_refused_with_its_reason() {
    let check = |bytes: &[u8]| check_hello(bytes, ACCEPTOR, peers_1_and_2);
    assert_eq!(
        check(&hello(8, 1, 3)),
        Err(Refusal::Cluster {
            found: 8,
            expected: 7
        })
    );
    assert_eq!(
        check(&hello(7, 1, 4)),
        Err(Refusal::WrongNode {
            found: NodeId(4),
            expected: NodeId(3)
        })
    );
    assert_eq!(check(&hello(7, 0, 3)), Err(Refusal::UnknownPeer(NodeId(0))));
    let larger = check_hello(&hello(7, 5, 3), ACCEPTOR, |_| true);
    assert_eq!(
        larger,
        Err(Refusal::Direction {
            from: NodeId(5),
            to: NodeId(3)
        })
    );
    let mut bad_magic = hello(7, 1, 3).to_vec();
    bad_magic[0] = b'X';
    assert_eq!(check(&bad_magic), Err(Refusal::Magic { found: *b"XFPX" }));
    let mut bad_version = hello(7, 1, 3).to_vec();
    bad_version[4] = HANDSHAKE_VERSION + 1;
    assert_eq!(
        check(&bad_version),
        Err(Refusal::Version {
            found: HANDSHAKE_VERSION + 1,
            expected: HANDSHAKE_VERSION
        })
    );
    let mut bad_kind = hello(7, 1, 3).to_vec();
    bad_kind[5] = 77;
    assert_eq!(check(&bad_kind), Err(Refusal::Kind { found: 77 }));
    assert_eq!(
        check(&accept(7, 1, 3)),
        Err(Refusal::Kind { found: ACCEPT }),
        "an accept is not a hello"
    );
}

#[test]
fn each_bad_answer_field_is_an_error_and_a_refusal_is_reported() {
    let check = |bytes: &[u8]| check_answer(bytes, DIALER, NodeId(3));
    assert_eq!(
        check(&accept(8, 3, 1)),
        Err(Refusal::Cluster {
            found: 8,
            expected: 7
        })
    );
    assert_eq!(
        check(&accept(7, 3, 2)),
        Err(Refusal::WrongNode {
            found: NodeId(2),
            expected: NodeId(1)
        })
    );
    assert_eq!(
        check(&accept(7, 2, 1)),
        Err(Refusal::WrongPeer {
            found: NodeId(2),
            expected: NodeId(3)
        })
    );
    assert_eq!(check(&hello(7, 3, 1)), Err(Refusal::Kind { found: HELLO }));
    for refusal in every_refusal() {
        let bytes = encode(&Frame::Refuse(refusal));
        assert_eq!(check(&bytes), Ok(Answer::Refused(refusal)));
    }
}

#[test]
fn truncated_and_garbage_input_is_an_error_not_a_panic() {
    let good = hello(7, 1, 3);
    for len in 0..good.len() {
        let refused = check_hello(&good[..len], ACCEPTOR, peers_1_and_2);
        assert!(
            matches!(refused, Err(Refusal::Length { found, .. }) if found == len),
            "{len} bytes: {refused:?}"
        );
    }
    let mut longer = good.to_vec();
    longer.push(0);
    assert_eq!(
        decode(&longer),
        Err(Refusal::Length {
            found: GREETING_LEN + 1,
            expected: GREETING_LEN
        })
    );
    let refuse = encode(&Frame::Refuse(Refusal::UnknownPeer(NodeId(1))));
    for len in 0..refuse.len() {
        assert!(decode(&refuse[..len]).is_err(), "{len} bytes");
    }
    let mut unknown_reason = refuse.to_vec();
    unknown_reason[HEADER_LEN] = 200;
    assert_eq!(decode(&unknown_reason), Err(Refusal::Reason { code: 200 }));
    let mut out_of_range = encode(&Frame::Refuse(Refusal::Kind { found: 1 })).to_vec();
    out_of_range[HEADER_LEN + 1] = 1; // the detail no longer fits a byte
    assert_eq!(decode(&out_of_range), Err(Refusal::Reason { code: 5 }));
    assert!(matches!(
        decode(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        Err(Refusal::Magic { .. })
    ));
    // Every byte string up to a few bytes past a frame: no panic, and
    // every frame that decodes encodes back to the same bytes.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 40) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|i| (state >> (i % 8 * 8)) as u8).collect();
        if state.is_multiple_of(3) && len >= HEADER_LEN {
            bytes[..4].copy_from_slice(&MAGIC);
            bytes[4] = HANDSHAKE_VERSION;
            bytes[5] = (state % 4) as u8;
        }
        if let Ok(frame) = decode(&bytes) {
            assert_eq!(encode(&frame)[..], bytes[..]);
        }
    }
}
