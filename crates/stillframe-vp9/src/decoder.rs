//! [`Vp9Decoder`]: the [`VideoDecoder`] over rusty_vp9.

use std::collections::VecDeque;

use stillframe_bitstream::vp9::{split_superframe, FrameHeader, Vp9Config};
use stillframe_core::{
    Codec, CodedFormat, ColourDescription, Error, Frame, Limits, Packet, PixelFormat, Plane,
    Result, TrackInfo, VideoDecoder,
};

use crate::backend::{Backend, Failure, Output};
use crate::references::{Picture, References};

/// A VP9 decoder for one track, on [rusty_vp9](https://crates.io/crates/rusty_vp9)
/// (pure Rust).
///
/// Decodes profiles 0 to 3: 8, 10 and 12 bits; 4:2:0, 4:2:2 and 4:4:4 (4:4:0,
/// which a [`Frame`] cannot hold, is [`Error::Unsupported`]). Frames change size
/// at key frames and, by reference scaling, at inter frames.
///
/// # Before rusty_vp9 sees a packet
/// Each packet (a chunk: one frame, or a superframe of several) is split
/// ([`split_superframe`]) and every frame header read ([`FrameHeader::parse`]).
/// The reference slots are followed ahead of rusty_vp9, so that a frame is only
/// decoded if every slot it uses was filled since the last key frame, its
/// references have a usable size and format, and any new frame size is within
/// [`Limits::max_pixels`] (the render size too) and the decoder memory it
/// implies within [`Limits::max_decoder_bytes`] (rusty_vp9's layout: see
/// [`crate::estimated_decoder_bytes`]). A packet that fails a check is not
/// decoded at all.
///
/// # Frames
/// At most one frame per packet, as libvpx does: the last shown frame of a
/// superframe (hidden frames are decoded and never output), with the packet's
/// `pts`; a `show_existing_frame` shows its slot's picture again with the `pts` of
/// the packet it arrived in. Planes are tight (`stride == width × bytes per
/// sample`), little-endian `u16` above 8 bits. The colour description is the
/// frame's `color_space` (as an H.273 matrix) and `color_range`, with the
/// `vpcC`'s colour and then the container's filling what VP9 does not code
/// (primaries, transfer). No frame ever carries [`Frame::damage`]: a frame that
/// cannot be decoded exactly is an error instead.
///
/// # Errors
/// Any error forgets every reference (decoding resumes at the next key frame:
/// other frames fail with [`Error::Codec`] until then); call
/// [`VideoDecoder::reset`] as the protocol asks. A panic inside rusty_vp9 is
/// caught and reported as [`Error::Codec`] (`"rusty_vp9 panicked: …"`), and the
/// decoder behind it is replaced. [`Error::Unsupported`] is for the stream, not
/// a packet: every later call gives it again, resets included.
pub struct Vp9Decoder {
    backend: Backend,
    limits: Limits,
    /// The reference slots as rusty_vp9 holds them after the packets sent.
    references: References,
    /// The format from the track, restored by a reset.
    config_format: CodedFormat,
    /// The format of the last key frame taken in, else the track's.
    format: CodedFormat,
    /// Colour for what frames do not code: the `vpcC`'s, then the container's.
    fallback_colour: ColourDescription,
    /// Set once the stream turned out to be unsupported; returned from then on.
    unsupported: Option<Error>,
    frames: VecDeque<Frame>,
}

impl std::fmt::Debug for Vp9Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vp9Decoder")
            .field("format", &self.format)
            .field("frames", &self.frames.len())
            .field("unsupported", &self.unsupported)
            .finish_non_exhaustive()
    }
}

impl Vp9Decoder {
    /// Creates a decoder for `track`.
    ///
    /// `track.codec_config` is the `vpcC` payload (MP4), the `CodecPrivate`
    /// (Matroska, often empty) or empty. Fails with [`Error::Unsupported`] for a
    /// track that is not VP9, [`Error::Malformed`] for a configuration that cannot
    /// be read, and [`Error::Limit`] for a container size above
    /// `limits.max_pixels`.
    pub fn new(track: &TrackInfo, limits: &Limits) -> Result<Self> {
        if track.codec != Codec::Vp9 {
            return Err(Error::unsupported(format!(
                "codec {} (the VP9 decoder was asked)",
                track.codec.name()
            )));
        }
        let (format, fallback_colour) = read_config(track, limits)?;
        Ok(Vp9Decoder {
            backend: Backend::new(),
            limits: *limits,
            references: References::default(),
            config_format: format.clone(),
            format,
            fallback_colour,
            unsupported: None,
            frames: VecDeque::new(),
        })
    }

    /// Decodes one chunk; on any error the caller forgets the state.
    fn decode(&mut self, packet: &Packet) -> Result<()> {
        let chunks = split_superframe(&packet.data)?;
        let headers = chunks
            .iter()
            .map(|frame| FrameHeader::parse(frame))
            .collect::<Result<Vec<_>>>()?;
        let mut references = self.references;
        let mut pictures = Vec::with_capacity(headers.len());
        let mut key_format = None;
        for header in &headers {
            pictures.push(references.advance(header, &self.limits)?);
            if let FrameHeader::Coded(frame) = header {
                if header.is_key_frame() {
                    key_format = frame.coded_format(self.fallback_colour).transpose()?;
                }
            }
        }
        let outputs = match self.backend.decode(&packet.data, packet.pts, headers.len()) {
            Ok(outputs) => outputs,
            Err(Failure::Broken(error)) => return Err(error),
            Err(Failure::Unsupported(error)) => return Err(error),
        };
        self.references = references;
        if let Some(format) = key_format {
            self.format = format;
        }
        for (output, picture) in outputs.into_iter().zip(&pictures) {
            if let Output::Shown(decoded) = output {
                let frame = self.frame_of(decoded, picture, packet.pts)?;
                self.frames.push_back(frame);
            }
        }
        Ok(())
    }

    /// Wraps rusty_vp9's planes (moved, not copied) as a [`Frame`], checking
    /// them against what the headers said.
    fn frame_of(
        &self,
        decoded: rusty_vp9::DecodedFrame,
        picture: &Picture,
        pts: i64,
    ) -> Result<Frame> {
        let inconsistent = |what: &str| {
            Error::codec(format!(
                "rusty_vp9 output a frame whose {what} differs from its header"
            ))
        };
        let color = picture.color;
        let chroma = color
            .chroma()
            .ok_or_else(|| Error::internal("a 4:4:0 VP9 frame was decoded"))?;
        if (decoded.width, decoded.height) != (picture.width, picture.height) {
            return Err(inconsistent("size"));
        }
        if decoded.bit_depth != u32::from(color.bit_depth)
            || (decoded.subsampling_x == 1) != color.subsampling_x
            || (decoded.subsampling_y == 1) != color.subsampling_y
        {
            return Err(inconsistent("format"));
        }
        let format = PixelFormat {
            chroma,
            bit_depth: color.bit_depth,
        };
        let sample_bytes = format.bytes_per_sample();
        let (x, y) = chroma.subsampling();
        let width = usize::try_from(picture.width).map_err(|_| inconsistent("size"))?;
        let height = usize::try_from(picture.height).map_err(|_| inconsistent("size"))?;
        let sizes = [
            (width, height),
            ((width + (1 << x) - 1) >> x, (height + (1 << y) - 1) >> y),
            ((width + (1 << x) - 1) >> x, (height + (1 << y) - 1) >> y),
        ];
        if decoded.planes.len() != 3 || decoded.strides.len() != 3 {
            return Err(inconsistent("plane count"));
        }
        let planes = decoded
            .planes
            .into_iter()
            .zip(decoded.strides)
            .zip(sizes)
            .map(|((data, stride), (samples, rows))| {
                if stride != samples * sample_bytes || data.len() != stride * rows {
                    return Err(inconsistent("plane layout"));
                }
                Ok(Plane {
                    data,
                    stride,
                    width: samples,
                    height: rows,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Frame {
            pts,
            width: picture.width,
            height: picture.height,
            format,
            planes,
            colour: color.colour().or(self.fallback_colour),
            damage: None,
        })
    }

    /// Forgets every reference: a fresh rusty_vp9, empty slots.
    fn forget(&mut self) {
        self.backend = Backend::new();
        self.references = References::default();
    }
}

impl VideoDecoder for Vp9Decoder {
    fn format(&self) -> &CodedFormat {
        &self.format
    }

    fn send_packet(&mut self, packet: &Packet) -> Result<()> {
        if let Some(error) = &self.unsupported {
            return Err(error.clone());
        }
        if packet.data.is_empty() {
            return Ok(());
        }
        let Err(error) = self.decode(packet) else {
            return Ok(());
        };
        self.forget();
        if matches!(error, Error::Unsupported { .. }) {
            log::warn!("VP9 stream unsupported: {error}");
            self.unsupported = Some(error.clone());
        }
        Err(match error {
            Error::Codec { message } => Error::codec(format!(
                "{message} (sample {}, pts {})",
                packet.sample, packet.pts
            )),
            other => other,
        })
    }

    fn receive_frame(&mut self) -> Result<Option<Frame>> {
        Ok(self.frames.pop_front())
    }

    /// Nothing is held back: each packet's frame is out once it is sent.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }

    fn reset(&mut self) -> Result<()> {
        self.forget();
        self.frames.clear();
        self.format = self.config_format.clone();
        Ok(())
    }
}

/// What `track` says about its pictures without decoding anything, from its
/// `vpcC` or Matroska `CodecPrivate` and the container.
///
/// Profile (`"Profile N"`, or `"unknown"` when the record does not say, as an
/// absent `CodecPrivate` does not), the container's picture size, bit depth and
/// chroma as the record states them or the profile implies (else 8-bit 4:2:0),
/// and the record's colour description with the container's (MP4 `colr`,
/// Matroska `Colour`) for what it leaves unspecified. VP9 has no sequence header:
/// the size and format in force come from each key frame, and
/// [`VideoDecoder::format`] follows the last key frame decoded.
///
/// Fails with [`Error::Malformed`] for a configuration that cannot be read and
/// [`Error::Limit`] for a container size above `limits.max_pixels`.
pub fn inspect(track: &TrackInfo, limits: &Limits) -> Result<CodedFormat> {
    read_config(track, limits).map(|(format, _)| format)
}

/// The track's format, and the colour that fills in what frames do not code.
fn read_config(track: &TrackInfo, limits: &Limits) -> Result<(CodedFormat, ColourDescription)> {
    let config = Vp9Config::from_codec_config(&track.codec_config)?;
    let (width, height, container_colour) = track
        .video
        .as_ref()
        .map_or((0, 0, ColourDescription::UNSPECIFIED), |video| {
            (video.width, video.height, video.colour)
        });
    limits.check_pixels(width, height)?;
    let fallback = config.colour().or(container_colour);
    Ok((config.coded_format(width, height, fallback), fallback))
}
