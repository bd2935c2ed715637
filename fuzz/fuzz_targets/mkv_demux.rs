//! The Matroska/WebM demuxer on arbitrary bytes: open, index in steps up to the whole
//! file (`index_until(∞)`), read the samples.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use stillframe_core::Limits;
use stillframe_mkv::MkvDemuxer;

#[path = "common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut demuxer) = MkvDemuxer::open(Cursor::new(data), Limits::default()) {
        common::exercise_demuxer(&mut demuxer);
    }
});
