use stateright::{Checker, Model};
use steadfast::{Durability, ElectionQuorum};
use steadfast_models::model::ReplicationModel;
use steadfast_models::properties as p;
fn main() {
    let mut m = ReplicationModel::new(3, Durability::Async, ElectionQuorum::Majority);
    m.max_crashes = 0;
    m.lossy = false;
    let model = m.into_model();
    let c = model
        .checker()
        .threads(1)
        .target_max_depth(std::env::var("D").unwrap().parse().unwrap())
        .spawn_dfs()
        .join();
    if let Some(l) = c.discovery("Linearizable") {
        for a in l.into_actions() {
            println!("{a:?}");
        }
    }
    let path = c.discovery("NoLostAckedWrites").unwrap();
    let last = path.last_state().clone();
    println!(
        "failover_after_ack={} acked={:?}",
        p::failover_after_ack(c.model(), &last),
        last.history.acked
    );
    for s in p::live_servers(&last) {
        println!("{:?} {:?}", s.replica.role(), s.replica.epoch());
    }
    println!("{:?}", c.discoveries().keys().collect::<Vec<_>>());
}
