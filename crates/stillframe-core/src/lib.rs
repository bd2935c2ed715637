//! Core types of stillframe: exact [`Time`], [`Tolerance`], track descriptions,
//! samples and packets, decoded [`Frame`]s, the classified [`Error`], resource
//! [`Limits`], and the [`Demuxer`] and [`VideoDecoder`] traits that containers and
//! codecs implement.
//!
//! Nothing here reads files or decodes pictures; the container crates
//! (`stillframe-mp4`) and codec crates (`stillframe-h264`) do, and the `stillframe`
//! crate wires them together.

pub mod bits;
mod error;
mod frame;
mod limits;
mod packet;
mod time;
mod tolerance;
mod track;
mod traits;

pub use error::{Error, ErrorKind, Location, Result};
pub use frame::{Frame, PixelFormat, Plane};
pub use limits::Limits;
pub use packet::{Packet, SampleInfo};
pub use time::{ParseTimeError, Rounding, Time};
pub use tolerance::Tolerance;
pub use track::{
    ChromaFormat, CleanAperture, Codec, CodedFormat, ColourDescription, ContainerKind, Crop,
    Fraction, FrameRate, Orientation, PixelAspect, RateSource, TrackInfo, TrackKind, VideoInfo,
};
pub use traits::{Demuxer, PacketInspector, PacketKind, VideoDecoder};
