//! Hostile and damaged input: every fixture cut, flipped and inflated many ways, and
//! hand-made streams that claim absurd sizes. Each must open to a demuxer that keeps
//! its contract (indices never change, every sample reads back at its indexed size)
//! or fail with a typed error: no panic, no unbounded allocation, no hang. The same
//! walk as the `raw_demux` fuzz target, on a deterministic corpus.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;
use std::path::Path;

use stillframe_core::{Demuxer, ErrorKind, Limits, SampleInfo, Time};
use stillframe_raw::RawDemuxer;

const FIXTURES: &[&str] = &[
    "bframes.264",
    "open_gop.264",
    "bframes.265",
    "cra_first.265",
    "aom.ivf",
    "aom.obu",
    "annexb.obu",
    "vp9.ivf",
    "vp8.ivf",
];

fn limits() -> Limits {
    Limits {
        max_sample_bytes: 1 << 20,
        max_samples: 10_000,
        ..Limits::default()
    }
}

/// Opens `data` and walks everything the demuxer offers, checking its promises.
fn exercise(data: Vec<u8>) {
    let Ok(mut demuxer) = RawDemuxer::open(Cursor::new(data), limits()) else {
        return;
    };
    assert_eq!(demuxer.tracks().len(), 1);
    let mut known: Vec<SampleInfo> = demuxer.samples(0).unwrap().to_vec();
    for until in [Time::ZERO, Time::from_secs(1), Time::POSITIVE_INFINITY] {
        let extended = demuxer.index_until(0, until);
        let now = demuxer.samples(0).unwrap();
        assert!(now.len() >= known.len() && now[..known.len()] == known[..]);
        known = now.to_vec();
        if let Err(error) = extended {
            assert_ne!(error.kind(), ErrorKind::Internal, "{error}");
            break;
        }
    }
    for (number, info) in known.iter().enumerate() {
        let number = u32::try_from(number).unwrap();
        match demuxer.read_sample(0, number) {
            Ok(packet) => {
                assert_eq!(packet.data.len(), info.size as usize);
                assert_eq!(
                    (packet.pts, packet.dts, packet.sync),
                    (info.pts, info.dts, info.sync)
                );
            }
            Err(error) => assert_ne!(error.kind(), ErrorKind::Internal, "{error}"),
        }
    }
    assert!(demuxer
        .read_sample(0, u32::try_from(known.len()).unwrap())
        .is_err());
}

/// xorshift64*: the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap()
    }
}

fn mutate(original: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut data = original.to_vec();
    match rng.below(5) {
        0 => data.truncate(rng.below(data.len())),
        1 => {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(data.len());
                data[at] ^= 1 << rng.below(8);
            }
        }
        2 => {
            // A size field gone wild.
            let at = rng.below(data.len().saturating_sub(4));
            data[at..at + 4].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
        }
        3 => {
            let from = rng.below(data.len());
            let to = (from + rng.below(4096)).min(data.len());
            let chunk = data[from..to].to_vec();
            let at = rng.below(data.len());
            data.splice(at..at, chunk);
        }
        _ => {
            let from = rng.below(data.len());
            let to = (from + rng.below(2048)).min(data.len());
            data.drain(from..to);
        }
    }
    data
}

#[test]
fn mutated_fixtures_never_break_the_contract() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/raw");
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    // RAW_MUTATIONS=N runs more for a longer search.
    let rounds: usize = std::env::var("RAW_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(150);
    for name in FIXTURES {
        let original = std::fs::read(dir.join(name)).unwrap();
        exercise(original.clone());
        for _ in 0..rounds {
            exercise(mutate(&original, &mut rng));
        }
    }
}

#[test]
fn absurd_sizes_are_refused_before_allocating() {
    // IVF: a frame claiming 4 GB.
    let mut ivf = b"DKIF\0\0\x20\0AV01\x10\0\x10\0\x19\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0".to_vec();
    ivf.extend([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]);
    let error = RawDemuxer::open(Cursor::new(ivf), limits()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Limit, "{error}");
    // AV1 Annex B: a temporal unit of 2^32 − 1 bytes, with a valid start.
    let mut annex_b = vec![0xff, 0xff, 0xff, 0xff, 0x0f, 0x02, 0x01, 0x10];
    annex_b.extend([0x0a; 64]);
    assert!(RawDemuxer::open(Cursor::new(annex_b), limits()).is_err());
    // H.264: one start code, then a megabyte and a half of one NAL unit.
    let mut h264 = vec![0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x65, 0x88];
    h264.resize(1_600_000, 0x55);
    let error = RawDemuxer::open(Cursor::new(h264), limits()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Limit, "{error}");
    // Start codes only, zeros only.
    for junk in [[0u8, 0, 1].repeat(1000), vec![0u8; 100_000]] {
        assert!(RawDemuxer::open(Cursor::new(junk), limits()).is_err());
    }
}
