//! Positional reads over the input, with a read-ahead window for small peeks.
//!
//! Scanning an elementary stream reads it front to back, but a caller may read
//! samples anywhere between two scanning steps, so every read says where it is
//! and seeks: the window, not the reader's position, is what is kept.

use std::io::{ErrorKind, Read, Seek, SeekFrom};

use stillframe_core::{Error, Result};

/// Bytes fetched when a peek misses the window.
pub(crate) const READ_AHEAD: usize = 64 * 1024;

/// A reader with a known length.
pub(crate) struct Source<R> {
    inner: R,
    len: u64,
    window: Vec<u8>,
    window_offset: u64,
}

impl<R: Read + Seek> Source<R> {
    /// Wraps `inner`, measuring its length.
    pub(crate) fn new(mut inner: R) -> Result<Source<R>> {
        let len = inner.seek(SeekFrom::End(0))?;
        Ok(Source {
            inner,
            len,
            window: Vec::new(),
            window_offset: 0,
        })
    }

    /// The length of the input in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Up to `count` bytes at `offset` (`count` ≤ [`READ_AHEAD`]); fewer only where
    /// the input ends.
    pub(crate) fn peek(&mut self, offset: u64, count: usize) -> Result<&[u8]> {
        let count = count.min(READ_AHEAD);
        let available = usize::try_from(self.len.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(count);
        let window_end = self.window_offset + self.window.len() as u64;
        let hit =
            offset >= self.window_offset && offset.saturating_add(available as u64) <= window_end;
        if !hit {
            let fetch = usize::try_from(self.len.saturating_sub(offset))
                .unwrap_or(usize::MAX)
                .min(READ_AHEAD);
            self.window.clear();
            self.window.resize(fetch, 0);
            self.window_offset = offset;
            let got = read_at(&mut self.inner, offset, &mut self.window)?;
            self.window.truncate(got);
        }
        let start = usize::try_from(offset - self.window_offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(available).min(self.window.len());
        Ok(self.window.get(start..end).unwrap_or(&[]))
    }

    /// Fills `buffer` from `offset` as far as the input goes; returns the bytes read.
    pub(crate) fn read_into(&mut self, offset: u64, buffer: &mut [u8]) -> Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        read_at(&mut self.inner, offset, buffer)
    }

    /// Exactly `count` bytes at `offset`, or [`Error::Truncated`] naming `what`.
    /// The caller has checked `count` against its limits.
    pub(crate) fn read_exact_at(&mut self, offset: u64, count: u64, what: &str) -> Result<Vec<u8>> {
        let end = offset.checked_add(count).filter(|&end| end <= self.len);
        let (Some(end), Ok(size)) = (end, usize::try_from(count)) else {
            return Err(Error::truncated(format!(
                "{what} at bytes {offset}..{} lies past the end of the input ({} bytes)",
                offset.saturating_add(count),
                self.len
            )));
        };
        let window_end = self.window_offset + self.window.len() as u64;
        if offset >= self.window_offset && end <= window_end {
            let start = usize::try_from(offset - self.window_offset).unwrap_or(usize::MAX);
            if let Some(bytes) = self.window.get(start..start.saturating_add(size)) {
                return Ok(bytes.to_vec());
            }
        }
        let mut data = Vec::new();
        data.try_reserve_exact(size)
            .map_err(|_| Error::internal(format!("could not allocate {size} bytes for {what}")))?;
        data.resize(size, 0);
        let got = read_at(&mut self.inner, offset, &mut data)?;
        if got < size {
            return Err(Error::truncated(format!(
                "{what} at bytes {offset}..{end}: the input ended after {got} bytes"
            )));
        }
        Ok(data)
    }
}

/// Reads at `offset` until `buffer` is full or the input ends.
fn read_at(reader: &mut (impl Read + Seek), offset: u64, buffer: &mut [u8]) -> Result<usize> {
    if buffer.is_empty() {
        return Ok(0);
    }
    reader.seek(SeekFrom::Start(offset))?;
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(buffer.get_mut(filled..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(filled)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn peeks_reads_and_reports_the_end() {
        let data: Vec<u8> = (0..=255).collect();
        let mut source = Source::new(Cursor::new(data)).unwrap();
        assert_eq!(source.len(), 256);
        assert_eq!(source.peek(10, 3).unwrap(), &[10, 11, 12]);
        assert_eq!(source.peek(254, 8).unwrap(), &[254, 255]);
        assert!(source.peek(300, 8).unwrap().is_empty());
        assert_eq!(source.read_exact_at(1, 2, "x").unwrap(), [1, 2]);
        let error = source.read_exact_at(250, 10, "sample 9").unwrap_err();
        assert!(error.to_string().contains("sample 9"), "{error}");
        let mut buffer = [0u8; 4];
        assert_eq!(source.read_into(254, &mut buffer).unwrap(), 2);
        assert_eq!(source.read_into(256, &mut buffer).unwrap(), 0);
    }
}
