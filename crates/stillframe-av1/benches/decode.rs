//! 1080p AV1 decoding with the backend this build has (rav1d, rav1d + asm, or
//! libdav1d), in frames per second of wall time (criterion) and frames per
//! CPU-second (printed after criterion's figures, Linux only).
//!
//! Make the clip first: `tests/fixtures/av1/make.sh --bench` (SVT-AV1, 1920x1080,
//! 120 frames, git-ignored). Then compare the backends in one session:
//! ```sh
//! cargo bench -p stillframe-av1 --features asm
//! cargo bench -p stillframe-av1 --no-default-features --features dav1d
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{criterion_main, Criterion, Throughput};
use stillframe_av1::{Av1Decoder, Av1Options};
use stillframe_core::{Demuxer, Limits, Packet, TrackInfo, TrackKind, VideoDecoder};

fn clip() -> Option<(TrackInfo, Vec<Packet>)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/av1/bench/bench_1080p.mp4");
    let file = std::fs::File::open(&path).ok()?;
    let mut demuxer = stillframe_mp4::Mp4Demuxer::open(file, Limits::default()).unwrap();
    let track = demuxer
        .tracks()
        .iter()
        .find(|t| t.kind == TrackKind::Video)?
        .clone();
    let count = demuxer.samples(track.index).unwrap().len() as u32;
    let packets = (0..count)
        .map(|sample| demuxer.read_sample(track.index, sample).unwrap())
        .collect();
    Some((track, packets))
}

/// Decodes every packet; returns the frames out.
fn decode(track: &TrackInfo, packets: &[Packet], options: Av1Options) -> usize {
    let mut decoder = Av1Decoder::with_options(track, &Limits::default(), options).unwrap();
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
    frames
}

/// User + system CPU time of this process (all threads), from /proc/self/stat.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux target we build for.
    Some(Duration::from_millis(ticks * 10))
}

const CONFIGS: [(&str, Av1Options); 2] = [
    (
        "seek: 1 thread, 1 frame delay",
        Av1Options {
            threads: 1,
            max_frame_delay: 1,
        },
    ),
    (
        "run: 2 threads, automatic delay",
        Av1Options {
            threads: 2,
            max_frame_delay: 0,
        },
    ),
];

fn bench(c: &mut Criterion) {
    let Some((track, packets)) = clip() else {
        eprintln!("no bench clip: run tests/fixtures/av1/make.sh --bench first");
        return;
    };
    let backend = Av1Decoder::backend();
    let asm = if cfg!(feature = "asm") { "+asm" } else { "" };
    let mut group = c.benchmark_group(format!("decode_1080p/{backend}{asm}"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(packets.len() as u64));
    for (name, options) in CONFIGS {
        group.bench_function(name, |b| b.iter(|| decode(&track, &packets, options)));
    }
    group.finish();
    for (name, options) in CONFIGS {
        let (wall, cpu) = (Instant::now(), cpu_time());
        let mut frames = 0;
        for _ in 0..5 {
            frames += decode(&track, &packets, options);
        }
        let wall = wall.elapsed().as_secs_f64();
        let cpu = cpu.zip(cpu_time()).map(|(a, b)| (b - a).as_secs_f64());
        println!(
            "{backend}{asm} [{name}]: {frames} frames, {:.1} frames/s, {} frames per CPU-second",
            frames as f64 / wall,
            cpu.map_or("?".to_owned(), |cpu| format!("{:.1}", frames as f64 / cpu))
        );
    }
}

// criterion's macros write undocumented items.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(group::benches);
