//! Broken input gives errors or no frames, never a panic, and a reset decoder
//! decodes correctly afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{decode_all, frame_md5, packaged, reference_md5s, Packaging};
use stillframe_core::{ErrorKind, Limits, Packet, VideoDecoder};
use stillframe_h264::H264Decoder;

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

/// Sends `data`, drains frames, and returns the error kind if any.
fn send(decoder: &mut H264Decoder, template: &Packet, data: Vec<u8>) -> Option<ErrorKind> {
    let packet = Packet {
        data,
        ..template.clone()
    };
    let result = decoder.send_packet(&packet);
    while decoder.receive_frame().unwrap().is_some() {}
    result.err().map(|error| error.kind())
}

fn assert_still_decodes(decoder: &mut H264Decoder, packets: &[Packet]) {
    decoder.reset().unwrap();
    let frames = decode_all(decoder, packets).unwrap();
    let reference = reference_md5s("baseline");
    let hashes: Vec<String> = frames.iter().map(frame_md5).collect();
    assert_eq!(hashes, reference);
}

#[test]
fn structural_garbage_is_malformed() {
    let (track, packets) = packaged("baseline", Packaging::Avcc { length_size: 4 });
    let mut decoder = H264Decoder::new(&track, &Limits::default()).unwrap();
    let template = &packets[0];
    // Empty samples and zero-length units are nothing at all.
    assert_eq!(send(&mut decoder, template, Vec::new()), None);
    assert_eq!(send(&mut decoder, template, vec![0, 0, 0, 0]), None);
    // A length past the end of the sample.
    let mut truncated = packets[0].data.clone();
    truncated.truncate(truncated.len() / 2);
    assert_eq!(
        send(&mut decoder, template, truncated),
        Some(ErrorKind::Malformed)
    );
    assert_eq!(
        send(&mut decoder, template, vec![0xff, 0xff, 0xff, 0xff, 0x65]),
        Some(ErrorKind::Malformed)
    );
    // Too few bytes for a length.
    assert_eq!(
        send(&mut decoder, template, vec![0, 7]),
        Some(ErrorKind::Malformed)
    );
    // A broken in-band SPS.
    assert_eq!(
        send(&mut decoder, template, vec![0, 0, 0, 2, 0x67, 0x64]),
        Some(ErrorKind::Malformed)
    );
    assert_still_decodes(&mut decoder, &packets);
}

#[test]
fn random_bytes_never_panic() {
    for packaging in [Packaging::Avcc { length_size: 4 }, Packaging::AnnexB] {
        let (track, packets) = packaged("baseline", packaging);
        let mut decoder = H264Decoder::new(&track, &Limits::default()).unwrap();
        let mut random = XorShift(0x5eed_1234_abcd_0001);
        for round in 0..300 {
            let length = random.below(600);
            let mut data = random.bytes(length);
            if round % 3 == 0 {
                // Past the framing, into OpenH264.
                data.splice(0..0, [0, 0, 0, 1]);
            }
            if let Some(kind) = send(&mut decoder, &packets[0], data) {
                assert!(
                    matches!(
                        kind,
                        ErrorKind::Malformed
                            | ErrorKind::Codec
                            | ErrorKind::Unsupported
                            | ErrorKind::Limit
                    ),
                    "{kind:?}"
                );
            }
            if round % 7 == 0 {
                let _ = decoder.finish();
                while decoder.receive_frame().unwrap().is_some() {}
            }
        }
        assert_still_decodes(&mut decoder, &packets);
    }
}

/// Corrupted slices of a valid stream: OpenH264 itself has to cope.
#[test]
fn corrupted_valid_packets_never_panic() {
    let (track, packets) = packaged("baseline", Packaging::Avcc { length_size: 4 });
    let mut decoder = H264Decoder::new(&track, &Limits::default()).unwrap();
    let mut random = XorShift(0x0dd_ba11_cafe_f00d);
    for round in 0..40 {
        decoder.reset().unwrap();
        for (index, packet) in packets.iter().enumerate() {
            let mut data = packet.data.clone();
            if index > 0 && random.below(3) == 0 {
                // Flip bits after the 5 framing and header bytes, or cut the tail.
                for _ in 0..=random.below(8) {
                    let at = 5 + random.below(data.len() - 5);
                    data[at] ^= 1 << random.below(8);
                }
            }
            if round % 4 == 3 && random.below(4) == 0 {
                let keep = 5 + random.below(data.len() - 5);
                data.truncate(keep);
            }
            let _ = send(&mut decoder, packet, data);
        }
        let _ = decoder.finish();
        while decoder.receive_frame().unwrap().is_some() {}
    }
    assert_still_decodes(&mut decoder, &packets);
}
