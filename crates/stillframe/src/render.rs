//! Decoded planes to the picture a player shows: colour conversion, clean aperture,
//! pixel aspect, size bound and orientation.

use image::imageops::{self, FilterType};
use image::RgbImage;
use stillframe_core::{
    ChromaFormat, CleanAperture, CodedFormat, ColourDescription, Error, Frame, Orientation,
    PixelAspect, Result, VideoInfo,
};
use yuvutils_rs::{YuvPlanarImage, YuvRange, YuvStandardMatrix};

use crate::{chroma, ApertureMode, GeneratorOptions, MaximumSize};

/// Everything rendering needs to know about a track, resolved once per request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RenderSettings {
    matrix: YuvStandardMatrix,
    range: YuvRange,
    /// Region of the decoded picture to keep: `(left, top, width, height)`.
    crop: Option<(u32, u32, u32, u32)>,
    pixel_aspect: PixelAspect,
    orientation: Orientation,
    maximum_size: MaximumSize,
}

impl RenderSettings {
    /// Resolves colour (bitstream first, then container), aperture and transform.
    pub(crate) fn new(
        video: &VideoInfo,
        format: Option<&CodedFormat>,
        frame: &Frame,
        options: &GeneratorOptions,
    ) -> RenderSettings {
        let bitstream_colour = format.map(|f| f.colour).unwrap_or_default();
        let colour = frame.colour.or(bitstream_colour).or(video.colour);
        let (matrix, range) = yuv_conversion(&colour, frame.height);
        let pixel_aspect = match options.aperture_mode {
            ApertureMode::Encoded => PixelAspect::SQUARE,
            ApertureMode::Clean | ApertureMode::Production => video
                .pixel_aspect
                .or_else(|| format.and_then(|f| f.pixel_aspect))
                .unwrap_or(PixelAspect::SQUARE),
        };
        let crop = match (options.aperture_mode, &video.clean_aperture) {
            (ApertureMode::Clean, Some(aperture)) => {
                clean_aperture_rect(aperture, frame.width, frame.height)
            }
            _ => None,
        };
        let orientation = if options.applies_preferred_track_transform {
            video.orientation
        } else {
            Orientation::default()
        };
        RenderSettings {
            matrix,
            range,
            crop,
            pixel_aspect,
            orientation,
            maximum_size: options.maximum_size,
        }
    }
}

/// The YCbCr → RGB matrix and range for a colour description.
///
/// An untagged matrix follows the convention players use: BT.709 from 720 lines up,
/// BT.601 below.
fn yuv_conversion(colour: &ColourDescription, height: u32) -> (YuvStandardMatrix, YuvRange) {
    let matrix = match colour.matrix {
        1 => YuvStandardMatrix::Bt709,
        4..=6 => YuvStandardMatrix::Bt601,
        7 => YuvStandardMatrix::Smpte240,
        9 | 10 => YuvStandardMatrix::Bt2020,
        _ if height >= 720 => YuvStandardMatrix::Bt709,
        _ => YuvStandardMatrix::Bt601,
    };
    let range = if colour.full_range == Some(true) {
        YuvRange::Full
    } else {
        YuvRange::Limited
    };
    (matrix, range)
}

/// The clean aperture as a pixel rectangle of a `width`×`height` picture, rounded to the
/// nearest pixel and clamped inside it (ISO 14496-12 § 12.1.4: the aperture is centred
/// on the picture's centre plus the offsets). `None` when it is the whole picture or
/// its fractions are invalid.
fn clean_aperture_rect(
    aperture: &CleanAperture,
    width: u32,
    height: u32,
) -> Option<(u32, u32, u32, u32)> {
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
        let start = round(start).clamp(0, i128::from(full));
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

/// Converts `frame` and shapes it as `settings` say.
pub(crate) fn render(frame: &Frame, settings: &RenderSettings) -> Result<RgbImage> {
    let mut image = to_rgb(frame, settings.matrix, settings.range)?;
    if let Some((left, top, width, height)) = settings.crop {
        image = imageops::crop_imm(&image, left, top, width, height).to_image();
    }
    let (width, height) = display_size(image.width(), image.height(), settings.pixel_aspect);
    let swaps = settings.orientation.swaps_axes();
    let (upright_width, upright_height) = if swaps {
        (height, width)
    } else {
        (width, height)
    };
    let (fit_width, fit_height) = settings.maximum_size.fit(upright_width, upright_height);
    let (target_width, target_height) = if swaps {
        (fit_height, fit_width)
    } else {
        (fit_width, fit_height)
    };
    if (target_width, target_height) != image.dimensions() {
        image = imageops::resize(&image, target_width, target_height, FilterType::Triangle);
    }
    Ok(orient(image, settings.orientation))
}

/// The size with square pixels: the width scaled by the pixel aspect, height kept.
pub(crate) fn display_size(width: u32, height: u32, aspect: PixelAspect) -> (u32, u32) {
    if aspect.is_square() {
        return (width, height);
    }
    let scaled = (u64::from(width) * u64::from(aspect.horizontal) * 2 + u64::from(aspect.vertical))
        / (2 * u64::from(aspect.vertical));
    (u32::try_from(scaled).unwrap_or(u32::MAX).max(1), height)
}

fn orient(image: RgbImage, orientation: Orientation) -> RgbImage {
    let image = if orientation.mirrored {
        imageops::flip_horizontal(&image)
    } else {
        image
    };
    match orientation.rotation {
        90 => imageops::rotate90(&image),
        180 => imageops::rotate180(&image),
        270 => imageops::rotate270(&image),
        _ => image,
    }
}

/// YCbCr planes to packed RGB.
fn to_rgb(frame: &Frame, matrix: YuvStandardMatrix, range: YuvRange) -> Result<RgbImage> {
    if frame.format.bit_depth != 8 {
        return Err(Error::unsupported(format!(
            "rendering {}-bit pictures",
            frame.format.bit_depth
        )));
    }
    let (width, height) = (frame.width, frame.height);
    let stride = width
        .checked_mul(3)
        .ok_or_else(|| Error::codec("picture too wide"))?;
    let mut rgb = vec![0u8; stride as usize * height as usize];
    let plane = |i: usize| {
        frame
            .planes
            .get(i)
            .ok_or_else(|| Error::codec(format!("decoded picture lacks plane {i}")))
    };
    let y = plane(0)?;
    if frame.format.chroma == ChromaFormat::Monochrome {
        gray_to_rgb(y, width, height, range, &mut rgb);
    } else {
        let (u, v) = (plane(1)?, plane(2)?);
        let (w, h) = (width as usize, height as usize);
        // Subsampled chroma is interpolated to full size first, then converted as 4:4:4.
        let full_chroma = match frame.format.chroma {
            ChromaFormat::Yuv420 => Some(true),
            ChromaFormat::Yuv422 => Some(false),
            ChromaFormat::Yuv444 | ChromaFormat::Monochrome => None,
        }
        .map(|vertical| {
            (
                chroma::upsample(u, w, h, vertical),
                chroma::upsample(v, w, h, vertical),
            )
        });
        let stride_of = |p: &stillframe_core::Plane| u32::try_from(p.stride).unwrap_or(u32::MAX);
        let (u_plane, u_stride, v_plane, v_stride) = match &full_chroma {
            Some((u_full, v_full)) => (&u_full[..], width, &v_full[..], width),
            None => (&u.data[..], stride_of(u), &v.data[..], stride_of(v)),
        };
        let planar = YuvPlanarImage {
            y_plane: &y.data,
            y_stride: stride_of(y),
            u_plane,
            u_stride,
            v_plane,
            v_stride,
            width,
            height,
        };
        yuvutils_rs::yuv444_to_rgb(&planar, &mut rgb, stride, range, matrix)
            .map_err(|e| Error::codec(format!("colour conversion failed: {e}")))?;
    }
    RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| Error::codec("colour conversion produced a wrong-sized buffer"))
}

fn gray_to_rgb(
    y: &stillframe_core::Plane,
    width: u32,
    height: u32,
    range: YuvRange,
    rgb: &mut [u8],
) {
    let expand = |luma: u8| -> u8 {
        match range {
            YuvRange::Full => luma,
            YuvRange::Limited => {
                let scaled = (i32::from(luma) - 16).clamp(0, 219) * 255 / 219;
                u8::try_from(scaled).unwrap_or(u8::MAX)
            }
        }
    };
    for (row, out) in y
        .rows(1)
        .zip(rgb.chunks_mut(width as usize * 3))
        .take(height as usize)
    {
        for (&luma, pixel) in row.iter().zip(out.chunks_mut(3)) {
            pixel.fill(expand(luma));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
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
    }

    #[test]
    fn untagged_matrix_depends_on_height() {
        let untagged = ColourDescription::UNSPECIFIED;
        assert_eq!(yuv_conversion(&untagged, 720).0, YuvStandardMatrix::Bt709);
        assert_eq!(yuv_conversion(&untagged, 576).0, YuvStandardMatrix::Bt601);
        let full_601 = ColourDescription {
            matrix: 6,
            full_range: Some(true),
            ..untagged
        };
        assert_eq!(
            yuv_conversion(&full_601, 1080),
            (YuvStandardMatrix::Bt601, YuvRange::Full)
        );
    }
}
