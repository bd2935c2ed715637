//! Decoding the fixtures of `tests/fixtures/hevc` (made by its `make.sh`) against
//! ffmpeg's own HEVC decoder, frame by frame: md5 and timestamp of every frame,
//! random access at every IRAP picture, and what the adapter refuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{decode_all, fixture, frame_md5, hvcc, main_sps, open, reference, with_config};
use stillframe_bitstream::hevc::{parse_hvcc, NAL_PPS, NAL_SPS, NAL_VPS};
use stillframe_core::{
    ChromaFormat, ColourDescription, Crop, Error, ErrorKind, Frame, Limits, Packet, PixelAspect,
    VideoDecoder,
};
use stillframe_hevc::HevcDecoder;

/// Every fixture the decoder supports.
const DECODABLE: [&str; 6] = [
    "hevc_main_rotated.mov",
    "hevc_main10_open_gop.mp4",
    "hevc_main.mkv",
    "hevc_odd_642x362.mp4",
    "hevc_radl.mp4",
    "hevc_temporal.mp4",
];

fn open_decoder(name: &str) -> (HevcDecoder, Vec<Packet>) {
    let (track, packets) = open(&fixture(name));
    let decoder = HevcDecoder::new(&track, &Limits::default()).unwrap();
    (decoder, packets)
}

/// Asserts `frames` are exactly ffmpeg's frames whose pts are in `wanted` (all of
/// them when `None`), in presentation order, bit-exact and undamaged.
fn assert_frames(name: &str, frames: &[Frame], wanted: Option<&BTreeSet<i64>>) {
    let reference = reference(name);
    let expected: Vec<_> = reference
        .frames
        .iter()
        .filter(|f| wanted.is_none_or(|wanted| wanted.contains(&f.pts)))
        .collect();
    let got: Vec<i64> = frames.iter().map(|f| f.pts).collect();
    let want: Vec<i64> = expected.iter().map(|f| f.pts).collect();
    assert_eq!(got, want, "{name}: frame timestamps");
    for (frame, want) in frames.iter().zip(&expected) {
        assert_eq!(
            frame_md5(frame),
            want.md5,
            "{name}: frame at pts {}",
            want.pts
        );
        assert_eq!(frame.damage, None, "{name}: frame at pts {}", want.pts);
    }
}

#[test]
fn every_fixture_is_bit_exact_at_ffmpegs_timestamps() {
    for name in DECODABLE {
        let (mut decoder, packets) = open_decoder(name);
        let frames = decode_all(&mut decoder, &packets).unwrap();
        assert!(!frames.is_empty(), "{name}");
        assert_frames(name, &frames, None);
    }
}

/// The pts of the frames decodable when decoding starts at the IRAP picture of
/// packet `start`: every packet from there on except the RASL pictures of that
/// entry (those before the next IRAP picture).
fn decodable_from(name: &str, start: usize) -> BTreeSet<i64> {
    entry_rasl_and_rest(name, start).1
}

/// The pts of the entry's RASL pictures, and of every other packet from `start` on.
fn entry_rasl_and_rest(name: &str, start: usize) -> (BTreeSet<i64>, BTreeSet<i64>) {
    let packets = &reference(name).packets[start..];
    let next_irap = (1..packets.len())
        .find(|&i| packets[i].irap)
        .unwrap_or(packets.len());
    packets.iter().enumerate().partition_map_pts(next_irap)
}

trait PartitionPts {
    fn partition_map_pts(self, next_irap: usize) -> (BTreeSet<i64>, BTreeSet<i64>);
}

impl<'a, I: Iterator<Item = (usize, &'a common::ReferencePacket)>> PartitionPts for I {
    fn partition_map_pts(self, next_irap: usize) -> (BTreeSet<i64>, BTreeSet<i64>) {
        let (mut rasl, mut rest) = (BTreeSet::new(), BTreeSet::new());
        for (index, packet) in self {
            if index < next_irap && packet.is_rasl() {
                rasl.insert(packet.pts);
            } else {
                rest.insert(packet.pts);
            }
        }
        (rasl, rest)
    }
}

#[test]
fn starting_at_each_irap_gives_ffmpegs_frames_without_the_rasl_ones() {
    for name in ["hevc_main10_open_gop.mp4", "hevc_radl.mp4", "hevc_main.mkv"] {
        let reference = reference(name);
        let iraps: Vec<usize> = (0..reference.packets.len())
            .filter(|&i| reference.packets[i].irap)
            .collect();
        assert!(iraps.len() >= 2, "{name}: {iraps:?}");
        let (mut decoder, packets) = open_decoder(name);
        for &start in &iraps {
            decoder.reset().unwrap();
            let frames = decode_all(&mut decoder, &packets[start..]).unwrap();
            let (rasl, wanted) = entry_rasl_and_rest(name, start);
            assert_frames(name, &frames, Some(&wanted));
            assert!(
                frames.iter().all(|frame| !rasl.contains(&frame.pts)),
                "{name}: a RASL picture came out when starting at packet {start}"
            );
        }
    }
}

#[test]
fn the_open_gop_fixture_has_rasl_and_the_radl_fixture_shows_its_radl_pictures() {
    // The fixtures are what the tests above rely on.
    let open_gop = reference("hevc_main10_open_gop.mp4");
    let cra = open_gop
        .packets
        .iter()
        .position(|p| p.nal_types.contains(&21));
    let cra = cra.expect("a CRA picture");
    assert!(open_gop.packets[cra + 1].is_rasl());
    let radl = reference("hevc_radl.mp4");
    let idr = (1..radl.packets.len())
        .find(|&i| radl.packets[i].nal_types.contains(&19))
        .expect("an IDR_W_RADL after the first picture");
    assert!(radl.packets[idr + 1].is_radl());
    // Starting at that IDR, its RADL pictures (before it in output order) come out.
    let (mut decoder, packets) = open_decoder("hevc_radl.mp4");
    let frames = decode_all(&mut decoder, &packets[idr..]).unwrap();
    let leading = frames
        .iter()
        .filter(|frame| frame.pts < radl.packets[idr].pts)
        .count();
    assert_eq!(leading, 2, "RADL pictures of the entry IDR");
}

#[test]
fn a_stream_entered_between_iraps_gives_nothing_until_the_next_one() {
    let name = "hevc_main_rotated.mov";
    let reference = reference(name);
    let next_irap = (6..reference.packets.len())
        .find(|&i| reference.packets[i].irap)
        .unwrap();
    let (mut decoder, packets) = open_decoder(name);
    let frames = decode_all(&mut decoder, &packets[5..]).unwrap();
    assert_frames(name, &frames, Some(&decodable_from(name, next_irap)));
}

#[test]
fn reset_forgets_and_finish_flushes() {
    let name = "hevc_main10_open_gop.mp4";
    let (mut decoder, packets) = open_decoder(name);
    // Half a GOP, with frames still held; then a reset and the whole stream.
    for packet in &packets[..10] {
        decoder.send_packet(packet).unwrap();
    }
    decoder.reset().unwrap();
    assert!(decoder.receive_frame().unwrap().is_none());
    let frames = decode_all(&mut decoder, &packets).unwrap();
    assert_frames(name, &frames, None);
    // Before finish, the last pictures are still held; finish gives them out.
    decoder.reset().unwrap();
    let mut before_finish = 0;
    for packet in &packets {
        decoder.send_packet(packet).unwrap();
        while decoder.receive_frame().unwrap().is_some() {
            before_finish += 1;
        }
    }
    assert!(before_finish < packets.len());
    decoder.finish().unwrap();
    let mut after_finish = 0;
    while decoder.receive_frame().unwrap().is_some() {
        after_finish += 1;
    }
    assert_eq!(before_finish + after_finish, packets.len());
}

#[test]
fn in_band_parameter_sets_decode_without_the_records() {
    // hev1 with VPS/SPS/PPS repeated before every IRAP: an hvcC with no arrays.
    let name = "hevc_main10_open_gop.mp4";
    let (track, packets) = open(&fixture(name));
    let mut record = track.codec_config[..23].to_vec();
    record[22] = 0;
    let track = with_config(&track, record);
    let mut decoder = HevcDecoder::new(&track, &Limits::default()).unwrap();
    // Before an SPS, the record's profile and depth; the SPS adds its VUI's SAR.
    let provisional = decoder.format().clone();
    assert_eq!(
        (provisional.profile.as_str(), provisional.bit_depth),
        ("Main 10", 10)
    );
    assert_eq!(provisional.pixel_aspect, None);
    let frames = decode_all(&mut decoder, &packets).unwrap();
    assert_frames(name, &frames, None);
    assert_eq!(decoder.format().pixel_aspect, Some(PixelAspect::SQUARE));
    // A reset forgets the in-band sets; the next IRAP brings them again.
    decoder.reset().unwrap();
    assert_eq!(decoder.format(), &provisional);
    let reference = reference(name);
    let last_irap = reference.packets.iter().rposition(|p| p.irap).unwrap();
    let frames = decode_all(&mut decoder, &packets[last_irap..]).unwrap();
    assert_frames(name, &frames, Some(&decodable_from(name, last_irap)));
}

#[test]
fn formats_come_from_the_sps() {
    let format = |name: &str| {
        let (track, _) = open(&fixture(name));
        let inspected = stillframe_hevc::inspect(&track, &Limits::default()).unwrap();
        let decoder = HevcDecoder::new(&track, &Limits::default()).unwrap();
        assert_eq!(decoder.format(), &inspected, "{name}");
        inspected
    };
    let rotated = format("hevc_main_rotated.mov");
    assert_eq!(
        (rotated.profile.as_str(), rotated.width, rotated.height),
        ("Main", 320, 240)
    );
    assert_eq!(
        (rotated.bit_depth, rotated.chroma),
        (8, ChromaFormat::Yuv420)
    );
    let main10 = format("hevc_main10_open_gop.mp4");
    assert_eq!((main10.profile.as_str(), main10.bit_depth), ("Main 10", 10));
    let odd = format("hevc_odd_642x362.mp4");
    assert_eq!((odd.width, odd.height), (642, 362));
    assert_eq!(
        odd.crop,
        Crop {
            left: 0,
            right: 6,
            top: 0,
            bottom: 6
        }
    );
    let mkv = format("hevc_main.mkv");
    assert_eq!(mkv.pixel_aspect, PixelAspect::new(4, 3));
    assert_eq!(
        mkv.colour,
        ColourDescription {
            primaries: 1,
            transfer: 1,
            matrix: 1,
            full_range: Some(true)
        }
    );
    // The unsupported fixture is described, not refused.
    let yuv422 = format_of_unsupported("hevc_422_10bit.mp4");
    assert_eq!(
        (yuv422.profile.as_str(), yuv422.chroma, yuv422.bit_depth),
        ("Rext", ChromaFormat::Yuv422, 10)
    );
}

fn format_of_unsupported(name: &str) -> stillframe_core::CodedFormat {
    let (track, _) = open(&fixture(name));
    stillframe_hevc::inspect(&track, &Limits::default()).unwrap()
}

#[test]
fn frames_carry_the_vui_colour_and_the_cropped_size() {
    let (mut decoder, packets) = open_decoder("hevc_main.mkv");
    let frames = decode_all(&mut decoder, &packets[..3]).unwrap();
    assert!(frames
        .iter()
        .all(|frame| frame.colour.full_range == Some(true) && frame.colour.matrix == 1));
    let (mut decoder, packets) = open_decoder("hevc_odd_642x362.mp4");
    let frame = decode_all(&mut decoder, &packets[..1]).unwrap().remove(0);
    assert_eq!((frame.width, frame.height), (642, 362));
    assert_eq!(frame.planes[1].width, 321);
    let (mut decoder, packets) = open_decoder("hevc_main10_open_gop.mp4");
    let frame = decode_all(&mut decoder, &packets[..1]).unwrap().remove(0);
    assert_eq!(frame.format.bit_depth, 10);
    assert_eq!(frame.planes[0].stride, 640);
}

#[test]
fn four_two_two_is_refused_by_name_from_the_record_and_in_band() {
    let (track, packets) = open(&fixture("hevc_422_10bit.mp4"));
    let error = HevcDecoder::new(&track, &Limits::default()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    let message = error.to_string();
    assert!(
        message.contains("HEVC 4:2:2 (Main 4:2:2 10)")
            && message.contains("rusty_h265 decodes 4:2:0 Main/Main 10 only"),
        "{message}"
    );
    // The same parameter sets in-band: refused by the packet that brings them, and
    // by every later call, resets included.
    let record = parse_hvcc(&track.codec_config).unwrap();
    let mut first = Vec::new();
    for unit in record.parameter_sets() {
        first.extend((unit.len() as u32).to_be_bytes());
        first.extend_from_slice(unit);
    }
    first.extend_from_slice(&packets[0].data);
    let empty = with_config(&track, Vec::new());
    let mut decoder = HevcDecoder::new(&empty, &Limits::default()).unwrap();
    let packet = Packet {
        data: first,
        ..packets[0].clone()
    };
    let error = decoder.send_packet(&packet).unwrap_err();
    assert!(error.to_string().contains("Main 4:2:2 10"), "{error}");
    decoder.reset().unwrap();
    let again = decoder.send_packet(&packets[1]).unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Unsupported);
    assert_eq!(decoder.finish().unwrap_err().kind(), ErrorKind::Unsupported);
}

#[test]
fn a_huge_sps_is_refused_before_decoding() {
    let (track, _) = open(&fixture("hevc_main_rotated.mov"));
    let record = parse_hvcc(&track.codec_config).unwrap();
    let vps = record.units_of_type(NAL_VPS).next().unwrap();
    let pps = record.units_of_type(NAL_PPS).next().unwrap();
    // 16384 × 16384 is within max_pixels but its pictures are not within
    // max_decoder_bytes.
    let huge = main_sps(16384, 16384);
    let track = with_config(&track, hvcc(&[vps, &huge, pps]));
    match HevcDecoder::new(&track, &Limits::default()) {
        Err(Error::Limit { what, value, .. }) => {
            assert_eq!(what, "decoder memory in bytes");
            assert!(value > 16384 * 16384 * 3, "{value}");
        }
        other => panic!("{other:?}"),
    }
    // The same SPS in-band.
    let (track, packets) = open(&fixture("hevc_main_rotated.mov"));
    let mut decoder = HevcDecoder::new(&track, &Limits::default()).unwrap();
    let mut data = (huge.len() as u32).to_be_bytes().to_vec();
    data.extend_from_slice(&huge);
    data.extend_from_slice(&packets[0].data);
    let error = decoder
        .send_packet(&Packet {
            data,
            ..packets[0].clone()
        })
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Limit, "{error}");
    // Nothing reached the library: the stream still decodes after a reset.
    decoder.reset().unwrap();
    let frames = decode_all(&mut decoder, &packets).unwrap();
    assert_frames("hevc_main_rotated.mov", &frames, None);
}

#[test]
fn small_limits_refuse_the_fixtures() {
    let (track, _) = open(&fixture("hevc_odd_642x362.mp4"));
    let limits = Limits {
        max_pixels: 640 * 360,
        ..Limits::default()
    };
    match HevcDecoder::new(&track, &limits) {
        // Checked at the coded size, which the library allocates.
        Err(Error::Limit { what, value, limit }) => {
            assert_eq!(what, "picture size in pixels");
            assert_eq!((value, limit), (648 * 368, 640 * 360));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        stillframe_hevc::inspect(&track, &limits)
            .unwrap_err()
            .kind(),
        ErrorKind::Limit
    );
    let limits = Limits {
        max_decoder_bytes: 1 << 20,
        ..Limits::default()
    };
    let error = HevcDecoder::new(&track, &limits).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Limit);
}

#[test]
fn the_memory_estimate_grows_with_the_picture() {
    let (track, _) = open(&fixture("hevc_odd_642x362.mp4"));
    let record = parse_hvcc(&track.codec_config).unwrap();
    let sps = stillframe_bitstream::hevc::parse_sps(record.units_of_type(NAL_SPS).next().unwrap())
        .unwrap();
    let small = stillframe_bitstream::hevc::parse_sps(&main_sps(320, 240)).unwrap();
    assert!(stillframe_hevc::decoder_bytes(&sps) > stillframe_hevc::decoder_bytes(&small));
    // 8K fits the default budget with its largest DPB; 16384 x 16384 does not.
    let eight_k = stillframe_bitstream::hevc::parse_sps(&main_sps(7680, 4320)).unwrap();
    assert!(stillframe_hevc::decoder_bytes(&eight_k) < Limits::default().max_decoder_bytes);
    let huge = stillframe_bitstream::hevc::parse_sps(&main_sps(16384, 16384)).unwrap();
    assert!(stillframe_hevc::decoder_bytes(&huge) > Limits::default().max_decoder_bytes);
}

/// The adapter drops the RASL pictures of its entry itself; rusty_h265 would skip
/// them too (`NoRaslOutputFlag`, H.265 § 8.1.3): fed directly from a CRA picture,
/// it outputs none of them.
#[test]
fn rusty_h265_itself_skips_the_rasl_pictures_of_its_first_cra() {
    let name = "hevc_main10_open_gop.mp4";
    let (track, packets) = open(&fixture(name));
    let reference = reference(name);
    let cra = reference
        .packets
        .iter()
        .position(|p| p.nal_types.contains(&21))
        .unwrap();
    let (rasl, _) = entry_rasl_and_rest(name, cra);
    assert_eq!(rasl.len(), 3);
    let record = parse_hvcc(&track.codec_config).unwrap();
    let mut library = rusty_h265::Decoder::new();
    for unit in record.parameter_sets() {
        library.push_nal(unit, None).unwrap();
    }
    let mut output = Vec::new();
    for packet in &packets[cra..] {
        for unit in stillframe_bitstream::framing::split_nal_units(&packet.data, 4).unwrap() {
            library.push_nal(unit, Some(packet.pts)).unwrap();
        }
        while let Ok(frame) = library.next_frame() {
            output.push(frame.pts.unwrap());
        }
    }
    library.flush();
    while let Ok(frame) = library.next_frame() {
        output.push(frame.pts.unwrap());
    }
    assert_eq!(library.stats.skipped_rasl, 3);
    assert_eq!(output.len(), packets.len() - cra - 3);
    assert!(output.iter().all(|pts| !rasl.contains(pts)));
}
