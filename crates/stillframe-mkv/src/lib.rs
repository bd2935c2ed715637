//! Matroska and WebM demuxer for stillframe.
//!
//! [`MkvDemuxer`] opens a Matroska (`.mkv`, `.mka`) or WebM (`.webm`) file and
//! implements [`stillframe_core::Demuxer`]: the tracks of the Segment, and per track
//! an index of frames in decode (file) order, built lazily, with byte ranges and
//! presentation timestamps.
//!
//! # Design
//!
//! - **Opening reads headers only.** The EBML header (DocType `matroska` or `webm`;
//!   anything else is [`Error::Unsupported`], a broken header [`Error::Malformed`]),
//!   the Segment's level-1 elements up to the first Cluster, every SeekHead
//!   (several, and SeekHeads pointing at SeekHeads), Info, Tracks and Cues. No
//!   cluster is read: opening the 60 s, 460 KB `long.mkv` fixture reads 13.6 KB,
//!   and an exact request at 59.5 s then reads 7.8 KB more (its cluster).
//! - **A lazy index driven by the Cues.** [`Demuxer::index_until`] reads, for a
//!   request at `T`, the clusters from the cued keyframe at or before `T` through the
//!   next cued keyframe after it: a seek near the end of a long file reads about
//!   one cluster of media, not the file. Without Cues (live recordings, cut files),
//!   clusters are scanned from the start only as far as requests need, and kept.
//!   The `index` module states the invariant the planner relies on: each track's
//!   slice is a sequence of gap-free runs in file order, each starting at a cued
//!   keyframe, and sample indices never change once handed out.
//!
//!   The trade-off: keeping the slice in plain file order at all times would mean
//!   inserting a span read later before spans read earlier, shifting the indices
//!   of samples the generator already holds (its decoder position, the sync samples
//!   it verified). Appending whole spans instead keeps indices stable at the cost of
//!   a slice that is in file order only run by run when requests go backwards in
//!   time; the planner only ever walks from a sync sample forward inside one run.
//!   Cue spans start at clusters the Cues name for the first video track, so a run
//!   of *another* track may begin with frames that depend on an earlier run.
//!
//!   **Contract for callers.** With Cues, `index_until(T)` guarantees the frames
//!   around `T` (the cued keyframe at or before `T` through the first keyframe
//!   after it), not every frame before `T` as [`Demuxer::index_until`] words it for
//!   scanning demuxers. A caller planning several times must call it for each of
//!   them; planning an earlier time on an index extended only for a later one picks
//!   the wrong frame.
//! - **Timing.** Presentation times are block times: Cluster Timestamp plus the
//!   block's relative timestamp, in a timescale that represents them exactly
//!   (`10⁹ / gcd(10⁹, TimestampScale)`, 1000 for the usual 1 ms). Laced frames
//!   split the block's duration as ffmpeg does. Durations come from BlockDuration,
//!   DefaultDuration, or the gap to the next frame. Matroska stores no decode
//!   times, so `dts` is synthesized: each stretch's sorted presentation times handed
//!   out in file order, shifted so no frame decodes after it shows. Nothing about
//!   B-frame reordering is taken from the container: the planner works from `pts`
//!   and decode order alone.
//! - **Truncation.** An element running past the end of the file ends indexing
//!   there: everything before it is served, and a request for a time whose frames
//!   were cut off fails with [`Error::Truncated`] (never a silent end of stream).
//!   A cut-off file is never reported as completely indexed, so every request is
//!   checked against the cut.
//! - **Defensive parsing.** Every element size is checked against its parent and
//!   the file, every metadata read against [`Limits::max_metadata_bytes`], every
//!   frame against [`Limits::max_sample_bytes`] and the sample count of all tracks
//!   against [`Limits::max_samples`]; timestamps use checked arithmetic. Junk between
//!   clusters is skipped by searching for the next Cluster ID, as ffmpeg does.
//!
//! # What comes from where
//!
//! Everything here is this crate's own code: a small EBML reader (`ebml`), the
//! Segment outline and SeekHeads (`layout`), Tracks (`tracks`), Cues (`cues`), the
//! cluster walk and lacing (`cluster`, `block`) and the lazy index (`index`,
//! `batch`). The `matroska-demuxer` crate (0.8) was measured first and not used:
//! the index needs element offsets it does not expose (Cues are private, and its
//! `seek` adds each CueRelativePosition to the first cluster's offset, so seeks on
//! ffmpeg- and mkvmerge-written files fail); its `is_keyframe` is `None` for
//! BlockGroups; it reports any I/O error in `next_frame` as the end of the file,
//! which would hide truncation; and its timestamp arithmetic panics on hostile
//! input. What it does right (lacing, block flags, reading lazily) is small enough
//! to write and test here against ffmpeg's reference.
//!
//! What ffmpeg 5.1 does is followed where it decides what a user sees: the pixel
//! aspect from DisplayWidth/DisplayHeight, the display matrix from the Projection
//! pose, and keyframes of BlockGroups. The HTC "rotation in the track name" hint
//! is ignored, as ffmpeg ignores it.
//!
//! ```no_run
//! use stillframe_core::{Demuxer, Limits, Time};
//! use stillframe_mkv::MkvDemuxer;
//!
//! let file = std::fs::File::open("movie.mkv")?;
//! let mut demuxer = MkvDemuxer::open(file, Limits::default())?;
//! let video = demuxer.tracks().iter().position(|t| t.video.is_some()).unwrap_or(0);
//! demuxer.index_until(video, Time::from_secs(30))?;
//! println!("{} frames indexed around 30 s", demuxer.samples(video)?.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod batch;
mod block;
mod cluster;
mod cues;
mod ebml;
mod ids;
mod index;
mod layout;
mod source;
mod tracks;

#[cfg(test)]
mod tests;

use std::io::{Read, Seek};

use stillframe_core::{
    ContainerKind, Demuxer, Error, Limits, Packet, Result, SampleInfo, Time, TrackInfo, TrackKind,
};

pub use cues::CuePoint;

use batch::TrackTiming;
use index::Index;
use source::Source;
use tracks::{Encoding, Track};

/// An opened Matroska or WebM file.
///
/// Created by [`MkvDemuxer::open`]; then used through [`Demuxer`]. Its sample
/// index starts empty and grows through [`Demuxer::index_until`].
pub struct MkvDemuxer<R> {
    source: Source<R>,
    limits: Limits,
    container: ContainerKind,
    duration: Option<Time>,
    infos: Vec<TrackInfo>,
    encodings: Vec<Encoding>,
    cue_points: Vec<CuePoint>,
    index: Index,
}

impl<R: Read + Seek + Send> MkvDemuxer<R> {
    /// Reads the file's headers: EBML header, SeekHeads, Info, Tracks and Cues.
    ///
    /// Fails with [`Error::Unsupported`] for an EBML DocType other than `matroska` or
    /// `webm`, [`Error::Malformed`] for a broken EBML header or a file without a
    /// Segment or Tracks, [`Error::Truncated`] when the file ends before its
    /// Tracks, [`Error::Limit`] when a size exceeds `limits`, and [`Error::Io`] when
    /// reading fails. Cues that are cut off or do not point at clusters are ignored
    /// (the clusters are then scanned).
    pub fn open(reader: R, limits: Limits) -> Result<Self> {
        let mut source = Source::new(reader)?;
        let layout = layout::read(&mut source, &limits)?;
        let info_body = match layout.info {
            Some(header) => Some((
                layout::read_body(&mut source, &header, &limits, "Info")?,
                header,
            )),
            None => None,
        };
        let info = tracks::parse_info(
            info_body
                .as_ref()
                .map(|(body, header)| (body.as_slice(), header)),
        )?;
        let tracks_header = layout.tracks.ok_or_else(|| {
            Error::malformed(
                stillframe_core::Location::at("Segment", layout.segment_data),
                "no Tracks element",
            )
        })?;
        let tracks_body = layout::read_body(&mut source, &tracks_header, &limits, "Tracks")?;
        let tracks = tracks::parse_tracks(&tracks_body, &tracks_header, &info.timebase)?;
        let cue_points = read_cues(&mut source, &layout, &info.timebase, &limits);
        let cued_track = cued_track(&tracks, &cue_points);
        let timings = tracks
            .iter()
            .map(|t| TrackTiming {
                number: t.number,
                default_duration: t.default_duration,
            })
            .collect();
        let index = Index::new(
            &mut source,
            info.timebase,
            layout.segment_end,
            layout.first_cluster,
            timings,
            &cue_points,
            cued_track,
        )?;
        let (infos, encodings) = tracks
            .into_iter()
            .map(|Track { info, encoding, .. }| (info, encoding))
            .unzip();
        Ok(MkvDemuxer {
            source,
            limits,
            container: layout.container,
            duration: info.duration,
            infos,
            encodings,
            cue_points,
            index,
        })
    }

    /// The length of the input in bytes, as measured at open.
    pub fn file_len(&self) -> u64 {
        self.source.len()
    }

    /// The file's Cues, in file order; empty when it has none (or unreadable ones).
    pub fn cue_points(&self) -> &[CuePoint] {
        &self.cue_points
    }

    /// True when the Cues drive the lazy index; false when clusters are scanned.
    pub fn uses_cues(&self) -> bool {
        self.index.uses_cues()
    }

    /// Gives the reader back.
    pub fn into_inner(self) -> R {
        self.source.into_inner()
    }
}

/// The Cues, or none when they are missing, cut off or unreadable: they only
/// make seeking faster, so a broken Cues element is not a reason to fail.
fn read_cues<R: Read + Seek>(
    source: &mut Source<R>,
    layout: &layout::Layout,
    timebase: &tracks::Timebase,
    limits: &Limits,
) -> Vec<CuePoint> {
    let Some(header) = layout.cues else {
        return Vec::new();
    };
    let parsed = layout::read_body(source, &header, limits, "Cues")
        .and_then(|body| cues::parse(&body, &header, layout.segment_data, timebase, limits));
    match parsed {
        Ok(points) => points,
        Err(error) => {
            log::debug!("Cues ignored: {error}");
            Vec::new()
        }
    }
}

/// The track whose cue points cut the clusters into spans: the first video track,
/// when the Cues index it; for files without video, the first track they index.
fn cued_track(tracks: &[Track], cues: &[CuePoint]) -> Option<u64> {
    let cued = |number: u64| cues.iter().any(|c| c.track == number);
    match tracks.iter().find(|t| t.info.kind == TrackKind::Video) {
        Some(video) => cued(video.number).then_some(video.number),
        None => tracks.iter().map(|t| t.number).find(|&n| cued(n)),
    }
}

impl<R> std::fmt::Debug for MkvDemuxer<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MkvDemuxer")
            .field("container", &self.container)
            .field("tracks", &self.infos.len())
            .field("cue_points", &self.cue_points.len())
            .finish_non_exhaustive()
    }
}

impl<R: Read + Seek + Send> Demuxer for MkvDemuxer<R> {
    fn container(&self) -> ContainerKind {
        self.container
    }

    fn duration(&self) -> Option<Time> {
        self.duration
    }

    fn tracks(&self) -> &[TrackInfo] {
        &self.infos
    }

    fn samples(&self, track: usize) -> Result<&[SampleInfo]> {
        self.index
            .samples(track)
            .ok_or_else(|| no_track(track, self.infos.len()))
    }

    fn index_until(&mut self, track: usize, until: Time) -> Result<bool> {
        if track >= self.infos.len() {
            return Err(no_track(track, self.infos.len()));
        }
        self.index
            .index_until(&mut self.source, &self.limits, track, until)
    }

    fn indexed_without_gaps(&self, _track: usize) -> bool {
        self.index.without_gaps()
    }

    fn read_sample(&mut self, track: usize, sample: u32) -> Result<Packet> {
        let samples = self
            .index
            .samples(track)
            .ok_or_else(|| no_track(track, self.infos.len()))?;
        let info = *samples.get(sample as usize).ok_or_else(|| {
            Error::malformed(
                format!("track {track}"),
                format!("no sample {sample}: {} indexed so far", samples.len()),
            )
        })?;
        let what = format!("sample {sample} of track {track}");
        let stored = self
            .source
            .read_exact_at(info.offset, u64::from(info.size), &what)?;
        let data = match self.encodings.get(track) {
            Some(Encoding::StrippedHeader(prefix)) => {
                self.limits
                    .check_sample_bytes(u64::from(info.size) + prefix.len() as u64)?;
                let mut data = Vec::with_capacity(prefix.len() + stored.len());
                data.extend_from_slice(prefix);
                data.extend_from_slice(&stored);
                data
            }
            Some(Encoding::Unsupported(what)) => {
                return Err(Error::unsupported(format!("Matroska {what}")))
            }
            _ => stored,
        };
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

fn no_track(track: usize, count: usize) -> Error {
    Error::malformed(
        format!("track {track}"),
        format!("no such track: the file has {count} tracks"),
    )
}
