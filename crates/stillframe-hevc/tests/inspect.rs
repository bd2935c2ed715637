//! The HEVC packet inspector on the fixtures: its entry points are the IRAP
//! pictures ffmpeg's packet list shows, and skipping what it calls discardable
//! leaves every other frame bit-exact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{decode_all, fixture, frame_md5, open, reference};
use stillframe_bitstream::hevc::HevcInspector;
use stillframe_core::{Limits, PacketInspector};
use stillframe_hevc::HevcDecoder;

const FIXTURES: [&str; 6] = [
    "hevc_main_rotated.mov",
    "hevc_main10_open_gop.mp4",
    "hevc_main.mkv",
    "hevc_odd_642x362.mp4",
    "hevc_radl.mp4",
    "hevc_temporal.mp4",
];

#[test]
fn entry_points_are_the_irap_pictures() {
    for name in FIXTURES {
        let (track, packets) = open(&fixture(name));
        let inspector = stillframe_bitstream::inspector_for(&track).unwrap();
        let found: Vec<usize> = (0..packets.len())
            .filter(|&i| inspector.inspect(&packets[i]).random_access)
            .collect();
        let expected: Vec<usize> = reference(name)
            .packets
            .iter()
            .enumerate()
            .filter(|(_, packet)| packet.irap)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(found, expected, "{name}");
    }
}

#[test]
fn skipping_discardable_packets_leaves_the_other_frames_exact() {
    let mut skipped_somewhere = 0;
    for name in FIXTURES {
        let (track, packets) = open(&fixture(name));
        let inspector = HevcInspector::new(&track).unwrap();
        let reference = reference(name);
        let discardable: Vec<bool> = packets
            .iter()
            .map(|packet| inspector.inspect(packet).discardable)
            .collect();
        // ffmpeg's rule: sub-layer non-reference pictures at the highest TemporalId.
        let highest = reference
            .packets
            .iter()
            .flat_map(|p| p.temporal_ids.iter().copied())
            .max()
            .unwrap();
        for (packet, &found) in reference.packets.iter().zip(&discardable) {
            let vcl: Vec<u8> = packet
                .nal_types
                .iter()
                .copied()
                .filter(|&t| t < 32)
                .collect();
            let expected = !vcl.is_empty()
                && vcl.iter().all(|&t| t <= 14 && t.is_multiple_of(2))
                && packet.temporal_ids.iter().all(|&tid| tid == highest);
            assert_eq!(found, expected, "{name}: packet at pts {}", packet.pts);
        }
        let kept: Vec<_> = packets
            .iter()
            .zip(&discardable)
            .filter(|(_, &discard)| !discard)
            .map(|(packet, _)| packet.clone())
            .collect();
        skipped_somewhere += packets.len() - kept.len();
        let skipped: BTreeSet<i64> = packets
            .iter()
            .zip(&discardable)
            .filter(|(_, &discard)| discard)
            .map(|(packet, _)| packet.pts)
            .collect();
        let mut decoder = HevcDecoder::new(&track, &Limits::default()).unwrap();
        let frames = decode_all(&mut decoder, &kept).unwrap();
        let expected: Vec<_> = reference
            .frames
            .iter()
            .filter(|frame| !skipped.contains(&frame.pts))
            .collect();
        assert_eq!(frames.len(), expected.len(), "{name}");
        for (frame, want) in frames.iter().zip(expected) {
            assert_eq!(frame.pts, want.pts, "{name}");
            assert_eq!(frame_md5(frame), want.md5, "{name}: pts {}", want.pts);
        }
    }
    assert!(skipped_somewhere > 0, "no fixture had a discardable packet");
}

#[test]
fn in_the_temporal_fixture_only_the_top_sub_layer_is_discardable() {
    let name = "hevc_temporal.mp4";
    let (track, packets) = open(&fixture(name));
    let inspector = HevcInspector::new(&track).unwrap();
    let reference = reference(name);
    let mut top = 0;
    for (packet, info) in packets.iter().zip(&reference.packets) {
        let discardable = inspector.inspect(packet).discardable;
        // TSA_N at TemporalId 1 are discardable; TRAIL_N at 0 would not be.
        assert_eq!(discardable, info.temporal_ids == [1], "pts {}", info.pts);
        top += usize::from(discardable);
    }
    assert!(top > 5, "{top}");
}
