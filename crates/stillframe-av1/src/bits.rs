//! A bounds-checked MSB-first bit reader with AV1's `f(n)`, `uvlc()` and
//! `leb128()` descriptors (AV1 specification § 4.10).

/// Reading ran past the end of the data, or a value did not fit its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutOfBits;

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

    /// `f(1)`.
    pub(crate) fn flag(&mut self) -> Result<bool, OutOfBits> {
        let byte = self.data.get(self.position / 8).ok_or(OutOfBits)?;
        let bit = (byte >> (7 - self.position % 8)) & 1;
        self.position += 1;
        Ok(bit == 1)
    }

    /// `f(n)` for `n` ≤ 32.
    pub(crate) fn bits(&mut self, count: u32) -> Result<u32, OutOfBits> {
        if count > 32 {
            return Err(OutOfBits);
        }
        let mut value = 0u64;
        for _ in 0..count {
            value = (value << 1) | u64::from(self.flag()?);
        }
        u32::try_from(value).map_err(|_| OutOfBits)
    }

    /// `f(n)` for `n` ≤ 8.
    pub(crate) fn u8(&mut self, count: u32) -> Result<u8, OutOfBits> {
        if count > 8 {
            return Err(OutOfBits);
        }
        u8::try_from(self.bits(count)?).map_err(|_| OutOfBits)
    }

    /// Skips `count` bits.
    pub(crate) fn skip(&mut self, count: u32) -> Result<(), OutOfBits> {
        for _ in 0..count {
            self.flag()?;
        }
        Ok(())
    }

    /// `uvlc()` (§ 4.10.3). Values past 32 bits are saturated, as the
    /// specification says.
    pub(crate) fn uvlc(&mut self) -> Result<u32, OutOfBits> {
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
}

/// `leb128()` (§ 4.10.5) at the start of `data`: the value and the bytes it took.
/// At most 8 bytes are read and the value must fit 32 bits, as § 4.10.5 requires.
pub(crate) fn leb128(data: &[u8]) -> Result<(u64, usize), OutOfBits> {
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

#[cfg(test)]
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
    fn uvlc_matches_the_specification() {
        // 1 → 0; 010 → 1; 011 → 2; 00100 → 3.
        let mut reader = BitReader::new(&[0b1010_0110, 0b0100_0000]);
        assert_eq!(reader.uvlc(), Ok(0));
        assert_eq!(reader.uvlc(), Ok(1));
        assert_eq!(reader.uvlc(), Ok(2));
        assert_eq!(reader.uvlc(), Ok(3));
    }

    #[test]
    fn leb128_reads_multi_byte_values_and_rejects_overlong_ones() {
        assert_eq!(leb128(&[0x05]), Ok((5, 1)));
        assert_eq!(leb128(&[0xe5, 0x8e, 0x26]), Ok((624_485, 3)));
        assert_eq!(leb128(&[0x80; 9]), Err(OutOfBits));
        assert_eq!(leb128(&[0xff, 0xff, 0xff, 0xff, 0x7f]), Err(OutOfBits));
        assert_eq!(leb128(&[]), Err(OutOfBits));
    }
}
