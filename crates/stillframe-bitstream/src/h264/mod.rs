//! H.264 / AVC syntax (ITU-T H.264): NAL unit headers (§ 7.3.1), the `avcC`
//! record (ISO 14496-15 § 5.3.3), sequence parameter sets with their VUI
//! (§ 7.3.2.1, Annex E), slice headers (§ 7.3.3), access unit boundaries
//! (§ 7.4.1.2), picture order counts (§ 8.2.1), the recovery point SEI
//! (§ D.1.8), and packet inspection.

mod access_unit;
mod avcc;
mod inspect;
mod nal;
mod poc;
mod sei;
mod slice;
mod sps;

pub use access_unit::{first_slice_of_new_picture, starts_access_unit};
pub use avcc::{parse_avcc, write_avcc, AvcConfig};
pub use inspect::{classify_access_unit, AccessUnitKind, H264Inspector};
pub use nal::{
    is_vcl, nal_ref_idc, nal_type, NAL_AUD, NAL_IDR, NAL_PARTITION_A, NAL_PPS, NAL_SEI, NAL_SLICE,
    NAL_SPS,
};
pub use poc::{PicOrderCounter, PictureOrder};
pub use sei::{recovery_point, RecoveryPoint};
pub use slice::{
    parse_pps_head, parse_slice_header, parse_slice_header_start, PpsHead, SliceHeader,
    SliceHeaderStart, SLICE_HEADER_MAX_BYTES,
};
pub use sps::{parse_sps, PicOrderCnt, Sps, Vui};
