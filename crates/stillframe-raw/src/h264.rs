//! H.264 Annex B streams cut into samples: access units (H.264 § 7.4.1.2.3,
//! § 7.4.1.2.4), with the two fields of a field pair in one sample, each with its
//! picture order count (§ 8.2.1) for the presentation order.

use std::collections::VecDeque;
use std::io::{Read, Seek};

use stillframe_bitstream::h264::{
    first_slice_of_new_picture, parse_pps_head, parse_slice_header, parse_sps, recovery_point,
    starts_access_unit, write_avcc, PicOrderCnt, PicOrderCounter, PictureOrder, PpsHead,
    RecoveryPoint, SliceHeaderStart, Sps, SLICE_HEADER_MAX_BYTES,
};
use stillframe_core::{Error, Limits, Result};

use crate::index::{Order, Unit};
use crate::nal_scan::{NalScanner, NalUnit};
use crate::source::Source;

/// Bytes kept of a parameter set or SEI unit: far more than any real one holds.
const PARAMETER_SET_MAX_BYTES: usize = 64 * 1024;

/// How much of a unit the parsers need, by its header byte.
fn head_bytes(header: u8) -> usize {
    match header & 0x1f {
        1 | 2 | 5 => SLICE_HEADER_MAX_BYTES,
        6..=8 | 13 | 15 => PARAMETER_SET_MAX_BYTES,
        _ => 1,
    }
}

/// The access unit being gathered.
#[derive(Debug, Default)]
struct AccessUnit {
    /// Offset of the start code of its first unit.
    start: Option<u64>,
    /// One past its last unit.
    end: u64,
    /// Its size as length-prefixed units.
    size: u64,
    has_parameter_sets: bool,
    picture: Option<PictureInfo>,
    /// The last primary slice, to compare the next one with.
    last_slice: Option<SliceHeaderStart>,
    /// A primary slice of the picture starts at macroblock 0.
    saw_first_macroblock: bool,
    idr: bool,
    recovery: Option<RecoveryPoint>,
}

/// What the first slice of a primary coded picture says.
#[derive(Debug, Clone, Copy)]
struct PictureInfo {
    header: SliceHeaderStart,
    order: PictureOrder,
    reset: bool,
    /// `pic_order_cnt_type` 2: output order is decoding order.
    in_order: bool,
}

/// A finished access unit holding a picture.
#[derive(Debug, Clone, Copy)]
struct Picture {
    offset: u64,
    end: u64,
    size: u64,
    idr: bool,
    recovery: Option<RecoveryPoint>,
    info: PictureInfo,
}

impl Picture {
    fn is_field(&self) -> bool {
        self.info.header.field_pic
    }

    /// Whether `second` completes this field into a frame (§ 3: complementary
    /// field pairs), as ffmpeg pairs them: the next picture, a field of the other
    /// parity with the same `frame_num`, not an IDR picture unless this one is,
    /// and not a memory management reset.
    fn pairs_with(&self, second: &Picture) -> bool {
        let (first, other) = (&self.info.header, &second.info.header);
        second.is_field()
            && other.bottom_field != first.bottom_field
            && other.frame_num == first.frame_num
            && (!other.idr || first.idr)
            && !second.info.reset
    }
}

/// Parameter sets gathered before the first slice.
#[derive(Debug, Default)]
struct LeadingSets {
    sps: Vec<Vec<u8>>,
    pps: Vec<Vec<u8>>,
    /// A slice was seen: what follows is in-band.
    closed: bool,
}

impl LeadingSets {
    /// What an `avcC` can list: 31 SPS, 255 PPS.
    const MAX_SPS: usize = 31;
    const MAX_PPS: usize = 255;

    fn add(&mut self, nal: &NalUnit, sps: bool) {
        // Only a unit read whole (`head` holds at most PARAMETER_SET_MAX_BYTES).
        let whole = u64::try_from(nal.head.len()).is_ok_and(|len| len == nal.len());
        if self.closed || !whole {
            return;
        }
        let (list, most) = if sps {
            (&mut self.sps, Self::MAX_SPS)
        } else {
            (&mut self.pps, Self::MAX_PPS)
        };
        if list.len() < most {
            list.push(nal.head.clone());
        }
    }
}

/// Cuts an H.264 Annex B stream into samples, one unit at a time.
pub(crate) struct H264Scanner {
    nals: NalScanner,
    sps: Vec<Option<Sps>>,
    pps: Vec<Option<PpsHead>>,
    counter: PicOrderCounter,
    au: AccessUnit,
    waiting_field: Option<Picture>,
    ready: VecDeque<Unit>,
    first_sps: Option<Sps>,
    /// The SPS and PPS units before the first slice, whole: the track's `avcC`, so
    /// a decode that starts at a later IDR has them (most raw streams state them
    /// once, at the start).
    leading_sets: LeadingSets,
    max_sample_bytes: u64,
    finished: bool,
}

impl H264Scanner {
    /// A scanner at the start of the stream.
    pub(crate) fn new(limits: &Limits) -> H264Scanner {
        let max_sample_bytes = u64::from(limits.max_sample_bytes);
        H264Scanner {
            nals: NalScanner::new(head_bytes, max_sample_bytes),
            sps: vec![None; 32],
            pps: vec![None; 256],
            counter: PicOrderCounter::default(),
            au: AccessUnit::default(),
            waiting_field: None,
            ready: VecDeque::new(),
            first_sps: None,
            leading_sets: LeadingSets::default(),
            max_sample_bytes,
            finished: false,
        }
    }

    /// The SPS of the first picture, once one has been read.
    pub(crate) fn first_sps(&self) -> Option<&Sps> {
        self.first_sps.as_ref()
    }

    /// An `avcC` record of the parameter sets the stream states before its first
    /// slice (empty when it states none there).
    pub(crate) fn leading_avcc(&self) -> Vec<u8> {
        write_avcc(&self.leading_sets.sps, &self.leading_sets.pps).unwrap_or_default()
    }

    /// The next sample in decode order; `None` after the last.
    pub(crate) fn next_unit<R: Read + Seek>(
        &mut self,
        source: &mut Source<R>,
    ) -> Result<Option<Unit>> {
        loop {
            if let Some(unit) = self.ready.pop_front() {
                return Ok(Some(unit));
            }
            if self.finished {
                return Ok(None);
            }
            self.step(source)?;
        }
    }

    fn step<R: Read + Seek>(&mut self, source: &mut Source<R>) -> Result<()> {
        match self.nals.next(source)? {
            Some(nal) => self.push_nal(nal),
            None => {
                self.finish();
                Ok(())
            }
        }
    }

    fn push_nal(&mut self, nal: NalUnit) -> Result<()> {
        let Some(&header) = nal.head.first() else {
            return Ok(());
        };
        let nal_type = header & 0x1f;
        match nal_type {
            1 | 2 | 5 => return self.push_slice(nal),
            _ if starts_access_unit(nal_type) => {
                if self.au.picture.is_some() {
                    self.close_access_unit();
                }
                match nal_type {
                    7 => match parse_sps(&nal.head) {
                        Ok(sps) => {
                            if let Some(slot) = self.sps.get_mut(usize::from(sps.id)) {
                                *slot = Some(sps);
                            }
                            self.leading_sets.add(&nal, true);
                            self.au.has_parameter_sets = true;
                        }
                        Err(error) => log::debug!("SPS at byte {} ignored: {error}", nal.start),
                    },
                    8 => match parse_pps_head(&nal.head) {
                        Ok(pps) => {
                            if let Some(slot) = self.pps.get_mut(usize::from(pps.id)) {
                                *slot = Some(pps);
                            }
                            self.leading_sets.add(&nal, false);
                            self.au.has_parameter_sets = true;
                        }
                        Err(error) => log::debug!("PPS at byte {} ignored: {error}", nal.start),
                    },
                    6 if self.au.recovery.is_none() => self.au.recovery = recovery_point(&nal.head),
                    _ => {}
                }
            }
            _ => {}
        }
        self.add(&nal)
    }

    fn push_slice(&mut self, nal: NalUnit) -> Result<()> {
        self.leading_sets.closed = true;
        let (sps_table, pps_table) = (&self.sps, &self.pps);
        let lookup = |id: u8| {
            let pps = pps_table.get(usize::from(id))?.as_ref()?;
            let sps = sps_table.get(usize::from(pps.sps_id))?.as_ref()?;
            Some((pps, sps))
        };
        let parsed = parse_slice_header(&nal.head, lookup);
        let header = match parsed {
            Ok(header) => header,
            Err(error) => {
                log::debug!("slice at byte {}: {error}", nal.start);
                if self.au.picture.is_none() && !self.au.has_parameter_sets {
                    // Slices before the first readable picture (a stream cut in a
                    // GOP): nothing could decode them.
                    self.au = AccessUnit::default();
                    return Ok(());
                }
                return self.add(&nal);
            }
        };
        let start = header.start;
        let primary = start.redundant_pic_cnt == 0;
        if let (Some(last), true) = (&self.au.last_slice, primary) {
            let repeated_start = start.first_mb == 0 && self.au.saw_first_macroblock;
            if first_slice_of_new_picture(last, &start) || repeated_start {
                self.close_access_unit();
            }
        }
        self.add(&nal)?;
        if self.au.picture.is_none() {
            let sps = self
                .pps
                .get(usize::from(start.pps_id))
                .and_then(Option::as_ref)
                .and_then(|pps| self.sps.get(usize::from(pps.sps_id)))
                .and_then(Option::as_ref);
            if let Some(sps) = sps {
                let order = self.counter.next(sps, &header);
                self.au.picture = Some(PictureInfo {
                    header: start,
                    order,
                    reset: header.memory_management_reset,
                    in_order: matches!(sps.pic_order_cnt, PicOrderCnt::Type2),
                });
                if self.first_sps.is_none() {
                    self.first_sps = Some(sps.clone());
                }
            }
        }
        if primary {
            self.au.last_slice = Some(start);
            self.au.saw_first_macroblock |= start.first_mb == 0;
        }
        self.au.idr |= start.idr;
        Ok(())
    }

    /// Adds `nal` to the access unit being gathered.
    fn add(&mut self, nal: &NalUnit) -> Result<()> {
        let au = &mut self.au;
        let start = *au.start.get_or_insert(nal.start_code);
        au.end = nal.end;
        au.size = au.size.saturating_add(4 + nal.len());
        let span = au.end.saturating_sub(start);
        if au.size > self.max_sample_bytes || span > self.max_sample_bytes {
            return Err(Error::Limit {
                what: "access unit size in bytes",
                value: au.size.max(span),
                limit: self.max_sample_bytes,
            });
        }
        Ok(())
    }

    /// Ends the access unit being gathered, which holds a picture.
    fn close_access_unit(&mut self) {
        let au = std::mem::take(&mut self.au);
        let (Some(offset), Some(info)) = (au.start, au.picture) else {
            return;
        };
        let picture = Picture {
            offset,
            end: au.end,
            size: au.size,
            idr: au.idr,
            recovery: au.recovery,
            info,
        };
        if let Some(first) = self.waiting_field.take() {
            if first.pairs_with(&picture) {
                self.emit(&first, Some(&picture));
                return;
            }
            log::debug!(
                "field at byte {} has no pair; it is not shown",
                first.offset
            );
            self.emit_unpaired(&first);
        }
        if picture.is_field() {
            self.waiting_field = Some(picture);
        } else {
            self.emit(&picture, None);
        }
    }

    /// The sample of a frame, or of a field pair.
    fn emit(&mut self, first: &Picture, second: Option<&Picture>) {
        let last = second.unwrap_or(first);
        let idr = first.idr || second.is_some_and(|s| s.idr);
        let recovery = first.recovery.or(second.and_then(|s| s.recovery));
        let count = second.map_or(first.info.order.pic_order_cnt(), |s| {
            first
                .info
                .order
                .pic_order_cnt()
                .min(s.info.order.pic_order_cnt())
        });
        let new_period = first.info.order.new_period || first.info.in_order;
        self.ready.push_back(Unit {
            offset: first.offset,
            span: last.end.saturating_sub(first.offset),
            size: u32::try_from(first.size + second.map_or(0, |s| s.size)).unwrap_or(u32::MAX),
            // What ffmpeg calls a key frame (and classify_access_unit's is_key).
            sync: idr || recovery.is_some_and(|point| point.recovery_frame_cnt == 0),
            presented: true,
            order: Order::Count { count, new_period },
        });
    }

    fn emit_unpaired(&mut self, field: &Picture) {
        self.emit(field, None);
        if let Some(unit) = self.ready.back_mut() {
            unit.presented = false;
        }
    }

    /// The stream ended: the last access unit and a waiting field go out.
    fn finish(&mut self) {
        if self.au.picture.is_some() {
            self.close_access_unit();
        } else if let Some(start) = self.au.start {
            log::debug!(
                "{} bytes after the last picture (from byte {start}) hold no picture; dropped",
                self.au.end.saturating_sub(start)
            );
        }
        if let Some(field) = self.waiting_field.take() {
            log::debug!(
                "the last field (byte {}) has no pair; it is not shown",
                field.offset
            );
            self.emit_unpaired(&field);
        }
        self.finished = true;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::av1::tests::Bits;
    use std::io::Cursor;

    fn ue(bits: &mut Bits, value: u64) {
        let code = value + 1;
        let length = 64 - code.leading_zeros();
        bits.put(0, length - 1);
        bits.put(code, length);
    }

    /// The RBSP of `bits` with its stop bit, behind NAL header byte `header`.
    fn nal(header: u8, mut bits: Bits) -> Vec<u8> {
        bits.put(1, 1);
        let mut out = vec![header];
        out.extend(bits.bytes());
        out
    }

    /// Main profile, 1×1 macroblocks, POC type 0 (4-bit lsb), 4-bit frame_num,
    /// fields allowed (frame_mbs_only_flag 0).
    fn sps() -> Vec<u8> {
        let mut b = Bits::default();
        b.put(77, 8);
        b.put(0, 8);
        b.put(30, 8);
        for value in [0, 0, 0, 0, 1] {
            ue(&mut b, value); // id, frame_num bits, poc type 0, lsb bits, max refs
        }
        b.put(0, 1); // gaps
        ue(&mut b, 0);
        ue(&mut b, 0);
        b.put(0b0010, 4); // frame_mbs_only 0, mbaff 0, direct_8x8 1, cropping 0
        b.put(0, 1); // vui
        nal(0x67, b)
    }

    fn pps() -> Vec<u8> {
        let mut b = Bits::default();
        ue(&mut b, 0);
        ue(&mut b, 0);
        b.put(0, 2); // cabac, bottom_field_pic_order_in_frame_present
        for _ in 0..3 {
            ue(&mut b, 0); // slice groups, l0, l1
        }
        b.put(0, 3); // weighted_pred, weighted_bipred_idc
        for _ in 0..3 {
            ue(&mut b, 0); // se(0) is ue(0)
        }
        b.put(0b100, 3); // deblocking control, constrained intra, redundant_pic_cnt
        nal(0x68, b)
    }

    /// A slice: `field` is `None` for a frame, else `Some(bottom)`.
    fn slice(idr: bool, frame_num: u64, field: Option<bool>, lsb: u64) -> Vec<u8> {
        let mut b = Bits::default();
        ue(&mut b, 0); // first_mb_in_slice
        ue(&mut b, if idr { 7 } else { 5 }); // I or P
        ue(&mut b, 0);
        b.put(frame_num, 4);
        match field {
            None => b.put(0, 1),
            Some(bottom) => b.put(2 | u64::from(bottom), 2),
        }
        if idr {
            ue(&mut b, 0); // idr_pic_id
        }
        b.put(lsb, 4);
        if !idr {
            b.put(0, 2); // num_ref_idx_override, ref_pic_list_modification_flag_l0
        }
        b.put(0, 2); // dec_ref_pic_marking: two flags (IDR) or adaptive 0 and padding
        b.put(0xff, 8); // slice data
        nal(if idr { 0x65 } else { 0x41 }, b)
    }

    fn scan(units: &[Vec<u8>]) -> Vec<Unit> {
        let mut stream = Vec::new();
        stillframe_bitstream::framing::write_annex_b(units.iter().map(Vec::as_slice), &mut stream);
        let mut source = Source::new(Cursor::new(stream)).unwrap();
        let mut scanner = H264Scanner::new(&Limits::default());
        let mut found = Vec::new();
        while let Some(unit) = scanner.next_unit(&mut source).unwrap() {
            found.push(unit);
        }
        found
    }

    #[test]
    fn field_pairs_share_a_sample_and_a_lone_field_is_not_shown() {
        let units = [
            sps(),
            pps(),
            slice(true, 0, Some(false), 0),
            slice(false, 0, Some(true), 1),
            slice(false, 1, Some(false), 4),
            slice(false, 1, Some(true), 5),
            slice(false, 2, Some(false), 8),
            slice(false, 3, None, 12),
        ];
        let found = scan(&units);
        let summary: Vec<(bool, bool, Order)> = found
            .iter()
            .map(|u| (u.sync, u.presented, u.order))
            .collect();
        let count = |count, new_period| Order::Count { count, new_period };
        assert_eq!(
            summary,
            [
                (true, true, count(0, true)),
                (false, true, count(4, false)),
                (false, false, count(8, false)),
                (false, true, count(12, false)),
            ]
        );
        // The pair's sample holds both fields' units (and the parameter sets).
        let pair: u64 = units[..4].iter().map(|u| 4 + u.len() as u64).sum();
        assert_eq!(u64::from(found[0].size), pair);
        assert_eq!(found[0].offset, 1);
    }

    #[test]
    fn access_units_split_at_delimiters_parameter_sets_and_new_pictures() {
        let aud = vec![0x09, 0xf0];
        let sei = vec![0x06, 0x05, 0x01, 0xaa, 0x80];
        let frame = |idr, frame_num, lsb| slice(idr, frame_num, None, lsb);
        let units = [
            aud.clone(),
            sps(),
            pps(),
            frame(true, 0, 0),
            aud,
            frame(false, 1, 2),
            // An SEI after a picture starts the next access unit.
            sei,
            frame(false, 2, 4),
            // The same picture continued: a slice of another frame_num would not be.
            frame(false, 3, 6),
            vec![0x0c, 0xff], // filler data stays with the picture before it
        ];
        let found = scan(&units);
        assert_eq!(found.len(), 4);
        let sizes: Vec<u32> = found.iter().map(|u| u.size).collect();
        let size = |range: std::ops::Range<usize>| {
            u32::try_from(units[range].iter().map(|u| 4 + u.len()).sum::<usize>()).unwrap()
        };
        assert_eq!(sizes, [size(0..4), size(4..6), size(6..8), size(8..10)]);
        // Slices before any parameter set cannot be read: they are dropped.
        let orphan = scan(&[frame(false, 1, 2), sps(), pps(), frame(true, 0, 0)]);
        assert_eq!(orphan.len(), 1);
        assert!(orphan[0].sync);
    }
}
