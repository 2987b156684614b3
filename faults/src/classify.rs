//! How a client tells, from what it saw, whether an operation that did not
//! succeed may still have taken effect.
//!
//! | what the client saw | write | read |
//! |---|---|---|
//! | 2xx answer | `Ok` | `Ok` |
//! | connection refused (nothing was sent) | `Fail` | `Fail` |
//! | `307` redirects past the hop limit | `Fail` | `Fail` |
//! | `4xx` (the request was refused as it stands) | `Fail` | `Fail` |
//! | `503` "not the leader" / "unavailable: …" (refused before anything was appended) | `Fail` | `Fail` |
//! | `503` "outcome is unknown" (appended, then leadership lost) | `Unknown` | `Fail` |
//! | `503` "shutting down", any other `5xx` | `Unknown` | `Fail` |
//! | timeout, connection reset or closed after sending, a body that does not parse | `Unknown` | `Fail` |
//!
//! A read has no effect, so a read that did not succeed is simply `Fail`.

/// Whether a request changes state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// It may change state (a write, an add).
    Write,
    /// It does not (a read).
    Read,
}

/// How a request failed below HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportFailure {
    /// The connection could not be made: nothing was sent.
    Refused,
    /// No answer in time.
    Timeout,
    /// The connection broke after the request was (maybe) sent, or the
    /// answer could not be read.
    Broken,
}

/// An operation that did not succeed: certainly without effect, or maybe
/// with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It certainly did not take effect.
    Fail(String),
    /// It may have taken effect.
    Unknown(String),
}

fn unknown_unless_read(effect: Effect, reason: String) -> Ending {
    match effect {
        Effect::Write => Ending::Unknown(reason),
        Effect::Read => Ending::Fail(reason),
    }
}

/// The ending of a request that failed below HTTP.
pub fn transport(effect: Effect, failure: TransportFailure, detail: &str) -> Ending {
    match failure {
        TransportFailure::Refused => Ending::Fail(format!("connection refused: {detail}")),
        TransportFailure::Timeout => unknown_unless_read(effect, format!("timeout: {detail}")),
        TransportFailure::Broken => {
            unknown_unless_read(effect, format!("connection broken: {detail}"))
        }
    }
}

/// The ending of a request the server answered with an error `status` and
/// `message` (its `{"error": …}`). Redirects are followed before this.
pub fn answer(effect: Effect, status: u16, message: &str) -> Ending {
    let reason = format!("{status}: {message}");
    match status {
        400..=499 => Ending::Fail(reason),
        503 if message.starts_with("not the leader") || message.starts_with("unavailable:") => {
            Ending::Fail(reason)
        }
        _ => unknown_unless_read(effect, reason),
    }
}

/// The ending of a request redirected more times than the client follows.
pub fn too_many_redirects(hops: usize) -> Ending {
    Ending::Fail(format!("redirected {hops} times without reaching a leader"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_fail(ending: &Ending) -> bool {
        matches!(ending, Ending::Fail(_))
    }

    #[test]
    fn a_write_is_in_doubt_only_when_it_may_have_been_appended() {
        let w = Effect::Write;
        assert!(is_fail(&transport(w, TransportFailure::Refused, "x")));
        assert!(!is_fail(&transport(w, TransportFailure::Timeout, "x")));
        assert!(!is_fail(&transport(w, TransportFailure::Broken, "x")));
        assert!(is_fail(&answer(w, 400, "the body must be …")));
        assert!(is_fail(&answer(w, 503, "not the leader (leader: None)")));
        assert!(is_fail(&answer(
            w,
            503,
            "unavailable: a leadership transfer is in progress"
        )));
        assert!(!is_fail(&answer(
            w,
            503,
            "leadership was lost before the write committed; its outcome is unknown"
        )));
        assert!(!is_fail(&answer(w, 503, "the node is shutting down")));
        assert!(!is_fail(&answer(w, 500, "internal")));
        assert!(is_fail(&too_many_redirects(3)));
    }

    #[test]
    fn a_read_that_did_not_succeed_always_failed() {
        let r = Effect::Read;
        for failure in [
            TransportFailure::Refused,
            TransportFailure::Timeout,
            TransportFailure::Broken,
        ] {
            assert!(is_fail(&transport(r, failure, "x")), "{failure:?}");
        }
        for (status, message) in [
            (503, "the node is shutting down"),
            (
                503,
                "leadership was lost before the write committed; its outcome is unknown",
            ),
            (500, "internal"),
        ] {
            assert!(is_fail(&answer(r, status, message)), "{status} {message}");
        }
    }

    #[test]
    fn the_reason_keeps_what_the_client_saw() {
        assert_eq!(
            answer(Effect::Write, 503, "the node is shutting down"),
            Ending::Unknown("503: the node is shutting down".into())
        );
    }
}
