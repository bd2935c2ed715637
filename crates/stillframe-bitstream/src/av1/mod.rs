//! AV1 syntax (AV1 Bitstream & Decoding Process Specification, with Errata):
//! OBUs (§ 5.3), the `av1C` record (AV1-ISOBMFF § 2.3), sequence headers (§ 5.5)
//! and as much of each frame header (§ 5.9) as random access and skipping need.

mod av1c;
mod inspect;
mod obu;
mod sequence;
mod temporal_unit;

pub use av1c::{parse_av1c, Av1Config};
pub use inspect::Av1Inspector;
pub use obu::{
    split_obus, write_obu, Obu, OBU_FRAME, OBU_FRAME_HEADER, OBU_METADATA, OBU_PADDING,
    OBU_REDUNDANT_FRAME_HEADER, OBU_SEQUENCE_HEADER, OBU_TEMPORAL_DELIMITER, OBU_TILE_GROUP,
    OBU_TILE_LIST,
};
pub use sequence::{OperatingPoint, SequenceHeader, SELECT};
pub use temporal_unit::{after_temporal_delimiter, FrameHeader, FrameType, TemporalUnit};
