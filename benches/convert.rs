//! Rendering speed on one core: colour conversion of a 1080p frame (the bound:
//! 8-bit 4:2:0 → RGB8 in ≤ 2 ms), the precise and HDR paths, and scaling against
//! `image::imageops`.
//!
//! `cargo bench --bench convert` (add `-- --quick` for a fast look).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use image::imageops::{self, FilterType};
use stillframe::{convert, ColourDescription, DynamicRangePolicy, OutputFormat, RenderSettings};
use stillframe_core::{ChromaFormat, Frame, PixelFormat, Plane};

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;

/// A smooth, colourful 1080p picture: diagonal gradients in every plane, rows padded
/// to a 64-byte stride as decoders lay them out.
fn frame(bit_depth: u8, colour: ColourDescription) -> Frame {
    let bytes = if bit_depth > 8 { 2 } else { 1 };
    let max = (1u32 << bit_depth) - 1;
    let plane = |w: u32, h: u32, phase: u32| {
        let stride = (w as usize * bytes).div_ceil(64) * 64;
        let mut data = vec![0u8; stride * h as usize];
        for y in 0..h {
            for x in 0..w {
                let value = ((x * 3 + y * 5 + phase) % (max + 1)) as u16;
                let at = y as usize * stride + x as usize * bytes;
                if bytes == 2 {
                    data[at..at + 2].copy_from_slice(&value.to_le_bytes());
                } else {
                    data[at] = value as u8;
                }
            }
        }
        Plane {
            data,
            stride,
            width: w as usize,
            height: h as usize,
        }
    };
    Frame {
        pts: 0,
        width: WIDTH,
        height: HEIGHT,
        format: PixelFormat {
            chroma: ChromaFormat::Yuv420,
            bit_depth,
        },
        planes: vec![
            plane(WIDTH, HEIGHT, 0),
            plane(WIDTH / 2, HEIGHT / 2, 40),
            plane(WIDTH / 2, HEIGHT / 2, 90),
        ],
        colour,
        damage: None,
    }
}

fn colour(primaries: u8, transfer: u8, matrix: u8) -> ColourDescription {
    ColourDescription {
        primaries,
        transfer,
        matrix,
        full_range: Some(false),
    }
}

fn settings(output_format: OutputFormat) -> RenderSettings {
    RenderSettings {
        output_format,
        ..RenderSettings::default()
    }
}

fn conversion(c: &mut Criterion) {
    let mut group = c.benchmark_group("convert 1080p");
    let sdr8 = frame(8, colour(1, 1, 1));
    group.bench_function("8-bit 4:2:0 → RGB8 (interpolated chroma)", |b| {
        let rgb8 = settings(OutputFormat::Rgb8);
        b.iter(|| convert(black_box(&sdr8), &rgb8).unwrap())
    });
    group.bench_function(
        "8-bit 4:2:0 → RGB8 (yuvutils nearest chroma, for scale)",
        |b| {
            let (y, u, v) = (&sdr8.planes[0], &sdr8.planes[1], &sdr8.planes[2]);
            let image = yuvutils_rs::YuvPlanarImage {
                y_plane: &y.data,
                y_stride: y.stride as u32,
                u_plane: &u.data,
                u_stride: u.stride as u32,
                v_plane: &v.data,
                v_stride: v.stride as u32,
                width: WIDTH,
                height: HEIGHT,
            };
            b.iter(|| {
                let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
                yuvutils_rs::yuv420_to_rgb(
                    black_box(&image),
                    &mut rgb,
                    WIDTH * 3,
                    yuvutils_rs::YuvRange::Limited,
                    yuvutils_rs::YuvStandardMatrix::Bt709,
                )
                .unwrap();
                rgb
            })
        },
    );
    group.bench_function("8-bit 4:2:0 → RGB16", |b| {
        let rgb16 = settings(OutputFormat::Rgb16);
        b.iter(|| convert(black_box(&sdr8), &rgb16).unwrap())
    });
    group.bench_function("8-bit 4:2:0 → Luma8", |b| {
        let luma = settings(OutputFormat::Luma8);
        b.iter(|| convert(black_box(&sdr8), &luma).unwrap())
    });
    let sdr10 = frame(10, colour(1, 1, 1));
    group.bench_function("10-bit 4:2:0 → RGB8", |b| {
        let rgb8 = settings(OutputFormat::Rgb8);
        b.iter(|| convert(black_box(&sdr10), &rgb8).unwrap())
    });
    group.bench_function("10-bit 4:2:0 → RGB16", |b| {
        let rgb16 = settings(OutputFormat::Rgb16);
        b.iter(|| convert(black_box(&sdr10), &rgb16).unwrap())
    });
    let pq = frame(10, colour(9, 16, 9));
    group.bench_function("10-bit PQ → RGB8 tone-mapped", |b| {
        let rgb8 = settings(OutputFormat::Rgb8);
        b.iter(|| convert(black_box(&pq), &rgb8).unwrap())
    });
    group.bench_function("10-bit PQ → RGB16 kept (MatchSource)", |b| {
        let kept = RenderSettings {
            dynamic_range_policy: DynamicRangePolicy::MatchSource,
            ..settings(OutputFormat::Rgb16)
        };
        b.iter(|| convert(black_box(&pq), &kept).unwrap())
    });
    group.finish();
}

fn scaling(c: &mut Criterion) {
    let sdr8 = frame(8, colour(1, 1, 1));
    let picture = convert(&sdr8, &settings(OutputFormat::Rgb8)).unwrap().image;
    let rgb = picture.to_rgb8();
    let mut group = c.benchmark_group("scale 1080p RGB8 → 320×180");
    group.bench_function("stillframe::resize_image (Lanczos3)", |b| {
        b.iter(|| stillframe::resize_image(black_box(&picture), 320, 180).unwrap())
    });
    group.bench_function("image::imageops::resize Lanczos3", |b| {
        b.iter(|| imageops::resize(black_box(&rgb), 320, 180, FilterType::Lanczos3))
    });
    group.bench_function("image::imageops::resize Triangle", |b| {
        b.iter(|| imageops::resize(black_box(&rgb), 320, 180, FilterType::Triangle))
    });
    group.finish();
}

criterion_group!(benches, conversion, scaling);
criterion_main!(benches);
