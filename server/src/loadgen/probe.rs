//! Before the run: make sure the cluster answers at all, and find the
//! endpoint to start with (the leader, when a node says which it is).

use super::{BenchError, Target};
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

/// How long one probe request may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Pause between two rounds over the endpoints.
const PROBE_PAUSE: Duration = Duration::from_millis(100);

/// What one endpoint said.
enum Answer {
    /// No HTTP answer at all.
    Nothing,
    /// An answer, but not from the leader (or none we could read).
    Member,
    /// The leader.
    Leader,
}

/// Ask every endpoint, in rounds, for up to `within`: the index of the
/// leader as soon as one says it is; at the end, the first endpoint that
/// answered anything; an error if none did.
pub(crate) async fn find_start(
    http: &reqwest::Client,
    target: Target,
    endpoints: &[String],
    within: Duration,
) -> Result<usize, BenchError> {
    let deadline = Instant::now() + within;
    let mut answered = None;
    loop {
        for (i, endpoint) in endpoints.iter().enumerate() {
            match ask(http, target, endpoint).await {
                Answer::Leader => return Ok(i),
                Answer::Member => {
                    answered.get_or_insert(i);
                }
                Answer::Nothing => {}
            }
        }
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(PROBE_PAUSE).await;
    }
    answered.ok_or_else(|| BenchError::Unreachable {
        endpoints: endpoints.join(","),
        target: target.name().into(),
        secs: within.as_secs(),
    })
}

/// Steadfast: `GET /status` (`"role": "leader"`). etcd: `POST
/// /v3/maintenance/status` (the leader's member id equals its own).
async fn ask(http: &reqwest::Client, target: Target, endpoint: &str) -> Answer {
    let request = match target {
        Target::Steadfast => http.get(format!("http://{endpoint}/status")),
        Target::Etcd => http
            .post(format!("http://{endpoint}/v3/maintenance/status"))
            .json(&serde_json::json!({})),
    };
    let Ok(response) = request.timeout(PROBE_TIMEOUT).send().await else {
        return Answer::Nothing;
    };
    let Ok(status) = response.json::<Value>().await else {
        return Answer::Member;
    };
    let leader = match target {
        Target::Steadfast => status.get("role").and_then(Value::as_str) == Some("leader"),
        Target::Etcd => {
            let me = status.pointer("/header/member_id");
            me.is_some() && me == status.get("leader")
        }
    };
    if leader {
        Answer::Leader
    } else {
        Answer::Member
    }
}
