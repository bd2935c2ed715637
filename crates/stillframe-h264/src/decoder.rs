//! [`H264Decoder`]: the [`VideoDecoder`] over OpenH264's raw API.

use std::collections::{BTreeMap, VecDeque};
use std::os::raw::{c_int, c_uchar, c_void};
use std::ptr::{addr_of_mut, null_mut};

use openh264::decoder::Decoder;
use openh264_sys2::{
    SBufferInfo, DECODER_OPTION_NUM_OF_FRAMES_REMAINING_IN_BUFFER, DECODING_STATE,
};
use stillframe_core::{
    ChromaFormat, Codec, CodedFormat, ColourDescription, Error, Frame, Limits, Packet, PixelFormat,
    Plane, Result, TrackInfo, VideoDecoder,
};

use crate::avcc::parse_avcc;
use crate::nal::{
    is_vcl, nal_ref_idc, nal_type, split_nal_units, write_annex_b, NAL_IDR, NAL_PARTITION_A,
    NAL_SPS,
};
use crate::sps::{parse_sps, Sps};

/// NAL length size assumed when there is no avcC record to state it.
const DEFAULT_NAL_LENGTH_SIZE: u8 = 4;

/// Pictures sent whose frame has not come out yet are remembered up to this many;
/// beyond it the oldest are forgotten. OpenH264 holds at most 16 reference frames
/// plus its reorder queue, so only pictures it dropped (after an error) age out.
const MAX_PENDING_PICTURES: usize = 64;

/// Bound on flush calls in [`VideoDecoder::finish`], in case OpenH264 keeps
/// reporting frames it does not hand out.
const MAX_FLUSHES: usize = 64;

/// What is remembered about a picture between sending it and its frame coming out.
#[derive(Debug, Clone, Copy)]
struct PendingPicture {
    pts: i64,
    colour: ColourDescription,
    monochrome: bool,
}

/// An H.264 decoder for one track, on OpenH264.
///
/// Decodes 8-bit 4:2:0 and monochrome progressive streams of the Baseline, Main
/// and High profiles; see the crate documentation for what it refuses and its
/// known inexactness with B-frames.
///
/// # Parameter sets and [`VideoDecoder::format`]
/// With an `avcC` holding an SPS, [`H264Decoder::new`] reads the format from it and
/// rejects unsupported streams there. With an empty `avcC`, or one without SPS
/// (`avc3`, or Annex B samples stored in MP4), `new` succeeds with a provisional
/// format (profile "unknown", the container's picture size, 8-bit 4:2:0,
/// unspecified colour) and [`H264Decoder::sps`] is `None`; the first packet carrying
/// an SPS replaces it before anything is decoded, and an unsupported SPS fails that
/// [`VideoDecoder::send_packet`] with [`Error::Unsupported`]. Every in-band SPS is
/// checked the same way, and the format follows the latest one.
///
/// # Frames
/// Planes are tight (`stride == width`), cropped to the visible picture, 8-bit.
/// Monochrome streams come out as 4:2:0 frames with neutral (128) chroma, as
/// ffmpeg outputs them, while [`VideoDecoder::format`] reports
/// [`ChromaFormat::Monochrome`].
pub struct H264Decoder {
    decoder: Decoder,
    limits: Limits,
    format: CodedFormat,
    /// The latest SPS seen, from the avcC or in-band.
    sps: Option<Sps>,
    /// The first SPS of the avcC, which applies again after a reset.
    config_sps: Option<Sps>,
    nal_length_size: u8,
    /// SPS and PPS of the avcC, sent ahead of the first IDR after a reset.
    config_parameter_sets: Vec<Vec<u8>>,
    parameter_sets_sent: bool,
    next_token: u64,
    pending: BTreeMap<u64, PendingPicture>,
    frames: VecDeque<Frame>,
    /// Reused Annex B buffer.
    annex_b: Vec<u8>,
}

impl std::fmt::Debug for H264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Decoder")
            .field("format", &self.format)
            .field("nal_length_size", &self.nal_length_size)
            .field("pending", &self.pending.len())
            .field("frames", &self.frames.len())
            .finish_non_exhaustive()
    }
}

impl H264Decoder {
    /// Creates a decoder for `track`, whose `codec_config` is the `avcC` payload
    /// (or empty when parameter sets come in-band).
    ///
    /// Fails with [`Error::Unsupported`] for a track that is not H.264 or whose SPS
    /// uses a feature OpenH264 cannot decode, [`Error::Malformed`] for a broken
    /// `avcC` or SPS, [`Error::Limit`] for a picture above `limits.max_pixels`, and
    /// [`Error::Codec`] if OpenH264 fails to start.
    pub fn new(track: &TrackInfo, limits: &Limits) -> Result<Self> {
        if track.codec != Codec::H264 {
            return Err(Error::unsupported(format!(
                "codec {} (the H.264 decoder was asked)",
                track.codec.name()
            )));
        }
        let (nal_length_size, config_parameter_sets, sps) = if track.codec_config.is_empty() {
            (DEFAULT_NAL_LENGTH_SIZE, Vec::new(), None)
        } else {
            let config = parse_avcc(&track.codec_config)?;
            let mut first = None;
            for nal in &config.sps {
                let sps = checked_sps(nal, limits)?;
                first.get_or_insert(sps);
            }
            let mut sets = config.sps;
            sets.extend(config.pps);
            (config.nal_length_size, sets, first)
        };
        let format = match &sps {
            Some(sps) => sps.coded_format(),
            None => provisional_format(track),
        };
        Ok(H264Decoder {
            decoder: new_openh264()?,
            limits: *limits,
            format,
            config_sps: sps.clone(),
            sps,
            nal_length_size,
            config_parameter_sets,
            parameter_sets_sent: false,
            next_token: 1,
            pending: BTreeMap::new(),
            frames: VecDeque::new(),
            annex_b: Vec::new(),
        })
    }

    /// The latest sequence parameter set: from the `avcC`, or the last one seen
    /// in-band; `None` until one is known.
    pub fn sps(&self) -> Option<&Sps> {
        self.sps.as_ref()
    }

    /// Bytes of each NAL unit length in a length-prefixed sample (4 without `avcC`).
    pub fn nal_length_size(&self) -> u8 {
        self.nal_length_size
    }

    fn units<'a>(&self, packet: &'a Packet) -> Result<Vec<&'a [u8]>> {
        split_nal_units(&packet.data, self.nal_length_size)
    }

    /// Decodes `annex_b` (one access unit) with `token` as its timestamp.
    fn decode(&mut self, token: u64) -> Result<()> {
        let length = c_int::try_from(self.annex_b.len()).map_err(|_| {
            Error::codec(format!(
                "access unit of {} bytes is too large for OpenH264",
                self.annex_b.len()
            ))
        })?;
        let mut planes: [*mut c_uchar; 3] = [null_mut(); 3];
        let mut info = SBufferInfo {
            uiInBsTimeStamp: token,
            ..SBufferInfo::default()
        };
        // SAFETY: `raw_api` is unsafe only because some options could break the
        // decoder's assumptions; we set none. The input pointer and length describe
        // `self.annex_b`, which lives across the call; OpenH264 copies what it keeps.
        // `planes` and `info` are valid for writes of the types the C API declares.
        let state = unsafe {
            self.decoder.raw_api().decode_frame_no_delay(
                self.annex_b.as_ptr(),
                length,
                planes.as_mut_ptr(),
                &raw mut info,
            )
        };
        // A picture handed out is only valid until the next call into OpenH264,
        // so copy it now, error or not.
        self.take_output(&planes, &info)?;
        if state != 0 {
            return Err(Error::codec(describe_state(state)));
        }
        Ok(())
    }

    /// Copies the picture OpenH264 handed out, if any, into the frame queue.
    fn take_output(&mut self, planes: &[*mut c_uchar; 3], info: &SBufferInfo) -> Result<()> {
        if info.iBufferStatus != 1 {
            return Ok(());
        }
        let token = info.uiOutYuvTimeStamp;
        let Some(picture) = self.pending.remove(&token) else {
            log::warn!("OpenH264 output a picture with unknown timestamp {token}; dropped");
            return Ok(());
        };
        // SAFETY: `UsrData` is a union with the single member `sSystemBuffer`, which
        // OpenH264 fills whenever iBufferStatus is 1; all its fields are plain ints.
        let buffer = unsafe { info.UsrData.sSystemBuffer };
        let width = positive(buffer.iWidth, "width")?;
        let height = positive(buffer.iHeight, "height")?;
        let luma_stride = positive(buffer.iStride[0], "luma stride")?;
        let chroma_stride = positive(buffer.iStride[1], "chroma stride")?;
        self.limits.check_pixels(
            u32::try_from(width).unwrap_or(u32::MAX),
            u32::try_from(height).unwrap_or(u32::MAX),
        )?;
        let chroma_width = width.div_ceil(2);
        let chroma_height = height.div_ceil(2);
        if luma_stride < width || chroma_stride < chroma_width || planes.iter().any(|p| p.is_null())
        {
            return Err(Error::codec(format!(
                "OpenH264 output an inconsistent picture ({width}x{height}, strides \
                 {luma_stride}/{chroma_stride})"
            )));
        }
        // SAFETY: with iBufferStatus 1, OpenH264's DecodeFrameConstruction points
        // pDst[0] at the visible top-left of a luma plane of at least iHeight rows of
        // iStride[0] bytes, and pDst[1], pDst[2] at chroma planes of ceil(iHeight/2)
        // rows of iStride[1] bytes (its pictures are whole macroblocks plus padding).
        // The buffers stay valid until the next call into the decoder, and we call
        // nothing before copying; strides ≥ widths was checked above.
        let luma = unsafe { copy_plane(planes[0], luma_stride, width, height) };
        let (u, v) = if picture.monochrome {
            // 4:0:0 has no chroma: OpenH264's chroma planes hold whatever its
            // buffers held (128 at allocation, not a documented output). Neutral
            // grey is what the stream means, and what ffmpeg outputs.
            let grey = vec![128u8; chroma_width * chroma_height];
            (grey.clone(), grey)
        } else {
            // SAFETY: as for the luma plane above.
            unsafe {
                (
                    copy_plane(planes[1], chroma_stride, chroma_width, chroma_height),
                    copy_plane(planes[2], chroma_stride, chroma_width, chroma_height),
                )
            }
        };
        let plane = |data: Vec<u8>, width: usize, height: usize| Plane {
            data,
            stride: width,
            width,
            height,
        };
        self.frames.push_back(Frame {
            pts: picture.pts,
            width: u32::try_from(width).unwrap_or(u32::MAX),
            height: u32::try_from(height).unwrap_or(u32::MAX),
            format: PixelFormat {
                chroma: ChromaFormat::Yuv420,
                bit_depth: 8,
            },
            planes: vec![
                plane(luma, width, height),
                plane(u, chroma_width, chroma_height),
                plane(v, chroma_width, chroma_height),
            ],
            colour: picture.colour,
        });
        Ok(())
    }

    /// Checks every SPS of the access unit before OpenH264 sees it.
    fn check_in_band(&mut self, units: &[&[u8]]) -> Result<()> {
        for unit in units {
            match nal_type(unit) {
                Some(NAL_SPS) => {
                    let sps = checked_sps(unit, &self.limits)?;
                    self.format = sps.coded_format();
                    self.sps = Some(sps);
                }
                // Only the Extended profile may partition slices; elsewhere a type 2
                // unit is corruption, which OpenH264 skips.
                Some(NAL_PARTITION_A)
                    if self.sps.as_ref().is_some_and(|sps| sps.profile_idc == 88) =>
                {
                    return Err(Error::unsupported(
                        "H.264 data partitioning (Extended profile) — OpenH264 skips \
                         partitioned slices",
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn remember(&mut self, token: u64, pts: i64) {
        let picture = PendingPicture {
            pts,
            colour: self.format.colour,
            monochrome: self.format.chroma == ChromaFormat::Monochrome,
        };
        self.pending.insert(token, picture);
        while self.pending.len() > MAX_PENDING_PICTURES {
            self.pending.pop_first();
        }
    }

    /// Checks `packet` and writes it to `out` as Annex B, preceded by the avcC
    /// parameter sets at the first IDR after a reset. True if it holds a picture.
    fn access_unit(&mut self, packet: &Packet, out: &mut Vec<u8>) -> Result<bool> {
        let units = self.units(packet)?;
        self.check_in_band(&units)?;
        let has_idr = units.iter().any(|unit| nal_type(unit) == Some(NAL_IDR));
        if has_idr && !self.parameter_sets_sent {
            write_annex_b(self.config_parameter_sets.iter().map(Vec::as_slice), out);
            self.parameter_sets_sent = true;
        }
        // OpenH264 trips over some SVC prefix units (type 14) that ffmpeg ignores;
        // decoding the AVC base layer alone is what ffmpeg outputs too.
        write_annex_b(
            units
                .iter()
                .copied()
                .filter(|unit| !matches!(nal_type(unit), Some(14 | 15 | 20 | 21))),
            out,
        );
        Ok(units.iter().any(|unit| is_vcl(unit)))
    }

    fn frames_remaining(&mut self) -> Result<c_int> {
        let mut remaining: c_int = 0;
        // SAFETY: raw_api as in `decode`; this option writes one int to the pointer.
        let status = unsafe {
            self.decoder.raw_api().get_option(
                DECODER_OPTION_NUM_OF_FRAMES_REMAINING_IN_BUFFER,
                addr_of_mut!(remaining).cast::<c_void>(),
            )
        };
        if status != 0 {
            return Err(Error::codec(format!(
                "OpenH264 could not tell the frames it holds (status {status})"
            )));
        }
        Ok(remaining)
    }
}

impl VideoDecoder for H264Decoder {
    fn format(&self) -> &CodedFormat {
        &self.format
    }

    fn is_random_access_point(&self, packet: &Packet) -> bool {
        self.units(packet)
            .is_ok_and(|units| units.iter().any(|unit| nal_type(unit) == Some(NAL_IDR)))
    }

    fn is_discardable(&self, packet: &Packet) -> bool {
        self.units(packet).is_ok_and(|units| {
            let mut slices = units.iter().filter(|unit| is_vcl(unit)).peekable();
            slices.peek().is_some() && slices.all(|unit| nal_ref_idc(unit) == Some(0))
        })
    }

    fn send_packet(&mut self, packet: &Packet) -> Result<()> {
        let mut annex_b = std::mem::take(&mut self.annex_b);
        annex_b.clear();
        let result = self.access_unit(packet, &mut annex_b);
        self.annex_b = annex_b;
        let has_picture = result?;
        if self.annex_b.is_empty() {
            // OpenH264 takes an empty input as end of stream; an empty sample means nothing.
            return Ok(());
        }
        let token = self.next_token;
        self.next_token += 1;
        if has_picture {
            self.remember(token, packet.pts);
        }
        self.decode(token).map_err(|error| match error {
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

    fn finish(&mut self) -> Result<()> {
        for _ in 0..MAX_FLUSHES {
            if self.frames_remaining()? <= 0 {
                break;
            }
            let mut planes: [*mut c_uchar; 3] = [null_mut(); 3];
            let mut info = SBufferInfo::default();
            // SAFETY: raw_api as in `decode`; `planes` and `info` are valid for
            // writes of the types the C API declares.
            let state = unsafe {
                self.decoder
                    .raw_api()
                    .flush_frame(planes.as_mut_ptr(), &raw mut info)
            };
            self.take_output(&planes, &info)?;
            if state != 0 {
                return Err(Error::codec(describe_state(state)));
            }
            if info.iBufferStatus != 1 {
                break;
            }
        }
        self.pending.clear();
        Ok(())
    }

    fn reset(&mut self) -> Result<()> {
        // A fresh decoder is the one state OpenH264 documents; it costs little.
        self.decoder = new_openh264()?;
        // The avcC's parameter sets go in again; an in-band SPS of the next
        // packets replaces them as before.
        if let Some(sps) = &self.config_sps {
            self.format = sps.coded_format();
            self.sps = Some(sps.clone());
        }
        self.parameter_sets_sent = false;
        self.pending.clear();
        self.frames.clear();
        Ok(())
    }
}

/// What the `avcC` of `track` says about its pictures, without decoding anything.
///
/// This describes the stream even when OpenH264 cannot decode it (a High 10
/// track reports "High 10" and 10 bits); [`H264Decoder::new`] is what refuses.
/// With no SPS in the `avcC` (parameter sets in-band), it returns the provisional
/// format [`H264Decoder`] starts with: profile "unknown" and the container's size.
///
/// Fails with [`Error::Malformed`] for a broken `avcC` or SPS and
/// [`Error::Limit`] for a coded picture above `limits.max_pixels`.
pub fn inspect(track: &TrackInfo, limits: &Limits) -> Result<CodedFormat> {
    if track.codec_config.is_empty() {
        return Ok(provisional_format(track));
    }
    let config = parse_avcc(&track.codec_config)?;
    let Some(nal) = config.sps.first() else {
        return Ok(provisional_format(track));
    };
    let sps = parse_sps(nal)?;
    let (width, height) = sps.coded_size();
    limits.check_pixels(width, height)?;
    Ok(sps.coded_format())
}

/// Parses an SPS and fails if OpenH264 cannot decode it or it is above the limits.
fn checked_sps(nal: &[u8], limits: &Limits) -> Result<Sps> {
    let sps = parse_sps(nal)?;
    sps.check_supported()?;
    let (width, height) = sps.coded_size();
    limits.check_pixels(width, height)?;
    Ok(sps)
}

/// The format assumed until an SPS arrives.
fn provisional_format(track: &TrackInfo) -> CodedFormat {
    let (width, height) = track
        .video
        .as_ref()
        .map_or((0, 0), |video| (video.width, video.height));
    CodedFormat {
        profile: "unknown".to_owned(),
        width,
        height,
        crop: Default::default(),
        pixel_aspect: None,
        colour: ColourDescription::UNSPECIFIED,
        bit_depth: 8,
        chroma: ChromaFormat::Yuv420,
    }
}

fn new_openh264() -> Result<Decoder> {
    // Decoder::new leaves OpenH264's own threading off (num_threads 0): with two
    // or more threads it deadlocks.
    Decoder::new().map_err(|error| Error::codec(format!("OpenH264 failed to start: {error}")))
}

fn positive(value: c_int, what: &str) -> Result<usize> {
    usize::try_from(value)
        .ok()
        .filter(|&value| value > 0)
        .ok_or_else(|| Error::codec(format!("OpenH264 output a picture with {what} {value}")))
}

/// Copies `height` rows of `width` bytes, `stride` apart, from `origin`.
///
/// # Safety
/// `origin` must be valid for reads of `stride × (height − 1) + width` bytes, with
/// `stride ≥ width`, for the duration of the call.
unsafe fn copy_plane(origin: *const u8, stride: usize, width: usize, height: usize) -> Vec<u8> {
    if height == 0 {
        return Vec::new();
    }
    let extent = stride * (height - 1) + width;
    // SAFETY: the caller guarantees `extent` readable bytes from `origin`.
    let source = unsafe { std::slice::from_raw_parts(origin, extent) };
    let mut plane = Vec::with_capacity(width * height);
    for row in source.chunks(stride).take(height) {
        plane.extend_from_slice(row.get(..width).unwrap_or(row));
    }
    plane
}

/// Names the bits of a `DECODING_STATE`.
fn describe_state(state: DECODING_STATE) -> String {
    const STATES: [(DECODING_STATE, &str); 11] = [
        (0x01, "dsFramePending: the access unit is incomplete"),
        (
            0x02,
            "dsRefLost: a reference picture is missing (decoding must start at an IDR)",
        ),
        (0x04, "dsBitstreamError: the bitstream is corrupt"),
        (0x08, "dsDepLayerLost: a dependency layer is missing"),
        (
            0x10,
            "dsNoParamSets: no SPS/PPS for this picture (decoding must start at an IDR \
             with its parameter sets)",
        ),
        (0x20, "dsDataErrorConcealed: errors were concealed"),
        (0x40, "dsRefListNullPtrs: the reference list is incomplete"),
        (0x1000, "dsInvalidArgument"),
        (
            0x2000,
            "dsInitialOptExpected: the decoder is not initialised",
        ),
        (0x4000, "dsOutOfMemory"),
        (0x8000, "dsDstBufNeedExpan: the output buffer is too small"),
    ];
    let named: Vec<&str> = STATES
        .iter()
        .filter(|(bit, _)| state & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    let known = STATES.iter().fold(0, |all, (bit, _)| all | bit);
    let mut message = format!("OpenH264 decoding state {state:#x}: {}", named.join("; "));
    if state & !known != 0 {
        message.push_str(&format!("; unknown bits {:#x}", state & !known));
    }
    message
}
