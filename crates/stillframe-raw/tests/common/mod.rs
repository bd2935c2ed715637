//! What the fixture and corpus tests share: each sample's picture type as ffmpeg
//! prints it (`I`, `P`, `B`, ...) and the frames of a track in presentation order.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use stillframe_bitstream::av1::{parse_av1c, FrameHeader, FrameType, SequenceHeader, TemporalUnit};
use stillframe_bitstream::framing::split_nal_units;
use stillframe_core::bits::{unescape_rbsp, BitReader};
use stillframe_core::{Codec, Demuxer, Time};

/// One presented frame: its picture type letter and whether it is a sync sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub pts: i64,
    pub kind: String,
    pub sync: bool,
}

/// ffmpeg's letter for an H.264 `slice_type` (mod 5): P, B, I, SP, SI.
fn h264_letter(slice_type: u32) -> &'static str {
    match slice_type % 5 {
        0 => "P",
        1 => "B",
        2 => "I",
        // av_get_picture_type_char's letters for SP and SI.
        3 => "p",
        _ => "i",
    }
}

/// The slice types of a length-prefixed H.264 access unit, in order.
pub fn h264_slice_types(sample: &[u8]) -> Vec<&'static str> {
    let units = split_nal_units(sample, 4).unwrap();
    units
        .iter()
        .filter(|unit| matches!(unit.first().map(|h| h & 0x1f), Some(1 | 2 | 5)))
        .filter_map(|unit| {
            let rbsp = unescape_rbsp(&unit[1..unit.len().min(16)]);
            let mut r = BitReader::new(&rbsp);
            r.ue().ok()?;
            r.ue().ok().map(h264_letter)
        })
        .collect()
}

/// The picture type ffmpeg reports for an H.264 sample: the type of its first
/// slice (of the first field, for a field pair).
pub fn h264_picture_type(sample: &[u8]) -> String {
    h264_slice_types(sample)
        .first()
        .map_or("?".to_owned(), |t| (*t).to_owned())
}

/// The picture type ffmpeg reports for an HEVC sample: its first slice's.
pub fn hevc_picture_type(sample: &[u8]) -> String {
    let units = split_nal_units(sample, 4).unwrap();
    units
        .iter()
        .find(|unit| unit.first().is_some_and(|h| (h >> 1) & 0x3f < 32) && unit.len() > 2)
        .and_then(|unit| {
            // first_slice_segment_in_pic_flag, no_output_of_prior_pics_flag for IRAP
            // (types 16–23), slice_pic_parameter_set_id; no extra header bits in
            // these streams.
            let nal_type = (unit[0] >> 1) & 0x3f;
            let rbsp = unescape_rbsp(&unit[2..unit.len().min(16)]);
            let mut r = BitReader::new(&rbsp);
            r.flag().ok()?;
            if (16..=23).contains(&nal_type) {
                r.flag().ok()?;
            }
            r.ue().ok()?;
            match r.ue().ok()? {
                0 => Some("B"),
                1 => Some("P"),
                2 => Some("I"),
                _ => None,
            }
        })
        .unwrap_or("?")
        .to_owned()
}

/// Follows AV1 temporal units to name each one's shown frame as libdav1d does
/// (key and intra-only frames `I`, inter `P`, switch `S`), tracking which frame
/// type each reference slot holds for `show_existing_frame`.
pub struct Av1Types {
    sequence: Option<SequenceHeader>,
    slots: [Option<FrameType>; 8],
}

impl Av1Types {
    pub fn new(av1c: &[u8]) -> Av1Types {
        let sequence = parse_av1c(av1c)
            .ok()
            .and_then(|c| c.sequence_header().ok().flatten());
        Av1Types {
            sequence,
            slots: [None; 8],
        }
    }

    pub fn shown_type(&mut self, unit: &[u8]) -> String {
        let Ok(parsed) = TemporalUnit::parse(unit, self.sequence.as_ref()) else {
            return "?".to_owned();
        };
        if let Some(sequence) = parsed.sequence_header.clone() {
            self.sequence = Some(sequence);
        }
        let mut shown = None;
        for frame in parsed.frames.iter().flatten() {
            match *frame {
                FrameHeader::ShowExisting { slot } => {
                    shown = self.slots.get(usize::from(slot)).copied().flatten();
                }
                FrameHeader::New {
                    frame_type,
                    show_frame,
                    refresh_frame_flags,
                } => {
                    for (i, slot) in self.slots.iter_mut().enumerate() {
                        if refresh_frame_flags & (1 << i) != 0 {
                            *slot = Some(frame_type);
                        }
                    }
                    if show_frame {
                        shown = Some(frame_type);
                    }
                }
            }
        }
        match shown {
            Some(FrameType::Key | FrameType::IntraOnly) => "I",
            Some(FrameType::Inter) => "P",
            // libdav1d's switch frames are AV_PICTURE_TYPE_SP.
            Some(FrameType::Switch) => "p",
            None => "?",
        }
        .to_owned()
    }
}

/// Indexes `demuxer` completely and lists its presented frames in presentation
/// order, with the picture type of each.
pub fn shown_frames(demuxer: &mut dyn Demuxer) -> Vec<Shown> {
    let _ = demuxer.index_until(0, Time::POSITIVE_INFINITY);
    let track = demuxer.tracks()[0].clone();
    let samples = demuxer.samples(0).unwrap().to_vec();
    let mut av1 = Av1Types::new(&track.codec_config);
    let mut frames = Vec::new();
    for (number, info) in samples.iter().enumerate() {
        let packet = demuxer
            .read_sample(0, u32::try_from(number).unwrap())
            .unwrap();
        assert_eq!(packet.data.len(), info.size as usize);
        let kind = match track.codec {
            Codec::H264 => h264_picture_type(&packet.data),
            Codec::Hevc => hevc_picture_type(&packet.data),
            Codec::Av1 => av1.shown_type(&packet.data),
            _ => "?".to_owned(),
        };
        if info.presented {
            frames.push(Shown {
                pts: info.pts,
                kind,
                sync: info.sync,
            });
        }
    }
    frames.sort_by_key(|frame| frame.pts);
    frames
}
