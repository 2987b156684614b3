//! One HTTP request to the cluster, redirects followed, ended as the
//! [`classify`](crate::classify) table says.

use crate::classify::{self, Effect, Ending, TransportFailure};
use crate::history::{OkValue, Pos, ReadMode};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// Redirects followed before giving up.
const MAX_HOPS: usize = 3;

/// The keys of the grow-only set live under this prefix.
pub const SET_PREFIX: &str = "set/";

/// The nodes clients may talk to, by id: their HTTP addresses.
#[derive(Clone, Debug, Default)]
pub struct Endpoints(Arc<RwLock<BTreeMap<u64, SocketAddr>>>);

impl Endpoints {
    /// Register (or re-register) `node` at `http`.
    pub fn insert(&self, node: u64, http: SocketAddr) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(node, http);
    }

    /// `node` is no longer a member.
    pub fn remove(&self, node: u64) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&node);
    }

    /// Every member, ascending.
    pub fn nodes(&self) -> Vec<u64> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }

    /// `node`'s HTTP address.
    pub fn http(&self, node: u64) -> Option<SocketAddr> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&node)
            .copied()
    }

    /// The node at `http`, if it is a member.
    pub fn node_at(&self, http: SocketAddr) -> Option<u64> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(_, &addr)| addr == http)
            .map(|(&node, _)| node)
    }
}

/// A request as the workloads make them.
#[derive(Clone, Debug)]
pub enum Call {
    /// `PUT /kv/{key}`.
    Put {
        /// The key.
        key: String,
        /// The value (a number, as text).
        value: u64,
    },
    /// `GET /kv/{key}?consistency=…`.
    Get {
        /// The key.
        key: String,
        /// The read mode.
        mode: ReadMode,
    },
    /// `GET /kv?prefix=set/&consistency=…`.
    ReadSet {
        /// The read mode.
        mode: ReadMode,
    },
}

impl Call {
    fn effect(&self) -> Effect {
        match self {
            Call::Put { .. } => Effect::Write,
            Call::Get { .. } | Call::ReadSet { .. } => Effect::Read,
        }
    }

    fn path(&self) -> String {
        match self {
            Call::Put { key, .. } => format!("/kv/{}", path_segment(key)),
            Call::Get { key, mode } => {
                format!("/kv/{}?consistency={}", path_segment(key), mode_name(*mode))
            }
            Call::ReadSet { mode } => {
                format!("/kv?prefix={SET_PREFIX}&consistency={}", mode_name(*mode))
            }
        }
    }
}

/// `key` as one path segment: anything but unreserved characters
/// percent-encoded (set keys hold a `/`).
fn path_segment(key: &str) -> String {
    const UNRESERVED_KEPT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(key, UNRESERVED_KEPT).to_string()
}

/// The server's name of a read mode.
pub fn mode_name(mode: ReadMode) -> &'static str {
    match mode {
        ReadMode::Linearizable => "linearizable",
        ReadMode::Lease => "lease",
        ReadMode::Session => "session",
        ReadMode::Stale => "stale",
    }
}

/// A request's end: the node that answered last, and the result.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The node that answered (after redirects).
    pub node: u64,
    /// What it came to.
    pub result: Result<OkValue, Ending>,
    /// The session token the answer carried, if any.
    pub token: Option<String>,
}

/// Makes requests to the cluster's nodes.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    endpoints: Endpoints,
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

impl Client {
    /// A client whose requests give up after `timeout`.
    pub fn new(endpoints: Endpoints, timeout: Duration) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(4)
            .build()?;
        Ok(Client { http, endpoints })
    }

    /// The members.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Send `call` to `node` (following redirects), with `token` as the
    /// session token.
    pub async fn call(&self, node: u64, call: &Call, token: Option<&str>) -> Reply {
        let effect = call.effect();
        let Some(mut addr) = self.endpoints.http(node) else {
            return Reply {
                node,
                result: Err(Ending::Fail(format!("node {node} is not a member"))),
                token: None,
            };
        };
        let mut url = format!("http://{addr}{}", call.path());
        for _ in 0..=MAX_HOPS {
            let at = self.endpoints.node_at(addr).unwrap_or(node);
            let mut request = match call {
                Call::Put { value, .. } => self
                    .http
                    .put(&url)
                    .json(&serde_json::json!({ "value": value.to_string() })),
                Call::Get { .. } | Call::ReadSet { .. } => self.http.get(&url),
            };
            if let Some(token) = token {
                request = request.header("x-session-token", token);
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) => return ended(at, transport_ending(effect, &e)),
            };
            let status = response.status().as_u16();
            if status == 307 {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match location.as_deref().and_then(redirect_target) {
                    Some((next, next_url)) => {
                        addr = next;
                        url = next_url;
                        continue;
                    }
                    None => {
                        let reason = format!("a redirect without a usable location: {location:?}");
                        return ended(at, Ending::Fail(reason));
                    }
                }
            }
            let token = response
                .headers()
                .get("x-session-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let text = match response.text().await {
                Ok(text) => text,
                Err(e) => return ended(at, transport_ending(effect, &e)),
            };
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if !(200..300).contains(&status) {
                let message = body["error"].as_str().unwrap_or(text.trim());
                return ended(at, classify::answer(effect, status, message));
            }
            let result = parse_ok(call, &body).ok_or_else(|| {
                classify::transport(
                    effect,
                    TransportFailure::Broken,
                    &format!("an answer that is not what was asked for: {body}"),
                )
            });
            return Reply {
                node: at,
                result,
                token,
            };
        }
        ended(node, classify::too_many_redirects(MAX_HOPS))
    }
}

fn ended(node: u64, ending: Ending) -> Reply {
    Reply {
        node,
        result: Err(ending),
        token: None,
    }
}

fn transport_ending(effect: Effect, error: &reqwest::Error) -> Ending {
    let failure = if error.is_connect() {
        TransportFailure::Refused
    } else if error.is_timeout() {
        TransportFailure::Timeout
    } else {
        TransportFailure::Broken
    };
    classify::transport(effect, failure, &error_chain(error))
}

/// An error and its sources, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `http://host:port/path…` → the address and the URL.
fn redirect_target(location: &str) -> Option<(SocketAddr, String)> {
    let rest = location.strip_prefix("http://")?;
    let authority = rest.split('/').next()?;
    let addr = authority.parse().ok()?;
    Some((addr, location.to_owned()))
}

fn position(value: &Value) -> Option<Pos> {
    Some(Pos {
        epoch: value["epoch"].as_u64()?,
        lsn: value["lsn"].as_u64()?,
    })
}

/// A successful answer to `call`, or `None` if the body is not one.
fn parse_ok(call: &Call, body: &Value) -> Option<OkValue> {
    let position = position(&body["position"])?;
    match call {
        Call::Put { .. } => Some(OkValue::Written { position }),
        Call::Get { .. } => {
            let value = match &body["value"] {
                Value::Null => None,
                Value::String(text) => Some(text.parse().ok()?),
                _ => return None,
            };
            Some(OkValue::Value { value, position })
        }
        Call::ReadSet { .. } => {
            let mut elements = Vec::new();
            for key in body["entries"].as_object()?.keys() {
                elements.push(key.strip_prefix(SET_PREFIX)?.parse().ok()?);
            }
            elements.sort_unstable();
            Some(OkValue::Elements { elements, position })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_parse_into_what_was_asked() {
        let get = Call::Get {
            key: "r1".into(),
            mode: ReadMode::Linearizable,
        };
        let at = json!({ "epoch": 2, "lsn": 9 });
        assert_eq!(
            parse_ok(&get, &json!({ "value": "17", "position": at })),
            Some(OkValue::Value {
                value: Some(17),
                position: Pos { epoch: 2, lsn: 9 }
            })
        );
        assert_eq!(
            parse_ok(&get, &json!({ "value": null, "position": at })),
            Some(OkValue::Value {
                value: None,
                position: Pos { epoch: 2, lsn: 9 }
            })
        );
        assert_eq!(
            parse_ok(&get, &json!({ "value": "x", "position": at })),
            None
        );
        let set = Call::ReadSet {
            mode: ReadMode::Linearizable,
        };
        let entries = json!({ "set/10": "10", "set/2": "2" });
        assert_eq!(
            parse_ok(&set, &json!({ "entries": entries, "position": at })),
            Some(OkValue::Elements {
                elements: vec![2, 10],
                position: Pos { epoch: 2, lsn: 9 }
            })
        );
        assert_eq!(parse_ok(&set, &json!({ "position": at })), None);
    }

    #[test]
    fn keys_are_one_path_segment() {
        let put = Call::Put {
            key: "set/17".into(),
            value: 17,
        };
        assert_eq!(put.path(), "/kv/set%2F17");
        let read = Call::ReadSet {
            mode: ReadMode::Lease,
        };
        assert_eq!(read.path(), "/kv?prefix=set/&consistency=lease");
    }

    #[test]
    fn redirects_name_the_leader_address() {
        let (addr, url) = redirect_target("http://127.0.0.1:8002/kv/a?consistency=lease").unwrap();
        assert_eq!(addr, "127.0.0.1:8002".parse().unwrap());
        assert!(url.ends_with("/kv/a?consistency=lease"));
        assert_eq!(redirect_target("ftp://x"), None);
    }
}
