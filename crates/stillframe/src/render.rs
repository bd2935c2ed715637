//! Decoded planes to the picture a player shows: colour conversion, clean aperture,
//! pixel aspect, size bound and orientation.
//!
//! The order is fixed: convert at the decoded size ([`crate::convert`] module docs), crop
//! to the clean aperture and stretch for pixel aspect and shrink to the maximum size in
//! one resampling, then turn upright. Sizes are decided before any pixel is touched
//! ([`RenderSettings::output_size`]).

use image::DynamicImage;
use stillframe_core::{
    CleanAperture, CodedFormat, ColourDescription, Frame, Limits, Orientation, PixelAspect, Result,
    VideoInfo,
};

use crate::convert::{convert_planes, Conversion};
use crate::resize::{crop_and_scale, Rect};
use crate::{ApertureMode, DynamicRangePolicy, GeneratorOptions, MaximumSize, OutputFormat};

/// Everything needed to turn a decoded [`Frame`] into an image: the track's colour
/// and geometry, resolved for one set of [`GeneratorOptions`].
///
/// [`crate::GeneratedFrame::settings`] holds the settings an [`crate::ImageGenerator`]
/// would use, so [`convert`] of a raw frame gives the same image as
/// [`crate::ImageGenerator::image_at`]. [`RenderSettings::default`] converts colour
/// only: no crop, square pixels, no turn, no size bound, 8-bit RGB.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderSettings {
    /// Colour description used where the frame's own (from its bitstream) is
    /// unspecified: the codec configuration's, then the container's. Fields still
    /// unspecified after that follow players: BT.709 matrix from 720 lines up (BT.601
    /// below), limited range.
    pub colour: ColourDescription,
    /// The clean aperture to crop to ([`ApertureMode::Clean`] only).
    pub clean_aperture: Option<CleanAperture>,
    /// Pixel shape to correct for ([`PixelAspect::SQUARE`] in
    /// [`ApertureMode::Encoded`]).
    pub pixel_aspect: PixelAspect,
    /// Rotation and mirroring to apply (none unless `applies_preferred_track_transform`).
    pub orientation: Orientation,
    /// Box to fit the upright image in.
    pub maximum_size: MaximumSize,
    /// Pixel type of the image.
    pub output_format: OutputFormat,
    /// Tone-map HDR or keep it.
    pub dynamic_range_policy: DynamicRangePolicy,
    /// Bounds on the image: [`Limits::max_output_pixels`] (the generator's limits).
    pub limits: Limits,
}

impl Default for RenderSettings {
    fn default() -> Self {
        RenderSettings {
            colour: ColourDescription::UNSPECIFIED,
            clean_aperture: None,
            pixel_aspect: PixelAspect::SQUARE,
            orientation: Orientation::default(),
            maximum_size: MaximumSize::UNBOUNDED,
            output_format: OutputFormat::default(),
            dynamic_range_policy: DynamicRangePolicy::default(),
            limits: Limits::default(),
        }
    }
}

impl RenderSettings {
    /// Resolves `options` for a track: colour from the codec configuration (`format`)
    /// over the container's (`video`), pixel aspect from the container over the
    /// bitstream's, and the aperture and transform the options ask for.
    pub fn for_track(
        video: Option<&VideoInfo>,
        format: Option<&CodedFormat>,
        options: &GeneratorOptions,
    ) -> RenderSettings {
        let bitstream_colour = format.map(|f| f.colour).unwrap_or_default();
        let container_colour = video.map(|v| v.colour).unwrap_or_default();
        let pixel_aspect = match options.aperture_mode {
            ApertureMode::Encoded => PixelAspect::SQUARE,
            ApertureMode::Clean | ApertureMode::Production => video
                .and_then(|v| v.pixel_aspect)
                .or_else(|| format.and_then(|f| f.pixel_aspect))
                .unwrap_or(PixelAspect::SQUARE),
        };
        let clean_aperture = match options.aperture_mode {
            ApertureMode::Clean => video.and_then(|v| v.clean_aperture),
            ApertureMode::Production | ApertureMode::Encoded => None,
        };
        let orientation = match (options.applies_preferred_track_transform, video) {
            (true, Some(video)) => video.orientation,
            _ => Orientation::default(),
        };
        RenderSettings {
            colour: bitstream_colour.or(container_colour),
            clean_aperture,
            pixel_aspect,
            orientation,
            maximum_size: options.maximum_size,
            output_format: options.output_format,
            dynamic_range_policy: options.dynamic_range_policy,
            limits: options.limits,
        }
    }

    /// The settings for `frame` of a track (the frame's own colour description first).
    pub(crate) fn new(
        video: &VideoInfo,
        format: Option<&CodedFormat>,
        frame: &Frame,
        options: &GeneratorOptions,
    ) -> RenderSettings {
        let mut settings = RenderSettings::for_track(Some(video), format, options);
        settings.colour = frame.colour.or(settings.colour);
        settings
    }

    /// The pixel rectangle of a `width`×`height` picture that is shown.
    fn crop(&self, width: u32, height: u32) -> Option<Rect> {
        self.clean_aperture
            .as_ref()
            .and_then(|aperture| clean_aperture_rect(aperture, width, height))
    }

    /// The size of the image made from a `width`×`height` decoded picture: cropped,
    /// stretched for pixel aspect, turned, and fitted to the maximum size.
    ///
    /// ```
    /// use stillframe::{MaximumSize, Orientation, PixelAspect, RenderSettings};
    /// let settings = RenderSettings {
    ///     pixel_aspect: PixelAspect::new(32, 27).unwrap(),
    ///     orientation: Orientation { rotation: 90, mirrored: false },
    ///     maximum_size: MaximumSize { width: 0, height: 400 },
    ///     ..RenderSettings::default()
    /// };
    /// // 720×480 with 32:27 pixels shows as 853×480, upright 480×853, fitted 225×400.
    /// assert_eq!(settings.output_size(720, 480), (225, 400));
    /// ```
    pub fn output_size(&self, width: u32, height: u32) -> (u32, u32) {
        let (upright, _, _) = self.geometry(width, height);
        upright
    }

    /// The upright output size, the size to scale to before turning, and the crop.
    fn geometry(&self, width: u32, height: u32) -> ((u32, u32), (u32, u32), Option<Rect>) {
        let crop = self.crop(width, height);
        let (shown_width, shown_height) = crop.map_or((width, height), |c| (c.2, c.3));
        let (w, h) = display_size(shown_width, shown_height, self.pixel_aspect);
        let swaps = self.orientation.swaps_axes();
        let upright = if swaps { (h, w) } else { (w, h) };
        let fitted = self.maximum_size.fit(upright.0, upright.1);
        let target = if swaps { (fitted.1, fitted.0) } else { fitted };
        (fitted, target, crop)
    }
}

/// An image and what its pixels are.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedImage {
    /// The picture, in the [`OutputFormat`] asked for (16-bit under
    /// [`DynamicRangePolicy::MatchSource`] for HDR sources).
    pub image: DynamicImage,
    /// What the pixels are: RGB (matrix 0) or luma (the matrix its weights come from),
    /// full range, with the primaries and transfer of the source or, for tone-mapped
    /// HDR, BT.709.
    pub colour: ColourDescription,
}

/// Converts a decoded frame into an image, as an [`crate::ImageGenerator`] would.
///
/// The frame's own colour description comes first, then `settings.colour`. With
/// [`RenderSettings::default`] this is a plain colour conversion at the decoded size —
/// the fast path for 8-bit 4:2:0 to RGB8 takes about 1.2 ms for 1080p on one core
/// (`benches/convert.rs`).
///
/// Fails with [`stillframe_core::Error::Limit`] when the image would be larger than
/// `settings.limits.max_output_pixels` (a pixel aspect of 21845:1 makes a small
/// picture gigapixels wide).
///
/// ```no_run
/// use stillframe::{GeneratorOptions, ImageGenerator, Time};
/// let generator = ImageGenerator::open("clip.mp4", GeneratorOptions::default())?;
/// let raw = generator.frame_at(Time::new(5, 2).unwrap())?;
/// // ... look at raw.frame's planes, then make the image anyway:
/// let made = stillframe::convert(&raw.frame, &raw.settings)?;
/// made.image.save("frame.png")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn convert(frame: &Frame, settings: &RenderSettings) -> Result<RenderedImage> {
    let colour = frame.colour.or(settings.colour);
    let conversion = Conversion::plan(
        &colour,
        frame.height,
        frame.format.chroma == stillframe_core::ChromaFormat::Monochrome,
        settings.output_format,
        settings.dynamic_range_policy,
    );
    let (_, (target_width, target_height), crop) = settings.geometry(frame.width, frame.height);
    // A hostile pixel aspect (65535:1 in an H.264 VUI, 21845:1 in a pasp, or one
    // implied by an MP4 tkhd size) stretches even a tiny picture past any memory.
    settings
        .limits
        .check_output_pixels(u64::from(target_width), u64::from(target_height))?;
    let converted = convert_planes(frame, &conversion)?;
    let scaled = crop_and_scale(converted, crop, target_width, target_height)?;
    let upright = orient(scaled, settings.orientation);
    let wants_alpha = matches!(
        settings.output_format,
        OutputFormat::Rgba8 | OutputFormat::Rgba16
    );
    let image = match upright {
        DynamicImage::ImageRgb8(rgb) if wants_alpha => {
            DynamicImage::ImageRgba8(DynamicImage::ImageRgb8(rgb).into_rgba8())
        }
        DynamicImage::ImageRgb16(rgb) if wants_alpha => {
            DynamicImage::ImageRgba16(DynamicImage::ImageRgb16(rgb).into_rgba16())
        }
        other => other,
    };
    Ok(RenderedImage {
        image,
        colour: conversion.colour,
    })
}

/// Converts `frame` and shapes it as `settings` say.
pub(crate) fn render(frame: &Frame, settings: &RenderSettings) -> Result<RenderedImage> {
    convert(frame, settings)
}

/// The clean aperture as a pixel rectangle of a `width`×`height` picture (ISO 14496-12
/// § 12.1.4: the aperture is centred on the picture's centre plus the offsets).
///
/// Rounding: the left (top) edge `(width − aperture_width)/2 + offset` and the width
/// (height) are each rounded to the nearest pixel, halves up, then clamped inside the
/// picture with at least one pixel. `None` when that is the whole picture or a
/// fraction is invalid (zero denominator, non-positive size).
fn clean_aperture_rect(aperture: &CleanAperture, width: u32, height: u32) -> Option<Rect> {
    let span = |size: &stillframe_core::Fraction, offset: &stillframe_core::Fraction, full: u32| {
        if size.denominator == 0 || offset.denominator == 0 || size.numerator <= 0 {
            return None;
        }
        // Work in units of 1/(2·d1·d2) pixel to stay exact.
        let (d1, d2) = (i128::from(size.denominator), i128::from(offset.denominator));
        let unit = 2 * d1 * d2;
        let extent = i128::from(size.numerator) * 2 * d2;
        let start = i128::from(full) * d1 * d2 - i128::from(size.numerator) * d2
            + i128::from(offset.numerator) * 2 * d1;
        let round = |v: i128| (v + unit / 2).div_euclid(unit);
        let start = round(start).clamp(0, i128::from(full) - 1);
        let length = round(extent).clamp(1, i128::from(full) - start);
        Some((u32::try_from(start).ok()?, u32::try_from(length).ok()?))
    };
    let (left, crop_width) = span(&aperture.width, &aperture.horizontal_offset, width)?;
    let (top, crop_height) = span(&aperture.height, &aperture.vertical_offset, height)?;
    if (left, top, crop_width, crop_height) == (0, 0, width, height) {
        return None;
    }
    Some((left, top, crop_width, crop_height))
}

/// The size with square pixels: the width scaled by the pixel aspect (rounded to the
/// nearest pixel, halves up, at least 1), the height kept.
pub(crate) fn display_size(width: u32, height: u32, aspect: PixelAspect) -> (u32, u32) {
    if aspect.is_square() {
        return (width, height);
    }
    let scaled = (u64::from(width) * u64::from(aspect.horizontal) * 2 + u64::from(aspect.vertical))
        / (2 * u64::from(aspect.vertical));
    (u32::try_from(scaled).unwrap_or(u32::MAX).max(1), height)
}

/// Mirrors (left-right) first, then turns clockwise.
fn orient(image: DynamicImage, orientation: Orientation) -> DynamicImage {
    let image = if orientation.mirrored {
        image.fliph()
    } else {
        image
    };
    match orientation.rotation {
        90 => image.rotate90(),
        180 => image.rotate180(),
        270 => image.rotate270(),
        _ => image,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use image::{GenericImageView, Rgb, RgbImage};
    use stillframe_core::Fraction;

    fn fraction(numerator: i64, denominator: u64) -> Fraction {
        Fraction {
            numerator,
            denominator,
        }
    }

    #[test]
    fn clean_aperture_is_centred_then_offset() {
        let aperture = CleanAperture {
            width: fraction(704, 1),
            height: fraction(480, 1),
            horizontal_offset: fraction(0, 1),
            vertical_offset: fraction(0, 1),
        };
        assert_eq!(
            clean_aperture_rect(&aperture, 720, 480),
            Some((8, 0, 704, 480))
        );
        let shifted = CleanAperture {
            horizontal_offset: fraction(-4, 1),
            ..aperture
        };
        assert_eq!(
            clean_aperture_rect(&shifted, 720, 480),
            Some((4, 0, 704, 480))
        );
        let whole = CleanAperture {
            width: fraction(720, 1),
            ..aperture
        };
        assert_eq!(clean_aperture_rect(&whole, 720, 480), None);
        let broken = CleanAperture {
            width: fraction(720, 0),
            ..aperture
        };
        assert_eq!(clean_aperture_rect(&broken, 720, 480), None);
    }

    #[test]
    fn clean_aperture_rounds_halves_up_and_stays_inside() {
        let aperture = CleanAperture {
            width: fraction(1277, 2),
            height: fraction(359, 1),
            horizontal_offset: fraction(-1, 4),
            vertical_offset: fraction(1, 2),
        };
        // left = (1280 − 638.5)/2 − 0.25 = 320.5 → 321; top = (720 − 359)/2 + 0.5 = 181.
        assert_eq!(
            clean_aperture_rect(&aperture, 1280, 720),
            Some((321, 181, 639, 359))
        );
        // An aperture larger than the picture, or pushed off it, is clamped inside.
        let huge = CleanAperture {
            width: fraction(4000, 1),
            height: fraction(100, 1),
            horizontal_offset: fraction(0, 1),
            vertical_offset: fraction(5000, 1),
        };
        assert_eq!(
            clean_aperture_rect(&huge, 1280, 720),
            Some((0, 719, 1280, 1))
        );
    }

    #[test]
    fn pixel_aspect_scales_width_with_rounding() {
        let ntsc_wide = PixelAspect::new(32, 27).unwrap();
        assert_eq!(display_size(720, 480, ntsc_wide), (853, 480));
        assert_eq!(
            display_size(640, 360, PixelAspect::new(2, 1).unwrap()),
            (1280, 360)
        );
        assert_eq!(
            display_size(1, 1, PixelAspect::new(1, 1000).unwrap()),
            (1, 1)
        );
        // 360 × 32/27 = 426.67 → 427; 11 × 3/2 = 16.5 → 17 (halves up).
        assert_eq!(display_size(360, 240, ntsc_wide), (427, 240));
        assert_eq!(
            display_size(11, 4, PixelAspect::new(3, 2).unwrap()),
            (17, 4)
        );
    }

    #[test]
    fn output_size_crops_then_stretches_then_turns_then_fits() {
        let settings = RenderSettings {
            clean_aperture: Some(CleanAperture {
                width: fraction(330, 1),
                height: fraction(224, 1),
                horizontal_offset: fraction(-3, 1),
                vertical_offset: fraction(2, 1),
            }),
            pixel_aspect: PixelAspect::new(32, 27).unwrap(),
            ..RenderSettings::default()
        };
        // 330 × 32/27 = 391.1 → 391.
        assert_eq!(settings.output_size(360, 240), (391, 224));
        let turned = RenderSettings {
            orientation: Orientation {
                rotation: 270,
                mirrored: true,
            },
            maximum_size: MaximumSize {
                width: 100,
                height: 100,
            },
            ..settings
        };
        // Upright 224×391, fitted into 100×100: 57×100.
        assert_eq!(turned.output_size(360, 240), (57, 100));
    }

    #[test]
    fn mirroring_comes_before_the_turn() {
        // A 2×1 picture [a b]: mirrored [b a], then turned 90° clockwise: b on top.
        let picture = RgbImage::from_fn(2, 1, |x, _| Rgb([x as u8, 0, 0]));
        let turned = orient(
            DynamicImage::ImageRgb8(picture),
            Orientation {
                rotation: 90,
                mirrored: true,
            },
        );
        assert_eq!(turned.dimensions(), (1, 2));
        assert_eq!(turned.get_pixel(0, 0).0[0], 1);
        assert_eq!(turned.get_pixel(0, 1).0[0], 0);
    }
}
