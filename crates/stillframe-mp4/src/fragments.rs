//! Movie fragments (ISO 14496-12 § 8.8): `trex` defaults and `moof`/`traf`/`trun`.
//!
//! Fragment samples are appended after a track's `moov` samples, fragment by
//! fragment in file order. Decode times follow ffmpeg: a `tfdt` gives the fragment's
//! start, otherwise it continues where the track ended; either way the track's edit
//! shift (`time_offset`) is subtracted. Samples of a run that start before the end of
//! what precedes it (overlapping fragments) are hidden.

use stillframe_core::{Error, Limits, Location, Result, SampleInfo};

use crate::boxes::{BoxRef, Children};
use crate::MAX_TIME;

/// `trex` defaults for one track (§ 8.8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Trex {
    pub track_id: u32,
    pub sample_description_index: u32,
    pub duration: u32,
    pub size: u32,
    pub flags: u32,
}

/// Reads a `trex` box.
pub(crate) fn read_trex(b: &BoxRef<'_>) -> Result<Trex> {
    let mut r = b.reader("moov/mvex/trex");
    r.full_box()?;
    Ok(Trex {
        track_id: r.u32()?,
        sample_description_index: r.u32()?,
        duration: r.u32()?,
        size: r.u32()?,
        flags: r.u32()?,
    })
}

/// The per-track state fragments read and advance.
#[derive(Debug)]
pub(crate) struct FragmentTrack<'s> {
    pub track_id: u32,
    pub trex: Option<Trex>,
    /// ffmpeg's `time_offset`, from the track's edit list.
    pub time_offset: i64,
    /// Where the track's decode times end, before `time_offset` (ffmpeg's `track_end`).
    pub track_end: i64,
    /// Raised by negative composition offsets (ffmpeg's `dts_shift`).
    pub dts_shift: i64,
    pub is_audio: bool,
    /// Length of the file: runs are not indexed past it.
    pub file_len: u64,
    /// The track's samples so far; `pts` here lacks `dts_shift`.
    pub samples: &'s mut Vec<SampleInfo>,
}

const SAMPLE_IS_NON_SYNC: u32 = 0x0001_0000;
const SAMPLE_DEPENDS_YES: u32 = 0x0100_0000;

const TFHD_BASE_DATA_OFFSET: u32 = 0x01;
const TFHD_SAMPLE_DESCRIPTION_INDEX: u32 = 0x02;
const TFHD_DEFAULT_DURATION: u32 = 0x08;
const TFHD_DEFAULT_SIZE: u32 = 0x10;
const TFHD_DEFAULT_FLAGS: u32 = 0x20;
const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x2_0000;

const TRUN_DATA_OFFSET: u32 = 0x01;
const TRUN_FIRST_SAMPLE_FLAGS: u32 = 0x04;
const TRUN_DURATION: u32 = 0x100;
const TRUN_SIZE: u32 = 0x200;
const TRUN_FLAGS: u32 = 0x400;
const TRUN_CTS: u32 = 0x800;

/// Defaults in force for one `traf`, from `tfhd` over `trex`.
struct TrafDefaults {
    base_data_offset: u64,
    /// The sample description of the fragment's samples, from 0.
    description: u16,
    duration: u32,
    size: u32,
    flags: u32,
}

/// Appends the samples of one `moof` (whose bytes are `bytes`, at file offset
/// `offset`) to the tracks they belong to. `indexed` counts the samples of all
/// tracks: [`Limits::max_samples`] bounds them together, as in the `moov`.
pub(crate) fn read_moof(
    bytes: &[u8],
    offset: u64,
    tracks: &mut [FragmentTrack<'_>],
    indexed: &mut u64,
    limits: &Limits,
) -> Result<()> {
    let moof = BoxRef::whole(*b"moof", offset, bytes);
    // Without base offsets, each traf's data follows the previous traf's (§ 8.8.7.1).
    let mut implicit_offset = offset;
    let mut trafs = 0u64;
    for traf in moof.children("moof").filter(|b| &b.kind == b"traf") {
        trafs += 1;
        limits.check_entries("track fragments in a moof", trafs)?;
        if let Some(end) = read_traf(&traf, offset, implicit_offset, tracks, indexed, limits)? {
            implicit_offset = end;
        }
    }
    Ok(())
}

/// Reads one `traf`; returns where its data ended, if it had any runs.
fn read_traf(
    traf: &BoxRef<'_>,
    moof_offset: u64,
    implicit_offset: u64,
    tracks: &mut [FragmentTrack<'_>],
    indexed: &mut u64,
    limits: &Limits,
) -> Result<Option<u64>> {
    let children = || Children::new(traf.body(), traf.body_offset(), "moof/traf");
    let Some(tfhd) = children().find(|b| &b.kind == b"tfhd") else {
        log::warn!("a traf at byte {} has no tfhd; skipped", traf.offset);
        return Ok(None);
    };
    let mut r = tfhd.reader("moof/traf/tfhd");
    let (_, flags) = r.full_box()?;
    let track_id = r.u32()?;
    let Some(track) = tracks.iter_mut().find(|t| t.track_id == track_id) else {
        log::warn!("a traf refers to track {track_id}, which the moov does not have; skipped");
        return Ok(None);
    };
    let Some(trex) = track.trex else {
        log::warn!("track {track_id} has fragments but no trex; they are skipped");
        return Ok(None);
    };
    let base_data_offset = if flags & TFHD_BASE_DATA_OFFSET != 0 {
        r.u64()?
    } else if flags & TFHD_DEFAULT_BASE_IS_MOOF != 0 {
        moof_offset
    } else {
        implicit_offset
    };
    let description_index = if flags & TFHD_SAMPLE_DESCRIPTION_INDEX != 0 {
        r.u32()?
    } else {
        trex.sample_description_index
    };
    let defaults = TrafDefaults {
        base_data_offset,
        description: u16::try_from(description_index.saturating_sub(1)).unwrap_or(u16::MAX),
        duration: if flags & TFHD_DEFAULT_DURATION != 0 {
            r.u32()?
        } else {
            trex.duration
        },
        size: if flags & TFHD_DEFAULT_SIZE != 0 {
            r.u32()?
        } else {
            trex.size
        },
        flags: if flags & TFHD_DEFAULT_FLAGS != 0 {
            r.u32()?
        } else {
            trex.flags
        },
    };

    let tfdt = match children().find(|b| &b.kind == b"tfdt") {
        Some(b) => {
            let mut r = b.reader("moof/traf/tfdt");
            let (version, _) = r.full_box()?;
            let time = if version == 1 {
                r.u64()?
            } else {
                u64::from(r.u32()?)
            };
            Some(
                i64::try_from(time)
                    .ok()
                    .filter(|&t| t <= MAX_TIME)
                    .ok_or_else(|| r.error("tfdt base media decode time exceeds 2^62"))?,
            )
        }
        None => None,
    };
    if let Some(time) = tfdt {
        track.track_end = time;
    }

    let mut next_dts: Option<i64> = None;
    let mut data_end: Option<u64> = None;
    let mut runs = 0u64;
    for trun in children().filter(|b| &b.kind == b"trun") {
        runs += 1;
        limits.check_entries("track runs in a traf", runs)?;
        let start = next_dts.unwrap_or(track.track_end.saturating_sub(track.time_offset));
        let others = indexed.saturating_sub(track.samples.len() as u64);
        let (dts, end) = read_trun(&trun, &defaults, data_end, start, track, limits, others)?;
        *indexed = others + track.samples.len() as u64;
        next_dts = Some(dts);
        data_end = Some(end);
        track.track_end = dts.saturating_add(track.time_offset);
    }
    Ok(data_end)
}

/// Reads one `trun` (§ 8.8.8) starting at decode time `dts`; returns the decode
/// time and data offset where it ends.
fn read_trun(
    trun: &BoxRef<'_>,
    defaults: &TrafDefaults,
    previous_end: Option<u64>,
    mut dts: i64,
    track: &mut FragmentTrack<'_>,
    limits: &Limits,
    other_tracks_samples: u64,
) -> Result<(i64, u64)> {
    let mut r = trun.reader("moof/traf/trun");
    if dts.unsigned_abs() > MAX_TIME as u64 {
        return Err(r.error(format!("fragment decode time {dts} is beyond 2^62 ticks")));
    }
    let (_version, flags) = r.full_box()?;
    let count = r.u32()?;
    let data_offset = if flags & TRUN_DATA_OFFSET != 0 {
        Some(r.i32()?)
    } else {
        None
    };
    let first_sample_flags = if flags & TRUN_FIRST_SAMPLE_FLAGS != 0 {
        Some(r.u32()?)
    } else {
        None
    };
    let per_sample = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTS]
        .iter()
        .filter(|&&f| flags & f != 0)
        .count()
        * 4;
    r.check_table("trun", count, per_sample)?;
    let total = track.samples.len() as u64 + u64::from(count);
    limits.check_samples_beside(total, other_tracks_samples)?;

    let mut offset = match (data_offset, previous_end) {
        (Some(delta), _) => defaults
            .base_data_offset
            .checked_add_signed(i64::from(delta))
            .ok_or_else(|| r.error(format!("data offset {delta} points before the file start")))?,
        // Runs without an offset follow the previous run's data.
        (None, Some(end)) => end,
        (None, None) => defaults.base_data_offset,
    };
    if per_sample == 0 {
        // Every sample the same: grow the table as we go rather than trusting `count`.
        track.samples.reserve(count.min(4096) as usize);
    } else {
        track.samples.reserve(count as usize);
    }
    // A run costs no bytes per sample when every field is a default, so `count` alone
    // could make a tiny file index millions of samples; those that would start past
    // the end of the file are not indexed.
    let mut past_end = 0u64;
    // Overlapping fragments: samples of this run that do not pass the last sample
    // before it are hidden, as ffmpeg discards them (it compares with that one
    // sample, not with each predecessor).
    let previous_dts = track.samples.last().map(|prev| prev.dts);
    for i in 0..count {
        let duration = if flags & TRUN_DURATION != 0 {
            r.u32()?
        } else {
            defaults.duration
        };
        let size = if flags & TRUN_SIZE != 0 {
            r.u32()?
        } else {
            defaults.size
        };
        let default_flags = match first_sample_flags {
            Some(first) if i == 0 => first,
            _ => defaults.flags,
        };
        let sample_flags = if flags & TRUN_FLAGS != 0 {
            r.u32()?
        } else {
            default_flags
        };
        // Version 0 offsets are unsigned by the letter of the spec; like ffmpeg we read
        // them as signed, which is what writers mean.
        let cts = if flags & TRUN_CTS != 0 {
            i64::from(r.i32()?)
        } else {
            0
        };
        if cts < 0 {
            track.dts_shift = track.dts_shift.max(-cts);
        }
        if size == 0 {
            // As ffmpeg, which rejects the run.
            return Err(r.error(format!("sample {i} of the run has size 0")));
        }
        limits.check_sample_bytes(u64::from(size))?;
        let end = offset
            .checked_add(u64::from(size))
            .filter(|&end| end <= i64::MAX as u64)
            .ok_or_else(|| {
                r.error(format!(
                    "sample at byte offset {offset} with size {size} overflows"
                ))
            })?;
        let sync = track.is_audio || sample_flags & (SAMPLE_IS_NON_SYNC | SAMPLE_DEPENDS_YES) == 0;
        let overlaps = previous_dts.is_some_and(|prev| prev >= dts);
        if offset >= track.file_len && per_sample == 0 {
            // Every sample of the run has this size and duration, so all the rest
            // start past the end too: step over them at once, not one by one (a
            // 16-byte trun may declare millions).
            let rest = count - i;
            past_end += u64::from(rest);
            let bytes = u128::from(size) * u128::from(rest);
            offset = u64::try_from(u128::from(offset) + bytes)
                .ok()
                .filter(|&end| end <= i64::MAX as u64)
                .ok_or_else(|| {
                    r.error(format!(
                        "{rest} samples of {size} bytes from byte offset {offset} overflow"
                    ))
                })?;
            let ticks = i128::from(dts) + i128::from(duration) * i128::from(rest);
            dts = i64::try_from(ticks).unwrap_or(i64::MAX);
            break;
        }
        if offset >= track.file_len {
            past_end += 1;
            offset = end;
            dts = dts.saturating_add(i64::from(duration));
            continue;
        }
        track.samples.push(SampleInfo {
            offset,
            size,
            dts,
            pts: dts + cts,
            duration,
            sync,
            presented: !overlaps,
            description: defaults.description,
        });
        offset = end;
        dts = dts
            .checked_add(i64::from(duration))
            .filter(|&dts| dts.unsigned_abs() <= MAX_TIME as u64)
            .ok_or_else(|| {
                Error::malformed(
                    Location::at("moof/traf/trun", trun.offset),
                    "decode times pass 2^62 ticks",
                )
            })?;
    }
    if past_end > 0 {
        log::warn!(
            "{past_end} samples of the run at byte {} start past the end of the file; not indexed",
            trun.offset
        );
    }
    Ok((dts, offset))
}
