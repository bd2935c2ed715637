//! The MP4/MOV demuxer on arbitrary bytes: open, then every question the `Demuxer`
//! trait allows, every sample read (up to a bound per track).
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use stillframe_core::Limits;
use stillframe_mp4::Mp4Demuxer;

#[path = "common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    // Default limits: what a user gets must be bounded as it is.
    if let Ok(mut demuxer) = Mp4Demuxer::open(Cursor::new(data), Limits::default()) {
        common::exercise_demuxer(&mut demuxer);
    }
});
