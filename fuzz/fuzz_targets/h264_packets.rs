//! The H.264 adapter (our avcC/SPS parsing, NAL splitting, OpenH264 driving) fed
//! arbitrary packets after a fixture's valid `avcC`, or after an arbitrary one.
//! Input layout: `stillframe_fuzz_input::parse_packets`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stillframe_core::{Limits, TrackInfo};
use stillframe_fuzz_input::{parse_packets, Config, H264_CONFIG_FIXTURES};
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
    let stream = parse_packets(data);
    let tracks = fixtures();
    let track = match stream.config {
        Config::Builtin(number) => tracks[usize::from(number) % tracks.len()].clone(),
        Config::Custom(record) => TrackInfo {
            codec_config: record.to_vec(),
            ..tracks[0].clone()
        },
    };
    // 512×512: a mutated SPS may not make every execution decode big pictures.
    let limits = Limits {
        max_pixels: 1 << 18,
        ..Limits::default()
    };
    let _ = stillframe_h264::inspect(&track, &limits);
    if let Ok(mut decoder) = H264Decoder::new(&track, &limits) {
        common::drive_decoder(&mut decoder, &stream.packets);
    }
});
