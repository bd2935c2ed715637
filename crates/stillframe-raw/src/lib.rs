//! Raw elementary streams for stillframe: H.264 and HEVC Annex B byte streams,
//! IVF files (AV1, VP9; VP8 is reported as `Codec::Other("vp8")`), and raw AV1
//! in the low-overhead OBU format (AV1 § 5.2) or length-delimited (AV1 Annex B),
//! opened like any container.
//!
//! [`RawDemuxer`] implements [`stillframe_core::Demuxer`] with one video track.
//! [`probe`] tells the formats apart by their first bytes.
//!
//! # Samples
//! - **H.264**: one access unit per sample (H.264 § 7.4.1.2.3: an access unit
//!   delimiter, SPS, PPS, SEI or NAL types 14–18 after a picture, or the first slice
//!   of a new primary picture by § 7.4.1.2.4, starts the next one; redundant
//!   pictures stay with their primary). The two fields of a field pair share one
//!   sample, one frame as ffmpeg outputs it; a field without a pair is decoded but
//!   not presented, as ffmpeg does not show it. Samples are length-prefixed (4-byte
//!   big-endian lengths), with the parameter sets in-band; `TrackInfo::codec_config`
//!   is an `avcC` record of the SPS and PPS units before the first slice (empty
//!   when there are none), so a decode can start at a later IDR picture that does
//!   not repeat them. Sync samples are IDR pictures and pictures with a recovery
//!   point SEI whose `recovery_frame_cnt` is 0 (ffmpeg's key frames).
//! - **HEVC**: one access unit per sample, by `first_slice_segment_in_pic_flag`
//!   and the units that start one (H.265 § 7.4.2.4.4), length-prefixed, with the
//!   parameter sets in-band; IRAP pictures are sync samples. `codec_config` is an
//!   `hvcC` record of the base layer's VPS, SPS and PPS units before the first
//!   picture, the last of each id (empty without an SPS there), for the same
//!   reason. It holds at most 16 VPS, 16 SPS and 64 PPS (one per id) and no unit
//!   over 65,535 bytes.
//! - **IVF**: one frame per sample, as stored (a VP9 superframe stays whole).
//! - **AV1 OBU streams**: one temporal unit per sample, without its temporal
//!   delimiter, in the low-overhead format with size fields (Annex B units are
//!   rewritten); `codec_config` is an `av1C` record holding the first sequence
//!   header. Sync samples are shown key frames that carry a sequence header.
//!
//! # Timing
//! As ffmpeg presents the same files: IVF frames at their stated timestamps in the
//! file's time base; H.264 at the VUI's `time_scale / (2 × num_units_in_tick)`
//! frames a second, HEVC at `vui_time_scale / vui_num_units_in_tick`, AV1 at its
//! `timing_info`, and 25 frames a second where the stream says nothing
//! ([`RawDemuxer::frame_rate`] and [`FrameRateSource`] say which). Without an IVF
//! time base, the timescale is the frame rate's numerator in lowest terms and a
//! frame lasts its denominator (30000/1001 fps: timescale 30000, 1001 ticks a
//! frame), so every timestamp is exact.
//! Presentation order is the decoder's output order: by picture order count within
//! each output period (H.264: from an IDR picture or a memory management reset;
//! HEVC: from an IRAP picture with `NoRaslOutputFlag`). The n-th frame in
//! presentation order has `pts = n × frame duration`; `dts` counts samples in
//! decode order at the same rate (so a reordered frame may decode "after" it
//! shows: nothing reads `dts` as a bound).
//!
//! # A lazy, bounded index
//! Opening reads the format's header and the first sample. [`Demuxer::index_until`]
//! reads on only as far as a request needs: to a sync sample shown after the time
//! asked, and for H.264/HEVC to the end of the output period holding it, since
//! presentation order is known only per period. Each unit is checked against
//! [`Limits`]: the sample count, the sample size, and the bytes one access unit may
//! span (so a file of garbage without start codes is a limit error, not a scan of
//! gigabytes into memory). A unit cut off by the end of the file (an IVF frame or
//! AV1 temporal unit whose size runs past it) is dropped with a log line and
//! everything before it is served; a request for a time after it fails with
//! [`Error::Truncated`]. An Annex B stream cut inside its last NAL unit cannot be
//! told from a complete one: its last access unit is served as it is.
//!
//! ```no_run
//! use stillframe_core::{Demuxer, Limits, Time};
//! use stillframe_raw::RawDemuxer;
//!
//! let file = std::fs::File::open("clip.264")?;
//! let mut demuxer = RawDemuxer::open(std::io::BufReader::new(file), Limits::default())?;
//! demuxer.index_until(0, Time::POSITIVE_INFINITY)?;
//! println!("{} frames at {:?} fps", demuxer.samples(0)?.len(), demuxer.frame_rate());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod av1;
mod describe;
mod h264;
mod hevc;
mod index;
mod ivf;
mod nal_scan;
mod obu;
mod probe;
mod source;

use std::collections::VecDeque;
use std::io::{Read, Seek};

use stillframe_bitstream::framing::split_annex_b;
use stillframe_core::{
    ContainerKind, Demuxer, Error, ErrorKind, FrameRate, Limits, Orientation, Packet, Result,
    Rounding, SampleInfo, Time, TrackInfo, TrackKind, VideoInfo,
};

use describe::{describe, Description};
use index::{Index, Stop, Unit};
use probe::Format;
use source::Source;

/// Bytes of the input [`RawDemuxer::open`] looks at to tell the format.
pub const PROBE_BYTES: usize = 64 * 1024;

/// Samples read at open at most while looking for what describes the stream (the
/// first picture's SPS, an AV1 sequence header).
const MAX_PRIMING_UNITS: usize = 16;

/// The raw stream format of data starting with `first_bytes`, told by content
/// alone: [`ContainerKind::Ivf`], [`ContainerKind::H264`], [`ContainerKind::Hevc`]
/// or [`ContainerKind::Obu`] (AV1, either framing); `None` when it is none of them
/// or the bytes do not say clearly. Give it at least the first 4 KB, ideally
/// [`PROBE_BYTES`]; call it after the container magic numbers (MP4, Matroska)
/// failed.
///
/// ```
/// use stillframe_core::ContainerKind;
/// // An access unit delimiter, then an IDR slice.
/// let h264 = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x65, 0x88, 0x84];
/// assert_eq!(stillframe_raw::probe(&h264), Some(ContainerKind::H264));
/// assert_eq!(stillframe_raw::probe(b"DKIF\0\0 \0AV01"), Some(ContainerKind::Ivf));
/// assert_eq!(stillframe_raw::probe(b"\0\0\0\x18ftypisom"), None);
/// ```
pub fn probe(first_bytes: &[u8]) -> Option<ContainerKind> {
    probe::detect(first_bytes).map(Format::container)
}

/// Where a raw stream's frame rate came from (the IVF time base counts as the
/// container's; frames there carry their own timestamps).
pub use stillframe_core::RateSource as FrameRateSource;

/// A reader the demuxer owns.
trait Input: Read + Seek + Send {}
impl<T: Read + Seek + Send> Input for T {}

/// The format's reader; the NAL unit readers hold parameter set tables, so they are
/// boxed to keep the others small.
enum Scanner {
    H264(Box<h264::H264Scanner>),
    Hevc(Box<hevc::HevcScanner>),
    Ivf(ivf::IvfScanner),
    Obu(obu::ObuScanner),
    Av1AnnexB(obu::AnnexBScanner),
}

impl Scanner {
    fn next_unit(&mut self, source: &mut Source<Box<dyn Input>>) -> Result<Option<Unit>> {
        match self {
            Scanner::H264(scanner) => scanner.next_unit(source),
            Scanner::Hevc(scanner) => scanner.next_unit(source),
            Scanner::Ivf(scanner) => scanner.next_unit(source),
            Scanner::Obu(scanner) => scanner.next_unit(source),
            Scanner::Av1AnnexB(scanner) => scanner.next_unit(source),
        }
    }

    /// Whether what describes the track has been read.
    fn described(&self) -> bool {
        match self {
            Scanner::H264(scanner) => scanner.first_sps().is_some(),
            Scanner::Hevc(scanner) => scanner.first_sps().is_some(),
            Scanner::Ivf(_) => true,
            Scanner::Obu(scanner) => scanner.sequence().first().is_some(),
            Scanner::Av1AnnexB(scanner) => scanner.sequence().first().is_some(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Scanning,
    Complete,
    Stopped(Stop),
}

/// An opened raw elementary stream: one video track, indexed lazily.
///
/// Created by [`RawDemuxer::open`]; then used through [`Demuxer`]. The sample
/// index grows through [`Demuxer::index_until`].
pub struct RawDemuxer {
    source: Source<Box<dyn Input>>,
    limits: Limits,
    format: Format,
    scanner: Scanner,
    /// Units read at open, before the index takes them.
    primed: VecDeque<Unit>,
    index: Index,
    state: State,
    tracks: Vec<TrackInfo>,
    frame_rate: (u32, u32),
    frame_rate_source: FrameRateSource,
}

impl std::fmt::Debug for RawDemuxer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawDemuxer")
            .field("format", &self.format)
            .field("samples", &self.index.samples().len())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl RawDemuxer {
    /// Tells the format from the first bytes ([`probe`]), then reads its header and
    /// first sample for the track's description and timing.
    ///
    /// Fails with [`Error::Malformed`] when the input is no raw stream we know or
    /// holds no picture that can be described (an H.264 stream without a readable
    /// SPS before its first picture), [`Error::Truncated`] when it ends before its
    /// first sample, [`Error::Limit`] when its first sample exceeds `limits`, and
    /// [`Error::Io`] when reading fails.
    pub fn open(reader: impl Read + Seek + Send + 'static, limits: Limits) -> Result<RawDemuxer> {
        let boxed: Box<dyn Input> = Box::new(reader);
        let mut source = Source::new(boxed)?;
        let head = source.peek(0, PROBE_BYTES)?.to_vec();
        let format = probe::detect(&head).ok_or_else(|| {
            Error::malformed(
                "raw stream",
                "not an H.264/HEVC Annex B, IVF or AV1 OBU stream",
            )
        })?;
        let mut ivf_header = None;
        let mut scanner = match format {
            Format::H264 => Scanner::H264(Box::new(h264::H264Scanner::new(&limits))),
            Format::Hevc => Scanner::Hevc(Box::new(hevc::HevcScanner::new(&limits))),
            Format::Ivf => {
                let header = ivf::IvfHeader::parse(&head)?;
                let scanner = ivf::IvfScanner::new(&header, &limits);
                ivf_header = Some(header);
                Scanner::Ivf(scanner)
            }
            Format::Av1LowOverhead => Scanner::Obu(obu::ObuScanner::new(&limits)),
            Format::Av1AnnexB => Scanner::Av1AnnexB(obu::AnnexBScanner::new(&limits)),
        };
        let (primed, stop) = prime(&mut scanner, &mut source)?;
        if primed.is_empty() {
            return Err(match stop {
                Some(stop) => stop.error(),
                None => Error::malformed(
                    format!("{} stream", format.container().name()),
                    "no picture in the stream",
                ),
            });
        }
        let Description {
            codec,
            config: codec_config,
            size,
            pixel_aspect,
            colour,
            timing,
        } = describe(&scanner, ivf_header.as_ref());
        if let Some((width, height)) = size {
            limits.check_pixels(width, height)?;
        }
        let (width, height) = size.unwrap_or((0, 0));
        let track = TrackInfo {
            index: 0,
            id: 1,
            kind: TrackKind::Video,
            codec,
            timescale: timing.timescale,
            duration: None,
            codec_config,
            extra_configs: Vec::new(),
            video: Some(VideoInfo {
                width,
                height,
                orientation: Orientation::default(),
                pixel_aspect,
                clean_aperture: None,
                colour,
            }),
        };
        let state = match stop {
            Some(stop) => State::Stopped(stop),
            None => State::Scanning,
        };
        let mut demuxer = RawDemuxer {
            source,
            limits,
            format,
            scanner,
            primed,
            index: Index::new(timing.frame_duration),
            state,
            tracks: vec![track],
            frame_rate: timing.rate,
            frame_rate_source: timing.source,
        };
        if demuxer.state != State::Scanning {
            demuxer.drain_primed();
        }
        Ok(demuxer)
    }

    /// The frame rate as `(numerator, denominator)` frames a second: the
    /// bitstream's, the IVF time base's reciprocal, or the 25 fps default.
    pub fn frame_rate(&self) -> (u32, u32) {
        self.frame_rate
    }

    /// Where [`RawDemuxer::frame_rate`] came from.
    pub fn frame_rate_source(&self) -> FrameRateSource {
        self.frame_rate_source
    }

    /// The length of the input in bytes.
    pub fn file_len(&self) -> u64 {
        self.source.len()
    }

    /// Takes one more unit into the index; false once nothing more will come.
    fn step(&mut self) -> Result<bool> {
        if self.state != State::Scanning {
            return Ok(false);
        }
        let next = match self.primed.pop_front() {
            Some(unit) => Ok(Some(unit)),
            None => self.scanner.next_unit(&mut self.source),
        };
        match next {
            Ok(Some(unit)) => {
                if let Err(error) = self.index.push(unit, &self.limits) {
                    self.stop(&error);
                }
            }
            Ok(None) => {
                self.index.close_period();
                self.state = State::Complete;
                if let Some(track) = self.tracks.first_mut() {
                    track.duration = self
                        .index
                        .end()
                        .map(|end| Time::from_ticks(end, track.timescale));
                }
            }
            // The read may succeed when asked again; nothing was consumed.
            Err(error) if error.kind() == ErrorKind::Io => return Err(error),
            Err(error) => self.stop(&error),
        }
        Ok(self.state == State::Scanning)
    }

    /// Ends the index at a cut, damage or limit: what was read is served.
    fn stop(&mut self, error: &Error) {
        log::info!(
            "{} stream indexed up to an error: {error}",
            self.format.container().name()
        );
        self.drain_primed();
        self.index.close_period();
        self.state = State::Stopped(Stop::from_error(error, self.source.len()));
    }

    /// Moves units read at open into the index (when scanning ended early).
    fn drain_primed(&mut self) {
        while let Some(unit) = self.primed.pop_front() {
            if self.index.push(unit, &self.limits).is_err() {
                self.primed.clear();
            }
        }
        self.index.close_period();
    }

    fn check_track(&self, track: usize) -> Result<()> {
        if track == 0 {
            Ok(())
        } else {
            Err(Error::malformed(
                format!("track {track}"),
                "no such track: a raw stream has one track",
            ))
        }
    }

    /// The sample's bytes as the decoder reads them.
    fn package(&self, stored: Vec<u8>) -> Result<Vec<u8>> {
        match self.format {
            Format::H264 | Format::Hevc => {
                let units = split_annex_b(&stored);
                let size: usize = units.iter().map(|unit| unit.len() + 4).sum();
                let mut data = Vec::with_capacity(size);
                for unit in units {
                    let length = u32::try_from(unit.len()).map_err(|_| {
                        Error::internal("a NAL unit longer than 4 GiB passed the limits")
                    })?;
                    data.extend_from_slice(&length.to_be_bytes());
                    data.extend_from_slice(unit);
                }
                Ok(data)
            }
            Format::Ivf | Format::Av1LowOverhead => Ok(stored),
            Format::Av1AnnexB => av1::annex_b_to_low_overhead(&stored),
        }
    }
}

/// Reads units until the stream is described (or a few were read), keeping them.
fn prime(
    scanner: &mut Scanner,
    source: &mut Source<Box<dyn Input>>,
) -> Result<(VecDeque<Unit>, Option<Stop>)> {
    let mut primed = VecDeque::new();
    while primed.is_empty() || (!scanner.described() && primed.len() < MAX_PRIMING_UNITS) {
        match scanner.next_unit(source) {
            Ok(Some(unit)) => primed.push_back(unit),
            Ok(None) => break,
            Err(error) if error.kind() == ErrorKind::Io => return Err(error),
            Err(error) => {
                log::info!("raw stream indexed up to an error: {error}");
                return Ok((primed, Some(Stop::from_error(&error, source.len()))));
            }
        }
    }
    Ok((primed, None))
}

impl Demuxer for RawDemuxer {
    fn container(&self) -> ContainerKind {
        self.format.container()
    }

    fn duration(&self) -> Option<Time> {
        self.tracks.first().and_then(|track| track.duration)
    }

    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn samples(&self, track: usize) -> Result<&[SampleInfo]> {
        self.check_track(track)?;
        Ok(self.index.samples())
    }

    fn index_until(&mut self, track: usize, until: Time) -> Result<bool> {
        self.check_track(track)?;
        let timescale = self.tracks.first().map_or(1, |t| t.timescale.get());
        let target = (!until.is_positive_infinity()).then(|| {
            until
                .to_ticks(timescale, Rounding::Floor)
                .unwrap_or(if until.is_negative() {
                    i64::MIN
                } else {
                    i64::MAX
                })
        });
        loop {
            if let (Some(ticks), Some(latest)) = (target, self.index.latest_sync()) {
                if latest > ticks {
                    return Ok(self.state == State::Complete);
                }
            }
            match &self.state {
                State::Complete => return Ok(true),
                State::Stopped(stop) => {
                    let Some(ticks) = target else {
                        return Ok(false);
                    };
                    let served = self.index.end().is_some_and(|end| ticks < end);
                    return if served { Ok(false) } else { Err(stop.error()) };
                }
                State::Scanning => {
                    self.step()?;
                }
            }
        }
    }

    fn frame_rate(&self, track: usize) -> Option<FrameRate> {
        (track == 0).then_some(FrameRate {
            numerator: self.frame_rate.0,
            denominator: self.frame_rate.1,
            source: self.frame_rate_source,
        })
    }

    fn read_sample(&mut self, track: usize, sample: u32) -> Result<Packet> {
        self.check_track(track)?;
        let index = usize::try_from(sample).unwrap_or(usize::MAX);
        let (Some(info), Some((offset, span))) = (
            self.index.samples().get(index).copied(),
            self.index.location(index),
        ) else {
            return Err(Error::malformed(
                format!("track {track}"),
                format!(
                    "no sample {sample}: {} indexed so far",
                    self.index.samples().len()
                ),
            ));
        };
        let stored = self
            .source
            .read_exact_at(offset, span, &format!("sample {sample}"))?;
        let data = self.package(stored)?;
        if data.len() != info.size as usize {
            return Err(Error::malformed(
                stillframe_core::Location::at(format!("sample {sample}"), offset),
                format!(
                    "{} bytes where {} were indexed: the input changed",
                    data.len(),
                    info.size
                ),
            ));
        }
        Ok(Packet {
            data,
            sample,
            pts: info.pts,
            dts: info.dts,
            sync: info.sync,
            description: 0,
        })
    }
}
