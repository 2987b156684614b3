//! Fuzz target `physical`: see `steadfast::fuzzing::check_physical` for the properties.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| steadfast::fuzzing::check_physical(data));
