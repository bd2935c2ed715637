//! Broken input gives typed errors or damaged frames, never a panic, and a reset
//! decoder decodes correctly afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{decode_all, fixture, frame_md5, open, reference, sps_with_long_term, BitWriter};
use stillframe_core::{ErrorKind, Limits, Packet, TrackInfo, VideoDecoder};
use stillframe_hevc::HevcDecoder;

/// A small deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn bytes(&mut self, count: usize) -> Vec<u8> {
        (0..count).map(|_| self.next() as u8).collect()
    }
}

/// The kinds an error from broken input may have.
fn assert_typed(kind: ErrorKind) {
    assert!(
        matches!(
            kind,
            ErrorKind::Malformed | ErrorKind::Codec | ErrorKind::Unsupported | ErrorKind::Limit
        ),
        "{kind:?}"
    );
}

/// Sends `data`, drains frames (checking each is consistent), and returns the
/// error kind if any.
fn send(decoder: &mut HevcDecoder, template: &Packet, data: Vec<u8>) -> Option<ErrorKind> {
    let packet = Packet {
        data,
        ..template.clone()
    };
    let result = decoder.send_packet(&packet);
    while let Some(frame) = decoder.receive_frame().unwrap() {
        assert_eq!(frame.planes.len(), 3);
        assert_eq!(
            frame.planes[0].data.len(),
            frame.planes[0].stride * frame.planes[0].height
        );
    }
    result.err().map(|error| error.kind())
}

fn assert_still_decodes(decoder: &mut HevcDecoder, name: &str, packets: &[Packet]) {
    decoder.reset().unwrap();
    let frames = decode_all(decoder, packets).unwrap();
    let hashes: Vec<String> = frames.iter().map(frame_md5).collect();
    let expected: Vec<String> = reference(name).frames.into_iter().map(|f| f.md5).collect();
    assert_eq!(hashes, expected, "{name} after garbage");
}

fn fixture_decoder(name: &str) -> (TrackInfo, HevcDecoder, Vec<Packet>) {
    let (track, packets) = open(&fixture(name));
    let decoder = HevcDecoder::new(&track, &Limits::default()).unwrap();
    (track, decoder, packets)
}

#[test]
fn structural_garbage_is_malformed() {
    let name = "hevc_main_rotated.mov";
    let (_, mut decoder, packets) = fixture_decoder(name);
    let template = &packets[0];
    // Empty samples and zero-length units are nothing at all.
    assert_eq!(send(&mut decoder, template, Vec::new()), None);
    assert_eq!(send(&mut decoder, template, vec![0, 0, 0, 0]), None);
    // A length past the end of the sample, and too few bytes for a length.
    let mut truncated = packets[0].data.clone();
    truncated.truncate(truncated.len() / 2);
    assert_eq!(
        send(&mut decoder, template, truncated),
        Some(ErrorKind::Malformed)
    );
    assert_eq!(
        send(&mut decoder, template, vec![0, 7]),
        Some(ErrorKind::Malformed)
    );
    // A broken in-band SPS.
    assert_eq!(
        send(
            &mut decoder,
            template,
            vec![0, 0, 0, 4, 0x42, 0x01, 0x01, 0x60]
        ),
        Some(ErrorKind::Malformed)
    );
    // A packet that refers to a sample description that does not exist.
    let stranger = Packet {
        description: 3,
        ..template.clone()
    };
    assert_eq!(
        decoder.send_packet(&stranger).unwrap_err().kind(),
        ErrorKind::Malformed
    );
    assert_still_decodes(&mut decoder, name, &packets);
}

#[test]
fn random_bytes_never_panic() {
    let name = "hevc_main_rotated.mov";
    let (_, mut decoder, packets) = fixture_decoder(name);
    let mut random = XorShift(0x5eed_1234_abcd_0001);
    for round in 0..300 {
        let length = random.below(600);
        let mut data = random.bytes(length);
        if round % 3 == 0 {
            // A valid length and an IRAP slice header start: past the framing and
            // the adapter's checks, into rusty_h265.
            let body = data.len() as u32 + 2;
            let mut unit = body.to_be_bytes().to_vec();
            unit.extend([0x26, 0x01]);
            data.splice(0..0, unit);
        }
        if let Some(kind) = send(&mut decoder, &packets[0], data) {
            assert_typed(kind);
            decoder.reset().unwrap();
        }
        if round % 7 == 0 {
            if let Err(error) = decoder.finish() {
                assert_typed(error.kind());
            }
            while decoder.receive_frame().unwrap().is_some() {}
            decoder.reset().unwrap();
        }
    }
    assert_still_decodes(&mut decoder, name, &packets);
}

/// Corrupted and truncated slices of valid streams: rusty_h265 itself has to cope.
#[test]
fn corrupted_valid_packets_never_panic() {
    for (name, seed) in [
        ("hevc_main10_open_gop.mp4", 0x0dd_ba11_cafe_f00d_u64),
        ("hevc_odd_642x362.mp4", 0x1234_5678_9abc_def1),
    ] {
        let (_, mut decoder, packets) = fixture_decoder(name);
        let mut random = XorShift(seed);
        let mut damaged = 0;
        for round in 0..12 {
            decoder.reset().unwrap();
            for (index, packet) in packets.iter().enumerate() {
                let mut data = packet.data.clone();
                if index > 0 && random.below(3) == 0 {
                    // Flip bits after the length and NAL header bytes.
                    for _ in 0..=random.below(8) {
                        let at = 6 + random.below(data.len() - 6);
                        data[at] ^= 1 << random.below(8);
                    }
                }
                if round % 4 == 3 && random.below(4) == 0 {
                    let keep = 6 + random.below(data.len() - 6);
                    data.truncate(keep);
                    // Keep the framing valid so the cut reaches the library.
                    let length = (keep - 4) as u32;
                    data[..4].copy_from_slice(&length.to_be_bytes());
                }
                let packet = Packet {
                    data,
                    ..packet.clone()
                };
                match decoder.send_packet(&packet) {
                    Ok(()) => {}
                    Err(error) => {
                        assert_typed(error.kind());
                        decoder.reset().unwrap();
                    }
                }
                while let Some(frame) = decoder.receive_frame().unwrap() {
                    damaged += usize::from(frame.damage.is_some());
                }
            }
            if let Err(error) = decoder.finish() {
                assert_typed(error.kind());
            }
            while let Some(frame) = decoder.receive_frame().unwrap() {
                damaged += usize::from(frame.damage.is_some());
            }
        }
        // Corruption the library noticed was reported on the frames.
        assert!(damaged > 0, "{name}: no frame was reported damaged");
        assert_still_decodes(&mut decoder, name, &packets);
    }
}

/// Two ways rusty_h265 0.6.2 panics on a crafted slice header, both in its
/// long-term reference handling: it indexes the SPS's long-term pictures with
/// `lt_idx_sps` unchecked (slice.rs: with three of them, a 2-bit index of 3), and
/// it multiplies `delta_poc_msb_cycle_lt` (up to 2^24) by `MaxPicOrderCntLsb` in
/// `i32` (decoder.rs, `derive_rps`), which overflows — a panic with overflow
/// checks on, as the workspace's dev and release profiles have them. The adapter
/// turns each panic into a typed error and decodes again after a reset.
#[test]
fn a_panic_in_the_library_is_a_codec_error() {
    let name = "hevc_main_rotated.mov";
    let (_, mut decoder, packets) = fixture_decoder(name);
    // CRA slices: first, no_output_of_prior_pics 0, PPS 0, I, POC LSB 0, the SPS's
    // short-term set, then the long-term part.
    let index_past_the_end = {
        let mut b = BitWriter::default();
        b.flag(true).flag(false).ue(0).ue(2).put(0, 8).flag(true);
        // One long-term picture from the SPS, at index 3 of 3.
        b.ue(1).ue(0).put(3, 2).put(0, 16);
        (sps_with_long_term(320, 240, &[1, 2, 3]), b.rbsp())
    };
    let overflowing_cycle = {
        let mut b = BitWriter::default();
        b.flag(true).flag(false).ue(0).ue(2).put(0, 8).flag(true);
        // None from the SPS; one in the header, used, with its MSB cycle 2^24.
        b.ue(0).ue(1).put(0, 8).flag(true).flag(true).ue(1 << 24);
        // The rest of the header: every flag and code 1 (ue and se 0).
        b.put(u64::from(u32::MAX), 32);
        (sps_with_long_term(320, 240, &[5]), b.rbsp())
    };
    for (sps, payload) in [index_past_the_end, overflowing_cycle] {
        let mut slice = vec![0x2a, 0x01];
        slice.extend(common::escape(&payload));
        let mut data = Vec::new();
        for unit in [&sps, &slice] {
            data.extend((unit.len() as u32).to_be_bytes());
            data.extend_from_slice(unit);
        }
        let error = decoder
            .send_packet(&Packet {
                data,
                ..packets[0].clone()
            })
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Codec);
        assert!(error.to_string().contains("rusty_h265 panicked"), "{error}");
        // Until a reset, the lost decoder says so.
        let again = decoder.send_packet(&packets[0]).unwrap_err();
        assert!(again.to_string().contains("reset"), "{again}");
        assert_still_decodes(&mut decoder, name, &packets);
    }
}

/// A picture the library fails on comes out damaged, and so does every picture
/// after it until the next IRAP picture; from there frames are exact again. No
/// frame that differs from ffmpeg's comes out undamaged.
#[test]
fn damage_lasts_until_the_next_irap() {
    let name = "hevc_main_rotated.mov";
    let (_, mut decoder, packets) = fixture_decoder(name);
    let reference = reference(name);
    let next_irap = (6..packets.len())
        .find(|&i| reference.packets[i].irap)
        .unwrap();
    for cut in [2, 3] {
        let mut broken = packets.clone();
        // Packet 5 cut to 1/cut of its slice data, its length fixed.
        let data = &mut broken[5].data;
        let keep = 6 + (data.len() - 6) / cut;
        data.truncate(keep);
        let length = (keep - 4) as u32;
        data[..4].copy_from_slice(&length.to_be_bytes());
        decoder.reset().unwrap();
        let frames = decode_all(&mut decoder, &broken).unwrap();
        assert_eq!(frames.len(), packets.len());
        let damaged: Vec<i64> = frames
            .iter()
            .filter(|f| f.damage.is_some())
            .map(|f| f.pts)
            .collect();
        assert!(damaged.contains(&packets[5].pts), "cut {cut}: {damaged:?}");
        for (frame, expected) in frames.iter().zip(&reference.frames) {
            assert_eq!(frame.pts, expected.pts);
            let decoded_after_irap = reference.packets[next_irap..]
                .iter()
                .any(|packet| packet.pts == frame.pts);
            if decoded_after_irap {
                assert_eq!(frame.damage, None, "pts {}", frame.pts);
                assert_eq!(frame_md5(frame), expected.md5, "pts {}", frame.pts);
            } else if frame_md5(frame) != expected.md5 {
                assert!(
                    frame.damage.is_some(),
                    "cut {cut}: wrong frame at pts {}",
                    frame.pts
                );
            }
        }
    }
}
