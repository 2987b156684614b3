//! One operation as an HTTP request to the target, with the redirects
//! followed and the answer's status judged.

use super::endpoints::Endpoints;
use super::workload::Op;
use super::{BenchArgs, Target};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use reqwest::header::LOCATION;
use reqwest::{StatusCode, Url};
use serde_json::json;

/// Redirects followed for one operation before it counts as failed.
const MAX_REDIRECTS: usize = 5;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// The node answered with a status other than 2xx (after redirects).
    #[error("{endpoint} answered {status}")]
    Status {
        /// Who answered.
        endpoint: String,
        /// The status.
        status: StatusCode,
    },
    /// No answer: connection refused or reset, or the request timed out.
    #[error("{endpoint}: {}", describe(source))]
    Transport {
        /// Who was asked.
        endpoint: String,
        /// What went wrong.
        #[source]
        source: reqwest::Error,
    },
    /// A redirect without a usable `Location`, or too many redirects.
    #[error("{0}")]
    Redirect(String),
}

/// A transport failure in one line: what happened and its innermost cause.
fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "no answer in time"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    format!("{what} ({cause})")
}

/// Sends operations to the target's current endpoint.
#[derive(Debug)]
pub(crate) struct Driver {
    http: reqwest::Client,
    target: Target,
    endpoints: Endpoints,
    consistency: String,
}

impl Driver {
    /// A driver for `args.target`, starting at the endpoint `endpoints` holds.
    pub(crate) fn new(http: reqwest::Client, args: &BenchArgs, endpoints: Endpoints) -> Driver {
        Driver {
            http,
            target: args.target,
            endpoints,
            consistency: args.consistency.clone(),
        }
    }

    /// The endpoint requests go to now.
    #[cfg(test)]
    pub(crate) fn current_endpoint(&self) -> String {
        self.endpoints.current()
    }

    /// Perform `op`; `Ok` once the target acknowledged it.
    pub(crate) async fn execute(&self, op: &Op) -> Result<(), Failure> {
        match self.target {
            Target::Steadfast => self.steadfast(op).await,
            Target::Etcd => self.etcd(op).await,
        }
    }

    /// `PUT /kv/{key}` or `GET /kv/{key}?consistency=…`, following
    /// `307`s to the leader (and remembering it for the next operations).
    async fn steadfast(&self, op: &Op) -> Result<(), Failure> {
        let mut endpoint = self.endpoints.current();
        let path = match op {
            Op::Write { key, .. } => format!("/kv/{key}"),
            Op::Read { key } => format!("/kv/{key}?consistency={}", self.consistency),
        };
        let mut url = format!("http://{endpoint}{path}");
        for _ in 0..MAX_REDIRECTS {
            let request = match op {
                Op::Write { value, .. } => self.http.put(&url).json(&json!({ "value": value })),
                Op::Read { .. } => self.http.get(&url),
            };
            let response = self.send(request, &endpoint).await?;
            let status = response.status();
            if status == StatusCode::TEMPORARY_REDIRECT || status == StatusCode::PERMANENT_REDIRECT
            {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| Url::parse(l).ok())
                    .ok_or_else(|| {
                        Failure::Redirect(format!("{endpoint} redirected without a valid Location"))
                    })?;
                let to = match (location.host_str(), location.port_or_known_default()) {
                    (Some(host), Some(port)) => format!("{host}:{port}"),
                    _ => {
                        return Err(Failure::Redirect(format!(
                            "{endpoint} redirected to {location}, which names no host"
                        )))
                    }
                };
                self.drain(response, &endpoint).await?;
                self.endpoints.redirected(to.clone());
                endpoint = to;
                url = location.into();
                continue;
            }
            return self.judge(response, &endpoint).await;
        }
        Err(Failure::Redirect(format!(
            "more than {MAX_REDIRECTS} redirects, the last from {endpoint}"
        )))
    }

    /// `POST /v3/kv/put` or `POST /v3/kv/range`, keys and values base64.
    async fn etcd(&self, op: &Op) -> Result<(), Failure> {
        let endpoint = self.endpoints.current();
        let (path, body) = match op {
            Op::Write { key, value } => (
                "/v3/kv/put",
                json!({ "key": BASE64.encode(key), "value": BASE64.encode(value) }),
            ),
            Op::Read { key } => (
                "/v3/kv/range",
                json!({
                    "key": BASE64.encode(key),
                    "serializable": matches!(self.consistency.as_str(), "stale" | "session"),
                }),
            ),
        };
        let request = self
            .http
            .post(format!("http://{endpoint}{path}"))
            .json(&body);
        let response = self.send(request, &endpoint).await?;
        self.judge(response, &endpoint).await
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        endpoint: &str,
    ) -> Result<reqwest::Response, Failure> {
        request.send().await.map_err(|source| {
            self.endpoints.failed(endpoint);
            Failure::Transport {
                endpoint: endpoint.to_owned(),
                source,
            }
        })
    }

    /// Read the body to its end, so that the connection goes back to the pool.
    async fn drain(&self, response: reqwest::Response, endpoint: &str) -> Result<(), Failure> {
        response
            .bytes()
            .await
            .map(drop)
            .map_err(|source| Failure::Transport {
                endpoint: endpoint.to_owned(),
                source,
            })
    }

    /// `Ok` for a 2xx; a 5xx also moves the clients to the next endpoint.
    async fn judge(&self, response: reqwest::Response, endpoint: &str) -> Result<(), Failure> {
        let status = response.status();
        self.drain(response, endpoint).await?;
        if status.is_success() {
            return Ok(());
        }
        if status.is_server_error() {
            self.endpoints.failed(endpoint);
        }
        Err(Failure::Status {
            endpoint: endpoint.to_owned(),
            status,
        })
    }
}
