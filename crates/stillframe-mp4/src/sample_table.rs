//! The sample table of a `moov` track, flattened into one entry per sample.
//!
//! Reads `stts`, `ctts`, `stss`/`stps`, `stsc`, `stsz`/`stz2` and `stco`/`co64`
//! (ISO 14496-12 § 8.6–8.7) directly from their bytes: every entry count is checked
//! against the bytes of its box before anything is allocated, and the expansion walks
//! each table once with a cursor, so building the index is O(samples + chunks).
//!
//! Where the specification leaves a broken file undefined, the choices follow ffmpeg's
//! `mov_read_*`/`mov_build_index` so that timestamps agree with what ffmpeg shows.

use stillframe_core::{Error, Limits, Location, Result, SampleInfo};

use crate::boxes::BoxRef;
use crate::MAX_TIME;

/// The sample-table boxes of one `stbl`, as found.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct StblBoxes<'a> {
    pub stts: Option<BoxRef<'a>>,
    pub ctts: Option<BoxRef<'a>>,
    pub stss: Option<BoxRef<'a>>,
    pub stps: Option<BoxRef<'a>>,
    pub stsc: Option<BoxRef<'a>>,
    pub stsz: Option<BoxRef<'a>>,
    pub stz2: Option<BoxRef<'a>>,
    pub stco: Option<BoxRef<'a>>,
    pub co64: Option<BoxRef<'a>>,
}

/// A track's samples in decode order, before edit lists.
///
/// `dts` counts from 0 as `stts` says; `pts` is `dts` plus the `ctts` offset.
#[derive(Debug, Default)]
pub(crate) struct RawTable {
    /// One entry per sample, all presented.
    pub samples: Vec<SampleInfo>,
    /// A usable `ctts` was present (ffmpeg's edit-list search differs without one).
    pub has_ctts: bool,
    /// How far negative composition offsets reach (ffmpeg's `dts_shift`).
    pub dts_shift: i64,
    /// Sum of all `stts` durations: where a following fragment continues.
    pub track_end: i64,
    /// Number of `stts` entries; zero marks a track whose samples come from fragments.
    pub stts_entries: usize,
}

struct SttsEntry {
    count: u32,
    delta: u32,
}

struct CttsEntry {
    count: u32,
    offset: i32,
}

#[derive(Clone, Copy)]
struct StscEntry {
    first_chunk: u32,
    samples_per_chunk: u32,
    /// From 0; descriptions past `u16::MAX` are clamped (no real file has them).
    description: u16,
}

/// Sample sizes: one for all, or a packed table read on demand.
enum Sizes<'a> {
    Constant(u32),
    Table { data: &'a [u8], bits: u8 },
}

impl Sizes<'_> {
    fn get(&self, index: usize) -> Option<u32> {
        match *self {
            Sizes::Constant(size) => Some(size),
            Sizes::Table { data, bits } => match bits {
                4 => {
                    let byte = *data.get(index / 2)?;
                    Some(u32::from(if index.is_multiple_of(2) {
                        byte >> 4
                    } else {
                        byte & 0x0f
                    }))
                }
                8 => data.get(index).map(|&b| u32::from(b)),
                16 => {
                    let b =
                        data.get(index.checked_mul(2)?..index.checked_mul(2)?.checked_add(2)?)?;
                    Some(u32::from(u16::from_be_bytes([b[0], b[1]])))
                }
                _ => {
                    let b =
                        data.get(index.checked_mul(4)?..index.checked_mul(4)?.checked_add(4)?)?;
                    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                }
            },
        }
    }
}

/// Chunk offsets, read on demand from the box bytes.
struct ChunkOffsets<'a> {
    data: &'a [u8],
    wide: bool,
    count: usize,
}

impl ChunkOffsets<'_> {
    fn get(&self, index: usize) -> Option<u64> {
        if self.wide {
            let b = self
                .data
                .get(index.checked_mul(8)?..index.checked_mul(8)?.checked_add(8)?)?;
            let mut array = [0u8; 8];
            array.copy_from_slice(b);
            Some(u64::from_be_bytes(array))
        } else {
            let b = self
                .data
                .get(index.checked_mul(4)?..index.checked_mul(4)?.checked_add(4)?)?;
            Some(u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
        }
    }
}

const STBL: &str = "moov/trak/mdia/minf/stbl";

/// Flattens a track's sample table.
///
/// `is_audio` selects ffmpeg's rule for an empty `stss` (every audio sample is a
/// sync sample; for video only the first is).
pub(crate) fn build(boxes: &StblBoxes<'_>, is_audio: bool, limits: &Limits) -> Result<RawTable> {
    let stts = match &boxes.stts {
        Some(b) => read_stts(b)?,
        None => Vec::new(),
    };
    let (ctts, dts_shift) = match &boxes.ctts {
        Some(b) => read_ctts(b)?,
        None => (Vec::new(), 0),
    };
    let stss = boxes
        .stss
        .as_ref()
        .map(|b| read_sync_list(b, "stss"))
        .transpose()?;
    let stps = boxes
        .stps
        .as_ref()
        .map(|b| read_sync_list(b, "stps"))
        .transpose()?;
    let stsc = match &boxes.stsc {
        Some(b) => read_stsc(b)?,
        None => Vec::new(),
    };
    let (sizes, sample_count) = match (&boxes.stsz, &boxes.stz2) {
        (Some(b), _) => read_stsz(b)?,
        (None, Some(b)) => read_stz2(b)?,
        (None, None) => (Sizes::Constant(0), 0),
    };
    let chunks = match (&boxes.co64, &boxes.stco) {
        (Some(b), _) => read_chunk_offsets(b, true)?,
        (None, Some(b)) => read_chunk_offsets(b, false)?,
        (None, None) => ChunkOffsets {
            data: &[],
            wide: false,
            count: 0,
        },
    };
    // Uncompressed audio with one tick per sample (ffmpeg's "old uncompressed audio
    // chunk demuxing") would index millions of tiny samples; each chunk is one.
    let whole_chunks = is_audio
        && matches!(sizes, Sizes::Constant(_))
        && matches!(stts.as_slice(), [SttsEntry { delta: 1, .. }]);
    if !whole_chunks {
        limits.check_samples(u64::from(sample_count))?;
    }

    let track_end = stts.iter().try_fold(0i64, |sum, e| {
        i64::from(e.count)
            .checked_mul(i64::from(e.delta))
            .and_then(|d| sum.checked_add(d))
    });
    let Some(track_end) = track_end else {
        return Err(malformed(
            &boxes.stts,
            "stts",
            "the track's total duration overflows",
        ));
    };
    let mut table = RawTable {
        samples: Vec::new(),
        has_ctts: !ctts.is_empty(),
        dts_shift,
        track_end,
        stts_entries: stts.len(),
    };

    // ffmpeg clears an stsc that describes chunks of a track with no samples at all.
    let stsc = if chunks.count == 0 && stts.is_empty() {
        Vec::new()
    } else {
        stsc
    };
    // ffmpeg's "missing mandatory atoms": such a track keeps no samples.
    if (chunks.count > 0 && (stts.is_empty() || stsc.is_empty() || sample_count == 0))
        || (chunks.count == 0 && sample_count > 0)
    {
        log::warn!("a track lacks stts, stsc, stsz or stco; it is left without samples");
        return Ok(table);
    }
    if let Some(last) = stsc.last() {
        if u64::from(last.first_chunk) > chunks.count as u64 {
            return Err(malformed(
                &boxes.stsc,
                "stsc",
                format!(
                    "stsc refers to chunk {} but stco/co64 lists only {} chunks",
                    last.first_chunk, chunks.count
                ),
            ));
        }
    }
    if let (true, Sizes::Constant(size)) = (whole_chunks, &sizes) {
        expand_chunks(
            &mut table,
            &stsc,
            *size,
            sample_count,
            &chunks,
            boxes,
            limits,
        )?;
    } else {
        expand(
            &mut table,
            &stts,
            &ctts,
            stss,
            stps,
            &stsc,
            &sizes,
            sample_count,
            &chunks,
            is_audio,
            boxes,
            limits,
        )?;
    }
    Ok(table)
}

/// Indexes uncompressed audio by chunk: one sample per chunk, lasting as many ticks
/// as the chunk holds audio samples.
fn expand_chunks(
    table: &mut RawTable,
    stsc: &[StscEntry],
    size: u32,
    sample_count: u32,
    chunks: &ChunkOffsets<'_>,
    boxes: &StblBoxes<'_>,
    limits: &Limits,
) -> Result<()> {
    limits.check_samples(chunks.count as u64)?;
    let mut samples = Vec::with_capacity(chunks.count);
    let mut stsc_index = 0usize;
    let mut left = u64::from(sample_count);
    let mut dts = 0i64;
    for chunk in 0..chunks.count {
        let Some(offset) = chunks.get(chunk) else {
            break;
        };
        let chunk_number = chunk as u64 + 1;
        while stsc
            .get(stsc_index + 1)
            .is_some_and(|next| chunk_number >= u64::from(next.first_chunk))
        {
            stsc_index += 1;
        }
        let per_chunk =
            u64::from(stsc.get(stsc_index).map_or(0, |e| e.samples_per_chunk)).min(left);
        if per_chunk == 0 {
            continue;
        }
        left -= per_chunk;
        let bytes = per_chunk * u64::from(size);
        limits.check_sample_bytes(bytes)?;
        let (Ok(bytes), Ok(duration)) = (u32::try_from(bytes), u32::try_from(per_chunk)) else {
            return Err(malformed(
                &boxes.stsz,
                "stsz",
                format!("chunk {chunk_number} holds {bytes} bytes"),
            ));
        };
        if offset
            .checked_add(u64::from(bytes))
            .is_none_or(|end| end > i64::MAX as u64)
        {
            return Err(malformed(
                &boxes.stco.or(boxes.co64),
                "stco",
                format!("chunk {chunk_number} overflows"),
            ));
        }
        samples.push(SampleInfo {
            offset,
            size: bytes,
            dts,
            pts: dts,
            duration,
            sync: true,
            presented: true,
            description: stsc.get(stsc_index).map_or(0, |e| e.description),
        });
        dts = dts
            .checked_add(i64::from(duration))
            .filter(|&dts| dts <= MAX_TIME)
            .ok_or_else(|| malformed(&boxes.stts, "stts", "decode times pass 2^62 ticks"))?;
    }
    table.samples = samples;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn expand(
    table: &mut RawTable,
    stts: &[SttsEntry],
    ctts: &[CttsEntry],
    stss: Option<Vec<u32>>,
    stps: Option<Vec<u32>>,
    stsc: &[StscEntry],
    sizes: &Sizes<'_>,
    sample_count: u32,
    chunks: &ChunkOffsets<'_>,
    is_audio: bool,
    boxes: &StblBoxes<'_>,
    limits: &Limits,
) -> Result<()> {
    let sample_count = sample_count as usize;
    let capacity = match sizes {
        Sizes::Table { .. } => sample_count,
        Sizes::Constant(_) => sample_count.min(4096),
    };
    let mut samples = Vec::with_capacity(capacity);

    // An stss that is present but empty means "no sync samples" (ffmpeg's keyframe_absent).
    let keyframe_absent = matches!(&stss, Some(list) if list.is_empty());
    let stss = stss.unwrap_or_default();
    let stps = stps.unwrap_or_default();
    // Entries are 1-based; a table starting at 0 is taken as 0-based, as ffmpeg does.
    let key_off =
        u32::from(stss.first().is_some_and(|&n| n > 0) || stps.first().is_some_and(|&n| n > 0));
    let mut stss_cursor = SortedCursor::new(stss, key_off);
    let mut stps_cursor = SortedCursor::new(stps, key_off);

    let mut stts_index = 0usize;
    let mut stts_used = 0u32;
    let mut ctts_index = 0usize;
    let mut ctts_used = 0u32;
    let mut stsc_index = 0usize;
    let mut dts = 0i64;

    'chunks: for chunk in 0..chunks.count {
        let Some(mut offset) = chunks.get(chunk) else {
            break;
        };
        let chunk_number = chunk as u64 + 1;
        while stsc
            .get(stsc_index + 1)
            .is_some_and(|next| chunk_number >= u64::from(next.first_chunk))
        {
            stsc_index += 1;
        }
        let per_chunk = stsc.get(stsc_index).map_or(0, |e| e.samples_per_chunk);
        let description = stsc.get(stsc_index).map_or(0, |e| e.description);
        for first_in_chunk in (0..per_chunk).map(|j| j == 0) {
            let index = samples.len();
            if index >= sample_count {
                log::warn!(
                    "stsc and stco describe more samples than stsz's {sample_count}; the rest are ignored"
                );
                break 'chunks;
            }
            let sample_number = index as u64;
            let mut sync =
                !keyframe_absent && (stss_cursor.is_empty() || stss_cursor.contains(sample_number));
            if !sync && stps_cursor.contains(sample_number) {
                sync = true;
            }
            if keyframe_absent
                && stps_cursor.is_empty()
                && (is_audio || (chunk == 0 && first_in_chunk))
            {
                sync = true;
            }
            let Some(size) = sizes.get(index) else {
                return Err(malformed(
                    &boxes.stsz.or(boxes.stz2),
                    "stsz",
                    "sample size table ends early",
                ));
            };
            limits.check_sample_bytes(u64::from(size))?;
            if offset
                .checked_add(u64::from(size))
                .is_none_or(|end| end > i64::MAX as u64)
            {
                return Err(malformed(
                    &boxes.stco.or(boxes.co64),
                    "stco",
                    format!("sample {index} at byte offset {offset} with size {size} overflows"),
                ));
            }
            let delta = match stts.get(stts_index) {
                Some(entry) => entry.delta,
                None => stts.last().map_or(0, |e| e.delta),
            };
            let composition = match ctts.get(ctts_index) {
                Some(entry) => i64::from(entry.offset),
                None => 0,
            };
            samples.push(SampleInfo {
                offset,
                size,
                dts,
                pts: dts + composition,
                duration: delta,
                sync,
                presented: true,
                description,
            });
            offset += u64::from(size);
            dts = dts
                .checked_add(i64::from(delta))
                .filter(|&dts| dts <= MAX_TIME)
                .ok_or_else(|| malformed(&boxes.stts, "stts", "decode times pass 2^62 ticks"))?;
            let stts_run = stts.get(stts_index).map(|e| e.count);
            advance(&mut stts_index, &mut stts_used, stts_run);
            let ctts_run = ctts.get(ctts_index).map(|e| e.count);
            advance(&mut ctts_index, &mut ctts_used, ctts_run);
        }
    }
    if samples.len() < sample_count {
        log::warn!(
            "stsz lists {sample_count} samples but the chunks hold only {}",
            samples.len()
        );
    }
    table.samples = samples;
    Ok(())
}

/// Moves a run-length cursor one sample on (runs of zero samples were dropped at parse).
fn advance(index: &mut usize, used: &mut u32, count: Option<u32>) {
    let Some(count) = count else {
        return;
    };
    *used = used.saturating_add(1);
    if *used >= count {
        *index += 1;
        *used = 0;
    }
}

/// Sorted, de-duplicated sample numbers walked in step with the expansion.
struct SortedCursor {
    numbers: Vec<u64>,
    next: usize,
}

impl SortedCursor {
    fn new(list: Vec<u32>, key_off: u32) -> Self {
        let mut numbers: Vec<u64> = list
            .into_iter()
            .filter_map(|n| n.checked_sub(key_off))
            .map(u64::from)
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        SortedCursor { numbers, next: 0 }
    }

    fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// True if `sample` is listed; samples must be asked in increasing order.
    fn contains(&mut self, sample: u64) -> bool {
        while self.numbers.get(self.next).is_some_and(|&n| n < sample) {
            self.next += 1;
        }
        self.numbers.get(self.next) == Some(&sample)
    }
}

fn malformed(b: &Option<BoxRef<'_>>, name: &str, message: impl Into<String>) -> Error {
    let context = format!("{STBL}/{name}");
    match b {
        Some(b) => Error::malformed(Location::at(context, b.offset), message),
        None => Error::malformed(context, message),
    }
}

/// Time-to-sample (§ 8.6.1.2), with ffmpeg's repair of durations that are really
/// small negative numbers written as `u32`.
fn read_stts(b: &BoxRef<'_>) -> Result<Vec<SttsEntry>> {
    let mut r = b.reader("moov/trak/mdia/minf/stbl/stts");
    r.full_box()?;
    let count = r.u32()?;
    r.check_table("stts", count, 8)?;
    let mut entries = Vec::with_capacity(count as usize);
    // ffmpeg's max_stts_delta default: larger deltas are taken as negative corrections.
    const MAX_DELTA: u32 = u32::MAX - 48_000 * 10;
    let (mut current, mut corrected) = (0i128, 0i128);
    for _ in 0..count {
        let sample_count = r.u32()?;
        let mut delta = r.u32()?;
        // i128: a u32 count times a u32 delta, summed over entries, can pass i64.
        let n = i128::from(sample_count);
        if delta > MAX_DELTA {
            let magnitude = i128::from(i32::from_ne_bytes(delta.to_ne_bytes()));
            log::warn!("stts delta {delta} is too large; taken as 1");
            delta = 1;
            corrected += if magnitude < 0 { magnitude } else { 1 } * n;
        } else {
            corrected += i128::from(delta) * n;
        }
        current += i128::from(delta) * n;
        if current > corrected {
            let drift = (current - corrected) / n.max(1);
            let correction = if i128::from(delta) > drift {
                u32::try_from(drift).unwrap_or(0)
            } else {
                delta.saturating_sub(1)
            };
            current -= i128::from(correction) * n;
            delta -= correction;
        }
        if sample_count > 0 {
            entries.push(SttsEntry {
                count: sample_count,
                delta,
            });
        }
    }
    Ok(entries)
}

/// Composition offsets (§ 8.6.1.3). Version 0 offsets are read as signed, as ffmpeg
/// does, because writers put negative values there. Returns the entries and the
/// largest negative reach (`dts_shift`).
fn read_ctts(b: &BoxRef<'_>) -> Result<(Vec<CttsEntry>, i64)> {
    let mut r = b.reader("moov/trak/mdia/minf/stbl/ctts");
    r.full_box()?;
    let count = r.u32()?;
    r.check_table("ctts", count, 8)?;
    let mut entries = Vec::with_capacity(count as usize);
    let mut dts_shift = 0i64;
    for i in 0..count {
        let sample_count = r.i32()?;
        let offset = r.i32()?;
        if sample_count <= 0 {
            continue;
        }
        let not_last_two = u64::from(i) + 2 < u64::from(count);
        if offset.unsigned_abs() > 1 << 28 && not_last_two {
            log::warn!("ctts offset {offset} is implausible; composition offsets ignored");
            return Ok((Vec::new(), 0));
        }
        entries.push(CttsEntry {
            count: sample_count.unsigned_abs(),
            offset,
        });
        // ffmpeg ignores the last two entries here, which are often garbage.
        if offset < 0 && not_last_two {
            dts_shift = dts_shift.max(-i64::from(offset.max(i32::MIN + 1)));
        }
    }
    Ok((entries, dts_shift))
}

/// Sync (§ 8.6.2) or QuickTime partial-sync sample numbers.
fn read_sync_list(b: &BoxRef<'_>, name: &str) -> Result<Vec<u32>> {
    let mut r = b.reader(if name == "stps" {
        "moov/trak/mdia/minf/stbl/stps"
    } else {
        "moov/trak/mdia/minf/stbl/stss"
    });
    r.full_box()?;
    let count = r.u32()?;
    r.check_table(name, count, 4)?;
    (0..count).map(|_| r.u32()).collect()
}

/// Sample-to-chunk (§ 8.7.4). `first_chunk` must start at 1 or more and rise strictly.
fn read_stsc(b: &BoxRef<'_>) -> Result<Vec<StscEntry>> {
    let mut r = b.reader("moov/trak/mdia/minf/stbl/stsc");
    r.full_box()?;
    let count = r.u32()?;
    r.check_table("stsc", count, 12)?;
    let mut entries: Vec<StscEntry> = Vec::with_capacity(count as usize);
    for i in 0..count {
        let first_chunk = r.u32()?;
        let samples_per_chunk = r.u32()?;
        let sample_description_index = r.u32()?;
        let previous = entries.last().map_or(0, |e| e.first_chunk);
        if first_chunk == 0 || first_chunk <= previous {
            return Err(Error::malformed(
                Location::at(format!("{STBL}/stsc"), b.offset),
                format!("entry {i} has first_chunk {first_chunk}, not above the previous entry's {previous}"),
            ));
        }
        entries.push(StscEntry {
            first_chunk,
            samples_per_chunk,
            description: u16::try_from(sample_description_index.saturating_sub(1))
                .unwrap_or(u16::MAX),
        });
    }
    Ok(entries)
}

/// Sample sizes (§ 8.7.3.2).
fn read_stsz<'a>(b: &BoxRef<'a>) -> Result<(Sizes<'a>, u32)> {
    let mut r = b.reader("moov/trak/mdia/minf/stbl/stsz");
    r.full_box()?;
    let size = r.u32()?;
    let count = r.u32()?;
    if size != 0 {
        return Ok((Sizes::Constant(size), count));
    }
    r.check_table("stsz", count, 4)?;
    Ok((
        Sizes::Table {
            data: r.rest(),
            bits: 32,
        },
        count,
    ))
}

/// Compact sample sizes (§ 8.7.3.3).
fn read_stz2<'a>(b: &BoxRef<'a>) -> Result<(Sizes<'a>, u32)> {
    let mut r = b.reader("moov/trak/mdia/minf/stbl/stz2");
    r.full_box()?;
    r.skip(3)?;
    let bits = r.u8()?;
    let count = r.u32()?;
    if !matches!(bits, 4 | 8 | 16 | 32) {
        return Err(r.error(format!("stz2 field size {bits} is not 4, 8 or 16")));
    }
    let needed = (u64::from(count) * u64::from(bits)).div_ceil(8);
    if needed > r.remaining() as u64 {
        return Err(r.error(format!(
            "stz2 entry count {count} needs {needed} bytes but the box holds {}",
            r.remaining()
        )));
    }
    Ok((
        Sizes::Table {
            data: r.rest(),
            bits,
        },
        count,
    ))
}

/// Chunk offsets (§ 8.7.5), 32- or 64-bit.
fn read_chunk_offsets<'a>(b: &BoxRef<'a>, wide: bool) -> Result<ChunkOffsets<'a>> {
    let mut r = b.reader(if wide {
        "moov/trak/mdia/minf/stbl/co64"
    } else {
        "moov/trak/mdia/minf/stbl/stco"
    });
    r.full_box()?;
    let count = r.u32()?;
    r.check_table(
        if wide { "co64" } else { "stco" },
        count,
        if wide { 8 } else { 4 },
    )?;
    Ok(ChunkOffsets {
        data: r.rest(),
        wide,
        count: count as usize,
    })
}
