//! rusty_h265's output pictures (`u16` planes at the coded size) as stillframe
//! [`Frame`]s: cropped to the conformance window, 8-bit samples as bytes, deeper
//! ones as little-endian `u16`.

use rusty_h265::frame::{Picture, Plane as LibraryPlane};
use stillframe_core::{ChromaFormat, ColourDescription, Error, Frame, PixelFormat, Plane, Result};

/// Copies `picture`'s visible area into a [`Frame`].
///
/// Fails with [`Error::Codec`] if the library hands out a picture whose crop does
/// not fit its planes or whose format it should have refused.
pub(crate) fn frame_from(
    picture: &Picture,
    pts: i64,
    colour: ColourDescription,
    damage: Option<String>,
) -> Result<Frame> {
    if picture.chroma_format_idc != 1 {
        return Err(Error::codec(format!(
            "rusty_h265 output a picture with chroma_format_idc {}",
            picture.chroma_format_idc
        )));
    }
    let bit_depth = picture.bit_depth_luma.max(picture.bit_depth_chroma);
    let wide = bit_depth > 8;
    let (left, top, width, height) = picture.crop;
    let [luma, cb, cr] = &picture.planes;
    let planes = vec![
        copy_plane(luma, left, top, width, height, wide)?,
        copy_plane(
            cb,
            left / 2,
            top / 2,
            width.div_ceil(2),
            height.div_ceil(2),
            wide,
        )?,
        copy_plane(
            cr,
            left / 2,
            top / 2,
            width.div_ceil(2),
            height.div_ceil(2),
            wide,
        )?,
    ];
    let dimension = |value: usize| {
        u32::try_from(value).map_err(|_| Error::codec("rusty_h265 output an oversized picture"))
    };
    Ok(Frame {
        pts,
        width: dimension(width)?,
        height: dimension(height)?,
        format: PixelFormat {
            chroma: ChromaFormat::Yuv420,
            bit_depth,
        },
        planes,
        colour,
        damage,
    })
}

/// The `width` × `height` samples at (`left`, `top`) of `plane`, packed tight.
fn copy_plane(
    plane: &LibraryPlane,
    left: usize,
    top: usize,
    width: usize,
    height: usize,
    wide: bool,
) -> Result<Plane> {
    let outside = || {
        Error::codec(format!(
            "rusty_h265 output a crop of {width}x{height} at ({left}, {top}) outside its \
             {}x{} plane",
            plane.width, plane.height
        ))
    };
    if left
        .checked_add(width)
        .is_none_or(|right| right > plane.width)
        || top
            .checked_add(height)
            .is_none_or(|bottom| bottom > plane.height)
    {
        return Err(outside());
    }
    let bytes = if wide { 2 } else { 1 };
    let mut data = Vec::with_capacity(width * height * bytes);
    for row in 0..height {
        let start = (top + row) * plane.stride + left;
        let samples = plane.data.get(start..start + width).ok_or_else(outside)?;
        if wide {
            data.extend(samples.iter().flat_map(|sample| sample.to_le_bytes()));
        } else {
            // Samples of an 8-bit picture fit a byte; the library clips them.
            data.extend(
                samples
                    .iter()
                    .map(|&sample| u8::try_from(sample).unwrap_or(u8::MAX)),
            );
        }
    }
    Ok(Plane {
        data,
        stride: width * bytes,
        width,
        height,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn picture(bit_depth: u8, crop: (usize, usize, usize, usize)) -> Picture {
        let mut picture = Picture::new(8, 8, 1, bit_depth, bit_depth);
        for (index, plane) in picture.planes.iter_mut().enumerate() {
            for (position, sample) in plane.data.iter_mut().enumerate() {
                *sample = u16::try_from(position + 100 * index).unwrap();
            }
        }
        picture.crop = crop;
        picture
    }

    #[test]
    fn crops_and_narrows_8_bit() {
        let frame = frame_from(
            &picture(8, (2, 2, 4, 6)),
            7,
            ColourDescription::UNSPECIFIED,
            None,
        )
        .unwrap();
        assert_eq!((frame.width, frame.height, frame.pts), (4, 6, 7));
        let luma = &frame.planes[0];
        assert_eq!((luma.width, luma.height, luma.stride), (4, 6, 4));
        assert_eq!(&luma.data[..4], &[18, 19, 20, 21]);
        let cb = &frame.planes[1];
        assert_eq!((cb.width, cb.height), (2, 3));
        // Chroma plane of 4x4 starts at (1, 1): 5 + 100.
        assert_eq!(&cb.data[..2], &[105, 106]);
    }

    #[test]
    fn ten_bit_is_little_endian() {
        let frame = frame_from(
            &picture(10, (0, 0, 8, 8)),
            0,
            ColourDescription::UNSPECIFIED,
            None,
        )
        .unwrap();
        assert_eq!(frame.format.bit_depth, 10);
        assert_eq!(frame.planes[2].data[..4], [200, 0, 201, 0]);
        assert_eq!(frame.planes[0].stride, 16);
    }

    #[test]
    fn a_crop_outside_the_planes_is_an_error() {
        let result = frame_from(
            &picture(8, (4, 0, 8, 8)),
            0,
            ColourDescription::UNSPECIFIED,
            None,
        );
        assert!(matches!(result, Err(Error::Codec { .. })));
        let mut mono = picture(8, (0, 0, 8, 8));
        mono.chroma_format_idc = 0;
        assert!(frame_from(&mono, 0, ColourDescription::UNSPECIFIED, None).is_err());
    }
}
