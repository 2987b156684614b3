//! Fuzz target `server_kv`: see `steadfast_server::fuzzing::check_server_kv`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| steadfast_server::fuzzing::check_server_kv(data));
