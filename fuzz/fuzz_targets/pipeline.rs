//! The whole pipeline on arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| gatewayc::fuzzing::pipeline(data));
