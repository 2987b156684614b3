//! `--max-seconds` cuts a search short and says so: a check that cannot
//! finish in the limit ends soon after it, with every undecided property
//! reported `Stopped`, never as holding.

use steadfast::{Durability, ElectionQuorum};
use steadfast_models::actor::ClientOp;
use steadfast_models::model::ReplicationModel;
use steadfast_models::runner::{run_with, Found, LiveHandle, RunOptions};
use steadfast_models::suite::{Check, Expect};

#[test]
fn a_time_limit_stops_a_depth_first_search_and_reports_it_stopped() {
    // Far more states than a second explores: every server campaigns
    // twice, up to four epochs, two writes.
    let mut model = ReplicationModel::new(3, Durability::Quorum, ElectionQuorum::Majority);
    model.campaigners = 3;
    model.elections = 2;
    model.max_epoch = 4;
    model.max_crashes = 0;
    model.lossy = false;
    model.clients = vec![vec![ClientOp::Put(1), ClientOp::Put(2)]];
    let check = Check {
        family: "stopping",
        model,
        max_depth: 0,
        expect: vec![("ElectionSafety", Expect::Holds)],
        examples: vec![],
    };
    for threads in [1, 2] {
        let options = RunOptions {
            threads,
            max_seconds: Some(1),
            symmetry: false,
            progress: false,
            canonical: true,
        };
        let rows = run_with(&check, &options, &LiveHandle::default());
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].found,
            Found::Stopped,
            "{threads} threads: {:?}",
            rows[0]
        );
        assert!(!rows[0].ok, "a stopped check is not a pass");
        assert!(rows[0].unique_states > 0);
    }
}
