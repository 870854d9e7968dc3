//! The activation and the softmax of inference, in plain loops the compiler vectorizes.
//!
//! candle computes GELU with the C library's `erff` and the softmax with `expf`, one value
//! at a time; on one core that was a fifth of a model's time. These use a polynomial `exp`
//! (Cephes' `expf`, relative error below 3e-7) and Abramowitz and Stegun's formula 7.1.26
//! for `erf` (absolute error below 6e-7 in f32), the one PyTorch's vectorized CPU `erf` uses:
//! far inside the 1e-4 by which converted models are checked against their originals. The
//! trainable build keeps candle's operations, which have a backward pass.

/// `e^x`, for `x` in the range of `f32` (below about -87.3 it is 0, above 88.3 it is
/// `e^88.3`).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer without a call.
    const ROUNDER: f32 = 12_582_912.0;
    let clamped = x.clamp(-87.3, 88.3);
    let n = (clamped * LOG2_E + ROUNDER) - ROUNDER;
    let r = clamped - n * LN2_HIGH - n * LN2_LOW;
    let polynomial =
        (((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 0.166_666_65) * r
            + 0.5)
            * r
            * r
            + r
            + 1.0;
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    if x < -87.3 { 0.0 } else { polynomial * scale }
}

/// The error function.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let polynomial = ((((1.061_405_4 * t - 1.453_152) * t + 1.421_413_8) * t - 0.284_496_74) * t + 0.254_829_6) * t;
    let y = 1.0 - polynomial * exp(-a * a);
    y.copysign(x)
}

/// Runs `body` compiled for AVX2 and FMA when the CPU has them (every x86-64 CPU of the
/// last decade), and for the baseline otherwise.
macro_rules! dispatch {
    ($avx2:ident, $portable:ident, ($($argument:expr),*)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: the function is compiled for AVX2 and FMA, which the CPU was just
                // found to have; it has no other requirement.
                #[allow(unsafe_code)]
                unsafe {
                    return $avx2($($argument),*);
                }
            }
        }
        $portable($($argument),*)
    }};
}

/// GELU (the exact form, with `erf`) of every value.
pub fn gelu_in_place(values: &mut [f32]) {
    dispatch!(gelu_avx2, gelu, (values))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gelu_avx2(values: &mut [f32]) {
    gelu(values);
}

#[inline(always)]
fn gelu(values: &mut [f32]) {
    for value in values {
        let x = *value;
        *value = 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// The softmax of every row of `row_length` values.
pub fn softmax_rows_in_place(values: &mut [f32], row_length: usize) {
    dispatch!(softmax_avx2, softmax, (values, row_length))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn softmax_avx2(values: &mut [f32], row_length: usize) {
    softmax(values, row_length);
}

/// Eight running results, so that a reduction vectorizes.
const LANES: usize = 8;

#[inline(always)]
fn softmax(values: &mut [f32], row_length: usize) {
    for row in values.chunks_mut(row_length.max(1)) {
        let mut largest = [f32::NEG_INFINITY; LANES];
        let mut chunks = row.chunks_exact(LANES);
        for chunk in &mut chunks {
            for (lane, &value) in largest.iter_mut().zip(chunk) {
                *lane = if value > *lane { value } else { *lane };
            }
        }
        let largest = chunks
            .remainder()
            .iter()
            .chain(&largest)
            .fold(
                f32::NEG_INFINITY,
                |largest, &value| if value > largest { value } else { largest },
            );
        for value in row.iter_mut() {
            *value = exp(*value - largest);
        }
        let mut sums = [0.0_f32; LANES];
        let mut chunks = row.chunks_exact(LANES);
        for chunk in &mut chunks {
            for (lane, value) in sums.iter_mut().zip(chunk) {
                *lane += value;
            }
        }
        let sum: f32 = chunks.remainder().iter().chain(&sums).sum();
        let scale = 1.0 / sum;
        for value in row.iter_mut() {
            *value *= scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> impl Iterator<Item = f32> {
        (-200_000..=200_000).map(|step| step as f32 / 10_000.0)
    }

    #[test]
    fn exp_and_erf_agree_with_the_c_library() {
        for x in grid().chain([-87.0, -50.0, 30.0, 88.0]) {
            let (fast, exact) = (exp(x), x.exp());
            assert!((fast - exact).abs() <= exact * 3e-7, "exp({x}) = {fast}, not {exact}");
        }
        assert_eq!(exp(-1000.0), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert!(exp(1000.0).is_finite());
        let worst = grid()
            .map(|x| (f64::from(erf(x)) - libm_erf(f64::from(x))).abs())
            .fold(0.0, f64::max);
        // The formula's 1.5e-7, and f32's rounding.
        assert!(worst < 6e-7, "erf is off by {worst}");
    }

    #[test]
    fn gelu_and_softmax_agree_with_candle() {
        use candle_core::{Device, Tensor};
        let inputs: Vec<f32> = grid().step_by(37).collect();
        let tensor = Tensor::from_vec(inputs.clone(), inputs.len(), &Device::Cpu).unwrap();
        let expected: Vec<f32> = tensor.gelu_erf().unwrap().to_vec1().unwrap();
        // The dispatched loop (AVX2 here) and the portable one, which other CPUs run.
        let mut fast = inputs.clone();
        gelu_in_place(&mut fast);
        let mut portable = inputs.clone();
        gelu(&mut portable);
        for computed in [&fast, &portable] {
            let worst = computed
                .iter()
                .zip(&expected)
                .map(|(computed, expected)| (computed - expected).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1e-5, "{worst}");
        }

        let rows = Tensor::from_vec(inputs[..10_800].to_vec(), (90, 120), &Device::Cpu).unwrap();
        let expected: Vec<f32> = candle_nn::ops::softmax_last_dim(&rows)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let mut fast = inputs[..10_800].to_vec();
        softmax_rows_in_place(&mut fast, 120);
        let mut portable = inputs[..10_800].to_vec();
        softmax(&mut portable, 120);
        for computed in [&fast, &portable] {
            for (computed, expected) in computed.iter().zip(&expected) {
                assert!((computed - expected).abs() < 1e-6, "{computed} {expected}");
            }
        }
        // A masked position (the most negative score) gets nothing.
        let mut masked = vec![1.0, -f32::MAX, 2.0];
        softmax_rows_in_place(&mut masked, 3);
        assert_eq!(masked[1], 0.0);
    }

    /// `erf` in double precision by its Maclaurin series and, past 3, its asymptotic
    /// continued fraction (exact to far below f32's precision).
    fn libm_erf(x: f64) -> f64 {
        let a = x.abs();
        let value = if a < 3.0 {
            let mut term = a;
            let mut sum = a;
            let mut n = 0.0;
            while term.abs() > 1e-17 * sum.abs() {
                n += 1.0;
                term *= -a * a / n;
                sum += term / (2.0 * n + 1.0);
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            let mut fraction = 0.0;
            for k in (1..60).rev() {
                fraction = f64::from(k) / 2.0 / (a + fraction);
            }
            1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / (a + fraction)
        };
        value.copysign(x)
    }
}
