//! Fuzz target `server_storage`: see `steadfast_server::fuzzing::check_storage_files`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| steadfast_server::fuzzing::check_storage_files(data));
