//! The HEVC adapter (our hvcC/NAL/SPS parsing, the limits and support checks,
//! rusty_h265 driving) fed arbitrary packets after a fixture's valid `hvcC`, or
//! after an arbitrary one. Input layout: `stillframe_fuzz_input::parse_packets`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stillframe_core::TrackInfo;
use stillframe_hevc::HevcDecoder;

#[path = "common/mod.rs"]
mod common;

/// Fixtures whose `hvcC` the built-in configurations are: Main and Main 10, an odd
/// size, temporal sub-layers, RADL pictures, and 4:2:2 (refused).
const HEVC_CONFIG_FIXTURES: [&str; 6] = [
    "hevc/hevc_main_rotated.mov",
    "hevc/hevc_main10_open_gop.mp4",
    "hevc/hevc_odd_642x362.mp4",
    "hevc/hevc_temporal.mp4",
    "hevc/hevc_radl.mp4",
    "hevc/hevc_422_10bit.mp4",
];

fn fixtures() -> &'static [TrackInfo] {
    static TRACKS: OnceLock<Vec<TrackInfo>> = OnceLock::new();
    TRACKS.get_or_init(|| {
        HEVC_CONFIG_FIXTURES
            .iter()
            .map(|name| common::fixture_track(name))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    common::decode_packet_stream(data, fixtures(), stillframe_hevc::inspect, HevcDecoder::new);
});
