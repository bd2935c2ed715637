//! Element IDs used here, as written in the file (length marker bits kept).
//!
//! Names and values from RFC 8794 (EBML) and RFC 9559 (Matroska), § 5.1.

// EBML header (RFC 8794 § 11.2).
pub(crate) const EBML: u32 = 0x1A45_DFA3;
pub(crate) const EBML_VERSION: u32 = 0x4286;
pub(crate) const EBML_READ_VERSION: u32 = 0x42F7;
pub(crate) const EBML_MAX_ID_LENGTH: u32 = 0x42F2;
pub(crate) const EBML_MAX_SIZE_LENGTH: u32 = 0x42F3;
pub(crate) const DOC_TYPE: u32 = 0x4282;
pub(crate) const DOC_TYPE_READ_VERSION: u32 = 0x4285;

// Global elements, allowed anywhere (RFC 8794 § 11.3).
pub(crate) const VOID: u32 = 0xEC;
pub(crate) const CRC32: u32 = 0xBF;

// Level 0 and 1.
pub(crate) const SEGMENT: u32 = 0x1853_8067;
pub(crate) const SEEK_HEAD: u32 = 0x114D_9B74;
pub(crate) const INFO: u32 = 0x1549_A966;
pub(crate) const TRACKS: u32 = 0x1654_AE6B;
pub(crate) const CUES: u32 = 0x1C53_BB6B;
pub(crate) const CLUSTER: u32 = 0x1F43_B675;
pub(crate) const CHAPTERS: u32 = 0x1043_A770;
pub(crate) const TAGS: u32 = 0x1254_C367;
pub(crate) const ATTACHMENTS: u32 = 0x1941_A469;

// SeekHead.
pub(crate) const SEEK: u32 = 0x4DBB;
pub(crate) const SEEK_ID: u32 = 0x53AB;
pub(crate) const SEEK_POSITION: u32 = 0x53AC;

// Info.
pub(crate) const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
pub(crate) const DURATION: u32 = 0x4489;

// Tracks.
pub(crate) const TRACK_ENTRY: u32 = 0xAE;
pub(crate) const TRACK_NUMBER: u32 = 0xD7;
pub(crate) const TRACK_TYPE: u32 = 0x83;
pub(crate) const CODEC_ID: u32 = 0x86;
pub(crate) const CODEC_PRIVATE: u32 = 0x63A2;
pub(crate) const DEFAULT_DURATION: u32 = 0x23_E383;
pub(crate) const VIDEO: u32 = 0xE0;
pub(crate) const PIXEL_WIDTH: u32 = 0xB0;
pub(crate) const PIXEL_HEIGHT: u32 = 0xBA;
pub(crate) const PIXEL_CROP_BOTTOM: u32 = 0x54AA;
pub(crate) const PIXEL_CROP_TOP: u32 = 0x54BB;
pub(crate) const PIXEL_CROP_LEFT: u32 = 0x54CC;
pub(crate) const PIXEL_CROP_RIGHT: u32 = 0x54DD;
pub(crate) const DISPLAY_WIDTH: u32 = 0x54B0;
pub(crate) const DISPLAY_HEIGHT: u32 = 0x54BA;
pub(crate) const DISPLAY_UNIT: u32 = 0x54B2;
pub(crate) const STEREO_MODE: u32 = 0x53B8;
pub(crate) const COLOUR: u32 = 0x55B0;
pub(crate) const MATRIX_COEFFICIENTS: u32 = 0x55B1;
pub(crate) const RANGE: u32 = 0x55B9;
pub(crate) const TRANSFER_CHARACTERISTICS: u32 = 0x55BA;
pub(crate) const PRIMARIES: u32 = 0x55BB;
pub(crate) const PROJECTION: u32 = 0x7670;
pub(crate) const PROJECTION_TYPE: u32 = 0x7671;
pub(crate) const PROJECTION_POSE_YAW: u32 = 0x7673;
pub(crate) const PROJECTION_POSE_PITCH: u32 = 0x7674;
pub(crate) const PROJECTION_POSE_ROLL: u32 = 0x7675;
pub(crate) const CONTENT_ENCODINGS: u32 = 0x6D80;
pub(crate) const CONTENT_ENCODING: u32 = 0x6240;
pub(crate) const CONTENT_ENCODING_SCOPE: u32 = 0x5032;
pub(crate) const CONTENT_ENCODING_TYPE: u32 = 0x5033;
pub(crate) const CONTENT_COMPRESSION: u32 = 0x5034;
pub(crate) const CONTENT_COMP_ALGO: u32 = 0x4254;
pub(crate) const CONTENT_COMP_SETTINGS: u32 = 0x4255;

// Cues.
pub(crate) const CUE_POINT: u32 = 0xBB;
pub(crate) const CUE_TIME: u32 = 0xB3;
pub(crate) const CUE_TRACK_POSITIONS: u32 = 0xB7;
pub(crate) const CUE_TRACK: u32 = 0xF7;
pub(crate) const CUE_CLUSTER_POSITION: u32 = 0xF1;
pub(crate) const CUE_RELATIVE_POSITION: u32 = 0xF0;

// Cluster.
pub(crate) const TIMESTAMP: u32 = 0xE7;
pub(crate) const SIMPLE_BLOCK: u32 = 0xA3;
pub(crate) const BLOCK_GROUP: u32 = 0xA0;
pub(crate) const BLOCK: u32 = 0xA1;
pub(crate) const BLOCK_DURATION: u32 = 0x9B;
pub(crate) const REFERENCE_BLOCK: u32 = 0xFB;

/// True for the IDs that may only appear directly in a Segment: an unknown-size
/// Cluster ends where one of them (or a new EBML header) begins (RFC 8794 § 6.2).
pub(crate) fn ends_unknown_size_cluster(id: u32) -> bool {
    matches!(
        id,
        CLUSTER | CUES | SEEK_HEAD | INFO | TRACKS | CHAPTERS | TAGS | ATTACHMENTS | EBML | SEGMENT
    )
}
