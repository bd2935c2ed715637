//! The one backend compiled in: rav1d (default) or the system libdav1d.
//!
//! Both export dav1d's C API; each backend module wraps it in the same small safe
//! surface ([`Context`], [`Data`], [`Picture`]) that [`crate::Av1Decoder`] drives.
//! Ownership follows dav1d's rules: a [`Data`] is unref'd when dropped (a no-op
//! once the decoder took it), a [`Picture`] is unref'd exactly once when dropped.

#[cfg(feature = "dav1d")]
mod dav1d;
#[cfg(feature = "rav1d")]
mod rav1d;

#[cfg(feature = "dav1d")]
pub(crate) use self::dav1d::{Context, Data, Picture, BACKEND};
#[cfg(feature = "rav1d")]
pub(crate) use self::rav1d::{Context, Data, Picture, BACKEND};

use stillframe_core::{ChromaFormat, ColourDescription};

/// `EAGAIN`, which dav1d returns negated (`DAV1D_ERR(EAGAIN)`).
pub(crate) const EAGAIN: i32 = 11;

/// What [`Context::open`] is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    /// `n_threads`; 0 lets dav1d pick one per logical processor.
    pub threads: u32,
    /// `max_frame_delay`; 1 decodes each frame before the next is sent.
    pub max_frame_delay: u32,
    /// `frame_size_limit` in pixels; 0 for none.
    pub frame_size_limit: u32,
}

/// The picture properties of a [`Picture`], read once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub width: usize,
    pub height: usize,
    pub chroma: ChromaFormat,
    pub bit_depth: u8,
}

impl Geometry {
    /// From a picture's `w`, `h`, `layout` and `bpc`; `None` for values dav1d never
    /// outputs.
    pub(crate) fn from_picture(width: i32, height: i32, layout: u32, bpc: i32) -> Option<Self> {
        Some(Geometry {
            width: usize::try_from(width).ok().filter(|&w| w > 0)?,
            height: usize::try_from(height).ok().filter(|&h| h > 0)?,
            chroma: chroma_of_layout(layout)?,
            bit_depth: u8::try_from(bpc).ok().filter(|&b| (8..=16).contains(&b))?,
        })
    }

    /// How many bytes plane `index` spans from its first visible row to the end of
    /// its last, with rows `stride` bytes apart; `None` when `stride` cannot hold a
    /// row (dav1d's strides are positive and at least a row).
    pub(crate) fn plane_extent(&self, index: usize, stride: isize) -> Option<(usize, usize)> {
        let stride = usize::try_from(stride).ok()?;
        let (width, rows) = self.plane_size(index);
        let row_bytes = width.checked_mul(self.sample_bytes())?;
        if stride < row_bytes || rows == 0 {
            return None;
        }
        let extent = stride.checked_mul(rows - 1)?.checked_add(row_bytes)?;
        Some((extent, stride))
    }

    /// Bytes per sample: 1 up to 8 bits, else 2.
    pub(crate) fn sample_bytes(&self) -> usize {
        if self.bit_depth > 8 {
            2
        } else {
            1
        }
    }

    /// How many planes the picture has: 1 for monochrome, else 3.
    pub(crate) fn plane_count(&self) -> usize {
        if self.chroma == ChromaFormat::Monochrome {
            1
        } else {
            3
        }
    }

    /// `(samples per row, rows)` of plane `index`.
    pub(crate) fn plane_size(&self, index: usize) -> (usize, usize) {
        if index == 0 {
            return (self.width, self.height);
        }
        let (x, y) = self.chroma.subsampling();
        (
            (self.width + x as usize) >> x,
            (self.height + y as usize) >> y,
        )
    }
}

/// A sequence header's colour codes (`pri`, `trc`, `mtrx`, `color_range`).
pub(crate) fn colour_of(
    primaries: u32,
    transfer: u32,
    matrix: u32,
    full_range: bool,
) -> ColourDescription {
    let code = |value: u32| u8::try_from(value).unwrap_or(ColourDescription::UNSPECIFIED_CODE);
    ColourDescription {
        primaries: code(primaries),
        transfer: code(transfer),
        matrix: code(matrix),
        full_range: Some(full_range),
    }
}

/// dav1d's pixel layout code to a chroma format.
fn chroma_of_layout(layout: u32) -> Option<ChromaFormat> {
    match layout {
        0 => Some(ChromaFormat::Monochrome),
        1 => Some(ChromaFormat::Yuv420),
        2 => Some(ChromaFormat::Yuv422),
        3 => Some(ChromaFormat::Yuv444),
        _ => None,
    }
}

/// Describes a negative dav1d return code.
pub(crate) fn describe(code: i32) -> String {
    let name = match -code {
        EAGAIN => "EAGAIN (try again)",
        12 => "ENOMEM (out of memory)",
        22 => "EINVAL (invalid data or argument)",
        34 => "ERANGE (value out of range)",
        92 => "ENOPROTOOPT (unsupported bitstream feature)",
        _ => "error",
    };
    format!("{BACKEND} returned {code}: {name}")
}
