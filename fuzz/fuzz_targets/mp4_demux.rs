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
    // Default limits except the sample budget: at 20M samples (0.7 GB, about 3 s to
    // build) a corpus that keeps a few such tables spends most of its time on them and
    // runs at a fifth of its speed, and a million samples reaches the same code. That
    // the default budget itself holds is tested in tests/adversarial.rs.
    let limits = Limits {
        max_samples: 1 << 20,
        ..Limits::default()
    };
    if let Ok(mut demuxer) = Mp4Demuxer::open(Cursor::new(data), limits) {
        common::exercise_demuxer(&mut demuxer);
    }
});
