//! Prints what the demuxer makes of a file: tracks, then every sample of one track.
//!
//! `cargo run -p stillframe-mp4 --example mp4dump -- FILE [TRACK]`

use std::io::BufReader;

use stillframe_core::{Demuxer, Limits};
use stillframe_mp4::Mp4Demuxer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: mp4dump FILE [TRACK]")?;
    let wanted: Option<usize> = args.next().and_then(|t| t.parse().ok());
    let demuxer = Mp4Demuxer::open(
        BufReader::new(std::fs::File::open(path)?),
        Limits::default(),
    )?;
    println!(
        "container {:?}, duration {:?}",
        demuxer.container(),
        demuxer.duration()
    );
    for track in demuxer.tracks() {
        println!(
            "track {} id {} {:?} {} timescale {} duration {:?} config {} bytes video {:?}",
            track.index,
            track.id,
            track.kind,
            track.codec.name(),
            track.timescale,
            track.duration,
            track.codec_config.len(),
            track.video
        );
    }
    let track = wanted
        .or_else(|| demuxer.tracks().iter().position(|t| t.video.is_some()))
        .unwrap_or(0);
    let timescale = demuxer.tracks().get(track).map_or(1, |t| t.timescale.get());
    for (i, s) in demuxer.samples(track)?.iter().enumerate() {
        println!(
            "{i:6} off {:10} size {:8} dts {:10} pts {:10} ({:.6}) dur {:6} {}{}",
            s.offset,
            s.size,
            s.dts,
            s.pts,
            s.pts as f64 / f64::from(timescale),
            s.duration,
            if s.sync { "K" } else { "-" },
            if s.presented { "" } else { " hidden" }
        );
    }
    Ok(())
}
