//! AV1 pieces every AV1 stream shares: the sequence header in force, the frame
//! rate its `timing_info` states, the `av1C` record built from it, and the
//! conversion of length-delimited (Annex B) temporal units to the low-overhead
//! format the decoder reads.

use stillframe_bitstream::av1::{
    split_obus, SequenceHeader, TemporalUnit, OBU_SEQUENCE_HEADER, OBU_TEMPORAL_DELIMITER,
};
use stillframe_core::bits::{leb128, BitReader, OutOfBits};
use stillframe_core::{Error, Result};

/// The sequence header in force and the first one seen, as a stream is read.
#[derive(Debug, Default, Clone)]
pub(crate) struct Av1Sequence {
    active: Option<SequenceHeader>,
    /// The first sequence header OBU, as stored (header, size field, payload).
    first_obu: Option<Vec<u8>>,
    first: Option<SequenceHeader>,
}

impl Av1Sequence {
    /// Reads one temporal unit in the low-overhead format, updating the sequence
    /// header in force; returns whether it is a sync sample: a shown key frame
    /// with its sequence header.
    pub(crate) fn observe(&mut self, unit: &[u8]) -> bool {
        let parsed = match TemporalUnit::parse(unit, self.active.as_ref()) {
            Ok(parsed) => parsed,
            Err(error) => {
                log::debug!("AV1 temporal unit not read: {error}");
                return false;
            }
        };
        if let Some(header) = &parsed.sequence_header {
            if self.first_obu.is_none() {
                self.first_obu = sequence_header_obu(unit);
                self.first = Some(header.clone());
            }
            self.active = Some(header.clone());
        }
        parsed.sequence_header.is_some() && parsed.is_random_access_point()
    }

    /// The first sequence header seen.
    pub(crate) fn first(&self) -> Option<&SequenceHeader> {
        self.first.as_ref()
    }

    /// The frame duration the first sequence header's `timing_info` states, in
    /// seconds as `(numerator, denominator)` (see [`frame_duration`]).
    pub(crate) fn timing(&self) -> Option<(u64, u64)> {
        let obu = self.first_obu.as_ref()?;
        let parsed = split_obus(obu).ok()?;
        frame_duration(parsed.first()?.payload)
    }

    /// An `av1C` record (AV1-ISOBMFF § 2.3.3) holding the first sequence header
    /// OBU, or empty when none was seen.
    pub(crate) fn av1c(&self) -> Vec<u8> {
        let (Some(header), Some(obu)) = (&self.first, &self.first_obu) else {
            return Vec::new();
        };
        let (level, tier) = header
            .operating_points
            .first()
            .map_or((31, 0), |point| (point.level, point.tier));
        let flag = |set: bool, bit: u8| if set { 1 << bit } else { 0 };
        let mut record = vec![
            0x81, // marker, version 1
            (header.profile << 5) | (level & 0x1f),
            flag(tier == 1, 7)
                | flag(header.bit_depth > 8, 6)
                | flag(header.bit_depth == 12, 5)
                | flag(header.monochrome, 4)
                | flag(header.subsampling.0, 3)
                | flag(header.subsampling.1, 2),
            // chroma_sample_position is unknown here (0); no initial presentation delay.
            0,
        ];
        record.extend_from_slice(obu);
        record
    }
}

/// The sequence header OBU of a low-overhead unit, as stored.
fn sequence_header_obu(unit: &[u8]) -> Option<Vec<u8>> {
    split_obus(unit)
        .ok()?
        .into_iter()
        .find(|obu| obu.obu_type == OBU_SEQUENCE_HEADER)
        .map(|obu| obu.bytes.to_vec())
}

/// `timing_info()` of a sequence header payload (AV1 § 5.5.3), as the frame
/// duration in seconds `(numerator, denominator)`: `num_units_in_display_tick`
/// × `num_ticks_per_picture` (1 without `equal_picture_interval`) over
/// `time_scale`. `None` without timing info or with a zero field.
///
/// [`SequenceHeader`] reads past these fields without keeping them.
pub(crate) fn frame_duration(sequence_header_payload: &[u8]) -> Option<(u64, u64)> {
    let read = |r: &mut BitReader<'_>| -> std::result::Result<Option<(u64, u64)>, OutOfBits> {
        r.skip(3)?; // seq_profile
        r.skip(1)?; // still_picture
        if r.flag()? || !r.flag()? {
            // reduced_still_picture_header, or no timing_info_present_flag
            return Ok(None);
        }
        let units = u64::from(r.bits(32)?);
        let time_scale = u64::from(r.bits(32)?);
        let ticks = if r.flag()? {
            u64::from(r.uvlc()?) + 1
        } else {
            1
        };
        Ok((units > 0 && time_scale > 0).then_some((units.saturating_mul(ticks), time_scale)))
    };
    read(&mut BitReader::new(sequence_header_payload))
        .ok()
        .flatten()
}

/// Rewrites one length-delimited temporal unit (AV1 Annex B § B.2: its
/// `temporal_unit_size` included) as low-overhead OBUs with size fields, the
/// temporal delimiter dropped: what MP4 samples hold.
///
/// Fails with [`Error::Malformed`] when a size runs past its container.
pub(crate) fn annex_b_to_low_overhead(unit: &[u8]) -> Result<Vec<u8>> {
    let malformed = |message: &str| Error::malformed("AV1 Annex B temporal unit", message);
    let (unit_size, length) = read_leb(unit).ok_or_else(|| malformed("bad temporal_unit_size"))?;
    let mut frames = unit
        .get(length..)
        .and_then(|rest| rest.get(..unit_size))
        .ok_or_else(|| malformed("temporal_unit_size runs past the data"))?;
    let mut out = Vec::with_capacity(unit.len());
    while !frames.is_empty() {
        let (frame_size, length) =
            read_leb(frames).ok_or_else(|| malformed("bad frame_unit_size"))?;
        let (frame, rest) = frames
            .get(length..)
            .and_then(|after| after.split_at_checked(frame_size))
            .ok_or_else(|| malformed("frame_unit_size runs past the temporal unit"))?;
        frames = rest;
        let mut obus = frame;
        while !obus.is_empty() {
            let (obu_length, length) = read_leb(obus).ok_or_else(|| malformed("bad obu_length"))?;
            let (obu, rest) = obus
                .get(length..)
                .and_then(|after| after.split_at_checked(obu_length))
                .ok_or_else(|| malformed("obu_length runs past the frame unit"))?;
            obus = rest;
            rewrite_obu(obu, &mut out).ok_or_else(|| malformed("an OBU header is broken"))?;
        }
    }
    Ok(out)
}

/// Appends `obu` (one OBU of `obu_length` bytes) with a size field; temporal
/// delimiters are dropped. `None` for a broken header.
fn rewrite_obu(obu: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let &header = obu.first()?;
    if header & 0x80 != 0 {
        return None;
    }
    let obu_type = (header >> 3) & 0x0f;
    let extension = header & 0x04 != 0;
    let header_length = if extension { 2 } else { 1 };
    let after_header = obu.get(header_length..)?;
    let payload = if header & 0x02 != 0 {
        let (size, length) = read_leb(after_header)?;
        after_header.get(length..)?.get(..size)?
    } else {
        after_header
    };
    if obu_type == OBU_TEMPORAL_DELIMITER {
        return Some(());
    }
    out.push(header | 0x02);
    if extension {
        out.push(*obu.get(1)?);
    }
    write_leb(payload.len(), out);
    out.extend_from_slice(payload);
    Some(())
}

/// `leb128()` as a size.
pub(crate) fn read_leb(data: &[u8]) -> Option<(usize, usize)> {
    let (value, length) = leb128(data).ok()?;
    Some((usize::try_from(value).ok()?, length))
}

fn write_leb(mut value: usize, out: &mut Vec<u8>) {
    loop {
        let byte = u8::try_from(value & 0x7f).unwrap_or(0);
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Builds one OBU with a size field around `payload`, keeping `extension`.
pub(crate) fn write_obu(header: u8, extension: Option<u8>, payload: &[u8], out: &mut Vec<u8>) {
    out.push(header | 0x02);
    if let Some(extension) = extension {
        out.push(extension);
    }
    write_leb(payload.len(), out);
    out.extend_from_slice(payload);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;

    /// A sequence header payload: profile 0, timing info (1/25 s per frame with
    /// equal_picture_interval, 1 tick per picture), level 8, 64x64, 8-bit 4:2:0.
    pub(crate) fn sequence_header_with_timing() -> Vec<u8> {
        let mut bits = Bits::default();
        bits.put(0, 3); // seq_profile
        bits.put(0, 1); // still_picture
        bits.put(0, 1); // reduced_still_picture_header
        bits.put(1, 1); // timing_info_present_flag
        bits.put(1, 32); // num_units_in_display_tick
        bits.put(25, 32); // time_scale
        bits.put(1, 1); // equal_picture_interval
        bits.put(1, 1); // uvlc 0: num_ticks_per_picture_minus_1
        bits.put(0, 1); // decoder_model_info_present_flag
        bits.put(0, 1); // initial_display_delay_present_flag
        bits.put(0, 5); // operating_points_cnt_minus_1
        bits.put(0, 12); // operating_point_idc
        bits.put(8, 5); // seq_level_idx
        bits.put(0, 1); // seq_tier
        bits.put(5, 4); // frame_width_bits_minus_1
        bits.put(5, 4); // frame_height_bits_minus_1
        bits.put(63, 6); // max_frame_width_minus_1
        bits.put(63, 6); // max_frame_height_minus_1
        bits.put(0, 1); // frame_id_numbers_present_flag
        bits.put(0, 3); // 128x128, filter intra, intra edge
        bits.put(0, 4); // interintra, masked, warped, dual filter
        bits.put(0, 1); // enable_order_hint
        bits.put(1, 1); // seq_choose_screen_content_tools
        bits.put(1, 1); // seq_choose_integer_mv
        bits.put(0, 3); // superres, cdef, restoration
        bits.put(0, 1); // high_bitdepth
        bits.put(0, 1); // mono_chrome
        bits.put(0, 1); // color_description_present_flag
        bits.put(0, 1); // color_range
        bits.put(0, 2); // chroma_sample_position
        bits.put(0, 1); // separate_uv_delta_q
        bits.put(0, 1); // film_grain_params_present
        bits.put(1, 1); // trailing bit
        bits.bytes()
    }

    #[derive(Default)]
    pub(crate) struct Bits {
        bits: Vec<bool>,
    }

    impl Bits {
        pub(crate) fn put(&mut self, value: u64, count: u32) {
            for bit in (0..count).rev() {
                self.bits.push((value >> bit) & 1 == 1);
            }
        }

        pub(crate) fn bytes(&self) -> Vec<u8> {
            self.bits
                .chunks(8)
                .map(|chunk| {
                    chunk
                        .iter()
                        .enumerate()
                        .fold(0u8, |byte, (i, &bit)| byte | (u8::from(bit) << (7 - i)))
                })
                .collect()
        }
    }

    #[test]
    fn timing_info_and_the_av1c_record() {
        let payload = sequence_header_with_timing();
        assert_eq!(frame_duration(&payload), Some((1, 25)));
        let header = SequenceHeader::parse(&payload).unwrap();
        assert_eq!(header.max_frame_width, 64);
        let mut unit = Vec::new();
        write_obu(OBU_SEQUENCE_HEADER << 3, None, &payload, &mut unit);
        let mut sequence = Av1Sequence::default();
        sequence.observe(&unit);
        let record = sequence.av1c();
        assert_eq!(&record[..4], &[0x81, 0x08, 0x0c, 0]);
        let config = stillframe_bitstream::av1::parse_av1c(&record).unwrap();
        assert_eq!(config.sequence_header().unwrap(), Some(header));
        assert_eq!(sequence.timing(), Some((1, 25)));
        // No timing info: reduced still picture header.
        assert_eq!(frame_duration(&[0b0000_1000]), None);
    }

    #[test]
    fn annex_b_units_become_low_overhead() {
        // TU: one frame unit of a TD (obu_length 1), a padding OBU without a size
        // field (3 bytes), and one with an extension and its own size field.
        let frame_unit = [
            1,
            OBU_TEMPORAL_DELIMITER << 3,
            3,
            15 << 3,
            0xaa,
            0xbb,
            5,
            (15 << 3) | 0x06,
            0x28,
            2,
            0xcc,
            0xdd,
        ];
        let mut unit = vec![u8::try_from(frame_unit.len() + 1).unwrap()];
        unit.push(u8::try_from(frame_unit.len()).unwrap());
        unit.extend(frame_unit);
        let converted = annex_b_to_low_overhead(&unit).unwrap();
        assert_eq!(
            converted,
            [
                (15 << 3) | 2,
                2,
                0xaa,
                0xbb,
                (15 << 3) | 0x06,
                0x28,
                2,
                0xcc,
                0xdd
            ]
        );
        let obus = split_obus(&converted).unwrap();
        assert_eq!(obus.len(), 2);
        // Sizes that run past their container.
        assert!(annex_b_to_low_overhead(&[5, 1]).is_err());
        assert!(annex_b_to_low_overhead(&[2, 3, 1]).is_err());
        assert!(annex_b_to_low_overhead(&[3, 2, 5, 0x10]).is_err());
        assert!(annex_b_to_low_overhead(&[]).is_err());
    }
}
