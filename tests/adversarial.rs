//! Boundedness: hostile files built in memory, each of which must come back quickly
//! (a typed error, or bounded work) without unbounded allocation.
//!
//! The tests run one at a time ([`alone`]), each measuring its work with [`measure`],
//! which records the peak of live heap bytes with a counting global allocator, so
//! each bound is checked on what the code really allocated. Times are wall-clock on an
//! unoptimised test build; the bounds are generous for a loaded 2-core machine, and
//! what each test measured is printed (`cargo test --test adversarial -- --nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use stillframe::{Asset, ErrorKind, GeneratorOptions, ImageGenerator, Limits, Time, Tolerance};
use stillframe_core::Demuxer;
use stillframe_mp4::Mp4Demuxer;

// ---- measuring ----------------------------------------------------------------------

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the counters
// only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grow(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            grow(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            grow(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

fn grow(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static SERIAL: Mutex<()> = Mutex::new(());

const MIB: usize = 1 << 20;

/// Taken by every test for its whole run: the heap counters are process-wide, so a
/// test building its input on another thread would count in this one's peak.
fn alone() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `work` and checks it took at most `max_time` and allocated at most
/// `max_heap` bytes beyond what was live when it started (its input included).
/// Call it while holding [`alone`].
fn measure<T>(name: &str, max_time: Duration, max_heap: usize, work: impl FnOnce() -> T) -> T {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let result = work();
    let elapsed = start.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    println!(
        "{name}: {:.3} s, peak heap {:.1} MiB",
        elapsed.as_secs_f64(),
        peak as f64 / MIB as f64
    );
    assert!(
        elapsed <= max_time,
        "{name} took {elapsed:?}, over {max_time:?}"
    );
    assert!(
        peak <= max_heap,
        "{name} allocated {} MiB, over {} MiB",
        peak / MIB,
        max_heap / MIB
    );
    result
}

fn kind<T>(result: &stillframe::Result<T>) -> Option<ErrorKind> {
    result.as_ref().err().map(|e| e.kind())
}

// ---- MP4 boxes ----------------------------------------------------------------------

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(&(body.len() as u32 + 8).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn full(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut out = vec![version];
    out.extend_from_slice(&flags.to_be_bytes()[1..]);
    out.extend_from_slice(body);
    bx(kind, &out)
}

fn be32(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

const ONE: u32 = 1 << 16;
const MATRIX: [u32; 9] = [ONE, 0, 0, 0, ONE, 0, 0, 0, 1 << 30];

fn avc1(width: u16, height: u16, avcc: &[u8]) -> Vec<u8> {
    let mut body = vec![0u8; 6];
    body.extend_from_slice(&1u16.to_be_bytes());
    body.extend_from_slice(&[0; 16]);
    body.extend_from_slice(&width.to_be_bytes());
    body.extend_from_slice(&height.to_be_bytes());
    body.extend(be32(&[0x0048_0000, 0x0048_0000, 0]));
    body.extend_from_slice(&1u16.to_be_bytes());
    body.extend_from_slice(&[0; 32]);
    body.extend_from_slice(&0x18u16.to_be_bytes());
    body.extend_from_slice(&(-1i16).to_be_bytes());
    body.extend(bx(b"avcC", avcc));
    bx(b"avc1", &body)
}

fn av01(width: u16, height: u16, av1c: &[u8]) -> Vec<u8> {
    let avc = avc1(width, height, &[]);
    // Same VisualSampleEntry, with the av1C in place of the (empty) avcC.
    let fixed = &avc[8..avc.len() - 8];
    bx(b"av01", &[fixed.to_vec(), bx(b"av1C", av1c)].concat())
}

/// A tiny but valid avcC (High, 64×48): what the sample tables below describe.
const AVCC: &[u8] = &[
    1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee,
];

/// A video `trak` of timescale 1000 with the given sample-table boxes (after `stsd`)
/// and an optional `edts`; its `tkhd` says 64×48.
fn trak(entry: &[u8], tables: &[Vec<u8>], edts: Option<Vec<u8>>) -> Vec<u8> {
    trak_sized(entry, tables, edts, (64, 48))
}

/// [`trak`] with the `tkhd` display size given (16.16 fixed point, whole pixels here).
fn trak_sized(
    entry: &[u8],
    tables: &[Vec<u8>],
    edts: Option<Vec<u8>>,
    (width, height): (u32, u32),
) -> Vec<u8> {
    let mut tkhd = be32(&[0, 0, 1, 0, 0, 0, 0]);
    tkhd.extend_from_slice(&[0; 8]);
    tkhd.extend(be32(&MATRIX));
    tkhd.extend(be32(&[width << 16, height << 16]));
    let mut trak = full(b"tkhd", 0, 3, &tkhd);
    if let Some(edts) = edts {
        trak.extend(edts);
    }
    let mut mdhd = be32(&[0, 0, 1000, 0]);
    mdhd.extend_from_slice(&[0x55, 0xc4, 0, 0]);
    let mut hdlr = be32(&[0]);
    hdlr.extend_from_slice(b"vide");
    hdlr.extend_from_slice(&[0; 12]);
    hdlr.extend_from_slice(b"video\0");
    let mut stbl = full(b"stsd", 0, 0, &[be32(&[1]), entry.to_vec()].concat());
    for table in tables {
        stbl.extend_from_slice(table);
    }
    let minf = bx(b"minf", &bx(b"stbl", &stbl));
    let mdia = [full(b"mdhd", 0, 0, &mdhd), full(b"hdlr", 0, 0, &hdlr), minf].concat();
    trak.extend(bx(b"mdia", &mdia));
    bx(b"trak", &trak)
}

fn moov(traks: &[Vec<u8>], extra: &[Vec<u8>]) -> Vec<u8> {
    let mut mvhd = be32(&[0, 0, 1000, 0, ONE]);
    mvhd.extend_from_slice(&[1, 0, 0, 0]);
    mvhd.extend_from_slice(&[0; 8]);
    mvhd.extend(be32(&MATRIX));
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend(be32(&[2]));
    let body = [
        vec![full(b"mvhd", 0, 0, &mvhd)],
        traks.to_vec(),
        extra.to_vec(),
    ]
    .concat()
    .concat();
    bx(b"moov", &body)
}

fn ftyp() -> Vec<u8> {
    bx(b"ftyp", b"isom\0\0\0\0")
}

/// A full box holding `count` (as declared) then `rows`.
fn table(kind: &[u8; 4], count: u32, rows: &[u32]) -> Vec<u8> {
    full(kind, 0, 0, &[be32(&[count]), be32(rows)].concat())
}

/// stts, stsc, stsz (constant size), stco for `count` samples of `size` bytes and one
/// tick each, all in one chunk at `offset`.
fn constant_tables(count: u32, size: u32, offset: u32) -> Vec<Vec<u8>> {
    vec![
        table(b"stts", 1, &[count, 1]),
        table(b"stsc", 1, &[1, count, 1]),
        full(b"stsz", 0, 0, &be32(&[size, count])),
        table(b"stco", 1, &[offset]),
    ]
}

fn open_mp4(file: Vec<u8>) -> stillframe::Result<Mp4Demuxer<Cursor<Vec<u8>>>> {
    Mp4Demuxer::open(Cursor::new(file), Limits::default())
}

/// A fragmented file's moov: one video track without samples of its own, and a
/// `trex` giving every fragment sample `default_size` bytes and one tick.
fn fragmented_moov(default_size: u32) -> Vec<u8> {
    let empty = vec![
        table(b"stts", 0, &[]),
        table(b"stsc", 0, &[]),
        full(b"stsz", 0, 0, &be32(&[0, 0])),
        table(b"stco", 0, &[]),
    ];
    let trex = full(b"trex", 0, 0, &be32(&[1, 1, 1, default_size, 0]));
    moov(
        &[trak(&avc1(64, 48, AVCC), &empty, None)],
        &[bx(b"mvex", &trex)],
    )
}

/// A `traf` for track 1 whose data starts at its `moof`, with `runs` as given.
fn traf(runs: &[Vec<u8>]) -> Vec<u8> {
    // tfhd flags 0x020000: default-base-is-moof.
    let tfhd = full(b"tfhd", 0, 0x02_0000, &be32(&[1]));
    bx(b"traf", &[vec![tfhd], runs.to_vec()].concat().concat())
}

/// A `trun` of `count` samples with every field a default.
fn bare_trun(count: u32) -> Vec<u8> {
    full(b"trun", 0, 0, &be32(&[count]))
}

// ---- MP4 ----------------------------------------------------------------------------

#[test]
fn a_million_tiny_fragments_open_in_bounded_time_and_memory() {
    let _alone = alone();
    // ftyp and moov count among the top-level boxes, bounded by max_entries too.
    let fragments = Limits::default().max_entries as usize - 2;
    let moof = bx(b"moof", &traf(&[bare_trun(1)]));
    let mut file = [ftyp(), fragmented_moov(1)].concat();
    file.reserve(moof.len() * (fragments + 1));
    for _ in 0..fragments {
        file.extend_from_slice(&moof);
    }
    let file_bytes = file.len();
    let demuxer = measure(
        "999,998 fragments of one sample",
        Duration::from_secs(60),
        file_bytes + 160 * MIB,
        || open_mp4(file.clone()),
    );
    let demuxer = demuxer.unwrap_or_else(|e| panic!("a million fragments: {e}"));
    assert_eq!(demuxer.samples(0).unwrap().len(), fragments);
    drop(demuxer);

    // One more is over the limit, refused before anything is indexed.
    file.extend_from_slice(&moof);
    let error = measure(
        "999,999 fragments (1,000,001 top-level boxes)",
        Duration::from_secs(60),
        file.len() + 64 * MIB,
        || open_mp4(file.clone()).map(|_| ()),
    );
    assert_eq!(kind(&error), Some(ErrorKind::Limit), "{error:?}");
}

#[test]
fn runs_of_default_samples_past_the_end_cost_nothing_per_sample() {
    let _alone = alone();
    // A trun costs 16 bytes whatever its count; 1000 of them declaring 19.9 million
    // 1 MiB samples each, all past the end of the file.
    let count = Limits::default().max_samples - 100_000;
    let runs: Vec<Vec<u8>> = (0..1000).map(|_| bare_trun(count)).collect();
    let file = [ftyp(), fragmented_moov(1 << 20), bx(b"moof", &traf(&runs))].concat();
    let demuxer = measure(
        "1000 truns of 19.9 million samples past the end",
        Duration::from_secs(10),
        16 * MIB,
        || open_mp4(file),
    );
    let demuxer = demuxer.unwrap_or_else(|e| panic!("{e}"));
    // The first sample of the first run starts inside the file; nothing else does.
    assert_eq!(demuxer.samples(0).unwrap().len(), 1);
}

#[test]
fn a_2_pow_32_entry_table_is_refused_before_allocating() {
    let _alone = alone();
    let entry = avc1(64, 48, AVCC);
    let base = constant_tables(3, 1, 0);
    for (name, broken) in [
        ("stts", table(b"stts", u32::MAX, &[1, 1])),
        ("stsc", table(b"stsc", u32::MAX, &[1, 1, 1])),
        ("stco", table(b"stco", u32::MAX, &[0])),
        ("stss", table(b"stss", u32::MAX, &[1])),
        ("ctts", table(b"ctts", u32::MAX, &[1, 0])),
        ("stsz", full(b"stsz", 0, 0, &be32(&[0, u32::MAX, 1]))),
    ] {
        let mut tables: Vec<Vec<u8>> = base
            .iter()
            .filter(|t| &t[4..8] != name.as_bytes())
            .cloned()
            .collect();
        tables.push(broken);
        let file = [ftyp(), moov(&[trak(&entry, &tables, None)], &[])].concat();
        let result = measure(
            &format!("{name} declaring 2^32-1 entries"),
            Duration::from_secs(2),
            MIB,
            || open_mp4(file).map(|_| ()),
        );
        assert_eq!(
            kind(&result),
            Some(ErrorKind::Malformed),
            "{name}: {result:?}"
        );
    }
}

#[test]
fn a_2_pow_32_sample_stts_entry_is_bounded_by_the_sample_table() {
    let _alone = alone();
    let entry = avc1(64, 48, AVCC);
    // One stts entry covering 2^32-1 samples over a table of three.
    let mut tables = constant_tables(3, 1, 0);
    tables[0] = table(b"stts", 1, &[u32::MAX, 1]);
    tables[1] = table(b"stsc", 1, &[1, u32::MAX, 1]);
    let file = [ftyp(), moov(&[trak(&entry, &tables, None)], &[])].concat();
    let demuxer = measure(
        "stts entry of 2^32-1 samples",
        Duration::from_secs(2),
        MIB,
        || open_mp4(file),
    );
    assert_eq!(demuxer.unwrap().samples(0).unwrap().len(), 3);

    // A constant-size stsz declaring 2^32-1 samples: over max_samples.
    let tables = constant_tables(u32::MAX, 1, 0);
    let file = [ftyp(), moov(&[trak(&entry, &tables, None)], &[])].concat();
    let result = measure(
        "stsz of 2^32-1 samples",
        Duration::from_secs(2),
        MIB,
        || open_mp4(file).map(|_| ()),
    );
    assert_eq!(kind(&result), Some(ErrorKind::Limit), "{result:?}");
}

#[test]
fn a_constant_size_table_costs_what_its_limit_allows() {
    let _alone = alone();
    // Nothing in a constant-size stsz costs bytes per sample, so a 400-byte file may
    // declare max_samples samples; the index then takes memory in proportion. With
    // a limit of one million the whole open stays under 160 bytes a sample.
    let limits = Limits {
        max_samples: 1_000_000,
        ..Limits::default()
    };
    let entry = avc1(64, 48, AVCC);
    let file = [
        ftyp(),
        moov(
            &[trak(&entry, &constant_tables(1_000_000, 1, 0), None)],
            &[],
        ),
    ]
    .concat();
    let opened = measure(
        "one million constant-size samples",
        Duration::from_secs(30),
        160 * 1_000_000,
        || {
            Mp4Demuxer::open(Cursor::new(file.clone()), limits)
                .map(|d| d.samples(0).map(<[_]>::len))
        },
    );
    assert_eq!(opened.unwrap().unwrap(), 1_000_000);
    let over = Limits {
        max_samples: 999_999,
        ..limits
    };
    let result = measure(
        "one sample over max_samples",
        Duration::from_secs(2),
        MIB,
        || Mp4Demuxer::open(Cursor::new(file), over).map(|_| ()),
    );
    assert_eq!(kind(&result), Some(ErrorKind::Limit), "{result:?}");
}

#[test]
fn sample_and_box_sizes_are_checked_before_reading() {
    let _alone = alone();
    let entry = avc1(64, 48, AVCC);
    // A sample table entry of 4 GiB: over max_sample_bytes, refused at open.
    let mut tables = constant_tables(2, 1, 0);
    tables[2] = full(b"stsz", 0, 0, &be32(&[0, 2, 1, u32::MAX]));
    let file = [ftyp(), moov(&[trak(&entry, &tables, None)], &[])].concat();
    let result = measure(
        "a 4 GiB sample in stsz",
        Duration::from_secs(2),
        MIB,
        || open_mp4(file).map(|_| ()),
    );
    assert_eq!(kind(&result), Some(ErrorKind::Limit), "{result:?}");

    // A fragment sample of 2 GiB.
    let trun = full(b"trun", 0, 0x200, &be32(&[1, 1 << 31]));
    let file = [ftyp(), fragmented_moov(1), bx(b"moof", &traf(&[trun]))].concat();
    let result = measure(
        "a 2 GiB fragment sample",
        Duration::from_secs(2),
        MIB,
        || open_mp4(file).map(|_| ()),
    );
    assert_eq!(kind(&result), Some(ErrorKind::Limit), "{result:?}");

    // A moov of 2^64-1 bytes (64-bit largesize) in a tiny file, and one of 300 MiB
    // that the file does hold... as far as its header says: neither is read.
    let mut huge = vec![0, 0, 0, 1];
    huge.extend_from_slice(b"moov");
    huge.extend_from_slice(&u64::MAX.to_be_bytes());
    let file = [ftyp(), huge].concat();
    let result = measure(
        "a moov of 2^64-1 bytes",
        Duration::from_secs(2),
        MIB,
        || open_mp4(file).map(|_| ()),
    );
    assert!(
        matches!(
            kind(&result),
            Some(ErrorKind::Truncated | ErrorKind::Malformed | ErrorKind::Limit)
        ),
        "{result:?}"
    );
    let mut big = vec![0, 0, 0, 1];
    big.extend_from_slice(b"moov");
    big.extend_from_slice(&(300u64 << 20).to_be_bytes());
    let file = [ftyp(), big].concat();
    let file_len = file.len() as u64;
    let limits = Limits {
        max_metadata_bytes: file_len,
        ..Limits::default()
    };
    let result = measure(
        "a moov over max_metadata_bytes",
        Duration::from_secs(2),
        MIB,
        || Mp4Demuxer::open(Cursor::new(file), limits).map(|_| ()),
    );
    assert!(result.is_err(), "{result:?}");

    // A Matroska frame over max_sample_bytes (lowered, so the file stays small): the
    // cluster holding it ends the index like a cut, and a request there says why.
    let frame = [vec![0x81, 0, 0, 0x80], vec![7u8; 5000]].concat();
    let cluster = ebml::element(
        ebml::CLUSTER,
        &[
            ebml::uint(ebml::TIMESTAMP, 0),
            ebml::element(ebml::SIMPLE_BLOCK, &frame),
        ]
        .concat(),
    );
    let file = ebml::file(&[ebml::info_and_tracks(), cluster].concat());
    let limits = Limits {
        max_sample_bytes: 4096,
        ..Limits::default()
    };
    let indexed = measure(
        "a Matroska frame over max_sample_bytes",
        Duration::from_secs(2),
        MIB,
        || index_mkv(file.clone(), limits),
    );
    assert!(
        matches!(indexed, Ok(0)) || kind(&indexed) == Some(ErrorKind::Limit),
        "{indexed:?}"
    );
    let options = GeneratorOptions {
        limits,
        ..GeneratorOptions::default()
    };
    let asset = open_mkv(file, limits).unwrap();
    let made = ImageGenerator::new(asset, options)
        .unwrap()
        .image_at(Time::ZERO);
    assert_eq!(kind(&made), Some(ErrorKind::Limit), "{made:?}");
}

/// An `edts` with `edits` entries of (duration, media time), in movie ticks.
fn edts(edits: &[(u32, i32)]) -> Vec<u8> {
    let rows: Vec<u32> = edits
        .iter()
        .flat_map(|&(duration, time)| [duration, time as u32, ONE])
        .collect();
    bx(b"edts", &table(b"elst", edits.len() as u32, &rows))
}

#[test]
fn a_million_edits_are_bounded() {
    let _alone = alone();
    let entry = avc1(64, 48, AVCC);
    // 1000 one-tick samples, every one sync; a million one-tick edits over them.
    let edits: Vec<(u32, i32)> = (0..1_000_000).map(|i| (1, i % 1000)).collect();
    let file = [
        ftyp(),
        moov(
            &[trak(
                &entry,
                &constant_tables(1000, 1, 0),
                Some(edts(&edits)),
            )],
            &[],
        ),
    ]
    .concat();
    let result = measure(
        "a million edits over 1000 samples",
        Duration::from_secs(60),
        200 * MIB,
        || open_mp4(file.clone()).map(|d| d.samples(0).map(<[_]>::len)),
    );
    match result {
        Ok(samples) => assert!(samples.unwrap() <= Limits::default().max_samples as usize),
        Err(error) => assert_eq!(error.kind(), ErrorKind::Limit, "{error}"),
    }
    // One more than max_entries is refused outright.
    let mut rows = edits;
    rows.push((1, 0));
    let file = [
        ftyp(),
        moov(
            &[trak(
                &entry,
                &constant_tables(1000, 1, 0),
                Some(edts(&rows)),
            )],
            &[],
        ),
    ]
    .concat();
    let result = measure("1,000,001 edits", Duration::from_secs(10), 64 * MIB, || {
        open_mp4(file).map(|_| ())
    });
    assert_eq!(kind(&result), Some(ErrorKind::Limit), "{result:?}");
}

#[test]
fn edits_whose_search_finds_no_start_do_not_rescan_the_track() {
    let _alone = alone();
    // Every sample sync, and a composition offset so large that no sync sample shows
    // before any edit's media time: each edit's search for its starting sample walks
    // the whole track back. 20,000 edits over 20,000 samples must not cost 20,000².
    let samples = 20_000u32;
    let entry = avc1(64, 48, AVCC);
    let mut tables = constant_tables(samples, 1, 0);
    tables.push(table(b"ctts", 1, &[samples, 1 << 28]));
    let edits: Vec<(u32, i32)> = (0..20_000).map(|_| (0, samples as i32 - 1)).collect();
    let file = [
        ftyp(),
        moov(&[trak(&entry, &tables, Some(edts(&edits)))], &[]),
    ]
    .concat();
    let result = measure(
        "20,000 edits each searching 20,000 samples",
        Duration::from_secs(20),
        64 * MIB,
        || open_mp4(file).map(|_| ()),
    );
    if let Err(error) = result {
        assert_eq!(error.kind(), ErrorKind::Limit, "{error}");
    }
}

// ---- Matroska -----------------------------------------------------------------------

mod ebml {
    pub const EBML: u32 = 0x1A45_DFA3;
    pub const DOC_TYPE: u32 = 0x4282;
    pub const SEGMENT: u32 = 0x1853_8067;
    pub const SEEK_HEAD: u32 = 0x114D_9B74;
    pub const SEEK: u32 = 0x4DBB;
    pub const SEEK_ID: u32 = 0x53AB;
    pub const SEEK_POSITION: u32 = 0x53AC;
    pub const INFO: u32 = 0x1549_A966;
    pub const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
    pub const TRACKS: u32 = 0x1654_AE6B;
    pub const TRACK_ENTRY: u32 = 0xAE;
    pub const TRACK_NUMBER: u32 = 0xD7;
    pub const TRACK_TYPE: u32 = 0x83;
    pub const CODEC_ID: u32 = 0x86;
    pub const VIDEO: u32 = 0xE0;
    pub const PIXEL_WIDTH: u32 = 0xB0;
    pub const PIXEL_HEIGHT: u32 = 0xBA;
    pub const CLUSTER: u32 = 0x1F43_B675;
    pub const TIMESTAMP: u32 = 0xE7;
    pub const SIMPLE_BLOCK: u32 = 0xA3;
    pub const CUES: u32 = 0x1C53_BB6B;
    pub const CUE_POINT: u32 = 0xBB;
    pub const CUE_TIME: u32 = 0xB3;
    pub const CUE_TRACK_POSITIONS: u32 = 0xB7;
    pub const CUE_TRACK: u32 = 0xF7;
    pub const CUE_CLUSTER_POSITION: u32 = 0xF1;

    fn id_bytes(id: u32) -> Vec<u8> {
        let bytes = id.to_be_bytes();
        let skip = bytes.iter().position(|&b| b != 0).unwrap_or(3);
        bytes[skip..].to_vec()
    }

    /// An element with an 8-byte size field.
    pub fn element(id: u32, body: &[u8]) -> Vec<u8> {
        let mut out = id_bytes(id);
        out.push(0x01);
        out.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
        out.extend_from_slice(body);
        out
    }

    /// An element with a 1-byte size field (bodies under 127 bytes).
    pub fn small(id: u32, body: &[u8]) -> Vec<u8> {
        let mut out = id_bytes(id);
        out.push(0x80 | body.len() as u8);
        out.extend_from_slice(body);
        out
    }

    pub fn uint(id: u32, value: u64) -> Vec<u8> {
        element(id, &value.to_be_bytes())
    }

    pub fn header(doc_type: &str) -> Vec<u8> {
        element(EBML, &element(DOC_TYPE, doc_type.as_bytes()))
    }

    /// Info and a Tracks with one H.264 video track numbered 1.
    pub fn info_and_tracks() -> Vec<u8> {
        let video = [
            uint(TRACK_NUMBER, 1),
            uint(TRACK_TYPE, 1),
            element(CODEC_ID, b"V_MPEG4/ISO/AVC"),
            element(
                VIDEO,
                &[uint(PIXEL_WIDTH, 64), uint(PIXEL_HEIGHT, 48)].concat(),
            ),
        ]
        .concat();
        [
            element(INFO, &uint(TIMESTAMP_SCALE, 1_000_000)),
            element(TRACKS, &element(TRACK_ENTRY, &video)),
        ]
        .concat()
    }

    /// EBML header and a Segment of known size holding `children`.
    pub fn file(children: &[u8]) -> Vec<u8> {
        [header("matroska"), element(SEGMENT, children)].concat()
    }

    /// A Seek entry naming `id` at `position` (relative to the Segment's data).
    pub fn seek(id: u32, position: u64) -> Vec<u8> {
        element(
            SEEK,
            &[
                element(SEEK_ID, &id_bytes(id)),
                uint(SEEK_POSITION, position),
            ]
            .concat(),
        )
    }
}

fn open_mkv(file: Vec<u8>, limits: Limits) -> stillframe::Result<Asset> {
    Asset::from_reader_with_limits(Cursor::new(file), limits)
}

/// Opens `file` and indexes all of it; returns the video track's sample count.
fn index_mkv(file: Vec<u8>, limits: Limits) -> stillframe::Result<usize> {
    let mut asset = open_mkv(file, limits)?;
    asset.index_fully()?;
    Ok(asset.samples(0)?.len())
}

/// A SimpleBlock of track 1 with fixed lacing: 256 frames of zero bytes in 7 bytes.
fn laced_block() -> Vec<u8> {
    // Track 1, relative timestamp 0, keyframe + fixed lacing, 255 + 1 frames.
    ebml::small(ebml::SIMPLE_BLOCK, &[0x81, 0, 0, 0x84, 0xFF])
}

#[test]
fn a_huge_lacing_count_is_bounded_per_cluster() {
    let _alone = alone();
    // 100,000 blocks of 256 laced frames: 25.6 million frames from 700 KB.
    let blocks: Vec<u8> = (0..100_000).flat_map(|_| laced_block()).collect();
    let cluster = ebml::element(
        ebml::CLUSTER,
        &[ebml::uint(ebml::TIMESTAMP, 0), blocks].concat(),
    );
    let file = ebml::file(&[ebml::info_and_tracks(), cluster].concat());
    let result = measure(
        "a cluster of 25.6 million laced frames",
        Duration::from_secs(30),
        160 * MIB,
        || index_mkv(file, Limits::default()),
    );
    match result {
        Ok(frames) => assert!(frames <= Limits::default().max_samples as usize),
        Err(error) => assert_eq!(error.kind(), ErrorKind::Limit, "{error}"),
    }
}

#[test]
fn laced_frames_across_clusters_stop_at_max_samples() {
    let _alone = alone();
    // 4000 clusters of 1000 blocks of 256 frames: 1.02 billion frames from 28 MB.
    // max_samples is lowered so the test measures the per-sample cost quickly.
    let limits = Limits {
        max_samples: 1_000_000,
        ..Limits::default()
    };
    let blocks: Vec<u8> = (0..1000).flat_map(|_| laced_block()).collect();
    let cluster = ebml::element(
        ebml::CLUSTER,
        &[ebml::uint(ebml::TIMESTAMP, 0), blocks].concat(),
    );
    let clusters: Vec<u8> = (0..4000).flat_map(|_| cluster.clone()).collect();
    let file = ebml::file(&[ebml::info_and_tracks(), clusters].concat());
    let file_bytes = file.len();
    let result = measure(
        "4000 clusters of 256,000 laced frames",
        Duration::from_secs(60),
        file_bytes + 200 * MIB,
        || index_mkv(file, limits),
    );
    match result {
        Ok(frames) => assert!(frames <= 1_000_000),
        Err(error) => assert_eq!(error.kind(), ErrorKind::Limit, "{error}"),
    }
}

#[test]
fn chained_and_self_referencing_seek_heads_are_followed_a_bounded_number_of_times() {
    let _alone = alone();
    // 10,000 SeekHeads, each pointing at the next and at itself, and the last one
    // back at the first: following them all would be a loop.
    let count = 10_000u64;
    let base = ebml::info_and_tracks().len() as u64;
    let entry_bytes = ebml::element(
        ebml::SEEK_HEAD,
        &[
            ebml::seek(ebml::SEEK_HEAD, 0),
            ebml::seek(ebml::SEEK_HEAD, 0),
        ]
        .concat(),
    )
    .len() as u64;
    let heads: Vec<u8> = (0..count)
        .flat_map(|i| {
            let next = base + ((i + 1) % count) * entry_bytes;
            ebml::element(
                ebml::SEEK_HEAD,
                &[
                    ebml::seek(ebml::SEEK_HEAD, next),
                    ebml::seek(ebml::SEEK_HEAD, base + i * entry_bytes),
                ]
                .concat(),
            )
        })
        .collect();
    let file = ebml::file(&[ebml::info_and_tracks(), heads].concat());
    let result = measure(
        "10,000 chained SeekHeads",
        Duration::from_secs(10),
        32 * MIB,
        || open_mkv(file, Limits::default()).map(|_| ()),
    );
    // The walk reaches Tracks after the SeekHeads either way.
    result.unwrap_or_else(|e| panic!("{e}"));

    // One SeekHead of 200,000 entries, every one pointing at a SeekHead.
    let entries: Vec<u8> = (0..200_000u64)
        .flat_map(|i| ebml::seek(ebml::SEEK_HEAD, i % 1000))
        .collect();
    let file = ebml::file(
        &[
            ebml::info_and_tracks(),
            ebml::element(ebml::SEEK_HEAD, &entries),
        ]
        .concat(),
    );
    let result = measure(
        "a SeekHead of 200,000 SeekHead entries",
        Duration::from_secs(20),
        96 * MIB,
        || open_mkv(file, Limits::default()).map(|_| ()),
    );
    result.unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn huge_ebml_sizes_are_refused_without_allocating() {
    let _alone = alone();
    // Tracks claiming 2^56-2 bytes, and a Cues of a million and one cue points.
    let mut huge_tracks = vec![0x16, 0x54, 0xAE, 0x6B, 0x01];
    huge_tracks.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]);
    let file = [
        ebml::header("matroska"),
        ebml::element(ebml::SEGMENT, &huge_tracks),
    ]
    .concat();
    let result = measure("Tracks of 2^56 bytes", Duration::from_secs(2), MIB, || {
        open_mkv(file, Limits::default()).map(|_| ())
    });
    assert!(result.is_err());

    let point = ebml::element(
        ebml::CUE_POINT,
        &[
            ebml::uint(ebml::CUE_TIME, 0),
            ebml::element(
                ebml::CUE_TRACK_POSITIONS,
                &[
                    ebml::uint(ebml::CUE_TRACK, 1),
                    ebml::uint(ebml::CUE_CLUSTER_POSITION, 0),
                ]
                .concat(),
            ),
        ]
        .concat(),
    );
    let points = Limits::default().max_entries as usize + 1;
    let cues = ebml::element(ebml::CUES, &point.repeat(points));
    let file = ebml::file(&[ebml::info_and_tracks(), cues].concat());
    let file_bytes = file.len();
    let result = measure(
        "1,000,001 cue points",
        Duration::from_secs(60),
        2 * file_bytes + 64 * MIB,
        || open_mkv(file, Limits::default()).map(|_| ()),
    );
    // Cues are only a shortcut: past the limit they are dropped, not fatal.
    if let Err(error) = result {
        assert_eq!(error.kind(), ErrorKind::Limit, "{error}");
    }
}

// ---- extreme frame dimensions ---------------------------------------------------------

/// Writes bits most significant first, with Exp-Golomb codes (H.264 § 9.1).
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    fn bit(&mut self, bit: bool) {
        if self.used.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if bit {
            let last = self.bytes.len() - 1;
            self.bytes[last] |= 0x80 >> (self.used % 8);
        }
        self.used += 1;
    }

    fn bits(&mut self, value: u64, count: u32) {
        for i in (0..count).rev() {
            self.bit(value >> i & 1 == 1);
        }
    }

    fn ue(&mut self, value: u32) {
        let coded = u64::from(value) + 1;
        let length = 64 - coded.leading_zeros();
        self.bits(0, length - 1);
        self.bits(coded, length);
    }

    fn align_zero(&mut self) {
        while !self.used.is_multiple_of(8) {
            self.bit(false);
        }
    }

    /// rbsp_trailing_bits, then emulation prevention (§ 7.4.1), with the NAL header.
    fn nal(mut self, header: u8) -> Vec<u8> {
        self.bit(true);
        self.align_zero();
        let mut out = vec![header];
        let mut zeros = 0;
        for byte in self.bytes {
            if zeros >= 2 && byte <= 3 {
                out.push(3);
                zeros = 0;
            }
            zeros = if byte == 0 { zeros + 1 } else { 0 };
            out.push(byte);
        }
        out
    }
}

/// SPS, PPS and an IDR of I_PCM macroblocks for a Baseline picture one macroblock
/// wide and `rows` tall, cropped to 2 × (16·rows − 2): with `rows` 1024 the
/// narrowest, tallest picture H.264 4:2:0 allows (no level admits more than 1024
/// macroblocks a side), built without an encoder.
fn tall_h264(rows: u32) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut sps = Bits::default();
    sps.bits(66, 8); // profile_idc: Baseline
    sps.bits(0xC0, 8); // constraint_set0/1
    sps.bits(52, 8); // level_idc 5.2
    sps.ue(0); // seq_parameter_set_id
    sps.ue(0); // log2_max_frame_num_minus4
    sps.ue(2); // pic_order_cnt_type
    sps.ue(1); // max_num_ref_frames
    sps.bit(false); // gaps_in_frame_num_value_allowed_flag
    sps.ue(0); // pic_width_in_mbs_minus1
    sps.ue(rows - 1); // pic_height_in_map_units_minus1
    sps.bit(true); // frame_mbs_only_flag
    sps.bit(true); // direct_8x8_inference_flag
    sps.bit(true); // frame_cropping_flag: 2-pixel units
    sps.ue(0);
    sps.ue(7); // right: 16 − 14 = 2 wide
    sps.ue(0);
    sps.ue(1); // bottom: 2 rows off
    sps.bit(false); // vui_parameters_present_flag
    let mut pps = Bits::default();
    pps.ue(0); // pic_parameter_set_id
    pps.ue(0); // seq_parameter_set_id
    pps.bit(false); // entropy_coding_mode_flag: CAVLC
    pps.bit(false); // bottom_field_pic_order_in_frame_present_flag
    pps.ue(0); // num_slice_groups_minus1
    pps.ue(0); // num_ref_idx_l0_default_active_minus1
    pps.ue(0); // num_ref_idx_l1_default_active_minus1
    pps.bit(false); // weighted_pred_flag
    pps.bits(0, 2); // weighted_bipred_idc
    pps.ue(0); // pic_init_qp_minus26 (se 0)
    pps.ue(0); // pic_init_qs_minus26
    pps.ue(0); // chroma_qp_index_offset
    pps.bit(true); // deblocking_filter_control_present_flag
    pps.bit(false); // constrained_intra_pred_flag
    pps.bit(false); // redundant_pic_cnt_present_flag
    let mut slice = Bits::default();
    slice.ue(0); // first_mb_in_slice
    slice.ue(7); // slice_type: I, all slices
    slice.ue(0); // pic_parameter_set_id
    slice.bits(0, 4); // frame_num
    slice.ue(0); // idr_pic_id
    slice.bit(false); // no_output_of_prior_pics_flag
    slice.bit(false); // long_term_reference_flag
    slice.ue(0); // slice_qp_delta (se 0)
    slice.ue(1); // disable_deblocking_filter_idc
    for row in 0..rows {
        slice.ue(25); // mb_type I_PCM
        slice.align_zero();
        // A vertical gradient, so the picture is not flat; never 0..=3.
        let luma = 16 + (row % 200) as u8;
        slice.bytes.extend(std::iter::repeat_n(luma, 256));
        slice.bytes.extend(std::iter::repeat_n(128u8, 128));
        slice.used += 384 * 8;
    }
    (sps.nal(0x67), pps.nal(0x68), slice.nal(0x65))
}

fn avcc(sps: &[u8], pps: &[u8]) -> Vec<u8> {
    let mut out = vec![1, sps[1], sps[2], sps[3], 0xFF, 0xE1];
    out.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    out.extend_from_slice(sps);
    out.push(1);
    out.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    out.extend_from_slice(pps);
    out
}

#[test]
fn a_2_by_8686_h264_picture_decodes_and_renders_in_bounded_time() {
    let _alone = alone();
    // 543 macroblock rows: the most OpenH264 takes (level 5.2 allows sqrt(8 × 36864)
    // a side; our SPS parser allows up to 1024, which OpenH264 then refuses).
    const ROWS: u32 = 543;
    const HEIGHT: u32 = 16 * ROWS - 2;
    let (sps, pps, idr) = tall_h264(ROWS);
    let mut sample = (idr.len() as u32).to_be_bytes().to_vec();
    sample.extend_from_slice(&idr);
    let header = [ftyp(), bx(b"mdat", &sample)].concat();
    let tables = constant_tables(
        1,
        sample.len() as u32,
        header.len() as u32 - sample.len() as u32,
    );
    let entry = avc1(2, HEIGHT as u16, &avcc(&sps, &pps));
    let square = trak_sized(&entry, &tables, None, (2, HEIGHT));
    let file = [header.clone(), moov(&[square], &[])].concat();

    let info = Asset::from_reader(Cursor::new(file.clone())).unwrap();
    let format = info.info().tracks[0].format.clone().unwrap();
    assert_eq!((format.width, format.height), (2, HEIGHT));
    for maximum_size in [(0, 0), (100, 100), (1, 0)] {
        let options = GeneratorOptions {
            tolerance: Tolerance::ZERO,
            maximum_size: stillframe::MaximumSize {
                width: maximum_size.0,
                height: maximum_size.1,
            },
            ..GeneratorOptions::default()
        };
        let made = measure(
            &format!("2×{HEIGHT} H.264 picture, maximum size {maximum_size:?}"),
            Duration::from_secs(30),
            96 * MIB,
            || {
                let asset = Asset::from_reader(Cursor::new(file.clone()))?;
                ImageGenerator::new(asset, options)?.image_at(Time::ZERO)
            },
        );
        // OpenH264 may refuse the picture (a typed error) or decode it; either way
        // the answer came back in bounded time and memory.
        match made {
            Ok(made) => {
                let (width, height) = (made.image.width(), made.image.height());
                match maximum_size {
                    (0, 0) => assert_eq!((width, height), (2, HEIGHT)),
                    (w, h) => assert!((w == 0 || width <= w) && (h == 0 || height <= h)),
                }
            }
            Err(error) => println!("  refused: {error}"),
        }
    }

    // The same picture in a track whose tkhd says 65535×1: the pixel aspect ffmpeg
    // derives from that (284 million to one) would stretch it to 569 million × 8686.
    let stretched = trak_sized(&entry, &tables, None, (65535, 1));
    let file = [header, moov(&[stretched], &[])].concat();
    for maximum_size in [(0, 0), (320, 240)] {
        let options = GeneratorOptions {
            tolerance: Tolerance::ZERO,
            maximum_size: stillframe::MaximumSize {
                width: maximum_size.0,
                height: maximum_size.1,
            },
            ..GeneratorOptions::default()
        };
        let made = measure(
            &format!(
                "2×{HEIGHT} picture at 284,000,000:1 pixel aspect, maximum size {maximum_size:?}"
            ),
            Duration::from_secs(30),
            96 * MIB,
            || {
                let asset = Asset::from_reader(Cursor::new(file.clone()))?;
                ImageGenerator::new(asset, options)?.image_at(Time::ZERO)
            },
        );
        match (maximum_size, made) {
            ((0, 0), made) => assert_eq!(kind(&made), Some(ErrorKind::Limit), "{made:?}"),
            (_, Ok(made)) => assert!(made.image.width() <= 320 && made.image.height() <= 240),
            (_, Err(error)) => panic!("a bounded image was refused: {error}"),
        }
    }
}

#[test]
fn a_1_by_65535_av1_sequence_header_is_described_and_bounded() {
    let _alone = alone();
    // Sequence header OBU (AV1 § 5.5): profile 0, reduced still picture header,
    // frame_width_bits 1 and frame_height_bits 16, max size 1 × 65535.
    let mut header = Bits::default();
    header.bits(0, 3); // seq_profile
    header.bit(true); // still_picture
    header.bit(true); // reduced_still_picture_header
    header.bits(31, 5); // seq_level_idx[0]
    header.bits(0, 4); // frame_width_bits_minus_1
    header.bits(15, 4); // frame_height_bits_minus_1
    header.bits(0, 1); // max_frame_width_minus_1
    header.bits(65534, 16); // max_frame_height_minus_1
    header.bit(false); // use_128x128_superblock
    header.bit(false); // enable_filter_intra
    header.bit(false); // enable_intra_edge_filter
    header.bit(false); // enable_superres
    header.bit(false); // enable_cdef
    header.bit(false); // enable_restoration
    header.bit(false); // high_bitdepth
    header.bit(false); // mono_chrome
    header.bit(false); // color_description_present_flag
    header.bit(false); // color_range
    header.bits(0, 2); // chroma_sample_position
    header.bit(false); // separate_uv_delta_q
    header.bit(false); // film_grain_params_present
    header.bit(true); // trailing one bit
    header.align_zero();
    let payload = header.bytes;
    let mut obu = vec![0x0A, payload.len() as u8];
    obu.extend_from_slice(&payload);
    let mut av1c = vec![0x81, 31, 0b0000_1100, 0];
    av1c.extend_from_slice(&obu);
    // One garbage temporal unit (a temporal delimiter, then junk) in an MP4 track.
    let sample = vec![0x12, 0x00, 0x32, 0x0A, 0xFF, 0xFF, 0x00, 0x13, 0x37];
    let header = [ftyp(), bx(b"mdat", &sample)].concat();
    let tables = constant_tables(
        1,
        sample.len() as u32,
        header.len() as u32 - sample.len() as u32,
    );
    let entry = av01(1, 65535, &av1c);
    let file = [header, moov(&[trak(&entry, &tables, None)], &[])].concat();

    let asset = Asset::from_reader(Cursor::new(file.clone())).unwrap();
    let format = asset.info().tracks[0].format.clone().unwrap();
    assert_eq!((format.width, format.height), (1, 65535));
    let made = measure(
        "1×65535 AV1 stream of garbage",
        Duration::from_secs(20),
        64 * MIB,
        || ImageGenerator::new(asset, GeneratorOptions::default())?.image_at(Time::ZERO),
    );
    assert!(made.is_err(), "garbage made a picture");
    // A limit below 65,535 pixels refuses the stream before any decoding.
    let strict = Limits {
        max_pixels: 65_534,
        ..Limits::default()
    };
    let asset = Asset::from_reader_with_limits(Cursor::new(file), strict).unwrap();
    assert!(asset.info().tracks[0].format.is_none());
    let options = GeneratorOptions {
        limits: strict,
        ..GeneratorOptions::default()
    };
    let refused = ImageGenerator::new(asset, options)
        .unwrap()
        .image_at(Time::ZERO);
    assert_eq!(kind(&refused), Some(ErrorKind::Limit), "{refused:?}");
}
