//! IVF, the frame container of libvpx and libaom: a 32-byte file header, then
//! frames of a 12-byte header (size, timestamp) and their data.
//!
//! The layout, as libvpx's `ivfenc.c` writes it and ffmpeg's `ivfdec.c` reads it
//! (all numbers little-endian):
//! `DKIF`, version (u16), header size (u16, 32), fourcc, width (u16), height (u16),
//! time base denominator (u32), numerator (u32), frame count (u32), unused (u32);
//! per frame: size (u32), presentation timestamp (u64, in the time base).

use std::io::{Read, Seek};

use stillframe_core::{Codec, Error, ErrorKind, Limits, Result};

use crate::av1::Av1Sequence;
use crate::index::{Order, Unit};
use crate::source::Source;

/// The file header's length; ffmpeg ignores the stated one, and so do we.
pub(crate) const HEADER_BYTES: u64 = 32;
const FRAME_HEADER_BYTES: usize = 12;

/// The file header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IvfHeader {
    pub fourcc: [u8; 4],
    pub width: u16,
    pub height: u16,
    /// Time base numerator and denominator: a timestamp of 1 is `num / den` seconds.
    pub time_base: (u32, u32),
}

impl IvfHeader {
    /// Reads the header at the start of `data`.
    pub(crate) fn parse(data: &[u8]) -> Result<IvfHeader> {
        let location = "IVF header";
        let Some(bytes) = data.get(..32) else {
            return Err(Error::truncated(format!("{location}: fewer than 32 bytes")));
        };
        if bytes.get(..4) != Some(b"DKIF") {
            return Err(Error::malformed(location, "no DKIF signature"));
        }
        let byte = |at: usize| bytes.get(at).copied().unwrap_or(0);
        let u16_at = |at: usize| u16::from_le_bytes([byte(at), byte(at + 1)]);
        let u32_at =
            |at: usize| u32::from_le_bytes([byte(at), byte(at + 1), byte(at + 2), byte(at + 3)]);
        Ok(IvfHeader {
            fourcc: [byte(8), byte(9), byte(10), byte(11)],
            width: u16_at(12),
            height: u16_at(14),
            time_base: (u32_at(20), u32_at(16)),
        })
    }

    /// The codec its fourcc names: `AV01`, `VP90`; `VP80` and anything else
    /// become [`Codec::Other`], which the generator refuses.
    pub(crate) fn codec(&self) -> Codec {
        match &self.fourcc {
            b"AV01" => Codec::Av1,
            b"VP90" => Codec::Vp9,
            b"VP80" => Codec::Other("vp8".to_owned()),
            other => Codec::Other(
                String::from_utf8_lossy(other)
                    .trim_matches(|c: char| c == '\0' || c.is_whitespace())
                    .to_lowercase(),
            ),
        }
    }

    /// The time base as `(timescale, ticks per timestamp unit)` in lowest terms,
    /// if neither part is zero.
    pub(crate) fn timescale(&self) -> Option<(u32, u32)> {
        let (num, den) = self.time_base;
        (num > 0 && den > 0).then(|| {
            let divisor = gcd(num, den);
            (den / divisor, num / divisor)
        })
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// A frame read, waiting for the next one's timestamp to know its duration.
#[derive(Debug)]
struct Held {
    unit: Unit,
    pts: i64,
}

/// Reads IVF frames one at a time.
pub(crate) struct IvfScanner {
    codec: Codec,
    /// Ticks per timestamp unit; `None` when the time base is unusable and frames
    /// are numbered at the default rate instead.
    ticks_per_unit: Option<i64>,
    position: u64,
    frames: i64,
    held: Option<Held>,
    last_duration: u32,
    av1: Av1Sequence,
    max_sample_bytes: u64,
    finished: bool,
    /// Why reading stopped, reported once the held frame is out.
    stopped: Option<Error>,
}

impl IvfScanner {
    /// A scanner after `header`.
    pub(crate) fn new(header: &IvfHeader, limits: &Limits) -> IvfScanner {
        let ticks_per_unit = header.timescale().map(|(_, ticks)| i64::from(ticks));
        IvfScanner {
            codec: header.codec(),
            ticks_per_unit,
            position: HEADER_BYTES,
            frames: 0,
            held: None,
            last_duration: u32::try_from(ticks_per_unit.unwrap_or(1)).unwrap_or(1),
            av1: Av1Sequence::default(),
            max_sample_bytes: u64::from(limits.max_sample_bytes),
            finished: false,
            stopped: None,
        }
    }

    /// What the AV1 sequence headers read so far say.
    pub(crate) fn av1(&self) -> &Av1Sequence {
        &self.av1
    }

    /// The next frame; `None` after the last. An error past the first frame comes
    /// after the frames before it.
    pub(crate) fn next_unit<R: Read + Seek>(
        &mut self,
        source: &mut Source<R>,
    ) -> Result<Option<Unit>> {
        loop {
            if self.finished {
                if let Some(held) = self.held.take() {
                    return Ok(Some(self.with_duration(held, None)));
                }
                return match self.stopped.take() {
                    Some(error) => Err(error),
                    None => Ok(None),
                };
            }
            match self.read_frame(source) {
                Ok(Some(next)) => {
                    let next_pts = next.pts;
                    if let Some(held) = self.held.replace(next) {
                        return Ok(Some(self.with_duration(held, Some(next_pts))));
                    }
                }
                Ok(None) => self.finished = true,
                // Reading may succeed when tried again.
                Err(error) if error.kind() == ErrorKind::Io => return Err(error),
                Err(error) => {
                    self.finished = true;
                    self.stopped = Some(error);
                }
            }
        }
    }

    /// The frame at the current position, advancing past it; zero-size frames are
    /// skipped, as they hold no picture.
    fn read_frame<R: Read + Seek>(&mut self, source: &mut Source<R>) -> Result<Option<Held>> {
        loop {
            let header = source.peek(self.position, FRAME_HEADER_BYTES)?;
            if header.is_empty() {
                return Ok(None);
            }
            let Some((size, pts)) = frame_header(header) else {
                return Err(Error::truncated(format!(
                    "the IVF frame header at byte {} is cut off",
                    self.position
                )));
            };
            if u64::from(size) > self.max_sample_bytes {
                return Err(Error::Limit {
                    what: "sample size in bytes",
                    value: u64::from(size),
                    limit: self.max_sample_bytes,
                });
            }
            let data_start = self.position + FRAME_HEADER_BYTES as u64;
            let end = data_start + u64::from(size);
            if end > source.len() {
                log::debug!(
                    "IVF frame {} (bytes {data_start}..{end}) is cut off at byte {}; dropped",
                    self.frames,
                    source.len()
                );
                return Err(Error::truncated(format!(
                    "IVF frame {} needs bytes {data_start}..{end}; the file ends at {}",
                    self.frames,
                    source.len()
                )));
            }
            if size == 0 {
                log::debug!("empty IVF frame at byte {} skipped", self.position);
                self.position = end;
                continue;
            }
            let data = source.read_exact_at(data_start, u64::from(size), "IVF frame")?;
            let sync = match self.codec {
                Codec::Av1 => self.av1.observe(&data),
                Codec::Vp9 => vp9_key_frame(&data),
                Codec::Other(ref name) if name == "vp8" => data.first().is_some_and(|b| b & 1 == 0),
                _ => true,
            };
            let pts = match self.ticks_per_unit {
                Some(ticks) => pts.checked_mul(ticks).ok_or_else(|| {
                    Error::malformed(
                        stillframe_core::Location::at("IVF frame header", self.position),
                        format!("timestamp {pts} overflows the time base"),
                    )
                })?,
                None => self.frames,
            };
            self.position = end;
            self.frames += 1;
            return Ok(Some(Held {
                unit: Unit {
                    offset: data_start,
                    span: u64::from(size),
                    size,
                    sync,
                    presented: true,
                    order: Order::Stated { pts, duration: 0 },
                },
                pts,
            }));
        }
    }

    /// `held` with its duration: up to the next frame's time, else the last
    /// duration seen.
    fn with_duration(&mut self, held: Held, next_pts: Option<i64>) -> Unit {
        let duration = next_pts
            .and_then(|next| next.checked_sub(held.pts))
            .and_then(|gap| u32::try_from(gap).ok())
            .filter(|&gap| gap > 0)
            .unwrap_or(self.last_duration);
        self.last_duration = duration;
        Unit {
            order: Order::Stated {
                pts: held.pts,
                duration,
            },
            ..held.unit
        }
    }
}

/// `(size, timestamp)` of a 12-byte frame header.
fn frame_header(header: &[u8]) -> Option<(u32, i64)> {
    let size = u32::from_le_bytes(header.get(..4)?.try_into().ok()?);
    let pts = i64::from_le_bytes(header.get(4..12)?.try_into().ok()?);
    Some((size, pts))
}

/// True when the first frame of a VP9 chunk is a key frame (VP9 § 6.2:
/// `frame_marker`, `profile_low_bit`, `profile_high_bit`, a reserved bit in
/// profile 3, `show_existing_frame`, `frame_type` 0).
fn vp9_key_frame(chunk: &[u8]) -> bool {
    let Some(&byte) = chunk.first() else {
        return false;
    };
    if byte >> 6 != 2 {
        return false;
    }
    let profile = ((byte >> 5) & 1) | (((byte >> 4) & 1) << 1);
    let shift = if profile == 3 { 2 } else { 3 };
    let show_existing = (byte >> shift) & 1 == 1;
    let key = (byte >> (shift - 1)) & 1 == 0;
    !show_existing && key
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn header(fourcc: &[u8; 4], den: u32, num: u32) -> Vec<u8> {
        let mut data = b"DKIF".to_vec();
        data.extend(0u16.to_le_bytes());
        data.extend(32u16.to_le_bytes());
        data.extend(fourcc);
        data.extend(320u16.to_le_bytes());
        data.extend(240u16.to_le_bytes());
        data.extend(den.to_le_bytes());
        data.extend(num.to_le_bytes());
        data.extend([0; 8]);
        data
    }

    fn frame(data: &mut Vec<u8>, pts: u64, payload: &[u8]) {
        data.extend(u32::try_from(payload.len()).unwrap().to_le_bytes());
        data.extend(pts.to_le_bytes());
        data.extend(payload);
    }

    #[test]
    fn header_fields_and_codecs() {
        let parsed = IvfHeader::parse(&header(b"VP90", 30, 1)).unwrap();
        assert_eq!(parsed.codec(), Codec::Vp9);
        assert_eq!((parsed.width, parsed.height), (320, 240));
        assert_eq!(parsed.timescale(), Some((30, 1)));
        let vp8 = IvfHeader::parse(&header(b"VP80", 1000, 40)).unwrap();
        assert_eq!(vp8.codec(), Codec::Other("vp8".to_owned()));
        assert_eq!(vp8.timescale(), Some((25, 1)));
        assert_eq!(
            IvfHeader::parse(&header(b"H264", 0, 1))
                .unwrap()
                .timescale(),
            None
        );
        assert!(IvfHeader::parse(b"DKIF").is_err());
        assert!(IvfHeader::parse(&[0; 32]).is_err());
    }

    #[test]
    fn frames_durations_and_a_cut() {
        let mut data = header(b"VP90", 90, 3);
        // Key frame (marker 2, profile 0, frame_type 0), then inter frames.
        frame(&mut data, 0, &[0x82, 1]);
        frame(&mut data, 1, &[0x86, 2]);
        frame(&mut data, 3, &[0x86, 3, 3]);
        data.extend([9, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 2]);
        let mut source = Source::new(Cursor::new(data)).unwrap();
        let parsed = IvfHeader::parse(&header(b"VP90", 90, 3)).unwrap();
        let mut scanner = IvfScanner::new(&parsed, &Limits::default());
        let mut units = Vec::new();
        let error = loop {
            match scanner.next_unit(&mut source) {
                Ok(Some(unit)) => units.push(unit),
                Ok(None) => panic!("the cut was not reported"),
                Err(error) => break error,
            }
        };
        assert_eq!(error.kind(), ErrorKind::Truncated);
        let summary: Vec<(u64, bool, Order)> =
            units.iter().map(|u| (u.offset, u.sync, u.order)).collect();
        assert_eq!(
            summary,
            [
                (
                    44,
                    true,
                    Order::Stated {
                        pts: 0,
                        duration: 1
                    }
                ),
                (
                    58,
                    false,
                    Order::Stated {
                        pts: 1,
                        duration: 2
                    }
                ),
                (
                    72,
                    false,
                    Order::Stated {
                        pts: 3,
                        duration: 2
                    }
                ),
            ]
        );
    }

    #[test]
    fn vp9_frame_types() {
        assert!(vp9_key_frame(&[0x82]));
        assert!(!vp9_key_frame(&[0x86]));
        // show_existing_frame
        assert!(!vp9_key_frame(&[0x88]));
        // Profile 3: reserved bit, then show_existing 0, frame_type 0.
        assert!(vp9_key_frame(&[0xb0]));
        assert!(!vp9_key_frame(&[0x42]));
        assert!(!vp9_key_frame(&[]));
    }
}
