//! Raw AV1 streams cut into temporal units: the low-overhead format (AV1 § 5.2,
//! OBUs with size fields, each temporal unit opened by a temporal delimiter) and
//! the length-delimited format (AV1 Annex B: `temporal_unit_size`,
//! `frame_unit_size`, `obu_length` around every level).
//!
//! A sample is one temporal unit without its temporal delimiter, in the
//! low-overhead format: bytes of the file as they are for § 5.2 streams, and
//! rewritten with size fields for Annex B streams.

use std::io::{Read, Seek};

use stillframe_bitstream::av1::{
    OBU_FRAME, OBU_FRAME_HEADER, OBU_SEQUENCE_HEADER, OBU_TEMPORAL_DELIMITER,
};
use stillframe_core::{Error, Limits, Location, Result};

use crate::av1::{annex_b_to_low_overhead, read_leb, write_obu, Av1Sequence};
use crate::index::{Order, Unit};
use crate::source::Source;

/// Bytes of a frame header OBU enough to read it up to `refresh_frame_flags`.
const FRAME_HEADER_PREFIX: usize = 64;
/// Largest sequence header OBU read; real ones take a few dozen bytes.
const SEQUENCE_HEADER_MAX_BYTES: usize = 4096;

/// The temporal unit being gathered in a § 5.2 stream.
#[derive(Debug, Default)]
struct Gathering {
    start: Option<u64>,
    end: u64,
    /// The unit's sequence header OBU and the start of its first frame header
    /// OBU: enough to classify it without holding its tile data.
    digest: Vec<u8>,
    has_frame: bool,
}

/// Reads a low-overhead (§ 5.2) AV1 stream one temporal unit at a time.
pub(crate) struct ObuScanner {
    position: u64,
    unit: Gathering,
    sequence: Av1Sequence,
    max_sample_bytes: u64,
    finished: bool,
}

impl ObuScanner {
    /// A scanner at the start of the stream.
    pub(crate) fn new(limits: &Limits) -> ObuScanner {
        ObuScanner {
            position: 0,
            unit: Gathering::default(),
            sequence: Av1Sequence::default(),
            max_sample_bytes: u64::from(limits.max_sample_bytes),
            finished: false,
        }
    }

    /// What the sequence headers read so far say.
    pub(crate) fn sequence(&self) -> &Av1Sequence {
        &self.sequence
    }

    /// The next temporal unit; `None` after the last. A unit cut off by the end
    /// of the file is dropped, and reported as [`Error::Truncated`].
    pub(crate) fn next_unit<R: Read + Seek>(
        &mut self,
        source: &mut Source<R>,
    ) -> Result<Option<Unit>> {
        loop {
            if self.finished {
                return Ok(None);
            }
            if self.position >= source.len() {
                self.finished = true;
                return Ok(self.close());
            }
            let (header, extension, payload_start, payload_end) = self.obu_at(source)?;
            let obu_type = (header >> 3) & 0x0f;
            if payload_end > source.len() {
                self.finished = true;
                log::debug!(
                    "the OBU at byte {} runs past the end of the file ({} bytes); the temporal unit it is in is dropped",
                    self.position,
                    source.len()
                );
                return Err(Error::truncated(format!(
                    "the OBU at byte {} needs bytes up to {payload_end}; the file ends at {}",
                    self.position,
                    source.len()
                )));
            }
            let position = self.position;
            self.position = payload_end;
            if obu_type == OBU_TEMPORAL_DELIMITER {
                let closed = self.close();
                self.unit.start = Some(payload_end);
                self.unit.end = payload_end;
                if closed.is_some() {
                    return Ok(closed);
                }
                continue;
            }
            let start = *self.unit.start.get_or_insert(position);
            self.unit.end = payload_end;
            let span = payload_end - start;
            if span > self.max_sample_bytes {
                return Err(Error::Limit {
                    what: "temporal unit size in bytes",
                    value: span,
                    limit: self.max_sample_bytes,
                });
            }
            let length = usize::try_from(payload_end - payload_start).unwrap_or(usize::MAX);
            let keep = match obu_type {
                OBU_SEQUENCE_HEADER if length <= SEQUENCE_HEADER_MAX_BYTES => length,
                OBU_FRAME | OBU_FRAME_HEADER if !self.unit.has_frame => {
                    self.unit.has_frame = true;
                    length.min(FRAME_HEADER_PREFIX)
                }
                _ => continue,
            };
            let prefix = source.peek(payload_start, keep)?.to_vec();
            write_obu(header, extension, &prefix, &mut self.unit.digest);
        }
    }

    /// Header byte, extension byte, and payload range of the OBU at the position.
    fn obu_at<R: Read + Seek>(&self, source: &mut Source<R>) -> Result<(u8, Option<u8>, u64, u64)> {
        let position = self.position;
        let malformed =
            |message: &str| Error::malformed(Location::at("AV1 OBU", position), message);
        let bytes = source.peek(position, 10)?;
        let &header = bytes.first().ok_or_else(|| malformed("empty"))?;
        if header & 0x80 != 0 {
            return Err(malformed("obu_forbidden_bit is set"));
        }
        if header & 0x02 == 0 {
            return Err(malformed(
                "an OBU without obu_has_size_field in a low-overhead stream",
            ));
        }
        let extension = (header & 0x04 != 0).then(|| bytes.get(1).copied());
        let header_length = if extension.is_some() { 2 } else { 1 };
        let extension = match extension {
            Some(None) => return Err(Error::truncated("an OBU header is cut off")),
            Some(Some(byte)) => Some(byte),
            None => None,
        };
        let (size, length) = match read_leb(bytes.get(header_length..).unwrap_or_default()) {
            Some(read) => read,
            None if bytes.len() < 10 => return Err(Error::truncated("an OBU header is cut off")),
            None => return Err(malformed("obu_size is not a valid leb128")),
        };
        let payload_start = position + (header_length + length) as u64;
        Ok((
            header,
            extension,
            payload_start,
            payload_start + size as u64,
        ))
    }

    /// Ends the unit being gathered; `None` if it holds nothing.
    fn close(&mut self) -> Option<Unit> {
        let unit = std::mem::take(&mut self.unit);
        let start = unit.start?;
        let span = unit.end.checked_sub(start).filter(|&span| span > 0)?;
        let sync = self.sequence.observe(&unit.digest);
        Some(Unit {
            offset: start,
            span,
            size: u32::try_from(span).unwrap_or(u32::MAX),
            sync,
            presented: true,
            order: Order::Count {
                count: 0,
                new_period: true,
            },
        })
    }
}

/// Reads a length-delimited (Annex B) AV1 stream one temporal unit at a time.
pub(crate) struct AnnexBScanner {
    position: u64,
    sequence: Av1Sequence,
    max_sample_bytes: u64,
    finished: bool,
}

impl AnnexBScanner {
    /// A scanner at the start of the stream.
    pub(crate) fn new(limits: &Limits) -> AnnexBScanner {
        AnnexBScanner {
            position: 0,
            sequence: Av1Sequence::default(),
            max_sample_bytes: u64::from(limits.max_sample_bytes),
            finished: false,
        }
    }

    /// What the sequence headers read so far say.
    pub(crate) fn sequence(&self) -> &Av1Sequence {
        &self.sequence
    }

    /// The next temporal unit; `None` after the last. A unit cut off by the end
    /// of the file is dropped, and reported as [`Error::Truncated`].
    pub(crate) fn next_unit<R: Read + Seek>(
        &mut self,
        source: &mut Source<R>,
    ) -> Result<Option<Unit>> {
        loop {
            if let Some(unit) = self.next_temporal_unit(source)? {
                if unit.size > 0 {
                    return Ok(Some(unit));
                }
                // Only a temporal delimiter: nothing to decode.
                continue;
            }
            return Ok(None);
        }
    }

    /// The next temporal unit, maybe empty once rewritten.
    fn next_temporal_unit<R: Read + Seek>(
        &mut self,
        source: &mut Source<R>,
    ) -> Result<Option<Unit>> {
        if self.finished || self.position >= source.len() {
            self.finished = true;
            return Ok(None);
        }
        let position = self.position;
        let head = source.peek(position, 8)?;
        let Some((size, length)) = read_leb(head) else {
            self.finished = true;
            return Err(if head.len() < 8 {
                Error::truncated("a temporal_unit_size is cut off")
            } else {
                Error::malformed(
                    Location::at("AV1 Annex B", position),
                    "temporal_unit_size is not a valid leb128",
                )
            });
        };
        let span = (length + size) as u64;
        // The rewritten unit is never longer than the original.
        if size as u64 > self.max_sample_bytes {
            self.finished = true;
            return Err(Error::Limit {
                what: "temporal unit size in bytes",
                value: size as u64,
                limit: self.max_sample_bytes,
            });
        }
        if position + span > source.len() {
            self.finished = true;
            log::debug!(
                "the temporal unit at byte {position} ({span} bytes) is cut off at byte {}; dropped",
                source.len()
            );
            return Err(Error::truncated(format!(
                "the temporal unit at byte {position} needs {span} bytes; the file ends at {}",
                source.len()
            )));
        }
        let bytes = source.read_exact_at(position, span, "AV1 temporal unit")?;
        let converted = match annex_b_to_low_overhead(&bytes) {
            Ok(converted) => converted,
            Err(error) => {
                self.finished = true;
                return Err(error);
            }
        };
        self.position = position + span;
        let sync = self.sequence.observe(&converted);
        Ok(Some(Unit {
            offset: position,
            span,
            size: u32::try_from(converted.len()).unwrap_or(u32::MAX),
            sync,
            presented: true,
            order: Order::Count {
                count: 0,
                new_period: true,
            },
        }))
    }
}
