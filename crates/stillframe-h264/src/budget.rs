//! How much memory a decoder will take for a sequence, estimated from its SPS
//! before the decoder sees it — the guard against a few hundred bytes that
//! declare a 16384 × 16384 sequence and make the library allocate gigabytes.

use stillframe_bitstream::h264::Sps;

/// Side data rust_h264 keeps per macroblock of a reference picture (motion
/// vectors, reference indices and POCs per 4×4 block, deblocking info): 16
/// blocks × (2 × 4 bytes of vectors + 2 reference indices + 2 × 4 bytes of POCs)
/// plus the macroblock record, rounded up.
const REFERENCE_BYTES_PER_MB: u64 = 400;

/// Working state per macroblock of the picture being decoded (neighbour contexts,
/// vector differences, CABAC state, per-block flags), rounded up.
const WORKING_BYTES_PER_MB: u64 = 800;

/// Most pictures a decoded picture buffer holds (H.264 § A.3.1 caps
/// `max_dec_frame_buffering` at 16).
const MAX_DPB_FRAMES: u64 = 16;

/// Bytes a decoder holds at most for pictures coded with `sps`: its reference and
/// output pictures with their side data, plus the picture in progress and one
/// finished picture handed out.
///
/// ```
/// use stillframe_bitstream::h264::parse_sps;
/// // 64x64 Constrained Baseline: 16 macroblocks, a few kilobytes a picture.
/// let sps = parse_sps(&[0x67, 0x42, 0xc0, 0x0a, 0xda, 0x10, 0x99]).unwrap();
/// assert!(stillframe_h264::decoder_bytes(&sps) < 200_000);
/// ```
pub fn decoder_bytes(sps: &Sps) -> u64 {
    let (width, height) = sps.coded_size();
    let pixels = u64::from(width) * u64::from(height);
    let macroblocks = pixels / 256;
    let bytes_per_sample = if sps.bit_depth_luma.max(sps.bit_depth_chroma) > 8 {
        2
    } else {
        1
    };
    // Chroma as output: monochrome comes out as 4:2:0 with grey planes.
    let chroma_samples = match sps.chroma_format_idc {
        2 => pixels,
        3 => 2 * pixels,
        _ => pixels / 2,
    };
    let picture = (pixels + chroma_samples) * bytes_per_sample;
    let stored = picture + macroblocks * REFERENCE_BYTES_PER_MB;
    let buffered = sps
        .vui
        .as_ref()
        .and_then(|vui| vui.max_dec_frame_buffering)
        .map_or(0, u64::from)
        .max(u64::from(sps.max_num_ref_frames))
        .clamp(1, MAX_DPB_FRAMES);
    (buffered + 2) * stored + macroblocks * WORKING_BYTES_PER_MB
}
