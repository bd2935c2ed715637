//! How much memory rusty_h265 will take for a sequence, estimated from its SPS
//! before the decoder sees it — the guard against a few dozen bytes that declare a
//! 16384 × 16384 sequence and make the library allocate gigabytes.

use stillframe_bitstream::hevc::Sps;

/// Bytes of one `rusty_h265::pic::Motion` (two vectors, two reference indices, two
/// reference POCs and flags): kept per 4×4 block of the picture being decoded, and
/// per 16×16 block of every stored picture for temporal motion vector prediction.
const MOTION_BYTES: u64 = 24;

/// Working state rusty_h265 keeps per 4×4 block, for the picture being decoded and
/// the one recycled for the next (`PicState`: seven byte maps and a motion record),
/// plus the sequence's z-scan table and the deblocking strength maps: measured
/// from its sources as 7 + 24 + 4 + 2, rounded up.
const WORKING_BYTES_PER_4X4: u64 = 2 * (7 + MOTION_BYTES) + 4 + 2 + 3;

/// Working bytes per luma sample outside the per-block maps: the in-loop filters'
/// copy of a plane (`u16` samples for SAO).
const FILTER_BYTES_PER_SAMPLE: u64 = 2;

/// Pictures rusty_h265 holds beyond the DPB: the one being decoded and one
/// finished picture on its way out, plus the buffers its picture pool keeps for
/// reuse (it keeps up to 6; a stream that drains its DPB at an IDR parks more).
const EXTRA_PICTURES: u64 = 2 + 6;

/// Bytes rusty_h265 holds at most for pictures coded with `sps`: the pictures of
/// its decoded picture buffer (`sps_max_dec_pic_buffering` of the highest
/// sub-layer) and those beyond it, each stored as `u16` samples at the coded size
/// with its 16×16 motion field, plus the per-block working state of the picture
/// being decoded, plus one output picture as the adapter copies it out.
///
/// ```
/// use stillframe_bitstream::hevc::parse_sps;
/// // x265's SPS of a 320x240 Main stream: about 4 MB.
/// # let nal = [
/// #     0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03,
/// #     0x00, 0x00, 0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0f, 0x16, 0x59, 0x59, 0x64,
/// #     0x93, 0x2b, 0xc0, 0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03,
/// #     0x00, 0x32, 0x10,
/// # ];
/// let sps = parse_sps(&nal).unwrap();
/// let bytes = stillframe_hevc::decoder_bytes(&sps);
/// assert!((3_000_000..8_000_000).contains(&bytes), "{bytes}");
/// ```
pub fn decoder_bytes(sps: &Sps) -> u64 {
    let (width, height) = sps.coded_size();
    let (width, height) = (u64::from(width), u64::from(height));
    let luma = width * height;
    let (unit_x, unit_y) = sps.chroma_units();
    let chroma = match sps.chroma_format_idc {
        0 => 0,
        _ => 2 * width.div_ceil(u64::from(unit_x)) * height.div_ceil(u64::from(unit_y)),
    };
    let motion_field = width.div_ceil(16) * height.div_ceil(16) * MOTION_BYTES;
    let picture = 2 * (luma + chroma) + motion_field;
    let pictures = u64::from(sps.highest_sub_layer_ordering().max_dec_pic_buffering)
        .max(1)
        .saturating_add(EXTRA_PICTURES);
    let blocks = width.div_ceil(4) * height.div_ceil(4);
    let working = blocks * WORKING_BYTES_PER_4X4 + luma * FILTER_BYTES_PER_SAMPLE;
    let bytes_per_sample = if sps.bit_depth_luma.max(sps.bit_depth_chroma) > 8 {
        2
    } else {
        1
    };
    let output = (luma + chroma) * bytes_per_sample;
    pictures
        .saturating_mul(picture)
        .saturating_add(working)
        .saturating_add(output)
}
