//! Scenario and property tests of the replica, driven through the
//! reference host and the in-memory cluster.

#[path = "replica/batching_tests.rs"]
mod batching_tests;
#[path = "replica/election_api_tests.rs"]
mod election_api_tests;
#[path = "replica/election_tests.rs"]
mod election_tests;
#[path = "replica/election_unit_tests.rs"]
mod election_unit_tests;
#[path = "replica/membership_liveness_tests.rs"]
mod membership_liveness_tests;
#[path = "replica/membership_tests.rs"]
mod membership_tests;
#[path = "replica/prop_tests.rs"]
mod prop_tests;
#[path = "replica/read_prop_tests.rs"]
mod read_prop_tests;
#[path = "replica/read_tests.rs"]
mod read_tests;
#[path = "replica/read_unit_tests.rs"]
mod read_unit_tests;
#[path = "replica/snapshot_tests.rs"]
mod snapshot_tests;
#[path = "replica/tests.rs"]
mod tests;
