//! Unit tests over small files built in memory, box by box.

#![allow(clippy::panic, reason = "a failed test panics")]

use std::io::Cursor;

use stillframe_core::{Codec, ContainerKind, Demuxer, ErrorKind, Limits, SampleInfo, TrackKind};

use crate::Mp4Demuxer;

// ---- box writing -----------------------------------------------------------------

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(body.len() + 8);
    v.extend_from_slice(&(body.len() as u32 + 8).to_be_bytes());
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

fn full(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = vec![version];
    b.extend_from_slice(&flags.to_be_bytes()[1..]);
    b.extend_from_slice(body);
    bx(kind, &b)
}

fn be32(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn table(kind: &[u8; 4], version: u8, rows: &[&[u32]]) -> Vec<u8> {
    let mut body = be32(&[rows.len() as u32]);
    for row in rows {
        body.extend(be32(row));
    }
    full(kind, version, 0, &body)
}

const ONE: i32 = 1 << 16;
const IDENTITY: [i32; 9] = [ONE, 0, 0, 0, ONE, 0, 0, 0, 1 << 30];
/// ftyp (16 bytes) then the mdat header: sample data starts here.
const MDAT_DATA: u64 = 24;

fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
    let mut body = brand.to_vec();
    body.extend_from_slice(&[0; 4]);
    bx(b"ftyp", &body)
}

/// A VisualSampleEntry (§ 12.1.3) with child boxes.
fn visual_entry(kind: &[u8; 4], width: u16, height: u16, children: &[Vec<u8>]) -> Vec<u8> {
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
    for child in children {
        body.extend_from_slice(child);
    }
    bx(kind, &body)
}

const AVCC: &[u8] = &[
    1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee,
];

enum Sizes {
    Table(Vec<u32>),
    Constant(u32, u32),
    Compact(u8, Vec<u32>),
    /// Raw stsz box body, for broken tables.
    Raw(Vec<u8>),
}

struct Track {
    id: u32,
    handler: [u8; 4],
    timescale: u32,
    entry: Vec<u8>,
    matrix: [i32; 9],
    stts: Vec<(u32, u32)>,
    ctts: Option<(u8, Vec<(u32, i32)>)>,
    stss: Option<Vec<u32>>,
    stsc: Vec<(u32, u32)>,
    sizes: Sizes,
    chunks: Vec<u64>,
    co64: bool,
    edits: Vec<(u32, i32)>,
}

impl Track {
    /// A video track of `sizes.len()` samples of `delta` ticks, `per_chunk` samples
    /// per chunk, laid out one after another from the start of the mdat data.
    fn video(sizes: &[u32], delta: u32, per_chunk: u32) -> Track {
        let mut chunks = Vec::new();
        let mut offset = MDAT_DATA;
        for (i, size) in sizes.iter().enumerate() {
            if (i as u32).is_multiple_of(per_chunk) {
                chunks.push(offset);
            }
            offset += u64::from(*size);
        }
        Track {
            id: 1,
            handler: *b"vide",
            timescale: 1000,
            entry: visual_entry(b"avc1", 64, 48, &[bx(b"avcC", AVCC)]),
            matrix: IDENTITY,
            stts: vec![(sizes.len() as u32, delta)],
            ctts: None,
            stss: None,
            stsc: vec![(1, per_chunk)],
            sizes: Sizes::Table(sizes.to_vec()),
            chunks,
            co64: false,
            edits: Vec::new(),
        }
    }

    fn trak(&self) -> Vec<u8> {
        let mut tkhd = be32(&[0, 0, self.id, 0, 0, 0, 0]);
        tkhd.extend_from_slice(&[0; 8]);
        tkhd.extend(self.matrix.iter().flat_map(|v| v.to_be_bytes()));
        tkhd.extend(be32(&[64 << 16, 48 << 16]));
        let tkhd = full(b"tkhd", 0, 3, &tkhd);
        let mut mdhd = be32(&[0, 0, self.timescale, 0]);
        mdhd.extend_from_slice(&[0x55, 0xc4, 0, 0]);
        let mdhd = full(b"mdhd", 0, 0, &mdhd);
        let mut hdlr = be32(&[0]);
        hdlr.extend_from_slice(&self.handler);
        hdlr.extend_from_slice(&[0; 12]);
        hdlr.extend_from_slice(b"handler\0");
        let hdlr = full(b"hdlr", 0, 0, &hdlr);

        let mut stsd_body = be32(&[1]);
        stsd_body.extend_from_slice(&self.entry);
        let mut stbl = full(b"stsd", 0, 0, &stsd_body);
        let stts: Vec<[u32; 2]> = self.stts.iter().map(|&(c, d)| [c, d]).collect();
        stbl.extend(table(
            b"stts",
            0,
            &stts.iter().map(|r| &r[..]).collect::<Vec<_>>(),
        ));
        if let Some((version, rows)) = &self.ctts {
            let rows: Vec<[u32; 2]> = rows.iter().map(|&(c, o)| [c, o as u32]).collect();
            stbl.extend(table(
                b"ctts",
                *version,
                &rows.iter().map(|r| &r[..]).collect::<Vec<_>>(),
            ));
        }
        if let Some(stss) = &self.stss {
            let rows: Vec<[u32; 1]> = stss.iter().map(|&n| [n]).collect();
            stbl.extend(table(
                b"stss",
                0,
                &rows.iter().map(|r| &r[..]).collect::<Vec<_>>(),
            ));
        }
        let stsc: Vec<[u32; 3]> = self.stsc.iter().map(|&(f, n)| [f, n, 1]).collect();
        stbl.extend(table(
            b"stsc",
            0,
            &stsc.iter().map(|r| &r[..]).collect::<Vec<_>>(),
        ));
        stbl.extend(match &self.sizes {
            Sizes::Table(sizes) => {
                let mut body = be32(&[0, sizes.len() as u32]);
                body.extend(be32(sizes));
                full(b"stsz", 0, 0, &body)
            }
            Sizes::Constant(size, count) => full(b"stsz", 0, 0, &be32(&[*size, *count])),
            Sizes::Compact(bits, sizes) => {
                let mut body = vec![0, 0, 0, *bits];
                body.extend(be32(&[sizes.len() as u32]));
                match bits {
                    4 => body.extend(
                        sizes
                            .chunks(2)
                            .map(|p| (p[0] << 4 | p.get(1).copied().unwrap_or(0)) as u8),
                    ),
                    8 => body.extend(sizes.iter().map(|&s| s as u8)),
                    _ => body.extend(sizes.iter().flat_map(|&s| (s as u16).to_be_bytes())),
                }
                full(b"stz2", 0, 0, &body)
            }
            Sizes::Raw(body) => full(b"stsz", 0, 0, body),
        });
        if self.co64 {
            let mut body = be32(&[self.chunks.len() as u32]);
            body.extend(self.chunks.iter().flat_map(|c| c.to_be_bytes()));
            stbl.extend(full(b"co64", 0, 0, &body));
        } else {
            let rows: Vec<[u32; 1]> = self.chunks.iter().map(|&c| [c as u32]).collect();
            stbl.extend(table(
                b"stco",
                0,
                &rows.iter().map(|r| &r[..]).collect::<Vec<_>>(),
            ));
        }
        let minf = bx(b"minf", &bx(b"stbl", &stbl));
        let mut mdia = mdhd;
        mdia.extend(hdlr);
        mdia.extend(minf);
        let mut trak = tkhd;
        if !self.edits.is_empty() {
            let rows: Vec<[u32; 3]> = self
                .edits
                .iter()
                .map(|&(d, t)| [d, t as u32, 1 << 16])
                .collect();
            trak.extend(bx(
                b"edts",
                &table(b"elst", 0, &rows.iter().map(|r| &r[..]).collect::<Vec<_>>()),
            ));
        }
        trak.extend(bx(b"mdia", &mdia));
        bx(b"trak", &trak)
    }
}

fn moov(movie_timescale: u32, tracks: &[Track], extra: &[Vec<u8>]) -> Vec<u8> {
    let mut mvhd = be32(&[0, 0, movie_timescale, 0, 1 << 16]);
    mvhd.extend_from_slice(&[1, 0, 0, 0]);
    mvhd.extend_from_slice(&[0; 8]);
    mvhd.extend(IDENTITY.iter().flat_map(|v| v.to_be_bytes()));
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend(be32(&[2]));
    let mut body = full(b"mvhd", 0, 0, &mvhd);
    for track in tracks {
        body.extend(track.trak());
    }
    for b in extra {
        body.extend_from_slice(b);
    }
    bx(b"moov", &body)
}

/// ftyp, an mdat whose sample `i` is `size` bytes of value `i`, then the moov.
fn file_with(brand: &[u8; 4], sizes: &[u32], moov: Vec<u8>) -> Vec<u8> {
    let mut data = Vec::new();
    for (i, &size) in sizes.iter().enumerate() {
        data.extend(std::iter::repeat_n(i as u8, size as usize));
    }
    let mut file = ftyp(brand);
    file.extend(bx(b"mdat", &data));
    file.extend(moov);
    file
}

fn open(bytes: Vec<u8>) -> stillframe_core::Result<Mp4Demuxer<Cursor<Vec<u8>>>> {
    Mp4Demuxer::open(Cursor::new(bytes), Limits::default())
}

fn open_track(track: Track, sizes: &[u32]) -> Mp4Demuxer<Cursor<Vec<u8>>> {
    let file = file_with(b"isom", sizes, moov(1000, &[track], &[]));
    match open(file) {
        Ok(demuxer) => demuxer,
        Err(error) => panic!("open failed: {error}"),
    }
}

fn samples(demuxer: &Mp4Demuxer<Cursor<Vec<u8>>>) -> Vec<SampleInfo> {
    demuxer
        .samples(0)
        .map(<[SampleInfo]>::to_vec)
        .unwrap_or_default()
}

fn kind_of<T>(result: stillframe_core::Result<T>) -> Option<ErrorKind> {
    result.err().map(|e| e.kind())
}

// ---- sample tables ---------------------------------------------------------------

#[test]
fn expands_stts_ctts_stsc_and_stco() {
    let sizes = [10, 11, 12, 13, 14];
    let mut track = Track::video(&sizes, 0, 2);
    track.stts = vec![(2, 100), (3, 50)];
    // Version 1, with a negative offset that is neither of the last two entries.
    track.ctts = Some((1, vec![(1, 100), (1, -50), (1, 0), (2, 25)]));
    track.stss = Some(vec![1, 4]);
    // Chunks of 2, then 1 from chunk 2 on: chunks hold 2, 1, 1, 1 samples.
    track.stsc = vec![(1, 2), (2, 1)];
    track.chunks = vec![MDAT_DATA, MDAT_DATA + 21, MDAT_DATA + 33, MDAT_DATA + 46];
    let demuxer = open_track(track, &sizes);
    let s = samples(&demuxer);
    let offsets: Vec<u64> = s.iter().map(|s| s.offset - MDAT_DATA).collect();
    assert_eq!(offsets, [0, 10, 21, 33, 46]);
    // ffmpeg shifts decode times down by the largest negative offset (dts_shift 50).
    let dts: Vec<i64> = s.iter().map(|s| s.dts).collect();
    assert_eq!(dts, [-50, 50, 150, 200, 250]);
    let pts: Vec<i64> = s.iter().map(|s| s.pts).collect();
    assert_eq!(pts, [100, 50, 200, 275, 325]);
    let sync: Vec<bool> = s.iter().map(|s| s.sync).collect();
    assert_eq!(sync, [true, false, false, true, false]);
    let durations: Vec<u32> = s.iter().map(|s| s.duration).collect();
    assert_eq!(durations, [100, 100, 50, 50, 50]);
    assert!(s.iter().all(|s| s.presented));
}

#[test]
fn reads_stz2_and_co64() {
    for (bits, sizes) in [
        (4u8, vec![3u32, 15, 1, 7, 2]),
        (8, vec![200, 1, 99]),
        (16, vec![1000, 60000]),
    ] {
        let mut track = Track::video(&sizes, 40, 1);
        track.sizes = Sizes::Compact(bits, sizes.clone());
        track.co64 = true;
        let mut demuxer = open_track(track, &sizes);
        let got: Vec<u32> = samples(&demuxer).iter().map(|s| s.size).collect();
        assert_eq!(got, sizes, "stz2 with {bits}-bit fields");
        let last = sizes.len() as u32 - 1;
        let packet = demuxer.read_sample(0, last).ok().map(|p| p.data);
        assert_eq!(
            packet,
            Some(vec![last as u8; sizes[last as usize] as usize])
        );
    }
}

#[test]
fn constant_sample_size() {
    let sizes = [8, 8, 8];
    let mut track = Track::video(&sizes, 10, 3);
    track.sizes = Sizes::Constant(8, 3);
    let demuxer = open_track(track, &sizes);
    let offsets: Vec<u64> = samples(&demuxer)
        .iter()
        .map(|s| s.offset - MDAT_DATA)
        .collect();
    assert_eq!(offsets, [0, 8, 16]);
}

#[test]
fn empty_stss_makes_only_the_first_sample_sync() {
    let sizes = [5, 5, 5];
    let mut track = Track::video(&sizes, 10, 3);
    track.stss = Some(Vec::new());
    let sync: Vec<bool> = samples(&open_track(track, &sizes))
        .iter()
        .map(|s| s.sync)
        .collect();
    assert_eq!(sync, [true, false, false]);
}

#[test]
fn huge_stsz_count_fails_without_allocating() {
    let sizes = [5, 5];
    let mut track = Track::video(&sizes, 10, 2);
    let mut body = be32(&[0, 0xFFFF_FFF0]);
    body.extend(be32(&[5, 5]));
    track.sizes = Sizes::Raw(body);
    let file = file_with(b"isom", &sizes, moov(1000, &[track], &[]));
    let kind = kind_of(open(file));
    assert!(
        matches!(kind, Some(ErrorKind::Malformed | ErrorKind::Limit)),
        "{kind:?}"
    );

    // A constant size claims no table bytes, so only the sample limit stops it.
    let mut track = Track::video(&sizes, 10, 2);
    track.sizes = Sizes::Constant(5, 0xFFFF_FFF0);
    let file = file_with(b"isom", &sizes, moov(1000, &[track], &[]));
    assert_eq!(kind_of(open(file)), Some(ErrorKind::Limit));
}

#[test]
fn stsc_beyond_stco_is_malformed() {
    let sizes = [5, 5];
    let mut track = Track::video(&sizes, 10, 1);
    track.stsc = vec![(1, 1), (7, 1)];
    let file = file_with(b"isom", &sizes, moov(1000, &[track], &[]));
    assert_eq!(kind_of(open(file)), Some(ErrorKind::Malformed));

    let mut track = Track::video(&sizes, 10, 1);
    track.stsc = vec![(2, 1), (1, 1)];
    let file = file_with(b"isom", &sizes, moov(1000, &[track], &[]));
    assert_eq!(kind_of(open(file)), Some(ErrorKind::Malformed));
}

#[test]
fn sample_size_limit() {
    let sizes = [5, 500];
    let track = Track::video(&sizes, 10, 1);
    let file = file_with(b"isom", &sizes, moov(1000, &[track], &[]));
    let limits = Limits {
        max_sample_bytes: 100,
        ..Limits::default()
    };
    assert_eq!(
        kind_of(Mp4Demuxer::open(Cursor::new(file), limits)),
        Some(ErrorKind::Limit)
    );
}

#[test]
fn offset_overflow_is_malformed() {
    let sizes = [5, 5];
    let mut track = Track::video(&sizes, 10, 2);
    track.co64 = true;
    track.chunks = vec![u64::MAX - 6];
    let file = file_with(b"isom", &sizes, moov(1000, &[track], &[]));
    assert_eq!(kind_of(open(file)), Some(ErrorKind::Malformed));
}

#[test]
fn zero_timescale_falls_back_to_the_movie_and_fails_without_one() {
    let sizes = [5, 5];
    let mut track = Track::video(&sizes, 10, 2);
    track.timescale = 0;
    let demuxer = open_track(track, &sizes);
    assert_eq!(
        demuxer.tracks().first().map(|t| t.timescale.get()),
        Some(1000)
    );

    let mut track = Track::video(&sizes, 10, 2);
    track.timescale = 0;
    let file = file_with(b"isom", &sizes, moov(0, &[track], &[]));
    assert_eq!(kind_of(open(file)), Some(ErrorKind::Malformed));
}

// ---- edit lists ------------------------------------------------------------------

/// Four frames I P B B in decode order (dts 0, 100, 200, 300), shown I B B P
/// (composition times 100, 400, 200, 300).
fn bframes_track() -> (Track, [u32; 4]) {
    let sizes = [4, 4, 4, 4];
    let mut track = Track::video(&sizes, 100, 4);
    track.ctts = Some((0, vec![(1, 100), (1, 300), (2, 0)]));
    track.stss = Some(vec![1]);
    (track, sizes)
}

#[test]
fn edit_with_media_time_hides_leading_frames() {
    let (mut track, sizes) = bframes_track();
    // Show media time 200 to 400: the two B-frames.
    track.edits = vec![(200, 200)];
    let s = samples(&open_track(track, &sizes));
    // The I-frame (100) comes before the edit and the P-frame (400) at its end: both
    // stay in the table, hidden, since the B-frames need them.
    let shown: Vec<(i64, bool)> = s.iter().map(|s| (s.pts, s.presented)).collect();
    assert_eq!(shown, [(-100, false), (200, false), (0, true), (100, true)]);
    // Decode times move by the same amount and stay in order.
    let dts: Vec<i64> = s.iter().map(|s| s.dts).collect();
    assert_eq!(dts, [-200, -100, 0, 100]);
}

#[test]
fn empty_edit_delays_the_track() {
    let (mut track, sizes) = bframes_track();
    track.edits = vec![(500, -1), (400, 100)];
    let demuxer = open_track(track, &sizes);
    let mut shown: Vec<i64> = samples(&demuxer)
        .iter()
        .filter(|s| s.presented)
        .map(|s| s.pts)
        .collect();
    shown.sort_unstable();
    assert_eq!(shown, [500, 600, 700, 800]);
    let duration = demuxer.tracks().first().and_then(|t| t.duration);
    assert_eq!(duration, stillframe_core::Time::new(900, 1000));
}

#[test]
fn trivial_edit_changes_nothing() {
    let sizes = [4, 4, 4];
    let times = |s: &[SampleInfo]| {
        s.iter()
            .map(|s| (s.dts, s.pts, s.presented))
            .collect::<Vec<_>>()
    };
    let plain = samples(&open_track(Track::video(&sizes, 100, 3), &sizes));
    let mut track = Track::video(&sizes, 100, 3);
    track.edits = vec![(300, 0)];
    let edited = samples(&open_track(track, &sizes));
    assert_eq!(times(&edited), times(&plain));

    // With B-frames, ffmpeg moves the first frame shown to 0 even for media time 0.
    let (mut track, sizes) = bframes_track();
    track.edits = vec![(500, 0)];
    let edited = samples(&open_track(track, &sizes));
    assert_eq!(
        times(&edited),
        [
            (-100, 0, true),
            (0, 300, true),
            (100, 100, true),
            (200, 200, true)
        ]
    );
}

#[test]
fn two_edits_repeat_frames() {
    let sizes = [4, 4, 4];
    let mut track = Track::video(&sizes, 100, 3);
    track.edits = vec![(300, 0), (300, 0)];
    let s = samples(&open_track(track, &sizes));
    let shown: Vec<i64> = s.iter().filter(|s| s.presented).map(|s| s.pts).collect();
    assert_eq!(shown, [0, 100, 200, 300, 400, 500]);
    assert!(s.windows(2).all(|w| w[0].dts <= w[1].dts));
}

// ---- fragments -------------------------------------------------------------------

fn trex(track_id: u32, duration: u32, size: u32, flags: u32) -> Vec<u8> {
    full(b"trex", 0, 0, &be32(&[track_id, 1, duration, size, flags]))
}

/// A moof with one traf (default-base-is-moof) of track `track_id` and one trun of
/// `count` samples that takes everything from `trex`, except `first_flags`; then
/// its mdat.
fn fragment(
    track_id: u32,
    sequence: u32,
    tfdt: Option<u64>,
    count: u32,
    first_flags: u32,
    sample_size: u32,
) -> Vec<u8> {
    let build = |data_offset: u32| {
        let mut traf = full(b"tfhd", 0, 0x2_0000, &be32(&[track_id]));
        if let Some(time) = tfdt {
            traf.extend(full(b"tfdt", 1, 0, &time.to_be_bytes()));
        }
        traf.extend(full(
            b"trun",
            0,
            0x05,
            &be32(&[count, data_offset, first_flags]),
        ));
        let mut moof = full(b"mfhd", 0, 0, &be32(&[sequence]));
        moof.extend(bx(b"traf", &traf));
        bx(b"moof", &moof)
    };
    let moof_len = build(0).len() as u32;
    let mut out = build(moof_len + 8);
    out.extend(bx(
        b"mdat",
        &vec![sequence as u8; (count * sample_size) as usize],
    ));
    out
}

fn fragmented_file() -> Vec<u8> {
    let mut track = Track::video(&[], 0, 1);
    track.stts.clear();
    track.stsc.clear();
    let mvex = bx(b"mvex", &trex(1, 512, 6, 0x0101_0000));
    let mut file = ftyp(b"iso5");
    file.extend(moov(1000, &[track], &[mvex]));
    file.extend(fragment(1, 1, Some(1024), 3, 0x0200_0000, 6));
    file.extend(fragment(1, 2, None, 2, 0x0200_0000, 6));
    file
}

#[test]
fn fragments_use_trex_defaults_and_sync_flags() {
    let Ok(mut demuxer) = open(fragmented_file()) else {
        panic!("fragmented file did not open");
    };
    let s = samples(&demuxer);
    let times: Vec<(i64, bool)> = s.iter().map(|s| (s.dts, s.sync)).collect();
    // tfdt 1024, then the second fragment continues without one.
    assert_eq!(
        times,
        [
            (1024, true),
            (1536, false),
            (2048, false),
            (2560, true),
            (3072, false)
        ]
    );
    assert!(s
        .iter()
        .all(|s| s.size == 6 && s.duration == 512 && s.presented && s.pts == s.dts));
    let packet = demuxer.read_sample(0, 3).ok().map(|p| p.data);
    assert_eq!(packet, Some(vec![2u8; 6]));
}

#[test]
fn the_sample_limit_bounds_all_fragmented_tracks_together() {
    // Per track, a few hundred bytes of moof per track could each index up to the
    // limit, as the moov's tables could before it was made file-wide.
    let two_tracks = || {
        let mut tracks = [Track::video(&[], 0, 1), Track::video(&[], 0, 1)];
        tracks[1].id = 2;
        for track in &mut tracks {
            track.stts.clear();
            track.stsc.clear();
        }
        let mut mvex = trex(1, 512, 6, 0);
        mvex.extend(trex(2, 512, 6, 0));
        let mut file = ftyp(b"iso5");
        file.extend(moov(1000, &tracks, &[bx(b"mvex", &mvex)]));
        file.extend(fragment(1, 1, Some(0), 6, 0, 6));
        file.extend(fragment(2, 2, Some(0), 6, 0, 6));
        file
    };
    assert_tracks_share_the_sample_budget(two_tracks);
}

#[test]
fn media_segment_without_moov_is_unsupported() {
    let segment = fragment(1, 1, Some(0), 2, 0, 4);
    assert_eq!(kind_of(open(segment)), Some(ErrorKind::Unsupported));
}

// ---- truncation and whole-file errors ----------------------------------------------

#[test]
fn truncated_mdat_loses_only_the_missing_samples() {
    let sizes = [10, 10, 10, 10];
    let track = Track::video(&sizes, 10, 4);
    // moov first, then an mdat cut after 25 of its 40 bytes.
    let moov_len = moov(1000, &[Track::video(&sizes, 10, 4)], &[]).len() as u64;
    let mut track = track;
    track.chunks = vec![16 + moov_len + 8];
    let mut file = ftyp(b"isom");
    file.extend(moov(1000, &[track], &[]));
    let mut mdat = bx(b"mdat", &[7u8; 40]);
    mdat.truncate(8 + 25);
    file.extend(mdat);
    let Ok(mut demuxer) = open(file) else {
        panic!("a truncated mdat must still open");
    };
    assert_eq!(demuxer.samples(0).map(<[_]>::len).ok(), Some(4));
    assert_eq!(
        demuxer.read_sample(0, 1).ok().map(|p| p.data.len()),
        Some(10)
    );
    assert_eq!(
        kind_of(demuxer.read_sample(0, 2)),
        Some(ErrorKind::Truncated)
    );
    assert_eq!(
        kind_of(demuxer.read_sample(0, 3)),
        Some(ErrorKind::Truncated)
    );
    // An error on one sample does not poison the next request.
    assert_eq!(
        demuxer.read_sample(0, 0).ok().map(|p| p.data),
        Some(vec![7u8; 10])
    );
}

#[test]
fn whole_file_errors_are_typed() {
    assert_eq!(kind_of(open(Vec::new())), Some(ErrorKind::Malformed));
    assert_eq!(kind_of(open(ftyp(b"isom"))), Some(ErrorKind::Malformed));
    let mut cut = ftyp(b"isom");
    let mut whole = moov(1000, &[Track::video(&[4], 10, 1)], &[]);
    whole.truncate(whole.len() / 2);
    cut.extend(whole);
    assert_eq!(kind_of(open(cut)), Some(ErrorKind::Truncated));
    let demuxer = open_track(Track::video(&[4], 10, 1), &[4]);
    assert!(demuxer.samples(3).is_err());
}

#[test]
fn random_bytes_never_panic() {
    // xorshift64*, seeded: the same inputs on every run.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let sizes = [10, 20, 30, 40];
    let (mut track, _) = bframes_track();
    track.edits = vec![(100, -1), (300, 150)];
    let valid = file_with(b"isom", &sizes, moov(1000, &[track], &[]));
    let fragmented = fragmented_file();
    for round in 0..3000 {
        let input: Vec<u8> = match round % 3 {
            // Pure noise, sometimes behind a valid box header.
            0 => {
                let len = (next() % 300) as usize;
                let mut v: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                if round % 2 == 0 && v.len() > 8 {
                    v[..8].copy_from_slice(b"\0\0\x01\0moov");
                }
                v
            }
            // Valid files with a few bytes flipped.
            _ => {
                let mut v = if round % 3 == 1 {
                    valid.clone()
                } else {
                    fragmented.clone()
                };
                for _ in 0..1 + next() % 4 {
                    let at = (next() % v.len() as u64) as usize;
                    v[at] = next() as u8;
                }
                v
            }
        };
        if let Ok(mut demuxer) = open(input) {
            for track in 0..demuxer.tracks().len() {
                let count = demuxer.samples(track).map_or(0, <[_]>::len);
                for sample in 0..count.min(8) as u32 {
                    let _ = demuxer.read_sample(track, sample);
                }
            }
        }
    }
}

// ---- track description -----------------------------------------------------------

#[test]
fn describes_the_track() {
    let sizes = [4, 4];
    let mut track = Track::video(&sizes, 10, 2);
    let colr = bx(
        b"colr",
        &[b"nclx".as_slice(), &[0, 1, 0, 13, 0, 6, 0x80]].concat(),
    );
    let pasp = bx(b"pasp", &be32(&[4, 3]));
    let clap = bx(b"clap", &be32(&[60, 1, 40, 1, 0, 1, (-2i32) as u32, 1]));
    track.entry = visual_entry(b"avc1", 64, 48, &[bx(b"avcC", AVCC), colr, pasp, clap]);
    // The iPhone portrait matrix: turn 90° clockwise.
    track.matrix = [0, ONE, 0, -ONE, 0, 0, 0, 0, 1 << 30];
    let demuxer = open_track(track, &sizes);
    assert_eq!(demuxer.container(), ContainerKind::Mp4);
    let Some(info) = demuxer.tracks().first() else {
        panic!("no track");
    };
    assert_eq!(info.kind, TrackKind::Video);
    assert_eq!(info.codec, Codec::H264);
    assert_eq!(info.codec_config, AVCC);
    let Some(video) = &info.video else {
        panic!("no video info");
    };
    assert_eq!((video.width, video.height), (64, 48));
    assert_eq!(video.orientation.rotation, 90);
    assert_eq!(
        video.pixel_aspect.map(|p| (p.horizontal, p.vertical)),
        Some((4, 3))
    );
    assert_eq!(
        video.clean_aperture.map(|c| c.vertical_offset.numerator),
        Some(-2)
    );
    assert_eq!(
        (
            video.colour.primaries,
            video.colour.transfer,
            video.colour.matrix
        ),
        (1, 13, 6)
    );
    assert_eq!(video.colour.full_range, Some(true));
}

#[test]
fn quicktime_brand_and_codec_names() {
    let sizes = [4];
    let mut track = Track::video(&sizes, 10, 1);
    track.entry = visual_entry(b"hvc1", 64, 48, &[]);
    let file = file_with(b"qt  ", &sizes, moov(600, &[track], &[]));
    let Ok(demuxer) = open(file) else {
        panic!("did not open");
    };
    assert_eq!(demuxer.container(), ContainerKind::Mov);
    assert_eq!(
        demuxer.tracks().first().map(|t| t.codec.name().to_string()),
        Some("hevc".into())
    );
    assert_eq!(
        demuxer.tracks().first().map(|t| t.codec_config.len()),
        Some(0)
    );
}

#[test]
fn large_table_builds_in_one_pass() {
    // 54,000 one-byte samples, B-frame offsets, 30 per chunk and an edit list.
    let count = 54_000usize;
    let sizes = vec![1u32; count];
    let mut track = Track::video(&sizes, 512, 30);
    track.timescale = 15_360;
    track.ctts = Some((
        0,
        (0..count)
            .map(|i| (1, [1024, 2560, 0, 512][i % 4]))
            .collect(),
    ));
    track.stss = Some((0..count as u32).step_by(60).map(|n| n + 1).collect());
    track.edits = vec![(1_800_000, 1024)];
    let file = file_with(b"isom", &sizes, moov(1000, &[track], &[]));
    let started = std::time::Instant::now();
    let demuxer = match open(file) {
        Ok(demuxer) => demuxer,
        Err(error) => panic!("open failed: {error}"),
    };
    let elapsed = started.elapsed();
    let s = samples(&demuxer);
    assert_eq!(s.len(), count);
    assert!(s.windows(2).all(|w| w[0].dts < w[1].dts));
    assert_eq!(s.iter().filter(|s| s.sync).count(), count / 60);
    println!("opened {count} samples in {elapsed:?}");
}

#[test]
fn the_sample_limit_bounds_all_tracks_together() {
    // Each track alone is within the limit; together they are not. Per track, a
    // tiny file of many 20-million-sample tracks took gigabytes.
    let sizes = [5; 6];
    let two_tracks = || {
        let tracks = [Track::video(&sizes, 10, 2), Track::video(&sizes, 10, 2)];
        file_with(b"isom", &sizes, moov(1000, &tracks, &[]))
    };
    assert_tracks_share_the_sample_budget(two_tracks);
}

/// `file` makes two tracks of six samples: a budget of ten refuses them, naming the
/// file-wide limit, and one of twelve opens both whole.
fn assert_tracks_share_the_sample_budget(file: impl Fn() -> Vec<u8>) {
    let open_with = |max_samples| {
        let limits = Limits {
            max_samples,
            ..Limits::default()
        };
        Mp4Demuxer::open(Cursor::new(file()), limits)
    };
    match open_with(10).map(|_| ()) {
        Err(stillframe_core::Error::Limit { what, value, limit }) => {
            assert_eq!(
                (what, value, limit),
                ("sample count of all tracks together", 12, 10)
            );
        }
        other => panic!("expected the file-wide limit, got {other:?}"),
    }
    let counts = open_with(12).map(|demuxer| {
        (0..2)
            .map(|track| demuxer.samples(track).map_or(0, <[_]>::len))
            .collect::<Vec<_>>()
    });
    assert_eq!(counts.ok(), Some(vec![6, 6]));
}
