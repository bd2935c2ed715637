//! The lazy sample index: which clusters have been read, and each track's samples.
//!
//! Two modes, chosen at open:
//! - **Cues.** The file's Cues for the first video track cut the clusters into
//!   *spans*, each starting at a cluster that holds a keyframe and ending where the
//!   next one starts. A request at `T` reads the span whose cue is at or before
//!   `T` and the spans after it up to one holding a keyframe presented after `T`,
//!   nothing else. Spans are appended to the sample tables whole, in the order they
//!   are read.
//! - **Scan.** Without usable Cues, clusters are read in file order from the first,
//!   only as far as a request needs, and what was read is kept.
//!
//! The invariant the planner relies on, in both modes: each track's slice is a
//! sequence of *runs*, each a stretch of the file in file (decode) order without
//! gaps, and each run starts at a span's first cluster, which starts with a
//! keyframe of the cued track. So the nearest sync sample at or before any sample
//! belongs to its own run, and feeding the samples from there on in slice order
//! feeds them in file order. The slice is the plain file order whenever requests
//! come in increasing time (and always in Scan mode); a request earlier than one
//! already served appends its span after the later ones. Indices of samples never
//! change once handed out, which the generator depends on.

use std::io::{Read, Seek};
use std::ops::Range;

use stillframe_core::{Error, Limits, Result, Rounding, SampleInfo, Time};

use crate::batch::{self, TrackTiming};
use crate::cluster;
use crate::cues::CuePoint;
use crate::ebml::Header;
use crate::ids;
use crate::layout::header_at;
use crate::source::{Source, READ_AHEAD};
use crate::tracks::Timebase;

/// How far past a damaged spot the scan looks for the next Cluster.
const MAX_RESYNC_BYTES: u64 = 4 << 20;

/// Why indexing could not read further.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stop {
    /// The file ends here.
    Cut(u64),
    /// The data here is broken beyond repair.
    Damaged(String),
    /// A number here exceeds a [`Limits`] bound; requests past it say which.
    Limited {
        what: &'static str,
        value: u64,
        limit: u64,
    },
}

impl Stop {
    fn error(&self, what: &str) -> Error {
        match self {
            Stop::Cut(at) => Error::truncated(format!("{what}: the file was cut off at byte {at}")),
            Stop::Damaged(message) => {
                Error::malformed(format!("Cluster data ({what})"), message.clone())
            }
            Stop::Limited { what, value, limit } => Error::Limit {
                what,
                value: *value,
                limit: *limit,
            },
        }
    }
}

/// A stretch of clusters from one cued keyframe cluster to the next.
#[derive(Debug, Clone)]
struct Span {
    start: u64,
    end: u64,
    /// The earliest cue time of its first cluster; `i64::MIN` for the first span.
    time: i64,
    state: SpanState,
}

#[derive(Debug, Clone)]
enum SpanState {
    Pending,
    /// Read: each track's samples from it, and why it ended early if it did.
    Read {
        ranges: Vec<Range<usize>>,
        stop: Option<Stop>,
    },
    /// Could not be read at all.
    Failed(Stop),
}

#[derive(Debug)]
enum Mode {
    Cues {
        spans: Vec<Span>,
        /// The span appended last, to tell whether the next one continues it.
        last: Option<usize>,
    },
    Scan {
        /// Where the next cluster (or other level-1 element) starts; `None` at the end.
        next: Option<u64>,
        stop: Option<Stop>,
    },
}

/// Every track's samples and what remains to be read.
#[derive(Debug)]
pub(crate) struct Index {
    timebase: Timebase,
    segment_end: u64,
    timings: Vec<TrackTiming>,
    samples: Vec<Vec<SampleInfo>>,
    /// The latest presentation time of a sync sample per track, for Scan mode.
    latest_sync: Vec<Option<i64>>,
    mode: Mode,
}

impl Index {
    /// An empty index. Uses `cues` of `cued_track` (a TrackNumber) when they point at
    /// clusters; otherwise clusters are scanned from `first_cluster`.
    pub(crate) fn new<R: Read + Seek>(
        source: &mut Source<R>,
        timebase: Timebase,
        segment_end: u64,
        first_cluster: Option<u64>,
        timings: Vec<TrackTiming>,
        cues: &[CuePoint],
        cued_track: Option<u64>,
    ) -> Result<Index> {
        let spans = match (first_cluster, cued_track) {
            (Some(first), Some(track)) => spans_from_cues(source, cues, track, first, segment_end)?,
            _ => None,
        };
        let mode = match spans {
            Some(spans) => Mode::Cues { spans, last: None },
            None => Mode::Scan {
                next: first_cluster,
                stop: None,
            },
        };
        Ok(Index {
            timebase,
            segment_end,
            samples: vec![Vec::new(); timings.len()],
            latest_sync: vec![None; timings.len()],
            timings,
            mode,
        })
    }

    /// True when the Cues drive the index.
    pub(crate) fn uses_cues(&self) -> bool {
        matches!(self.mode, Mode::Cues { .. })
    }

    /// The samples of `track` indexed so far.
    pub(crate) fn samples(&self, track: usize) -> Option<&[SampleInfo]> {
        self.samples.get(track).map(Vec::as_slice)
    }

    /// Whether what was read is every cluster from the first up to the last read
    /// (Scan mode always; Cues mode once the spans read are a prefix of them).
    pub(crate) fn without_gaps(&self) -> bool {
        match &self.mode {
            Mode::Scan { .. } => true,
            Mode::Cues { spans, .. } => {
                let is_read = |span: &Span| matches!(span.state, SpanState::Read { .. });
                let prefix = spans.iter().take_while(|span| is_read(span)).count();
                !spans.iter().skip(prefix).any(is_read)
            }
        }
    }

    /// Reads as far as a request at `until` on `track` needs; `true` once
    /// everything is indexed. A cut-off file is never complete, so every later
    /// request keeps being checked against the cut.
    pub(crate) fn index_until<R: Read + Seek>(
        &mut self,
        source: &mut Source<R>,
        limits: &Limits,
        track: usize,
        until: Time,
    ) -> Result<bool> {
        let target = if until.is_positive_infinity() {
            None
        } else {
            let ticks = until
                .to_ticks(self.timebase.timescale.get(), Rounding::Floor)
                .unwrap_or(if until.is_negative() {
                    i64::MIN
                } else {
                    i64::MAX
                });
            let exact = Time::from_ticks(ticks, self.timebase.timescale) == until;
            Some((ticks, exact))
        };
        match self.mode {
            Mode::Scan { .. } => self.scan_until(source, limits, track, target),
            Mode::Cues { .. } => self.cues_until(source, limits, track, target),
        }
    }

    // ---- Scan mode -------------------------------------------------------------

    fn scan_until<R: Read + Seek>(
        &mut self,
        source: &mut Source<R>,
        limits: &Limits,
        track: usize,
        target: Option<(i64, bool)>,
    ) -> Result<bool> {
        loop {
            let Mode::Scan { next, stop } = &mut self.mode else {
                return Ok(false);
            };
            let satisfied = target.is_some_and(|(ticks, _)| {
                self.latest_sync
                    .get(track)
                    .copied()
                    .flatten()
                    .is_some_and(|pts| pts > ticks)
            });
            if satisfied {
                return Ok(false);
            }
            let Some(position) = *next else {
                // Everything readable is read; a cut ends the file early.
                return match stop.clone() {
                    None => Ok(true),
                    Some(stop) => {
                        if let Some((ticks, exact)) = target {
                            let samples = self.samples.get(track).map_or(&[][..], Vec::as_slice);
                            check_horizon(samples, &stop, ticks, exact)?;
                        }
                        Ok(false)
                    }
                };
            };
            let step =
                next_cluster(source, position, self.segment_end).and_then(|found| match found {
                    ClusterSearch::At(offset) => {
                        cluster::read(source, offset, self.segment_end, limits).map(Some)
                    }
                    ClusterSearch::End => Ok(None),
                    ClusterSearch::Stopped(stop) => Err(stop.error("indexing")),
                });
            let (next_position, new_stop, blocks) = match step {
                Ok(Some(read)) => {
                    let stop = read.cut.then_some(Stop::Cut(source.len()));
                    (stop.is_none().then_some(read.next), stop, read.blocks)
                }
                Ok(None) => (None, None, Vec::new()),
                Err(error) if error.kind() == stillframe_core::ErrorKind::Io => return Err(error),
                Err(error) => (None, Some(stop_for(&error, source.len())), Vec::new()),
            };
            let ranges = batch::append(
                &blocks,
                &self.timings,
                &self.timebase,
                &mut self.samples,
                true,
                limits,
            )?;
            self.note_sync(&ranges);
            if let Mode::Scan { next, stop } = &mut self.mode {
                *next = next_position;
                if new_stop.is_some() {
                    *stop = new_stop;
                }
            }
        }
    }

    fn note_sync(&mut self, ranges: &[Range<usize>]) {
        for ((range, samples), latest) in
            ranges.iter().zip(&self.samples).zip(&mut self.latest_sync)
        {
            let new = samples
                .get(range.clone())
                .unwrap_or(&[])
                .iter()
                .filter(|s| s.sync)
                .map(|s| s.pts)
                .max();
            *latest = (*latest).max(new);
        }
    }

    // ---- Cues mode -------------------------------------------------------------

    fn cues_until<R: Read + Seek>(
        &mut self,
        source: &mut Source<R>,
        limits: &Limits,
        track: usize,
        target: Option<(i64, bool)>,
    ) -> Result<bool> {
        let span_count = match &self.mode {
            Mode::Cues { spans, .. } => spans.len(),
            Mode::Scan { .. } => return Ok(false),
        };
        let Some((ticks, exact)) = target else {
            for span in 0..span_count {
                // Spans lost to a cut or damage are skipped: the rest is still indexed.
                let _ = self.read_span(source, limits, span);
            }
            return Ok(self.complete());
        };
        let mut first = self
            .spans()
            .partition_point(|s| s.time <= ticks)
            .saturating_sub(1);
        self.read_span(source, limits, first)?;
        // Cue times are the file's word: step back while the span starts after `T`.
        while first > 0 && self.span_first_pts(first, track).is_some_and(|p| p > ticks) {
            first -= 1;
            self.read_span(source, limits, first)?;
        }
        if let Some(stop) = self.span_stop(first) {
            let samples = self.span_samples(first, track);
            check_horizon(samples, &stop, ticks, exact)?;
        }
        // Then on to a keyframe presented after `T`, when there is one.
        let mut last = first;
        while !self.span_has_sync_after(last, track, ticks) && last + 1 < span_count {
            last += 1;
            if self.read_span(source, limits, last).is_err() || self.span_stop(last).is_some() {
                break;
            }
        }
        Ok(self.complete())
    }

    fn spans(&self) -> &[Span] {
        match &self.mode {
            Mode::Cues { spans, .. } => spans,
            Mode::Scan { .. } => &[],
        }
    }

    fn complete(&self) -> bool {
        self.spans()
            .iter()
            .all(|s| matches!(s.state, SpanState::Read { stop: None, .. }))
    }

    fn span_range(&self, span: usize, track: usize) -> Option<Range<usize>> {
        match &self.spans().get(span)?.state {
            SpanState::Read { ranges, .. } => ranges.get(track).cloned(),
            _ => None,
        }
    }

    fn span_samples(&self, span: usize, track: usize) -> &[SampleInfo] {
        let range = self.span_range(span, track).unwrap_or(0..0);
        self.samples
            .get(track)
            .and_then(|s| s.get(range))
            .unwrap_or(&[])
    }

    fn span_first_pts(&self, span: usize, track: usize) -> Option<i64> {
        self.span_samples(span, track).iter().map(|s| s.pts).min()
    }

    fn span_has_sync_after(&self, span: usize, track: usize, ticks: i64) -> bool {
        self.span_samples(span, track)
            .iter()
            .any(|s| s.sync && s.pts > ticks)
    }

    fn span_stop(&self, span: usize) -> Option<Stop> {
        match &self.spans().get(span)?.state {
            SpanState::Read { stop, .. } => stop.clone(),
            SpanState::Failed(stop) => Some(stop.clone()),
            SpanState::Pending => None,
        }
    }

    /// Reads span `index` if it has not been, appending its samples.
    fn read_span<R: Read + Seek>(
        &mut self,
        source: &mut Source<R>,
        limits: &Limits,
        index: usize,
    ) -> Result<()> {
        let Mode::Cues { spans, last } = &mut self.mode else {
            return Ok(());
        };
        let Some(span) = spans.get(index) else {
            return Ok(());
        };
        match &span.state {
            SpanState::Pending => {}
            SpanState::Read { .. } => return Ok(()),
            SpanState::Failed(stop) => return Err(stop.error("cued clusters")),
        }
        let (start, end) = (span.start, span.end);
        let continues = last.is_some_and(|l| l + 1 == index);
        if start >= source.len() {
            let error = Error::truncated(format!(
                "the clusters at byte {start} and later were cut off (the file has {} bytes)",
                source.len()
            ));
            if let Some(span) = spans.get_mut(index) {
                span.state = SpanState::Failed(Stop::Cut(source.len()));
            }
            return Err(error);
        }
        // Cluster by cluster, so a span of many clusters (sparse Cues) never holds
        // more than one cluster's blocks in memory.
        let mut ranges: Option<Vec<Range<usize>>> = None;
        let mut stop = None;
        let mut position = start;
        let outcome: Result<()> = loop {
            if position >= end {
                break Ok(());
            }
            let offset = if ranges.is_none() {
                // A span starts at the cluster its cue names.
                position
            } else {
                match next_cluster(source, position, end) {
                    Ok(ClusterSearch::At(offset)) => offset,
                    Ok(ClusterSearch::End) => break Ok(()),
                    Ok(ClusterSearch::Stopped(why)) => {
                        stop = Some(why);
                        break Ok(());
                    }
                    Err(error) => break Err(error),
                }
            };
            let read = match cluster::read(source, offset, self.segment_end, limits) {
                Ok(read) => read,
                Err(error) => break Err(error),
            };
            let continues = ranges.is_some() || continues;
            let added = match batch::append(
                &read.blocks,
                &self.timings,
                &self.timebase,
                &mut self.samples,
                continues,
                limits,
            ) {
                Ok(added) => added,
                Err(error) => break Err(error),
            };
            ranges = Some(match ranges.take() {
                None => added,
                Some(before) => before
                    .into_iter()
                    .zip(added)
                    .map(|(a, b)| a.start..b.end)
                    .collect(),
            });
            if read.cut {
                stop = Some(Stop::Cut(source.len()));
                break Ok(());
            }
            if read.next <= position {
                break Ok(());
            }
            position = read.next;
        };
        let Some(span) = spans.get_mut(index) else {
            return outcome;
        };
        match (outcome, ranges) {
            (Ok(()), ranges) => {
                let empty = self.samples.iter().map(|s| s.len()..s.len()).collect();
                span.state = SpanState::Read {
                    ranges: ranges.unwrap_or(empty),
                    stop,
                };
                *last = Some(index);
            }
            // Nothing of the span could be read: it fails, now and later.
            (Err(error), None) => {
                span.state = SpanState::Failed(stop_for(&error, source.len()));
                return Err(error);
            }
            // Part of it was indexed and stays: the span ends where the failure is.
            (Err(error), Some(ranges)) => {
                span.state = SpanState::Read {
                    ranges,
                    stop: Some(stop_for(&error, source.len())),
                };
                *last = Some(index);
                if error.kind() == stillframe_core::ErrorKind::Io {
                    return Err(error);
                }
            }
        }
        Ok(())
    }
}

/// Builds spans from the cue points of `track`; `None` when they are unusable
/// (none, out of order, or not pointing at clusters), so the file is scanned.
fn spans_from_cues<R: Read + Seek>(
    source: &mut Source<R>,
    cues: &[CuePoint],
    track: u64,
    first_cluster: u64,
    segment_end: u64,
) -> Result<Option<Vec<Span>>> {
    let mut points: Vec<(u64, i64)> = cues
        .iter()
        .filter(|c| {
            c.track == track && c.cluster_offset >= first_cluster && c.cluster_offset < segment_end
        })
        .map(|c| (c.cluster_offset, c.time))
        .collect();
    points.sort_unstable();
    // Several cues in one cluster: its span starts at the earliest.
    points.dedup_by_key(|p| p.0);
    if points.is_empty() {
        return Ok(None);
    }
    if !points.windows(2).all(|w| w[0].1 <= w[1].1) {
        log::debug!("cue times do not grow with cluster positions; scanning instead");
        return Ok(None);
    }
    // Spot-check the first and last cue: a Cues element that points at something
    // other than clusters is ignored rather than trusted.
    let file_len = source.len();
    for &(offset, _) in [points.first(), points.iter().rev().find(|p| p.0 < file_len)]
        .into_iter()
        .flatten()
    {
        match header_at(source, offset)? {
            Some(Header {
                id: ids::CLUSTER, ..
            })
            | None => {}
            Some(other) => {
                log::debug!(
                    "cue points at {offset}, element {:#X}; scanning instead",
                    other.id
                );
                return Ok(None);
            }
        }
    }
    if points.first().is_some_and(|p| p.0 > first_cluster) {
        points.insert(0, (first_cluster, i64::MIN));
    }
    if let Some(first) = points.first_mut() {
        first.1 = i64::MIN;
    }
    let ends: Vec<u64> = points
        .iter()
        .skip(1)
        .map(|p| p.0)
        .chain(std::iter::once(segment_end))
        .collect();
    Ok(Some(
        points
            .iter()
            .zip(ends)
            .map(|(&(start, time), end)| Span {
                start,
                end,
                time,
                state: SpanState::Pending,
            })
            .collect(),
    ))
}

enum ClusterSearch {
    At(u64),
    End,
    Stopped(Stop),
}

/// The next Cluster at or after `position`, stepping over other level-1 elements
/// (Cues, Tags, Void, ...) and, past junk, searching for the Cluster ID as ffmpeg does.
fn next_cluster<R: Read + Seek>(
    source: &mut Source<R>,
    mut position: u64,
    end: u64,
) -> Result<ClusterSearch> {
    let file_len = source.len();
    loop {
        if position >= end {
            return Ok(ClusterSearch::End);
        }
        let header = match header_at(source, position) {
            Ok(Some(header)) => header,
            Ok(None) => return Ok(ClusterSearch::Stopped(Stop::Cut(file_len))),
            Err(_) => match resync(source, position, end)? {
                Some(found) => return Ok(ClusterSearch::At(found)),
                None => {
                    return Ok(ClusterSearch::Stopped(Stop::Damaged(format!(
                        "no Cluster after byte {position}"
                    ))))
                }
            },
        };
        let known = matches!(
            header.id,
            ids::CUES
                | ids::SEEK_HEAD
                | ids::INFO
                | ids::TRACKS
                | ids::CHAPTERS
                | ids::TAGS
                | ids::ATTACHMENTS
                | ids::VOID
                | ids::CRC32
        );
        match header.id {
            ids::CLUSTER => return Ok(ClusterSearch::At(position)),
            _ if known => match header.end() {
                Some(next) if next > file_len => {
                    return Ok(ClusterSearch::Stopped(Stop::Cut(file_len)))
                }
                Some(next) if next > position => position = next,
                _ => return Ok(ClusterSearch::End),
            },
            _ => match resync(source, position.saturating_add(1), end)? {
                Some(found) => return Ok(ClusterSearch::At(found)),
                None => {
                    return Ok(ClusterSearch::Stopped(Stop::Damaged(format!(
                        "unexpected element {:#X} at byte {position} and no Cluster after it",
                        header.id
                    ))))
                }
            },
        }
    }
}

/// Searches forward from `from` for bytes that start a Cluster header.
fn resync<R: Read + Seek>(source: &mut Source<R>, from: u64, end: u64) -> Result<Option<u64>> {
    let id = ids::CLUSTER.to_be_bytes();
    let limit = end.min(from.saturating_add(MAX_RESYNC_BYTES));
    let mut position = from;
    while position < limit {
        let window = source.peek(position, READ_AHEAD)?.to_vec();
        if window.len() < id.len() {
            return Ok(None);
        }
        for (i, candidate) in window.windows(id.len()).enumerate() {
            if candidate == id {
                let offset = position + i as u64;
                if let Ok(Some(header)) = header_at(source, offset) {
                    if header.id == ids::CLUSTER {
                        log::debug!("skipped junk from byte {from} to a Cluster at {offset}");
                        return Ok(Some(offset));
                    }
                }
            }
        }
        // Overlap windows so an ID split between two is found.
        position += (window.len() - (id.len() - 1)) as u64;
    }
    Ok(None)
}

fn stop_for(error: &Error, file_len: u64) -> Stop {
    match error {
        Error::Truncated { .. } => Stop::Cut(file_len),
        // Kept a limit error, so a caller can tell raising the limit would help.
        Error::Limit { what, value, limit } => Stop::Limited {
            what,
            value: *value,
            limit: *limit,
        },
        other => Stop::Damaged(other.to_string()),
    }
}

/// Fails a request at `ticks` that the samples lost to `stop` could have answered.
///
/// Frames after the cut come later in decode order. With a reorder depth of `d`
/// (measured on the last samples: how many earlier-decoded frames a frame can show
/// before), none of them shows before the earliest of the last `d + 1` frames read,
/// `H`. So a request before `H` plus that frame's duration, or exactly at a frame
/// that was read, is answered right; any later one fails.
fn check_horizon(samples: &[SampleInfo], stop: &Stop, ticks: i64, exact: bool) -> Result<()> {
    let tail = samples
        .get(samples.len().saturating_sub(64)..)
        .unwrap_or(&[]);
    let depth = tail
        .iter()
        .enumerate()
        .map(|(k, s)| {
            tail.get(k.saturating_sub(16)..k)
                .unwrap_or(&[])
                .iter()
                .filter(|earlier| earlier.pts > s.pts)
                .count()
        })
        .max()
        .unwrap_or(0);
    let window = tail
        .get(tail.len().saturating_sub(depth + 1)..)
        .unwrap_or(&[]);
    let horizon = window
        .iter()
        .min_by_key(|s| s.pts)
        .map(|s| s.pts.saturating_add(i64::from(s.duration.max(1))));
    let served = match horizon {
        Some(horizon) => ticks < horizon || exact && samples.iter().any(|s| s.pts == ticks),
        None => false,
    };
    if served {
        Ok(())
    } else {
        Err(stop.error("the frames for this time are missing"))
    }
}
