//! Decoding the fixtures of `tests/fixtures/vp9` (made by its `make.sh`) against
//! ffmpeg's native vp9 decoder, frame by frame.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{assert_bit_exact, decode_all, fixture, frame_md5, open, reference};
use stillframe_core::{
    ChromaFormat, Codec, ColourDescription, Error, ErrorKind, Limits, Packet, PacketInspector,
    VideoDecoder,
};
use stillframe_vp9::{FrameHeader, Superframe, Vp9Decoder, Vp9Inspector};

const FIXTURES: [&str; 7] = [
    "vp9_altref.webm",
    "vp9_multiarf.webm",
    "vp9_10bit.mp4",
    "vp9_resize.webm",
    "vp9_444.webm",
    "vp9_422_10bit.webm",
    "vp9_temporal.webm",
];

fn decoder(name: &str) -> (Vp9Decoder, Vec<Packet>) {
    let (track, packets) = open(&fixture(name));
    (
        Vp9Decoder::new(&track, &Limits::default()).unwrap(),
        packets,
    )
}

/// A profile 0 key frame header of `width` × `height` (8-bit, unknown colour
/// space), followed by zeros where the compressed header would be.
fn key_frame(width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width - 1, height - 1);
    // color_space 0, color_range 0, the 16-bit sizes, render_size 0, padding.
    let bits: u64 = (u64::from(w) << 16 | u64::from(h)) << 4;
    let mut out = vec![0x82, 0x49, 0x83, 0x42];
    out.extend_from_slice(&bits.to_be_bytes()[3..]);
    out.extend_from_slice(&[0; 16]);
    out
}

#[test]
fn the_hand_made_key_frame_header_reads_back() {
    let header = FrameHeader::parse(&key_frame(16384, 1080)).unwrap();
    assert_eq!(header.coded().unwrap().explicit_size(), Some((16384, 1080)));
}

#[test]
fn every_fixture_is_bit_exact_with_the_right_pts() {
    for name in FIXTURES {
        let (mut decoder, packets) = decoder(name);
        let frames = decode_all(&mut decoder, &packets).unwrap();
        assert_bit_exact(name, &frames, 0);
    }
}

#[test]
fn hidden_frames_never_come_out() {
    for name in FIXTURES {
        let (mut decoder, packets) = decoder(name);
        let mut hidden = 0;
        for packet in &packets {
            let superframe = Superframe::parse(&packet.data).unwrap();
            hidden += superframe.frames.iter().filter(|f| !f.is_shown()).count();
            decoder.send_packet(packet).unwrap();
            let mut frames = Vec::new();
            while let Some(frame) = decoder.receive_frame().unwrap() {
                frames.push(frame);
            }
            // One frame per packet that shows one, with the packet's pts.
            let shows = superframe.frames.iter().any(FrameHeader::is_shown);
            assert_eq!(frames.len(), usize::from(shows), "{name}: {packet:?}");
            assert!(frames.iter().all(|f| f.pts == packet.pts));
        }
        if name != "vp9_temporal.webm" {
            assert!(hidden > 0, "{name} has no hidden frames to test with");
        }
    }
}

#[test]
fn show_existing_frame_shows_a_slot_again_with_its_own_pts() {
    let name = "vp9_multiarf.webm";
    let (mut decoder, packets) = decoder(name);
    let shown_again: Vec<i64> = packets
        .iter()
        .filter(|p| {
            matches!(
                Superframe::parse(&p.data).unwrap().frames[..],
                [FrameHeader::ShowExisting(_)]
            )
        })
        .map(|p| p.pts)
        .collect();
    assert!(shown_again.len() > 10, "{name}: {shown_again:?}");
    let frames = decode_all(&mut decoder, &packets).unwrap();
    for pts in shown_again {
        assert_eq!(frames.iter().filter(|f| f.pts == pts).count(), 1);
    }
    assert_bit_exact(name, &frames, 0);
}

#[test]
fn random_access_points_start_with_a_key_frame() {
    for name in FIXTURES {
        let (track, packets) = open(&fixture(name));
        let inspector = Vp9Inspector::new(&track).unwrap();
        let found: Vec<usize> = (0..packets.len())
            .filter(|&i| inspector.inspect(&packets[i]).random_access)
            .collect();
        let expected = reference(name).random_access;
        assert_eq!(found, expected, "{name}");
        assert_eq!(found[0], 0, "{name}");
        // The container agrees here (no hidden key frames, no intra-only frames).
        let sync: Vec<usize> = (0..packets.len()).filter(|&i| packets[i].sync).collect();
        assert_eq!(found, sync, "{name}");
    }
}

#[test]
fn decoding_from_each_key_frame_gives_what_ffmpeg_gives_from_there() {
    for name in FIXTURES {
        let (mut decoder, packets) = decoder(name);
        let reference = reference(name);
        for &from in &reference.random_access {
            // Leave the decoder mid-stream first, so the reset has work to do.
            decode_all(&mut decoder, &packets[..3]).unwrap();
            decoder.reset().unwrap();
            let frames = decode_all(&mut decoder, &packets[from..]).unwrap();
            let first = reference
                .frames
                .iter()
                .position(|f| f.pts == packets[from].pts)
                .unwrap();
            assert_bit_exact(name, &frames, first);
        }
    }
}

#[test]
fn starting_after_a_key_frame_is_an_error_not_a_wrong_picture() {
    let (mut decoder, packets) = decoder("vp9_altref.webm");
    for packet in &packets[1..25] {
        let error = decoder.send_packet(packet).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Codec, "{error}");
        assert!(error.to_string().contains("reference slot"), "{error}");
        assert_eq!(decoder.receive_frame().unwrap(), None);
    }
    // The next key frame decodes without a reset.
    let frames = decode_all(&mut decoder, &packets[25..]).unwrap();
    assert_bit_exact("vp9_altref.webm", &frames, 25);
}

#[test]
fn no_chunk_is_discardable_because_skipping_one_changes_later_frames() {
    // Every other frame of the temporal-layer fixture refreshes no reference slot.
    let name = "vp9_temporal.webm";
    let (track, packets) = open(&fixture(name));
    let inspector = Vp9Inspector::new(&track).unwrap();
    assert!(packets.iter().all(|p| !inspector.inspect(p).discardable));
    let no_slot: Vec<bool> = packets
        .iter()
        .map(|p| Superframe::parse(&p.data).unwrap().refreshes_no_slot())
        .collect();
    assert_eq!(no_slot.iter().filter(|&&n| n).count(), packets.len() / 2);
    // Skipping them anyway: the later frames are no longer ffmpeg's, because each
    // frame predicts motion vectors from the frame decoded before it.
    let kept: Vec<Packet> = packets
        .iter()
        .zip(&no_slot)
        .filter(|(_, &skip)| !skip)
        .map(|(p, _)| p.clone())
        .collect();
    let mut decoder = Vp9Decoder::new(&track, &Limits::default()).unwrap();
    let frames = decode_all(&mut decoder, &kept).unwrap();
    let expected = reference(name).frames;
    let differing = frames
        .iter()
        .filter(|frame| {
            let want = expected.iter().find(|e| e.pts == frame.pts).unwrap();
            frame_md5(frame) != want.md5
        })
        .count();
    assert!(
        differing > frames.len() / 2,
        "{differing} of {}",
        frames.len()
    );
}

#[test]
fn formats_come_from_the_track_then_from_key_frames() {
    let cases = [
        ("vp9_altref.webm", "Profile 0", 8, ChromaFormat::Yuv420),
        ("vp9_10bit.mp4", "Profile 2", 10, ChromaFormat::Yuv420),
        ("vp9_444.webm", "Profile 1", 8, ChromaFormat::Yuv444),
        ("vp9_422_10bit.webm", "Profile 3", 10, ChromaFormat::Yuv422),
    ];
    for (name, profile, bit_depth, chroma) in cases {
        let (track, packets) = open(&fixture(name));
        let inspected = stillframe_vp9::inspect(&track, &Limits::default()).unwrap();
        assert_eq!(
            (inspected.width, inspected.height),
            (
                track.video.as_ref().unwrap().width,
                track.video.as_ref().unwrap().height
            )
        );
        let mut decoder = Vp9Decoder::new(&track, &Limits::default()).unwrap();
        assert_eq!(decoder.format(), &inspected, "{name}");
        let frame = decode_all(&mut decoder, &packets[..1]).unwrap().remove(0);
        let format = decoder.format().clone();
        assert_eq!(
            (format.profile.as_str(), format.bit_depth, format.chroma),
            (profile, bit_depth, chroma),
            "{name}"
        );
        // ffmpeg 5.1 writes a vpcC in MP4 but no CodecPrivate in WebM.
        if name.ends_with(".mp4") {
            assert_eq!(
                (
                    inspected.profile.as_str(),
                    inspected.bit_depth,
                    inspected.chroma
                ),
                (profile, bit_depth, chroma),
                "{name}: inspect"
            );
        } else {
            assert!(track.codec_config.is_empty(), "{name}");
            assert_eq!(inspected.profile, "unknown", "{name}");
        }
        assert_eq!((frame.width, frame.height), (format.width, format.height));
        assert_eq!(
            (frame.format.bit_depth, frame.format.chroma),
            (bit_depth, chroma)
        );
        let bytes = if bit_depth > 8 { 2 } else { 1 };
        assert_eq!(frame.planes.len(), 3);
        assert_eq!(frame.planes[0].stride, frame.width as usize * bytes);
        decoder.reset().unwrap();
        assert_eq!(decoder.format(), &inspected, "{name}: after reset");
    }
}

#[test]
fn resolution_changes_at_a_key_frame() {
    let name = "vp9_resize.webm";
    let (mut decoder, packets) = decoder(name);
    let frames = decode_all(&mut decoder, &packets).unwrap();
    let sizes: Vec<(u32, u32)> = frames.iter().map(|f| (f.width, f.height)).collect();
    assert_eq!(sizes[..25], [(320, 240); 25]);
    assert_eq!(sizes[25..], [(175, 143); 25]);
    // Odd sizes round chroma up.
    let last = frames.last().unwrap();
    assert_eq!((last.planes[1].width, last.planes[1].height), (88, 72));
    assert_eq!(
        (decoder.format().width, decoder.format().height),
        (175, 143)
    );
    assert_bit_exact(name, &frames, 0);
}

#[test]
fn colour_comes_from_the_frame_header_and_the_container() {
    let (mut tagged, packets) = decoder("vp9_10bit.mp4");
    let frames = decode_all(&mut tagged, &packets[..3]).unwrap();
    let bt709_full = ColourDescription {
        primaries: 1,
        transfer: 1,
        matrix: 1,
        full_range: Some(true),
    };
    assert!(frames.iter().all(|f| f.colour == bt709_full));
    assert_eq!(tagged.format().colour, bt709_full);
    // Untagged: libvpx codes CS_UNKNOWN and studio range.
    let (mut untagged, packets) = decoder("vp9_altref.webm");
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
fn the_track_is_checked_when_the_decoder_is_made() {
    let (track, _) = open(&fixture("vp9_altref.webm"));
    let small = Limits {
        max_pixels: 100 * 100,
        ..Limits::default()
    };
    assert_eq!(
        Vp9Decoder::new(&track, &small).unwrap_err().kind(),
        ErrorKind::Limit
    );
    assert_eq!(
        stillframe_vp9::inspect(&track, &small).unwrap_err().kind(),
        ErrorKind::Limit
    );
    let mut h264 = track.clone();
    h264.codec = Codec::H264;
    assert_eq!(
        Vp9Decoder::new(&h264, &Limits::default())
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
    let mut broken = track;
    broken.codec_config = vec![1, 5, 0];
    assert_eq!(
        Vp9Decoder::new(&broken, &Limits::default())
            .unwrap_err()
            .kind(),
        ErrorKind::Malformed
    );
}

#[test]
fn key_frame_sizes_are_checked_before_rusty_vp9_sees_them() {
    let (mut track, packets) = open(&fixture("vp9_altref.webm"));
    // Without a container size, only the key frames can be checked.
    track.video.as_mut().unwrap().width = 0;
    track.video.as_mut().unwrap().height = 0;
    let send = |decoder: &mut Vp9Decoder, data: Vec<u8>| {
        decoder.send_packet(&Packet {
            data,
            ..packets[0].clone()
        })
    };
    let mut decoder = Vp9Decoder::new(&track, &Limits::default()).unwrap();
    // A header alone would be a codec error in rusty_vp9 (no compressed header):
    // a limit error shows it never got there.
    for (width, height, what) in [
        (16384, 16384, "decoder memory in bytes"),
        (65536, 65536, "picture size in pixels"),
    ] {
        match send(&mut decoder, key_frame(width, height)) {
            Err(Error::Limit { what: said, .. }) => assert_eq!(said, what),
            other => panic!("{width}x{height}: {other:?}"),
        }
        assert_eq!(decoder.receive_frame().unwrap(), None);
    }
    // A small max_pixels refuses the fixture's own key frame.
    let small = Limits {
        max_pixels: 300 * 200,
        ..Limits::default()
    };
    let mut decoder = Vp9Decoder::new(&track, &small).unwrap();
    let error = decoder.send_packet(&packets[0]).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Limit {
                value: 76800,
                limit: 60000,
                ..
            }
        ),
        "{error}"
    );
    // A tight memory budget refuses it too.
    let tight = Limits {
        max_decoder_bytes: 1 << 20,
        ..Limits::default()
    };
    let mut decoder = Vp9Decoder::new(&track, &tight).unwrap();
    let error = decoder.send_packet(&packets[0]).unwrap_err();
    assert!(matches!(
        error,
        Error::Limit {
            what: "decoder memory in bytes",
            ..
        }
    ));
    // The estimate admits the real stream under the default budget.
    let mut decoder = Vp9Decoder::new(&track, &Limits::default()).unwrap();
    decoder.reset().unwrap();
    let frames = decode_all(&mut decoder, &packets).unwrap();
    assert_bit_exact("vp9_altref.webm", &frames, 0);
}

#[test]
fn what_rusty_vp9_cannot_decode_is_unsupported_for_good() {
    let (_, packets) = open(&fixture("vp9_altref.webm"));
    let (track, _) = open(&fixture("vp9_altref.webm"));
    // Above rusty_vp9's 2^26 samples, with no limits of ours in the way.
    let mut decoder = Vp9Decoder::new(&track, &Limits::UNLIMITED).unwrap();
    let huge = Packet {
        data: key_frame(16384, 8192),
        ..packets[0].clone()
    };
    let error = decoder.send_packet(&huge).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    decoder.reset().unwrap();
    assert_eq!(
        decoder.send_packet(&packets[0]).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    // 4:4:0, which a Frame cannot hold.
    let (track, packets) = open(&fixture("unsupported_440.mkv"));
    let mut decoder = Vp9Decoder::new(&track, &Limits::default()).unwrap();
    let error = decoder.send_packet(&packets[0]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    assert!(error.to_string().contains("4:4:0"), "{error}");
    assert!(decoder.send_packet(&packets[1]).is_err());
}

#[test]
fn corrupt_packets_give_typed_errors_and_reset_recovers() {
    let (mut decoder, packets) = decoder("vp9_altref.webm");
    let mut corrupt = packets[0].clone();
    for byte in corrupt.data.iter_mut().skip(20) {
        *byte ^= 0x5a;
    }
    let mut truncated = packets[0].clone();
    truncated.data.truncate(40);
    let mut bad_index = packets[1].clone();
    let last = bad_index.data.len() - 2;
    bad_index.data[last] = 0xff; // the shown frame's size runs into the index
    for bad in [corrupt, truncated, bad_index] {
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
    assert_bit_exact("vp9_altref.webm", &frames, 0);
}

#[test]
fn empty_packets_are_nothing() {
    let (mut decoder, packets) = decoder("vp9_altref.webm");
    decoder
        .send_packet(&Packet {
            data: Vec::new(),
            ..packets[0].clone()
        })
        .unwrap();
    assert_eq!(decoder.receive_frame().unwrap(), None);
    let frames = decode_all(&mut decoder, &packets).unwrap();
    assert_bit_exact("vp9_altref.webm", &frames, 0);
}
