//! Still images from video files at requested times: `AVAssetImageGenerator` for Rust,
//! with no ffmpeg and no system libraries.
//!
//! ```no_run
//! use stillframe::{GeneratorOptions, ImageGenerator, Time, Tolerance};
//!
//! // The frame on screen at 2.5 s exactly, upright.
//! let options = GeneratorOptions {
//!     tolerance: Tolerance::ZERO,
//!     applies_preferred_track_transform: true,
//!     ..GeneratorOptions::default()
//! };
//! let mut generator = ImageGenerator::open("clip.mp4", options)?;
//! let made = generator.image_at(Time::new(5, 2).unwrap())?;
//! made.image.save("frame.png")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How a request is served
//! 1. The container is indexed once at open ([`Asset`]): every sample's decode and
//!    presentation time, edit lists applied.
//! 2. For a requested time and tolerance, the planner picks the acceptable frame that
//!    is cheapest to decode from the decoder's current state (see `stillframe_seek`),
//!    starting at a random access point the bitstream confirms.
//! 3. The decoder runs until that frame comes out; the frame is converted to RGB with
//!    the stream's colour matrix and range, cropped to the clean aperture, scaled for
//!    pixel aspect and maximum size, and turned upright if asked.
//!
//! Supported today: MP4/MOV with H.264 (8-bit 4:2:0 progressive, what OpenH264 decodes).

mod asset;
mod asynchronous;
mod batch;
mod chroma;
mod codecs;
mod generator;
mod options;
mod render;
mod session;

pub use asset::{Asset, AssetInfo, TrackSummary};
pub use asynchronous::{ImageFuture, ImageStream};
pub use generator::{
    BatchHandle, BatchItem, GeneratedFrame, GeneratedImage, GenerationResult, ImageGenerator,
};
pub use options::{ApertureMode, GeneratorOptions, MaximumSize};
pub use stillframe_core::{
    Codec, CodedFormat, ContainerKind, Error, ErrorKind, Frame, Limits, Orientation, PixelAspect,
    Result, Time, Tolerance, TrackKind,
};
