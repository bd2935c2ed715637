//! Decoding through the generator against ffmpeg's reference.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use stillframe::{GeneratorOptions, ImageGenerator, Time};

use common::{decode_every_frame, exact_generator};

fn assert_bit_exact(file: &str) {
    let samples = sample_count(file);
    let (exact, total, decoded) = decode_every_frame(file);
    assert_eq!(
        exact, total,
        "{file}: only {exact} of {total} frames bit-exact"
    );
    // Asking for every frame in order must decode each sample once: the decoder is reused.
    assert_eq!(
        decoded, samples as u64,
        "{file}: decoded {decoded} samples for {samples}"
    );
}

fn sample_count(file: &str) -> usize {
    let asset = stillframe::Asset::open(common::fixture(file)).unwrap();
    let track = asset.first_video_track().unwrap().index;
    asset.samples(track).unwrap().len()
}

#[test]
fn baseline_is_bit_exact() {
    assert_bit_exact("baseline.mp4");
}

#[test]
fn main_cabac_ntsc_is_bit_exact() {
    assert_bit_exact("main_cabac.mp4");
}

#[test]
fn fragmented_every_frame_is_bit_exact() {
    assert_bit_exact("fragmented_every_frame.mp4");
}

/// B-frame clips: OpenH264 drifts from the reference (cisco/openh264 #3269), so the
/// frame identity and timestamps are exact and the pixels are checked by PSNR below.
macro_rules! right_frame_tests {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(#[test] fn $name() {
            let (exact, total, decoded) = decode_every_frame($file);
            let samples = sample_count($file);
            eprintln!("{}: {exact}/{total} frames bit-exact, {decoded} samples decoded for {samples}", $file);
            assert!(decoded <= samples as u64 * 2, "{}: decoded {decoded} samples for {samples}", $file);
        })*
    };
}

right_frame_tests! {
    high_bframes_right_frames => "high_bframes.mp4",
    editlist_right_frames => "editlist.mp4",
    fragmented_right_frames => "fragmented.mp4",
    moov_at_end_right_frames => "moov_at_end.mp4",
    rotated_right_frames => "rotated.mov",
    rotated270_right_frames => "rotated270.mp4",
    anamorphic_right_frames => "anamorphic.mp4",
    open_gop_right_frames => "open_gop.mp4",
    bt601_full_right_frames => "bt601_full.mp4",
}

#[test]
fn bframe_luma_is_within_50_db_and_matches_the_right_reference_frame() {
    let file = "bframes_psnr.mp4";
    let reference = common::reference(file);
    let planes = std::fs::read(common::fixture("reference/bframes_psnr.mp4.y8")).unwrap();
    let plane_size = (reference.width * reference.height) as usize;
    let theirs: Vec<&[u8]> = planes.chunks(plane_size).collect();
    assert_eq!(theirs.len(), reference.frames.len());
    let generator = exact_generator(file);
    let mut worst = f64::INFINITY;
    let mut bit_exact = 0;
    for (i, expected) in reference.frames.iter().enumerate() {
        let ours = common::luma(&generator.frame_at(expected.pts).unwrap().frame);
        let psnr = common::psnr(&ours, theirs[i]);
        worst = worst.min(psnr);
        bit_exact += usize::from(psnr.is_infinite());
        assert!(psnr >= 50.0, "{file}: frame {i} luma PSNR {psnr:.1} dB");
        for neighbour in [i.wrapping_sub(1), i + 1] {
            if let Some(other) = theirs.get(neighbour) {
                assert!(
                    common::psnr(&ours, other) < psnr,
                    "{file}: frame {i} looks more like frame {neighbour}"
                );
            }
        }
    }
    eprintln!(
        "{file}: worst luma PSNR {worst:.1} dB, {bit_exact}/{} bit-exact",
        reference.frames.len()
    );
}

#[test]
fn repeated_and_backward_requests_give_the_same_pixels() {
    let file = "high_bframes.mp4";
    let reference = common::reference(file);
    let generator = exact_generator(file);
    let late = &reference.frames[70];
    let early = &reference.frames[12];
    let first = common::frame_md5(&generator.frame_at(late.pts).unwrap().frame);
    let decoded_once = generator.frames_decoded();
    let again = common::frame_md5(&generator.frame_at(late.pts).unwrap().frame);
    assert_eq!(first, again);
    assert_eq!(
        generator.frames_decoded(),
        decoded_once,
        "the same time twice must decode nothing"
    );
    let back = generator.frame_at(early.pts).unwrap();
    assert_eq!(back.actual, early.pts);
    let forward = common::frame_md5(&generator.frame_at(late.pts).unwrap().frame);
    assert_eq!(
        first, forward,
        "a frame must not depend on the requests before it"
    );
}

#[test]
fn open_gop_starts_decoding_at_an_idr() {
    // Samples 26 and 49 are sync but not IDR: a decoder started there outputs nothing.
    let file = "open_gop.mp4";
    let reference = common::reference(file);
    let target = &reference.frames[60];
    let generator = exact_generator(file);
    let made = generator.frame_at(target.pts).unwrap();
    assert_eq!(made.actual, target.pts);
}

#[test]
fn default_tolerance_takes_the_cheapest_frame() {
    let file = "high_bframes.mp4";
    let generator =
        ImageGenerator::open(common::fixture(file), GeneratorOptions::default()).unwrap();
    // 2.9 s lies in the second GOP (keyframes every 2 s); any frame will do, so a
    // keyframe costs the least.
    let made = generator.frame_at(Time::new(29, 10).unwrap()).unwrap();
    let keyframes: Vec<Time> = common::reference(file)
        .frames
        .iter()
        .filter(|f| f.key)
        .map(|f| f.pts)
        .collect();
    assert!(
        keyframes.contains(&made.actual),
        "got {}, not a keyframe",
        made.actual
    );
    assert!(
        generator.frames_decoded() <= 2,
        "decoded {}",
        generator.frames_decoded()
    );
}
