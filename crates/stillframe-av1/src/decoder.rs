//! [`Av1Decoder`]: the [`VideoDecoder`] over dav1d's API (rav1d or libdav1d).

use std::collections::VecDeque;

use stillframe_core::{
    ChromaFormat, Codec, CodedFormat, ColourDescription, Crop, Error, Frame, Limits, Packet,
    PixelFormat, Plane, Result, TrackInfo, VideoDecoder,
};

use stillframe_bitstream::av1::{
    after_temporal_delimiter, parse_av1c, SequenceHeader, TemporalUnit,
};

use crate::backend::{self, Context, Data, Picture, Settings, EAGAIN};

/// Bound on `EAGAIN` rounds for one packet: each round takes at least one
/// picture out, and one temporal unit shows at most one picture per layer.
const MAX_SEND_ROUNDS: usize = 64;

/// How an [`Av1Decoder`] runs.
///
/// ```
/// let options = stillframe_av1::Av1Options { threads: 2, ..Default::default() };
/// assert_eq!(options.max_frame_delay, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Av1Options {
    /// Worker threads (dav1d's `n_threads`); 0 means one per logical processor.
    /// Default 1.
    pub threads: u32,
    /// Frames decoded in parallel (dav1d's `max_frame_delay`). The default, 1,
    /// decodes each frame before the next packet is sent, which is what seeking
    /// wants: the frame of a packet comes out right after it. 0 lets dav1d pick
    /// from the thread count (faster for long runs of frames).
    pub max_frame_delay: u32,
}

impl Default for Av1Options {
    fn default() -> Self {
        Av1Options {
            threads: 1,
            max_frame_delay: 1,
        }
    }
}

/// An AV1 decoder for one track.
///
/// Decodes every AV1 profile (8, 10 and 12 bits; 4:2:0, 4:2:2, 4:4:4 and
/// monochrome) as ffmpeg's libdav1d wrapper does by default: operating point 0,
/// only its highest spatial layer output, film grain applied.
///
/// # Sequence header and [`VideoDecoder::format`]
/// With an `av1C` whose `configOBUs` hold a sequence header, [`Av1Decoder::new`]
/// reads the format from it; otherwise from the `av1C`'s own fields (or, without
/// an `av1C`, provisionally: the container's size, 8-bit 4:2:0) until a packet
/// brings a sequence header. Every sequence header is checked against the
/// [`Limits`] before the decoder sees it. After a reset, the first packet is
/// preceded by the `av1C` sequence header unless it carries its own.
///
/// # Frames
/// One frame per temporal unit that shows one (hidden frames never come out), with
/// the `pts` of the packet whose temporal unit showed it (so a
/// `show_existing_frame` unit gives its own `pts` to the frame it shows again).
/// Planes are tight (`stride == width × bytes per sample`), at the frame's own
/// size (which may change between key frames), little-endian `u16` above 8 bits;
/// monochrome frames have the luma plane only.
pub struct Av1Decoder {
    context: Context,
    /// What `context` was opened with, to open a fresh one.
    settings: Settings,
    /// Whether `context` reported a failure since it was opened. A flush does not
    /// bring such a context back: after a failed frame, frame-threaded dav1d and
    /// rav1d can wait forever in a later `get_picture` for a frame context that
    /// never finishes (found by fuzzing; rust-av/dav1d-rs#70 is the same hang).
    /// [`VideoDecoder::reset`] opens a fresh one instead.
    context_failed: bool,
    limits: Limits,
    format: CodedFormat,
    /// The active sequence header: the latest seen in-band, else the `av1C` one.
    sequence: Option<SequenceHeader>,
    /// The `av1C` sequence header and its OBU, which apply again after a reset.
    config_sequence: Option<(SequenceHeader, Vec<u8>)>,
    /// The format before any in-band sequence header, restored by a reset.
    config_format: CodedFormat,
    /// Whether a packet went in since the last reset.
    sent_since_reset: bool,
    frames: VecDeque<Frame>,
    /// Reused buffer for a packet with the `av1C` sequence header put in.
    input: Vec<u8>,
    /// Drain the decoder after each packet, so its frame comes out at once
    /// (one frame of delay asked for).
    drain_each_packet: bool,
}

impl std::fmt::Debug for Av1Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Av1Decoder")
            .field("backend", &backend::BACKEND)
            .field("format", &self.format)
            .field("frames", &self.frames.len())
            .finish_non_exhaustive()
    }
}

impl Av1Decoder {
    /// Creates a decoder for `track` with the default [`Av1Options`] (one thread,
    /// one frame of delay).
    ///
    /// `track.codec_config` is the `av1C` payload (MP4) or `CodecPrivate`
    /// (Matroska), or empty. Fails with [`Error::Unsupported`] for a track that is
    /// not AV1, [`Error::Malformed`] for a broken `av1C` or sequence header,
    /// [`Error::Limit`] for a picture above `limits.max_pixels`, and
    /// [`Error::Codec`] if the decoder fails to start.
    pub fn new(track: &TrackInfo, limits: &Limits) -> Result<Self> {
        Self::with_options(track, limits, Av1Options::default())
    }

    /// Like [`Av1Decoder::new`], with a thread count and frame delay.
    pub fn with_options(track: &TrackInfo, limits: &Limits, options: Av1Options) -> Result<Self> {
        if track.codec != Codec::Av1 {
            return Err(Error::unsupported(format!(
                "codec {} (the AV1 decoder was asked)",
                track.codec.name()
            )));
        }
        let (format, config_sequence) = read_config(track, limits)?;
        let settings = Settings {
            threads: options.threads,
            max_frame_delay: options.max_frame_delay,
            // dav1d refuses larger frames itself; 0 means no bound.
            frame_size_limit: u32::try_from(limits.max_pixels).unwrap_or(0),
        };
        let context = open_context(&settings)?;
        Ok(Av1Decoder {
            context,
            settings,
            context_failed: false,
            limits: *limits,
            config_format: format.clone(),
            format,
            sequence: config_sequence.as_ref().map(|(header, _)| header.clone()),
            config_sequence,
            sent_since_reset: false,
            frames: VecDeque::new(),
            input: Vec::new(),
            drain_each_packet: options.max_frame_delay == 1,
        })
    }

    /// The active sequence header: the latest one seen in a packet, else the
    /// `av1C`'s; `None` until one is known.
    pub fn sequence_header(&self) -> Option<&SequenceHeader> {
        self.sequence.as_ref()
    }

    /// Which decoder is compiled in: `"rav1d"` or `"libdav1d"`.
    pub fn backend() -> &'static str {
        backend::BACKEND
    }

    /// Reads `packet`'s temporal unit, taking in its sequence header.
    fn take_in(&mut self, packet: &Packet) -> Result<TemporalUnit> {
        let unit = TemporalUnit::parse(&packet.data, self.sequence.as_ref())?;
        if let Some(header) = &unit.sequence_header {
            checked(header, &self.limits)?;
            self.format = header.coded_format();
            self.sequence = Some(header.clone());
        }
        Ok(unit)
    }

    /// The bytes to send for `packet`: as stored, or with the `av1C` sequence
    /// header put in after a leading temporal delimiter.
    fn input_for<'a>(&'a mut self, packet: &'a Packet, unit: &TemporalUnit) -> &'a [u8] {
        let config = match &self.config_sequence {
            Some((_, obu)) if !self.sent_since_reset && unit.sequence_header.is_none() => obu,
            _ => return &packet.data,
        };
        let split = after_temporal_delimiter(&packet.data);
        self.input.clear();
        self.input
            .extend_from_slice(packet.data.get(..split).unwrap_or_default());
        self.input.extend_from_slice(config);
        self.input
            .extend_from_slice(packet.data.get(split..).unwrap_or_default());
        &self.input
    }

    /// Sends `data` until the decoder takes it, taking pictures out whenever it
    /// answers `EAGAIN` (the data is then still ours and is sent again).
    fn send(&mut self, mut data: Data) -> Result<()> {
        for _ in 0..MAX_SEND_ROUNDS {
            match self.context.send(&mut data) {
                0 if data.is_empty() => return Ok(()),
                0 => {}
                code if code == -EAGAIN => {
                    if !self.take_pictures(false)? {
                        return Err(Error::codec(format!(
                            "{} refused data and had no picture to give",
                            backend::BACKEND
                        )));
                    }
                }
                // The data is still ours; dropping it releases it.
                code => {
                    self.context_failed = true;
                    return Err(Error::codec(backend::describe(code)));
                }
            }
        }
        Err(Error::codec(format!(
            "{} did not take a packet after {MAX_SEND_ROUNDS} rounds",
            backend::BACKEND
        )))
    }

    /// Moves every picture the decoder has ready into the frame queue, and with
    /// `drain` those still in flight too; true if there was any.
    ///
    /// With frame threading, the first `get_picture` after a send answers
    /// `EAGAIN` while frames are in flight; the next one drains them.
    fn take_pictures(&mut self, drain: bool) -> Result<bool> {
        let mut any = false;
        let mut tries = if drain { 2 } else { 1 };
        while tries > 0 {
            match self.next_picture()? {
                Some(picture) => {
                    let frame = self.frame_of(&picture)?;
                    self.frames.push_back(frame);
                    any = true;
                }
                None => tries -= 1,
            }
        }
        Ok(any)
    }

    fn next_picture(&mut self) -> Result<Option<Picture>> {
        match self.context.get_picture() {
            Ok(picture) => Ok(Some(picture)),
            Err(code) if code == -EAGAIN => Ok(None),
            Err(code) => {
                self.context_failed = true;
                Err(Error::codec(backend::describe(code)))
            }
        }
    }

    /// Copies `picture` into a [`Frame`] (the picture is unref'd by its drop).
    fn frame_of(&self, picture: &Picture) -> Result<Frame> {
        let geometry = picture.geometry().ok_or_else(|| {
            Error::codec(format!(
                "{} output a picture without a valid size",
                backend::BACKEND
            ))
        })?;
        let width = u32::try_from(geometry.width).unwrap_or(u32::MAX);
        let height = u32::try_from(geometry.height).unwrap_or(u32::MAX);
        self.limits.check_pixels(width, height)?;
        let sample_bytes = geometry.sample_bytes();
        let mut planes = Vec::with_capacity(geometry.plane_count());
        for index in 0..geometry.plane_count() {
            let (samples, rows) = geometry.plane_size(index);
            let (bytes, stride) = picture.plane(index, &geometry).ok_or_else(|| {
                Error::codec(format!(
                    "{} output plane {index} with an inconsistent layout",
                    backend::BACKEND
                ))
            })?;
            let row_bytes = samples * sample_bytes;
            let mut data = Vec::with_capacity(row_bytes * rows);
            for row in bytes.chunks(stride).take(rows) {
                data.extend_from_slice(row.get(..row_bytes).unwrap_or(row));
            }
            if sample_bytes == 2 && cfg!(target_endian = "big") {
                // dav1d writes native-endian u16 samples; frames hold little-endian.
                data.chunks_exact_mut(2).for_each(|pair| pair.swap(0, 1));
            }
            planes.push(Plane {
                data,
                stride: row_bytes,
                width: samples,
                height: rows,
            });
        }
        Ok(Frame {
            pts: picture.timestamp(),
            width,
            height,
            format: PixelFormat {
                chroma: geometry.chroma,
                bit_depth: geometry.bit_depth,
            },
            planes,
            colour: picture.colour().unwrap_or(self.format.colour),
            damage: None,
        })
    }
}

impl VideoDecoder for Av1Decoder {
    fn format(&self) -> &CodedFormat {
        &self.format
    }

    fn send_packet(&mut self, packet: &Packet) -> Result<()> {
        let located = |error: Error| match error {
            Error::Codec { message } => Error::codec(format!(
                "{message} (sample {}, pts {})",
                packet.sample, packet.pts
            )),
            other => other,
        };
        let unit = self.take_in(packet).map_err(located)?;
        if packet.data.is_empty() {
            return Ok(());
        }
        let data = Data::new(self.input_for(packet, &unit), packet.pts)
            .map_err(|code| located(Error::codec(backend::describe(code))))?;
        self.sent_since_reset = true;
        self.send(data).map_err(located)?;
        self.take_pictures(self.drain_each_packet)
            .map_err(located)?;
        Ok(())
    }

    fn receive_frame(&mut self) -> Result<Option<Frame>> {
        Ok(self.frames.pop_front())
    }

    fn finish(&mut self) -> Result<()> {
        self.take_pictures(true)?;
        Ok(())
    }

    fn reset(&mut self) -> Result<()> {
        if self.context_failed {
            // The failed context is closed (its threads joined) when replaced.
            self.context = open_context(&self.settings)?;
            self.context_failed = false;
        } else {
            self.context.flush();
        }
        self.frames.clear();
        self.sent_since_reset = false;
        self.sequence = self
            .config_sequence
            .as_ref()
            .map(|(header, _)| header.clone());
        self.format = self.config_format.clone();
        Ok(())
    }
}

/// What the `av1C` of `track` says about its pictures, without decoding anything.
///
/// From the sequence header in its `configOBUs` when there is one (profile,
/// largest frame size, bit depth, chroma, colour description), else from the
/// record's own fields and the container's picture size; without an `av1C`,
/// profile "unknown", the container's size, 8-bit 4:2:0.
///
/// Fails with [`Error::Malformed`] for a broken `av1C` or sequence header and
/// [`Error::Limit`] for a largest frame above `limits.max_pixels`.
pub fn inspect(track: &TrackInfo, limits: &Limits) -> Result<CodedFormat> {
    read_config(track, limits).map(|(format, _)| format)
}

type ConfigSequence = Option<(SequenceHeader, Vec<u8>)>;

/// The format and the `av1C` sequence header (parsed, and its OBU) of `track`.
fn read_config(track: &TrackInfo, limits: &Limits) -> Result<(CodedFormat, ConfigSequence)> {
    let (width, height) = track
        .video
        .as_ref()
        .map_or((0, 0), |video| (video.width, video.height));
    let mut format = CodedFormat {
        profile: "unknown".to_owned(),
        width,
        height,
        crop: Crop::default(),
        pixel_aspect: None,
        colour: ColourDescription::UNSPECIFIED,
        bit_depth: 8,
        chroma: ChromaFormat::Yuv420,
    };
    if track.codec_config.is_empty() {
        return Ok((format, None));
    }
    let config = parse_av1c(&track.codec_config)?;
    if let (Some(header), Some(obu)) = (config.sequence_header()?, config.sequence_header_obu()?) {
        checked(&header, limits)?;
        return Ok((header.coded_format(), Some((header, obu.to_vec()))));
    }
    format.profile = match config.profile {
        0 => "Main",
        1 => "High",
        _ => "Professional",
    }
    .to_owned();
    format.bit_depth = config.bit_depth;
    format.chroma = config.chroma();
    Ok((format, None))
}

/// Fails if the largest frame `header` allows is above the limits.
fn checked(header: &SequenceHeader, limits: &Limits) -> Result<()> {
    limits.check_pixels(header.max_frame_width, header.max_frame_height)
}

/// Opens a decoder context, or says why it could not start.
fn open_context(settings: &Settings) -> Result<Context> {
    Context::open(settings).map_err(|code| {
        Error::codec(format!(
            "the AV1 decoder failed to start: {}",
            backend::describe(code)
        ))
    })
}
