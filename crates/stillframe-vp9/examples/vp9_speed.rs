//! Decodes the first video track of a WebM, Matroska or MP4 file with VP9 and
//! prints the single-thread speed, the packets read into memory first.
//!
//! ```text
//! cargo run --release -p stillframe-vp9 --example vp9_speed -- clip.webm [rounds]
//! ```
//! Compare with `ffmpeg -threads 1 -benchmark -i clip.webm -f null -`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use stillframe_core::{Demuxer, Limits, Packet, Time, TrackKind, VideoDecoder};
use stillframe_vp9::Vp9Decoder;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: vp9_speed FILE [ROUNDS]");
    let rounds: usize = args.next().map_or(3, |n| n.parse().expect("ROUNDS"));
    let file = std::fs::File::open(&path).unwrap();
    let mut demuxer: Box<dyn Demuxer> = if path.ends_with(".mp4") {
        Box::new(stillframe_mp4::Mp4Demuxer::open(file, Limits::default()).unwrap())
    } else {
        Box::new(stillframe_mkv::MkvDemuxer::open(file, Limits::default()).unwrap())
    };
    let track = demuxer
        .tracks()
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .expect("no video track")
        .clone();
    demuxer
        .index_until(track.index, Time::POSITIVE_INFINITY)
        .unwrap();
    let count = demuxer.samples(track.index).unwrap().len() as u32;
    let packets: Vec<Packet> = (0..count)
        .map(|sample| demuxer.read_sample(track.index, sample).unwrap())
        .collect();
    let mut best = f64::INFINITY;
    let mut frames = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let mut decoder = Vp9Decoder::new(&track, &Limits::default()).unwrap();
        frames = 0;
        for packet in &packets {
            decoder.send_packet(packet).unwrap();
            while decoder.receive_frame().unwrap().is_some() {
                frames += 1;
            }
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    let format = Vp9Decoder::new(&track, &Limits::default()).unwrap();
    println!(
        "{path}: {frames} frames ({}x{}) in {best:.3} s (best of {rounds}): {:.1} fps",
        format.format().width,
        format.format().height,
        frames as f64 / best
    );
}
