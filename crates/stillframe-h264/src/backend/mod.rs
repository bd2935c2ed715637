//! The codec libraries behind [`crate::H264Decoder`]: what each must do, and the
//! picture each hands back. Exactly one is compiled in; the adapter above does
//! everything that does not depend on which (parameter sets, limits, timestamps,
//! damage, open-GOP leading pictures).

#[cfg(feature = "openh264")]
mod openh264;
#[cfg(not(feature = "openh264"))]
mod rust_h264;

#[cfg(feature = "openh264")]
pub(crate) use self::openh264::OpenH264 as Selected;
#[cfg(not(feature = "openh264"))]
pub(crate) use self::rust_h264::RustH264 as Selected;

use stillframe_bitstream::h264::Sps;
use stillframe_core::{ChromaFormat, Result};

/// How the pictures of one access unit are coded, from its slice headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Structure {
    /// A frame picture (progressive, or MBAFF), or both fields of a pair.
    Frame,
    /// A single field: its pair's other field comes in another access unit.
    Field {
        /// `bottom_field_flag`.
        bottom: bool,
        /// `frame_num`, equal in both fields of a pair.
        frame_num: u32,
    },
    /// No coded slice (parameter sets, SEI only).
    Empty,
}

/// A decoded picture as a backend hands it out, before timestamps and damage.
pub(crate) struct Picture {
    /// The token of the access unit that began the picture.
    pub token: u64,
    /// Visible size in luma samples.
    pub width: usize,
    /// Visible height in luma samples.
    pub height: usize,
    /// Layout of `planes[1]` and `planes[2]` (monochrome comes as 4:2:0 with
    /// mid-grey chroma, as ffmpeg outputs it).
    pub chroma: ChromaFormat,
    /// 8, or 10 with little-endian `u16` samples.
    pub bit_depth: u8,
    /// Y, U, V, tight (stride = width × bytes per sample).
    pub planes: [Vec<u8>; 3],
    /// The picture order count, where the backend reports it.
    pub poc: Option<i32>,
    /// What went wrong while decoding it, if anything did.
    pub damage: Option<String>,
}

/// One codec library driven through the adapter.
///
/// Errors returned here leave the backend in an unknown state: the adapter resets
/// it before sending more. Damage that concerns one picture is reported on the
/// picture instead, so the pictures around it are still served.
pub(crate) trait Backend: Send + Sized {
    /// The library's name, for messages.
    const NAME: &'static str;

    /// A fresh decoder.
    fn new() -> Result<Self>;

    /// Fails with [`stillframe_core::Error::Unsupported`] naming the feature when
    /// this library cannot decode pictures coded with `sps`.
    fn check_supported(sps: &Sps) -> Result<()>;

    /// Decodes one access unit: its NAL units (header bytes included), the
    /// token its picture carries out, and how its picture is coded.
    fn decode(&mut self, units: &[&[u8]], token: u64, structure: Structure) -> Result<()>;

    /// Outputs whatever pictures are still held: the end of a decode run.
    fn flush(&mut self) -> Result<()>;

    /// The next picture that is ready.
    fn take(&mut self) -> Option<Picture>;
}
