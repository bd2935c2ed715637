//! Open Bitstream Units: headers and the OBUs of a temporal unit (AV1 § 5.3).

use stillframe_core::{Error, Result};

use stillframe_core::bits::leb128;

/// `OBU_SEQUENCE_HEADER`.
pub const OBU_SEQUENCE_HEADER: u8 = 1;
/// `OBU_TEMPORAL_DELIMITER`.
pub const OBU_TEMPORAL_DELIMITER: u8 = 2;
/// `OBU_FRAME_HEADER`.
pub const OBU_FRAME_HEADER: u8 = 3;
/// `OBU_TILE_GROUP`.
pub const OBU_TILE_GROUP: u8 = 4;
/// `OBU_METADATA`.
pub const OBU_METADATA: u8 = 5;
/// `OBU_FRAME`: a frame header and its first tile group in one OBU.
pub const OBU_FRAME: u8 = 6;
/// `OBU_REDUNDANT_FRAME_HEADER`.
pub const OBU_REDUNDANT_FRAME_HEADER: u8 = 7;
/// `OBU_TILE_LIST` (large-scale tile decoding).
pub const OBU_TILE_LIST: u8 = 8;
/// `OBU_PADDING`.
pub const OBU_PADDING: u8 = 15;

/// One OBU of a buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Obu<'a> {
    /// `obu_type`.
    pub obu_type: u8,
    /// `temporal_id`, 0 without an extension header.
    pub temporal_id: u8,
    /// `spatial_id`, 0 without an extension header.
    pub spatial_id: u8,
    /// The OBU's payload, after its header and size field.
    pub payload: &'a [u8],
    /// The whole OBU: header, size field and payload.
    pub bytes: &'a [u8],
}

impl std::fmt::Debug for Obu<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Obu")
            .field("obu_type", &self.obu_type)
            .field("temporal_id", &self.temporal_id)
            .field("spatial_id", &self.spatial_id)
            .field("payload_bytes", &self.payload.len())
            .finish()
    }
}

/// Splits `data` into OBUs (§ 5.3.1). An OBU without `obu_has_size_field` takes
/// the rest of the buffer, as the low-overhead format allows for the last OBU of
/// a sample (AV1-ISOBMFF § 2.4).
///
/// Fails with [`Error::Malformed`] for a forbidden bit, a size past the end, or a
/// truncated header.
pub fn split_obus(data: &[u8]) -> Result<Vec<Obu<'_>>> {
    let mut obus = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let (obu, length) = parse_obu(rest)?;
        obus.push(obu);
        rest = rest.get(length..).unwrap_or_default();
    }
    Ok(obus)
}

/// The OBU at the start of `data` and the bytes it takes.
fn parse_obu(data: &[u8]) -> Result<(Obu<'_>, usize)> {
    let malformed = |message: &str| Error::malformed("AV1 OBU", message);
    let header = *data.first().ok_or_else(|| malformed("empty"))?;
    if header & 0x80 != 0 {
        return Err(malformed("obu_forbidden_bit is set"));
    }
    let obu_type = (header >> 3) & 0x0f;
    let has_extension = header & 0x04 != 0;
    let has_size = header & 0x02 != 0;
    let mut position = 1;
    let (mut temporal_id, mut spatial_id) = (0, 0);
    if has_extension {
        let extension = *data
            .get(1)
            .ok_or_else(|| malformed("extension header cut off"))?;
        temporal_id = extension >> 5;
        spatial_id = (extension >> 3) & 0x03;
        position = 2;
    }
    let payload_length = if has_size {
        let (size, length) = leb128(data.get(position..).unwrap_or_default())
            .map_err(|_| malformed("obu_size is not a valid leb128"))?;
        position += length;
        usize::try_from(size).map_err(|_| malformed("obu_size too large"))?
    } else {
        data.len() - position
    };
    let end = position
        .checked_add(payload_length)
        .filter(|&end| end <= data.len())
        .ok_or_else(|| {
            malformed(&format!(
                "OBU of type {obu_type} claims {payload_length} bytes, {} are left",
                data.len() - position
            ))
        })?;
    let obu = Obu {
        obu_type,
        temporal_id,
        spatial_id,
        payload: data.get(position..end).unwrap_or_default(),
        bytes: data.get(..end).unwrap_or_default(),
    };
    Ok((obu, end))
}

/// Writes an OBU of `obu_type` with a size field around `payload` (no extension).
pub fn write_obu(obu_type: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push((obu_type << 3) | 0x02);
    let mut size = payload.len();
    loop {
        let byte = u8::try_from(size & 0x7f).unwrap_or(0);
        size >>= 7;
        if size == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(payload);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn splits_sized_extended_and_unsized_obus() {
        let mut data = Vec::new();
        write_obu(OBU_TEMPORAL_DELIMITER, &[], &mut data);
        // OBU_FRAME with an extension (temporal 2, spatial 1) and a size of 2.
        data.extend([(OBU_FRAME << 3) | 0x06, (2 << 5) | (1 << 3), 2, 0xaa, 0xbb]);
        // A padding OBU without a size field takes the rest.
        data.extend([OBU_PADDING << 3, 1, 2, 3]);
        let obus = split_obus(&data).unwrap();
        assert_eq!(obus.len(), 3);
        assert_eq!(obus[0].obu_type, OBU_TEMPORAL_DELIMITER);
        assert_eq!((obus[1].temporal_id, obus[1].spatial_id), (2, 1));
        assert_eq!(obus[1].payload, &[0xaa, 0xbb]);
        assert_eq!(obus[1].bytes.len(), 5);
        assert_eq!(obus[2].payload, &[1, 2, 3]);
    }

    #[test]
    fn rejects_sizes_past_the_end_and_the_forbidden_bit() {
        assert!(split_obus(&[(OBU_FRAME << 3) | 0x02, 5, 0]).is_err());
        assert!(split_obus(&[0x80]).is_err());
        assert!(split_obus(&[(OBU_FRAME << 3) | 0x06]).is_err());
    }

    #[test]
    fn write_obu_uses_multi_byte_sizes() {
        let mut out = Vec::new();
        write_obu(OBU_PADDING, &[0; 200], &mut out);
        assert_eq!(&out[..3], &[(OBU_PADDING << 3) | 2, 0xc8, 0x01]);
        assert_eq!(split_obus(&out).unwrap()[0].payload.len(), 200);
    }
}
