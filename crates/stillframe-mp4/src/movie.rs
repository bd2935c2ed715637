//! Assembles the tracks of a file: `moov` header boxes, each track's sample table
//! with its edit list applied, then the fragments.

use std::io::{Read, Seek};
use std::num::NonZeroU32;

use stillframe_core::{
    ContainerKind, Error, ErrorKind, Limits, Location, Result, SampleInfo, Time, TrackInfo,
    TrackKind, VideoInfo,
};

use crate::boxes::{decode_atom, BoxRef, Children};
use crate::edit_list::{self, Context, Edit, Mode};
use crate::fragments::{self, FragmentTrack, Trex};
use crate::sample_table;
use crate::scan::{self, Scan};
use crate::track_info::{self, IDENTITY};

/// Everything `open` learns about a file.
pub(crate) struct Movie {
    pub container: ContainerKind,
    pub duration: Option<Time>,
    pub tracks: Vec<TrackInfo>,
    pub samples: Vec<Vec<SampleInfo>>,
}

/// `mvhd` (§ 8.2.2) fields.
struct MovieHeader {
    timescale: u32,
    duration: u64,
    matrix: [i32; 9],
}

/// A track between its sample table and its final form.
struct Building {
    info: TrackInfo,
    samples: Vec<SampleInfo>,
    edits: Vec<Edit>,
    time_offset: i64,
    track_end: i64,
    dts_shift: i64,
    media_duration: u64,
}

/// Reads the file's structure and builds every track's index.
pub(crate) fn read<R: Read + Seek>(reader: &mut R, limits: &Limits) -> Result<(Movie, u64)> {
    let scan = scan::scan(reader, limits)?;
    let container = match scan.major_brand {
        Some(brand) if &brand == b"qt  " => ContainerKind::Mov,
        None => ContainerKind::Mov,
        Some(_) => ContainerKind::Mp4,
    };
    let Some(moov_at) = scan.moov else {
        return Err(if scan.moofs.is_empty() {
            Error::malformed(Location::at("top level", 0), "no moov box")
        } else {
            Error::unsupported(
                "a fragmented MP4 media segment without its initialization segment (no moov box)",
            )
        });
    };
    let moov_bytes = scan::read_box(reader, moov_at)?;
    let moov = BoxRef::whole(*b"moov", moov_at.offset, &moov_bytes);

    let mut header = None;
    let mut traks = Vec::new();
    let mut trex = Vec::new();
    let mut has_mvex = false;
    for child in moov.children("moov") {
        match &child.kind {
            b"mvhd" if header.is_none() => match read_mvhd(&child) {
                Ok(mvhd) => header = Some(mvhd),
                Err(error) => log::warn!("{error}"),
            },
            b"trak" => traks.push(child),
            b"mvex" => {
                has_mvex = true;
                for b in Children::new(child.body(), child.body_offset(), "moov/mvex") {
                    if &b.kind == b"trex" {
                        trex.push(fragments::read_trex(&b)?);
                    }
                }
            }
            _ => {}
        }
    }
    let header = header.unwrap_or_else(|| {
        log::warn!("the moov has no usable mvhd");
        MovieHeader {
            timescale: 0,
            duration: 0,
            matrix: IDENTITY,
        }
    });
    limits.check_entries("tracks", traks.len() as u64)?;

    // ffmpeg turns its full edit-list handling off for good at the first track
    // without stts entries (a fragmented track); later tracks inherit that.
    let mut full_edits = true;
    let mut building: Vec<Building> = Vec::with_capacity(traks.len());
    // `max_samples` bounds the whole file, not each track: a few hundred bytes of
    // `trak` can declare 20 million samples (0.8 GB of index), and a 4.5 KB file
    // of six such tracks took 3.9 GB.
    let mut samples_left = limits.max_samples;
    for trak in &traks {
        let track_limits = Limits {
            max_samples: samples_left,
            ..*limits
        };
        let index = building.len();
        let others = u64::from(limits.max_samples - samples_left);
        let built =
            build_track(trak, &header, &mut full_edits, index, &track_limits).map_err(|error| {
                match error {
                    // Found against what the other tracks left; said against the whole
                    // budget, which is the one the user set.
                    Error::Limit {
                        what: "sample count",
                        value,
                        ..
                    } => limits
                        .check_samples_beside(value, others)
                        .err()
                        .unwrap_or(error),
                    other => other,
                }
            })?;
        if let Some(track) = built {
            let count = u32::try_from(track.samples.len()).unwrap_or(u32::MAX);
            samples_left = samples_left.saturating_sub(count);
            building.push(track);
        }
    }
    if building.is_empty() {
        return Err(Error::malformed(
            Location::at("moov", moov_at.offset),
            "no usable trak box",
        ));
    }

    read_fragments(reader, &scan, &mut building, &trex, limits)?;
    if !has_mvex && !scan.moofs.is_empty() {
        log::warn!("moof boxes without mvex in the moov");
    }
    Ok((finish(container, &header, building), scan.file_len))
}

fn read_mvhd(b: &BoxRef<'_>) -> Result<MovieHeader> {
    let mvhd: mp4_atom::Mvhd = decode_atom(b, "moov/mvhd")?;
    Ok(MovieHeader {
        timescale: mvhd.timescale,
        duration: mvhd.duration,
        matrix: track_info::matrix_array(&mvhd.matrix),
    })
}

/// Builds one track; `None` when the track is skipped.
///
/// A broken audio, subtitle or data track is skipped with a warning rather than
/// failing the file: it should not cost the pictures. Errors in a video track fail
/// the open.
fn build_track(
    trak: &BoxRef<'_>,
    movie: &MovieHeader,
    full_edits: &mut bool,
    index: usize,
    limits: &Limits,
) -> Result<Option<Building>> {
    let boxes = track_info::split_trak(trak);
    let kind = match boxes.hdlr.as_ref().map(track_info::read_hdlr) {
        Some(Ok(kind)) => kind,
        Some(Err(error)) => {
            log::warn!("{error}; the track's kind is unknown");
            TrackKind::Other
        }
        None => TrackKind::Other,
    };
    match build_kind(trak, &boxes, kind, movie, full_edits, index, limits) {
        Err(error) if kind != TrackKind::Video && error.kind() != ErrorKind::Io => {
            log::warn!(
                "the {} track at byte {} is skipped: {error}",
                kind.name(),
                trak.offset
            );
            Ok(None)
        }
        result => result,
    }
}

fn build_kind(
    trak: &BoxRef<'_>,
    boxes: &track_info::TrakBoxes<'_>,
    kind: TrackKind,
    movie: &MovieHeader,
    full_edits: &mut bool,
    index: usize,
    limits: &Limits,
) -> Result<Option<Building>> {
    let Some(mdhd) = &boxes.mdhd else {
        log::warn!("the trak at byte {} has no mdhd; skipped", trak.offset);
        return Ok(None);
    };
    let (mut timescale, media_duration) = track_info::read_mdhd(mdhd)?;
    if timescale == 0 {
        // ffmpeg falls back to the movie timescale.
        log::warn!(
            "the trak at byte {} has mdhd timescale 0; using the mvhd timescale",
            trak.offset
        );
        timescale = movie.timescale;
    }
    let Some(timescale) = NonZeroU32::new(timescale) else {
        log::warn!(
            "the trak at byte {} has no usable timescale; skipped",
            trak.offset
        );
        return Ok(None);
    };
    let header = boxes.tkhd.as_ref().map(track_info::read_tkhd).transpose()?;
    if header.is_none() {
        log::warn!("the trak at byte {} has no tkhd", trak.offset);
    }
    let entry = match &boxes.stsd {
        Some(stsd) => Some(track_info::read_stsd(stsd, kind == TrackKind::Video)?),
        None => None,
    };
    let raw = sample_table::build(&boxes.stbl, kind == TrackKind::Audio, limits)?;
    if raw.stts_entries == 0 {
        *full_edits = false;
    }
    let edits = match &boxes.elst {
        Some(elst) => edit_list::read_elst(elst, limits)?,
        None => Vec::new(),
    };
    let ctx = Context {
        movie_timescale: movie.timescale,
        media_timescale: timescale.get(),
        is_video: kind == TrackKind::Video,
        is_audio: kind == TrackKind::Audio,
        has_ctts: raw.has_ctts,
        dts_shift: raw.dts_shift,
    };
    let mode = if *full_edits {
        Mode::Full
    } else {
        Mode::ShiftOnly
    };
    let applied = edit_list::apply(raw.samples, &edits, mode, &ctx, limits)?;

    let track_id = header.map_or(0, |h| h.track_id);
    let video = (kind == TrackKind::Video).then(|| {
        let entry = entry.as_ref();
        let matrix = header.map_or(IDENTITY, |h| h.matrix);
        let tkhd_size = header.map_or((0, 0), |h| (h.width, h.height));
        let (orientation, matrix_aspect) = track_info::display(&matrix, &movie.matrix);
        let entry_size = (entry.and_then(|e| e.width), entry.and_then(|e| e.height));
        let (width, height) = match entry_size {
            (Some(w), Some(h)) => (w, h),
            _ => tkhd_size,
        };
        // ffmpeg's order: a stretching matrix wins over pasp, which wins over a
        // tkhd size that differs from the coded size.
        let pixel_aspect = matrix_aspect
            .filter(|_| tkhd_size.0 > 0 && tkhd_size.1 > 0)
            .or(entry.and_then(|e| e.pixel_aspect))
            .or_else(|| track_info::aspect_from_sizes((width, height), tkhd_size));
        VideoInfo {
            width,
            height,
            orientation,
            pixel_aspect,
            clean_aperture: entry.and_then(|e| e.clean_aperture),
            colour: entry.map_or(Default::default(), |e| e.colour),
        }
    });
    let (codec, codec_config, extra_configs) = match entry {
        Some(entry) => (entry.codec, entry.codec_config, entry.extra_configs),
        None => {
            log::warn!("track {track_id} has no sample description");
            let unknown = stillframe_core::Codec::Other("unknown".into());
            (unknown, Vec::new(), Vec::new())
        }
    };
    Ok(Some(Building {
        info: TrackInfo {
            index,
            id: u64::from(track_id),
            kind,
            codec,
            timescale,
            duration: None,
            codec_config,
            extra_configs,
            video,
        },
        samples: applied.samples,
        edits,
        time_offset: applied.time_offset,
        track_end: raw.track_end,
        dts_shift: raw.dts_shift,
        media_duration,
    }))
}

fn read_fragments<R: Read + Seek>(
    reader: &mut R,
    scan: &Scan,
    building: &mut [Building],
    trex: &[Trex],
    limits: &Limits,
) -> Result<()> {
    if scan.moofs.is_empty() {
        return Ok(());
    }
    let mut tracks: Vec<FragmentTrack<'_>> = building
        .iter_mut()
        .map(|b| FragmentTrack {
            track_id: u32::try_from(b.info.id).unwrap_or(0),
            trex: trex
                .iter()
                .find(|t| u64::from(t.track_id) == b.info.id)
                .copied(),
            time_offset: b.time_offset,
            track_end: b.track_end,
            dts_shift: b.dts_shift,
            is_audio: b.info.kind == TrackKind::Audio,
            file_len: scan.file_len,
            samples: &mut b.samples,
        })
        .collect();
    let mut indexed = tracks.iter().map(|t| t.samples.len() as u64).sum();
    for moof in &scan.moofs {
        let bytes = scan::read_box(reader, *moof)?;
        fragments::read_moof(&bytes, moof.offset, &mut tracks, &mut indexed, limits)?;
    }
    let shifts: Vec<i64> = tracks.iter().map(|t| t.dts_shift).collect();
    drop(tracks);
    for (b, shift) in building.iter_mut().zip(shifts) {
        b.dts_shift = shift;
    }
    Ok(())
}

fn finish(container: ContainerKind, movie: &MovieHeader, building: Vec<Building>) -> Movie {
    let mut tracks = Vec::with_capacity(building.len());
    let mut samples = Vec::with_capacity(building.len());
    for mut b in building {
        for s in &mut b.samples {
            s.pts = s.pts.saturating_add(b.dts_shift);
        }
        b.info.duration = track_duration(&b, movie);
        tracks.push(b.info);
        samples.push(b.samples);
    }
    let longest = tracks.iter().filter_map(|t| t.duration).max();
    let duration = longest.or_else(|| {
        i64::try_from(movie.duration)
            .ok()
            .filter(|&d| d > 0)
            .and_then(|d| Time::new(d, movie.timescale))
    });
    Movie {
        container,
        duration,
        tracks,
        samples,
    }
}

/// A track's presentation length: its edit list's total, else the end of its last
/// frame, else `mdhd`'s duration.
fn track_duration(b: &Building, movie: &MovieHeader) -> Option<Time> {
    let edits = edit_list::total_duration(&b.edits);
    if edits > 0 && movie.timescale > 0 {
        return i64::try_from(edits)
            .ok()
            .and_then(|d| Time::new(d, movie.timescale));
    }
    let timescale = b.info.timescale;
    let end = b
        .samples
        .iter()
        .filter(|s| s.presented)
        .map(|s| s.pts.saturating_add(i64::from(s.duration)))
        .max();
    match end {
        Some(end) => Some(Time::from_ticks(end.max(0), timescale)),
        None => i64::try_from(b.media_duration)
            .ok()
            .filter(|&d| d > 0)
            .map(|d| Time::from_ticks(d, timescale)),
    }
}
