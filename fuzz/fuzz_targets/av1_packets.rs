//! The AV1 adapter (our av1C/OBU/sequence and frame header parsing, rav1d driving) fed
//! arbitrary packets after a fixture's valid `av1C`, or after an arbitrary one.
//! Input layout: `stillframe_fuzz_input::parse_packets`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stillframe_av1::Av1Decoder;
use stillframe_core::TrackInfo;
use stillframe_fuzz_input::AV1_CONFIG_FIXTURES;

#[path = "common/mod.rs"]
mod common;

/// Fixtures whose `av1C` the built-in configurations are: every profile, bit depth
/// and chroma format the fixtures have.
fn fixtures() -> &'static [TrackInfo] {
    static TRACKS: OnceLock<Vec<TrackInfo>> = OnceLock::new();
    TRACKS.get_or_init(|| {
        AV1_CONFIG_FIXTURES
            .iter()
            .map(|name| common::fixture_track(name))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    common::decode_packet_stream(data, fixtures(), stillframe_av1::inspect, Av1Decoder::new);
});
