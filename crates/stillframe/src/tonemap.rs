//! Colour science for HDR pictures: transfer functions, primaries and the tone curve
//! that turns PQ and HLG into SDR BT.709 (see [`crate::DynamicRangePolicy::ForceSdr`]).
//!
//! The operator reproduces ffmpeg's
//! `zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709`
//! (zimg 3.0 and `vf_tonemap`), so it can be checked against it.

use std::sync::OnceLock;

/// Linear light, in units of the SDR reference white (100 cd/m²), at which the
/// tone curve reaches white: 1000 cd/m², the peak ffmpeg's `tonemap` assumes when a
/// frame carries no mastering metadata.
pub(crate) const PEAK: f32 = 10.0;

/// The HDR transfers we convert from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HdrTransfer {
    /// SMPTE ST 2084 (H.273 transfer 16).
    Pq,
    /// ARIB STD-B67 / BT.2100 HLG (H.273 transfer 18).
    Hlg,
}

impl HdrTransfer {
    /// The HDR transfer with H.273 code point `code`, if it is one.
    pub(crate) fn from_code(code: u8) -> Option<HdrTransfer> {
        match code {
            16 => Some(HdrTransfer::Pq),
            18 => Some(HdrTransfer::Hlg),
            _ => None,
        }
    }

    /// Display light (1.0 = 100 cd/m²) of a signal value in `0..=1`.
    fn to_linear(self, signal: f64) -> f64 {
        let signal = signal.clamp(0.0, 1.0);
        match self {
            HdrTransfer::Pq => {
                // SMPTE ST 2084 EOTF; 1.0 is 10 000 cd/m².
                const M1: f64 = 2610.0 / 16384.0;
                const M2: f64 = 2523.0 / 4096.0 * 128.0;
                const C1: f64 = 3424.0 / 4096.0;
                const C2: f64 = 2413.0 / 4096.0 * 32.0;
                const C3: f64 = 2392.0 / 4096.0 * 32.0;
                let p = signal.powf(1.0 / M2);
                let num = (p - C1).max(0.0);
                let den = (C2 - C3 * p).max(f64::MIN_POSITIVE);
                (num / den).powf(1.0 / M1) * 100.0
            }
            HdrTransfer::Hlg => {
                // ARIB STD-B67 inverse OETF, then the system gamma 1.2 of a 1000 cd/m²
                // display applied per channel (as zimg does), scaled to 1000 cd/m².
                const A: f64 = 0.178_832_77;
                const B: f64 = 0.284_668_92;
                const C: f64 = 0.559_910_73;
                let scene = if signal <= 0.5 {
                    signal * signal / 3.0
                } else {
                    (((signal - C) / A).exp() + B) / 12.0
                };
                scene.powf(1.2) * 10.0
            }
        }
    }

    /// Signal → display light, tabulated at [`LINEAR_STEPS`] even steps of the signal
    /// (read with [`lookup`], which interpolates: within 2·10⁻⁵ relative of the
    /// exact curve above 0.1 cd/m²).
    pub(crate) fn table(self) -> &'static [f32] {
        static PQ: OnceLock<Vec<f32>> = OnceLock::new();
        static HLG: OnceLock<Vec<f32>> = OnceLock::new();
        let cell = match self {
            HdrTransfer::Pq => &PQ,
            HdrTransfer::Hlg => &HLG,
        };
        cell.get_or_init(|| {
            (0..=LINEAR_STEPS)
                .map(|i| self.to_linear(f64::from(i) / f64::from(LINEAR_STEPS)) as f32)
                .chain(std::iter::once(self.to_linear(1.0) as f32))
                .collect()
        })
    }
}

/// Steps of the signal → light table.
pub(crate) const LINEAR_STEPS: u32 = 4096;

/// Linear interpolation in `table` (`steps + 2` entries, the last a spare copy) at
/// `position` in `0..=steps`.
#[inline(always)]
fn interpolate(table: &[f32], position: f32) -> f32 {
    let last = table.len().saturating_sub(2);
    let index = (position as usize).min(last);
    let fraction = position - index as f32;
    match (table.get(index), table.get(index + 1)) {
        (Some(&low), Some(&high)) => low + (high - low) * fraction,
        _ => 0.0,
    }
}

/// Display light of a signal value, from a [`HdrTransfer::table`].
#[inline(always)]
pub(crate) fn lookup(table: &[f32], signal: f32) -> f32 {
    interpolate(table, signal.clamp(0.0, 1.0) * LINEAR_STEPS as f32)
}

/// The Hable ("Uncharted 2") filmic curve, as ffmpeg's `vf_tonemap` has it.
#[inline(always)]
pub(crate) fn hable(x: f32) -> f32 {
    const A: f32 = 0.15;
    const B: f32 = 0.50;
    const C: f32 = 0.10;
    const D: f32 = 0.20;
    const E: f32 = 0.02;
    const F: f32 = 0.30;
    (x * (x * A + B * C) + D * E) / (x * (x * A + B) + D * F) - E / F
}

/// Tone-maps one linear-light pixel (1.0 = 100 cd/m², BT.709 primaries) into `0..=1`
/// display light: the brightest component follows the Hable curve normalised to
/// [`PEAK`], and all three are scaled alike, so hue is kept.
#[inline(always)]
pub(crate) fn tone_map([r, g, b]: [f32; 3], inverse_white: f32) -> [f32; 3] {
    let signal = r.max(g).max(b).max(1e-6);
    let scale = hable(signal) * inverse_white / signal;
    [
        (r * scale).clamp(0.0, 1.0),
        (g * scale).clamp(0.0, 1.0),
        (b * scale).clamp(0.0, 1.0),
    ]
}

/// `1 / hable(PEAK)`.
pub(crate) fn inverse_white() -> f32 {
    1.0 / hable(PEAK)
}

/// The inverse BT.1886 EOTF of an ideal display, `V = L^(1/2.4)`, exactly.
pub(crate) fn bt1886_inverse_exact(light: f64) -> f64 {
    light.max(0.0).powf(1.0 / 2.4)
}

/// Steps of the display-light → signal table, spaced evenly in `sqrt(L)` so the
/// steep start of the curve gets as many as the rest.
const GAMMA_STEPS: usize = 4096;

/// [`bt1886_inverse_exact`] tabulated at `sqrt(L) = i / GAMMA_STEPS`, one spare entry.
fn gamma_table() -> &'static [f32] {
    static TABLE: OnceLock<Vec<f32>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..=GAMMA_STEPS + 1)
            .map(|i| {
                let root = i as f64 / GAMMA_STEPS as f64;
                bt1886_inverse_exact(root * root) as f32
            })
            .collect()
    })
}

/// The inverse BT.1886 EOTF of a light value in `0..=1`, interpolated from a table
/// (within 4·10⁻⁵ of the exact curve: under 3 steps of 16-bit output near black,
/// far less elsewhere).
#[cfg(test)]
fn bt1886_inverse(table: &[f32], light: f32) -> f32 {
    interpolate(table, gamma_position(light))
}

/// Where `light` falls in the [`bt1886_table`]: `sqrt(L)` in table steps.
#[inline(always)]
pub(crate) fn gamma_position(light: f32) -> f32 {
    light.clamp(0.0, 1.0).sqrt() * GAMMA_STEPS as f32
}

/// Reads the [`bt1886_table`] at a [`gamma_position`].
#[inline(always)]
pub(crate) fn bt1886_at(table: &[f32], position: f32) -> f32 {
    interpolate(table, position)
}

/// The table [`bt1886_at`] reads.
pub(crate) fn bt1886_table() -> &'static [f32] {
    gamma_table()
}

/// Chromaticities `(x, y)` of red, green, blue and white for an H.273 `ColourPrimaries`
/// code point; `None` for unspecified, XYZ and unknown values.
fn chromaticities(code: u8) -> Option<[(f64, f64); 4]> {
    const D65: (f64, f64) = (0.3127, 0.3290);
    const ILLUMINANT_C: (f64, f64) = (0.310, 0.316);
    Some(match code {
        1 => [(0.640, 0.330), (0.300, 0.600), (0.150, 0.060), D65],
        4 => [(0.67, 0.33), (0.21, 0.71), (0.14, 0.08), ILLUMINANT_C],
        5 => [(0.64, 0.33), (0.29, 0.60), (0.15, 0.06), D65],
        6 | 7 => [(0.630, 0.340), (0.310, 0.595), (0.155, 0.070), D65],
        8 => [(0.681, 0.319), (0.243, 0.692), (0.145, 0.049), ILLUMINANT_C],
        9 => [(0.708, 0.292), (0.170, 0.797), (0.131, 0.046), D65],
        11 => [
            (0.680, 0.320),
            (0.265, 0.690),
            (0.150, 0.060),
            (0.314, 0.351),
        ],
        12 => [(0.680, 0.320), (0.265, 0.690), (0.150, 0.060), D65],
        22 => [(0.630, 0.340), (0.295, 0.605), (0.155, 0.077), D65],
        _ => return None,
    })
}

type Matrix = [[f64; 3]; 3];

fn multiply(a: &Matrix, b: &Matrix) -> Matrix {
    let mut out = [[0.0; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

fn invert(m: &Matrix) -> Option<Matrix> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if det.abs() < 1e-12 {
        return None;
    }
    let c =
        |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    Some([
        [
            c(1, 1, 2, 2) / det,
            -c(0, 1, 2, 2) / det,
            c(0, 1, 1, 2) / det,
        ],
        [
            -c(1, 0, 2, 2) / det,
            c(0, 0, 2, 2) / det,
            -c(0, 0, 1, 2) / det,
        ],
        [
            c(1, 0, 2, 1) / det,
            -c(0, 0, 2, 1) / det,
            c(0, 0, 1, 1) / det,
        ],
    ])
}

/// Linear RGB with primaries `code` → CIE XYZ (white at Y = 1).
fn rgb_to_xyz(code: u8) -> Option<Matrix> {
    let [r, g, b, w] = chromaticities(code)?;
    let column = |(x, y): (f64, f64)| [x / y, 1.0, (1.0 - x - y) / y];
    let (cr, cg, cb) = (column(r), column(g), column(b));
    let primaries = [
        [cr[0], cg[0], cb[0]],
        [cr[1], cg[1], cb[1]],
        [cr[2], cg[2], cb[2]],
    ];
    let white = column(w);
    let inverse = invert(&primaries)?;
    let s: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|k| inverse[i][k] * white[k]).sum())
        .collect();
    let mut out = primaries;
    for row in &mut out {
        for (cell, scale) in row.iter_mut().zip(&s) {
            *cell *= scale;
        }
    }
    Some(out)
}

/// The linear-light matrix from primaries `code` to BT.709, without chromatic
/// adaptation (as zimg); `None` when they are BT.709 already or unknown.
pub(crate) fn to_bt709(code: u8) -> Option<[[f32; 3]; 3]> {
    if matches!(code, 1) {
        return None;
    }
    let to_xyz = rgb_to_xyz(code)?;
    let from_xyz = invert(&rgb_to_xyz(1)?)?;
    Some(multiply(&from_xyz, &to_xyz).map(|row| row.map(|v| v as f32)))
}

/// Luma weights `(Kr, Kb)` derived from primaries (H.273 matrix 12), if known.
pub(crate) fn luma_weights(code: u8) -> Option<(f32, f32)> {
    let m = rgb_to_xyz(code)?;
    Some((m[1][0] as f32, m[1][2] as f32))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pq_reference_points() {
        // 0.508 of the PQ signal is 100 cd/m², full signal 10 000 cd/m².
        let hundred = HdrTransfer::Pq.to_linear(0.508_078);
        assert!((hundred - 1.0).abs() < 1e-3, "{hundred}");
        assert!((HdrTransfer::Pq.to_linear(1.0) - 100.0).abs() < 1e-9);
        assert_eq!(HdrTransfer::Pq.to_linear(0.0), 0.0);
    }

    #[test]
    fn tabulated_transfers_stay_close_to_the_curves() {
        for transfer in [HdrTransfer::Pq, HdrTransfer::Hlg] {
            let table = transfer.table();
            for i in 0..=20_000 {
                let signal = f64::from(i) / 20_000.0;
                let exact = transfer.to_linear(signal);
                let ours = f64::from(lookup(table, signal as f32));
                // Relative to the value, with a floor of 0.1 cd/m² (0.001 here).
                let error = (ours - exact).abs() / exact.max(0.001);
                assert!(error < 2e-5, "{transfer:?} at {signal}: {ours} vs {exact}");
            }
            assert_eq!(lookup(table, 2.0), lookup(table, 1.0));
            assert_eq!(lookup(table, -1.0), 0.0);
        }
    }

    #[test]
    fn hlg_reference_points() {
        // Signal 0.5 is scene light 1/12; full signal is the 1000 cd/m² peak.
        let half = HdrTransfer::Hlg.to_linear(0.5);
        assert!((half - 10.0 * (1.0f64 / 12.0).powf(1.2)).abs() < 1e-9);
        assert!((HdrTransfer::Hlg.to_linear(1.0) - 10.0).abs() < 1e-6);
    }

    #[test]
    fn bt2020_to_bt709_matches_bt2087() {
        // ITU-R BT.2087 gives the BT.2020 → BT.709 matrix to four places.
        let m = to_bt709(9).unwrap();
        let expected = [
            [1.6605, -0.5876, -0.0728],
            [-0.1246, 1.1329, -0.0083],
            [-0.0182, -0.1006, 1.1187],
        ];
        for (row, want) in m.iter().zip(expected) {
            for (v, w) in row.iter().zip(want) {
                assert!((v - w).abs() < 6e-4, "{m:?}");
            }
        }
        assert_eq!(to_bt709(1), None);
        assert_eq!(to_bt709(2), None);
    }

    #[test]
    fn luma_weights_from_primaries() {
        let (kr, kb) = luma_weights(1).unwrap();
        assert!((kr - 0.2126).abs() < 1e-4 && (kb - 0.0722).abs() < 1e-4);
        let (kr, kb) = luma_weights(9).unwrap();
        assert!((kr - 0.2627).abs() < 1e-4 && (kb - 0.0593).abs() < 1e-4);
    }

    #[test]
    fn tabulated_gamma_stays_within_its_documented_error() {
        let table = bt1886_table();
        let worst = (0..=100_000)
            .map(|i| {
                let light = f64::from(i) / 100_000.0;
                let exact = bt1886_inverse_exact(light);
                (f64::from(bt1886_inverse(table, light as f32)) - exact).abs()
            })
            .fold(0.0, f64::max);
        assert!(worst < 4e-5, "{worst}");
        assert_eq!(bt1886_inverse(table, 1.0), 1.0);
        assert_eq!(bt1886_inverse(table, 0.0), 0.0);
        assert_eq!(bt1886_inverse(table, 2.0), 1.0);
    }

    #[test]
    fn tone_curve_sends_the_peak_to_white_and_keeps_hue() {
        let white = inverse_white();
        let peak = tone_map([PEAK, PEAK, PEAK], white);
        assert!(peak.iter().all(|&c| (c - 1.0).abs() < 1e-6));
        let dark = tone_map([0.0, 0.0, 0.0], white);
        assert_eq!(dark, [0.0, 0.0, 0.0]);
        let [r, g, b] = tone_map([4.0, 2.0, 1.0], white);
        assert!((r / g - 2.0).abs() < 1e-5 && (g / b - 2.0).abs() < 1e-5);
        assert!(r < 1.0);
    }
}
