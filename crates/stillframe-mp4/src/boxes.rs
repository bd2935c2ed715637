//! Box headers, child iteration and bounded big-endian reads (ISO 14496-12 § 4.2).
//!
//! Everything here works on bytes already in memory (a `moov` or `moof` read whole)
//! and knows where those bytes sit in the file, so errors can name a box path and an
//! absolute byte offset.

use stillframe_core::{Error, Location, Result};

/// A four-character box type.
pub(crate) type FourCc = [u8; 4];

/// Renders a four-character code for logs and errors, escaping non-printable bytes.
pub(crate) fn fourcc_str(kind: FourCc) -> String {
    kind.iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

/// One box found inside a parent's bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BoxRef<'a> {
    /// The box type.
    pub kind: FourCc,
    /// Absolute file offset of the box's first header byte.
    pub offset: u64,
    /// The whole box, header included (as far as the parent holds it).
    pub bytes: &'a [u8],
    /// Length of the header (8, or 16 with a 64-bit size).
    pub header_len: usize,
}

impl<'a> BoxRef<'a> {
    /// A top-level box read whole (header included) from file offset `offset`.
    pub fn whole(kind: FourCc, offset: u64, bytes: &'a [u8]) -> Self {
        let header_len = if bytes.get(0..4) == Some(&[0, 0, 0, 1]) {
            16
        } else {
            8
        };
        BoxRef {
            kind,
            offset,
            bytes,
            header_len: header_len.min(bytes.len()),
        }
    }

    /// The payload after the header.
    pub fn body(&self) -> &'a [u8] {
        self.bytes.get(self.header_len..).unwrap_or(&[])
    }

    /// Absolute file offset of the payload.
    pub fn body_offset(&self) -> u64 {
        self.offset.saturating_add(self.header_len as u64)
    }

    /// The child boxes of a plain container box.
    pub fn children(&self, path: &'static str) -> Children<'a> {
        Children::new(self.body(), self.body_offset(), path)
    }

    /// A big-endian reader over the payload.
    pub fn reader(&self, path: &'static str) -> Be<'a> {
        Be::new(self.body(), self.body_offset(), path)
    }
}

/// A parsed box header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// The box type.
    pub kind: FourCc,
    /// Total size including the header; `None` when the box runs to the end of
    /// its parent (size field 0).
    pub size: Option<u64>,
    /// 8, or 16 with a 64-bit size.
    pub header_len: usize,
}

/// Reads a box header from the start of `bytes` (ISO 14496-12 § 4.2).
///
/// Returns `Ok(None)` when fewer bytes than a header remain; errors when a size
/// field is smaller than the header itself.
pub(crate) fn parse_header(
    bytes: &[u8],
    location: impl FnOnce() -> Location,
) -> Result<Option<Header>> {
    let (Some(size), Some(kind)) = (read_u32(bytes, 0), bytes.get(4..8)) else {
        return Ok(None);
    };
    let kind: FourCc = [kind[0], kind[1], kind[2], kind[3]];
    match size {
        0 => Ok(Some(Header {
            kind,
            size: None,
            header_len: 8,
        })),
        1 => {
            let Some(large) = read_u64(bytes, 8) else {
                return Ok(None);
            };
            if large < 16 {
                return Err(Error::malformed(
                    location(),
                    format!(
                        "box '{}' has a 64-bit size of {large}, below its header",
                        fourcc_str(kind)
                    ),
                ));
            }
            Ok(Some(Header {
                kind,
                size: Some(large),
                header_len: 16,
            }))
        }
        2..=7 => Err(Error::malformed(
            location(),
            format!(
                "box '{}' has a size of {size}, below its header",
                fourcc_str(kind)
            ),
        )),
        _ => Ok(Some(Header {
            kind,
            size: Some(u64::from(size)),
            header_len: 8,
        })),
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    let mut array = [0u8; 8];
    array.copy_from_slice(b);
    Some(u64::from_be_bytes(array))
}

/// Iterates the boxes packed in a parent's payload.
///
/// Lenient the way ffmpeg's `mov_read_default` is: a child claiming more bytes than
/// its parent holds is cut to fit (with a warning), trailing bytes too short for a
/// header are ignored, and a size field below 8 ends the walk. Inside a box read
/// whole into memory none of this can over-read; it only decides what to trust.
pub(crate) struct Children<'a> {
    data: &'a [u8],
    base: u64,
    pos: usize,
    path: &'static str,
}

impl<'a> Children<'a> {
    /// Children of `data`, whose first byte sits at file offset `base`.
    pub fn new(data: &'a [u8], base: u64, path: &'static str) -> Self {
        Children {
            data,
            base,
            pos: 0,
            path,
        }
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = BoxRef<'a>;

    fn next(&mut self) -> Option<BoxRef<'a>> {
        let rest = self.data.get(self.pos..)?;
        let offset = self.base.saturating_add(self.pos as u64);
        let header = match parse_header(rest, || Location::at(self.path, offset)) {
            Ok(Some(header)) => header,
            Ok(None) => {
                if !rest.is_empty() && rest.iter().any(|&b| b != 0) {
                    log::debug!(
                        "{}: ignoring {} trailing bytes at byte {offset}",
                        self.path,
                        rest.len()
                    );
                }
                self.pos = self.data.len();
                return None;
            }
            Err(error) => {
                log::warn!("{error}; ignoring the rest of {}", self.path);
                self.pos = self.data.len();
                return None;
            }
        };
        let available = rest.len() as u64;
        let size = match header.size {
            None => available,
            Some(size) if size > available => {
                log::warn!(
                    "{}: box '{}' at byte {offset} claims {size} bytes but only {available} remain; cut to fit",
                    self.path,
                    fourcc_str(header.kind)
                );
                available
            }
            Some(size) => size,
        };
        // `size` is at most `rest.len()`, so it fits in usize.
        let size = usize::try_from(size).unwrap_or(rest.len());
        let bytes = rest.get(..size).unwrap_or(rest);
        self.pos = self.pos.saturating_add(size.max(1));
        Some(BoxRef {
            kind: header.kind,
            offset,
            bytes,
            header_len: header.header_len.min(bytes.len()),
        })
    }
}

/// A bounded big-endian reader; running past the end is a [`Error::Malformed`]
/// naming the box path and the absolute offset of the read.
pub(crate) struct Be<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    path: &'static str,
}

impl<'a> Be<'a> {
    /// A reader over `data`, whose first byte sits at file offset `base`.
    pub fn new(data: &'a [u8], base: u64, path: &'static str) -> Self {
        Be {
            data,
            pos: 0,
            base,
            path,
        }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// The unread bytes.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// Absolute file offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base.saturating_add(self.pos as u64)
    }

    /// A [`Error::Malformed`] at the current position.
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::malformed(Location::at(self.path, self.offset()), message)
    }

    /// Takes the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.data.get(self.pos..end)) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(self.error(format!(
                "needs {n} more bytes but only {} remain in the box",
                self.remaining()
            ))),
        }
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    /// Reads a big-endian `u16`.
    pub fn u16(&mut self) -> Result<u16> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Reads a big-endian 24-bit value.
    pub fn u24(&mut self) -> Result<u32> {
        let b = self.bytes(3)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a big-endian `i32`.
    pub fn i32(&mut self) -> Result<i32> {
        let b = self.bytes(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        let b = self.bytes(8)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(b);
        Ok(u64::from_be_bytes(array))
    }

    /// Reads a big-endian `i64`.
    pub fn i64(&mut self) -> Result<i64> {
        self.u64().map(|v| i64::from_ne_bytes(v.to_ne_bytes()))
    }

    /// Reads a FullBox version and flags (ISO 14496-12 § 4.2).
    pub fn full_box(&mut self) -> Result<(u8, u32)> {
        let version = self.u8()?;
        let flags = self.u24()?;
        Ok((version, flags))
    }

    /// Fails unless `count` entries of `entry_size` bytes fit in what remains, so
    /// a table is never allocated from a count the box cannot hold.
    pub fn check_table(&self, what: &str, count: u32, entry_size: usize) -> Result<()> {
        let needed = u64::from(count).saturating_mul(entry_size as u64);
        if needed > self.remaining() as u64 {
            return Err(self.error(format!(
                "{what} entry count {count} needs {needed} bytes but the box holds {}",
                self.remaining()
            )));
        }
        Ok(())
    }
}

/// Decodes a leaf box's payload with mp4-atom, mapping its errors to
/// [`Error::Malformed`].
///
/// Bytes left over after the fields mp4-atom knows are ignored rather than
/// rejected, as ffmpeg ignores them: writers pad and extend these boxes.
pub(crate) fn decode_atom<T: mp4_atom::Atom>(b: &BoxRef<'_>, path: &str) -> Result<T> {
    let mut body = b.body();
    T::decode_body(&mut body).map_err(|error| {
        let what = match error {
            mp4_atom::Error::OutOfBounds | mp4_atom::Error::ShortRead => {
                "box too short".to_string()
            }
            other => other.to_string(),
        };
        Error::malformed(Location::at(path, b.offset), what)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sizes() {
        let loc = || Location::from("t");
        let h = parse_header(b"\0\0\0\x10moov", loc).ok().flatten();
        assert_eq!(h.map(|h| (h.size, h.header_len)), Some((Some(16), 8)));
        let h = parse_header(b"\0\0\0\0mdat", loc).ok().flatten();
        assert_eq!(h.map(|h| h.size), Some(None));
        let h = parse_header(b"\0\0\0\x01mdat\0\0\0\0\0\0\0\x20", loc)
            .ok()
            .flatten();
        assert_eq!(h.map(|h| (h.size, h.header_len)), Some((Some(32), 16)));
        assert!(parse_header(b"\0\0\0\x04free", loc).is_err());
        assert!(parse_header(b"\0\0\0\x01mdat\0\0\0\0\0\0\0\x08", loc).is_err());
        assert!(matches!(parse_header(b"\0\0\0", loc), Ok(None)));
    }

    #[test]
    fn children_are_cut_to_the_parent() {
        // A 12-byte child claiming 100 bytes, inside a 12-byte parent payload.
        let data = b"\0\0\0\x64abcdxxxx";
        let kids: Vec<_> = Children::new(data, 100, "p").collect();
        assert_eq!(kids.len(), 1);
        assert_eq!(kids[0].bytes.len(), 12);
        assert_eq!(kids[0].body(), b"xxxx");
        assert_eq!(kids[0].body_offset(), 108);
    }

    #[test]
    fn reader_errors_name_the_place() {
        let mut be = Be::new(&[1, 2, 3], 40, "moov/x");
        assert_eq!(be.u16().ok(), Some(0x0102));
        let error = be.u32().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("moov/x (byte 42)"), "{error}");
        assert!(be.check_table("t", 1, 1).is_ok());
        assert!(be.check_table("t", u32::MAX, 12).is_err());
    }
}
