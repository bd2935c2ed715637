//! HEVC Annex B streams cut into samples: access units (H.265 § 7.4.2.4.4), each
//! with its picture order count (§ 8.3.1) for the presentation order.

use std::collections::VecDeque;
use std::io::{Read, Seek};

use stillframe_bitstream::hevc::{
    first_slice_segment_in_pic, parse_pps_head, parse_slice_segment_header_start, parse_sps,
    NalHeader, PocTracker, PpsHead, Sps, NAL_EOB, NAL_EOS, NAL_PPS, NAL_SPS,
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
            max_sample_bytes,
            finished: false,
        }
    }

    /// The SPS of the first picture, once one has been read.
    pub(crate) fn first_sps(&self) -> Option<&Sps> {
        self.first_sps.as_ref()
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
        match header.nal_type {
            NAL_SPS => match parse_sps(&nal.head) {
                Ok(sps) => {
                    if let Some(slot) = self.sps.get_mut(usize::from(sps.id)) {
                        *slot = Some(sps);
                    }
                    self.au.has_parameter_sets = true;
                }
                Err(error) => log::debug!("HEVC SPS at byte {} ignored: {error}", nal.start),
            },
            NAL_PPS => match parse_pps_head(&nal.head) {
                Ok(pps) => {
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
                return self.add(&nal);
            }
        };
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
