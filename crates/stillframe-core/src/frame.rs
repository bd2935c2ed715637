//! Decoded pictures.

use std::fmt;

use crate::{ChromaFormat, ColourDescription};

/// How a [`Frame`]'s samples are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelFormat {
    /// Chroma subsampling; planes are Y, then U and V unless monochrome.
    pub chroma: ChromaFormat,
    /// Bits per sample; above 8, each sample is a little-endian `u16`.
    pub bit_depth: u8,
}

impl PixelFormat {
    /// Bytes one sample takes in a plane.
    pub const fn bytes_per_sample(&self) -> usize {
        if self.bit_depth > 8 {
            2
        } else {
            1
        }
    }
}

/// One plane of a picture.
#[derive(Clone, PartialEq, Eq)]
pub struct Plane {
    /// Rows of `stride` bytes; only the first `width` samples of each row are picture.
    pub data: Vec<u8>,
    /// Bytes from one row to the next.
    pub stride: usize,
    /// Samples per row that belong to the picture.
    pub width: usize,
    /// Rows.
    pub height: usize,
}

impl Plane {
    /// The picture's rows without padding, `width × bytes_per_sample` bytes each.
    pub fn rows(&self, bytes_per_sample: usize) -> impl Iterator<Item = &[u8]> {
        let row_bytes = self.width * bytes_per_sample;
        self.data
            .chunks(self.stride.max(1))
            .take(self.height)
            .map(move |row| row.get(..row_bytes).unwrap_or(row))
    }
}

impl fmt::Debug for Plane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plane")
            .field("bytes", &self.data.len())
            .field("stride", &self.stride)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// A decoded picture: visible planes (codec cropping applied) and when it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Presentation timestamp, in the track's timescale.
    pub pts: i64,
    /// Visible width in luma samples.
    pub width: u32,
    /// Visible height in luma samples.
    pub height: u32,
    /// Sample layout.
    pub format: PixelFormat,
    /// Y, U, V (or Y alone for monochrome).
    pub planes: Vec<Plane>,
    /// Colour description as the bitstream gives it.
    pub colour: ColourDescription,
    /// Why this picture may not be what the stream means — a slice that failed to
    /// decode, a reference picture that was missing — or `None` for a clean
    /// picture. The generator never returns a damaged picture as an image; it
    /// fails that request with [`crate::Error::Malformed`] naming the damage.
    pub damage: Option<String>,
}

impl Frame {
    /// Every visible row of every plane, Y then U then V, without padding: the bytes
    /// ffmpeg's `framemd5` hashes, so a frame can be compared with its reference.
    pub fn packed_rows(&self) -> impl Iterator<Item = &[u8]> {
        let bytes = self.format.bytes_per_sample();
        self.planes.iter().flat_map(move |plane| plane.rows(bytes))
    }
}
