//! The one bounds-checked bit reader every codec parser shares: MSB-first fixed-width
//! fields, H.264/HEVC Exp-Golomb codes (ITU-T H.264 § 9.1, H.265 § 9.2), AV1's
//! `uvlc()` and `leb128()` (AV1 § 4.10), and the removal of emulation prevention
//! bytes that turns an H.264/HEVC NAL unit's payload into an RBSP (H.264 § 7.4.1).

/// Reading ran past the end of the data, or a value did not fit its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBits;

impl std::fmt::Display for OutOfBits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the data ends inside a field, or a field is out of range")
    }
}

impl std::error::Error for OutOfBits {}

/// Reads bits most significant first; every read checks the end.
///
/// ```
/// use stillframe_core::bits::BitReader;
///
/// // 1 | 010 | 011 | 00100: Exp-Golomb codes of 0, 1, 2 and 3.
/// let mut reader = BitReader::new(&[0b1010_0110, 0b0100_0000]);
/// assert_eq!(reader.ue(), Ok(0));
/// assert_eq!(reader.ue(), Ok(1));
/// assert_eq!(reader.bits(3), Ok(0b011));
/// assert_eq!(reader.ue(), Ok(3));
/// assert_eq!(reader.remaining(), 4);
/// ```
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits from the start of `data`.
    position: usize,
}

impl<'a> BitReader<'a> {
    /// A reader at the first bit of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, position: 0 }
    }

    /// Bits not yet read.
    pub fn remaining(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.position)
    }

    /// Bits read so far.
    pub fn position(&self) -> usize {
        self.position
    }

    /// True when the next bit starts a byte.
    pub fn is_byte_aligned(&self) -> bool {
        self.position.is_multiple_of(8)
    }

    /// One bit (`u(1)`, AV1's `f(1)`).
    pub fn flag(&mut self) -> Result<bool, OutOfBits> {
        let byte = self.data.get(self.position / 8).ok_or(OutOfBits)?;
        let bit = (byte >> (7 - self.position % 8)) & 1;
        self.position += 1;
        Ok(bit == 1)
    }

    /// `count` ≤ 32 bits as an unsigned number (`u(n)`, `f(n)`).
    pub fn bits(&mut self, count: u32) -> Result<u32, OutOfBits> {
        if count > 32 || count as usize > self.remaining() {
            return Err(OutOfBits);
        }
        let mut value = 0u64;
        for _ in 0..count {
            value = (value << 1) | u64::from(self.flag()?);
        }
        u32::try_from(value).map_err(|_| OutOfBits)
    }

    /// `count` ≤ 8 bits.
    pub fn u8(&mut self, count: u32) -> Result<u8, OutOfBits> {
        if count > 8 {
            return Err(OutOfBits);
        }
        u8::try_from(self.bits(count)?).map_err(|_| OutOfBits)
    }

    /// `count` ≤ 16 bits.
    pub fn u16(&mut self, count: u32) -> Result<u16, OutOfBits> {
        if count > 16 {
            return Err(OutOfBits);
        }
        u16::try_from(self.bits(count)?).map_err(|_| OutOfBits)
    }

    /// Skips `count` bits.
    pub fn skip(&mut self, count: usize) -> Result<(), OutOfBits> {
        if count > self.remaining() {
            return Err(OutOfBits);
        }
        self.position += count;
        Ok(())
    }

    /// Skips to the next byte boundary (nothing when already on one).
    pub fn align(&mut self) -> Result<(), OutOfBits> {
        let misalignment = self.position % 8;
        if misalignment == 0 {
            return Ok(());
        }
        self.skip(8 - misalignment)
    }

    /// `ue(v)` (H.264 § 9.1). A suffix longer than 32 bits cannot occur in a valid
    /// stream (every field fits 32 bits), so it is an error.
    pub fn ue(&mut self) -> Result<u32, OutOfBits> {
        let mut leading_zeros = 0u32;
        while !self.flag()? {
            leading_zeros += 1;
            if leading_zeros > 32 {
                return Err(OutOfBits);
            }
        }
        let suffix = u64::from(self.bits(leading_zeros)?);
        let value = (1u64 << leading_zeros) - 1 + suffix;
        u32::try_from(value).map_err(|_| OutOfBits)
    }

    /// `se(v)` (H.264 § 9.1.1): codes 1, 2, 3, 4, ... are 1, −1, 2, −2, ...
    pub fn se(&mut self) -> Result<i32, OutOfBits> {
        let code = i64::from(self.ue()?);
        let value = if code % 2 == 1 {
            (code + 1) / 2
        } else {
            -(code / 2)
        };
        i32::try_from(value).map_err(|_| OutOfBits)
    }

    /// `uvlc()` (AV1 § 4.10.3). Values past 32 bits saturate, as the specification says.
    pub fn uvlc(&mut self) -> Result<u32, OutOfBits> {
        let mut leading_zeros = 0u32;
        while !self.flag()? {
            leading_zeros += 1;
        }
        if leading_zeros >= 32 {
            return Ok(u32::MAX);
        }
        let value = self.bits(leading_zeros)?;
        Ok(value.saturating_add((1u32 << leading_zeros) - 1))
    }

    /// True while RBSP data remains before the trailing bits (H.264 § 7.2
    /// `more_rbsp_data()`): some bit after the next one is set, or the next one
    /// is not the stop bit.
    pub fn more_rbsp_data(&self) -> bool {
        let Some(last) = self.data.iter().rposition(|&byte| byte != 0) else {
            return false;
        };
        let stop_bit = last * 8 + 7 - self.data[last].trailing_zeros() as usize;
        self.position < stop_bit
    }
}

/// `leb128()` (AV1 § 4.10.5) at the start of `data`: the value and the bytes it took.
/// At most 8 bytes are read and the value must fit 32 bits, as § 4.10.5 requires.
///
/// ```
/// use stillframe_core::bits::leb128;
/// assert_eq!(leb128(&[0xe5, 0x8e, 0x26]), Ok((624_485, 3)));
/// ```
pub fn leb128(data: &[u8]) -> Result<(u64, usize), OutOfBits> {
    let mut value = 0u64;
    for (index, &byte) in data.iter().enumerate().take(8) {
        value |= u64::from(byte & 0x7f) << (index * 7);
        if byte & 0x80 == 0 {
            if value > u64::from(u32::MAX) {
                return Err(OutOfBits);
            }
            return Ok((value, index + 1));
        }
    }
    Err(OutOfBits)
}

/// Removes emulation prevention bytes: every `00 00 03` becomes `00 00`
/// (H.264 § 7.4.1, H.265 § 7.4.2), so a parser sees the RBSP the encoder wrote.
///
/// ```
/// use stillframe_core::bits::unescape_rbsp;
/// assert_eq!(unescape_rbsp(&[0, 0, 3, 1]), [0, 0, 1]);
/// ```
pub fn unescape_rbsp(nal: &[u8]) -> Vec<u8> {
    let mut rbsp = Vec::with_capacity(nal.len());
    let mut zeros = 0usize;
    for &byte in nal {
        if zeros >= 2 && byte == 3 {
            // The 03 only exists to break up a start-code-like run; drop it.
            zeros = 0;
            continue;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        rbsp.push(byte);
    }
    rbsp
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_fixed_width_fields_msb_first() {
        let mut reader = BitReader::new(&[0b1010_0000, 0xff]);
        assert_eq!(reader.flag(), Ok(true));
        assert_eq!(reader.bits(3), Ok(0b010));
        assert_eq!(reader.u8(8), Ok(0x0f));
        assert_eq!(reader.bits(4), Ok(0xf));
        assert_eq!(reader.flag(), Err(OutOfBits));
    }

    #[test]
    fn exp_golomb_codes() {
        // 1 | 010 | 011 | 00100 | 00101 | 1 ... : ue 0, 1, 2, 3, 4
        let data = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut reader = BitReader::new(&data);
        let values: Vec<u32> = (0..5).map(|_| reader.ue().unwrap()).collect();
        assert_eq!(values, [0, 1, 2, 3, 4]);
        assert_eq!(reader.remaining(), 7);
        // ue codes 1, 2, 3, 4 → se 1, −1, 2, −2
        let data = [0b0100_1100, 0b1000_0101];
        let mut reader = BitReader::new(&data);
        let values: Vec<i32> = (0..4).map(|_| reader.se().unwrap()).collect();
        assert_eq!(values, [1, -1, 2, -2]);
    }

    #[test]
    fn largest_ue_and_overlong_codes() {
        // 32 zeros, a one, 32 ones: 2^32 − 1 + 2^32 − 1 does not fit in u32.
        let mut data = vec![0u8; 4];
        data.extend([0x80 | 0x7f, 0xff, 0xff, 0xff, 0x80]);
        assert_eq!(BitReader::new(&data).ue(), Err(OutOfBits));
        // 31 zeros, a one, 31 ones: 2^32 − 2, the largest accepted.
        let mut data = vec![0u8; 3];
        data.extend([0b0000_0001, 0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(BitReader::new(&data).ue(), Ok(u32::MAX - 1));
        assert_eq!(BitReader::new(&[0, 0, 0, 0, 0]).ue(), Err(OutOfBits));
    }

    #[test]
    fn uvlc_matches_the_specification() {
        // 1 → 0; 010 → 1; 011 → 2; 00100 → 3.
        let mut reader = BitReader::new(&[0b1010_0110, 0b0100_0000]);
        assert_eq!(reader.uvlc(), Ok(0));
        assert_eq!(reader.uvlc(), Ok(1));
        assert_eq!(reader.uvlc(), Ok(2));
        assert_eq!(reader.uvlc(), Ok(3));
    }

    #[test]
    fn end_of_data_is_an_error() {
        let mut reader = BitReader::new(&[0xff]);
        assert_eq!(reader.bits(8), Ok(0xff));
        assert_eq!(reader.flag(), Err(OutOfBits));
        assert_eq!(reader.skip(1), Err(OutOfBits));
        assert_eq!(BitReader::new(&[]).ue(), Err(OutOfBits));
        assert_eq!(BitReader::new(&[1, 2, 3, 4, 5]).bits(33), Err(OutOfBits));
        // A failed read leaves the position where it was.
        let mut reader = BitReader::new(&[0xff]);
        assert_eq!(reader.bits(9), Err(OutOfBits));
        assert_eq!(reader.position(), 0);
    }

    #[test]
    fn alignment_and_more_rbsp_data() {
        // Payload bits 101, then the stop bit and zero padding.
        let mut reader = BitReader::new(&[0b1011_0000]);
        assert!(reader.more_rbsp_data());
        reader.skip(3).unwrap();
        assert!(!reader.more_rbsp_data());
        reader.align().unwrap();
        assert!(reader.is_byte_aligned());
        assert_eq!(reader.remaining(), 0);
        assert!(!BitReader::new(&[0, 0]).more_rbsp_data());
    }

    #[test]
    fn leb128_reads_multi_byte_values_and_rejects_overlong_ones() {
        assert_eq!(leb128(&[0x05]), Ok((5, 1)));
        assert_eq!(leb128(&[0xe5, 0x8e, 0x26]), Ok((624_485, 3)));
        assert_eq!(leb128(&[0x80; 9]), Err(OutOfBits));
        assert_eq!(leb128(&[0xff, 0xff, 0xff, 0xff, 0x7f]), Err(OutOfBits));
        assert_eq!(leb128(&[]), Err(OutOfBits));
    }

    #[test]
    fn removes_emulation_prevention() {
        assert_eq!(unescape_rbsp(&[0, 0, 3, 1]), [0, 0, 1]);
        assert_eq!(unescape_rbsp(&[0, 0, 3, 0, 0, 3]), [0, 0, 0, 0]);
        // A 03 not after two zeros stays.
        assert_eq!(unescape_rbsp(&[0, 3, 0, 3]), [0, 3, 0, 3]);
        // After a removed 03 the zero count restarts.
        assert_eq!(unescape_rbsp(&[0, 0, 3, 3]), [0, 0, 3]);
    }
}
