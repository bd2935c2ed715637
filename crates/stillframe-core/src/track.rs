//! What a container and a codec say about a track.

use std::num::NonZeroU32;

use crate::Time;

/// The container format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerKind {
    /// ISO base media file (`.mp4`, `.m4v`), fragmented or not.
    Mp4,
    /// QuickTime (`.mov`): an `ftyp` of `qt  ` or no `ftyp` at all.
    Mov,
    /// Matroska (`.mkv`).
    Matroska,
    /// WebM, the Matroska subset browsers write.
    WebM,
    /// A raw H.264 Annex B elementary stream (`.264`, `.h264`, `.jsv`).
    H264,
    /// A raw HEVC Annex B elementary stream (`.265`, `.hevc`).
    Hevc,
    /// IVF, the frame-length-prefixed file libvpx and libaom write (AV1, VP9).
    Ivf,
    /// A raw AV1 stream: low-overhead OBUs (AV1 § 5) or length-delimited Annex B.
    Obu,
}

impl ContainerKind {
    /// The name used by `stillframe probe`: `mp4`, `mov`, `matroska`, `webm`, or for
    /// elementary streams `h264`, `hevc`, `ivf`, `obu`.
    pub const fn name(self) -> &'static str {
        match self {
            ContainerKind::Mp4 => "mp4",
            ContainerKind::Mov => "mov",
            ContainerKind::Matroska => "matroska",
            ContainerKind::WebM => "webm",
            ContainerKind::H264 => "h264",
            ContainerKind::Hevc => "hevc",
            ContainerKind::Ivf => "ivf",
            ContainerKind::Obu => "obu",
        }
    }

    /// True for the raw elementary streams, whose timestamps come from the
    /// bitstream (or a default rate) rather than from a container.
    pub const fn is_elementary_stream(self) -> bool {
        matches!(
            self,
            ContainerKind::H264 | ContainerKind::Hevc | ContainerKind::Ivf | ContainerKind::Obu
        )
    }
}

/// A nominal frame rate, `numerator / denominator` frames a second, and where it
/// came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRate {
    /// Frames per `denominator` seconds.
    pub numerator: u32,
    /// Seconds per `numerator` frames.
    pub denominator: u32,
    /// Who says so.
    pub source: RateSource,
}

/// Where a [`FrameRate`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateSource {
    /// The bitstream states it: H.264/HEVC VUI timing, AV1 `timing_info`.
    Bitstream,
    /// The container states it (an IVF time base, a Matroska default duration).
    Container,
    /// Nothing states it: 25 frames a second, as ffmpeg assumes for raw streams.
    Default,
}

impl RateSource {
    /// `bitstream`, `container` or `default`, as `stillframe probe` prints it.
    pub const fn name(self) -> &'static str {
        match self {
            RateSource::Bitstream => "bitstream",
            RateSource::Container => "container",
            RateSource::Default => "default",
        }
    }
}

/// What a track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackKind {
    /// Pictures.
    Video,
    /// Sound.
    Audio,
    /// Subtitles or captions.
    Subtitle,
    /// Timed metadata, hints and anything else.
    Other,
}

impl TrackKind {
    /// The name used by `stillframe probe`.
    pub const fn name(self) -> &'static str {
        match self {
            TrackKind::Video => "video",
            TrackKind::Audio => "audio",
            TrackKind::Subtitle => "subtitle",
            TrackKind::Other => "data",
        }
    }
}

/// The coding format of a track.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Codec {
    /// H.264 / AVC (`avc1`, `avc3`, `V_MPEG4/ISO/AVC`).
    H264,
    /// HEVC / H.265 (`hvc1`, `hev1`, Dolby Vision `dvh1`/`dvhe`, `V_MPEGH/ISO/HEVC`).
    Hevc,
    /// VP9 (`vp09`, `V_VP9`).
    Vp9,
    /// AV1 (`av01`, `V_AV1`).
    Av1,
    /// Anything else, by a short lowercase name such as `vp8`, `mpeg4` or `aac`.
    Other(String),
}

impl Codec {
    /// The name used by `stillframe probe`.
    pub fn name(&self) -> &str {
        match self {
            Codec::H264 => "h264",
            Codec::Hevc => "hevc",
            Codec::Vp9 => "vp9",
            Codec::Av1 => "av1",
            Codec::Other(name) => name,
        }
    }
}

/// One track of a file, as its container describes it.
#[derive(Debug, Clone)]
pub struct TrackInfo {
    /// Position among the file's tracks, from 0.
    pub index: usize,
    /// The container's own identifier (MP4 `track_ID`, Matroska `TrackNumber`).
    pub id: u64,
    /// Video, audio, ...
    pub kind: TrackKind,
    /// The coding format.
    pub codec: Codec,
    /// Ticks per second of this track's sample timestamps.
    pub timescale: NonZeroU32,
    /// How long the track lasts on the presentation timeline, if known.
    pub duration: Option<Time>,
    /// The codec configuration record of the first sample description: `avcC`,
    /// `hvcC`, `vpcC` or `av1C` payload, or Matroska `CodecPrivate`.
    pub codec_config: Vec<u8>,
    /// The configuration records of further sample descriptions (MP4 `stsd`
    /// entries 2, 3, ...), for streams whose parameters change mid-track; a
    /// packet's [`crate::Packet::description`] says which applies.
    pub extra_configs: Vec<Vec<u8>>,
    /// Picture properties, for video tracks.
    pub video: Option<VideoInfo>,
}

impl TrackInfo {
    /// The configuration record of sample description `description` (0 is
    /// [`TrackInfo::codec_config`]), or `None` past the last one.
    pub fn config(&self, description: u16) -> Option<&[u8]> {
        match description {
            0 => Some(&self.codec_config),
            n => self
                .extra_configs
                .get(usize::from(n) - 1)
                .map(Vec::as_slice),
        }
    }
}

/// Picture properties a container states for a video track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoInfo {
    /// Width the container states (MP4 sample entry, Matroska `PixelWidth`).
    pub width: u32,
    /// Height the container states.
    pub height: u32,
    /// How to turn the decoded picture to show it upright.
    pub orientation: Orientation,
    /// Pixel aspect ratio from the container (MP4 `pasp`, Matroska display size), if stated.
    pub pixel_aspect: Option<PixelAspect>,
    /// Clean aperture from the container (MP4 `clap`, Matroska `PixelCrop*`), if stated.
    pub clean_aperture: Option<CleanAperture>,
    /// Colour description from the container (MP4 `colr nclx`, Matroska `Colour`).
    pub colour: ColourDescription,
}

/// What a codec's configuration (SPS, sequence header) says about its pictures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodedFormat {
    /// The codec's profile as its specification names it (`High`, `Constrained Baseline`).
    pub profile: String,
    /// Visible width: the coded width less the codec's cropping.
    pub width: u32,
    /// Visible height: the coded height less the codec's cropping.
    pub height: u32,
    /// The codec's cropping of the coded picture.
    pub crop: Crop,
    /// Sample aspect ratio from the bitstream (H.264 VUI), if stated.
    pub pixel_aspect: Option<PixelAspect>,
    /// Colour description from the bitstream.
    pub colour: ColourDescription,
    /// Bits per sample.
    pub bit_depth: u8,
    /// Chroma subsampling.
    pub chroma: ChromaFormat,
}

/// Pixels removed from each edge of the coded picture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Crop {
    /// Columns removed on the left.
    pub left: u32,
    /// Columns removed on the right.
    pub right: u32,
    /// Rows removed at the top.
    pub top: u32,
    /// Rows removed at the bottom.
    pub bottom: u32,
}

/// Width : height of one pixel (1:1 is square).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelAspect {
    /// Horizontal spacing.
    pub horizontal: u32,
    /// Vertical spacing.
    pub vertical: u32,
}

impl PixelAspect {
    /// Square pixels.
    pub const SQUARE: PixelAspect = PixelAspect {
        horizontal: 1,
        vertical: 1,
    };

    /// A ratio in lowest terms; `None` if either side is zero (meaning "unknown" in MP4 and H.264).
    pub fn new(horizontal: u32, vertical: u32) -> Option<PixelAspect> {
        if horizontal == 0 || vertical == 0 {
            return None;
        }
        let mut a = horizontal;
        let mut b = vertical;
        while b != 0 {
            (a, b) = (b, a % b);
        }
        Some(PixelAspect {
            horizontal: horizontal / a,
            vertical: vertical / a,
        })
    }

    /// True for 1:1.
    pub fn is_square(&self) -> bool {
        self.horizontal == self.vertical
    }
}

/// An exact signed fraction, as MP4 `clap` stores its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fraction {
    /// Numerator.
    pub numerator: i64,
    /// Denominator, never zero in a valid value.
    pub denominator: u64,
}

/// The clean aperture: the part of the picture meant to be seen (ISO 14496-12 § 12.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CleanAperture {
    /// Width of the clean area, in pixels.
    pub width: Fraction,
    /// Height of the clean area, in pixels.
    pub height: Fraction,
    /// Offset of its centre from the picture's centre, rightward.
    pub horizontal_offset: Fraction,
    /// Offset of its centre from the picture's centre, downward.
    pub vertical_offset: Fraction,
}

/// Rotation and mirroring that show a decoded picture upright.
///
/// Mirroring (a horizontal flip) applies first, then the clockwise rotation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Orientation {
    /// Clockwise turn in degrees: 0, 90, 180 or 270.
    pub rotation: u16,
    /// Flip left-right before rotating.
    pub mirrored: bool,
}

impl Orientation {
    /// Reads the 2×2 part of a display matrix (`tkhd`, 16.16 fixed point), where a
    /// picture point `(x, y)` (y downward) is shown at `(a·x + c·y, b·x + d·y)`.
    ///
    /// Returns `None` unless the matrix is a multiple of 90° (with or without a flip),
    /// up to scale; callers then show the picture as decoded.
    ///
    /// ```
    /// use stillframe_core::Orientation;
    /// const ONE: i64 = 1 << 16;
    /// // The iPhone portrait matrix: turn 90° clockwise.
    /// assert_eq!(Orientation::from_matrix(0, ONE, -ONE, 0).map(|o| o.rotation), Some(90));
    /// assert_eq!(Orientation::from_matrix(ONE, 0, 0, ONE), Some(Orientation::default()));
    /// ```
    pub fn from_matrix(a: i64, b: i64, c: i64, d: i64) -> Option<Orientation> {
        let determinant = i128::from(a) * i128::from(d) - i128::from(b) * i128::from(c);
        let mirrored = determinant < 0;
        // With a flip, the first column is the rotation's first column negated.
        let (cos, sin) = if mirrored { (-a, -b) } else { (a, b) };
        // Flipped or not, the second column is the rotation's: (−sin, cos).
        if (c, d) != (-sin, cos) || determinant == 0 {
            return None;
        }
        let rotation = match (cos.signum(), sin.signum()) {
            (1, 0) => 0,
            (0, 1) => 90,
            (-1, 0) => 180,
            (0, -1) => 270,
            _ => return None,
        };
        Some(Orientation { rotation, mirrored })
    }

    /// True when width and height trade places.
    pub const fn swaps_axes(&self) -> bool {
        self.rotation % 180 == 90
    }
}

/// Chroma subsampling of a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChromaFormat {
    /// Luma only.
    Monochrome,
    /// Chroma halved both ways.
    Yuv420,
    /// Chroma halved horizontally.
    Yuv422,
    /// Full-resolution chroma.
    Yuv444,
}

impl ChromaFormat {
    /// `(horizontal, vertical)` log2 subsampling of the chroma planes.
    pub const fn subsampling(self) -> (u32, u32) {
        match self {
            ChromaFormat::Yuv420 => (1, 1),
            ChromaFormat::Yuv422 => (1, 0),
            ChromaFormat::Yuv444 | ChromaFormat::Monochrome => (0, 0),
        }
    }
}

/// Colour description, with code points of ITU-T H.273 (as H.264 VUI, AV1, MP4 `nclx`
/// and Matroska all use). `2` means unspecified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColourDescription {
    /// Colour primaries (1 = BT.709, 9 = BT.2020, ...).
    pub primaries: u8,
    /// Transfer characteristics (1 = BT.709, 16 = PQ, 18 = HLG, ...).
    pub transfer: u8,
    /// Matrix coefficients (1 = BT.709, 5/6 = BT.601, 9 = BT.2020 NCL, 0 = RGB).
    pub matrix: u8,
    /// Full (`Some(true)`) or limited (`Some(false)`) range, if stated.
    pub full_range: Option<bool>,
}

impl ColourDescription {
    /// Code point meaning "unspecified".
    pub const UNSPECIFIED_CODE: u8 = 2;

    /// Nothing stated.
    pub const UNSPECIFIED: ColourDescription = ColourDescription {
        primaries: 2,
        transfer: 2,
        matrix: 2,
        full_range: None,
    };

    /// Takes each field from `self` where stated, else from `fallback`.
    ///
    /// ```
    /// use stillframe_core::ColourDescription;
    /// let bitstream = ColourDescription { matrix: 1, ..ColourDescription::UNSPECIFIED };
    /// let container = ColourDescription { matrix: 6, full_range: Some(true), ..ColourDescription::UNSPECIFIED };
    /// let merged = bitstream.or(container);
    /// assert_eq!((merged.matrix, merged.full_range), (1, Some(true)));
    /// ```
    pub fn or(self, fallback: ColourDescription) -> ColourDescription {
        let pick = |own: u8, other: u8| {
            if own == Self::UNSPECIFIED_CODE {
                other
            } else {
                own
            }
        };
        ColourDescription {
            primaries: pick(self.primaries, fallback.primaries),
            transfer: pick(self.transfer, fallback.transfer),
            matrix: pick(self.matrix, fallback.matrix),
            full_range: self.full_range.or(fallback.full_range),
        }
    }
}

impl Default for ColourDescription {
    fn default() -> Self {
        ColourDescription::UNSPECIFIED
    }
}
