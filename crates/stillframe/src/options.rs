//! How an [`crate::ImageGenerator`] makes its images, with AVFoundation's names beside ours.

use stillframe_core::{Limits, Tolerance};

/// Which part of the picture, at which pixel shape, an image shows.
///
/// | stillframe | `AVAssetImageGenerator.ApertureMode` | pixel aspect | clean aperture crop |
/// |---|---|---|---|
/// | [`ApertureMode::Clean`] (default) | `.cleanAperture` (default) | applied | applied |
/// | [`ApertureMode::Production`] | `.productionAperture` | applied | not applied |
/// | [`ApertureMode::Encoded`] | `.encodedPixels` | not applied | not applied |
///
/// Sizes, in this order (see [`crate::RenderSettings::output_size`]):
/// 1. **Clean aperture** (MP4 `clap`, Matroska `PixelCrop*`): the rectangle centred on
///    the picture's centre plus the aperture's offset (ISO 14496-12 § 12.1.4). Its left
///    edge `(width − clean_width) / 2 + horizontal_offset` and its width `clean_width`
///    are each rounded to the nearest pixel, halves up, then clamped inside the picture
///    (at least one pixel); the same for top and height. A 256-wide picture with a
///    461/2-wide aperture moved by −3 keeps columns 10 to 240 (231 pixels).
/// 2. **Pixel aspect**: the width is scaled, the height kept, rounded to the nearest
///    pixel (halves up, at least 1): 720×480 with 32:27 pixels becomes 853×480.
/// 3. The transform, then [`MaximumSize::fit`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ApertureMode {
    /// Pixel aspect corrected and cropped to the clean aperture.
    #[default]
    Clean,
    /// Pixel aspect corrected, nothing cropped.
    Production,
    /// The decoded pixels as they are.
    Encoded,
}

/// The largest image to make; `0` on a side means no bound on that side.
///
/// Like `maximumSize` (a `CGSize` where zero means unbounded): the image is scaled
/// down to fit, keeping its display aspect ratio, and never scaled up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MaximumSize {
    /// Widest allowed, in pixels; 0 = unbounded.
    pub width: u32,
    /// Tallest allowed, in pixels; 0 = unbounded.
    pub height: u32,
}

impl MaximumSize {
    /// No bound (the default).
    pub const UNBOUNDED: MaximumSize = MaximumSize {
        width: 0,
        height: 0,
    };

    /// The largest size inside this box with the aspect of `width`×`height`,
    /// never larger than it; each side at least 1.
    ///
    /// ```
    /// use stillframe::MaximumSize;
    /// let fit = MaximumSize { width: 320, height: 0 }.fit(1920, 1080);
    /// assert_eq!(fit, (320, 180));
    /// assert_eq!(MaximumSize::UNBOUNDED.fit(1920, 1080), (1920, 1080));
    /// ```
    pub fn fit(&self, width: u32, height: u32) -> (u32, u32) {
        let scale_for = |bound: u32, side: u32| {
            if bound == 0 || bound >= side {
                None
            } else {
                Some((bound, side))
            }
        };
        // Compare the two candidate scales bound/side exactly, as fractions.
        let scale = match (scale_for(self.width, width), scale_for(self.height, height)) {
            (None, None) => return (width.max(1), height.max(1)),
            (Some(w), None) => w,
            (None, Some(h)) => h,
            (Some(w), Some(h)) => {
                if u64::from(w.0) * u64::from(h.1) <= u64::from(h.0) * u64::from(w.1) {
                    w
                } else {
                    h
                }
            }
        };
        let scaled = |side: u32| -> u32 {
            let numerator = u64::from(side) * u64::from(scale.0);
            let rounded = (numerator + u64::from(scale.1) / 2) / u64::from(scale.1);
            u32::try_from(rounded).unwrap_or(u32::MAX).max(1)
        };
        (scaled(width), scaled(height))
    }
}

/// The pixel type of [`crate::GeneratedImage::image`] (an [`image::DynamicImage`]).
///
/// Every type holds the same picture: 8-bit types are rounded from the conversion's
/// full precision, 16-bit types keep what a 10- or 12-bit source has (samples scaled
/// to the whole `0..=65535` range). Luma types hold the picture's luma `Y′` scaled to
/// full range: the decoded luma plane itself for SDR sources (as ffmpeg's `gray`
/// conversion gives it), and the BT.709 luma of the tone-mapped RGB for PQ/HLG
/// sources under [`DynamicRangePolicy::ForceSdr`]. Alpha, when asked for, is opaque.
///
/// `CGImage` has no fixed pixel type; this is how a caller picks one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// 8-bit RGB, [`image::DynamicImage::ImageRgb8`] (the default).
    #[default]
    Rgb8,
    /// 8-bit RGBA with opaque alpha, [`image::DynamicImage::ImageRgba8`].
    Rgba8,
    /// 16-bit RGB, [`image::DynamicImage::ImageRgb16`].
    Rgb16,
    /// 16-bit RGBA with opaque alpha, [`image::DynamicImage::ImageRgba16`].
    Rgba16,
    /// 8-bit luma, [`image::DynamicImage::ImageLuma8`].
    Luma8,
    /// 16-bit luma, [`image::DynamicImage::ImageLuma16`].
    Luma16,
}

impl OutputFormat {
    /// True for the 16-bit types.
    pub const fn is_16_bit(self) -> bool {
        matches!(
            self,
            OutputFormat::Rgb16 | OutputFormat::Rgba16 | OutputFormat::Luma16
        )
    }

    /// True for the luma-only types.
    pub const fn is_luma(self) -> bool {
        matches!(self, OutputFormat::Luma8 | OutputFormat::Luma16)
    }

    /// The 16-bit type with the same channels.
    pub const fn widened(self) -> OutputFormat {
        match self {
            OutputFormat::Rgb8 | OutputFormat::Rgb16 => OutputFormat::Rgb16,
            OutputFormat::Rgba8 | OutputFormat::Rgba16 => OutputFormat::Rgba16,
            OutputFormat::Luma8 | OutputFormat::Luma16 => OutputFormat::Luma16,
        }
    }
}

/// What to do with high-dynamic-range (PQ or HLG) pictures, as AVFoundation's
/// `dynamicRangePolicy`.
///
/// | stillframe | `AVAssetImageGenerator.DynamicRangePolicy` |
/// |---|---|
/// | [`DynamicRangePolicy::ForceSdr`] (default) | `.forceSDR` (default) |
/// | [`DynamicRangePolicy::MatchSource`] | `.matchSource` |
///
/// SDR sources are converted the same way under both: their pixels keep the source's
/// primaries and transfer (as a tagged `CGImage` would), which
/// [`crate::GeneratedImage::colour`] states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DynamicRangePolicy {
    /// PQ (transfer 16) and HLG (transfer 18) pictures are tone-mapped to SDR BT.709
    /// (primaries 1, BT.1886 display gamma 2.4), the way ffmpeg's
    /// `zscale=t=linear:npl=100,zscale=p=bt709,tonemap=hable:desat=0,zscale=t=bt709`
    /// does it:
    /// 1. the signal becomes display light with 1.0 = 100 cd/m²: PQ by its EOTF
    ///    (SMPTE ST 2084), HLG by its inverse OETF and a per-channel system gamma of 1.2
    ///    for a 1000 cd/m² display (zimg's approximation of the BT.2100 OOTF);
    /// 2. the primaries become BT.709 by a linear-light 3×3 matrix;
    /// 3. the Hable ("Uncharted 2") curve `h(x) = (x(0.15x + 0.05) + 0.004) /
    ///    (x(0.15x + 0.5) + 0.06) − 1/15` maps the brightest component `m` of each
    ///    pixel to `h(m) / h(10)` (a 1000 cd/m² peak goes to white), and the three
    ///    components are scaled by the same factor, so hue is kept;
    /// 4. components are clipped to `0..=1` and encoded with the inverse BT.1886 EOTF
    ///    (`V = L^(1/2.4)`).
    ///
    /// Measured against that ffmpeg chain (zimg 3.0) on the PQ and HLG fixtures:
    /// 72 dB and 67 dB PSNR in 8-bit RGB (`tests/render_colour.rs`). Without
    /// mastering metadata ffmpeg assumes the same 1000 cd/m² peak; stillframe does
    /// not read that metadata yet, so content mastered brighter clips earlier.
    #[default]
    ForceSdr,
    /// PQ and HLG pictures keep their transfer and primaries, and 8-bit output types
    /// are widened to 16 bits ([`OutputFormat::widened`]) so the curve keeps its
    /// precision; [`crate::GeneratedImage::colour`] says what the pixels are.
    MatchSource,
}

/// Settings of an [`crate::ImageGenerator`].
///
/// | field | `AVAssetImageGenerator` | default (same as AVFoundation) |
/// |---|---|---|
/// | `tolerance.before()` | `requestedTimeToleranceBefore` | +∞ |
/// | `tolerance.after()` | `requestedTimeToleranceAfter` | +∞ |
/// | `maximum_size` | `maximumSize` | unbounded |
/// | `applies_preferred_track_transform` | `appliesPreferredTrackTransform` | `false` |
/// | `aperture_mode` | `apertureMode` | clean aperture |
/// | `dynamic_range_policy` | `dynamicRangePolicy` | force SDR |
/// | `output_format` | — (a `CGImage`) | 8-bit RGB |
/// | `threads` | — | 0: one worker per available core |
/// | `limits` | — | [`Limits::default`] |
/// | `track` | — (the asset's track is chosen when making the generator) | first video track |
///
/// ```
/// use stillframe::{GeneratorOptions, Tolerance};
/// let exact = GeneratorOptions { tolerance: Tolerance::ZERO, ..GeneratorOptions::default() };
/// assert!(!exact.applies_preferred_track_transform);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeneratorOptions {
    /// How far from the requested time an image may come from.
    pub tolerance: Tolerance,
    /// Scale images down to fit this box.
    pub maximum_size: MaximumSize,
    /// Apply the track's rotation and mirroring.
    pub applies_preferred_track_transform: bool,
    /// Pixel aspect and clean aperture handling.
    pub aperture_mode: ApertureMode,
    /// Tone-map HDR pictures to SDR, or keep them as they are.
    pub dynamic_range_policy: DynamicRangePolicy,
    /// The pixel type of the images.
    pub output_format: OutputFormat,
    /// Worker threads a batch decodes groups of pictures on, each with its own
    /// decoder; 0 means one per available core.
    pub threads: usize,
    /// Resource bounds for reading the file, decoding and rendering.
    pub limits: Limits,
    /// Which track images come from (its index among the file's tracks, as
    /// [`crate::AssetInfo::tracks`] lists them); `None` for the first video track.
    pub track: Option<usize>,
}

impl GeneratorOptions {
    /// The number of batch workers `threads` asks for.
    pub fn worker_threads(&self) -> usize {
        if self.threads > 0 {
            return self.threads;
        }
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    }
}
