//! A bit writer for hand-made HEVC syntax in unit tests.

/// Writes bits most significant first.
#[derive(Debug, Default)]
pub(crate) struct BitWriter(Vec<bool>);

impl BitWriter {
    /// The `count` low bits of `value`.
    pub(crate) fn put(&mut self, value: u64, count: u32) -> &mut Self {
        for i in (0..count).rev() {
            self.0.push((value >> i) & 1 == 1);
        }
        self
    }

    /// One flag.
    pub(crate) fn flag(&mut self, value: bool) -> &mut Self {
        self.put(u64::from(value), 1)
    }

    /// `ue(v)`.
    pub(crate) fn ue(&mut self, value: u32) -> &mut Self {
        let code = u64::from(value) + 1;
        let length = 64 - code.leading_zeros();
        self.put(0, length - 1).put(code, length)
    }

    /// `se(v)`.
    pub(crate) fn se(&mut self, value: i32) -> &mut Self {
        let code = if value > 0 {
            2 * value.unsigned_abs() - 1
        } else {
            2 * value.unsigned_abs()
        };
        self.ue(code)
    }

    /// The bits with `rbsp_trailing_bits()` (a one, then zeros to a byte boundary).
    pub(crate) fn rbsp(&mut self) -> Vec<u8> {
        self.put(1, 1);
        while !self.0.len().is_multiple_of(8) {
            self.0.push(false);
        }
        self.bytes()
    }

    /// The bits so far, zero-padded to whole bytes.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        self.0
            .chunks(8)
            .map(|chunk| {
                chunk
                    .iter()
                    .enumerate()
                    .fold(0u8, |byte, (i, &bit)| byte | (u8::from(bit) << (7 - i)))
            })
            .collect()
    }
}
