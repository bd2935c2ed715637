//! The top-level walk: box headers only, seeking past media data.
//!
//! Only `ftyp`, `moov` and `moof` are read into memory, each after its size has been
//! checked against the file length and [`Limits::max_metadata_bytes`]; `mdat` and
//! everything else is skipped by seeking, so a multi-gigabyte file opens with a few
//! small reads whether its `moov` comes first or last.

use std::io::{Read, Seek, SeekFrom};

use stillframe_core::{Error, Limits, Location, Result};

use crate::boxes::{fourcc_str, parse_header, FourCc};

/// A top-level box located by the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located {
    /// File offset of the box's first header byte.
    pub offset: u64,
    /// Total size, header included.
    pub size: u64,
}

/// What the walk found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Length of the input in bytes.
    pub file_len: u64,
    /// The `ftyp` major brand, if there is an `ftyp`.
    pub major_brand: Option<FourCc>,
    /// The first `moov`.
    pub moov: Option<Located>,
    /// Every complete `moof`, in file order.
    pub moofs: Vec<Located>,
}

/// Walks the top-level boxes of `reader` by their headers.
pub(crate) fn scan<R: Read + Seek>(reader: &mut R, limits: &Limits) -> Result<Scan> {
    let file_len = reader.seek(SeekFrom::End(0))?;
    let mut scan = Scan {
        file_len,
        ..Scan::default()
    };
    if file_len == 0 {
        return Err(Error::malformed(
            Location::at("file", 0),
            "the file is empty",
        ));
    }
    let mut pos = 0u64;
    let mut boxes = 0u64;
    while pos < file_len {
        let remaining = file_len - pos;
        let mut header_bytes = [0u8; 16];
        let want = usize::try_from(remaining.min(16)).unwrap_or(16);
        reader.seek(SeekFrom::Start(pos))?;
        reader.read_exact(header_bytes.get_mut(..want).unwrap_or(&mut []))?;
        let header = match parse_header(header_bytes.get(..want).unwrap_or(&[]), || {
            Location::at("top level", pos)
        }) {
            Ok(header) => header,
            // Garbage after the structure we need is ignored, as ffmpeg ignores it.
            Err(error) if scan.moov.is_some() => {
                log::warn!("{error}; the rest of the file is ignored");
                break;
            }
            Err(error) => return Err(error),
        };
        let Some(header) = header else {
            log::warn!(
                "ignoring {remaining} trailing bytes at byte {pos}, too short for a box header"
            );
            break;
        };
        let size = header.size.unwrap_or(remaining);
        let kind = header.kind;
        boxes += 1;
        limits.check_entries("top-level boxes", boxes)?;
        let location = Located { offset: pos, size };
        let past_end = size > remaining;
        match &kind {
            b"ftyp" if scan.major_brand.is_none() => {
                scan.major_brand =
                    read_major_brand(reader, pos, header.header_len, size.min(remaining))?;
            }
            b"moov" if scan.moov.is_none() => {
                if past_end {
                    return Err(Error::truncated(format!(
                        "the moov box at byte {pos} needs {size} bytes but the file ends {remaining} bytes after its start"
                    )));
                }
                limits.check_metadata_bytes(size)?;
                scan.moov = Some(location);
            }
            b"moov" => log::warn!("ignoring a second moov box at byte {pos}"),
            b"moof" => {
                if past_end {
                    log::warn!(
                        "the moof box at byte {pos} runs past the end of the file; the fragments from here on are lost"
                    );
                    break;
                }
                limits.check_metadata_bytes(size)?;
                limits.check_entries("fragments", scan.moofs.len() as u64 + 1)?;
                scan.moofs.push(location);
            }
            _ => {
                if past_end {
                    // A cut-short mdat is an ordinary truncated file; the samples in
                    // the part that exists are still readable.
                    let level = if &kind == b"mdat" {
                        log::Level::Debug
                    } else {
                        log::Level::Warn
                    };
                    log::log!(
                        level,
                        "box '{}' at byte {pos} claims {size} bytes, past the end of the file ({file_len} bytes)",
                        fourcc_str(kind)
                    );
                    break;
                }
            }
        }
        pos = pos.saturating_add(size);
    }
    Ok(scan)
}

fn read_major_brand<R: Read + Seek>(
    reader: &mut R,
    pos: u64,
    header_len: usize,
    size: u64,
) -> Result<Option<FourCc>> {
    if size < header_len as u64 + 4 {
        log::warn!("the ftyp box at byte {pos} is too short for a major brand");
        return Ok(None);
    }
    let mut brand = [0u8; 4];
    reader.seek(SeekFrom::Start(pos + header_len as u64))?;
    reader.read_exact(&mut brand)?;
    Ok(Some(brand))
}

/// Reads a located box whole, after the walk has checked its size.
pub(crate) fn read_box<R: Read + Seek>(reader: &mut R, located: Located) -> Result<Vec<u8>> {
    let len = usize::try_from(located.size).map_err(|_| Error::Limit {
        what: "metadata size in bytes",
        value: located.size,
        limit: usize::MAX as u64,
    })?;
    reader.seek(SeekFrom::Start(located.offset))?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len).map_err(|_| Error::Limit {
        what: "metadata size in bytes",
        value: located.size,
        limit: 0,
    })?;
    reader.take(located.size).read_to_end(&mut bytes)?;
    if bytes.len() as u64 != located.size {
        return Err(Error::truncated(format!(
            "the box at byte {} ends early: read {} of {} bytes",
            located.offset,
            bytes.len(),
            located.size
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn finds_moov_after_mdat_and_skips_media() {
        let mut file = bx(b"ftyp", b"isom\0\0\0\0");
        file.extend(bx(b"mdat", &[7; 1000]));
        let moov_at = file.len() as u64;
        file.extend(bx(b"moov", &[0; 8]));
        let scan = scan(&mut Cursor::new(file), &Limits::default()).ok();
        let scan = scan.as_ref();
        assert_eq!(scan.and_then(|s| s.moov).map(|m| m.offset), Some(moov_at));
        assert_eq!(scan.and_then(|s| s.major_brand), Some(*b"isom"));
    }

    #[test]
    fn moov_past_the_end_is_truncated() {
        let mut file = bx(b"ftyp", b"isom\0\0\0\0");
        let mut moov = bx(b"moov", &[0; 100]);
        moov.truncate(50);
        file.extend(moov);
        let error = scan(&mut Cursor::new(file), &Limits::default()).err();
        assert_eq!(
            error.map(|e| e.kind()),
            Some(stillframe_core::ErrorKind::Truncated)
        );
    }

    #[test]
    fn huge_moov_hits_the_limit() {
        let mut file = bx(b"moov", &[0; 100]);
        file.extend(bx(b"free", &[]));
        let limits = Limits {
            max_metadata_bytes: 50,
            ..Limits::default()
        };
        let error = scan(&mut Cursor::new(file), &limits).err();
        assert_eq!(
            error.map(|e| e.kind()),
            Some(stillframe_core::ErrorKind::Limit)
        );
    }
}
