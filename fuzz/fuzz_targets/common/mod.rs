//! What several targets do: walk a demuxer completely, drive a decoder through a
//! packet stream, and check the invariants of what comes out.
#![allow(dead_code)]

use std::collections::BTreeSet;

use stillframe_core::{
    ChromaFormat, CodedFormat, Demuxer, Frame, Limits, Packet, PacketInspector, SampleInfo, Time,
    TrackInfo, VideoDecoder,
};
use stillframe_fuzz_input::{parse_packets, Config, RawPacket, FINISH_AFTER, RESET_BEFORE, SYNC};
use stillframe_seek::FrameIndex;

/// Sample reads per track at most (the first ones, then a spread), so a file declaring
/// millions of samples costs a bounded number of reads per execution.
const MAX_READS_PER_TRACK: usize = 2048;

/// Opens every door a demuxer has: tracks, the index (extended in steps, checking that
/// indices handed out never change), sample reads, and out-of-range questions.
pub fn exercise_demuxer(demuxer: &mut dyn Demuxer) {
    let _ = demuxer.container();
    let _ = demuxer.duration();
    let track_count = demuxer.tracks().len();
    for (position, track) in demuxer.tracks().iter().enumerate() {
        assert_eq!(
            track.index, position,
            "TrackInfo::index is not its position"
        );
    }
    for track in 0..track_count {
        let mut known: Vec<SampleInfo> = match demuxer.samples(track) {
            Ok(samples) => samples.to_vec(),
            Err(error) => panic!("samples({track}) of {track_count} tracks failed: {error}"),
        };
        for until in [Time::ZERO, Time::from_secs(1), Time::POSITIVE_INFINITY] {
            // Even a failing call (a cut-off cluster) may have appended what it read.
            let extended = demuxer.index_until(track, until);
            let Ok(now) = demuxer.samples(track) else {
                panic!("samples({track}) failed after index_until");
            };
            assert!(
                now.len() >= known.len() && now.get(..known.len()) == Some(&known[..]),
                "index_until({until}) changed samples already indexed"
            );
            // Extended, not copied again: a 20-million-sample table is 0.8 GB.
            known.extend_from_slice(now.get(known.len()..).unwrap_or_default());
            if extended.is_err() {
                break;
            }
        }
        let timescale = demuxer
            .tracks()
            .get(track)
            .map_or(std::num::NonZeroU32::MIN, |info| info.timescale);
        let index = FrameIndex::new(&known, timescale);
        if let Err(problem) = index.sanity_check() {
            panic!("frame index of track {track}: {problem}");
        }
        drop(index);
        read_samples(demuxer, track, &known);
    }
    assert!(demuxer.samples(track_count).is_err());
    assert!(demuxer.read_sample(track_count, 0).is_err());
}

fn read_samples(demuxer: &mut dyn Demuxer, track: usize, samples: &[SampleInfo]) {
    let count = samples.len();
    let step = (count / MAX_READS_PER_TRACK).max(1);
    let picks = (0..count.min(MAX_READS_PER_TRACK / 2)).chain((0..count).step_by(step * 2));
    for sample in picks.take(MAX_READS_PER_TRACK) {
        let Some(info) = samples.get(sample) else {
            continue;
        };
        let Ok(number) = u32::try_from(sample) else {
            continue;
        };
        if let Ok(packet) = demuxer.read_sample(track, number) {
            assert_eq!(
                packet.data.len(),
                info.size as usize,
                "sample {sample} size"
            );
            assert_eq!(packet.sample, number);
            assert_eq!(
                (packet.pts, packet.dts, packet.sync),
                (info.pts, info.dts, info.sync)
            );
        }
    }
    if let Ok(past) = u32::try_from(count) {
        assert!(
            demuxer.read_sample(track, past).is_err(),
            "a sample past the index was read"
        );
    }
}

/// A decoder target's whole run: the input's configuration (one of `fixtures`' tracks,
/// or the first with an arbitrary record) through `inspect`, then a decoder from
/// `open` driven through the input's packets.
pub fn decode_packet_stream<D: VideoDecoder>(
    data: &[u8],
    fixtures: &[TrackInfo],
    inspect: fn(&TrackInfo, &Limits) -> stillframe_core::Result<CodedFormat>,
    open: fn(&TrackInfo, &Limits) -> stillframe_core::Result<D>,
) {
    let stream = parse_packets(data);
    let track = match stream.config {
        Config::Builtin(number) => fixtures[usize::from(number) % fixtures.len()].clone(),
        Config::Custom(record) => TrackInfo {
            codec_config: record.to_vec(),
            ..fixtures[0].clone()
        },
    };
    // 512×512: a mutated header may not make every execution decode big pictures
    // (rav1d without its assembly, under AddressSanitizer, takes seconds on 1080p).
    let limits = Limits {
        max_pixels: 1 << 18,
        ..Limits::default()
    };
    let _ = inspect(&track, &limits);
    let inspector = stillframe_bitstream::inspector_for(&track).ok();
    if let Ok(mut decoder) = open(&track, &limits) {
        drive_decoder(&mut decoder, inspector.as_deref(), &stream.packets);
    }
}

/// Feeds `packets` to `decoder` following its call protocol (reset after any error,
/// drain after every send), with the resets and flushes the stream asks for.
pub fn drive_decoder(
    decoder: &mut dyn VideoDecoder,
    inspector: Option<&dyn PacketInspector>,
    packets: &[RawPacket<'_>],
) {
    let _ = decoder.format();
    let mut sent: BTreeSet<i64> = BTreeSet::new();
    let mut needs_reset = false;
    for (number, raw) in packets.iter().enumerate() {
        let packet = Packet {
            data: raw.data.to_vec(),
            sample: u32::try_from(number).unwrap_or(u32::MAX),
            pts: raw.pts,
            dts: i64::try_from(number).unwrap_or(i64::MAX),
            sync: raw.flags & SYNC != 0,
            description: 0,
        };
        if let Some(inspector) = inspector {
            let _ = inspector.inspect(&packet);
        }
        if raw.flags & RESET_BEFORE != 0 || needs_reset {
            if decoder.reset().is_err() {
                return;
            }
            sent.clear();
            needs_reset = false;
        }
        sent.insert(packet.pts);
        if decoder.send_packet(&packet).is_err() || drain(decoder, &sent).is_err() {
            needs_reset = true;
            continue;
        }
        if raw.flags & FINISH_AFTER != 0 {
            if decoder.finish().is_ok() {
                let _ = drain(decoder, &sent);
            }
            // Nothing may be sent after `finish` without a reset.
            needs_reset = true;
        }
    }
    if !needs_reset && decoder.finish().is_ok() {
        let _ = drain(decoder, &sent);
    }
}

/// Frames out of one drain at most: one packet shows at most a handful.
const MAX_FRAMES_PER_DRAIN: usize = 64;

fn drain(decoder: &mut dyn VideoDecoder, sent: &BTreeSet<i64>) -> stillframe_core::Result<()> {
    for _ in 0..MAX_FRAMES_PER_DRAIN {
        match decoder.receive_frame()? {
            Some(frame) => {
                check_frame(&frame);
                assert!(
                    sent.contains(&frame.pts),
                    "a frame came out with pts {}, which no packet since the last reset had",
                    frame.pts
                );
            }
            None => return Ok(()),
        }
    }
    Ok(())
}

/// The layout every consumer of a [`Frame`] relies on.
pub fn check_frame(frame: &Frame) {
    let bytes = frame.format.bytes_per_sample();
    let expected_planes = if frame.format.chroma == ChromaFormat::Monochrome {
        1
    } else {
        3
    };
    assert!(
        frame.planes.len() >= expected_planes,
        "{} planes for {:?}",
        frame.planes.len(),
        frame.format
    );
    let (sx, sy) = frame.format.chroma.subsampling();
    for (number, plane) in frame.planes.iter().enumerate() {
        let (width, height) = if number == 0 {
            (frame.width as usize, frame.height as usize)
        } else if frame.format.chroma == ChromaFormat::Monochrome {
            continue;
        } else {
            // `subsampling` is log2: 4:2:0 chroma is half the size, rounded up.
            (
                (frame.width as usize).div_ceil(1 << sx),
                (frame.height as usize).div_ceil(1 << sy),
            )
        };
        assert_eq!(
            (plane.width, plane.height),
            (width, height),
            "plane {number} of a {}x{} {:?} frame",
            frame.width,
            frame.height,
            frame.format
        );
        assert!(plane.stride >= plane.width * bytes, "plane {number} stride");
        if plane.height > 0 {
            let needed = plane.stride * (plane.height - 1) + plane.width * bytes;
            assert!(
                plane.data.len() >= needed,
                "plane {number} holds too few bytes"
            );
        }
    }
}

/// The first video track of `tests/fixtures/<name>`, an MP4 file.
pub fn fixture_track(name: &str) -> TrackInfo {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let demuxer = stillframe_mp4::Mp4Demuxer::open(
        std::io::Cursor::new(bytes),
        stillframe_core::Limits::default(),
    )
    .unwrap_or_else(|error| panic!("{name} does not open: {error}"));
    demuxer
        .tracks()
        .iter()
        .find(|track| track.video.is_some())
        .cloned()
        .unwrap_or_else(|| panic!("{name} has no video track"))
}
