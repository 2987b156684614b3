//! Fuzz target `restart`: see `steadfast_sim::fuzzing::check_restart` for the properties.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| steadfast_sim::fuzzing::check_restart(data));
