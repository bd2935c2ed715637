//! The AV1 adapter (our av1C/OBU/sequence and frame header parsing, rav1d driving) fed
//! arbitrary packets after a fixture's valid `av1C`, or after an arbitrary one.
//! Input layout: `stillframe_fuzz_input::parse_packets`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stillframe_av1::Av1Decoder;
use stillframe_core::{Limits, TrackInfo};
use stillframe_fuzz_input::{parse_packets, Config, AV1_CONFIG_FIXTURES};

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
    let stream = parse_packets(data);
    let tracks = fixtures();
    let track = match stream.config {
        Config::Builtin(number) => tracks[usize::from(number) % tracks.len()].clone(),
        Config::Custom(record) => TrackInfo {
            codec_config: record.to_vec(),
            ..tracks[0].clone()
        },
    };
    // 512×512: a mutated header may not make every execution decode big pictures
    // (rav1d without its assembly, under AddressSanitizer, takes seconds on 1080p).
    let limits = Limits {
        max_pixels: 1 << 18,
        ..Limits::default()
    };
    let _ = stillframe_av1::inspect(&track, &limits);
    if let Ok(mut decoder) = Av1Decoder::new(&track, &limits) {
        common::drive_decoder(&mut decoder, &stream.packets);
    }
});
