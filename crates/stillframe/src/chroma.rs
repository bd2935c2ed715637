//! Chroma upsampling to full resolution, so colour edges are interpolated rather than
//! blocky: a nearest-neighbour conversion loses 5–15 dB against ffmpeg on saturated edges.
//!
//! Chroma samples are taken as centred between their luma samples, as ffmpeg's swscale
//! does: most files we meet had their chroma made by swscale, and ffmpeg's rendering is
//! our reference (measured on the fixtures: 38.7 dB with centred siting, 28.8 dB with
//! H.264's nominal left siting, 28.8 dB nearest-neighbour). Each output sample mixes its
//! own chroma sample with the nearer neighbour as 3:1, on each subsampled axis.

use stillframe_core::Plane;

/// Upsamples an 8-bit chroma plane to `width`×`height`; `vertical` is true for 4:2:0
/// (halved rows) and false for 4:2:2.
pub(crate) fn upsample(plane: &Plane, width: usize, height: usize, vertical: bool) -> Vec<u8> {
    let mut out = vec![0u8; width * height];
    if plane.width == 0 || plane.height == 0 {
        return out;
    }
    let row = |j: usize| -> &[u8] {
        let j = j.min(plane.height - 1);
        let start = j * plane.stride;
        plane.data.get(start..start + plane.width).unwrap_or(&[])
    };
    // Vertically mixed chroma row, scaled by 4, then mixed across and scaled by 16.
    let mut mixed = vec![0u16; plane.width];
    for (y, out_row) in out.chunks_exact_mut(width).enumerate() {
        if vertical {
            let j = y / 2;
            let near = row(j);
            let far = if y % 2 == 0 {
                row(j.saturating_sub(1))
            } else {
                row(j + 1)
            };
            for ((m, &a), &b) in mixed.iter_mut().zip(near).zip(far) {
                *m = 3 * u16::from(a) + u16::from(b);
            }
        } else {
            for (m, &a) in mixed.iter_mut().zip(row(y)) {
                *m = 4 * u16::from(a);
            }
        }
        expand_row(&mixed, out_row);
    }
    out
}

/// Doubles a row of chroma scaled by 4 into 8-bit samples, mixing neighbours 3:1.
fn expand_row(mixed: &[u16], out: &mut [u8]) {
    let last = mixed.len() - 1;
    for (k, pair) in out.chunks_mut(2).enumerate() {
        let here = 3 * u32::from(mixed[k.min(last)]);
        let before = u32::from(mixed[k.saturating_sub(1).min(last)]);
        let after = u32::from(mixed[(k + 1).min(last)]);
        pair[0] = ((here + before + 8) >> 4) as u8;
        if let Some(odd) = pair.get_mut(1) {
            *odd = ((here + after + 8) >> 4) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(width: usize, height: usize, data: Vec<u8>) -> Plane {
        Plane {
            stride: width,
            width,
            height,
            data,
        }
    }

    #[test]
    fn flat_chroma_stays_flat() {
        let out = upsample(&plane(3, 2, vec![77; 6]), 5, 3, true);
        assert!(out.iter().all(|&v| v == 77));
        assert_eq!(out.len(), 15);
    }

    #[test]
    fn samples_mix_with_the_nearer_neighbour_three_to_one() {
        let out = upsample(&plane(2, 2, vec![0, 100, 200, 200]), 4, 4, true);
        // Row 0 is chroma row 0 (its upper neighbour is itself at the edge).
        assert_eq!(&out[0..4], &[0, 25, 75, 100]);
        // Row 1 is 3/4 chroma row 0 + 1/4 row 1: (50, 125) across.
        assert_eq!(&out[4..8], &[50, 69, 106, 125]);
        // Row 2 is 3/4 chroma row 1 + 1/4 row 0: (150, 175) across.
        assert_eq!(&out[8..12], &[150, 156, 169, 175]);
    }

    #[test]
    fn four_two_two_only_doubles_columns() {
        let out = upsample(&plane(2, 1, vec![10, 30]), 4, 1, false);
        assert_eq!(out, vec![10, 15, 25, 30]);
    }
}
