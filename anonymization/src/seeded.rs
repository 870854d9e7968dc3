//! A small deterministic generator (xorshift64*), so that surrogates repeat for a seed.

#[derive(Debug, Clone)]
pub(crate) struct Random(u64);

impl Random {
    /// A generator seeded with `seed` (0 is replaced, as xorshift would stay at 0).
    pub(crate) fn new(seed: u64) -> Random {
        Random(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut value = self.0;
        value ^= value >> 12;
        value ^= value << 25;
        value ^= value >> 27;
        self.0 = value;
        value.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..bound` (0 when `bound` is 0).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        // Multiply-shift: unbiased enough for choosing fake values.
        ((u128::from(self.next()) * u128::from(bound)) >> 64) as u64
    }
}
