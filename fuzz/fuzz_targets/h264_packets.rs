//! The H.264 adapter (our avcC/SPS parsing, NAL splitting, OpenH264 driving) fed
//! arbitrary packets after a fixture's valid `avcC`, or after an arbitrary one.
//! Input layout: `stillframe_fuzz_input::parse_packets`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stillframe_core::TrackInfo;
use stillframe_fuzz_input::H264_CONFIG_FIXTURES;
use stillframe_h264::H264Decoder;

#[path = "common/mod.rs"]
mod common;

/// Fixtures whose `avcC` the built-in configurations are: decodable streams, and
/// ones refused for their SPS (High 10, 4:4:4, interlaced).
fn fixtures() -> &'static [TrackInfo] {
    static TRACKS: OnceLock<Vec<TrackInfo>> = OnceLock::new();
    TRACKS.get_or_init(|| {
        H264_CONFIG_FIXTURES
            .iter()
            .map(|name| common::fixture_track(name))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    common::decode_packet_stream(data, fixtures(), stillframe_h264::inspect, H264Decoder::new);
});
