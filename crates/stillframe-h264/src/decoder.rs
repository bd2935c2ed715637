//! [`H264Decoder`]: the [`VideoDecoder`] for H.264, over whichever backend is
//! compiled in. Everything that must hold whatever the library does lives here:
//! parameter sets checked against [`Limits`] before the library sees them,
//! timestamps carried by token, open-GOP leading pictures dropped, damage
//! reported, panics caught.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use stillframe_bitstream::framing::split_nal_units;
use stillframe_bitstream::h264::{
    classify_access_unit, is_vcl, nal_type, parse_avcc, parse_pps_head, parse_slice_header,
    parse_slice_header_start, parse_sps, PpsHead, SliceHeaderStart, Sps, NAL_PARTITION_A, NAL_PPS,
    NAL_SPS,
};
use stillframe_core::{
    ChromaFormat, Codec, CodedFormat, ColourDescription, Error, Frame, Limits, Packet, PixelFormat,
    Plane, Result, TrackInfo, VideoDecoder,
};

use crate::backend::{Backend, Picture, Selected, Structure};
use crate::budget::decoder_bytes;

/// NAL length size assumed when there is no avcC record to state it.
const DEFAULT_NAL_LENGTH_SIZE: u8 = 4;

/// Pictures sent whose frame has not come out yet are remembered up to this many;
/// beyond it the oldest are forgotten. A decoder holds at most 16 reference
/// frames plus its reorder queue, so only pictures it dropped age out.
const MAX_PENDING_PICTURES: usize = 64;

/// What is remembered about an access unit between sending it and its picture
/// coming out.
#[derive(Debug, Clone)]
struct Pending {
    pts: i64,
    colour: ColourDescription,
    monochrome: bool,
    damage: Option<String>,
}

/// The parameter sets one sample description brings.
#[derive(Debug, Clone, Default)]
struct Config {
    nal_length_size: u8,
    /// SPS then PPS units, sent ahead of the first picture after a reset or a
    /// change of sample description.
    parameter_sets: Vec<Vec<u8>>,
    /// (NAL type, id) of each of them.
    defined: BTreeSet<(u8, u8)>,
}

/// Where decoding entered the stream, while that still matters.
#[derive(Debug, Clone, Copy)]
struct OpenEntry {
    /// The token of the entry picture (a non-IDR intra picture).
    token: u64,
    /// Its picture order count, once it has come out.
    poc: Option<i32>,
}

/// An H.264 decoder for one track.
///
/// Decodes what its backend decodes — by default rust_h264: Baseline, Main,
/// Extended without data partitioning, High, High 10, High 4:2:2 (8 and 10 bit),
/// monochrome, progressive and interlaced (field pictures and MBAFF). High 4:4:4,
/// lossless coding and bit depths other than 8 and 10 are refused with
/// [`Error::Unsupported`] naming the feature, from [`H264Decoder::new`] when the
/// `avcC` holds the SPS, otherwise from the [`VideoDecoder::send_packet`] that
/// brings it in-band.
///
/// # What the adapter guarantees, whatever the library does
/// - Every SPS — from any sample description's `avcC` or in-band — is checked
///   before the library sees it: the picture against [`Limits::max_pixels`] and
///   the library's memory for the sequence ([`crate::decoder_bytes`]) against
///   [`Limits::max_decoder_bytes`].
/// - A panic in the library becomes [`Error::Codec`]; the next
///   [`VideoDecoder::reset`] builds a fresh decoder.
/// - No wrong picture is returned as right: a picture whose slices failed, that
///   follows a gap in `frame_num` (lost references), or that follows a damaged
///   reference picture before the next IDR comes out with [`Frame::damage`] set.
///   After an open-GOP entry (a non-IDR intra picture), the leading pictures that
///   precede it in output order refer to pictures before it and are dropped.
/// - Each frame carries the `pts` of the packet that began its picture. With
///   rust_h264, frames come out in decode order as soon as each picture is
///   finished (the first field of a field pair waits for the second).
///
/// # Parameter sets and [`VideoDecoder::format`]
/// Each packet's [`Packet::description`] selects its `avcC` ([`TrackInfo::config`]);
/// a change of description sends that record's parameter sets before the packet.
/// With an `avcC` holding an SPS, the format comes from it; without one (`avc3`, or
/// Annex B samples), `new` succeeds with a provisional format (profile "unknown",
/// the container's size) until the first in-band SPS replaces it.
///
/// # Frames
/// Planes are tight (`stride == width × bytes per sample`), cropped to the visible
/// picture; 10-bit samples are little-endian `u16`. Monochrome streams come out as
/// 4:2:0 frames with neutral chroma, as ffmpeg outputs them, while
/// [`VideoDecoder::format`] reports [`ChromaFormat::Monochrome`].
pub struct H264Decoder {
    /// `None` after an error that leaves the library's state unknown, until a reset.
    backend: Option<Selected>,
    limits: Limits,
    track: TrackInfo,
    format: CodedFormat,
    /// The first SPS of the first `avcC`, whose format applies again after a reset.
    config_format: CodedFormat,
    description: u16,
    config: Config,
    config_pending: bool,
    sps: BTreeMap<u8, Sps>,
    pps: BTreeMap<u8, PpsHead>,
    /// The last in-band SPS and PPS units seen, by NAL type and id (SPS first).
    /// Those the sample description does not define outlive a reset: an `avc3`
    /// stream may state a set once, and a decode that begins at a later IDR needs
    /// it again (ffmpeg keeps them too). At most 32 SPS and 256 PPS.
    in_band: BTreeMap<(u8, u8), Vec<u8>>,
    /// A stream found unsupported stays so.
    unsupported: Option<Error>,
    next_token: u64,
    pending: BTreeMap<u64, Pending>,
    frames: VecDeque<Frame>,
    /// True until the first picture after a reset has been sent.
    at_entry: bool,
    open_entry: Option<OpenEntry>,
    /// Why pictures are suspect until the next IDR.
    taint: Option<String>,
    previous_reference_frame_num: Option<u32>,
}

impl std::fmt::Debug for H264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Decoder")
            .field("backend", &Selected::NAME)
            .field("format", &self.format)
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
    /// uses a feature the backend cannot decode, [`Error::Malformed`] for a broken
    /// `avcC` or SPS, and [`Error::Limit`] for a picture or a decoder above `limits`.
    pub fn new(track: &TrackInfo, limits: &Limits) -> Result<Self> {
        if track.codec != Codec::H264 {
            return Err(Error::unsupported(format!(
                "codec {} (the H.264 decoder was asked)",
                track.codec.name()
            )));
        }
        let mut decoder = H264Decoder {
            backend: None,
            limits: *limits,
            track: track.clone(),
            format: provisional_format(track),
            config_format: provisional_format(track),
            description: 0,
            config: Config::default(),
            config_pending: true,
            sps: BTreeMap::new(),
            pps: BTreeMap::new(),
            in_band: BTreeMap::new(),
            unsupported: None,
            next_token: 1,
            pending: BTreeMap::new(),
            frames: VecDeque::new(),
            at_entry: true,
            open_entry: None,
            taint: None,
            previous_reference_frame_num: None,
        };
        decoder.select_description(0)?;
        decoder.config_format = decoder.format.clone();
        decoder.backend = Some(Selected::new()?);
        Ok(decoder)
    }

    /// The active sequence parameter set with the lowest id, if one is known.
    pub fn sps(&self) -> Option<&Sps> {
        self.sps.values().next()
    }

    /// Bytes of each NAL unit length in a length-prefixed sample (4 without `avcC`).
    pub fn nal_length_size(&self) -> u8 {
        self.config.nal_length_size
    }

    /// The library decoding the pictures: `"rust_h264"` or `"OpenH264"`.
    pub fn backend_name(&self) -> &'static str {
        Selected::NAME
    }

    /// Reads sample description `description`'s `avcC`: its length size and its
    /// parameter sets, each checked, to be sent before the next picture.
    fn select_description(&mut self, description: u16) -> Result<()> {
        let record = self.track.config(description).ok_or_else(|| {
            Error::malformed(
                "H.264 sample",
                format!("sample description {description} does not exist"),
            )
        })?;
        let mut config = if record.is_empty() {
            Config {
                nal_length_size: DEFAULT_NAL_LENGTH_SIZE,
                ..Config::default()
            }
        } else {
            let avcc = parse_avcc(record)?;
            let mut parameter_sets = avcc.sps;
            parameter_sets.extend(avcc.pps);
            Config {
                nal_length_size: avcc.nal_length_size,
                parameter_sets,
                defined: BTreeSet::new(),
            }
        };
        for unit in &config.parameter_sets {
            if let (Some(kind), Some(id)) = (nal_type(unit), self.take_in_parameter_set(unit)?) {
                config.defined.insert((kind, id));
            }
        }
        self.description = description;
        self.config = config;
        self.config_pending = true;
        Ok(())
    }

    /// Checks and records an SPS or PPS before the library sees it; its id, when
    /// it was read.
    fn take_in_parameter_set(&mut self, unit: &[u8]) -> Result<Option<u8>> {
        match nal_type(unit) {
            Some(NAL_SPS) => {
                let sps = match checked_sps(unit, &self.limits) {
                    Ok(sps) => sps,
                    Err(error) => {
                        if error.kind() == stillframe_core::ErrorKind::Unsupported {
                            self.unsupported = Some(error.clone());
                        }
                        return Err(error);
                    }
                };
                self.format = sps.coded_format();
                let id = sps.id;
                self.sps.insert(id, sps);
                Ok(Some(id))
            }
            Some(NAL_PPS) => match parse_pps_head(unit) {
                Ok(pps) => {
                    let id = pps.id;
                    self.pps.insert(id, pps);
                    Ok(Some(id))
                }
                // The library refuses it too; the pictures that use it are damaged.
                Err(error) => {
                    log::debug!("PPS not read: {error}");
                    Ok(None)
                }
            },
            _ => Ok(None),
        }
    }

    /// How the access unit's picture is coded, from its primary slices.
    fn structure_of(&self, slices: &[SliceHeaderStart]) -> Structure {
        let primary = || slices.iter().filter(|slice| slice.redundant_pic_cnt == 0);
        let Some(first) = primary().next() else {
            return Structure::Empty;
        };
        if primary().any(|slice| !slice.field_pic) {
            return Structure::Frame;
        }
        let bottoms = primary().filter(|slice| slice.bottom_field).count();
        if bottoms == 0 || bottoms == primary().count() {
            Structure::Field {
                bottom: first.bottom_field,
                frame_num: first.frame_num,
            }
        } else {
            Structure::Frame
        }
    }

    /// What is wrong with the access unit before decoding it, if anything, and
    /// what it changes for the pictures after it.
    fn judge(
        &mut self,
        slices: &[SliceHeaderStart],
        resets_frame_num: bool,
        unreadable: Option<String>,
    ) -> Option<String> {
        let Some(first) = slices.first() else {
            return unreadable;
        };
        if first.idr {
            self.taint = None;
            self.open_entry = None;
        }
        let sps = self
            .pps
            .get(&first.pps_id)
            .and_then(|pps| self.sps.get(&pps.sps_id));
        let mut damage = unreadable;
        if let (Some(sps), Some(previous), false) =
            (sps, self.previous_reference_frame_num, first.idr)
        {
            let max = 1u32 << sps.log2_max_frame_num.min(31);
            let next = (previous + 1) % max;
            if !sps.gaps_in_frame_num_allowed
                && first.frame_num != previous
                && first.frame_num != next
            {
                let gap = format!(
                    "frame_num jumps from {previous} to {}: reference pictures are missing",
                    first.frame_num
                );
                damage.get_or_insert_with(|| gap.clone());
                self.taint.get_or_insert(gap);
            }
        }
        if first.nal_ref_idc != 0 {
            // After an MMCO 5 the picture counts as frame_num 0 for the next (§ 7.4.3).
            let frame_num = if resets_frame_num { 0 } else { first.frame_num };
            self.previous_reference_frame_num = Some(frame_num);
        }
        if let Some(taint) = &self.taint {
            damage
                .get_or_insert_with(|| format!("it follows a damaged reference picture ({taint})"));
        }
        damage
    }

    fn remember(&mut self, token: u64, pending: Pending) {
        self.pending.insert(token, pending);
        while self.pending.len() > MAX_PENDING_PICTURES {
            self.pending.pop_first();
        }
    }

    /// Moves the backend's finished pictures into the frame queue.
    fn collect(&mut self) -> Result<()> {
        loop {
            let Some(picture) = self.backend.as_mut().and_then(Backend::take) else {
                return Ok(());
            };
            self.accept(picture)?;
        }
    }

    fn accept(&mut self, picture: Picture) -> Result<()> {
        let Some(pending) = self.pending.remove(&picture.token) else {
            log::warn!(
                "a picture came out with unknown token {}; dropped",
                picture.token
            );
            return Ok(());
        };
        if let Some(entry) = &mut self.open_entry {
            if entry.token == picture.token {
                entry.poc = picture.poc;
            } else if let (Some(entry_poc), Some(poc)) = (entry.poc, picture.poc) {
                if poc < entry_poc {
                    // A leading picture of the open-GOP entry: it refers to pictures
                    // before the entry, which were never decoded.
                    log::debug!("leading picture (POC {poc} before {entry_poc}) dropped");
                    return Ok(());
                }
            }
        }
        if let Some(damage) = &picture.damage {
            log::debug!("picture at pts {} is damaged: {damage}", pending.pts);
        }
        let mut picture = picture;
        let damage = pending.damage.clone().or(picture.damage.take());
        let frame = frame_from(picture, &pending, damage)?;
        self.frames.push_back(frame);
        Ok(())
    }

    fn backend(&mut self) -> Result<&mut Selected> {
        self.backend.as_mut().ok_or_else(|| {
            Error::codec(format!(
                "the {} decoder failed and must be reset before more packets",
                Selected::NAME
            ))
        })
    }

    fn send(&mut self, packet: &Packet) -> Result<()> {
        if let Some(error) = &self.unsupported {
            return Err(error.clone());
        }
        self.backend()?;
        if packet.description != self.description {
            self.select_description(packet.description)?;
        }
        let units = split_nal_units(&packet.data, self.config.nal_length_size)?;
        for unit in &units {
            match nal_type(unit) {
                Some(kind @ (NAL_SPS | NAL_PPS)) => {
                    if let Some(id) = self.take_in_parameter_set(unit)? {
                        self.in_band.insert((kind, id), unit.to_vec());
                    }
                }
                // Only the Extended profile may partition slices; elsewhere a type 2
                // unit is corruption, which the library skips.
                Some(NAL_PARTITION_A) if self.sps.values().any(|sps| sps.profile_idc == 88) => {
                    let error = Error::unsupported(
                        "H.264 data partitioning (Extended profile) — no decoder here reads \
                         partitioned slices",
                    );
                    self.unsupported = Some(error.clone());
                    return Err(error);
                }
                _ => {}
            }
        }
        let mut slices = Vec::new();
        let mut unreadable = None;
        let lookup = |id: u8| {
            let pps = self.pps.get(&id)?;
            Some((pps, self.sps.get(&pps.sps_id)?))
        };
        // Only the full header says whether an MMCO 5 restarts frame_num; every
        // slice of a picture carries the same marking, so the first one is enough.
        let resets_frame_num = units
            .iter()
            .find(|unit| is_vcl(unit))
            .and_then(|unit| parse_slice_header(unit, lookup).ok())
            .is_some_and(|header| header.memory_management_reset);
        for unit in units.iter().filter(|unit| is_vcl(unit)) {
            match parse_slice_header_start(unit, lookup) {
                Ok(slice) => slices.push(slice),
                Err(error) => {
                    unreadable
                        .get_or_insert_with(|| format!("a slice header is unreadable: {error}"));
                }
            }
        }
        let has_picture = units.iter().any(|unit| is_vcl(unit));
        let structure = if has_picture && slices.is_empty() {
            Structure::Frame
        } else {
            self.structure_of(&slices)
        };
        let token = self.next_token;
        self.next_token += 1;
        if has_picture {
            if self.at_entry {
                let kind = classify_access_unit(units.iter().copied());
                if kind.intra && !kind.idr {
                    self.open_entry = Some(OpenEntry { token, poc: None });
                } else if !kind.intra {
                    self.taint = Some(
                        "decoding did not start at a random access point, so its references \
                         are missing"
                            .to_owned(),
                    );
                }
            }
            self.at_entry = false;
            let damage = self.judge(&slices, resets_frame_num, unreadable);
            let pending = Pending {
                pts: packet.pts,
                colour: self.format.colour,
                monochrome: self.format.chroma == ChromaFormat::Monochrome,
                damage,
            };
            self.remember(token, pending);
        }
        let mut fed: Vec<&[u8]> =
            Vec::with_capacity(units.len() + self.config.parameter_sets.len());
        let send_config = has_picture && self.config_pending;
        if send_config {
            fed.extend(self.config.parameter_sets.iter().map(Vec::as_slice));
        }
        // SVC and MVC extension units (14, 15, 20, 21) are dropped, as ffmpeg
        // ignores them: the base layer is what it outputs.
        fed.extend(
            units
                .iter()
                .copied()
                .filter(|unit| !matches!(nal_type(unit), Some(14 | 15 | 20 | 21))),
        );
        let Some(backend) = self.backend.as_mut() else {
            return Err(Error::codec("the decoder was lost before decoding"));
        };
        backend.decode(&fed, token, structure)?;
        if send_config {
            self.config_pending = false;
        }
        self.collect()
    }
}

impl VideoDecoder for H264Decoder {
    fn format(&self) -> &CodedFormat {
        &self.format
    }

    fn send_packet(&mut self, packet: &Packet) -> Result<()> {
        let result = self.send(packet);
        if let Err(error) = &result {
            if matches!(error, Error::Codec { .. }) {
                // The library's state is unknown after it failed or panicked.
                self.backend = None;
            }
            return result.map_err(|error| match error {
                Error::Codec { message } => Error::codec(format!(
                    "{message} (sample {}, pts {})",
                    packet.sample, packet.pts
                )),
                other => other,
            });
        }
        result
    }

    fn receive_frame(&mut self) -> Result<Option<Frame>> {
        Ok(self.frames.pop_front())
    }

    fn finish(&mut self) -> Result<()> {
        let flushed = self.backend()?.flush();
        if flushed.is_err() {
            self.backend = None;
        }
        flushed?;
        self.collect()?;
        self.pending.clear();
        Ok(())
    }

    fn reset(&mut self) -> Result<()> {
        // A fresh decoder is the one state every library documents; it costs little.
        self.backend = Some(Selected::new()?);
        self.sps.clear();
        self.pps.clear();
        self.format = self.config_format.clone();
        self.select_description(0)?;
        self.format = self.config_format.clone();
        // A set only the stream defined (raw or `avc3` streams that send it once)
        // is kept for a later entry point that would otherwise have none; one the
        // record defines again is the record's, so a seek never depends on what was
        // decoded before it.
        let in_band: Vec<Vec<u8>> = self
            .in_band
            .iter()
            .filter(|(key, _)| !self.config.defined.contains(key))
            .map(|(_, unit)| unit.clone())
            .collect();
        for unit in &in_band {
            self.take_in_parameter_set(unit)?;
        }
        // Sent with the record's own, ahead of the first picture.
        self.config.parameter_sets.extend(in_band);
        self.pending.clear();
        self.frames.clear();
        self.at_entry = true;
        self.open_entry = None;
        self.taint = None;
        self.previous_reference_frame_num = None;
        Ok(())
    }
}

/// A [`Frame`] from a backend's picture, checked for consistent planes.
fn frame_from(picture: Picture, pending: &Pending, damage: Option<String>) -> Result<Frame> {
    let Picture {
        width,
        height,
        chroma,
        bit_depth,
        planes: [y, mut u, mut v],
        ..
    } = picture;
    let bytes = if bit_depth > 8 { 2 } else { 1 };
    let chroma_width = width / 2;
    let chroma_height = match chroma {
        ChromaFormat::Yuv422 => height,
        _ => height / 2,
    };
    let consistent = y.len() >= width * height * bytes
        && u.len() >= chroma_width * chroma_height * bytes
        && v.len() >= chroma_width * chroma_height * bytes;
    if !consistent || width == 0 || height == 0 {
        return Err(Error::codec(format!(
            "the decoder output an inconsistent {width}x{height} picture"
        )));
    }
    if pending.monochrome {
        // 4:0:0 has no chroma; neutral grey is what the stream means and what
        // ffmpeg outputs (OpenH264 leaves whatever its buffers held).
        let grey: u16 = 1 << (bit_depth - 1);
        for plane in [&mut u, &mut v] {
            if bytes == 2 {
                for sample in plane.chunks_exact_mut(2) {
                    sample.copy_from_slice(&grey.to_le_bytes());
                }
            } else {
                plane.fill(u8::try_from(grey).unwrap_or(128));
            }
        }
    }
    let plane = |data: Vec<u8>, width: usize, height: usize| Plane {
        data,
        stride: width * bytes,
        width,
        height,
    };
    Ok(Frame {
        pts: pending.pts,
        width: u32::try_from(width).unwrap_or(u32::MAX),
        height: u32::try_from(height).unwrap_or(u32::MAX),
        format: PixelFormat { chroma, bit_depth },
        planes: vec![
            plane(y, width, height),
            plane(u, chroma_width, chroma_height),
            plane(v, chroma_width, chroma_height),
        ],
        colour: pending.colour,
        damage,
    })
}

/// What the `avcC` of `track` says about its pictures, without decoding anything.
///
/// This describes the stream even when the backend cannot decode it (a High
/// 4:4:4 track reports "High 4:4:4 Predictive" and 4:4:4); [`H264Decoder::new`] is
/// what refuses. With no SPS in the `avcC` (parameter sets in-band), it returns the
/// provisional format [`H264Decoder`] starts with: profile "unknown" and the
/// container's size.
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

/// The first SPS of `track`: from its `avcC`, else from `first_sample` (a track
/// whose parameter sets come in-band, such as a raw Annex B stream); `None` when
/// neither holds one.
fn first_sps(track: &TrackInfo, first_sample: Option<&[u8]>) -> Result<Option<Sps>> {
    let mut nal_length_size = DEFAULT_NAL_LENGTH_SIZE;
    if !track.codec_config.is_empty() {
        let config = parse_avcc(&track.codec_config)?;
        if let Some(nal) = config.sps.first() {
            return parse_sps(nal).map(Some);
        }
        nal_length_size = config.nal_length_size;
    }
    let Some(sample) = first_sample else {
        return Ok(None);
    };
    let units = split_nal_units(sample, nal_length_size)?;
    units
        .iter()
        .find(|unit| nal_type(unit) == Some(NAL_SPS))
        .map(|unit| parse_sps(unit))
        .transpose()
}

/// What `track` says about its pictures, reading the SPS from `first_sample` when
/// the `avcC` has none ([`inspect`] otherwise).
pub fn inspect_with_sample(
    track: &TrackInfo,
    first_sample: &[u8],
    limits: &Limits,
) -> Result<CodedFormat> {
    match first_sps(track, Some(first_sample))? {
        Some(sps) => {
            let (width, height) = sps.coded_size();
            limits.check_pixels(width, height)?;
            Ok(sps.coded_format())
        }
        None => Ok(provisional_format(track)),
    }
}

/// Why the compiled-in backend cannot decode `track` (its `avcC` SPS, else the one
/// in `first_sample`), or `Ok` when it can, or when no SPS is at hand to tell.
pub fn check_track(track: &TrackInfo, first_sample: Option<&[u8]>) -> Result<()> {
    match first_sps(track, first_sample)? {
        Some(sps) => check_supported(&sps),
        None => Ok(()),
    }
}

/// Fails with [`Error::Unsupported`] naming the feature when the compiled-in backend
/// cannot decode pictures coded with `sps` (rust_h264: 4:4:4, lossless coding, bit
/// depths other than 8 and 10). `stillframe probe` uses it to say so per track.
///
/// ```
/// use stillframe_h264::{check_supported, parse_sps};
/// let sps = parse_sps(&[0x67, 0x42, 0xc0, 0x0a, 0xda, 0x10, 0x99]).unwrap();
/// assert!(check_supported(&sps).is_ok());
/// ```
pub fn check_supported(sps: &Sps) -> Result<()> {
    Selected::check_supported(sps)
}

/// Parses an SPS and fails if the backend cannot decode it or it is above the limits.
fn checked_sps(nal: &[u8], limits: &Limits) -> Result<Sps> {
    let sps = parse_sps(nal)?;
    Selected::check_supported(&sps)?;
    let (width, height) = sps.coded_size();
    limits.check_pixels(width, height)?;
    limits.check_decoder_bytes(decoder_bytes(&sps))?;
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
