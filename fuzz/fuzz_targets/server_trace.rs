//! Fuzz target `server_trace`: see `steadfast_server::fuzzing::check_server_trace`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| steadfast_server::fuzzing::check_server_trace(data));
