//! The EBML primitives: variable-size integers, element headers, and the typed
//! values of elements held in memory (RFC 8794 § 4–7).
//!
//! Everything here works on byte slices and returns `None`/`Err` instead of
//! panicking: headers are decoded from a few bytes peeked from the file, and small
//! master elements (EBML header, Info, Tracks, SeekHead, Cues) are read whole and
//! walked with [`Children`].

use stillframe_core::{Error, Location, Result};

/// The longest element ID we accept, in bytes (EBMLMaxIDLength, RFC 8794 § 11.2.4).
pub(crate) const MAX_ID_LENGTH: usize = 4;
/// The longest element data size, in bytes (EBMLMaxSizeLength, RFC 8794 § 11.2.5).
pub(crate) const MAX_SIZE_LENGTH: usize = 8;
/// Bytes an element header can take at most.
pub(crate) const MAX_HEADER_LENGTH: usize = MAX_ID_LENGTH + MAX_SIZE_LENGTH;

/// Length in bytes of the variable-size integer starting with `first`, from its
/// leading zero bits (RFC 8794 § 4.1); `None` for `0x00`, which would need more than 8.
fn vint_length(first: u8) -> Option<usize> {
    let length = first.leading_zeros() as usize + 1;
    (length <= 8).then_some(length)
}

/// An element ID at the start of `bytes`: `(id with its marker bits, length)`.
///
/// `Ok(None)` when `bytes` is too short to tell; an error for IDs longer than four
/// bytes or made only of the marker (RFC 8794 § 5: such IDs are invalid).
pub(crate) fn read_id(bytes: &[u8]) -> std::result::Result<Option<(u32, usize)>, &'static str> {
    let Some(&first) = bytes.first() else {
        return Ok(None);
    };
    let length = vint_length(first).ok_or("element ID starts with a zero byte")?;
    if length > MAX_ID_LENGTH {
        return Err("element ID longer than 4 bytes");
    }
    let Some(id_bytes) = bytes.get(..length) else {
        return Ok(None);
    };
    let id = id_bytes
        .iter()
        .fold(0u32, |id, &b| (id << 8) | u32::from(b));
    Ok(Some((id, length)))
}

/// A data size or other unsigned vint at the start of `bytes`, marker removed:
/// `(value, length)`, with `value == None` for the reserved "unknown size" (all
/// value bits set, RFC 8794 § 6.2). `Ok(None)` when `bytes` is too short.
#[allow(clippy::type_complexity)]
pub(crate) fn read_size(
    bytes: &[u8],
) -> std::result::Result<Option<(Option<u64>, usize)>, &'static str> {
    let Some(&first) = bytes.first() else {
        return Ok(None);
    };
    let length = vint_length(first).ok_or("element size starts with a zero byte")?;
    let Some(size_bytes) = bytes.get(..length) else {
        return Ok(None);
    };
    let marker_removed = u64::from(first) & (0xFF >> length);
    let value = size_bytes
        .iter()
        .skip(1)
        .fold(marker_removed, |v, &b| (v << 8) | u64::from(b));
    let all_ones = (1u64 << (7 * length)) - 1;
    Ok(Some(((value != all_ones).then_some(value), length)))
}

/// A signed vint as EBML lacing stores size differences (RFC 9559 § 10.3.3):
/// the unsigned value less half its range.
pub(crate) fn read_signed_vint(bytes: &[u8]) -> Option<(i64, usize)> {
    let (value, length) = read_size(bytes).ok()??;
    // The all-ones pattern is an ordinary value here, not "unknown".
    let value = value.unwrap_or((1u64 << (7 * length)) - 1);
    let bias = (1i64 << (7 * length - 1)) - 1;
    Some((i64::try_from(value).ok()? - bias, length))
}

/// The header of one element: where it starts, its ID, where its data starts, and
/// its data size (`None` when the file says "unknown").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// File offset of the first ID byte.
    pub(crate) offset: u64,
    /// The ID with its marker bits.
    pub(crate) id: u32,
    /// File offset of the first data byte.
    pub(crate) data_offset: u64,
    /// Data size in bytes, or `None` for an unknown size.
    pub(crate) size: Option<u64>,
}

impl Header {
    /// Decodes a header from `bytes`, which start at file offset `offset`.
    /// `Ok(None)` when `bytes` ends before the header does.
    pub(crate) fn parse(bytes: &[u8], offset: u64) -> Result<Option<Header>> {
        let bad = |message: &str| Error::malformed(Location::at("EBML element", offset), message);
        let Some((id, id_length)) = read_id(bytes).map_err(bad)? else {
            return Ok(None);
        };
        let rest = bytes.get(id_length..).unwrap_or(&[]);
        let Some((size, size_length)) = read_size(rest).map_err(bad)? else {
            return Ok(None);
        };
        let header_length = (id_length + size_length) as u64;
        Ok(Some(Header {
            offset,
            id,
            data_offset: offset.saturating_add(header_length),
            size,
        }))
    }

    /// File offset just past the data, when the size is known and does not overflow.
    pub(crate) fn end(&self) -> Option<u64> {
        self.size.and_then(|s| self.data_offset.checked_add(s))
    }
}

/// The children of a master element held in memory, as `(header, data)` pairs.
///
/// Stops with an error at a child that claims more bytes than its parent holds or
/// has an unknown size (only Segment and Cluster may, and those are never read whole).
pub(crate) struct Children<'a> {
    data: &'a [u8],
    /// File offset of `data[0]`, for error locations and headers.
    base: u64,
    position: usize,
    context: &'static str,
}

impl<'a> Children<'a> {
    /// The children in `data`, the body of an element whose data starts at file offset `base`.
    pub(crate) fn new(data: &'a [u8], base: u64, context: &'static str) -> Children<'a> {
        Children {
            data,
            base,
            position: 0,
            context,
        }
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<(Header, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.data.get(self.position..)?;
        if rest.is_empty() {
            return None;
        }
        let offset = self.base.saturating_add(self.position as u64);
        let fail = |message: String| {
            Some(Err(Error::malformed(
                Location::at(self.context, offset),
                message,
            )))
        };
        let header = match Header::parse(rest, offset) {
            Ok(Some(header)) => header,
            Ok(None) => {
                self.position = self.data.len();
                return fail("element header cut off by the end of its parent".into());
            }
            Err(error) => {
                self.position = self.data.len();
                return Some(Err(error));
            }
        };
        let header_length = (header.data_offset - header.offset) as usize;
        let Some(size) = header.size else {
            self.position = self.data.len();
            return fail(format!("element {:#X} has an unknown size", header.id));
        };
        let start = self.position + header_length;
        let body = usize::try_from(size)
            .ok()
            .and_then(|size| start.checked_add(size))
            .and_then(|end| self.data.get(start..end).map(|body| (body, end)));
        match body {
            Some((body, end)) => {
                self.position = end;
                Some(Ok((header, body)))
            }
            None => {
                self.position = self.data.len();
                fail(format!(
                    "element {:#X} of {size} bytes overruns its parent",
                    header.id
                ))
            }
        }
    }
}

/// An unsigned integer element (RFC 8794 § 7.2): 0 to 8 big-endian bytes.
pub(crate) fn uint(body: &[u8]) -> Option<u64> {
    (body.len() <= 8).then(|| body.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
}

/// A float element (RFC 8794 § 7.3): 0, 4 or 8 bytes.
pub(crate) fn float(body: &[u8]) -> Option<f64> {
    match body.len() {
        0 => Some(0.0),
        4 => {
            let bytes: [u8; 4] = body.try_into().ok()?;
            Some(f64::from(f32::from_be_bytes(bytes)))
        }
        8 => Some(f64::from_be_bytes(body.try_into().ok()?)),
        _ => None,
    }
}

/// A string element, trailing NULs removed (RFC 8794 § 7.4), lossily decoded.
pub(crate) fn string(body: &[u8]) -> String {
    let end = body.iter().position(|&b| b == 0).unwrap_or(body.len());
    String::from_utf8_lossy(body.get(..end).unwrap_or(&[])).into_owned()
}

/// An unsigned integer element, or a Malformed error naming `what`.
pub(crate) fn require_uint(body: &[u8], header: &Header, what: &str) -> Result<u64> {
    uint(body).ok_or_else(|| {
        Error::malformed(
            Location::at(what.to_owned(), header.offset),
            format!("an unsigned integer of {} bytes", body.len()),
        )
    })
}
