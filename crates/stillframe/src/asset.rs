//! Opening a file and describing what is in it (what `stillframe probe` prints).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use stillframe_core::{
    Codec, CodedFormat, ContainerKind, Demuxer, Error, FrameRate, Limits, Orientation, PixelAspect,
    Result, SampleInfo, Time, TrackInfo, TrackKind,
};

use crate::codecs;

/// An opened media file: its container read, its tracks indexed, nothing decoded.
///
/// The counterpart of `AVAsset`. Make images from it with
/// [`crate::ImageGenerator::new`].
pub struct Asset {
    pub(crate) demuxer: Box<dyn Demuxer>,
    pub(crate) limits: Limits,
    info: AssetInfo,
}

impl std::fmt::Debug for Asset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Asset").field("info", &self.info).finish()
    }
}

/// What a file holds, as `stillframe probe` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetInfo {
    /// The container format.
    pub container: ContainerKind,
    /// Presentation duration of the file, if known.
    pub duration: Option<Time>,
    /// Every track, in file order.
    pub tracks: Vec<TrackSummary>,
}

/// One track, summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackSummary {
    /// Position among the file's tracks.
    pub index: usize,
    /// Video, audio, ...
    pub kind: TrackKind,
    /// Coding format.
    pub codec: Codec,
    /// Frames (samples) shown on the timeline, edit lists applied.
    pub frames: usize,
    /// Samples the container marks as sync.
    pub keyframes: usize,
    /// Video only: size after the codec's cropping, before rotation and pixel aspect.
    /// Falls back to the container's size when the codec configuration cannot be read.
    pub size: Option<(u32, u32)>,
    /// Video only: the clockwise turn and mirroring that show the picture upright.
    pub orientation: Orientation,
    /// Video only: pixel aspect ratio (container first, then bitstream; square if neither says).
    pub pixel_aspect: PixelAspect,
    /// Video only: what the codec configuration says, when it could be read.
    pub format: Option<CodedFormat>,
    /// The nominal frame rate where the file states one its timestamps were made
    /// by (raw streams: the bitstream's timing, an IVF time base, or 25 fps).
    pub frame_rate: Option<FrameRate>,
    /// Video only: why this track cannot be decoded here (its codec, or a profile or
    /// feature such as H.264 4:4:4), when it cannot.
    pub unsupported: Option<String>,
}

impl Asset {
    /// Opens the file at `path` with default [`Limits`].
    ///
    /// ```no_run
    /// let asset = stillframe::Asset::open("clip.mp4")?;
    /// println!("{} tracks", asset.info().tracks.len());
    /// # Ok::<(), stillframe::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Asset> {
        Asset::open_with_limits(path, Limits::default())
    }

    /// Opens the file at `path` with the given resource bounds.
    pub fn open_with_limits(path: impl AsRef<Path>, limits: Limits) -> Result<Asset> {
        let file = File::open(path)?;
        Asset::from_reader_with_limits(BufReader::with_capacity(64 * 1024, file), limits)
    }

    /// Opens any seekable byte source with default [`Limits`].
    pub fn from_reader<R: Read + Seek + Send + 'static>(reader: R) -> Result<Asset> {
        Asset::from_reader_with_limits(reader, Limits::default())
    }

    /// Opens any seekable byte source with the given resource bounds.
    pub fn from_reader_with_limits<R: Read + Seek + Send + 'static>(
        reader: R,
        limits: Limits,
    ) -> Result<Asset> {
        let demuxer = open_demuxer(reader, limits)?;
        let mut demuxer = demuxer;
        let info = describe(demuxer.as_mut(), &limits);
        Ok(Asset {
            demuxer,
            limits,
            info,
        })
    }

    /// Opens a byte source that cannot seek (a pipe, standard input): it is read
    /// whole into memory first, up to [`Limits::max_buffered_input_bytes`], because
    /// containers are read out of order.
    ///
    /// ```
    /// # let clip = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/high_bframes.mp4");
    /// let piped = std::fs::File::open(clip)?; // stands in for `std::io::stdin()`
    /// let asset = stillframe::Asset::from_unseekable_with_limits(piped, Default::default())?;
    /// assert_eq!(asset.info().tracks.len(), 2); // H.264 and AAC
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_unseekable_with_limits(reader: impl Read, limits: Limits) -> Result<Asset> {
        let cap = limits.max_buffered_input_bytes;
        let mut bytes = Vec::new();
        reader
            .take(cap.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("reading the input into memory", e))?;
        let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if read > cap {
            return Err(Error::Limit {
                what: "unseekable input (bytes read into memory)",
                value: read,
                limit: cap,
            });
        }
        Asset::from_reader_with_limits(std::io::Cursor::new(bytes), limits)
    }

    /// Indexes every track completely, so [`Asset::info`] counts every frame even in
    /// containers indexed lazily (Matroska without Cues). MP4 is complete from the start.
    pub fn index_fully(&mut self) -> Result<()> {
        let mut changed = false;
        for track in 0..self.demuxer.tracks().len() {
            let before = self.demuxer.samples(track)?.len();
            self.demuxer.index_until(track, Time::POSITIVE_INFINITY)?;
            changed |= self.demuxer.samples(track)?.len() != before;
        }
        if changed {
            self.info = describe(self.demuxer.as_mut(), &self.limits);
        }
        Ok(())
    }

    /// What the file holds. Frame counts of a lazily indexed container cover what has
    /// been indexed so far; see [`Asset::index_fully`].
    pub fn info(&self) -> &AssetInfo {
        &self.info
    }

    /// Every track as the container describes it.
    pub fn tracks(&self) -> &[TrackInfo] {
        self.demuxer.tracks()
    }

    /// The sample index of track `track` in decode order, timestamps on the
    /// presentation timeline (edit lists applied).
    pub fn samples(&self, track: usize) -> Result<&[SampleInfo]> {
        self.demuxer.samples(track)
    }

    /// The first video track, if any.
    pub fn first_video_track(&self) -> Option<&TrackInfo> {
        self.demuxer
            .tracks()
            .iter()
            .find(|t| t.kind == TrackKind::Video)
    }
}

/// Picks the container by its first bytes, so a misnamed file still opens: an
/// EBML header is Matroska or WebM, a raw elementary stream is told by its content
/// ([`stillframe_raw::probe`]), anything else is read as MP4/MOV.
fn open_demuxer<R: Read + Seek + Send + 'static>(
    mut reader: R,
    limits: Limits,
) -> Result<Box<dyn Demuxer>> {
    // The container magic numbers need 8 bytes; only a file that has neither is
    // read further for the raw-stream probe, so opening MP4 or Matroska costs no
    // extra read.
    let mut head = [0u8; 8];
    let read = read_up_to(&mut reader, &mut head)?;
    if read == 0 {
        return Err(Error::malformed("file", "the file is empty"));
    }
    let head = &head[..read];
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        reader.seek(SeekFrom::Start(0))?;
        // The DocType (matroska or webm) is the demuxer's to check.
        return Ok(Box::new(stillframe_mkv::MkvDemuxer::open(reader, limits)?));
    }
    let mp4_box = head
        .get(4..8)
        .is_some_and(|kind| MP4_TOP_LEVEL.contains(&kind));
    if !mp4_box {
        let mut window = vec![0u8; stillframe_raw::PROBE_BYTES];
        window[..read].copy_from_slice(head);
        let more = read_up_to(&mut reader, &mut window[read..])?;
        window.truncate(read + more);
        reader.seek(SeekFrom::Start(0))?;
        if stillframe_raw::probe(&window).is_some() {
            return Ok(Box::new(stillframe_raw::RawDemuxer::open(reader, limits)?));
        }
    }
    reader.seek(SeekFrom::Start(0))?;
    Ok(Box::new(stillframe_mp4::Mp4Demuxer::open(reader, limits)?))
}

/// Box types an MP4 or QuickTime file starts with.
const MP4_TOP_LEVEL: [&[u8]; 7] = [
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot",
];

fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(filled)
}

fn describe(demuxer: &mut dyn Demuxer, limits: &Limits) -> AssetInfo {
    let tracks: Vec<TrackInfo> = demuxer.tracks().to_vec();
    let tracks = tracks
        .iter()
        .map(|track| {
            // Parameter sets that come in-band (raw streams, avc3) are read from the
            // first sample.
            let first = match track.kind {
                TrackKind::Video if !demuxer.samples(track.index).unwrap_or(&[]).is_empty() => {
                    demuxer.read_sample(track.index, 0).ok()
                }
                _ => None,
            };
            let (format, unsupported) = match track.kind {
                TrackKind::Video => (
                    codecs::inspect(track, limits, first.as_ref()).ok(),
                    codecs::unsupported(track, first.as_ref()).map(|e| e.to_string()),
                ),
                _ => (None, None),
            };
            let samples = demuxer.samples(track.index).unwrap_or(&[]);
            let video = track.video.as_ref();
            TrackSummary {
                index: track.index,
                kind: track.kind,
                codec: track.codec.clone(),
                frames: samples.iter().filter(|s| s.presented).count(),
                keyframes: samples.iter().filter(|s| s.sync).count(),
                size: format
                    .as_ref()
                    .map(|f| (f.width, f.height))
                    .or_else(|| video.map(|v| (v.width, v.height))),
                orientation: video.map(|v| v.orientation).unwrap_or_default(),
                pixel_aspect: video
                    .and_then(|v| v.pixel_aspect)
                    .or_else(|| format.as_ref().and_then(|f| f.pixel_aspect))
                    .unwrap_or(PixelAspect::SQUARE),
                format,
                frame_rate: demuxer.frame_rate(track.index),
                unsupported,
            }
        })
        .collect();
    AssetInfo {
        container: demuxer.container(),
        duration: demuxer.duration(),
        tracks,
    }
}
