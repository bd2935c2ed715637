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
/// Pixel aspect is applied by scaling the width: a 720×480 picture with 32:27 pixels
/// becomes 853×480 (rounded to the nearest pixel, at least 1).
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

/// Settings of an [`crate::ImageGenerator`].
///
/// | field | `AVAssetImageGenerator` | default (same as AVFoundation) |
/// |---|---|---|
/// | `tolerance.before()` | `requestedTimeToleranceBefore` | +∞ |
/// | `tolerance.after()` | `requestedTimeToleranceAfter` | +∞ |
/// | `maximum_size` | `maximumSize` | unbounded |
/// | `applies_preferred_track_transform` | `appliesPreferredTrackTransform` | `false` |
/// | `aperture_mode` | `apertureMode` | clean aperture |
/// | `threads` | — | 0: one worker per available core |
/// | `limits` | — | [`Limits::default`] |
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
    /// Worker threads a batch decodes groups of pictures on, each with its own
    /// decoder; 0 means one per available core.
    pub threads: usize,
    /// Resource bounds for reading the file.
    pub limits: Limits,
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
