//! Prints what the demuxer makes of a Matroska file: tracks, cues, and every
//! sample of the first video track (`cargo run -p stillframe-mkv --example mkvdump FILE`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use stillframe_core::{Demuxer, Limits, Time};
use stillframe_mkv::MkvDemuxer;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: mkvdump FILE [SECONDS]");
    let until = std::env::args()
        .nth(2)
        .map(|s| s.parse::<Time>().expect("a time"))
        .unwrap_or(Time::POSITIVE_INFINITY);
    let file = std::fs::File::open(&path).expect("open");
    let mut demuxer = match MkvDemuxer::open(file, Limits::default()) {
        Ok(d) => d,
        Err(e) => {
            println!("open failed ({}): {e}", e.kind().name());
            return;
        }
    };
    println!(
        "{:?} duration {:?} cues {} (used: {})",
        demuxer.container(),
        demuxer.duration().map(|d| d.as_secs_f64()),
        demuxer.cue_points().len(),
        demuxer.uses_cues()
    );
    for track in demuxer.tracks() {
        println!(
            "track {} id {} {:?} {} timescale {} config {} bytes {:?}",
            track.index,
            track.id,
            track.kind,
            track.codec.name(),
            track.timescale,
            track.codec_config.len(),
            track.video
        );
    }
    let Some(video) = demuxer.tracks().iter().position(|t| t.video.is_some()) else {
        return;
    };
    match demuxer.index_until(video, until) {
        Ok(done) => println!("indexed (complete: {done})"),
        Err(e) => println!("index_until failed ({}): {e}", e.kind().name()),
    }
    for (i, s) in demuxer.samples(video).unwrap().iter().enumerate() {
        println!(
            "{i:5} off {:9} size {:7} dts {:8} pts {:8} dur {:5} sync {}",
            s.offset, s.size, s.dts, s.pts, s.duration, s.sync
        );
    }
}
