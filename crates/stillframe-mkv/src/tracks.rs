//! Segment Info and Tracks (RFC 9559 § 5.1.2 and § 5.1.4) into core track types.

use std::num::NonZeroU32;

use stillframe_core::{
    CleanAperture, Codec, ColourDescription, Error, Fraction, Location, Orientation, PixelAspect,
    Result, Time, TrackInfo, TrackKind, VideoInfo,
};

use crate::ebml::{self, Children, Header};
use crate::ids;

/// Nanoseconds per second: TimestampScale and DefaultDuration count nanoseconds.
const NANOS: u64 = 1_000_000_000;
/// Tracks per file we index; more is hostile.
pub(crate) const MAX_TRACKS: usize = 1024;

/// How segment ticks (TimestampScale nanoseconds each) become track ticks: exactly,
/// as `ticks × multiplier` over `timescale`, where `timescale = 10⁹ / gcd(10⁹, scale)`.
/// With the usual scale of 1 ms this is 1000 ticks per second and a multiplier of 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timebase {
    /// Ticks per second of every track's samples.
    pub(crate) timescale: NonZeroU32,
    /// Track ticks per segment tick.
    pub(crate) multiplier: u64,
    /// TimestampScale: nanoseconds per segment tick.
    pub(crate) scale_ns: u64,
}

impl Timebase {
    /// The timebase for a TimestampScale of `scale_ns` nanoseconds.
    pub(crate) fn new(scale_ns: u64) -> Result<Timebase> {
        if scale_ns == 0 {
            return Err(Error::malformed(
                "Info/TimestampScale",
                "TimestampScale is 0",
            ));
        }
        let divisor = gcd(NANOS, scale_ns);
        let timescale = u32::try_from(NANOS / divisor)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(|| Error::malformed("Info/TimestampScale", "no timescale"))?;
        Ok(Timebase {
            timescale,
            multiplier: scale_ns / divisor,
            scale_ns,
        })
    }

    /// Segment ticks in track ticks, or `None` on overflow.
    pub(crate) fn ticks(&self, segment_ticks: i64) -> Option<i64> {
        segment_ticks.checked_mul(i64::try_from(self.multiplier).ok()?)
    }

    /// Nanoseconds (DefaultDuration) in track ticks, rounded to the nearest.
    pub(crate) fn nanos_to_ticks(&self, nanos: u64) -> u64 {
        let per_tick = u128::from(NANOS / u64::from(self.timescale.get()));
        let ticks = (u128::from(nanos) + per_tick / 2) / per_tick.max(1);
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// What Segment Info says.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SegmentInfo {
    pub(crate) timebase: Timebase,
    pub(crate) duration: Option<Time>,
}

/// Reads Segment Info: TimestampScale (default 1 ms) and Duration.
pub(crate) fn parse_info(body: Option<(&[u8], &Header)>) -> Result<SegmentInfo> {
    let mut scale = 1_000_000;
    let mut duration = None;
    if let Some((body, header)) = body {
        for child in Children::new(body, header.data_offset, "Info") {
            let (child, data) = child?;
            match child.id {
                ids::TIMESTAMP_SCALE => scale = ebml::require_uint(data, &child, "TimestampScale")?,
                ids::DURATION => duration = ebml::float(data),
                _ => {}
            }
        }
    }
    let timebase = Timebase::new(scale)?;
    // Duration is a float count of segment ticks; kept in nanoseconds, to the nearest.
    let duration = duration
        .map(|ticks| ticks * scale as f64)
        .filter(|nanos| nanos.is_finite() && *nanos >= 0.0 && *nanos < 9.0e18)
        .and_then(|nanos| Time::new(nanos.round() as i64, NANOS as u32));
    Ok(SegmentInfo { timebase, duration })
}

/// How a track's frames are stored (RFC 9559 § 5.1.4.1.31).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// As they are.
    Plain,
    /// Header stripping: every frame lost these leading bytes (ContentCompAlgo 3).
    StrippedHeader(Vec<u8>),
    /// Compressed or encrypted in a way we do not undo.
    Unsupported(String),
}

/// One track: the core description plus what indexing needs.
#[derive(Debug, Clone)]
pub(crate) struct Track {
    pub(crate) info: TrackInfo,
    /// TrackNumber, as blocks name their track.
    pub(crate) number: u64,
    /// DefaultDuration in track ticks.
    pub(crate) default_duration: Option<u64>,
    pub(crate) encoding: Encoding,
}

/// Reads the Tracks element.
pub(crate) fn parse_tracks(
    body: &[u8],
    header: &Header,
    timebase: &Timebase,
) -> Result<Vec<Track>> {
    let mut tracks: Vec<Track> = Vec::new();
    for entry in Children::new(body, header.data_offset, "Tracks") {
        let (entry, data) = entry?;
        if entry.id != ids::TRACK_ENTRY {
            continue;
        }
        if tracks.len() >= MAX_TRACKS {
            return Err(Error::Limit {
                what: "Matroska tracks",
                value: MAX_TRACKS as u64 + 1,
                limit: MAX_TRACKS as u64,
            });
        }
        let Some(track) = parse_entry(data, &entry, tracks.len(), timebase)? else {
            continue;
        };
        // Blocks find their track by number, so a repeated number is unusable.
        if tracks.iter().any(|t| t.number == track.number) {
            log::debug!(
                "track number {} repeated; later entry ignored",
                track.number
            );
            continue;
        }
        tracks.push(track);
    }
    Ok(tracks)
}

fn parse_entry(
    data: &[u8],
    entry: &Header,
    index: usize,
    timebase: &Timebase,
) -> Result<Option<Track>> {
    let mut number = 0;
    let mut track_type = 0;
    let mut codec_id = String::new();
    let mut codec_private = Vec::new();
    let mut default_duration = None;
    let mut video = None;
    let mut encoding = Encoding::Plain;
    let mut private_prefix = None;
    for child in Children::new(data, entry.data_offset, "TrackEntry") {
        let (child, value) = child?;
        match child.id {
            ids::TRACK_NUMBER => number = ebml::require_uint(value, &child, "TrackNumber")?,
            ids::TRACK_TYPE => track_type = ebml::require_uint(value, &child, "TrackType")?,
            ids::CODEC_ID => codec_id = ebml::string(value),
            ids::CODEC_PRIVATE => codec_private = value.to_vec(),
            ids::DEFAULT_DURATION => {
                default_duration = ebml::uint(value).filter(|&d| d > 0);
            }
            ids::VIDEO => video = Some(parse_video(value, &child)?),
            ids::CONTENT_ENCODINGS => (encoding, private_prefix) = parse_encodings(value, &child)?,
            _ => {}
        }
    }
    if number == 0 {
        log::debug!("TrackEntry at {} has no TrackNumber; ignored", entry.offset);
        return Ok(None);
    }
    if let Some(prefix) = private_prefix {
        codec_private.splice(0..0, prefix);
    }
    let kind = match track_type {
        1 => TrackKind::Video,
        2 => TrackKind::Audio,
        0x11 => TrackKind::Subtitle,
        _ => TrackKind::Other,
    };
    let video = match kind {
        TrackKind::Video => Some(video.unwrap_or_default().into_info()),
        _ => None,
    };
    Ok(Some(Track {
        info: TrackInfo {
            index,
            id: number,
            kind,
            codec: codec_from_id(&codec_id, &codec_private),
            timescale: timebase.timescale,
            duration: None,
            codec_config: codec_private,
            extra_configs: Vec::new(),
            video,
        },
        number,
        default_duration: default_duration.map(|ns| timebase.nanos_to_ticks(ns).max(1)),
        encoding,
    }))
}

/// Our codec for a Matroska CodecID (RFC 9559 § 5.1.4.1.21 and the codec mappings).
fn codec_from_id(id: &str, private: &[u8]) -> Codec {
    let name = match id {
        "V_MPEG4/ISO/AVC" => return Codec::H264,
        "V_AV1" => return Codec::Av1,
        "V_MPEGH/ISO/HEVC" => return Codec::Hevc,
        "V_VP9" => return Codec::Vp9,
        "V_VP8" => "vp8",
        "V_FFV1" => "ffv1",
        "V_MPEG1" => "mpeg1video",
        "V_MPEG2" => "mpeg2video",
        "V_THEORA" => "theora",
        "V_PRORES" => "prores",
        "V_MS/VFW/FOURCC" => return vfw_codec(private),
        "A_OPUS" => "opus",
        "A_VORBIS" => "vorbis",
        "A_FLAC" => "flac",
        "A_AC3" => "ac3",
        "A_EAC3" => "eac3",
        "A_DTS" => "dts",
        "A_MPEG/L3" => "mp3",
        "A_MPEG/L2" => "mp2",
        "S_TEXT/UTF8" => "subrip",
        "S_TEXT/ASS" | "S_TEXT/SSA" => "ass",
        "S_TEXT/WEBVTT" => "webvtt",
        "S_VOBSUB" => "dvd_subtitle",
        "S_HDMV/PGS" => "hdmv_pgs_subtitle",
        _ if id.starts_with("V_MPEG4/ISO/") => "mpeg4",
        _ if id.starts_with("A_AAC") => "aac",
        _ if id.starts_with("A_PCM/") => "pcm",
        _ => return Codec::Other(id.to_ascii_lowercase()),
    };
    Codec::Other(name.to_owned())
}

/// A VfW-wrapped track: the codec is the FourCC of its BITMAPINFOHEADER (bytes 16..20).
fn vfw_codec(private: &[u8]) -> Codec {
    match private.get(16..20) {
        Some(b"H264" | b"h264" | b"AVC1" | b"avc1") => Codec::Other("h264 (vfw)".to_owned()),
        Some(fourcc) => Codec::Other(String::from_utf8_lossy(fourcc).trim().to_ascii_lowercase()),
        None => Codec::Other("vfw".to_owned()),
    }
}

/// The Video element's fields we use.
#[derive(Debug, Default)]
struct VideoElement {
    pixel_width: u64,
    pixel_height: u64,
    display_width: Option<u64>,
    display_height: Option<u64>,
    display_unit: u64,
    stereo_mode: u64,
    crop: [u64; 4], // left, right, top, bottom
    colour: ColourDescription,
    orientation: Orientation,
}

fn parse_video(data: &[u8], video: &Header) -> Result<VideoElement> {
    let mut element = VideoElement::default();
    for child in Children::new(data, video.data_offset, "Video") {
        let (child, value) = child?;
        let number = || ebml::require_uint(value, &child, "Video");
        match child.id {
            ids::PIXEL_WIDTH => element.pixel_width = number()?,
            ids::PIXEL_HEIGHT => element.pixel_height = number()?,
            ids::DISPLAY_WIDTH => element.display_width = Some(number()?),
            ids::DISPLAY_HEIGHT => element.display_height = Some(number()?),
            ids::DISPLAY_UNIT => element.display_unit = number()?,
            ids::STEREO_MODE => element.stereo_mode = number()?,
            ids::PIXEL_CROP_LEFT => element.crop[0] = number()?,
            ids::PIXEL_CROP_RIGHT => element.crop[1] = number()?,
            ids::PIXEL_CROP_TOP => element.crop[2] = number()?,
            ids::PIXEL_CROP_BOTTOM => element.crop[3] = number()?,
            ids::COLOUR => element.colour = parse_colour(value, &child)?,
            ids::PROJECTION => element.orientation = parse_projection(value, &child)?,
            _ => {}
        }
    }
    Ok(element)
}

impl VideoElement {
    fn into_info(self) -> VideoInfo {
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        VideoInfo {
            width: clamp(self.pixel_width),
            height: clamp(self.pixel_height),
            orientation: self.orientation,
            pixel_aspect: self.pixel_aspect(),
            clean_aperture: self.clean_aperture(),
            colour: self.colour,
        }
    }

    /// The sample aspect ratio as ffmpeg 5.1's matroskadec computes it:
    /// `PixelHeight × DisplayWidth : PixelWidth × DisplayHeight`, a missing display
    /// side defaulting to the pixel side, stereo layouts doubling one side, and
    /// DisplayUnit 4 ("unknown") meaning no ratio. `None` when the file states no
    /// display size, so the bitstream's ratio can apply.
    fn pixel_aspect(&self) -> Option<PixelAspect> {
        // StereoMode values whose two views sit side by side or one above the other.
        let (width_mul, height_mul) = match self.stereo_mode {
            1 | 8 | 9 | 11 => (2, 1),
            2 | 3 | 6 | 7 => (1, 2),
            _ => (1, 1),
        };
        let stated = self.display_width.is_some() || self.display_height.is_some();
        if !stated && (width_mul, height_mul) == (1, 1) || self.display_unit >= 4 {
            return None;
        }
        let display_width = self.display_width.unwrap_or(self.pixel_width);
        let display_height = self.display_height.unwrap_or(self.pixel_height);
        let horizontal = u128::from(self.pixel_height) * u128::from(display_width) * width_mul;
        let vertical = u128::from(self.pixel_width) * u128::from(display_height) * height_mul;
        if horizontal == 0 || vertical == 0 {
            return None;
        }
        let divisor = gcd128(horizontal, vertical);
        PixelAspect::new(
            u32::try_from(horizontal / divisor).ok()?,
            u32::try_from(vertical / divisor).ok()?,
        )
    }

    /// PixelCrop* as a clean aperture: the kept size, and its centre's offset from the
    /// picture's centre, `(left − right) / 2` rightward and `(top − bottom) / 2` downward.
    fn clean_aperture(&self) -> Option<CleanAperture> {
        let [left, right, top, bottom] = self.crop;
        if self.crop == [0; 4] {
            return None;
        }
        let width = self.pixel_width.checked_sub(left)?.checked_sub(right)?;
        let height = self.pixel_height.checked_sub(top)?.checked_sub(bottom)?;
        if width == 0 || height == 0 {
            return None;
        }
        let whole = |v: u64| -> Option<Fraction> {
            Some(Fraction {
                numerator: i64::try_from(v).ok()?,
                denominator: 1,
            })
        };
        let half_difference = |a: u64, b: u64| -> Option<Fraction> {
            Some(Fraction {
                numerator: i64::try_from(a).ok()?.checked_sub(i64::try_from(b).ok()?)?,
                denominator: 2,
            })
        };
        Some(CleanAperture {
            width: whole(width)?,
            height: whole(height)?,
            horizontal_offset: half_difference(left, right)?,
            vertical_offset: half_difference(top, bottom)?,
        })
    }
}

fn gcd128(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// The Colour element (RFC 9559 § 5.1.4.1.28.16): H.273 code points as they are.
fn parse_colour(data: &[u8], colour: &Header) -> Result<ColourDescription> {
    let mut description = ColourDescription::UNSPECIFIED;
    let code = |value: u64| u8::try_from(value).unwrap_or(ColourDescription::UNSPECIFIED_CODE);
    for child in Children::new(data, colour.data_offset, "Colour") {
        let (child, value) = child?;
        // Colour also holds masters (MasteringMetadata): only the code points are read.
        let coded = [
            ids::MATRIX_COEFFICIENTS,
            ids::TRANSFER_CHARACTERISTICS,
            ids::PRIMARIES,
            ids::RANGE,
        ];
        if !coded.contains(&child.id) {
            continue;
        }
        let number = ebml::require_uint(value, &child, "Colour")?;
        match child.id {
            ids::MATRIX_COEFFICIENTS => description.matrix = code(number),
            ids::TRANSFER_CHARACTERISTICS => description.transfer = code(number),
            ids::PRIMARIES => description.primaries = code(number),
            // 1 = broadcast (limited), 2 = full, 0/3 = not stated here.
            ids::RANGE => {
                description.full_range = match number {
                    1 => Some(false),
                    2 => Some(true),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    Ok(description)
}

/// The Projection pose as ffmpeg 5.1 turns it into a display matrix: only for the
/// rectangular projection, only without pitch, yaw 0 or ±180 (a mirror), and roll a
/// counter-clockwise turn. Turns other than multiples of 90° are not shown.
fn parse_projection(data: &[u8], projection: &Header) -> Result<Orientation> {
    let (mut kind, mut yaw, mut pitch, mut roll) = (0, 0.0, 0.0, 0.0);
    for child in Children::new(data, projection.data_offset, "Projection") {
        let (child, value) = child?;
        let float = || {
            ebml::float(value).ok_or_else(|| {
                Error::malformed(
                    Location::at("Projection", child.offset),
                    format!("a float of {} bytes", value.len()),
                )
            })
        };
        match child.id {
            ids::PROJECTION_TYPE => kind = ebml::require_uint(value, &child, "ProjectionType")?,
            ids::PROJECTION_POSE_YAW => yaw = float()?,
            ids::PROJECTION_POSE_PITCH => pitch = float()?,
            ids::PROJECTION_POSE_ROLL => roll = float()?,
            _ => {}
        }
    }
    let mirrored = yaw == 180.0 || yaw == -180.0;
    if kind != 0 || pitch != 0.0 || !(yaw == 0.0 || mirrored) || !roll.is_finite() {
        return Ok(Orientation::default());
    }
    // ffmpeg: av_display_rotation_set(roll × (mirrored ? 1 : −1)), then a horizontal
    // flip when mirrored. Expressed as a tkhd-style matrix for Orientation::from_matrix.
    let quarter_turns = roll / 90.0;
    if quarter_turns.fract() != 0.0 || quarter_turns.abs() > 1e6 {
        return Ok(Orientation::default());
    }
    let angle = if mirrored { roll } else { -roll };
    let (cos, sin) = match ((-angle / 90.0) as i64).rem_euclid(4) {
        0 => (1, 0),
        1 => (0, 1),
        2 => (-1, 0),
        _ => (0, -1),
    };
    let one = 1i64 << 16;
    let (mut a, b, mut c, d) = (cos * one, -sin * one, sin * one, cos * one);
    if mirrored {
        a = -a;
        c = -c;
    }
    Ok(Orientation::from_matrix(a, b, c, d).unwrap_or_default())
}

/// ContentEncodings: header stripping is undone on read; anything else is named.
/// Returns the frame encoding and the prefix to put back on CodecPrivate, if any.
fn parse_encodings(data: &[u8], encodings: &Header) -> Result<(Encoding, Option<Vec<u8>>)> {
    let mut found = Vec::new();
    for encoding in Children::new(data, encodings.data_offset, "ContentEncodings") {
        let (encoding, body) = encoding?;
        if encoding.id != ids::CONTENT_ENCODING {
            continue;
        }
        let (mut scope, mut kind, mut algorithm, mut settings) = (1, 0, 0, Vec::new());
        for child in Children::new(body, encoding.data_offset, "ContentEncoding") {
            let (child, value) = child?;
            match child.id {
                ids::CONTENT_ENCODING_SCOPE => {
                    scope = ebml::require_uint(value, &child, "ContentEncodingScope")?
                }
                ids::CONTENT_ENCODING_TYPE => {
                    kind = ebml::require_uint(value, &child, "ContentEncodingType")?
                }
                ids::CONTENT_COMPRESSION => {
                    for part in Children::new(value, child.data_offset, "ContentCompression") {
                        let (part, bytes) = part?;
                        match part.id {
                            ids::CONTENT_COMP_ALGO => {
                                algorithm = ebml::require_uint(bytes, &part, "ContentCompAlgo")?
                            }
                            ids::CONTENT_COMP_SETTINGS => settings = bytes.to_vec(),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        found.push((scope, kind, algorithm, settings));
    }
    let Some((scope, kind, algorithm, settings)) = found.first().cloned() else {
        return Ok((Encoding::Plain, None));
    };
    if found.len() > 1 {
        return Ok((
            Encoding::Unsupported("several ContentEncodings".into()),
            None,
        ));
    }
    if kind != 0 {
        return Ok((Encoding::Unsupported("encrypted frames".into()), None));
    }
    let private = (scope & 2 != 0 && algorithm == 3).then(|| settings.clone());
    let frames = match (scope & 1 != 0, algorithm) {
        (false, _) => Encoding::Plain,
        (true, 3) => Encoding::StrippedHeader(settings),
        (true, 0) => Encoding::Unsupported("zlib-compressed frames".into()),
        (true, 1) => Encoding::Unsupported("bzlib-compressed frames".into()),
        (true, 2) => Encoding::Unsupported("LZO-compressed frames".into()),
        (true, other) => Encoding::Unsupported(format!("ContentCompAlgo {other}")),
    };
    Ok((frames, private))
}
