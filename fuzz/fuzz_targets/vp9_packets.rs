//! The VP9 adapter (our superframe, frame header and vpcC parsing, the reference
//! slot checks, rusty_vp9 driving) fed arbitrary packets after a fixture's valid
//! `vpcC`, after none (as WebM gives), or after an arbitrary record.
//! Input layout: `stillframe_fuzz_input::parse_packets`.
//!
//! A panic inside rusty_vp9 is caught (by rusty_vp9 itself around its frame
//! decoding, and by the adapter around every call) and becomes `Error::Codec`; that
//! is the behaviour under test, so such panics must not count as crashes. But
//! libfuzzer-sys aborts in its panic hook, before any unwinding, so this target
//! replaces the hook with one that lets panics located in rusty_vp9's sources
//! unwind to those catches and aborts on every other panic as before (a panic
//! escaping the target is also caught and aborted on by libfuzzer-sys itself).
#![no_main]

use std::sync::{Once, OnceLock};

use libfuzzer_sys::fuzz_target;
use stillframe_core::TrackInfo;
use stillframe_vp9::Vp9Decoder;

#[path = "common/mod.rs"]
mod common;

/// Fixtures (under `tests/fixtures/`) whose `vpcC` are the built-in configurations.
const VP9_CONFIG_FIXTURES: [&str; 1] = ["vp9/vp9_10bit.mp4"];

/// The fixtures' tracks, then the first one without its `vpcC` (a WebM track
/// without `CodecPrivate`, where every packet describes itself).
fn fixtures() -> &'static [TrackInfo] {
    static TRACKS: OnceLock<Vec<TrackInfo>> = OnceLock::new();
    TRACKS.get_or_init(|| {
        let mut tracks: Vec<TrackInfo> = VP9_CONFIG_FIXTURES
            .iter()
            .map(|name| common::fixture_track(name))
            .collect();
        let mut bare = tracks[0].clone();
        bare.codec_config.clear();
        tracks.push(bare);
        tracks
    })
}

/// Lets panics raised in rusty_vp9's code unwind to the catches around it.
fn tolerate_caught_rusty_vp9_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let aborting = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_rusty_vp9 = info
                .location()
                .is_some_and(|location| location.file().contains("rusty_vp9"));
            if !in_rusty_vp9 {
                aborting(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    tolerate_caught_rusty_vp9_panics();
    common::decode_packet_stream(data, fixtures(), stillframe_vp9::inspect, Vp9Decoder::new);
});
