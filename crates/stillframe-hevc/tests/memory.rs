//! The memory estimate that guards [`stillframe_core::Limits::max_decoder_bytes`]
//! bounds what decoding really takes, and decoding gives back every byte it takes.
//! The global allocator here counts live bytes and their peak; this file holds one
//! test so no other test allocates meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use common::{fixture, open};
use stillframe_bitstream::hevc::{parse_hvcc, parse_sps, NAL_SPS};
use stillframe_core::{Limits, Packet, TrackInfo, VideoDecoder};
use stillframe_hevc::{decoder_bytes, HevcDecoder};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn count(bytes: usize, sign: isize) {
    let change = sign * isize::try_from(bytes).unwrap_or(isize::MAX);
    let live = LIVE.fetch_add(change, Ordering::SeqCst) + change;
    PEAK.fetch_max(live, Ordering::SeqCst);
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

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let pointer = unsafe { System.alloc_zeroed(layout) };
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

/// Decodes `packets` with a fresh decoder, receiving each frame and dropping it at
/// once as a caller would; returns the peak bytes above what was live before.
fn peak_of_one_decode(track: &TrackInfo, packets: &[Packet]) -> isize {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let mut decoder = HevcDecoder::new(track, &Limits::default()).unwrap();
    let mut frames = 0;
    for packet in packets {
        decoder.send_packet(packet).unwrap();
        while decoder.receive_frame().unwrap().is_some() {
            frames += 1;
        }
    }
    decoder.finish().unwrap();
    while decoder.receive_frame().unwrap().is_some() {
        frames += 1;
    }
    assert_eq!(frames, packets.len());
    drop(decoder);
    PEAK.load(Ordering::SeqCst) - before
}

#[test]
fn the_estimate_bounds_the_peak_and_decoding_returns_every_byte() {
    for name in [
        "hevc_main_rotated.mov",
        "hevc_main10_open_gop.mp4",
        "hevc_odd_642x362.mp4",
    ] {
        let (track, packets) = open(&fixture(name));
        let record = parse_hvcc(&track.codec_config).unwrap();
        let sps = parse_sps(record.units_of_type(NAL_SPS).next().unwrap()).unwrap();
        let estimate = decoder_bytes(&sps);
        // Once first: lazily built tables stay.
        peak_of_one_decode(&track, &packets);
        let before = LIVE.load(Ordering::SeqCst);
        let mut peak = 0;
        for _ in 0..5 {
            peak = peak.max(peak_of_one_decode(&track, &packets));
        }
        let grown = LIVE.load(Ordering::SeqCst) - before;
        assert_eq!(grown, 0, "{name}: {grown} bytes still live after 5 decodes");
        let decoding = u64::try_from(peak).unwrap();
        eprintln!("{name}: peak {decoding} bytes, estimate {estimate}");
        assert!(
            decoding <= estimate,
            "{name}: decoding took {decoding} bytes at its peak, above the estimate {estimate}"
        );
        assert!(
            estimate <= 3 * decoding,
            "{name}: the estimate {estimate} is far above the {decoding} bytes decoding took"
        );
    }
}
