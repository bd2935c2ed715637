//! Decoding the fixtures of `tests/fixtures/av1` (made by its `make.sh`) against
//! ffmpeg's libdav1d output, frame by frame.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{decode_all, fixture, frame_md5, open, reference};
use stillframe_av1::{Av1Decoder, Av1Inspector, Av1Options};
use stillframe_core::PacketInspector;
use stillframe_core::{
    ChromaFormat, Codec, ColourDescription, ErrorKind, Frame, Limits, Packet, VideoDecoder,
};

const FIXTURES: [&str; 10] = [
    "aom_420.mp4",
    "aom_420.webm",
    "aom_444.mp4",
    "aom_422.mp4",
    "aom_12bit.mp4",
    "aom_gray.mp4",
    "aom_grain.mp4",
    "svt_10bit.mp4",
    "svt_10bit_grain.webm",
    "svt_bt709_full.mp4",
];

fn track_of(name: &str) -> stillframe_core::TrackInfo {
    open(&fixture(name)).0
}

fn decoder(name: &str, options: Av1Options) -> (Av1Decoder, Vec<Packet>) {
    let (track, packets) = open(&fixture(name));
    let decoder = Av1Decoder::with_options(&track, &Limits::default(), options).unwrap();
    (decoder, packets)
}

/// Asserts `frames` are ffmpeg's frames from `first` on: count, pts, md5.
fn assert_bit_exact(name: &str, frames: &[Frame], first: usize) {
    let (expected, _) = reference(name);
    assert_eq!(frames.len(), expected.len() - first, "{name}: frame count");
    for (index, (frame, want)) in frames.iter().zip(&expected[first..]).enumerate() {
        assert_eq!(frame.pts, want.pts, "{name}: frame {index}: pts");
        assert_eq!(
            frame_md5(frame),
            want.md5,
            "{name}: frame {index} (pts {})",
            want.pts
        );
    }
}

#[test]
fn every_fixture_is_bit_exact_with_the_right_pts() {
    for name in FIXTURES {
        let (mut decoder, packets) = decoder(name, Av1Options::default());
        let frames = decode_all(&mut decoder, &packets).unwrap();
        assert_bit_exact(name, &frames, 0);
    }
}

#[test]
fn frame_threading_gives_the_same_frames() {
    // Several frames in flight: sends answered with EAGAIN and draining at the end.
    let options = Av1Options {
        threads: 4,
        max_frame_delay: 0,
    };
    for name in ["aom_420.mp4", "svt_10bit_grain.webm"] {
        let (mut decoder, packets) = decoder(name, options);
        let frames = decode_all(&mut decoder, &packets).unwrap();
        assert_bit_exact(name, &frames, 0);
    }
}

#[test]
fn formats_come_from_the_sequence_header() {
    let cases = [
        ("aom_420.mp4", "Main", 8, ChromaFormat::Yuv420),
        ("aom_444.mp4", "High", 8, ChromaFormat::Yuv444),
        ("aom_422.mp4", "Professional", 8, ChromaFormat::Yuv422),
        ("aom_12bit.mp4", "Professional", 12, ChromaFormat::Yuv420),
        ("aom_gray.mp4", "Main", 8, ChromaFormat::Monochrome),
        ("svt_10bit.mp4", "Main", 10, ChromaFormat::Yuv420),
        ("svt_10bit_grain.webm", "Main", 10, ChromaFormat::Yuv420),
    ];
    for (name, profile, bit_depth, chroma) in cases {
        let (track, packets) = open(&fixture(name));
        let format = stillframe_av1::inspect(&track, &Limits::default()).unwrap();
        assert_eq!(
            (format.profile.as_str(), format.bit_depth, format.chroma),
            (profile, bit_depth, chroma),
            "{name}"
        );
        let mut decoder = Av1Decoder::new(&track, &Limits::default()).unwrap();
        assert_eq!(decoder.format(), &format, "{name}");
        let frame = decode_all(&mut decoder, &packets[..1]).unwrap().remove(0);
        assert_eq!((frame.width, frame.height), (format.width, format.height));
        assert_eq!(
            (frame.format.bit_depth, frame.format.chroma),
            (bit_depth, chroma)
        );
        let planes = if chroma == ChromaFormat::Monochrome {
            1
        } else {
            3
        };
        assert_eq!(frame.planes.len(), planes, "{name}");
        let bytes = if bit_depth > 8 { 2 } else { 1 };
        assert_eq!(frame.planes[0].stride, frame.width as usize * bytes);
    }
}

#[test]
fn colour_description_reaches_the_frames() {
    let (mut full, packets) = decoder("svt_bt709_full.mp4", Av1Options::default());
    let bt709_full = ColourDescription {
        primaries: 1,
        transfer: 1,
        matrix: 1,
        full_range: Some(true),
    };
    assert_eq!(full.format().colour, bt709_full);
    let frames = decode_all(&mut full, &packets).unwrap();
    assert!(frames.iter().all(|frame| frame.colour == bt709_full));
    // Untagged: unspecified codes, limited range (the range bit is always coded).
    let (mut untagged, packets) = decoder("aom_420.mp4", Av1Options::default());
    let frame = decode_all(&mut untagged, &packets[..1]).unwrap().remove(0);
    assert_eq!(
        frame.colour,
        ColourDescription {
            full_range: Some(false),
            ..ColourDescription::UNSPECIFIED
        }
    );
}

#[test]
fn random_access_points_are_the_shown_key_frames() {
    for name in FIXTURES {
        let (_, packets) = decoder(name, Av1Options::default());
        let inspector = Av1Inspector::new(&track_of(name)).unwrap();
        let (_, keys) = reference(name);
        let found: Vec<usize> = (0..packets.len())
            .filter(|&i| inspector.inspect(&packets[i]).random_access)
            .collect();
        assert_eq!(found, keys, "{name}");
        assert!(!keys.is_empty());
    }
}

#[test]
fn decoding_restarts_at_a_later_key_frame_after_reset() {
    for name in ["aom_420.mp4", "svt_10bit.mp4", "aom_420.webm"] {
        let (mut decoder, packets) = decoder(name, Av1Options::default());
        decode_all(&mut decoder, &packets[..5]).unwrap();
        decoder.reset().unwrap();
        let (_, keys) = reference(name);
        let from = keys[1];
        let frames = decode_all(&mut decoder, &packets[from..]).unwrap();
        // In these streams each packet shows one frame, so packet `from` shows frame `from`.
        assert_bit_exact(name, &frames, from);
    }
}

#[test]
fn skipping_discardable_units_leaves_the_other_frames_exact() {
    let name = "aom_420.mp4";
    let (mut decoder, packets) = decoder(name, Av1Options::default());
    let inspector = Av1Inspector::new(&track_of(name)).unwrap();
    let (expected, _) = reference(name);
    let kept: Vec<Packet> = packets
        .iter()
        .filter(|p| !inspector.inspect(p).discardable)
        .cloned()
        .collect();
    assert!(kept.len() < packets.len(), "{name}: nothing discardable");
    let frames = decode_all(&mut decoder, &kept).unwrap();
    assert_eq!(frames.len(), kept.len());
    for frame in &frames {
        let want = expected.iter().find(|e| e.pts == frame.pts).unwrap();
        assert_eq!(frame_md5(frame), want.md5, "{name}: pts {}", frame.pts);
    }
}

#[test]
fn limits_and_codec_are_checked_before_decoding() {
    let (track, _) = open(&fixture("aom_420.mp4"));
    let small = Limits {
        max_pixels: 100 * 100,
        ..Limits::default()
    };
    let error = Av1Decoder::new(&track, &small).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Limit);
    assert_eq!(
        stillframe_av1::inspect(&track, &small).unwrap_err().kind(),
        ErrorKind::Limit
    );
    let mut h264 = track.clone();
    h264.codec = Codec::H264;
    assert_eq!(
        Av1Decoder::new(&h264, &Limits::default())
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
    let mut broken = track;
    broken.codec_config = vec![0x81, 0, 0];
    assert_eq!(
        Av1Decoder::new(&broken, &Limits::default())
            .unwrap_err()
            .kind(),
        ErrorKind::Malformed
    );
}

#[test]
fn corrupt_packets_give_typed_errors_and_reset_recovers() {
    let (mut decoder, packets) = decoder("aom_420.mp4", Av1Options::default());
    let mut corrupt = packets[0].clone();
    for byte in corrupt.data.iter_mut().skip(20) {
        *byte ^= 0x5a;
    }
    let mut truncated = packets[0].clone();
    truncated.data.truncate(40);
    for bad in [corrupt, truncated] {
        match decoder.send_packet(&bad) {
            Ok(()) => while decoder.receive_frame().unwrap().is_some() {},
            Err(error) => assert!(
                matches!(error.kind(), ErrorKind::Codec | ErrorKind::Malformed),
                "{error}"
            ),
        }
        decoder.reset().unwrap();
    }
    let frames = decode_all(&mut decoder, &packets).unwrap();
    assert_bit_exact("aom_420.mp4", &frames, 0);
}

#[test]
fn the_av1c_sequence_header_is_sent_when_samples_lack_one() {
    // Strip the sequence header OBU from every sample: the decoder must use the
    // av1C's, after reset too.
    let (track, packets) = open(&fixture("aom_420.mp4"));
    let stripped: Vec<Packet> = packets
        .iter()
        .map(|packet| {
            let mut out = packet.clone();
            out.data = stillframe_av1::split_obus(&packet.data)
                .unwrap()
                .iter()
                .filter(|obu| obu.obu_type != stillframe_av1::OBU_SEQUENCE_HEADER)
                .flat_map(|obu| obu.bytes.iter().copied())
                .collect();
            out
        })
        .collect();
    assert!(stripped[0].data.len() < packets[0].data.len());
    let mut decoder = Av1Decoder::new(&track, &Limits::default()).unwrap();
    let frames = decode_all(&mut decoder, &stripped).unwrap();
    assert_bit_exact("aom_420.mp4", &frames, 0);
    decoder.reset().unwrap();
    let frames = decode_all(&mut decoder, &stripped[12..]).unwrap();
    assert_bit_exact("aom_420.mp4", &frames, 12);
}
