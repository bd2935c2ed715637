//! Prints what the demuxer makes of a raw stream: format, codec, frame rate, and
//! every sample in decode order (`cargo run -p stillframe-raw --example rawdump FILE`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use stillframe_core::{Demuxer, Limits, Time};
use stillframe_raw::RawDemuxer;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: rawdump FILE [SECONDS]");
    let until = std::env::args()
        .nth(2)
        .map(|s| s.parse::<Time>().expect("a time"))
        .unwrap_or(Time::POSITIVE_INFINITY);
    let file = std::fs::File::open(&path).expect("open");
    let mut demuxer = match RawDemuxer::open(std::io::BufReader::new(file), Limits::default()) {
        Ok(d) => d,
        Err(e) => {
            println!("open failed ({}): {e}", e.kind().name());
            return;
        }
    };
    let complete = demuxer.index_until(0, until);
    let track = &demuxer.tracks()[0];
    println!(
        "{:?} {} {:?} fps {:?} ({:?}) timescale {} config {} bytes; index_until: {complete:?}; duration {:?}",
        demuxer.container(),
        track.codec.name(),
        track.video.as_ref().map(|v| (v.width, v.height, v.pixel_aspect, v.colour)),
        demuxer.frame_rate(),
        demuxer.frame_rate_source(),
        track.timescale,
        track.codec_config.len(),
        demuxer.duration().map(|d| d.as_secs_f64()),
    );
    let samples = demuxer.samples(0).unwrap().to_vec();
    for (i, s) in samples.iter().enumerate() {
        println!(
            "{i:5} offset {:9} size {:7} dts {:7} pts {:7} dur {} sync {} presented {}",
            s.offset, s.size, s.dts, s.pts, s.duration, s.sync, s.presented
        );
    }
}
