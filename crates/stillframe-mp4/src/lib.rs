//! MP4 and QuickTime demuxer for stillframe.
//!
//! [`Mp4Demuxer`] opens an ISO base media file (`.mp4`, `.m4v`, fragmented MP4) or a
//! QuickTime movie (`.mov`) and implements [`stillframe_core::Demuxer`]: a list of
//! tracks, and per track an immutable index of samples in decode order with their
//! byte ranges and timestamps on the presentation timeline.
//!
//! # Design
//!
//! - **Lazy I/O.** Opening walks the top-level boxes by their headers only and seeks
//!   past `mdat`, so a file opens with a few small reads wherever its `moov` is. The
//!   `moov` and each `moof` are read whole, after their sizes are checked against the
//!   file length and [`Limits::max_metadata_bytes`]. Sample bytes are read on demand
//!   by [`Demuxer::read_sample`].
//! - **Flatten once.** Each track's sample table (`stts`, `ctts`, `stss`, `stsc`,
//!   `stsz`/`stz2`, `stco`/`co64`), edit list and fragments become one
//!   `Vec<SampleInfo>` at open, in O(samples) time. Lookups by time are binary
//!   searches done by the caller.
//! - **ffmpeg's timeline.** Edit lists are applied the way ffmpeg 5.1's `mov_fix_index`
//!   applies them, fragments are timed the way its `mov_read_trun` times them, and
//!   broken tables are repaired the way it repairs them where that is safe, so a frame
//!   we put at a time is the frame ffmpeg shows there. The `edit_list` module explains
//!   the rules; an ignored corpus test (`tests/corpus.rs`) compares with ffmpeg's
//!   output on real files.
//! - **Defensive parsing.** Every count read from the file is checked against the
//!   bytes that could hold it before anything is allocated; sample counts, sample
//!   sizes, metadata sizes and repeated structures are checked against [`Limits`];
//!   offsets and times use checked arithmetic. Malformed input gives a typed
//!   [`Error`], never a panic.
//!
//! # What comes from mp4-atom and what is ours
//!
//! [mp4-atom](https://docs.rs/mp4-atom) decodes the fixed-layout header boxes:
//! `mvhd`, `tkhd`, `mdhd`, `hdlr` and `pasp`. The box walk, the sample-table
//! expansion, edit lists, fragments (`trex`, `tfhd`, `tfdt`, `trun`) and the sample
//! entry (so `avcC`/`av1C` are passed on as the file's own bytes, and `colr`'s range
//! flag is read as written) are implemented here, because they are where the
//! allocation, validation and timing decisions live.
//!
//! ```no_run
//! use stillframe_core::{Demuxer, Limits};
//! use stillframe_mp4::Mp4Demuxer;
//!
//! let file = std::fs::File::open("movie.mp4")?;
//! let mut demuxer = Mp4Demuxer::open(file, Limits::default())?;
//! let video = demuxer.tracks().iter().position(|t| t.video.is_some()).unwrap_or(0);
//! let first_shown = demuxer.samples(video)?.iter().position(|s| s.presented);
//! if let Some(sample) = first_shown {
//!     let packet = demuxer.read_sample(video, sample as u32)?;
//!     println!("{} bytes at pts {}", packet.data.len(), packet.pts);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod boxes;
mod edit_list;
mod fragments;
mod movie;
mod sample_table;
mod scan;
mod track_info;

#[cfg(test)]
mod tests;

use std::io::{Read, Seek, SeekFrom};

use stillframe_core::{
    ContainerKind, Demuxer, Error, Limits, Packet, Result, SampleInfo, Time, TrackInfo,
};

/// Timestamps read from a file are kept below this many ticks, so that sums of a
/// few of them and of 32-bit offsets never overflow an `i64`.
pub(crate) const MAX_TIME: i64 = 1 << 62;

/// An opened MP4 or QuickTime file.
///
/// Created by [`Mp4Demuxer::open`]; then used through [`Demuxer`].
pub struct Mp4Demuxer<R> {
    reader: R,
    file_len: u64,
    container: ContainerKind,
    duration: Option<Time>,
    tracks: Vec<TrackInfo>,
    samples: Vec<Vec<SampleInfo>>,
}

impl<R: Read + Seek + Send> Mp4Demuxer<R> {
    /// Reads the file's structure and builds every track's sample index.
    ///
    /// Fails with [`Error::Malformed`] for a file without a usable `moov`,
    /// [`Error::Unsupported`] for a media segment without its initialization segment,
    /// [`Error::Truncated`] when the `moov` is cut off, [`Error::Limit`] when a
    /// number in the file exceeds `limits`, and [`Error::Io`] when reading fails.
    /// Samples cut off by a truncated `mdat` are still indexed; reading them fails.
    pub fn open(mut reader: R, limits: Limits) -> Result<Self> {
        let (movie, file_len) = movie::read(&mut reader, &limits)?;
        Ok(Mp4Demuxer {
            reader,
            file_len,
            container: movie.container,
            duration: movie.duration,
            tracks: movie.tracks,
            samples: movie.samples,
        })
    }

    /// The length of the input in bytes, as measured at open.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Gives the reader back.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R> std::fmt::Debug for Mp4Demuxer<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mp4Demuxer")
            .field("container", &self.container)
            .field("file_len", &self.file_len)
            .field("tracks", &self.tracks.len())
            .finish()
    }
}

impl<R: Read + Seek + Send> Demuxer for Mp4Demuxer<R> {
    fn container(&self) -> ContainerKind {
        self.container
    }

    fn duration(&self) -> Option<Time> {
        self.duration
    }

    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn samples(&self, track: usize) -> Result<&[SampleInfo]> {
        self.samples
            .get(track)
            .map(Vec::as_slice)
            .ok_or_else(|| no_track(track, self.tracks.len()))
    }

    fn read_sample(&mut self, track: usize, sample: u32) -> Result<Packet> {
        let samples = self
            .samples
            .get(track)
            .ok_or_else(|| no_track(track, self.tracks.len()))?;
        let info = *samples.get(sample as usize).ok_or_else(|| {
            Error::malformed(
                format!("track {track}"),
                format!(
                    "no sample {sample}: the track has {} samples",
                    samples.len()
                ),
            )
        })?;
        let end = info.offset.saturating_add(u64::from(info.size));
        if end > self.file_len {
            return Err(Error::truncated(format!(
                "sample {sample} of track {track} lies at bytes {}..{end}, past the end of the file ({} bytes)",
                info.offset, self.file_len
            )));
        }
        self.reader.seek(SeekFrom::Start(info.offset))?;
        let mut data = vec![0u8; info.size as usize];
        self.reader.read_exact(&mut data)?;
        Ok(Packet {
            data,
            sample,
            pts: info.pts,
            dts: info.dts,
            sync: info.sync,
            description: info.description,
        })
    }
}

fn no_track(track: usize, count: usize) -> Error {
    Error::malformed(
        format!("track {track}"),
        format!("no such track: the file has {count} tracks"),
    )
}
