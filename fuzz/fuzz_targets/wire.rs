//! Fuzz target `wire`: see `steadfast_sim::fuzzing::check_wire` for the properties.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| steadfast_sim::fuzzing::check_wire(data));
