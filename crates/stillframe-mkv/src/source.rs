//! Positional reads with a small read-ahead buffer of our own.
//!
//! Walking a cluster means decoding a 4–30 byte block header, then jumping over
//! the frame data to the next one. A `BufReader` throws its buffer away on every
//! `seek`, so this keeps its own window: a header inside the window costs nothing,
//! and one outside it costs one read of [`READ_AHEAD`] bytes. Frame data is never
//! read while indexing unless it lies inside a window already fetched.

use std::io::{ErrorKind, Read, Seek, SeekFrom};

use stillframe_core::{Error, Result};

/// Bytes fetched past a position when a peek misses the window: several small
/// blocks' headers per read, and little waste when frames are large.
pub(crate) const READ_AHEAD: usize = 16 * 1024;

/// A reader with a known length and a read-ahead window.
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

    /// Gives the reader back.
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    /// Up to `count` bytes at `offset` (`count` ≤ [`READ_AHEAD`]); fewer only where the
    /// input ends, none at or past its end. A miss fetches [`READ_AHEAD`] bytes.
    pub(crate) fn peek(&mut self, offset: u64, count: usize) -> Result<&[u8]> {
        self.peek_fetching(offset, count, READ_AHEAD)
    }

    /// Like [`Source::peek`], but a miss fetches only `fetch` bytes (at least `count`):
    /// for lone element headers, where reading ahead would be wasted.
    pub(crate) fn peek_fetching(
        &mut self,
        offset: u64,
        count: usize,
        fetch: usize,
    ) -> Result<&[u8]> {
        let count = count.min(READ_AHEAD);
        let available = usize::try_from(self.len.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(count);
        let in_window = offset >= self.window_offset
            && offset.saturating_add(available as u64)
                <= self.window_offset.saturating_add(self.window.len() as u64);
        if !in_window {
            let fetch = usize::try_from(self.len.saturating_sub(offset))
                .unwrap_or(usize::MAX)
                .min(fetch.clamp(count, READ_AHEAD));
            self.window.clear();
            self.window.resize(fetch, 0);
            self.window_offset = offset;
            if fetch > 0 {
                self.inner.seek(SeekFrom::Start(offset))?;
                let got = read_fully(&mut self.inner, &mut self.window)?;
                self.window.truncate(got);
            }
        }
        let start = usize::try_from(offset - self.window_offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(available).min(self.window.len());
        Ok(self.window.get(start..end).unwrap_or(&[]))
    }

    /// Exactly `count` bytes at `offset`, or [`Error::Truncated`] naming `what` when
    /// the input ends first. The caller has checked `count` against its limits.
    pub(crate) fn read_exact_at(&mut self, offset: u64, count: u64, what: &str) -> Result<Vec<u8>> {
        let end = offset.checked_add(count).filter(|&end| end <= self.len);
        let (Some(end), Ok(size)) = (end, usize::try_from(count)) else {
            return Err(Error::truncated(format!(
                "{what} at bytes {offset}..{} lies past the end of the file ({} bytes)",
                offset.saturating_add(count),
                self.len
            )));
        };
        let window_end = self.window_offset.saturating_add(self.window.len() as u64);
        if offset >= self.window_offset && end <= window_end {
            let start = usize::try_from(offset - self.window_offset).unwrap_or(usize::MAX);
            if let Some(bytes) = self.window.get(start..start.saturating_add(size)) {
                return Ok(bytes.to_vec());
            }
        }
        let mut data = vec![0u8; size];
        self.inner.seek(SeekFrom::Start(offset))?;
        let got = read_fully(&mut self.inner, &mut data)?;
        if got < size {
            return Err(Error::truncated(format!(
                "{what} at bytes {offset}..{end}: the input ended after {got} bytes"
            )));
        }
        Ok(data)
    }
}

/// Reads until `buffer` is full or the input ends; returns the bytes read.
fn read_fully(reader: &mut impl Read, buffer: &mut [u8]) -> Result<usize> {
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
