//! Unit tests over synthetic EBML: primitives, every lacing kind, and whole files
//! built in memory (unknown sizes, BlockGroups, junk, hostile numbers, truncation).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;

use stillframe_core::{ContainerKind, Demuxer, ErrorKind, Limits, Time};

use crate::block::{parse_header, BlockError};
use crate::ebml::{read_id, read_signed_vint, read_size, Header};
use crate::{ids, MkvDemuxer};

// ---- a tiny EBML writer ---------------------------------------------------------

fn id_bytes(id: u32) -> Vec<u8> {
    let bytes = id.to_be_bytes();
    let skip = bytes.iter().position(|&b| b != 0).unwrap_or(3);
    bytes[skip..].to_vec()
}

/// An element with an 8-byte size field.
fn element(id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = id_bytes(id);
    let size = body.len() as u64;
    out.push(0x01);
    out.extend_from_slice(&size.to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// An element of unknown size (its body follows until the parent's next sibling).
fn unknown_size(id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = id_bytes(id);
    out.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
    out.extend_from_slice(body);
    out
}

fn uint(id: u32, value: u64) -> Vec<u8> {
    element(id, &value.to_be_bytes())
}

fn ebml_header(doc_type: &str) -> Vec<u8> {
    let body = [
        uint(ids::EBML_VERSION, 1),
        uint(ids::EBML_READ_VERSION, 1),
        element(ids::DOC_TYPE, doc_type.as_bytes()),
    ]
    .concat();
    element(ids::EBML, &body)
}

fn tracks(default_duration_ns: Option<u64>) -> Vec<u8> {
    let mut video = vec![
        uint(ids::TRACK_NUMBER, 1),
        uint(ids::TRACK_TYPE, 1),
        element(ids::CODEC_ID, b"V_MPEG4/ISO/AVC"),
        element(
            ids::VIDEO,
            &[uint(ids::PIXEL_WIDTH, 64), uint(ids::PIXEL_HEIGHT, 48)].concat(),
        ),
    ];
    if let Some(ns) = default_duration_ns {
        video.push(uint(ids::DEFAULT_DURATION, ns));
    }
    let audio = [
        uint(ids::TRACK_NUMBER, 2),
        uint(ids::TRACK_TYPE, 2),
        element(ids::CODEC_ID, b"A_OPUS"),
    ];
    element(
        ids::TRACKS,
        &[
            element(ids::TRACK_ENTRY, &video.concat()),
            element(ids::TRACK_ENTRY, &audio.concat()),
        ]
        .concat(),
    )
}

/// A SimpleBlock of `track` at `relative` ms with the given flags and payload.
fn simple_block(track: u8, relative: i16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = vec![0x80 | track];
    body.extend_from_slice(&relative.to_be_bytes());
    body.push(flags);
    body.extend_from_slice(payload);
    element(ids::SIMPLE_BLOCK, &body)
}

/// A BlockGroup; `reference` adds a ReferenceBlock (so it is not a keyframe).
fn block_group(
    track: u8,
    relative: i16,
    payload: &[u8],
    reference: bool,
    duration: Option<u64>,
) -> Vec<u8> {
    let mut block = vec![0x80 | track];
    block.extend_from_slice(&relative.to_be_bytes());
    block.push(0);
    block.extend_from_slice(payload);
    let mut body = element(ids::BLOCK, &block);
    if reference {
        body.extend(element(ids::REFERENCE_BLOCK, &[0xD8]));
    }
    if let Some(duration) = duration {
        body.extend(uint(ids::BLOCK_DURATION, duration));
    }
    element(ids::BLOCK_GROUP, &body)
}

fn cluster(timestamp: u64, blocks: &[Vec<u8>]) -> Vec<u8> {
    element(
        ids::CLUSTER,
        &[uint(ids::TIMESTAMP, timestamp), blocks.concat()].concat(),
    )
}

/// A file: EBML header, an unknown-size Segment with Info, Tracks, then `body`.
fn file(doc_type: &str, body: &[Vec<u8>]) -> Vec<u8> {
    let info = element(ids::INFO, &uint(ids::TIMESTAMP_SCALE, 1_000_000));
    let segment = [info, tracks(Some(40_000_000)), body.concat()].concat();
    [ebml_header(doc_type), unknown_size(ids::SEGMENT, &segment)].concat()
}

fn open(bytes: Vec<u8>) -> stillframe_core::Result<MkvDemuxer<Cursor<Vec<u8>>>> {
    MkvDemuxer::open(Cursor::new(bytes), Limits::default())
}

fn all_samples(bytes: Vec<u8>) -> Vec<(i64, bool, u32)> {
    let mut demuxer = open(bytes).unwrap();
    demuxer.index_until(0, Time::POSITIVE_INFINITY).unwrap();
    demuxer
        .samples(0)
        .unwrap()
        .iter()
        .map(|s| (s.pts, s.sync, s.size))
        .collect()
}

// ---- primitives -------------------------------------------------------------------

#[test]
fn vints_decode_with_and_without_markers() {
    assert_eq!(read_id(&[0x1A, 0x45, 0xDF, 0xA3]), Ok(Some((ids::EBML, 4))));
    assert_eq!(read_id(&[0x1A, 0x45]), Ok(None));
    assert!(read_id(&[0x00]).is_err());
    assert!(
        read_id(&[0x08, 0, 0, 0, 0]).is_err(),
        "5-byte IDs are refused"
    );
    assert_eq!(read_size(&[0x81]), Ok(Some((Some(1), 1))));
    assert_eq!(read_size(&[0x40, 0x02]), Ok(Some((Some(2), 2))));
    assert_eq!(
        read_size(&[0xFF]),
        Ok(Some((None, 1))),
        "all ones is unknown"
    );
    assert_eq!(
        read_size(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
        Ok(Some((None, 8)))
    );
    assert_eq!(
        read_size(&[0x01, 0, 0, 0, 0, 0, 0, 8]),
        Ok(Some((Some(8), 8)))
    );
    // Signed: 0xBF (63) is 0, 0x80 is -63.
    assert_eq!(read_signed_vint(&[0xBF]), Some((0, 1)));
    assert_eq!(read_signed_vint(&[0x80]), Some((-63, 1)));
    assert_eq!(read_signed_vint(&[0x60, 0x00]), Some((0x2000 - 0x1FFF, 2)));
    let header = Header::parse(&[0xA3, 0x85], 10).unwrap().unwrap();
    assert_eq!(
        (header.id, header.data_offset, header.size, header.end()),
        (0xA3, 12, Some(5), Some(17))
    );
}

#[test]
fn unlaced_block() {
    let header = parse_header(&[0x81, 0x00, 0x10, 0x80, 1, 2, 3], 7).unwrap();
    assert_eq!(
        (header.track, header.relative_timestamp, header.flags),
        (1, 16, 0x80)
    );
    assert_eq!(header.frames, vec![(4, 3)]);
    let negative = parse_header(&[0x82, 0xFF, 0xFE, 0x00, 9], 5).unwrap();
    assert_eq!((negative.track, negative.relative_timestamp), (2, -2));
}

#[test]
fn xiph_lacing() {
    // 3 frames: 300 (255 + 45), 2, and the rest (4).
    let mut block = vec![0x81, 0, 0, 0x02, 2, 255, 45, 2];
    let data_start = block.len() as u64;
    block.extend(vec![0u8; 306]);
    let header = parse_header(&block, block.len() as u64).unwrap();
    assert_eq!(
        header.frames,
        vec![
            (data_start, 300),
            (data_start + 300, 2),
            (data_start + 302, 4)
        ]
    );
}

#[test]
fn ebml_lacing() {
    // 4 frames: 10, then +5 (15), then -3 (12), and the rest.
    let mut block = vec![0x81, 0, 0, 0x06, 3, 0x8A, 0xBF + 5, 0xBF - 3];
    let data_start = block.len() as u64;
    block.extend(vec![0u8; 10 + 15 + 12 + 7]);
    let header = parse_header(&block, block.len() as u64).unwrap();
    let sizes: Vec<u64> = header.frames.iter().map(|f| f.1).collect();
    assert_eq!(sizes, vec![10, 15, 12, 7]);
    assert_eq!(header.frames[0].0, data_start);
    // A difference taking a size below zero is refused.
    let bad = [0x81, 0, 0, 0x06, 2, 0x82, 0x80, 0, 0, 0, 0];
    assert!(matches!(
        parse_header(&bad, bad.len() as u64),
        Err(BlockError::Invalid(_))
    ));
}

#[test]
fn fixed_lacing() {
    let mut block = vec![0x81, 0, 0, 0x04, 2];
    block.extend(vec![0u8; 9]);
    let header = parse_header(&block, block.len() as u64).unwrap();
    assert_eq!(header.frames, vec![(5, 3), (8, 3), (11, 3)]);
    let mut uneven = vec![0x81, 0, 0, 0x04, 1];
    uneven.extend(vec![0u8; 5]);
    assert!(matches!(
        parse_header(&uneven, uneven.len() as u64),
        Err(BlockError::Invalid(_))
    ));
}

#[test]
fn lace_sizes_beyond_the_block_are_refused() {
    let block = [0x81, 0, 0, 0x02, 1, 200, 1, 2, 3];
    assert!(matches!(
        parse_header(&block, block.len() as u64),
        Err(BlockError::Invalid(_))
    ));
    assert_eq!(parse_header(&[0x81, 0], 10), Err(BlockError::NeedMore));
}

// ---- whole files ----------------------------------------------------------------

#[test]
fn unknown_size_clusters_simple_blocks_and_block_groups() {
    let bytes = file(
        "matroska",
        &[
            unknown_size(
                ids::CLUSTER,
                &[
                    uint(ids::TIMESTAMP, 1000),
                    simple_block(1, 0, 0x80, b"key"),
                    simple_block(2, 0, 0x80, b"audio"),
                    simple_block(1, 80, 0, b"p"),
                    element(ids::VOID, &[0; 3]),
                    simple_block(1, 40, 0, b"b"),
                ]
                .concat(),
            ),
            unknown_size(
                ids::CLUSTER,
                &[
                    element(ids::CRC32, &[0; 4]),
                    uint(ids::TIMESTAMP, 1120),
                    block_group(1, 0, b"group-key", false, None),
                    block_group(1, 40, b"group-p", true, Some(40)),
                ]
                .concat(),
            ),
        ],
    );
    assert_eq!(
        all_samples(bytes),
        vec![
            (1000, true, 3),
            (1080, false, 1),
            (1040, false, 1),
            (1120, true, 9),
            (1160, false, 7),
        ]
    );
}

#[test]
fn durations_come_from_the_file_or_the_next_frame() {
    let bytes = file(
        "webm",
        &[cluster(
            0,
            &[
                simple_block(1, 0, 0x80, b"a"),
                simple_block(1, 80, 0, b"b"),
                simple_block(1, 40, 0, b"c"),
            ],
        )],
    );
    let mut demuxer = open(bytes).unwrap();
    assert_eq!(demuxer.container(), ContainerKind::WebM);
    demuxer.index_until(0, Time::POSITIVE_INFINITY).unwrap();
    let samples = demuxer.samples(0).unwrap();
    // DefaultDuration is 40 ms for all three.
    assert!(samples.iter().all(|s| s.duration == 40));
    let dts: Vec<i64> = samples.iter().map(|s| s.dts).collect();
    assert_eq!(
        dts,
        vec![-40, 0, 40],
        "sorted pts in file order, shifted before pts"
    );
}

#[test]
fn junk_between_clusters_is_skipped() {
    let bytes = file(
        "matroska",
        &[
            cluster(0, &[simple_block(1, 0, 0x80, b"a")]),
            vec![0x42, 0x42, 0x42, 0x00, 0x13, 0x37],
            cluster(40, &[simple_block(1, 0, 0x80, b"b")]),
        ],
    );
    assert_eq!(all_samples(bytes).len(), 2);
}

#[test]
fn doc_types_and_broken_headers_are_classified() {
    let other = file("mkv-but-not", &[]);
    assert_eq!(open(other).unwrap_err().kind(), ErrorKind::Unsupported);
    let no_doc_type = [
        element(ids::EBML, &uint(ids::EBML_VERSION, 1)),
        unknown_size(ids::SEGMENT, &[]),
    ]
    .concat();
    assert_eq!(open(no_doc_type).unwrap_err().kind(), ErrorKind::Malformed);
    let mut huge = ebml_header("matroska");
    huge[4] = 0x08; // an 8-byte size of 2^56 - ...: implausible
    assert_eq!(open(huge).unwrap_err().kind(), ErrorKind::Malformed);
    assert_eq!(open(Vec::new()).unwrap_err().kind(), ErrorKind::Malformed);
    assert_eq!(
        open(b"not EBML at all".to_vec()).unwrap_err().kind(),
        ErrorKind::Malformed
    );
}

#[test]
fn hostile_timestamps_fail_without_panicking() {
    let bytes = file(
        "matroska",
        &[cluster(
            u64::MAX >> 1,
            &[simple_block(1, 0x7FFF, 0x80, b"x")],
        )],
    );
    let mut demuxer = open(bytes).unwrap();
    // The damaged cluster ends indexing: nothing bogus is indexed, the track is never
    // complete, and a request that needs the damaged part says why it failed.
    assert!(!demuxer.index_until(0, Time::POSITIVE_INFINITY).unwrap());
    assert!(demuxer.samples(0).unwrap().is_empty());
    let error = demuxer.index_until(0, Time::from_secs(1)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Malformed, "{error}");
}

#[test]
fn oversized_frames_hit_the_limit() {
    let bytes = file(
        "matroska",
        &[cluster(0, &[simple_block(1, 0, 0x80, &[0; 64])])],
    );
    let limits = Limits {
        max_sample_bytes: 16,
        ..Limits::default()
    };
    let mut demuxer = MkvDemuxer::open(Cursor::new(bytes), limits).unwrap();
    let _ = demuxer.index_until(0, Time::POSITIVE_INFINITY);
    assert!(demuxer.samples(0).unwrap().is_empty());
}

#[test]
fn the_sample_limit_bounds_all_tracks_together() {
    // Six frames of video and six of audio: each track alone is within ten.
    let blocks: Vec<Vec<u8>> = (0..6)
        .flat_map(|i| {
            [
                simple_block(1, i * 40, 0x80, &[1; 4]),
                simple_block(2, i * 40, 0x80, &[2; 4]),
            ]
        })
        .collect();
    let bytes = || file("matroska", &[cluster(0, &blocks)]);
    let index = |max_samples| {
        let limits = Limits {
            max_samples,
            ..Limits::default()
        };
        let mut demuxer = MkvDemuxer::open(Cursor::new(bytes()), limits)?;
        demuxer.index_until(0, Time::POSITIVE_INFINITY)?;
        Ok::<_, stillframe_core::Error>(
            (0..2)
                .map(|t| demuxer.samples(t).map_or(0, <[_]>::len))
                .collect::<Vec<_>>(),
        )
    };
    match index(10) {
        Err(stillframe_core::Error::Limit { what, value, limit }) => {
            assert_eq!(
                (what, value, limit),
                ("sample count of all tracks together", 12, 10)
            );
        }
        other => panic!("expected the file-wide limit, got {other:?}"),
    }
    assert_eq!(index(12).ok(), Some(vec![6, 6]));
}

#[test]
fn every_truncation_and_corruption_of_a_file_is_handled_without_panic() {
    let bytes = file(
        "matroska",
        &[
            cluster(
                0,
                &[
                    simple_block(1, 0, 0x80, b"key"),
                    simple_block(2, 0, 0x86, &[1, 0x82, 1, 2, 3]),
                    simple_block(1, 40, 0, b"p"),
                ],
            ),
            unknown_size(
                ids::CLUSTER,
                &[
                    uint(ids::TIMESTAMP, 80),
                    block_group(1, 0, b"k", false, Some(40)),
                ]
                .concat(),
            ),
        ],
    );
    for cut in 0..bytes.len() {
        exercise(bytes[..cut].to_vec());
    }
    // Deterministic pseudo-random byte flips.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..2000 {
        let mut mutated = bytes.clone();
        for _ in 0..3 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % mutated.len() as u64) as usize;
            mutated[at] = (state >> 32) as u8;
        }
        exercise(mutated);
    }
}

fn exercise(bytes: Vec<u8>) {
    let Ok(mut demuxer) = open(bytes) else {
        return;
    };
    for track in 0..demuxer.tracks().len() {
        let _ = demuxer.index_until(track, Time::from_millis(40));
        let _ = demuxer.index_until(track, Time::POSITIVE_INFINITY);
        let count = demuxer.samples(track).map_or(0, <[_]>::len);
        for sample in 0..count {
            let _ = demuxer.read_sample(track, sample as u32);
        }
    }
}
