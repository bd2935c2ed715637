//! Broken input gives typed errors or no frames, never a panic, and a reset
//! decoder decodes correctly afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{assert_bit_exact, decode_all, fixture, open};
use stillframe_core::{ErrorKind, Limits, Packet, TrackInfo, VideoDecoder};
use stillframe_vp9::Vp9Decoder;

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

/// What every failure must be.
fn assert_typed(kind: ErrorKind) {
    assert!(
        matches!(
            kind,
            ErrorKind::Malformed | ErrorKind::Codec | ErrorKind::Unsupported | ErrorKind::Limit
        ),
        "{kind:?}"
    );
}

/// Sends `data`, drains frames (checking their layout), and returns the error kind.
fn send(decoder: &mut Vp9Decoder, template: &Packet, data: Vec<u8>) -> Option<ErrorKind> {
    let packet = Packet {
        data,
        ..template.clone()
    };
    let result = decoder.send_packet(&packet);
    while let Some(frame) = decoder.receive_frame().unwrap() {
        assert_eq!(frame.pts, packet.pts);
        assert_eq!(frame.planes.len(), 3);
        assert_eq!(frame.planes[0].width, frame.width as usize);
        assert!(frame.damage.is_none());
    }
    let kind = result.err().map(|error| error.kind());
    kind.inspect(|&kind| assert_typed(kind))
}

/// After an unsupported stream the decoder refuses everything: start afresh.
fn renew_if_unsupported(decoder: &mut Vp9Decoder, kind: Option<ErrorKind>, track: &TrackInfo) {
    if kind == Some(ErrorKind::Unsupported) {
        *decoder = Vp9Decoder::new(track, &Limits::default()).unwrap();
    }
}

fn assert_still_decodes(decoder: &mut Vp9Decoder, track: &TrackInfo, packets: &[Packet]) {
    decoder.reset().unwrap();
    let frames = match decode_all(decoder, packets) {
        Err(error) if error.kind() == ErrorKind::Unsupported => {
            let mut fresh = Vp9Decoder::new(track, &Limits::default()).unwrap();
            decode_all(&mut fresh, packets).unwrap()
        }
        other => other.unwrap(),
    };
    assert_bit_exact("vp9_altref.webm", &frames, 0);
}

#[test]
fn random_bytes_never_panic() {
    let (track, packets) = open(&fixture("vp9_altref.webm"));
    let mut decoder = Vp9Decoder::new(&track, &Limits::default()).unwrap();
    let mut random = XorShift(0x5eed_1234_abcd_0001);
    let key_start = &packets[0].data[..10];
    for round in 0..400 {
        let length = random.below(600);
        let mut data = random.bytes(length);
        match round % 4 {
            // A real key frame header, then garbage: into rusty_vp9's decoding.
            0 => data.splice(0..0, key_start.iter().copied()).for_each(drop),
            // A frame marker and sync code with random fields after them.
            1 => data.splice(0..0, [0x82, 0x49, 0x83, 0x42]).for_each(drop),
            // A plausible superframe index around random frames.
            2 if length > 4 => {
                let first = random.below(length - 2) + 1;
                let marker = 0xc1;
                data.extend([marker, first as u8, (length - first) as u8, marker]);
            }
            _ => {}
        }
        let kind = send(&mut decoder, &packets[0], data);
        renew_if_unsupported(&mut decoder, kind, &track);
        if kind.is_some() || round % 7 == 0 {
            decoder.reset().unwrap();
        }
    }
    assert_still_decodes(&mut decoder, &track, &packets);
}

/// Corrupted frames of a valid stream: rusty_vp9 itself has to cope.
#[test]
fn corrupted_valid_packets_never_panic() {
    for name in ["vp9_altref.webm", "vp9_multiarf.webm", "vp9_10bit.mp4"] {
        let (track, packets) = open(&fixture(name));
        let mut decoder = Vp9Decoder::new(&track, &Limits::default()).unwrap();
        let mut random = XorShift(0x0dd_ba11_cafe_f00d);
        let mut errors = 0;
        for round in 0..12 {
            decoder.reset().unwrap();
            for (index, packet) in packets.iter().enumerate() {
                let mut data = packet.data.clone();
                if index > 0 && data.len() > 8 && random.below(4) == 0 {
                    // Flip bits past the first bytes of the header, or cut the tail.
                    for _ in 0..=random.below(8) {
                        let at = 2 + random.below(data.len() - 2);
                        data[at] ^= 1 << random.below(8);
                    }
                    if round % 3 == 2 {
                        let keep = 1 + random.below(data.len() - 1);
                        data.truncate(keep);
                    }
                }
                let kind = send(&mut decoder, packet, data);
                renew_if_unsupported(&mut decoder, kind, &track);
                if kind.is_some() {
                    errors += 1;
                    decoder.reset().unwrap();
                }
            }
        }
        assert!(errors > 0, "{name}: no corruption was noticed");
    }
    let (track, packets) = open(&fixture("vp9_altref.webm"));
    let mut decoder = Vp9Decoder::new(&track, &Limits::default()).unwrap();
    assert_still_decodes(&mut decoder, &track, &packets);
}

/// Every prefix of every packet: a cut anywhere is an error or nothing.
#[test]
fn truncated_packets_never_panic() {
    let (track, packets) = open(&fixture("vp9_multiarf.webm"));
    let mut decoder = Vp9Decoder::new(&track, &Limits::default()).unwrap();
    for packet in packets.iter().take(6) {
        for length in (0..packet.data.len()).step_by(7) {
            decoder.reset().unwrap();
            // Start from the key frame, so the cut frame can find its references.
            send(&mut decoder, &packets[0], packets[0].data.clone());
            let kind = send(&mut decoder, packet, packet.data[..length].to_vec());
            renew_if_unsupported(&mut decoder, kind, &track);
        }
    }
    assert_still_decodes(
        &mut Vp9Decoder::new(&open(&fixture("vp9_altref.webm")).0, &Limits::default()).unwrap(),
        &open(&fixture("vp9_altref.webm")).0,
        &open(&fixture("vp9_altref.webm")).1,
    );
}

/// A packet the fuzzer found (`fuzz/fuzz_targets/vp9_packets.rs`): a profile 3 key
/// frame whose coefficients overflow an `i32` in rusty_vp9's 8-point inverse DCT.
/// With overflow checks on (debug builds, and stillframe's release profile unless
/// rusty_vp9 is exempted) rusty_vp9 panics there; the panic must come back as
/// `Error::Codec`, and the decoder must still work.
#[test]
fn a_panic_inside_rusty_vp9_is_a_codec_error() {
    let data = std::fs::read(fixture("crash-78bb916b-idct8-overflow.vp9")).unwrap();
    let (mut track, packets) = open(&fixture("vp9_altref.webm"));
    track.video = None;
    let mut decoder = Vp9Decoder::new(&track, &Limits::default()).unwrap();
    let packet = Packet {
        data,
        ..packets[0].clone()
    };
    match decoder.send_packet(&packet) {
        Ok(()) => while decoder.receive_frame().unwrap().is_some() {},
        Err(error) => {
            assert_eq!(error.kind(), ErrorKind::Codec, "{error}");
            assert!(error.to_string().contains("rusty_vp9"), "{error}");
        }
    }
    let mut decoder_track = open(&fixture("vp9_altref.webm")).0;
    decoder_track.video = None;
    assert_still_decodes(&mut decoder, &decoder_track, &packets);
}
