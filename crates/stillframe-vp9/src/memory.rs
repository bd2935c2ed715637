//! How much memory rusty_vp9 0.1.3 can hold for a frame size, from its layout.
//!
//! Every sample is a `u16` whatever the bit depth, and each plane is padded by 72
//! samples on both axes with its row length rounded up to a power of two
//! (`decode.rs`, `Plane::new_recycled`). A decoder holds up to 8 reference
//! slots, the frame being decoded and a pool of 2 retired buffers, plus per 8×8
//! block a `ModeInfo` (96 bytes), this and the previous frame's motion vectors
//! (20 bytes each) and two segment maps (1 byte each), and the cropped copy it
//! hands out per shown frame. `tests/memory.rs` checks the estimate against what
//! a counting allocator sees.

use stillframe_bitstream::vp9::ColorConfig;

/// Padding rusty_vp9 puts around each plane, in samples per axis.
const PLANE_BORDER: u64 = 72;
/// Bytes per stored sample: always `u16`.
const STORED_SAMPLE_BYTES: u64 = 2;
/// Reference slots, plus the frame being decoded and rusty_vp9's pool of two.
const FRAME_BUFFERS_BEYOND_SLOTS: u64 = 3;
/// Per 8×8 block: `ModeInfo`, two motion vector records, two segment maps.
const BLOCK_SIDE_DATA_BYTES: u64 = 96 + 2 * 20 + 2;
/// Decoded copies that may be alive at once: rusty_vp9's and the caller's.
const OUTPUT_COPIES: u64 = 2;

/// Bytes of one of rusty_vp9's frame buffers for a `width` × `height` frame.
pub(crate) fn frame_buffer_bytes(width: u32, height: u32, color: &ColorConfig) -> u64 {
    let (luma, chroma) = plane_sizes(width, height, color);
    padded_plane_bytes(luma) + 2 * padded_plane_bytes(chroma)
}

/// The most a decoder can hold while it decodes a `width` × `height` frame, when
/// its reference slots hold frames of `slot_bytes` each (from
/// [`frame_buffer_bytes`]; 0 for an empty slot).
pub(crate) fn decoding_bytes(
    width: u32,
    height: u32,
    color: &ColorConfig,
    slot_bytes: impl IntoIterator<Item = u64>,
) -> u64 {
    let current = frame_buffer_bytes(width, height, color);
    let (slots, largest) = slot_bytes
        .into_iter()
        .fold((0u64, current), |(sum, largest), bytes| {
            (sum.saturating_add(bytes), largest.max(bytes))
        });
    let blocks = u64::from(width.div_ceil(8)) * u64::from(height.div_ceil(8));
    let (luma, chroma) = plane_sizes(width, height, color);
    let sample_bytes = if color.bit_depth > 8 { 2 } else { 1 };
    let output = (area(luma) + 2 * area(chroma)) * sample_bytes;
    slots
        .saturating_add(FRAME_BUFFERS_BEYOND_SLOTS.saturating_mul(largest))
        .saturating_add(blocks.saturating_mul(BLOCK_SIDE_DATA_BYTES))
        .saturating_add(OUTPUT_COPIES.saturating_mul(output))
}

/// The most a decoder holds for a stream of `width` × `height` frames: 8
/// reference slots filled with distinct frames of that size, the frame being
/// decoded, rusty_vp9's pool of 2 retired buffers (every one a padded `u16`
/// buffer whatever the bit depth), the per-block side data, and two output
/// copies. This is what [`crate::Vp9Decoder`] checks against
/// [`stillframe_core::Limits::max_decoder_bytes`] for each new frame size (with
/// the slots' actual sizes where they differ).
///
/// ```
/// use stillframe_bitstream::vp9::{ColorConfig, ColorSpace};
///
/// let color = ColorConfig {
///     bit_depth: 8,
///     color_space: ColorSpace::Bt709,
///     full_range: false,
///     subsampling_x: true,
///     subsampling_y: true,
/// };
/// // 1080p: 11 padded u16 frame buffers of 9.7 MB, block data and two copies.
/// let bytes = stillframe_vp9::estimated_decoder_bytes(1920, 1080, &color);
/// assert!((100 << 20..130 << 20).contains(&bytes), "{bytes}");
/// ```
pub fn estimated_decoder_bytes(width: u32, height: u32, color: &ColorConfig) -> u64 {
    let slot = frame_buffer_bytes(width, height, color);
    decoding_bytes(
        width,
        height,
        color,
        std::iter::repeat_n(slot, stillframe_bitstream::vp9::NUM_REF_FRAMES),
    )
}

/// Luma and chroma plane sizes in samples.
fn plane_sizes(width: u32, height: u32, color: &ColorConfig) -> ((u64, u64), (u64, u64)) {
    let (w, h) = (u64::from(width), u64::from(height));
    let shift = |size: u64, by: bool| (size + u64::from(by)) >> u64::from(by);
    (
        (w, h),
        (shift(w, color.subsampling_x), shift(h, color.subsampling_y)),
    )
}

fn padded_plane_bytes((width, height): (u64, u64)) -> u64 {
    let stride = (width + PLANE_BORDER).next_power_of_two();
    stride * (height + PLANE_BORDER) * STORED_SAMPLE_BYTES
}

fn area((width, height): (u64, u64)) -> u64 {
    width * height
}

#[cfg(test)]
mod tests {
    use super::*;
    use stillframe_bitstream::vp9::ColorSpace;

    const YUV420: ColorConfig = ColorConfig {
        bit_depth: 8,
        color_space: ColorSpace::Unknown,
        full_range: false,
        subsampling_x: true,
        subsampling_y: true,
    };

    #[test]
    fn follows_rusty_vp9s_plane_layout() {
        // 320x240: luma rows of 512 u16 (392 rounded up) × 312 rows; chroma 256 × 192.
        assert_eq!(
            frame_buffer_bytes(320, 240, &YUV420),
            512 * 312 * 2 + 2 * 256 * 192 * 2
        );
    }

    #[test]
    fn the_largest_sizes_are_far_above_the_default_budget() {
        let default = stillframe_core::Limits::default().max_decoder_bytes;
        assert!(estimated_decoder_bytes(16384, 16384, &YUV420) > default);
        assert!(estimated_decoder_bytes(65536, 65536, &YUV420) > default);
        // 8K UHD fits.
        assert!(estimated_decoder_bytes(7680, 4320, &YUV420) < default);
        // Nothing overflows at VP9's largest size.
        let slot = frame_buffer_bytes(65536, 65536, &YUV420);
        assert!(decoding_bytes(65536, 65536, &YUV420, [slot; 8]) > 8 * slot);
    }
}
