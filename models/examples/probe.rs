use stateright::{Checker, Model};
use steadfast::{Durability, ElectionQuorum};
use steadfast_models::model::ReplicationModel;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let d = match args.get(1).map(|s| s.as_str()) {
        Some("async") => Durability::Async,
        Some("all") => Durability::All,
        _ => Durability::Quorum,
    };
    let mut m = ReplicationModel::new(3, d, ElectionQuorum::Majority);
    if let Some(t) = args.get(2) {
        m.time_limit_ms = t.parse().unwrap();
    }
    if let Some(c) = args.get(3) {
        m.max_crashes = c.parse().unwrap();
    }
    if let Some(l) = args.get(4) {
        m.lossy = l == "1";
    }
    if let Some(l) = args.get(5) {
        m.campaigners = l.parse().unwrap();
    }
    if let Some(l) = args.get(6) {
        if l == "put" {
            m.clients = vec![vec![steadfast_models::actor::ClientOp::Put(1)]];
        }
    }
    if let Some(l) = args.get(7) {
        m.network = match l.as_str() {
            "o" => steadfast_models::model::NetworkKind::Ordered,
            "d" => steadfast_models::model::NetworkKind::Duplicating,
            _ => steadfast_models::model::NetworkKind::Unordered,
        };
    }
    let t = std::time::Instant::now();
    let model = m.into_model();
    let depth: usize = std::env::var("DEPTH")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    let b = model.checker().threads(2);
    let b = if depth > 0 {
        b.target_max_depth(depth)
    } else {
        b
    };
    let c = b
        .timeout(std::time::Duration::from_secs(60))
        .spawn_bfs()
        .join();
    println!(
        "states {} unique {} depth {} secs {:.1} done {}",
        c.state_count(),
        c.unique_state_count(),
        c.max_depth(),
        t.elapsed().as_secs_f64(),
        c.is_done()
    );
    for (name, path) in c.discoveries() {
        println!("  {name}: {} steps", path.into_actions().len());
    }
}
