//! The OpenH264 backend (feature `openh264`): Cisco's C++ decoder through the
//! `openh264` crate, built from its bundled source.
//!
//! OpenH264 outputs in presentation order, holding pictures back when B-frames
//! reorder them. Its safe API loses timestamps and its automatic flushing
//! mis-orders frames, so the raw API is used: each access unit goes to
//! `DecodeFrameNoDelay` as Annex B with its token as the timestamp, and `flush`
//! drains the pictures still held.
//!
//! Known limits (why rust_h264 is the default): 8-bit 4:2:0 progressive only;
//! not bit-exact with B-frames (cisco/openh264#3269: first differences on
//! B-slice block edges, usually above 50 dB luma PSNR, 40 dB on one x264 clip
//! with weighted prediction) nor with long-term references and list
//! modification (27 dB on one phone clip); no error concealment (a lost
//! reference is an error); decoding starts at an IDR only; its own threading
//! deadlocks and is never enabled; and it links libstdc++.

use std::collections::VecDeque;
use std::os::raw::{c_int, c_uchar, c_void};
use std::ptr::{addr_of_mut, null_mut};

use openh264::decoder::Decoder;
use openh264_sys2::{
    SBufferInfo, DECODER_OPTION_NUM_OF_FRAMES_REMAINING_IN_BUFFER, DECODING_STATE,
};
use stillframe_bitstream::framing::write_annex_b;
use stillframe_bitstream::h264::{nal_type, Sps, NAL_IDR};
use stillframe_core::{ChromaFormat, Crop, Error, Result};

use super::{Backend, Picture, Structure};

/// Bound on flush calls, in case OpenH264 keeps reporting frames it does not hand out.
const MAX_FLUSHES: usize = 64;

/// OpenH264 behind the [`Backend`] contract.
pub(crate) struct OpenH264 {
    decoder: Decoder,
    /// Reused Annex B buffer.
    annex_b: Vec<u8>,
    out: VecDeque<Picture>,
    /// OpenH264 outputs nothing for a stream that does not start at an IDR.
    seen_idr: bool,
}

impl Backend for OpenH264 {
    const NAME: &'static str = "OpenH264";

    fn new() -> Result<Self> {
        Ok(OpenH264 {
            decoder: new_openh264()?,
            annex_b: Vec::new(),
            out: VecDeque::new(),
            seen_idr: false,
        })
    }

    /// Fails with [`Error::Unsupported`] naming the feature if OpenH264 cannot
    /// decode pictures coded with this SPS.
    ///
    /// OpenH264 decodes 8-bit 4:2:0 (and monochrome) progressive pictures of the
    /// Baseline, Main and High profiles. It rejects or mis-decodes: bit depths above
    /// 8 (High 10 and up), 4:2:2 and 4:4:4 chroma, interlaced coding
    /// (`frame_mbs_only_flag` 0: field pictures or MBAFF), lossless macroblocks
    /// (`qpprime_y_zero_transform_bypass_flag`, which it parses but ignores), and
    /// monochrome with frame cropping (it crops in 4:2:0 units, twice too much).
    fn check_supported(sps: &Sps) -> Result<()> {
        const ONLY: &str = "OpenH264 decodes 8-bit 4:2:0 progressive only";
        let profile = sps.profile_name();
        let depth = sps.bit_depth_luma.max(sps.bit_depth_chroma);
        if depth > 8 {
            return Err(Error::unsupported(format!(
                "H.264 {profile} ({depth}-bit) — {ONLY}"
            )));
        }
        match sps.chroma_format_idc {
            2 => {
                return Err(Error::unsupported(format!(
                    "H.264 4:2:2 chroma ({profile}) — {ONLY}"
                )))
            }
            3 => {
                return Err(Error::unsupported(format!(
                    "H.264 4:4:4 chroma ({profile}) — {ONLY}"
                )))
            }
            _ => {}
        }
        if !sps.frame_mbs_only {
            let kind = if sps.mb_adaptive_frame_field {
                "MBAFF"
            } else {
                "field pictures"
            };
            return Err(Error::unsupported(format!(
                "H.264 interlaced ({kind}, frame_mbs_only_flag 0) — {ONLY}"
            )));
        }
        if sps.transform_bypass {
            return Err(Error::unsupported(format!(
                "H.264 lossless coding (qpprime_y_zero_transform_bypass, {profile}) — \
                 OpenH264 ignores it"
            )));
        }
        if sps.chroma_format_idc == 0 && sps.frame_crop_offsets != Crop::default() {
            return Err(Error::unsupported(
                "H.264 monochrome with frame cropping — OpenH264 crops it in 4:2:0 units",
            ));
        }
        Ok(())
    }

    fn decode(&mut self, units: &[&[u8]], token: u64, structure: Structure) -> Result<()> {
        let _ = structure;
        self.seen_idr |= units.iter().any(|unit| nal_type(unit) == Some(NAL_IDR));
        let mut annex_b = std::mem::take(&mut self.annex_b);
        annex_b.clear();
        write_annex_b(units.iter().copied(), &mut annex_b);
        let result = if annex_b.is_empty() {
            // OpenH264 takes an empty input as the end of the stream.
            Ok(())
        } else {
            self.decode_annex_b(&annex_b, token)
        };
        self.annex_b = annex_b;
        result
    }

    fn flush(&mut self) -> Result<()> {
        for _ in 0..MAX_FLUSHES {
            if self.frames_remaining()? <= 0 {
                break;
            }
            let mut planes: [*mut c_uchar; 3] = [null_mut(); 3];
            let mut info = SBufferInfo::default();
            // SAFETY: raw_api is unsafe only because some options could break the
            // decoder's assumptions; we set none. `planes` and `info` are valid for
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
        Ok(())
    }

    fn take(&mut self) -> Option<Picture> {
        self.out.pop_front()
    }
}

impl OpenH264 {
    /// Decodes one Annex B access unit with `token` as its timestamp.
    fn decode_annex_b(&mut self, annex_b: &[u8], token: u64) -> Result<()> {
        let length = c_int::try_from(annex_b.len()).map_err(|_| {
            Error::codec(format!(
                "access unit of {} bytes is too large for OpenH264",
                annex_b.len()
            ))
        })?;
        let mut planes: [*mut c_uchar; 3] = [null_mut(); 3];
        let mut info = SBufferInfo {
            uiInBsTimeStamp: token,
            ..SBufferInfo::default()
        };
        // SAFETY: raw_api as in `flush`. The input pointer and length describe
        // `annex_b`, which lives across the call; OpenH264 copies what it keeps.
        // `planes` and `info` are valid for writes of the types the C API declares.
        let state = unsafe {
            self.decoder.raw_api().decode_frame_no_delay(
                annex_b.as_ptr(),
                length,
                planes.as_mut_ptr(),
                &raw mut info,
            )
        };
        // A picture handed out is only valid until the next call into OpenH264,
        // so copy it now, error or not.
        self.take_output(&planes, &info)?;
        if state != 0 {
            let mut message = describe_state(state);
            if !self.seen_idr {
                message.push_str(" (OpenH264 starts at an IDR only)");
            }
            return Err(Error::codec(message));
        }
        Ok(())
    }

    /// Copies the picture OpenH264 handed out, if any.
    fn take_output(&mut self, planes: &[*mut c_uchar; 3], info: &SBufferInfo) -> Result<()> {
        if info.iBufferStatus != 1 {
            return Ok(());
        }
        // SAFETY: `UsrData` is a union with the single member `sSystemBuffer`, which
        // OpenH264 fills whenever iBufferStatus is 1; all its fields are plain ints.
        let buffer = unsafe { info.UsrData.sSystemBuffer };
        let width = positive(buffer.iWidth, "width")?;
        let height = positive(buffer.iHeight, "height")?;
        let luma_stride = positive(buffer.iStride[0], "luma stride")?;
        let chroma_stride = positive(buffer.iStride[1], "chroma stride")?;
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
        let (y, u, v) = unsafe {
            (
                copy_plane(planes[0], luma_stride, width, height),
                copy_plane(planes[1], chroma_stride, chroma_width, chroma_height),
                copy_plane(planes[2], chroma_stride, chroma_width, chroma_height),
            )
        };
        self.out.push_back(Picture {
            token: info.uiOutYuvTimeStamp,
            width,
            height,
            chroma: ChromaFormat::Yuv420,
            bit_depth: 8,
            planes: [y, u, v],
            poc: None,
            damage: None,
        });
        Ok(())
    }

    fn frames_remaining(&mut self) -> Result<c_int> {
        let mut remaining: c_int = 0;
        // SAFETY: raw_api as in `flush`; this option writes one int to the pointer.
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
