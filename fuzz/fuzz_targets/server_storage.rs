//! Fuzz target `server_storage`: see `steadfast_server::fuzzing::check_server_storage`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| steadfast_server::fuzzing::check_server_storage(data));
