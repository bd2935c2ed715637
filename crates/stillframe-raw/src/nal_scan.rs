//! NAL units of an Annex B byte stream (H.264 Annex B, H.265 Annex B), found by
//! reading the input front to back in chunks.
//!
//! A unit runs from the byte after a start code (`00 00 01`) to the last non-zero
//! byte before the next one: the zeros in between are `trailing_zero_8bits` or the
//! first byte of a 4-byte start code, which belong to no unit. This is the same
//! split [`stillframe_bitstream::framing::split_annex_b`] makes, so the units found
//! here are exactly those that function gives for the bytes of an access unit
//! when its sample is read.
//!
//! Only the first bytes of each unit are kept (as many as its type needs parsed,
//! [`NalScanner::new`]'s `head_bytes`): the rest is counted, never held.

use std::io::{Read, Seek};

use stillframe_core::{Error, Result};

use crate::source::Source;

/// Bytes read from the input per step.
const CHUNK: usize = 64 * 1024;

/// One NAL unit: where it lies and its first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NalUnit {
    /// Offset of the `00 00 01` before it.
    pub start_code: u64,
    /// Offset of its header byte.
    pub start: u64,
    /// One past its last byte (trailing zero bytes excluded).
    pub end: u64,
    /// Its first bytes: at most what `head_bytes` asked for its first byte.
    pub head: Vec<u8>,
}

impl NalUnit {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }
}

/// A unit being read.
struct Open {
    start_code: u64,
    start: u64,
    head: Vec<u8>,
    /// How many bytes of it to keep; known once its first byte is read.
    keep: Option<usize>,
}

/// Reads the NAL units of an Annex B stream one at a time.
pub(crate) struct NalScanner {
    /// Offset of `buffer[0]` in the input.
    buffer_offset: u64,
    /// Offset of the next byte to read from the input.
    read_offset: u64,
    buffer: Vec<u8>,
    /// Next byte of `buffer` to look at.
    cursor: usize,
    /// Zero bytes just before the cursor.
    zeros: usize,
    /// One past the last non-zero byte of the open unit.
    content_end: u64,
    open: Option<Open>,
    head_bytes: fn(u8) -> usize,
    max_unit_bytes: u64,
    at_end: bool,
}

impl NalScanner {
    /// A scanner from the start of the input; `head_bytes(first byte)` says how much
    /// of a unit to keep, and a unit longer than `max_unit_bytes` is an error.
    pub(crate) fn new(head_bytes: fn(u8) -> usize, max_unit_bytes: u64) -> NalScanner {
        NalScanner {
            buffer_offset: 0,
            read_offset: 0,
            buffer: Vec::new(),
            cursor: 0,
            zeros: 0,
            content_end: 0,
            open: None,
            head_bytes,
            max_unit_bytes,
            at_end: false,
        }
    }

    /// The next unit, or `None` after the last one. Empty units (two start codes
    /// in a row) are skipped. Fails with [`Error::Limit`] for a unit longer than
    /// the bound and [`Error::Io`] when reading fails (the scan may be retried).
    pub(crate) fn next<R: Read + Seek>(
        &mut self,
        source: &mut Source<R>,
    ) -> Result<Option<NalUnit>> {
        loop {
            if self.cursor >= self.buffer.len() {
                if self.at_end {
                    return Ok(None);
                }
                self.check_open_length()?;
                self.buffer.resize(CHUNK, 0);
                self.cursor = 0;
                let got = match source.read_into(self.read_offset, &mut self.buffer) {
                    Ok(got) => got,
                    Err(error) => {
                        // Nothing was consumed: the next call reads here again.
                        self.buffer.clear();
                        return Err(error);
                    }
                };
                self.buffer.truncate(got);
                self.buffer_offset = self.read_offset;
                self.read_offset += got as u64;
                if got == 0 {
                    self.at_end = true;
                    if let Some(unit) = self.close() {
                        return Ok(Some(unit));
                    }
                    return Ok(None);
                }
            }
            if let Some(unit) = self.scan_buffer() {
                return Ok(Some(unit));
            }
        }
    }

    /// Scans the rest of the buffer; stops after a start code that closes a
    /// non-empty unit, returning it.
    fn scan_buffer(&mut self) -> Option<NalUnit> {
        while let Some(&byte) = self.buffer.get(self.cursor) {
            let position = self.buffer_offset + self.cursor as u64;
            self.cursor += 1;
            if byte == 1 && self.zeros >= 2 {
                self.zeros = 0;
                let finished = self.close();
                self.open = Some(Open {
                    start_code: position - 2,
                    start: position + 1,
                    head: Vec::new(),
                    keep: None,
                });
                self.content_end = position + 1;
                if finished.is_some() {
                    return finished;
                }
                continue;
            }
            if byte == 0 {
                self.zeros += 1;
            } else {
                self.zeros = 0;
                self.content_end = position + 1;
            }
            if let Some(open) = &mut self.open {
                let keep = *open.keep.get_or_insert_with(|| (self.head_bytes)(byte));
                if open.head.len() < keep {
                    open.head.push(byte);
                }
            }
        }
        None
    }

    /// Ends the open unit at its last non-zero byte; `None` if it is empty.
    fn close(&mut self) -> Option<NalUnit> {
        let open = self.open.take()?;
        let end = self.content_end.max(open.start);
        let mut head = open.head;
        head.truncate(usize::try_from(end - open.start).unwrap_or(usize::MAX));
        (end > open.start).then_some(NalUnit {
            start_code: open.start_code,
            start: open.start,
            end,
            head,
        })
    }

    fn check_open_length(&self) -> Result<()> {
        let Some(open) = &self.open else {
            return Ok(());
        };
        let read = self.read_offset.saturating_sub(open.start);
        if read > self.max_unit_bytes {
            return Err(Error::Limit {
                what: "NAL unit size in bytes",
                value: read,
                limit: self.max_unit_bytes,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use stillframe_bitstream::framing::split_annex_b;

    fn units(stream: &[u8], keep: fn(u8) -> usize) -> Vec<NalUnit> {
        let mut source = Source::new(Cursor::new(stream.to_vec())).unwrap();
        let mut scanner = NalScanner::new(keep, u64::MAX);
        let mut out = Vec::new();
        while let Some(unit) = scanner.next(&mut source).unwrap() {
            out.push(unit);
        }
        out
    }

    #[test]
    fn splits_like_split_annex_b() {
        let stream = [
            0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 0, 1, 0x65, 0x88, 0, 0, 3, 0, 1,
            0, 0, 1, 0, 0, 1, 0x41, 0x9a, 0, 0,
        ];
        let found = units(&stream, |_| usize::MAX);
        let expected = split_annex_b(&stream);
        assert_eq!(found.len(), expected.len());
        for (unit, bytes) in found.iter().zip(&expected) {
            assert_eq!(&unit.head, bytes);
            let range = usize::try_from(unit.start).unwrap()..usize::try_from(unit.end).unwrap();
            assert_eq!(&stream[range], *bytes);
        }
        assert_eq!(found[0].start_code, 1);
        assert_eq!(found[2].start, 16);
    }

    #[test]
    fn keeps_only_the_head_and_spans_chunks() {
        let mut stream = vec![0, 0, 1, 0x65];
        stream.extend(std::iter::repeat_n(0x11, 3 * CHUNK));
        stream.extend([0, 0, 0, 1, 0x41, 0x22]);
        let found = units(&stream, |_| 4);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].head, [0x65, 0x11, 0x11, 0x11]);
        assert_eq!(found[0].len(), 1 + 3 * CHUNK as u64);
        assert_eq!(found[1].head, [0x41, 0x22]);
    }

    #[test]
    fn a_unit_over_the_bound_is_a_limit_error() {
        let mut stream = vec![0, 0, 1, 0x65];
        stream.extend(std::iter::repeat_n(0x11, 2 * CHUNK));
        let mut source = Source::new(Cursor::new(stream)).unwrap();
        let mut scanner = NalScanner::new(|_| 8, 1000);
        let error = scanner.next(&mut source).unwrap_err();
        assert_eq!(error.kind(), stillframe_core::ErrorKind::Limit);
    }

    #[test]
    fn no_start_code_means_no_unit() {
        assert!(units(&[1, 2, 3, 0, 0, 2], |_| 8).is_empty());
        assert!(units(&[], |_| 8).is_empty());
        assert!(units(&[0, 0, 1], |_| 8).is_empty());
    }
}
