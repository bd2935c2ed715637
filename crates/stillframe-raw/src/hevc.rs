//! HEVC Annex B streams cut into samples: access units (H.265 § 7.4.2.4.4), each
//! with its picture order count (§ 8.3.1) for the presentation order.

use std::collections::VecDeque;
use std::io::{Read, Seek};

use stillframe_bitstream::hevc::{
    first_slice_segment_in_pic, parse_pps_head, parse_slice_segment_header_start, parse_sps,
    write_hvcc, NalHeader, PocTracker, PpsHead, Sps, NAL_EOB, NAL_EOS, NAL_PPS, NAL_SPS, NAL_VPS,
};
use stillframe_core::{Error, Limits, Result};

use crate::index::{Order, Unit};
use crate::nal_scan::{NalScanner, NalUnit};
use crate::source::Source;

/// Bytes kept of a parameter set or SEI unit: far more than any real one holds.
const PARAMETER_SET_MAX_BYTES: usize = 64 * 1024;
/// Bytes of a slice segment that hold the header fields read here (§ 7.3.6.1
/// through `slice_pic_order_cnt_lsb`).
const SLICE_HEAD_BYTES: usize = 66;

/// How much of a unit the parsers need, by its first header byte.
fn head_bytes(first: u8) -> usize {
    match (first >> 1) & 0x3f {
        0..=31 => SLICE_HEAD_BYTES,
        32..=34 | 39 | 40 => PARAMETER_SET_MAX_BYTES,
        _ => 2,
    }
}

/// True for the units that, after the last VCL unit of a picture, start the next
/// access unit (§ 7.4.2.4.4): VPS, SPS, PPS, access unit delimiter, prefix SEI,
/// and the reserved and unspecified types 41–44 and 48–55.
fn starts_access_unit(nal_type: u8) -> bool {
    matches!(nal_type, 32..=35 | 39 | 41..=44 | 48..=55)
}

/// The kinds of parameter set an `hvcC` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetKind {
    Vps,
    Sps,
    Pps,
}

/// The parameter sets stated before the first picture, one per id: the track's
/// `hvcC`, so that a decode starting at a later IRAP picture has them (many raw
/// streams state them once, at the start).
#[derive(Debug, Default)]
struct LeadingSets {
    /// `(id, unit)` in the order each id was first stated.
    vps: Vec<(u8, Vec<u8>)>,
    sps: Vec<(u8, Vec<u8>)>,
    pps: Vec<(u8, Vec<u8>)>,
    /// A picture was seen: what follows is in-band.
    closed: bool,
}

impl LeadingSets {
    /// The id ranges of H.265 § 7.4.3 (`vps_video_parameter_set_id` u(4), SPS 0 to 15,
    /// PPS 0 to 63): with one unit per id, what a stream can make us hold.
    const MAX_VPS: usize = 16;
    const MAX_SPS: usize = 16;
    const MAX_PPS: usize = 64;
    /// The most an `hvcC` length field can say.
    const MAX_UNIT_BYTES: u64 = u16::MAX as u64;

    /// Takes in `nal`, a parameter set whose id is `id`; a later one of the same id
    /// replaces the earlier, as it does for a decoder.
    fn add(&mut self, kind: SetKind, id: u8, nal: &NalUnit) {
        if self.closed {
            return;
        }
        let (list, most) = match kind {
            SetKind::Vps => (&mut self.vps, Self::MAX_VPS),
            SetKind::Sps => (&mut self.sps, Self::MAX_SPS),
            SetKind::Pps => (&mut self.pps, Self::MAX_PPS),
        };
        // `head` holds at most PARAMETER_SET_MAX_BYTES: only a unit read whole, and
        // one a record can hold, is kept.
        let whole = u64::try_from(nal.head.len()).is_ok_and(|len| len == nal.len());
        let slot = list.iter().position(|(known, _)| *known == id);
        if !whole || nal.len() > Self::MAX_UNIT_BYTES {
            // It still replaces the earlier unit for the decoder: keeping that one
            // would give a later decode parameters the stream has withdrawn.
            if let Some(slot) = slot {
                list.remove(slot);
            }
            log::debug!(
                "HEVC parameter set of {} bytes at byte {} left out of the hvcC",
                nal.len(),
                nal.start
            );
            return;
        }
        match slot {
            Some(slot) => list[slot].1.clone_from(&nal.head),
            None if list.len() < most => list.push((id, nal.head.clone())),
            None => {}
        }
    }

    /// The `hvcC` of these sets; empty without an SPS (or when no record holds them).
    fn hvcc(&self) -> Vec<u8> {
        let units = |list: &[(u8, Vec<u8>)]| -> Vec<Vec<u8>> {
            list.iter().map(|(_, unit)| unit.clone()).collect()
        };
        write_hvcc(&units(&self.vps), &units(&self.sps), &units(&self.pps)).unwrap_or_default()
    }
}

/// The access unit being gathered.
#[derive(Debug, Default)]
struct AccessUnit {
    start: Option<u64>,
    end: u64,
    size: u64,
    has_parameter_sets: bool,
    picture: Option<PictureInfo>,
}

#[derive(Debug, Clone, Copy)]
struct PictureInfo {
    poc: i32,
    irap: bool,
    /// An IRAP picture with `NoRaslOutputFlag`: a new coded video sequence.
    new_period: bool,
    /// Not output: `pic_output_flag` 0, or a RASL picture of an IRAP picture with
    /// `NoRaslOutputFlag` (it refers to pictures that were never decoded).
    hidden: bool,
}

/// Cuts an HEVC Annex B stream into samples, one unit at a time.
pub(crate) struct HevcScanner {
    nals: NalScanner,
    sps: Vec<Option<Sps>>,
    pps: Vec<Option<PpsHead>>,
    poc: PocTracker,
    au: AccessUnit,
    ready: VecDeque<Unit>,
    first_sps: Option<Sps>,
    leading_sets: LeadingSets,
    max_sample_bytes: u64,
    finished: bool,
}

impl HevcScanner {
    /// A scanner at the start of the stream.
    pub(crate) fn new(limits: &Limits) -> HevcScanner {
        let max_sample_bytes = u64::from(limits.max_sample_bytes);
        HevcScanner {
            nals: NalScanner::new(head_bytes, max_sample_bytes),
            sps: vec![None; 16],
            pps: vec![None; 64],
            poc: PocTracker::new(),
            au: AccessUnit::default(),
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

    /// An `hvcC` record of the VPS, SPS and PPS the stream states before its first
    /// picture, the last of each id (empty when it states no SPS there).
    pub(crate) fn leading_hvcc(&self) -> Vec<u8> {
        self.leading_sets.hvcc()
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
            match self.nals.next(source)? {
                Some(nal) => self.push_nal(nal)?,
                None => self.finish(),
            }
        }
    }

    fn push_nal(&mut self, nal: NalUnit) -> Result<()> {
        let Some(header) = NalHeader::parse(&nal.head) else {
            // A broken header starts nothing; it stays with what comes before.
            return self.add(&nal);
        };
        if header.is_vcl() {
            if header.layer_id == 0 && first_slice_segment_in_pic(&nal.head) == Some(true) {
                return self.push_first_slice(nal, header);
            }
            return self.add(&nal);
        }
        if header.layer_id == 0 && starts_access_unit(header.nal_type) && self.au.picture.is_some()
        {
            self.close_access_unit();
        }
        // Units of other layers belong to their layer's record (`lhvC`), not the
        // base layer's `hvcC`.
        let base_layer = header.layer_id == 0;
        match header.nal_type {
            // The id is the first 4 payload bits; byte 2 follows the non-zero header
            // byte, so it is never an emulation prevention byte.
            NAL_VPS if base_layer => {
                if let Some(&byte) = nal.head.get(2) {
                    self.leading_sets.add(SetKind::Vps, byte >> 4, &nal);
                }
            }
            NAL_SPS => match parse_sps(&nal.head) {
                Ok(sps) => {
                    if base_layer {
                        self.leading_sets.add(SetKind::Sps, sps.id, &nal);
                    }
                    if let Some(slot) = self.sps.get_mut(usize::from(sps.id)) {
                        *slot = Some(sps);
                    }
                    self.au.has_parameter_sets = true;
                }
                Err(error) => log::debug!("HEVC SPS at byte {} ignored: {error}", nal.start),
            },
            NAL_PPS => match parse_pps_head(&nal.head) {
                Ok(pps) => {
                    if base_layer {
                        self.leading_sets.add(SetKind::Pps, pps.id, &nal);
                    }
                    if let Some(slot) = self.pps.get_mut(usize::from(pps.id)) {
                        *slot = Some(pps);
                    }
                    self.au.has_parameter_sets = true;
                }
                Err(error) => log::debug!("HEVC PPS at byte {} ignored: {error}", nal.start),
            },
            NAL_EOS | NAL_EOB => self.poc.end_of_sequence(),
            _ => {}
        }
        self.add(&nal)
    }

    /// The first slice segment of a picture: a new access unit if the one being
    /// gathered already holds a picture.
    fn push_first_slice(&mut self, nal: NalUnit, header: NalHeader) -> Result<()> {
        let (sps_table, pps_table) = (&self.sps, &self.pps);
        let lookup = |id: u8| {
            let pps = pps_table.get(usize::from(id))?.as_ref()?;
            let sps = sps_table.get(usize::from(pps.sps_id))?.as_ref()?;
            Some((pps, sps))
        };
        let parsed = parse_slice_segment_header_start(&nal.head, lookup);
        if self.au.picture.is_some() {
            self.close_access_unit();
        }
        let slice = match parsed {
            Ok(slice) => slice,
            Err(error) => {
                log::debug!("HEVC slice at byte {}: {error}", nal.start);
                if !self.au.has_parameter_sets {
                    // A picture before the first parameter sets (a stream cut
                    // inside a sequence): nothing could decode it.
                    self.au = AccessUnit::default();
                    return Ok(());
                }
                self.leading_sets.closed = true;
                return self.add(&nal);
            }
        };
        // Closed by a kept picture only: a slice dropped above (nothing before it
        // could decode it) is none, and the parameter sets after it still lead.
        self.leading_sets.closed = true;
        self.add(&nal)?;
        let sps = self
            .pps
            .get(usize::from(slice.pps_id))
            .and_then(Option::as_ref)
            .and_then(|pps| self.sps.get(usize::from(pps.sps_id)))
            .and_then(Option::as_ref);
        let (Some(sps), Some(fields)) = (sps, slice.independent) else {
            return Ok(());
        };
        let poc = self.poc.picture(
            header,
            fields.pic_order_cnt_lsb,
            sps.log2_max_pic_order_cnt_lsb,
        );
        let irap = header.is_irap();
        let new_period = irap && self.poc.no_rasl_output();
        let hidden = !fields.pic_output || (header.is_rasl() && self.poc.no_rasl_output());
        self.au.picture = Some(PictureInfo {
            poc,
            irap,
            new_period,
            hidden,
        });
        if self.first_sps.is_none() {
            self.first_sps = Some(sps.clone());
        }
        Ok(())
    }

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

    fn close_access_unit(&mut self) {
        let au = std::mem::take(&mut self.au);
        let (Some(offset), Some(picture)) = (au.start, au.picture) else {
            return;
        };
        self.ready.push_back(Unit {
            offset,
            span: au.end.saturating_sub(offset),
            size: u32::try_from(au.size).unwrap_or(u32::MAX),
            sync: picture.irap,
            presented: !picture.hidden,
            order: Order::Count {
                count: i64::from(picture.poc),
                new_period: picture.new_period,
            },
        });
    }

    fn finish(&mut self) {
        if self.au.picture.is_some() {
            self.close_access_unit();
        } else if let Some(start) = self.au.start {
            log::debug!(
                "{} bytes after the last picture (from byte {start}) hold no picture; dropped",
                self.au.end.saturating_sub(start)
            );
        }
        self.finished = true;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A unit of `len` bytes at byte `at`, of which `head` was kept.
    fn unit(at: u64, head: Vec<u8>, len: u64) -> NalUnit {
        NalUnit {
            start_code: at,
            start: at + 3,
            end: at + 3 + len,
            head,
        }
    }

    fn whole(at: u64, bytes: &[u8]) -> NalUnit {
        unit(at, bytes.to_vec(), bytes.len() as u64)
    }

    fn ids(list: &[(u8, Vec<u8>)]) -> Vec<(u8, u8)> {
        list.iter().map(|(id, unit)| (*id, unit[2])).collect()
    }

    #[test]
    fn a_later_unit_of_an_id_replaces_the_earlier_in_place() {
        let mut sets = LeadingSets::default();
        sets.add(SetKind::Pps, 0, &whole(0, &[0x44, 0x01, 0xa0]));
        sets.add(SetKind::Pps, 1, &whole(10, &[0x44, 0x01, 0xb1]));
        sets.add(SetKind::Pps, 0, &whole(20, &[0x44, 0x01, 0xc0]));
        sets.add(SetKind::Sps, 0, &whole(30, &[0x42, 0x01, 0xd0]));
        assert_eq!(ids(&sets.pps), [(0, 0xc0), (1, 0xb1)]);
        assert_eq!(ids(&sets.sps), [(0, 0xd0)]);
        assert!(sets.vps.is_empty());
        // After the first picture, nothing changes.
        sets.closed = true;
        sets.add(SetKind::Pps, 0, &whole(40, &[0x44, 0x01, 0xe0]));
        sets.add(SetKind::Vps, 0, &whole(50, &[0x40, 0x01, 0x0c]));
        assert_eq!(ids(&sets.pps), [(0, 0xc0), (1, 0xb1)]);
        assert!(sets.vps.is_empty());
    }

    #[test]
    fn what_is_held_is_bounded_whatever_the_stream_says() {
        let mut sets = LeadingSets::default();
        // Ids the parsers would refuse are still bounded here.
        for id in 0..=255u8 {
            sets.add(SetKind::Vps, id, &whole(0, &[0x40, 0x01, id]));
            sets.add(SetKind::Sps, id, &whole(0, &[0x42, 0x01, id]));
            sets.add(SetKind::Pps, id, &whole(0, &[0x44, 0x01, id]));
        }
        assert_eq!(
            (sets.vps.len(), sets.sps.len(), sets.pps.len()),
            (16, 16, 64)
        );
    }

    #[test]
    fn a_unit_too_big_for_the_record_withdraws_its_id() {
        let mut sets = LeadingSets::default();
        sets.add(SetKind::Pps, 0, &whole(0, &[0x44, 0x01, 0xc1]));
        sets.add(SetKind::Pps, 1, &whole(10, &[0x44, 0x01, 0xa5]));
        // Cut by the scanner: only its head was kept.
        let cut = unit(20, vec![0x44, 0x01, 0xc1], 100_000);
        sets.add(SetKind::Pps, 0, &cut);
        assert_eq!(ids(&sets.pps), [(1, 0xa5)]);
        // Read whole but over what a 16-bit length can say.
        let mut big = vec![0x44, 0x01, 0xa5];
        big.resize(65_536, 0x11);
        sets.add(SetKind::Pps, 1, &whole(30, &big));
        assert!(sets.pps.is_empty());
        let mut largest = vec![0x44, 0x01, 0xa5];
        largest.resize(65_535, 0x11);
        sets.add(SetKind::Pps, 1, &whole(40, &largest));
        assert_eq!(sets.pps.len(), 1);
    }

    #[test]
    fn no_sps_no_record() {
        let mut sets = LeadingSets::default();
        assert!(sets.hvcc().is_empty());
        sets.add(
            SetKind::Pps,
            0,
            &whole(0, &[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x22, 0x40]),
        );
        assert!(sets.hvcc().is_empty());
    }
}
