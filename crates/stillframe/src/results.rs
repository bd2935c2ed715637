//! What a request gives back: an image, a decoded frame, or the outcome of one
//! request of a batch.

use stillframe_core::{ColourDescription, Error, Frame, Result, Time};

use crate::render::RenderSettings;

/// An image made for a requested time.
#[derive(Clone)]
pub struct GeneratedImage {
    /// The picture, ready to save or display, in the
    /// [`crate::GeneratorOptions::output_format`] asked for (8-bit RGB by default).
    pub image: image::DynamicImage,
    /// What the pixels are: primaries and transfer (the source's, or BT.709 after
    /// tone mapping), matrix 0 for RGB (or the luma weights' matrix for luma
    /// images), full range.
    pub colour: ColourDescription,
    /// The time that was asked for.
    pub requested: Time,
    /// The presentation time of the frame the image shows (`actualTime` in AVFoundation).
    pub actual: Time,
    /// That frame's number: its place in presentation order, from 0 (what
    /// [`crate::ImageGenerator::image_at_frame`] takes). `None` when the container
    /// is indexed only in the stretches requests needed (Matroska with Cues) and a
    /// stretch before this frame is unread; [`crate::Asset::index_fully`] before
    /// making the generator gives every frame its number.
    pub frame_number: Option<u64>,
    /// Samples the decoder was fed for this request (0 when a frame already decoded,
    /// or decoded for an earlier request of the same batch, served it).
    pub frames_decoded: u64,
}

impl std::fmt::Debug for GeneratedImage {
    // The pixels themselves would bury everything else (a 1080p image is 6 MB).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedImage")
            .field("width", &self.image.width())
            .field("height", &self.image.height())
            .field("pixels", &self.image.color())
            .field("colour", &self.colour)
            .field("requested", &self.requested)
            .field("actual", &self.actual)
            .field("frame_number", &self.frame_number)
            .field("frames_decoded", &self.frames_decoded)
            .finish()
    }
}

/// A decoded frame made for a requested time, without conversion to RGB.
///
/// `frame` is the decoder's picture as it is, codec cropping applied:
/// - `frame.format`: chroma subsampling (4:2:0, 4:2:2, 4:4:4 or monochrome) and bit
///   depth; planes are Y, U, V (Y alone for monochrome), 8-bit samples as bytes,
///   9–12-bit samples as little-endian `u16` (the value in the low bits, not scaled);
/// - each [`stillframe_core::Plane`] has its own `stride` in bytes (row padding is
///   not picture), `width` in samples and `height` in rows — chroma planes are
///   `ceil(width / 2)` wide for 4:2:0 and 4:2:2, `ceil(height / 2)` tall for 4:2:0;
/// - `frame.pts` is in the track's timescale ([`ImageGenerator::track`]), `actual`
///   the same instant as a [`Time`];
/// - `frame.colour` is what the bitstream says; `settings.colour` adds what the codec
///   configuration and the container say, and the rest of `settings` the aperture,
///   pixel aspect and transform, so [`crate::convert`]`(&frame, &settings)` makes the
///   image [`ImageGenerator::image_at`] would.
#[derive(Debug, Clone)]
pub struct GeneratedFrame {
    /// The decoded planes, codec cropping applied.
    pub frame: Frame,
    /// How the generator would render this frame with its current options.
    pub settings: RenderSettings,
    /// The time that was asked for.
    pub requested: Time,
    /// The presentation time of the frame.
    pub actual: Time,
    /// The frame's place in presentation order, from 0, when known (see
    /// [`GeneratedImage::frame_number`]).
    pub frame_number: Option<u64>,
    /// Samples the decoder was fed for this request.
    pub frames_decoded: u64,
}

/// How one request of a batch ended (`AVAssetImageGenerator.Result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GenerationResult {
    /// An image was made.
    Succeeded,
    /// The request failed; the error says why.
    Failed,
    /// The request was cancelled before it produced an image.
    Cancelled,
}

/// The outcome of one request of a batch, as handed to a callback or yielded by a stream.
#[derive(Debug)]
pub struct BatchItem {
    /// Position of the request in the batch, from 0.
    pub index: usize,
    /// The time that was asked for.
    pub requested: Time,
    /// The image, or why there is none ([`Error::Cancelled`] when cancelled).
    pub outcome: Result<GeneratedImage>,
}

impl BatchItem {
    /// Succeeded, failed or cancelled.
    pub fn result(&self) -> GenerationResult {
        match &self.outcome {
            Ok(_) => GenerationResult::Succeeded,
            Err(Error::Cancelled) => GenerationResult::Cancelled,
            Err(_) => GenerationResult::Failed,
        }
    }

    /// The presentation time of the frame the image shows, when one was made.
    pub fn actual(&self) -> Option<Time> {
        self.outcome.as_ref().ok().map(|made| made.actual)
    }
}
