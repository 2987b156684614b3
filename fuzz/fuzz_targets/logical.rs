//! Fuzz target `logical`: see `steadfast::fuzzing::check_logical` for the properties.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| steadfast::fuzzing::check_logical(data));
