//! The routes and their handlers.

use super::{token, Metrics};
use crate::kv::{Command, NodeAddrs};
use crate::node::{NodeClient, ReadMode, ReadOk, ReadTarget, Request, RequestError};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::SocketAddr;
use steadfast::{MembershipChange, NodeId, Position, SessionToken};

/// What every handler shares.
#[derive(Clone, Debug)]
struct Api {
    node: NodeClient,
    metrics: Metrics,
}

/// The client API of one node.
pub fn router(node: NodeClient, metrics: Metrics) -> Router {
    Router::new()
        .route("/kv", get(scan_prefix))
        .route("/kv/{key}", get(get_key).put(put_key).delete(delete_key))
        .route("/status", get(status))
        .route("/metrics", get(metrics_text))
        .route("/cluster/learners", post(add_learner))
        .route("/cluster/promote/{id}", post(promote))
        .route("/cluster/members/{id}", delete(remove_member))
        .route("/cluster/transfer/{id}", post(transfer))
        .route("/admin/clock-offset", post(set_clock_offset))
        .with_state(Api { node, metrics })
}

/// An error answer: a status and `{"error": …}` (plus a redirect to the
/// leader when this node is not it).
struct ApiError {
    status: StatusCode,
    message: String,
    location: Option<String>,
}

impl ApiError {
    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            location: None,
        }
    }

    /// The answer for `error`, redirecting to the same `path` on the leader.
    fn from_node(error: RequestError, path: &str) -> ApiError {
        let (status, location) = match &error {
            RequestError::NotLeader {
                addrs: Some(addrs), ..
            } => (
                StatusCode::TEMPORARY_REDIRECT,
                Some(format!("http://{}{path}", addrs.http)),
            ),
            RequestError::NotLeader { addrs: None, .. }
            | RequestError::InDoubt
            | RequestError::Unavailable(_)
            | RequestError::ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, None),
            RequestError::Rejected(_) => (StatusCode::BAD_REQUEST, None),
        };
        ApiError {
            status,
            message: error.to_string(),
            location,
        }
    }

    fn outcome(&self) -> &'static str {
        match self.status {
            StatusCode::TEMPORARY_REDIRECT => "redirect",
            StatusCode::BAD_REQUEST => "bad_request",
            _ => "unavailable",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if let Some(location) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }
}

/// A JSON answer carrying the session token header.
fn with_token(body: serde_json::Value, token: &SessionToken) -> Response {
    let mut response = Json(body).into_response();
    if let Ok(value) = HeaderValue::from_str(&token::format(token)) {
        response.headers_mut().insert(token::HEADER, value);
    }
    response
}

fn position_json(position: Position) -> serde_json::Value {
    json!({ "epoch": position.epoch.0, "lsn": position.lsn.0 })
}

/// The session token of a request (the empty one when absent).
fn session(headers: &HeaderMap) -> Result<SessionToken, ApiError> {
    match headers.get(token::HEADER) {
        None => Ok(SessionToken::new()),
        Some(value) => value.to_str().ok().and_then(token::parse).ok_or_else(|| {
            ApiError::bad_request("x-session-token is not <epoch>.<lsn>-<epoch>.<lsn>")
        }),
    }
}

/// The exactly-once session of a write: `(client, seq)`, or `(0, 0)`.
fn client_session(headers: &HeaderMap) -> Result<(u64, u64), ApiError> {
    let number = |name: &str| -> Result<Option<u64>, ApiError> {
        headers
            .get(name)
            .map(|v| {
                v.to_str()
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| ApiError::bad_request(format!("{name} is not a number")))
            })
            .transpose()
    };
    match (number("x-client-id")?, number("x-client-seq")?) {
        (None, None) => Ok((0, 0)),
        (Some(client), Some(seq)) if client != 0 && seq != 0 => Ok((client, seq)),
        _ => Err(ApiError::bad_request(
            "x-client-id and x-client-seq go together, both non-zero",
        )),
    }
}

#[derive(Deserialize)]
struct PutBody {
    value: String,
}

async fn put_key(
    State(api): State<Api>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Option<Json<PutBody>>,
) -> Result<Response, ApiError> {
    let Some(Json(PutBody { value })) = body else {
        return Err(ApiError::bad_request("the body must be {\"value\": \"…\"}"));
    };
    let (client, seq) = client_session(&headers)?;
    let command = Command::Put {
        key: key.clone(),
        value: value.into_bytes(),
        client,
        seq,
    };
    write(
        &api,
        "put",
        command,
        &headers,
        &format!("/kv/{}", encode(&key, false)),
    )
    .await
}

async fn delete_key(
    State(api): State<Api>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (client, seq) = client_session(&headers)?;
    let command = Command::Delete {
        key: key.clone(),
        client,
        seq,
    };
    write(
        &api,
        "delete",
        command,
        &headers,
        &format!("/kv/{}", encode(&key, false)),
    )
    .await
}

async fn write(
    api: &Api,
    op: &str,
    command: Command,
    headers: &HeaderMap,
    path: &str,
) -> Result<Response, ApiError> {
    let token = session(headers)?;
    let answer = api
        .node
        .ask(|reply| Request::Write {
            command,
            token,
            reply,
        })
        .await;
    match answer {
        Ok(ok) => {
            api.metrics.count(op, "ok");
            Ok(with_token(
                json!({ "position": position_json(ok.position) }),
                &ok.token,
            ))
        }
        Err(e) => {
            let error = ApiError::from_node(e, path);
            api.metrics.count(op, error.outcome());
            Err(error)
        }
    }
}

#[derive(Deserialize)]
struct ReadParams {
    consistency: Option<ReadMode>,
}

async fn get_key(
    State(api): State<Api>,
    Path(key): Path<String>,
    Query(params): Query<ReadParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = session(&headers)?;
    let mode = params.consistency.unwrap_or(ReadMode::Linearizable);
    let path = format!(
        "/kv/{}?consistency={}",
        encode(&key, false),
        mode_name(mode)
    );
    let read = Read {
        target: ReadTarget::Key(key),
        mode,
        token,
        path,
        metric: "get",
    };
    answer_read(&api, read, |ok| {
        let value = ok.value.map(|v| String::from_utf8_lossy(&v).into_owned());
        json!({ "value": value, "position": position_json(ok.position) })
    })
    .await
}

/// A read as the HTTP API asked it.
struct Read {
    target: ReadTarget,
    mode: ReadMode,
    token: SessionToken,
    /// The request's path and query, for a redirect to the leader.
    path: String,
    /// The metric's operation label.
    metric: &'static str,
}

/// Ask the node for `read` and answer with `body` of what was read (and
/// the advanced session token), or with the error.
async fn answer_read(
    api: &Api,
    read: Read,
    body: impl FnOnce(ReadOk) -> serde_json::Value,
) -> Result<Response, ApiError> {
    let Read {
        target,
        mode,
        token,
        path,
        metric,
    } = read;
    let answer = api
        .node
        .ask(|reply| Request::Read {
            key: target,
            mode,
            token,
            reply,
        })
        .await;
    match answer {
        Ok(ok) => {
            api.metrics.count(metric, "ok");
            let token = ok.token;
            Ok(with_token(body(ok), &token))
        }
        Err(e) => {
            let error = ApiError::from_node(e, &path);
            api.metrics.count(metric, error.outcome());
            Err(error)
        }
    }
}

#[derive(Deserialize)]
struct ScanParams {
    prefix: Option<String>,
    consistency: Option<ReadMode>,
}

/// `GET /kv?prefix=P&consistency=…`: every key under `P`, read as one
/// read in the given mode.
async fn scan_prefix(
    State(api): State<Api>,
    Query(params): Query<ScanParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = session(&headers)?;
    let Some(prefix) = params.prefix else {
        return Err(ApiError::bad_request(
            "GET /kv needs ?prefix=P (and optionally &consistency=…)",
        ));
    };
    let mode = params.consistency.unwrap_or(ReadMode::Linearizable);
    let path = format!(
        "/kv?prefix={}&consistency={}",
        encode(&prefix, true),
        mode_name(mode)
    );
    let read = Read {
        target: ReadTarget::Prefix(prefix),
        mode,
        token,
        path,
        metric: "scan",
    };
    answer_read(&api, read, |ok| {
        let entries: serde_json::Map<String, serde_json::Value> = ok
            .entries
            .into_iter()
            .map(|(key, value)| (key, String::from_utf8_lossy(&value).into_owned().into()))
            .collect();
        json!({ "entries": entries, "position": position_json(ok.position) })
    })
    .await
}

/// Everything but RFC 3986's unreserved characters.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The same, `/` kept (a query value).
const QUERY_VALUE: &AsciiSet = &PATH_SEGMENT.remove(b'/');

/// `text` percent-encoded for a redirect's location: as one path segment
/// (a key may hold `/`), or as a query value (`/` kept).
fn encode(text: &str, query: bool) -> String {
    let set = if query { QUERY_VALUE } else { PATH_SEGMENT };
    utf8_percent_encode(text, set).to_string()
}

#[derive(Deserialize)]
struct ClockOffsetBody {
    ms: i64,
}

/// `POST /admin/clock-offset {"ms": N}`: shift this node's clock (only on
/// a node started with clock control on; fault testing of leases).
async fn set_clock_offset(
    State(api): State<Api>,
    body: Option<Json<ClockOffsetBody>>,
) -> Result<Response, ApiError> {
    let Some(offset) = api.node.clock_control() else {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            message: "clock control is off on this node (start it with --clock-control)".into(),
            location: None,
        });
    };
    let Some(Json(ClockOffsetBody { ms })) = body else {
        return Err(ApiError::bad_request("the body must be {\"ms\": N}"));
    };
    let before = offset.ms();
    offset.set(ms);
    Ok(Json(json!({ "clock_offset_ms": ms, "was": before })).into_response())
}

fn mode_name(mode: ReadMode) -> &'static str {
    match mode {
        ReadMode::Linearizable => "linearizable",
        ReadMode::Lease => "lease",
        ReadMode::Session => "session",
        ReadMode::Stale => "stale",
    }
}

async fn status(State(api): State<Api>) -> Result<Response, ApiError> {
    let status = api
        .node
        .status()
        .await
        .map_err(|e| ApiError::from_node(e, "/status"))?;
    Ok(Json(status).into_response())
}

async fn metrics_text(State(api): State<Api>) -> Result<Response, ApiError> {
    let status = api
        .node
        .status()
        .await
        .map_err(|e| ApiError::from_node(e, "/metrics"))?;
    let text = api.metrics.render(&status);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

#[derive(Deserialize, Serialize)]
struct LearnerBody {
    id: u64,
    peer: SocketAddr,
    http: SocketAddr,
}

async fn add_learner(
    State(api): State<Api>,
    body: Option<Json<LearnerBody>>,
) -> Result<Response, ApiError> {
    let Some(Json(body)) = body else {
        return Err(ApiError::bad_request(
            "the body must be {\"id\": N, \"peer\": \"host:port\", \"http\": \"host:port\"}",
        ));
    };
    let addrs = NodeAddrs {
        peer: body.peer,
        http: body.http,
    };
    change(
        &api,
        MembershipChange::AddLearner(NodeId(body.id)),
        Some(addrs),
        "/cluster/learners",
    )
    .await
}

async fn promote(State(api): State<Api>, Path(id): Path<u64>) -> Result<Response, ApiError> {
    let path = format!("/cluster/promote/{id}");
    change(
        &api,
        MembershipChange::PromoteLearner(NodeId(id)),
        None,
        &path,
    )
    .await
}

async fn remove_member(State(api): State<Api>, Path(id): Path<u64>) -> Result<Response, ApiError> {
    let path = format!("/cluster/members/{id}");
    change(&api, MembershipChange::Remove(NodeId(id)), None, &path).await
}

async fn change(
    api: &Api,
    change: MembershipChange,
    addrs: Option<NodeAddrs>,
    path: &str,
) -> Result<Response, ApiError> {
    let position = api
        .node
        .ask(|reply| Request::Membership {
            change,
            addrs,
            reply,
        })
        .await
        .map_err(|e| ApiError::from_node(e, path))?;
    Ok(Json(json!({ "position": position_json(position) })).into_response())
}

async fn transfer(State(api): State<Api>, Path(id): Path<u64>) -> Result<Response, ApiError> {
    let to = NodeId(id);
    api.node
        .ask(|reply| Request::Transfer { to, reply })
        .await
        .map_err(|e| ApiError::from_node(e, &format!("/cluster/transfer/{id}")))?;
    Ok(Json(json!({ "transferring_to": id })).into_response())
}
