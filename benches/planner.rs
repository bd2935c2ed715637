//! Inner loops of seeking, at the scale of a long recording: building the frame index,
//! planning one exact request, and planning a batch of thumbnails.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use std::num::NonZeroU32;
use stillframe_core::{SampleInfo, Time, Tolerance};

use stillframe_seek::{choose, plan, FrameIndex, Target};

/// Two hours at 30 fps (216,000 samples), a keyframe every 2 s, x264's B-pyramid order.
fn long_recording() -> Vec<SampleInfo> {
    let gop = [0i64, 4, 2, 1, 3, 7, 5, 6];
    (0..216_000i64)
        .map(|i| SampleInfo {
            offset: i as u64 * 10_000,
            size: 10_000,
            dts: (i - 2) * 1001,
            pts: (i / 8 * 8 + gop[(i % 8) as usize]) * 1001,
            duration: 1001,
            sync: i % 60 == 0,
            presented: true,
            description: 0,
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let samples = long_recording();
    let timescale = NonZeroU32::new(30_000).unwrap();
    c.bench_function("index 216k samples", |b| {
        b.iter(|| FrameIndex::new(black_box(&samples), timescale))
    });
    c.bench_function("grow the index by 1,000 samples 216 times", |b| {
        b.iter(|| {
            let mut index = FrameIndex::new(&samples[..1000], timescale);
            for end in (2000..=samples.len()).step_by(1000) {
                index.extend(black_box(&samples[..end]));
            }
            index
        })
    });
    let index = FrameIndex::new(&samples, timescale);
    let mid = Time::new(3600 * 30_000 + 12_345, 30_000).unwrap();
    c.bench_function("plan one exact request", |b| {
        b.iter(|| choose(&index, black_box(mid), Tolerance::ZERO).unwrap())
    });
    let thumbnails: Vec<Target> = (0..720)
        .map(|i| Target::Time(Time::from_secs(i * 10), Tolerance::INFINITE))
        .collect();
    c.bench_function("plan 720 thumbnails (every 10 s of 2 h)", |b| {
        b.iter(|| plan(&index, black_box(&thumbnails)))
    });
}

criterion_group!(planner, benches);
criterion_main!(planner);
