//! The start of a slice segment header (H.265 § 7.3.6.1), through
//! `slice_pic_order_cnt_lsb`: enough to find picture boundaries and order pictures.

use stillframe_core::bits::{unescape_rbsp, BitReader, OutOfBits};
use stillframe_core::{Error, Result};

use super::nal::NalHeader;
use super::pps::PpsHead;
use super::sps::Sps;

/// The slice types of § 7.4.7.1 (Table 7-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SliceType {
    /// `slice_type` 0: bi-predicted.
    B,
    /// `slice_type` 1: predicted.
    P,
    /// `slice_type` 2: intra only.
    I,
}

/// The fields an independent slice segment carries and a dependent one inherits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IndependentSliceFields {
    /// `slice_type`.
    pub slice_type: SliceType,
    /// `pic_output_flag` (1 when the PPS does not send it).
    pub pic_output: bool,
    /// `colour_plane_id` when the SPS codes separate colour planes.
    pub colour_plane_id: Option<u8>,
    /// `slice_pic_order_cnt_lsb`; 0 for IDR pictures, which do not send it.
    pub pic_order_cnt_lsb: u32,
}

/// The start of a slice segment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SliceSegmentHeaderStart {
    /// The NAL unit header of the slice segment.
    pub nal: NalHeader,
    /// `first_slice_segment_in_pic_flag`: this segment starts a new picture.
    pub first_slice_segment_in_pic: bool,
    /// `no_output_of_prior_pics_flag` (IRAP pictures only; false otherwise).
    pub no_output_of_prior_pics: bool,
    /// `slice_pic_parameter_set_id`.
    pub pps_id: u8,
    /// `dependent_slice_segment_flag`.
    pub dependent_slice_segment: bool,
    /// `slice_segment_address` (0 for the first segment of a picture).
    pub slice_segment_address: u32,
    /// The fields after `slice_segment_address`; `None` for a dependent slice
    /// segment, which takes them from the independent segment before it.
    pub independent: Option<IndependentSliceFields>,
}

/// The first bit of a slice segment's payload, `first_slice_segment_in_pic_flag`,
/// without any parameter set; `None` when the unit has no payload.
///
/// ```
/// assert_eq!(stillframe_bitstream::hevc::first_slice_segment_in_pic(&[0x26, 0x01, 0xaf]), Some(true));
/// ```
pub fn first_slice_segment_in_pic(nal: &[u8]) -> Option<bool> {
    nal.get(2).map(|byte| byte & 0x80 != 0)
}

/// Parses the start of the slice segment header of a coded slice segment NAL unit
/// (types 0 to 31, two header bytes included), with `lookup` giving the PPS and
/// SPS its `slice_pic_parameter_set_id` names.
///
/// Fails with [`Error::Malformed`] when the unit is not a slice segment, is cut
/// short, refers to a parameter set `lookup` does not know, or has a field out of
/// range.
///
/// ```
/// use stillframe_bitstream::hevc::{parse_pps_head, parse_slice_segment_header_start, parse_sps, SliceType};
/// # let sps_nal = [
/// #     0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03,
/// #     0x00, 0x00, 0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0f, 0x16, 0x59, 0x59, 0x64,
/// #     0x93, 0x2b, 0xc0, 0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03,
/// #     0x00, 0x32, 0x10,
/// # ];
/// let sps = parse_sps(&sps_nal).unwrap();
/// let pps = parse_pps_head(&[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x22, 0x40]).unwrap();
/// // A TRAIL_R slice: first in picture, PPS 0, slice_type P (ue 1), POC LSB 3 in 8 bits.
/// let slice = [0x02, 0x01, 0b1101_0000, 0b0001_1100];
/// let header = parse_slice_segment_header_start(&slice, |id| (id == 0).then_some((&pps, &sps))).unwrap();
/// let fields = header.independent.unwrap();
/// assert_eq!((fields.slice_type, fields.pic_order_cnt_lsb), (SliceType::P, 3));
/// ```
pub fn parse_slice_segment_header_start<'a>(
    nal: &[u8],
    lookup: impl FnOnce(u8) -> Option<(&'a PpsHead, &'a Sps)>,
) -> Result<SliceSegmentHeaderStart> {
    let malformed = |message: String| Error::malformed("HEVC slice segment header", message);
    let header = NalHeader::parse(nal)
        .filter(NalHeader::is_vcl)
        .ok_or_else(|| malformed("not a coded slice segment NAL unit".to_owned()))?;
    // The fields read here take well under 64 bytes, even with 7 extra bits and
    // the largest addresses.
    let rbsp = unescape_rbsp(nal.get(2..nal.len().min(66)).unwrap_or_default());
    let r = &mut BitReader::new(&rbsp);
    let cut = |_: OutOfBits| malformed("cut short".to_owned());
    let first_slice_segment_in_pic = r.flag().map_err(cut)?;
    let no_output_of_prior_pics = header.is_irap() && r.flag().map_err(cut)?;
    let pps_id = r.ue().map_err(cut)?;
    let pps_id = u8::try_from(pps_id)
        .ok()
        .filter(|&id| id < 64)
        .ok_or_else(|| malformed(format!("slice_pic_parameter_set_id {pps_id} is above 63")))?;
    let (pps, sps) =
        lookup(pps_id).ok_or_else(|| malformed(format!("no PPS {pps_id} (or its SPS) yet")))?;
    let mut dependent_slice_segment = false;
    let mut slice_segment_address = 0;
    if !first_slice_segment_in_pic {
        if pps.dependent_slice_segments_enabled {
            dependent_slice_segment = r.flag().map_err(cut)?;
        }
        // Ceil(Log2(PicSizeInCtbsY)) bits.
        let ctbs = sps.pic_size_in_ctbs();
        let bits = u64::BITS - ctbs.saturating_sub(1).leading_zeros();
        slice_segment_address = r.bits(bits).map_err(cut)?;
        if u64::from(slice_segment_address) >= ctbs {
            return Err(malformed(format!(
                "slice_segment_address {slice_segment_address} is beyond the picture's {ctbs} \
                 coding tree blocks"
            )));
        }
    }
    let independent = if dependent_slice_segment {
        None
    } else {
        r.skip(usize::from(pps.num_extra_slice_header_bits))
            .map_err(cut)?;
        let slice_type = match r.ue().map_err(cut)? {
            0 => SliceType::B,
            1 => SliceType::P,
            2 => SliceType::I,
            other => return Err(malformed(format!("slice_type {other} is above 2"))),
        };
        let pic_output = !pps.output_flag_present || r.flag().map_err(cut)?;
        let colour_plane_id = if sps.separate_colour_plane {
            Some(r.u8(2).map_err(cut)?)
        } else {
            None
        };
        let pic_order_cnt_lsb = if header.is_idr() {
            0
        } else {
            r.bits(u32::from(sps.log2_max_pic_order_cnt_lsb))
                .map_err(cut)?
        };
        Some(IndependentSliceFields {
            slice_type,
            pic_output,
            colour_plane_id,
            pic_order_cnt_lsb,
        })
    };
    if first_slice_segment_in_pic && independent.is_none() {
        return Err(malformed(
            "the first slice segment of a picture is a dependent one".to_owned(),
        ));
    }
    Ok(SliceSegmentHeaderStart {
        nal: header,
        first_slice_segment_in_pic,
        no_output_of_prior_pics,
        pps_id,
        dependent_slice_segment,
        slice_segment_address,
        independent,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::hevc::nal::{NAL_CRA, NAL_IDR_W_RADL, NAL_TRAIL_R};
    use crate::hevc::testing::BitWriter;
    use crate::hevc::{parse_pps_head, parse_sps};

    const SPS: [u8; 42] = [
        0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
        0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0f, 0x16, 0x59, 0x59, 0x64, 0x93, 0x2b, 0xc0, 0x5a,
        0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x32, 0x10,
    ];

    /// A PPS with dependent slices, `pic_output_flag` and two extra header bits.
    fn pps() -> PpsHead {
        let mut b = BitWriter::default();
        b.ue(1)
            .ue(0)
            .flag(true)
            .flag(true)
            .put(2, 3)
            .flag(false)
            .flag(false);
        b.ue(0)
            .ue(0)
            .se(0)
            .flag(false)
            .flag(false)
            .flag(false)
            .se(0)
            .se(0);
        b.put(0, 6);
        let mut nal = vec![0x44, 0x01];
        nal.extend(b.rbsp());
        parse_pps_head(&nal).unwrap()
    }

    fn slice(nal_type: u8, fields: impl FnOnce(&mut BitWriter)) -> Vec<u8> {
        let mut b = BitWriter::default();
        fields(&mut b);
        let mut nal = vec![nal_type << 1, 0x01];
        nal.extend(b.rbsp());
        nal
    }

    #[test]
    fn independent_dependent_and_idr_segments() {
        let sps = parse_sps(&SPS).unwrap();
        let pps = pps();
        assert_eq!(sps.pic_size_in_ctbs(), 20);
        let lookup = |id: u8| (id == 1).then_some((&pps, &sps));
        // CRA: first, no_output_of_prior_pics, PPS 1, extra bits, I, output 0, LSB 200.
        let cra = slice(NAL_CRA, |b| {
            b.flag(true)
                .flag(true)
                .ue(1)
                .put(0, 2)
                .ue(2)
                .flag(false)
                .put(200, 8);
        });
        let header = parse_slice_segment_header_start(&cra, lookup).unwrap();
        assert!(header.first_slice_segment_in_pic && header.no_output_of_prior_pics);
        let fields = header.independent.unwrap();
        assert_eq!(fields.slice_type, SliceType::I);
        assert!(!fields.pic_output);
        assert_eq!(fields.pic_order_cnt_lsb, 200);
        // A dependent segment at CTB 17 (5 address bits for 20 CTBs of 64x64).
        let dependent = slice(NAL_TRAIL_R, |b| {
            b.flag(false).ue(1).flag(true).put(17, 5);
        });
        let header = parse_slice_segment_header_start(&dependent, lookup).unwrap();
        assert!(header.dependent_slice_segment && header.independent.is_none());
        assert_eq!(header.slice_segment_address, 17);
        // IDR: no POC LSB.
        let idr = slice(NAL_IDR_W_RADL, |b| {
            b.flag(true).flag(false).ue(1).put(0, 2).ue(0).flag(true);
        });
        let header = parse_slice_segment_header_start(&idr, lookup).unwrap();
        let fields = header.independent.unwrap();
        assert_eq!(
            (fields.slice_type, fields.pic_order_cnt_lsb),
            (SliceType::B, 0)
        );
        assert!(fields.pic_output);
        assert_eq!(first_slice_segment_in_pic(&idr), Some(true));
        assert_eq!(first_slice_segment_in_pic(&dependent), Some(false));
    }

    #[test]
    fn errors() {
        let sps = parse_sps(&SPS).unwrap();
        let pps = pps();
        let lookup = |id: u8| (id == 1).then_some((&pps, &sps));
        // Unknown PPS, address past the picture, slice_type 3, cut short, not a slice.
        let unknown = slice(NAL_TRAIL_R, |b| {
            b.flag(true).ue(2).put(0, 2).ue(1);
        });
        assert!(parse_slice_segment_header_start(&unknown, lookup).is_err());
        let far = slice(NAL_TRAIL_R, |b| {
            b.flag(false).ue(1).flag(false).put(25, 5);
        });
        let error = parse_slice_segment_header_start(&far, lookup).unwrap_err();
        assert!(error.to_string().contains("beyond"), "{error}");
        let bad_type = slice(NAL_TRAIL_R, |b| {
            b.flag(true).ue(1).put(0, 2).ue(3);
        });
        assert!(parse_slice_segment_header_start(&bad_type, lookup).is_err());
        assert!(parse_slice_segment_header_start(&[0x02, 0x01, 0x80], lookup).is_err());
        assert!(parse_slice_segment_header_start(&[0x40, 0x01, 0x80], lookup).is_err());
    }
}
