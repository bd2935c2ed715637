//! Edit lists (ISO 14496-12 § 8.6.6), applied the way ffmpeg 5.1 presents a file.
//!
//! The specification maps media time to presentation time edit by edit; ffmpeg's
//! `mov_fix_index` does something close but not identical, and users compare what we
//! show with what ffmpeg shows. So this module reproduces `mov_fix_index`:
//!
//! - For each non-empty edit, decoding starts at the last sync sample whose
//!   composition time is at or before the edit's `media_time`; samples from there on
//!   are laid end to end on a running decode-time counter. Samples whose composition
//!   time falls outside `[media_time, media_time + duration)` are hidden
//!   (`presented: false`) but kept, since later frames may refer to them.
//! - The counter starts where the previous edit ended; leading empty edits
//!   (`media_time == -1`) only move the start.
//! - Finally, for video, everything moves so that the earliest presented frame lands
//!   at the total of the leading empty edits (ffmpeg's `min_corrected_pts`).
//!
//! With several non-empty edits this concatenates the edits, so a sample may appear
//! more than once in the table (once per edit that shows it), exactly as in ffmpeg's
//! index; decode order stays monotonic. With a single edit every sample appears once:
//! samples ffmpeg would drop before the starting sync sample or after the edit's end
//! are kept as hidden entries with timestamps extrapolated from their decode times.
//!
//! ffmpeg applies none of this to fragmented tracks (nor, being a flag on the whole
//! file, to any track after the first one without `stts` entries); those get its
//! simple rule instead: one shift by `media_time` minus the leading empty edit, and
//! every sample shown. [`Mode`] selects between the two.

use stillframe_core::{Error, Limits, Result, SampleInfo};

use crate::boxes::BoxRef;
use crate::MAX_TIME;

/// One `elst` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edit {
    /// Length of the edit in movie (`mvhd`) ticks.
    pub segment_duration: u64,
    /// Where the edit starts in media time, or −1 for an empty edit.
    pub media_time: i64,
}

/// Reads an `elst` box (§ 8.6.6.2).
///
/// Like ffmpeg, an entry count that disagrees with the box size is replaced by
/// what the box holds.
pub(crate) fn read_elst(b: &BoxRef<'_>, limits: &Limits) -> Result<Vec<Edit>> {
    let mut r = b.reader("moov/trak/edts/elst");
    let (version, _flags) = r.full_box()?;
    let declared = r.u32()?;
    let entry_size: usize = if version == 1 { 20 } else { 12 };
    let fits = r.remaining() / entry_size;
    let count = if u64::from(declared) * entry_size as u64 != r.remaining() as u64 {
        log::warn!(
            "elst declares {declared} entries but holds {} bytes; reading {fits}",
            r.remaining()
        );
        fits
    } else {
        declared as usize
    };
    limits.check_entries("edit list entries", count as u64)?;
    let mut edits = Vec::with_capacity(count);
    for _ in 0..count {
        let (segment_duration, media_time) = if version == 1 {
            (r.u64()?, r.i64()?)
        } else {
            (u64::from(r.u32()?), i64::from(r.i32()?))
        };
        let _rate = r.u32()?;
        // Bounded so that sums of a few times and offsets never overflow i64.
        edits.push(Edit {
            segment_duration: segment_duration.min(MAX_TIME as u64),
            media_time: media_time.clamp(-MAX_TIME, MAX_TIME),
        });
    }
    Ok(edits)
}

/// How a track's edit list is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// ffmpeg's `mov_fix_index` (its default, "advanced_editlist").
    Full,
    /// ffmpeg's fallback for fragmented files: a single shift, nothing hidden.
    ShiftOnly,
}

/// The timescales and track facts edit processing needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context {
    /// `mvhd` timescale, in which edit durations are given.
    pub movie_timescale: u32,
    /// `mdhd` timescale of the track.
    pub media_timescale: u32,
    /// Video tracks get the final shift that puts the first frame at the start.
    pub is_video: bool,
    /// Audio tracks keep a frame that straddles an edit's start.
    pub is_audio: bool,
    /// The track had a `ctts` box.
    pub has_ctts: bool,
    /// ffmpeg's `dts_shift`: how far negative composition offsets reach.
    pub dts_shift: i64,
}

/// The result of applying an edit list.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// Samples on the presentation timeline. `dts` is final; `pts` still lacks the
    /// track's `dts_shift`, which fragments may raise later.
    pub samples: Vec<SampleInfo>,
    /// ffmpeg's `time_offset`: what fragment decode times are shifted by.
    pub time_offset: i64,
}

/// `value * num / den` rounded to the nearest integer (halves away from zero), as
/// ffmpeg's `av_rescale`. `None` when `den` is zero or the result does not fit.
pub(crate) fn rescale(value: i64, num: u32, den: u32) -> Option<i64> {
    if den == 0 {
        return None;
    }
    let product = i128::from(value) * i128::from(num);
    let den = i128::from(den);
    let half = den / 2;
    let rounded = if product >= 0 {
        (product + half) / den
    } else {
        -((-product + half) / den)
    };
    i64::try_from(rounded).ok()
}

/// ffmpeg's `time_offset` for an edit list: the first non-empty edit's media time,
/// less the leading empty edit converted to media ticks.
fn time_offset(edits: &[Edit], ctx: &Context) -> i64 {
    let mut empty_duration = 0i64;
    let mut start_time = 0i64;
    let mut edit_start = 0usize;
    for (i, edit) in edits.iter().enumerate() {
        if i == 0 && edit.media_time == -1 {
            empty_duration = i64::try_from(edit.segment_duration).unwrap_or(i64::MAX);
            edit_start = 1;
        } else if i == edit_start && edit.media_time >= 0 {
            start_time = edit.media_time;
        }
    }
    if (empty_duration == 0 && start_time == 0) || ctx.movie_timescale == 0 {
        return 0;
    }
    let empty = rescale(empty_duration, ctx.media_timescale, ctx.movie_timescale).unwrap_or(0);
    start_time.saturating_sub(empty).clamp(-MAX_TIME, MAX_TIME)
}

/// Applies `edits` to `raw` (samples with `dts` from 0 and `pts = dts + ctts`).
pub(crate) fn apply(
    raw: Vec<SampleInfo>,
    edits: &[Edit],
    mode: Mode,
    ctx: &Context,
    limits: &Limits,
) -> Result<Applied> {
    let time_offset = if edits.is_empty() {
        0
    } else {
        time_offset(edits, ctx)
    };
    if edits.is_empty() || raw.is_empty() {
        return Ok(shift(raw, 0, ctx, time_offset));
    }
    if mode == Mode::ShiftOnly {
        return Ok(shift(raw, time_offset, ctx, time_offset));
    }
    if ctx.movie_timescale == 0 {
        log::warn!("mvhd timescale is 0; the edit list is ignored");
        return Ok(shift(raw, 0, ctx, time_offset));
    }
    let fixed = FixIndex::new(&raw, ctx, limits).run(edits)?;
    Ok(fixed.into_applied(&raw, ctx, time_offset))
}

/// Moves every sample back by `offset` and `dts_shift`, hiding none (ffmpeg's
/// index without `mov_fix_index`).
fn shift(mut samples: Vec<SampleInfo>, offset: i64, ctx: &Context, time_offset: i64) -> Applied {
    for s in &mut samples {
        let ts = s.dts.saturating_sub(offset).saturating_sub(ctx.dts_shift);
        s.pts = ts.saturating_add(s.pts - s.dts);
        s.dts = ts;
    }
    Applied {
        samples,
        time_offset,
    }
}

/// One entry of the rebuilt index: which raw sample, at which decode time.
#[derive(Debug, Clone, Copy)]
struct Entry {
    sample: usize,
    ts: i64,
    discard: bool,
}

/// The state of ffmpeg's `mov_fix_index` over one track.
struct FixIndex<'a> {
    raw: &'a [SampleInfo],
    ctx: &'a Context,
    limits: &'a Limits,
    out: Vec<Entry>,
    min_corrected: i64,
    empty_sum: i64,
    /// Samples the searches for each edit's starting sample have stepped over.
    search_steps: u64,
}

impl<'a> FixIndex<'a> {
    fn new(raw: &'a [SampleInfo], ctx: &'a Context, limits: &'a Limits) -> Self {
        FixIndex {
            raw,
            ctx,
            limits,
            out: Vec::with_capacity(raw.len()),
            min_corrected: -1,
            empty_sum: 0,
            search_steps: 0,
        }
    }

    /// Counts one step of a linear search. Each edit's search may walk the whole
    /// track back (no sync sample shows before its media time), so a long edit list
    /// over a long track would cost edits × samples; all searches together may step
    /// over at most `max_samples` samples.
    fn search_step(&mut self) -> Result<()> {
        self.search_steps += 1;
        let limit = u64::from(self.limits.max_samples);
        if self.search_steps > limit {
            return Err(Error::Limit {
                what: "samples searched for edit list starts",
                value: self.search_steps,
                limit,
            });
        }
        Ok(())
    }

    /// The old index's timestamp: decode time less `dts_shift`.
    fn ts(&self, i: usize) -> i64 {
        self.raw.get(i).map_or(0, |s| s.dts - self.ctx.dts_shift)
    }

    fn ctts(&self, i: usize) -> i64 {
        self.raw.get(i).map_or(0, |s| s.pts - s.dts)
    }

    fn key(&self, i: usize) -> bool {
        self.raw.get(i).is_some_and(|s| s.sync)
    }

    fn run(mut self, edits: &[Edit]) -> Result<Fixed> {
        let n = self.raw.len();
        let mut entry_end = -self.ctx.dts_shift;
        let mut found_non_empty = false;
        let mut first_audio_edit = true;
        for edit in edits {
            let Some(duration) = i64::try_from(edit.segment_duration)
                .ok()
                .and_then(|d| rescale(d, self.ctx.media_timescale, self.ctx.movie_timescale))
                .map(|d| d.min(MAX_TIME))
            else {
                log::warn!(
                    "edit duration {} does not fit; later edits ignored",
                    edit.segment_duration
                );
                break;
            };
            let media_time = edit.media_time;
            let mut counter = entry_end;
            entry_end = entry_end.saturating_add(duration);
            if !found_non_empty && media_time == -1 {
                self.empty_sum = self.empty_sum.saturating_add(duration);
                continue;
            }
            found_non_empty = true;
            let edit_end = media_time.saturating_add(duration);

            let mut search = media_time;
            if self.ctx.is_audio {
                // Audio decoders need about a second of lead-in.
                search = search
                    .saturating_sub(i64::from(self.ctx.media_timescale))
                    .max(self.ts(0));
            }
            let start = match self.find_prev_closest(search, false)? {
                Some(start) => start,
                None => {
                    log::warn!("no sync sample before media time {search}; searching any sample");
                    self.find_prev_closest(search, true)?.unwrap_or(0)
                }
            };

            let mut start_encountered = false;
            let mut found_key_after = false;
            let mut discarded_begin: Vec<i64> = Vec::new();
            for i in start..n {
                let frame_duration = if i + 1 < n {
                    self.ts(i + 1) - self.ts(i)
                } else {
                    duration
                };
                // Sample times and offsets are below 2^62 (checked when read), so
                // `cts` cannot overflow; the counter may, after many long edits.
                let ctts = self.ctts(i);
                let cts = self.ts(i) + self.ctx.dts_shift + ctts;
                let mut discard = false;
                if cts < media_time || cts >= edit_end {
                    if self.ctx.is_audio
                        && cts < media_time
                        && cts + frame_duration > media_time
                        && first_audio_edit
                    {
                        // ffmpeg keeps the straddling audio frame and skips into it.
                        counter = counter.saturating_sub(media_time - cts);
                        if !start_encountered {
                            start_encountered = true;
                            self.rewrite_begin(counter, &mut discarded_begin);
                        }
                    } else {
                        discard = true;
                        if !start_encountered {
                            discarded_begin.push(frame_duration);
                        }
                    }
                } else {
                    let corrected = counter.saturating_add(ctts + self.ctx.dts_shift);
                    self.min_corrected = if self.min_corrected < 0 {
                        corrected
                    } else {
                        self.min_corrected.min(corrected)
                    };
                    if !start_encountered {
                        start_encountered = true;
                        self.rewrite_begin(counter, &mut discarded_begin);
                    }
                }
                if self.out.len() >= self.limits.max_samples as usize {
                    return Err(Error::Limit {
                        what: "sample count after edit lists",
                        value: self.out.len() as u64 + 1,
                        limit: u64::from(self.limits.max_samples),
                    });
                }
                self.out.push(Entry {
                    sample: i,
                    ts: counter,
                    discard,
                });
                if start_encountered {
                    counter = counter.saturating_add(frame_duration);
                }
                // Stop at the first sync sample past the edit's end; with B-frames,
                // one more, since frames after it may still show inside the edit.
                if cts.saturating_add(frame_duration) >= edit_end
                    && (self.key(i) || self.ctx.is_audio)
                {
                    if self.ctx.has_ctts && !self.ctx.is_audio && !found_key_after {
                        found_key_after = true;
                        continue;
                    }
                    break;
                }
            }
            if self.ctx.is_audio {
                first_audio_edit = false;
            }
        }
        Ok(Fixed {
            out: self.out,
            min_corrected: self.min_corrected,
            empty_sum: self.empty_sum,
        })
    }

    /// ffmpeg's `fix_index_entry_timestamps`: the hidden samples before an edit's
    /// first shown one are laid out backwards from it by their durations.
    fn rewrite_begin(&mut self, counter: i64, durations: &mut Vec<i64>) {
        let mut end = counter;
        let len = self.out.len();
        for (k, duration) in durations.iter().rev().enumerate() {
            end = end.saturating_sub(*duration);
            if let Some(entry) = len.checked_sub(1 + k).and_then(|at| self.out.get_mut(at)) {
                entry.ts = end;
            }
        }
        durations.clear();
    }

    /// ffmpeg's `find_prev_closest_index`: the last sync sample at or before
    /// `target` (a presentation time); with `ctts`, refined to one whose composition
    /// time is not after `target`.
    fn find_prev_closest(&mut self, target: i64, any: bool) -> Result<Option<usize>> {
        let n = self.raw.len();
        let mut target = target;
        if self.ctx.dts_shift > 0 {
            target -= self.ctx.dts_shift;
        }
        // ff_index_search_timestamp with AVSEEK_FLAG_BACKWARD.
        let (mut a, mut b) = (-1i64, n as i64);
        if n > 0 && self.ts(n - 1) < target {
            a = n as i64 - 1;
        }
        while b - a > 1 {
            let m = (a + b) >> 1;
            let ts = self.ts(m as usize);
            if ts >= target {
                b = m;
            }
            if ts <= target {
                a = m;
            }
        }
        let mut index = a;
        if !any {
            while index >= 0 && !self.key(index as usize) {
                self.search_step()?;
                index -= 1;
            }
        }
        if index < 0 {
            return Ok(None);
        }
        // Back over samples sharing the same decode time.
        let mut i = index;
        while i > 0 && self.ts(i as usize) == self.ts(i as usize - 1) {
            self.search_step()?;
            if any || self.key(i as usize - 1) {
                index = i - 1;
            }
            i -= 1;
        }
        if self.ctx.has_ctts {
            while index >= 0 {
                let at = index as usize;
                if self.ts(at) + self.ctts(at) <= target && self.key(at) {
                    break;
                }
                self.search_step()?;
                index -= 1;
            }
        }
        Ok(usize::try_from(index).ok())
    }
}

/// The rebuilt index, before the final shift.
struct Fixed {
    out: Vec<Entry>,
    min_corrected: i64,
    empty_sum: i64,
}

impl Fixed {
    /// Turns the rebuilt index into samples, adding back hidden samples of a single
    /// edit so every sample of the track appears.
    fn into_applied(self, raw: &[SampleInfo], ctx: &Context, time_offset: i64) -> Applied {
        let Fixed {
            mut out,
            min_corrected,
            empty_sum,
        } = self;
        let min_corrected = min_corrected.saturating_sub(empty_sum);
        if ctx.is_video && min_corrected > 0 {
            for entry in &mut out {
                entry.ts = entry.ts.saturating_sub(min_corrected);
            }
        }
        let old_ts = |i: usize| raw.get(i).map_or(0, |s| s.dts);
        let contiguous = out.windows(2).all(|w| match w {
            [a, b] => b.sample == a.sample + 1,
            _ => true,
        });
        let mut entries = Vec::with_capacity(raw.len().max(out.len()));
        match (out.first().copied(), out.last().copied()) {
            (Some(first), Some(last)) if contiguous => {
                for i in 0..first.sample {
                    entries.push(Entry {
                        sample: i,
                        ts: first.ts.saturating_sub(old_ts(first.sample) - old_ts(i)),
                        discard: true,
                    });
                }
                entries.extend_from_slice(&out);
                for i in last.sample + 1..raw.len() {
                    entries.push(Entry {
                        sample: i,
                        ts: last.ts.saturating_add(old_ts(i) - old_ts(last.sample)),
                        discard: true,
                    });
                }
            }
            (Some(_), Some(_)) => entries = out,
            _ => {
                // Only empty edits: ffmpeg shows nothing of this track.
                log::warn!("the edit list has no non-empty edit; no sample is shown");
                entries.extend((0..raw.len()).map(|i| Entry {
                    sample: i,
                    ts: (old_ts(i) - ctx.dts_shift).saturating_add(empty_sum),
                    discard: true,
                }));
            }
        }
        let samples = entries
            .into_iter()
            .filter_map(|entry| {
                let s = raw.get(entry.sample)?;
                Some(SampleInfo {
                    dts: entry.ts,
                    pts: entry.ts.saturating_add(s.pts - s.dts),
                    presented: !entry.discard,
                    ..*s
                })
            })
            .collect();
        Applied {
            samples,
            time_offset,
        }
    }
}

/// The edit list's total length in movie ticks (empty edits included).
pub(crate) fn total_duration(edits: &[Edit]) -> u64 {
    edits
        .iter()
        .fold(0u64, |sum, e| sum.saturating_add(e.segment_duration))
}
