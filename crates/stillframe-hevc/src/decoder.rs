//! [`HevcDecoder`]: the [`VideoDecoder`] over rusty_h265. Everything that must hold
//! whatever the library does lives here: parameter sets checked against [`Limits`]
//! before the library sees them, decoding entered only at IRAP pictures, RASL
//! pictures of the entry dropped, damage reported, panics caught.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};

use rusty_h265::ctu::Ablate;
use rusty_h265::Decoder;
use stillframe_bitstream::framing::split_nal_units;
use stillframe_bitstream::hevc::{
    classify_access_unit, parse_codec_config, HevcConfig, NalHeader, PictureKind, NAL_EOB, NAL_EOS,
    NAL_SPS, NAL_VPS,
};
use stillframe_core::{
    ChromaFormat, Codec, CodedFormat, ColourDescription, Crop, Error, ErrorKind, Frame, Limits,
    Packet, Result, TrackInfo, VideoDecoder,
};

use crate::convert::frame_from;
use crate::support::checked_sps;

/// NAL length size assumed when there is no `hvcC` to state it.
const DEFAULT_NAL_LENGTH_SIZE: u8 = 4;

/// Pictures sent whose frame has not come out yet are remembered up to this many;
/// beyond it the oldest are forgotten. The DPB holds at most 16 pictures, so only
/// pictures the library dropped age out.
const MAX_PENDING_PICTURES: usize = 64;

/// What is remembered about a picture between sending it and its frame coming out.
#[derive(Debug, Clone)]
struct Pending {
    pts: i64,
    colour: ColourDescription,
    damage: Option<String>,
}

/// The parameter sets one sample description brings.
#[derive(Debug, Clone, Default)]
struct Config {
    nal_length_size: u8,
    /// VPS, SPS then PPS units, sent ahead of the first picture after a reset or a
    /// change of sample description.
    parameter_sets: Vec<Vec<u8>>,
}

/// Where decoding stands relative to the random access points it entered at.
#[derive(Debug, Clone, Default)]
struct Entry {
    /// No IRAP picture sent since the reset or the last end of sequence: pictures
    /// are dropped until one comes.
    waiting_for_irap: bool,
    /// The last IRAP picture started decoding (`NoRaslOutputFlag` 1): its RASL
    /// pictures refer to pictures never decoded, and are dropped.
    skip_rasl: bool,
    /// Why pictures are suspect until the next IRAP picture.
    taint: Option<String>,
    /// Why the RASL pictures of the last IRAP picture are suspect: the taint
    /// before it, since they refer across it.
    rasl_taint: Option<String>,
}

impl Entry {
    fn at_reset() -> Entry {
        Entry {
            waiting_for_irap: true,
            ..Entry::default()
        }
    }
}

/// A HEVC decoder for one track, on [rusty_h265](https://crates.io/crates/rusty_h265)
/// (pure Rust, no threads of its own).
///
/// Decodes the Main, Main 10 and Main Still Picture profiles: 4:2:0, 8 and 10 bit,
/// up to level 6.2. Monochrome, 4:2:2, 4:4:4, bit depths above 10 and the range
/// extensions, screen content and multi-layer tools are refused with
/// [`Error::Unsupported`] naming the feature, from [`HevcDecoder::new`] when the
/// `hvcC` holds the SPS, otherwise from the [`VideoDecoder::send_packet`] that
/// brings it in-band; a stream found unsupported stays so. Enhancement layers
/// (SHVC, MV-HEVC, Dolby Vision's) are ignored: the base layer is decoded.
///
/// # What the adapter guarantees, whatever the library does
/// - Every SPS — from any sample description's `hvcC` or in-band — is checked
///   before the library sees it: the coded picture against [`Limits::max_pixels`]
///   and the library's memory for the sequence ([`crate::decoder_bytes`]) against
///   [`Limits::max_decoder_bytes`].
/// - Every call into the library is wrapped in [`std::panic::catch_unwind`]: a
///   panic becomes [`Error::Codec`] and the next [`VideoDecoder::reset`] builds a
///   fresh decoder.
/// - Decoding starts at an IRAP picture (BLA, IDR, CRA): pictures before the first
///   one after a reset are dropped. The RASL pictures of that entry picture never
///   come out; RADL pictures do.
/// - No wrong picture is returned as right: a picture whose slices failed, that
///   refers to a missing picture, or that follows such a picture before the next
///   IRAP picture comes out with [`Frame::damage`] set.
///
/// # Parameter sets and [`VideoDecoder::format`]
/// Each packet's [`Packet::description`] selects its `hvcC` ([`TrackInfo::config`]);
/// the record's VPS, SPS and PPS go in before the first picture after a reset or a
/// change of description, and in-band ones (`hev1`) after them. With an `hvcC`
/// holding an SPS, the format comes from it (as [`inspect`] gives it); without one,
/// `new` succeeds with a provisional format (the record's profile, bit depth and
/// chroma, the container's size) until an in-band SPS replaces it.
///
/// # Frames
/// Each frame carries the `pts` of the packet that made its picture, and comes out
/// in output (picture order count) order once the DPB lets it go — at the latest
/// when the next picture begins, or on [`VideoDecoder::finish`]. Planes are tight
/// (`stride == width × bytes per sample`), cropped to the conformance window;
/// 10-bit samples are little-endian `u16`. The colour is the VUI's.
pub struct HevcDecoder {
    /// `None` after a panic, until a reset.
    library: Option<Box<Decoder>>,
    limits: Limits,
    track: TrackInfo,
    format: CodedFormat,
    /// The format of the first description's record, which applies again after a reset.
    config_format: CodedFormat,
    description: u16,
    config: Config,
    config_pending: bool,
    unsupported: Option<Error>,
    pending: VecDeque<Pending>,
    frames: VecDeque<Frame>,
    entry: Entry,
}

impl std::fmt::Debug for HevcDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HevcDecoder")
            .field("format", &self.format)
            .field("pending", &self.pending.len())
            .field("frames", &self.frames.len())
            .finish_non_exhaustive()
    }
}

impl HevcDecoder {
    /// Creates a decoder for `track`, whose `codec_config` is the `hvcC` payload (or
    /// Matroska `CodecPrivate`, or empty when parameter sets come in-band).
    ///
    /// Fails with [`Error::Unsupported`] for a track that is not HEVC or whose SPS
    /// uses a feature rusty_h265 cannot decode, [`Error::Malformed`] for a broken
    /// `hvcC` or SPS, and [`Error::Limit`] for a picture or a decoder above `limits`.
    pub fn new(track: &TrackInfo, limits: &Limits) -> Result<Self> {
        if track.codec != Codec::Hevc {
            return Err(Error::unsupported(format!(
                "codec {} (the HEVC decoder was asked)",
                track.codec.name()
            )));
        }
        let mut decoder = HevcDecoder {
            library: Some(new_library()),
            limits: *limits,
            track: track.clone(),
            format: provisional_format(track),
            config_format: provisional_format(track),
            description: 0,
            config: Config::default(),
            config_pending: true,
            unsupported: None,
            pending: VecDeque::new(),
            frames: VecDeque::new(),
            entry: Entry::at_reset(),
        };
        decoder.select_description(0)?;
        decoder.config_format = decoder.format.clone();
        Ok(decoder)
    }

    /// Bytes of each NAL unit length in a length-prefixed sample (4 without `hvcC`).
    pub fn nal_length_size(&self) -> u8 {
        self.config.nal_length_size
    }

    /// Reads sample description `description`'s record: its length size and its
    /// parameter sets, each SPS checked, to be sent before the next picture.
    fn select_description(&mut self, description: u16) -> Result<()> {
        let record = self.track.config(description).ok_or_else(|| {
            Error::malformed(
                "HEVC sample",
                format!("sample description {description} does not exist"),
            )
        })?;
        let record = parse_codec_config(record)?;
        let config = match &record {
            None => Config {
                nal_length_size: DEFAULT_NAL_LENGTH_SIZE,
                parameter_sets: Vec::new(),
            },
            Some(record) => Config {
                nal_length_size: record.nal_length_size,
                parameter_sets: record.parameter_sets().map(<[u8]>::to_vec).collect(),
            },
        };
        self.format = record_format(&self.track, record.as_ref());
        let mut first_sps = true;
        for unit in &config.parameter_sets {
            if NalHeader::parse(unit).map(|header| header.nal_type) == Some(NAL_SPS) {
                self.take_in_sps(unit, first_sps)?;
                first_sps = false;
            }
        }
        self.description = description;
        self.config = config;
        self.config_pending = true;
        Ok(())
    }

    /// Checks an SPS before the library sees it; with `describe`, it becomes the
    /// format. An unsupported one makes the stream unsupported.
    fn take_in_sps(&mut self, unit: &[u8], describe: bool) -> Result<()> {
        match checked_sps(unit, &self.limits) {
            Ok(sps) => {
                if describe {
                    self.format = sps.coded_format();
                }
                Ok(())
            }
            Err(error) => {
                if error.kind() == ErrorKind::Unsupported {
                    self.unsupported = Some(error.clone());
                }
                Err(error)
            }
        }
    }

    fn send(&mut self, packet: &Packet) -> Result<()> {
        if let Some(error) = &self.unsupported {
            return Err(error.clone());
        }
        if self.library.is_none() {
            return Err(lost());
        }
        if packet.description != self.description {
            self.select_description(packet.description)?;
        }
        let units = split_nal_units(&packet.data, self.config.nal_length_size)?;
        let mut headers = Vec::with_capacity(units.len());
        for &unit in &units {
            let Some(header) = NalHeader::parse(unit) else {
                // The library refuses it too; ffmpeg skips it.
                log::debug!("NAL unit with an invalid header skipped");
                continue;
            };
            if header.layer_id == 0 && header.nal_type == NAL_SPS {
                self.take_in_sps(unit, true)?;
            }
            headers.push((header, unit));
        }
        let kind = classify_access_unit(headers.iter().map(|&(_, unit)| unit));
        let decode_picture = self.enter(&kind);
        let damage = match (decode_picture, kind.rasl) {
            (false, _) => None,
            (true, true) => self.entry.rasl_taint.clone(),
            (true, false) => self.entry.taint.clone(),
        };

        let mut end_of_sequence = false;
        let mut fed: Vec<&[u8]> = Vec::with_capacity(units.len() + 3);
        for &(header, unit) in &headers {
            end_of_sequence |= header.layer_id == 0 && matches!(header.nal_type, NAL_EOS | NAL_EOB);
            if header.is_vcl() && !decode_picture {
                continue;
            }
            fed.push(unit);
        }
        // The record's parameter sets go first, so in-band ones replace them.
        let send_config = self.config_pending && !fed.is_empty();
        if send_config {
            fed.splice(0..0, self.config.parameter_sets.iter().map(Vec::as_slice));
        }
        let outcome = feed(&mut self.library, &fed, packet.pts)?;
        if send_config {
            self.config_pending = false;
        }
        if end_of_sequence {
            // The next picture must be an IRAP picture, which starts afresh.
            self.entry.waiting_for_irap = true;
        }
        let damage = self.judge(decode_picture, damage, &outcome)?;
        if decode_picture {
            self.pending.push_back(Pending {
                pts: packet.pts,
                colour: self.format.colour,
                damage,
            });
            while self.pending.len() > MAX_PENDING_PICTURES {
                self.pending.pop_front();
            }
        }
        self.collect()
    }

    /// Decides whether the packet's picture is decoded, updating where decoding
    /// stands: nothing before the first IRAP picture, no RASL picture of an entry.
    fn enter(&mut self, kind: &PictureKind) -> bool {
        if !kind.has_picture {
            return false;
        }
        if kind.irap {
            let entry = &mut self.entry;
            // NoRaslOutputFlag (§ 8.1.3): the first IRAP picture, or any BLA; an IDR
            // has no RASL pictures.
            entry.skip_rasl = entry.waiting_for_irap || kind.bla;
            entry.waiting_for_irap = false;
            entry.rasl_taint = entry.taint.take();
            return true;
        }
        if self.entry.waiting_for_irap {
            log::debug!("picture before the first IRAP picture dropped");
            return false;
        }
        if kind.rasl && self.entry.skip_rasl {
            log::debug!("RASL picture of the entry picture dropped");
            return false;
        }
        true
    }

    /// What is wrong with the picture just sent, from what the library reported;
    /// an error that left no picture behind fails the packet.
    fn judge(
        &mut self,
        decode_picture: bool,
        mut damage: Option<String>,
        outcome: &Outcome,
    ) -> Result<Option<String>> {
        if let Some(error) = &outcome.error {
            let message = error.to_string();
            match error {
                rusty_h265::Error::Unsupported(feature) => {
                    let error = Error::unsupported(format!(
                        "HEVC {feature} — rusty_h265 decodes 4:2:0 Main/Main 10 only"
                    ));
                    self.unsupported = Some(error.clone());
                    return Err(error);
                }
                rusty_h265::Error::Unimplemented(what) => {
                    let error =
                        Error::unsupported(format!("HEVC {what} — not implemented in rusty_h265"));
                    self.unsupported = Some(error.clone());
                    return Err(error);
                }
                _ if decode_picture && outcome.slices_decoded => {
                    damage.get_or_insert(format!("a slice failed to decode: {message}"));
                }
                _ => return Err(Error::codec(format!("rusty_h265: {message}"))),
            }
        }
        if outcome.references_missing {
            damage.get_or_insert_with(|| "it refers to a picture that is missing".to_owned());
        }
        if let Some(reason) = &damage {
            log::debug!("HEVC picture damaged: {reason}");
            self.entry
                .taint
                .get_or_insert_with(|| format!("it follows a damaged picture ({reason})"));
        }
        Ok(damage)
    }

    /// Moves the library's output pictures into the frame queue.
    fn collect(&mut self) -> Result<()> {
        loop {
            let Ok(output) = call(&mut self.library, |decoder| decoder.next_frame())? else {
                return Ok(());
            };
            let Some(pts) = output.pts else {
                log::warn!("rusty_h265 output a picture without a pts; dropped");
                continue;
            };
            let pending = self
                .pending
                .iter()
                .position(|pending| pending.pts == pts)
                .and_then(|index| self.pending.remove(index));
            let (colour, damage) = pending.map_or((self.format.colour, None), |pending| {
                (pending.colour, pending.damage)
            });
            let frame = frame_from(&output.picture, pts, colour, damage)?;
            self.frames.push_back(frame);
        }
    }
}

/// What the library made of one packet.
#[derive(Debug)]
struct Outcome {
    /// The first error it reported.
    error: Option<rusty_h265::Error>,
    /// It decoded at least one slice segment.
    slices_decoded: bool,
    /// It generated a picture for a missing reference (§ 8.3.3).
    references_missing: bool,
}

/// Sends `units` to the library, each stamped with `pts`, and says what happened.
fn feed(library: &mut Option<Box<Decoder>>, units: &[&[u8]], pts: i64) -> Result<Outcome> {
    let before = call(library, |decoder| decoder.stats)?;
    let mut first_error = None;
    for &unit in units {
        let result = call(library, |decoder| decoder.push_nal(unit, Some(pts)))?;
        if let Err(error) = result {
            let is_vps = NalHeader::parse(unit).map(|header| header.nal_type) == Some(NAL_VPS);
            if is_vps {
                // The library keeps nothing of a VPS it needs; a VPS it cannot
                // read harms no picture.
                log::debug!("VPS refused by rusty_h265: {error}");
                continue;
            }
            first_error.get_or_insert(error);
        }
    }
    let after = call(library, |decoder| decoder.stats)?;
    Ok(Outcome {
        error: first_error,
        slices_decoded: after.slices > before.slices,
        references_missing: after.generated_refs > before.generated_refs,
    })
}

impl VideoDecoder for HevcDecoder {
    fn format(&self) -> &CodedFormat {
        &self.format
    }

    fn send_packet(&mut self, packet: &Packet) -> Result<()> {
        self.send(packet).map_err(|error| match error {
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
        if let Some(error) = &self.unsupported {
            return Err(error.clone());
        }
        call(&mut self.library, Decoder::flush)?;
        self.collect()?;
        self.pending.clear();
        Ok(())
    }

    fn reset(&mut self) -> Result<()> {
        // A fresh decoder forgets in-band parameter sets too, so what a request
        // decodes never depends on the requests before it.
        self.library = Some(new_library());
        self.format = self.config_format.clone();
        if self.description != 0 {
            self.select_description(0)?;
            self.format = self.config_format.clone();
        }
        self.config_pending = true;
        self.pending.clear();
        self.frames.clear();
        self.entry = Entry::at_reset();
        Ok(())
    }
}

/// A fresh library decoder, its diagnostic switches off whatever the environment
/// says (`RH265_ABLATE_*` would skip decoding stages).
fn new_library() -> Box<Decoder> {
    cap_kernels();
    let mut decoder = Box::new(Decoder::new());
    decoder.ablate = Ablate {
        mc: false,
        intra: false,
        residual: false,
    };
    decoder.verify_sei = false;
    decoder.headers_only = false;
    decoder
}

/// Keeps rusty_h265 off its AVX2 kernels (see the `simd` feature in Cargo.toml): one
/// of them reads past the end of the reference plane on a crafted stream.
#[cfg(feature = "simd")]
fn cap_kernels() {
    static CAPPED: std::sync::Once = std::sync::Once::new();
    CAPPED.call_once(|| rusty_h265::accel::force_isa(rusty_h265::accel::Isa::Sse41));
}

#[cfg(not(feature = "simd"))]
fn cap_kernels() {}

fn lost() -> Error {
    Error::codec("rusty_h265 panicked earlier; reset the decoder before sending more")
}

/// Calls `f` on the library, turning a panic into [`Error::Codec`] and dropping
/// the decoder, whose state is then unknown.
fn call<T>(library: &mut Option<Box<Decoder>>, f: impl FnOnce(&mut Decoder) -> T) -> Result<T> {
    let decoder = library.as_deref_mut().ok_or_else(lost)?;
    match panic::catch_unwind(AssertUnwindSafe(|| f(decoder))) {
        Ok(value) => Ok(value),
        Err(payload) => {
            *library = None;
            let message = payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            Err(Error::codec(format!("rusty_h265 panicked: {message}")))
        }
    }
}

/// What the `hvcC` of `track` says about its pictures, without decoding anything.
///
/// From its first SPS when it has one (profile, visible size, crop, pixel aspect,
/// colour, bit depth, chroma); otherwise from the record's own fields and the
/// container's picture size; without a record, profile "unknown", the container's
/// size, 8-bit 4:2:0. Unsupported formats are described, not refused.
///
/// Fails with [`Error::Malformed`] for a broken `hvcC` or SPS and [`Error::Limit`]
/// for a picture above `limits.max_pixels`.
pub fn inspect(track: &TrackInfo, limits: &Limits) -> Result<CodedFormat> {
    let record = parse_codec_config(&track.codec_config)?;
    if let Some(unit) = record
        .as_ref()
        .and_then(|record| record.units_of_type(NAL_SPS).next())
    {
        let sps = stillframe_bitstream::hevc::parse_sps(unit)?;
        let (width, height) = sps.coded_size();
        limits.check_pixels(width, height)?;
        return Ok(sps.coded_format());
    }
    Ok(record_format(track, record.as_ref()))
}

/// The format a record says without an SPS: its profile, bit depth and chroma and
/// the container's size; without a record, [`provisional_format`].
fn record_format(track: &TrackInfo, record: Option<&HevcConfig>) -> CodedFormat {
    let mut format = provisional_format(track);
    // A record made from Annex B parameter sets has none of these fields.
    if let Some(record) = record.filter(|record| record.profile_tier_level.profile_idc != 0) {
        format.profile = record.profile_tier_level.profile_name();
        format.bit_depth = record.bit_depth_luma.max(record.bit_depth_chroma);
        format.chroma = match record.chroma_format_idc {
            0 => ChromaFormat::Monochrome,
            2 => ChromaFormat::Yuv422,
            3 => ChromaFormat::Yuv444,
            _ => ChromaFormat::Yuv420,
        };
    }
    format
}

/// The format before any SPS: the container's size, 8-bit 4:2:0.
fn provisional_format(track: &TrackInfo) -> CodedFormat {
    let (width, height) = track
        .video
        .as_ref()
        .map_or((0, 0), |video| (video.width, video.height));
    CodedFormat {
        profile: "unknown".to_owned(),
        width,
        height,
        crop: Crop::default(),
        pixel_aspect: None,
        colour: ColourDescription::UNSPECIFIED,
        bit_depth: 8,
        chroma: ChromaFormat::Yuv420,
    }
}
