//! Decoding stays within the memory estimate the limits are checked against, and
//! gives back every byte it takes. The global allocator here counts live bytes and
//! their peak; this file holds one test so no other test allocates meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use common::{fixture, open};
use stillframe_core::{Limits, Packet, TrackInfo, VideoDecoder};
use stillframe_vp9::{estimated_decoder_bytes, FrameHeader, Superframe, Vp9Decoder};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn count(bytes: usize, sign: isize) {
    let change = sign * isize::try_from(bytes).unwrap_or(isize::MAX);
    let live = LIVE.fetch_add(change, Ordering::SeqCst) + change;
    PEAK.fetch_max(live, Ordering::SeqCst);
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counter
// only observes sizes.
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

/// Decodes `packets` with a fresh decoder, dropping each frame after the next
/// one came out (so at most two are alive, as the estimate assumes), and returns
/// the peak of live bytes above what was live before, and the frame count.
fn decode_once(track: &TrackInfo, packets: &[Packet]) -> (isize, usize) {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let mut decoder = Vp9Decoder::new(track, &Limits::default()).unwrap();
    let mut frames = 0;
    let mut held = None;
    for packet in packets {
        // A failed frame is fine here: what it took must come back all the same.
        if decoder.send_packet(packet).is_err() {
            decoder.reset().unwrap();
        }
        while let Some(frame) = decoder.receive_frame().unwrap() {
            held = Some(frame);
            frames += 1;
        }
    }
    drop(held);
    drop(decoder);
    (PEAK.load(Ordering::SeqCst) - before, frames)
}

#[test]
fn decoding_stays_within_the_estimate_and_returns_every_byte() {
    for name in [
        "vp9_altref.webm",
        "vp9_multiarf.webm",
        "vp9_10bit.mp4",
        "vp9_444.webm",
    ] {
        let (track, packets) = open(&fixture(name));
        let key = Superframe::parse(&packets[0].data).unwrap();
        let Some(FrameHeader::Coded(frame)) = key.frames.first() else {
            panic!("{name} does not start with a frame");
        };
        let (width, height) = frame.explicit_size().unwrap();
        let estimate = estimated_decoder_bytes(width, height, &frame.color.unwrap());
        // The same stream with its key frame cut inside the compressed header:
        // rusty_vp9 fails it, and the frames after it fail for want of references.
        let mut broken = packets.clone();
        broken[0].data.truncate(30);
        for (what, packets) in [("whole", &packets), ("broken", &broken)] {
            // Once first: lazily built tables and the packets' clones settle.
            decode_once(&track, packets);
            let before = LIVE.load(Ordering::SeqCst);
            let (peak, frames) = decode_once(&track, packets);
            let grown = LIVE.load(Ordering::SeqCst) - before;
            eprintln!(
                "{name} ({what}): {frames} frames, peak {peak} bytes, estimate {estimate} \
                 ({:.0}%)",
                100.0 * peak as f64 / estimate as f64
            );
            assert_eq!(grown, 0, "{name} ({what}): {grown} bytes still live");
            assert!(
                peak as u64 <= estimate,
                "{name} ({what}): peak {peak} above the estimate {estimate}"
            );
        }
    }
}
