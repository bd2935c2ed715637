//! A bounds-checked MSB-first bit reader over an RBSP, with Exp-Golomb codes
//! (ITU-T H.264 § 7.2 and § 9.1), and the removal of emulation prevention bytes
//! (§ 7.4.1) that turns a NAL unit's payload into an RBSP.

/// Reading ran past the end of the RBSP, or a code was longer than 32 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutOfBits;

/// Removes emulation prevention bytes: every `00 00 03` becomes `00 00`
/// (H.264 § 7.4.1), so the parser sees the RBSP the encoder wrote.
pub(crate) fn unescape_rbsp(nal: &[u8]) -> Vec<u8> {
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

/// Reads bits most significant first; every read checks the end.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits from the start of `data`.
    position: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader { data, position: 0 }
    }

    /// Bits not yet read.
    pub(crate) fn remaining(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.position)
    }

    pub(crate) fn bit(&mut self) -> Result<bool, OutOfBits> {
        let byte = self.data.get(self.position / 8).ok_or(OutOfBits)?;
        let bit = (byte >> (7 - self.position % 8)) & 1;
        self.position += 1;
        Ok(bit == 1)
    }

    /// Reads `count` ≤ 32 bits as an unsigned number.
    pub(crate) fn bits(&mut self, count: u32) -> Result<u32, OutOfBits> {
        if count > 32 {
            return Err(OutOfBits);
        }
        let mut value = 0u64;
        for _ in 0..count {
            value = (value << 1) | u64::from(self.bit()?);
        }
        u32::try_from(value).map_err(|_| OutOfBits)
    }

    /// Reads `count` ≤ 8 bits.
    pub(crate) fn u8(&mut self, count: u32) -> Result<u8, OutOfBits> {
        if count > 8 {
            return Err(OutOfBits);
        }
        u8::try_from(self.bits(count)?).map_err(|_| OutOfBits)
    }

    pub(crate) fn skip(&mut self, count: usize) -> Result<(), OutOfBits> {
        if count > self.remaining() {
            return Err(OutOfBits);
        }
        self.position += count;
        Ok(())
    }

    /// `ue(v)` (§ 9.1). Codes above 32 bits of suffix cannot occur in a valid
    /// stream (the largest value any field takes fits in 32), so they are errors.
    pub(crate) fn ue(&mut self) -> Result<u32, OutOfBits> {
        let mut leading_zeros = 0u32;
        while !self.bit()? {
            leading_zeros += 1;
            if leading_zeros > 32 {
                return Err(OutOfBits);
            }
        }
        let suffix = u64::from(self.bits(leading_zeros)?);
        let value = (1u64 << leading_zeros) - 1 + suffix;
        u32::try_from(value).map_err(|_| OutOfBits)
    }

    /// `se(v)` (§ 9.1.1): 1, 2, 3, 4, ... map to 1, −1, 2, −2, ...
    pub(crate) fn se(&mut self) -> Result<i32, OutOfBits> {
        let code = i64::from(self.ue()?);
        let value = if code % 2 == 1 {
            (code + 1) / 2
        } else {
            -(code / 2)
        };
        i32::try_from(value).map_err(|_| OutOfBits)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_bits_and_exp_golomb() {
        // 1 | 010 | 011 | 00100 | 00101 | 1 ... : ue 0, 1, 2, 3, 4
        let data = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut reader = BitReader::new(&data);
        let values: Vec<u32> = (0..5).map(|_| reader.ue().unwrap()).collect();
        assert_eq!(values, [0, 1, 2, 3, 4]);
        assert_eq!(reader.remaining(), 7);
    }

    #[test]
    fn signed_exp_golomb() {
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
        // 31 zeros, a one, 31 ones: 2^32 − 2, the largest the reader accepts here.
        let mut data = vec![0u8; 3];
        data.extend([0b0000_0001, 0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(BitReader::new(&data).ue(), Ok(u32::MAX - 1));
        assert_eq!(BitReader::new(&[0, 0, 0, 0, 0]).ue(), Err(OutOfBits));
    }

    #[test]
    fn end_of_data_is_an_error() {
        let mut reader = BitReader::new(&[0xff]);
        assert_eq!(reader.bits(8), Ok(0xff));
        assert_eq!(reader.bit(), Err(OutOfBits));
        assert_eq!(reader.skip(1), Err(OutOfBits));
        assert_eq!(BitReader::new(&[]).ue(), Err(OutOfBits));
        assert_eq!(BitReader::new(&[1, 2, 3, 4, 5]).bits(33), Err(OutOfBits));
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
