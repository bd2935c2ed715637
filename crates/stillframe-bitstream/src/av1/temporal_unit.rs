//! What a temporal unit holds: its sequence header and the start of each frame
//! header, read far enough to tell random access points and discardable units.

use stillframe_core::Result;

use super::obu::{
    split_obus, Obu, OBU_FRAME, OBU_FRAME_HEADER, OBU_SEQUENCE_HEADER, OBU_TEMPORAL_DELIMITER,
};
use super::sequence::{SequenceHeader, SELECT};
use stillframe_core::bits::{BitReader, OutOfBits};

/// `frame_type` (§ 6.8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// `KEY_FRAME`: intra, resets every reference.
    Key,
    /// `INTER_FRAME`.
    Inter,
    /// `INTRA_ONLY_FRAME`: intra, but later frames may still refer to earlier ones.
    IntraOnly,
    /// `SWITCH_FRAME`.
    Switch,
}

impl FrameType {
    fn from_bits(bits: u8) -> FrameType {
        match bits {
            0 => FrameType::Key,
            1 => FrameType::Inter,
            2 => FrameType::IntraOnly,
            _ => FrameType::Switch,
        }
    }
}

/// The start of one frame header (§ 5.9.2), up to `refresh_frame_flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameHeader {
    /// `show_existing_frame` = 1: shows the frame in slot `slot` again. A key
    /// frame shown this way also refreshes every slot, which only the decoder
    /// (knowing the slot's frame type) can tell.
    ShowExisting {
        /// `frame_to_show_map_idx`.
        slot: u8,
    },
    /// A new frame.
    New {
        /// `frame_type`.
        frame_type: FrameType,
        /// `show_frame`: false for a hidden frame (an alt-ref shown later, or never).
        show_frame: bool,
        /// `refresh_frame_flags`: the reference slots it replaces (0: nothing
        /// refers to it).
        refresh_frame_flags: u8,
    },
}

/// The OBUs of one temporal unit that matter before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporalUnit {
    /// The sequence header OBU, if the unit carries one.
    pub sequence_header: Option<SequenceHeader>,
    /// Each frame header of the decoded operating point, in order; `None` where a
    /// header could not be read (no sequence header known, or cut short).
    pub frames: Vec<Option<FrameHeader>>,
}

impl TemporalUnit {
    /// Reads the temporal unit `data` (OBUs in the low-overhead format) with
    /// `sequence` as the active sequence header when the unit carries none.
    ///
    /// Only operating point 0 is considered, as the decoders are set up. Fails
    /// with [`Error::Malformed`] when the OBUs cannot be split or a sequence
    /// header is broken.
    pub fn parse(data: &[u8], sequence: Option<&SequenceHeader>) -> Result<TemporalUnit> {
        let mut unit = TemporalUnit {
            sequence_header: None,
            frames: Vec::new(),
        };
        for obu in split_obus(data)? {
            match obu.obu_type {
                OBU_SEQUENCE_HEADER => {
                    unit.sequence_header = Some(SequenceHeader::parse(obu.payload)?);
                }
                OBU_FRAME | OBU_FRAME_HEADER => {
                    let active = unit.sequence_header.as_ref().or(sequence);
                    let Some(active) = active else {
                        unit.frames.push(None);
                        continue;
                    };
                    if !in_operating_point(&obu, active) {
                        continue;
                    }
                    unit.frames.push(read_frame_header(&obu, active).ok());
                }
                _ => {}
            }
        }
        Ok(unit)
    }

    /// True when decoding may start here: the first frame is a key frame that is
    /// shown. Hidden (forward) key frames and `show_existing_frame` units are not:
    /// frames after a hidden key frame may refer to earlier ones, and a unit that
    /// shows a key frame again needs the unit that carried it.
    pub fn is_random_access_point(&self) -> bool {
        matches!(
            self.frames.first(),
            Some(Some(FrameHeader::New {
                frame_type: FrameType::Key,
                show_frame: true,
                ..
            }))
        )
    }

    /// True when no frame of the unit is kept as a reference and the unit changes
    /// no decoder state, so skipping it changes no other frame.
    pub fn is_discardable(&self) -> bool {
        self.sequence_header.is_none()
            && !self.frames.is_empty()
            && self.frames.iter().all(|frame| {
                matches!(
                    frame,
                    Some(FrameHeader::New {
                        refresh_frame_flags: 0,
                        ..
                    })
                )
            })
    }
}

/// True if OBUs without an extension, or of a layer of operating point 0 (what
/// the decoder drops otherwise, § 7.1 and dav1d's `dav1d_parse_obus`).
fn in_operating_point(obu: &Obu<'_>, sequence: &SequenceHeader) -> bool {
    let idc = sequence
        .operating_points
        .first()
        .map_or(0, |point| point.idc);
    if idc == 0 || !has_extension(obu) {
        return true;
    }
    let in_temporal = (idc >> obu.temporal_id) & 1 == 1;
    let in_spatial = (idc >> (u32::from(obu.spatial_id) + 8)) & 1 == 1;
    in_temporal && in_spatial
}

fn has_extension(obu: &Obu<'_>) -> bool {
    obu.bytes.first().is_some_and(|header| header & 0x04 != 0)
}

/// `uncompressed_header()` (§ 5.9.2) up to `refresh_frame_flags`.
fn read_frame_header(obu: &Obu<'_>, seq: &SequenceHeader) -> Result<FrameHeader, OutOfBits> {
    if seq.reduced_still_picture_header {
        return Ok(FrameHeader::New {
            frame_type: FrameType::Key,
            show_frame: true,
            refresh_frame_flags: 0xff,
        });
    }
    let r = &mut BitReader::new(obu.payload);
    let temporal_point_info = |r: &mut BitReader<'_>| match seq.decoder_model {
        Some((_, presentation_time_length)) if !seq.equal_picture_interval => {
            r.skip(presentation_time_length as usize)
        }
        _ => Ok(()),
    };
    if r.flag()? {
        let slot = r.u8(3)?;
        return Ok(FrameHeader::ShowExisting { slot });
    }
    let frame_type = FrameType::from_bits(r.u8(2)?);
    let intra = matches!(frame_type, FrameType::Key | FrameType::IntraOnly);
    let show_frame = r.flag()?;
    if show_frame {
        temporal_point_info(r)?;
    } else {
        r.skip(1)?; // showable_frame
    }
    let shown_key = frame_type == FrameType::Key && show_frame;
    let error_resilient_mode = if frame_type == FrameType::Switch || shown_key {
        true
    } else {
        r.flag()?
    };
    if frame_type == FrameType::Switch || shown_key {
        return Ok(FrameHeader::New {
            frame_type,
            show_frame,
            refresh_frame_flags: 0xff,
        });
    }
    r.skip(1)?; // disable_cdf_update
    let allow_screen_content_tools = if seq.force_screen_content_tools == SELECT {
        r.flag()?
    } else {
        seq.force_screen_content_tools == 1
    };
    if allow_screen_content_tools && seq.force_integer_mv == SELECT {
        r.skip(1)?; // force_integer_mv
    }
    if let Some(length) = seq.frame_id_length {
        r.skip(length as usize)?; // current_frame_id
    }
    r.skip(1)?; // frame_size_override_flag (switch frames returned above)
    r.skip(seq.order_hint_bits as usize)?;
    if !(intra || error_resilient_mode) {
        r.skip(3)?; // primary_ref_frame
    }
    if let Some((removal_time_length, _)) = seq.decoder_model {
        if r.flag()? {
            // buffer_removal_time for each operating point with a decoder model
            // that includes this frame's layer.
            for point in &seq.operating_points {
                if !point.decoder_model_present {
                    continue;
                }
                let in_temporal = (point.idc >> obu.temporal_id) & 1 == 1;
                let in_spatial = (point.idc >> (u32::from(obu.spatial_id) + 8)) & 1 == 1;
                if point.idc == 0 || (in_temporal && in_spatial) {
                    r.skip(removal_time_length as usize)?;
                }
            }
        }
    }
    Ok(FrameHeader::New {
        frame_type,
        show_frame,
        refresh_frame_flags: r.u8(8)?,
    })
}

/// The byte offset after a leading temporal delimiter OBU, if `data` starts with one.
pub fn after_temporal_delimiter(data: &[u8]) -> usize {
    match split_obus(data) {
        Ok(obus) => match obus.first() {
            Some(obu) if obu.obu_type == OBU_TEMPORAL_DELIMITER => obu.bytes.len(),
            _ => 0,
        },
        Err(_) => 0,
    }
}
