//! The raw elementary stream demuxer (H.264/HEVC Annex B, IVF, AV1 OBU) on arbitrary
//! bytes: open, index in steps up to the whole stream (`index_until(∞)`), read the
//! samples, under small limits so a hostile size is refused quickly.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use stillframe_core::Limits;
use stillframe_raw::RawDemuxer;

#[path = "common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_sample_bytes: 1 << 20,
        max_samples: 100_000,
        ..Limits::default()
    };
    if let Ok(mut demuxer) = RawDemuxer::open(Cursor::new(data.to_vec()), limits) {
        common::exercise_demuxer(&mut demuxer);
    }
});
