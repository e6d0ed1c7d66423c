//! The encoder's element-wise functions, written so the compiler vectorises them:
//! GELU (with erf as a rational function on a clamped range, as XLA computes it in
//! f32) and the softmax's exponential (Cody–Waite range reduction and the Cephes
//! polynomial). A call to libm's `erff` and `expf` for each of the 9,000 values a
//! token passes through took a fifth of a sentence's time. Each is compiled twice
//! more, for AVX-512 and AVX2+FMA, and the CPU's best is chosen at run time.

use std::f32::consts::{FRAC_1_SQRT_2, LN_2, LOG2_E};

use super::kernels::Cpu;

/// e^x, to within a few units in the last place, for x in the range f32 can hold
/// (smaller gives 0, larger saturates at e^88).
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // n = round(x / ln 2), by the 1.5 × 2^23 trick (no rounding call to vectorise).
    const ROUND: f32 = 12_582_912.0;
    let n = (x * LOG2_E + ROUND) - ROUND;
    // r = x - n ln 2, in two steps so r keeps its precision.
    const LN_2_HIGH: f32 = 0.693_359_4;
    const LN_2_LOW: f32 = LN_2 - LN_2_HIGH;
    let r = x - n * LN_2_HIGH - n * LN_2_LOW;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 5.000_000_1e-1;
    let e = p * r * r + r + 1.0;
    e * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

/// erf(x), to within about 1e-7: a rational function of x² on [-4, 4], where erf
/// reaches ±1 in f32.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10_f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 + -2.101_024e-6;
    p = p * x2 + -5.692_506_4e-5;
    p = p * x2 + -7.349_906_3e-4;
    p = p * x2 + -2.954_600_1e-3;
    p = p * x2 + -1.609_603_3e-2;
    let mut q = -1.456_607_2e-5_f32;
    q = q * x2 + -2.133_740_6e-4;
    q = q * x2 + -1.682_827e-3;
    q = q * x2 + -7.373_329e-3;
    q = q * x2 + -1.426_474e-2;
    x * p / q
}

#[inline(always)]
fn gelu_each(values: &mut [f32]) {
    for v in values {
        *v = 0.5 * *v * (1.0 + erf(*v * FRAC_1_SQRT_2));
    }
}

/// Each row of `scores` (rows of `width`) replaced by its softmax.
#[inline(always)]
fn softmax_each(scores: &mut [f32], width: usize) {
    if width == 0 {
        return;
    }
    for row in scores.chunks_exact_mut(width) {
        let top = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut total = 0.0;
        for s in row.iter_mut() {
            *s = exp(*s - top);
            total += *s;
        }
        let scale = 1.0 / total;
        row.iter_mut().for_each(|s| *s *= scale);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn gelu512(values: &mut [f32]) {
    gelu_each(values);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gelu256(values: &mut [f32]) {
    gelu_each(values);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn softmax512(scores: &mut [f32], width: usize) {
    softmax_each(scores, width);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn softmax256(scores: &mut [f32], width: usize) {
    softmax_each(scores, width);
}

/// GELU of every value, in place (the erf form BERT uses).
pub fn gelu(cpu: Cpu, values: &mut [f32]) {
    match cpu {
        // SAFETY: `Cpu::Avx512` is only detected on a CPU with AVX-512F.
        #[cfg(target_arch = "x86_64")]
        Cpu::Avx512 => unsafe { gelu512(values) },
        // SAFETY: `Cpu::Avx2` is only detected on a CPU with AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        Cpu::Avx2 => unsafe { gelu256(values) },
        _ => gelu_each(values),
    }
}

/// The softmax of each row of `scores` (rows of `width`), in place.
pub fn softmax(cpu: Cpu, scores: &mut [f32], width: usize) {
    match cpu {
        // SAFETY: `Cpu::Avx512` is only detected on a CPU with AVX-512F.
        #[cfg(target_arch = "x86_64")]
        Cpu::Avx512 => unsafe { softmax512(scores, width) },
        // SAFETY: `Cpu::Avx2` is only detected on a CPU with AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        Cpu::Avx2 => unsafe { softmax256(scores, width) },
        _ => softmax_each(scores, width),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_erf_match_the_library_functions() {
        for i in -4000..=4000 {
            let x = i as f32 / 100.0;
            let (got, want) = (exp(x), x.exp());
            assert!(((got - want) / want).abs() < 2e-6, "exp({x}) = {got}, not {want}");
            let (got, want) = (erf(x / 8.0), libm::erff(x / 8.0));
            assert!((got - want).abs() < 2e-6, "erf({}) = {got}, not {want}", x / 8.0);
        }
        assert!(exp(-200.0) < 1e-37, "e^-200 is as small as f32 goes");
        assert!(exp(200.0).is_finite());
        assert!((erf(9.0) - 1.0).abs() < 1e-6 && (erf(-9.0) + 1.0).abs() < 1e-6);
    }

    #[test]
    fn every_path_this_cpu_runs_gives_the_same_gelu_and_softmax() {
        let values: Vec<f32> = (0..97).map(|i| i as f32 / 8.0 - 6.0).collect();
        let mut plain = values.clone();
        gelu(Cpu::Other, &mut plain);
        let mut fast = values.clone();
        gelu(Cpu::detect(), &mut fast);
        for ((v, a), b) in values.iter().zip(&plain).zip(&fast) {
            let want = 0.5 * v * (1.0 + libm::erff(v * FRAC_1_SQRT_2));
            assert!((a - want).abs() < 1e-5 && (b - want).abs() < 1e-5, "gelu({v}): {a} {b} vs {want}");
        }
        let mut scores = vec![1.0, 2.0, 3.0, -1e9, 0.0, 0.0];
        softmax(Cpu::detect(), &mut scores, 3);
        let sum: f32 = scores[..3].iter().sum();
        assert!((sum - 1.0).abs() < 1e-6 && scores[2] > scores[1] && scores[3] < 1e-30, "{scores:?}");
    }
}
