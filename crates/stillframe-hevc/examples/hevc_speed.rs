//! Decodes every frame of an HEVC file (MP4/MOV or Matroska) once and prints the
//! decoding speed, the peak memory the decoder took and its estimate:
//!
//! ```text
//! cargo run --release -p stillframe-hevc --example hevc_speed -- clip.mp4
//! ```
//!
//! Compare with `ffmpeg -threads 1 -i clip.mp4 -f null -` (rusty_h265 has no
//! threads of its own).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use stillframe_bitstream::hevc::{parse_codec_config, parse_sps, NAL_SPS};
use stillframe_core::{Demuxer, Limits, Packet, Time, TrackKind, VideoDecoder};
use stillframe_hevc::{decoder_bytes, HevcDecoder};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn count(bytes: usize, sign: isize) {
    let change = sign * isize::try_from(bytes).unwrap_or(isize::MAX);
    let live = LIVE.fetch_add(change, Ordering::Relaxed) + change;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counters
// only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            count(layout.size(), 1);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(pointer, layout) };
        count(layout.size(), -1);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            count(new_size, 1);
            count(layout.size(), -1);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn read_all(mut demuxer: impl Demuxer) -> (stillframe_core::TrackInfo, Vec<Packet>) {
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
    let packets = (0..count)
        .map(|sample| demuxer.read_sample(track.index, sample).unwrap())
        .collect();
    (track, packets)
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: hevc_speed FILE");
    let file = std::fs::File::open(&path).unwrap();
    let (track, packets) = if path.ends_with(".mkv") || path.ends_with(".webm") {
        read_all(stillframe_mkv::MkvDemuxer::open(file, Limits::default()).unwrap())
    } else {
        read_all(stillframe_mp4::Mp4Demuxer::open(file, Limits::default()).unwrap())
    };
    let estimate = parse_codec_config(&track.codec_config)
        .unwrap()
        .and_then(|record| {
            let unit = record.units_of_type(NAL_SPS).next()?;
            parse_sps(unit).ok()
        })
        .map(|sps| decoder_bytes(&sps));
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let start = Instant::now();
    let mut decoder = HevcDecoder::new(&track, &Limits::default()).unwrap();
    let mut frames = 0usize;
    for packet in &packets {
        decoder.send_packet(packet).unwrap();
        while decoder.receive_frame().unwrap().is_some() {
            frames += 1;
        }
    }
    decoder.finish().unwrap();
    while decoder.receive_frame().unwrap().is_some() {
        frames += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let format = decoder.format();
    println!(
        "{path}: {} {}x{} {}-bit, {frames} frames in {seconds:.2} s = {:.1} fps; \
         peak {:.1} MB, estimate {}",
        format.profile,
        format.width,
        format.height,
        format.bit_depth,
        frames as f64 / seconds,
        peak as f64 / 1e6,
        estimate.map_or("none".to_owned(), |bytes| format!(
            "{:.1} MB",
            bytes as f64 / 1e6
        )),
    );
}
