//! The client API, HTTP/JSON:
//!
//! | request | answer |
//! |---|---|
//! | `PUT /kv/{key}` with `{"value": "…"}` | `{"position": {"epoch", "lsn"}}` once committed under the durability policy |
//! | `DELETE /kv/{key}` | the same |
//! | `GET /kv/{key}?consistency=linearizable\|lease\|session\|stale` | `{"value": "…" or null, "position": …}` |
//! | `GET /kv?prefix=P&consistency=…` | `{"entries": {key: value, …}, "position": …}`: every key under `P`, as one read |
//! | `GET /status` | the node's [`Status`](crate::node::Status) |
//! | `GET /metrics` | Prometheus text |
//! | `POST /cluster/learners` with `{"id", "peer", "http"}` | add a learner |
//! | `POST /cluster/promote/{id}` | make a caught-up learner a voter |
//! | `DELETE /cluster/members/{id}` | remove a member |
//! | `POST /cluster/transfer/{id}` | hand leadership to a voter |
//! | `POST /admin/clock-offset` with `{"ms": N}` | shift the node's clock (only with `--clock-control`; fault testing) |
//!
//! Headers: `x-client-id` and `x-client-seq` make a write exactly-once (a
//! client numbers its writes and reuses a number only to retry);
//! `x-session-token` carries the session (see [`token`]) in and, updated,
//! out. A node that is not the leader answers leader-only requests with
//! `307 Temporary Redirect` to the leader's address (`503` when it knows
//! none). Errors are `{"error": "…"}` with a status that says what to do:
//! `503` retry (in doubt, unavailable), `400` fix the request.

pub mod token;

mod metrics;
mod routes;

pub use metrics::Metrics;
pub use routes::router;
