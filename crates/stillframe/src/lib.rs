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
//! 3. The decoder runs until that frame comes out; the frame is converted to RGB (or
//!    luma, 8 or 16 bits: [`OutputFormat`]) with the stream's colour matrix and range,
//!    HDR tone-mapped or kept ([`DynamicRangePolicy`]), cropped to the clean aperture,
//!    scaled for pixel aspect and maximum size, and turned upright if asked. Raw
//!    frames ([`ImageGenerator::frame_at`]) skip this step; [`convert`] does it later.
//!
//! Supported today: MP4/MOV and Matroska/WebM with H.264 (8-bit 4:2:0 progressive,
//! what OpenH264 decodes) and AV1 (8/10/12-bit, 4:2:0, 4:2:2, 4:4:4, monochrome).

mod asset;
mod asynchronous;
mod chroma;
mod codecs;
mod convert;
mod engine;
mod generator;
mod options;
mod render;
mod resize;
mod results;
mod source;
mod tonemap;

pub use asset::{Asset, AssetInfo, TrackSummary};
pub use asynchronous::{ImageFuture, ImageStream, STREAM_LOOKAHEAD};
pub use codecs::live_decoders;
pub use generator::{BatchHandle, ImageGenerator};
pub use options::{ApertureMode, DynamicRangePolicy, GeneratorOptions, MaximumSize, OutputFormat};
pub use render::{convert, RenderSettings, RenderedImage};
pub use resize::resize_image;
pub use results::{BatchItem, GeneratedFrame, GeneratedImage, GenerationResult};
pub use stillframe_core::{
    ChromaFormat, CleanAperture, Codec, CodedFormat, ColourDescription, ContainerKind, Error,
    ErrorKind, Fraction, Frame, FrameRate, Limits, Orientation, PixelAspect, PixelFormat, Plane,
    RateSource, Result, Rounding, Time, Tolerance, TrackInfo, TrackKind, VideoInfo,
};
