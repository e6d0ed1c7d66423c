//! y += x·W for the encoder's shapes: x is rows × k (a sentence is a few dozen rows),
//! W is k × n (384 × 384 to 1536 × 384), y is rows × n, all row-major.
//!
//! For one sentence the cost is reading W, not multiplying: 42 MB of f32 weights per
//! sentence, streamed from memory, took longer than the products for a dozen tokens
//! (and a GEMM library also packs all of W at every call). So on x86-64 with AVX-512
//! or AVX2+FMA+F16C, W is laid out once at load in blocks of `NR` outputs, each block
//! k × NR contiguous, in f16 (half the bytes; converted by the CPU's own instruction
//! as it is read), and each block is multiplied in register tiles of `MR` rows: the
//! block is read once per sentence and stays in cache while the rows go by. Other
//! CPUs keep W in f32 and use `matrixmultiply`'s GEMM.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use half::f16;

/// W, laid out for the CPU this runs on.
pub enum Matrix {
    /// k × n, f32, row-major.
    Plain { k: usize, n: usize, values: Vec<f32> },
    /// Blocks of 64 outputs (AVX-512), each k × 64 f16, row-major.
    Avx512 { k: usize, n: usize, blocks: Vec<u16> },
    /// Blocks of 24 outputs (AVX2), each k × 24 f16, row-major.
    Avx2 { k: usize, n: usize, blocks: Vec<u16> },
}

const AVX512_NR: usize = 64;
const AVX512_MR: usize = 6;
const AVX2_NR: usize = 24;
const AVX2_MR: usize = 4;

/// What the CPU can run (checked once per matrix, at load).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cpu {
    Avx512,
    Avx2,
    Other,
}

impl Cpu {
    pub fn detect() -> Cpu {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Cpu::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
                && std::arch::is_x86_feature_detected!("f16c")
            {
                return Cpu::Avx2;
            }
        }
        Cpu::Other
    }
}

/// `values` (k × n, row-major) in blocks of `width` outputs, as f16 bits.
fn blocked(k: usize, n: usize, values: &[f32], width: usize) -> Vec<u16> {
    let mut blocks = Vec::with_capacity(k * n);
    for column in (0..n).step_by(width) {
        for row in values.chunks_exact(n).take(k) {
            blocks.extend(row[column..column + width].iter().map(|v| f16::from_f32(*v).to_bits()));
        }
    }
    blocks
}

impl Matrix {
    /// W from its values, k × n row-major, laid out for `cpu`.
    pub fn new(k: usize, n: usize, values: Vec<f32>, cpu: Cpu) -> Matrix {
        match cpu {
            Cpu::Avx512 if n.is_multiple_of(AVX512_NR) => {
                Matrix::Avx512 { k, n, blocks: blocked(k, n, &values, AVX512_NR) }
            }
            Cpu::Avx2 if n.is_multiple_of(AVX2_NR) => Matrix::Avx2 { k, n, blocks: blocked(k, n, &values, AVX2_NR) },
            _ => Matrix::Plain { k, n, values },
        }
    }

    fn shape(&self) -> (usize, usize) {
        match self {
            Matrix::Plain { k, n, .. } | Matrix::Avx512 { k, n, .. } | Matrix::Avx2 { k, n, .. } => (*k, *n),
        }
    }

    /// y += x·W, where x is `rows × k` and y is `rows × n`.
    pub fn multiply_add(&self, rows: usize, x: &[f32], y: &mut [f32]) {
        let (k, n) = self.shape();
        assert!(x.len() == rows * k && y.len() == rows * n, "shapes of y += x·W");
        match self {
            Matrix::Plain { values, .. } => portable(rows, k, n, x, values, y),
            #[cfg(target_arch = "x86_64")]
            Matrix::Avx512 { blocks, .. } => {
                // SAFETY: an Avx512 matrix is only made on a CPU with AVX-512F
                // (`Cpu::detect`); x, y and the blocks have the shapes checked above.
                unsafe { avx512(rows, k, n, x, blocks, y) }
            }
            #[cfg(target_arch = "x86_64")]
            Matrix::Avx2 { blocks, .. } => {
                // SAFETY: an Avx2 matrix is only made on a CPU with AVX2, FMA and
                // F16C (`Cpu::detect`); x, y and the blocks have the shapes checked above.
                unsafe { avx2(rows, k, n, x, blocks, y) }
            }
            #[cfg(not(target_arch = "x86_64"))]
            Matrix::Avx512 { .. } | Matrix::Avx2 { .. } => unreachable!("x86-64 layouts are made only on x86-64"),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512(rows: usize, k: usize, n: usize, x: &[f32], blocks: &[u16], y: &mut [f32]) {
    for (b, block) in blocks.chunks_exact(k * AVX512_NR).enumerate() {
        let column = b * AVX512_NR;
        let mut row = 0;
        while row + AVX512_MR <= rows {
            tile512::<AVX512_MR>(&x[row * k..(row + AVX512_MR) * k], k, block, &mut y[row * n..], n, column);
            row += AVX512_MR;
        }
        while row < rows {
            tile512::<1>(&x[row * k..(row + 1) * k], k, block, &mut y[row * n..], n, column);
            row += 1;
        }
    }
}

/// `MR` rows of y (from column `column`, 64 wide) += those rows of x · one block.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn tile512<const MR: usize>(x: &[f32], k: usize, block: &[u16], y: &mut [f32], n: usize, column: usize) {
    assert!(x.len() == MR * k && block.len() == k * AVX512_NR && y.len() >= (MR - 1) * n + column + AVX512_NR);
    let mut sums = [[_mm512_setzero_ps(); 4]; MR];
    for i in 0..k {
        // SAFETY: `block` holds k rows of 64 f16 (asserted above), so row i's four
        // groups of 16 are in bounds; unaligned loads.
        let weights: [__m512; 4] = unsafe {
            let at = block.as_ptr().add(i * AVX512_NR);
            [
                _mm512_cvtph_ps(_mm256_loadu_si256(at.cast())),
                _mm512_cvtph_ps(_mm256_loadu_si256(at.add(16).cast())),
                _mm512_cvtph_ps(_mm256_loadu_si256(at.add(32).cast())),
                _mm512_cvtph_ps(_mm256_loadu_si256(at.add(48).cast())),
            ]
        };
        for (r, sum) in sums.iter_mut().enumerate() {
            let a = _mm512_set1_ps(x[r * k + i]);
            for (s, w) in sum.iter_mut().zip(&weights) {
                *s = _mm512_fmadd_ps(a, *w, *s);
            }
        }
    }
    for (r, sum) in sums.iter().enumerate() {
        let out = &mut y[r * n + column..r * n + column + AVX512_NR];
        for (j, s) in sum.iter().enumerate() {
            // SAFETY: `out` holds 64 floats, so group j of 16 is in bounds; unaligned.
            unsafe {
                let at = out.as_mut_ptr().add(j * 16);
                _mm512_storeu_ps(at, _mm512_add_ps(_mm512_loadu_ps(at), *s));
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn avx2(rows: usize, k: usize, n: usize, x: &[f32], blocks: &[u16], y: &mut [f32]) {
    for (b, block) in blocks.chunks_exact(k * AVX2_NR).enumerate() {
        let column = b * AVX2_NR;
        let mut row = 0;
        while row + AVX2_MR <= rows {
            tile256::<AVX2_MR>(&x[row * k..(row + AVX2_MR) * k], k, block, &mut y[row * n..], n, column);
            row += AVX2_MR;
        }
        while row < rows {
            tile256::<1>(&x[row * k..(row + 1) * k], k, block, &mut y[row * n..], n, column);
            row += 1;
        }
    }
}

/// `MR` rows of y (from column `column`, 24 wide) += those rows of x · one block.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
#[inline]
fn tile256<const MR: usize>(x: &[f32], k: usize, block: &[u16], y: &mut [f32], n: usize, column: usize) {
    assert!(x.len() == MR * k && block.len() == k * AVX2_NR && y.len() >= (MR - 1) * n + column + AVX2_NR);
    let mut sums = [[_mm256_setzero_ps(); 3]; MR];
    for i in 0..k {
        // SAFETY: `block` holds k rows of 24 f16 (asserted above), so row i's three
        // groups of 8 are in bounds; unaligned loads.
        let weights: [__m256; 3] = unsafe {
            let at = block.as_ptr().add(i * AVX2_NR);
            [
                _mm256_cvtph_ps(_mm_loadu_si128(at.cast())),
                _mm256_cvtph_ps(_mm_loadu_si128(at.add(8).cast())),
                _mm256_cvtph_ps(_mm_loadu_si128(at.add(16).cast())),
            ]
        };
        for (r, sum) in sums.iter_mut().enumerate() {
            let a = _mm256_set1_ps(x[r * k + i]);
            for (s, w) in sum.iter_mut().zip(&weights) {
                *s = _mm256_fmadd_ps(a, *w, *s);
            }
        }
    }
    for (r, sum) in sums.iter().enumerate() {
        let out = &mut y[r * n + column..r * n + column + AVX2_NR];
        for (j, s) in sum.iter().enumerate() {
            // SAFETY: `out` holds 24 floats, so group j of 8 is in bounds; unaligned.
            unsafe {
                let at = out.as_mut_ptr().add(j * 8);
                _mm256_storeu_ps(at, _mm256_add_ps(_mm256_loadu_ps(at), *s));
            }
        }
    }
}

fn portable(rows: usize, k: usize, n: usize, x: &[f32], w: &[f32], y: &mut [f32]) {
    assert!(x.len() == rows * k && w.len() == k * n && y.len() == rows * n, "shapes of y += x·W");
    // SAFETY: x is rows × k, w is k × n and y is rows × n, all row-major (asserted);
    // y does not alias the others.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            k,
            n,
            1.0,
            x.as_ptr(),
            k as isize,
            1,
            w.as_ptr(),
            n as isize,
            1,
            1.0,
            y.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(rows: usize, k: usize, n: usize, x: &[f32], w: &[f32]) -> Vec<f32> {
        let mut y = vec![0f32; rows * n];
        for r in 0..rows {
            for j in 0..n {
                y[r * n + j] = (0..k).map(|i| x[r * k + i] * w[i * n + j]).sum();
            }
        }
        y
    }

    #[test]
    fn every_layout_this_cpu_runs_agrees_with_the_plain_product() {
        let values = |count: usize, seed: usize| -> Vec<f32> {
            (0..count).map(|i| ((i * 7919 + seed * 104_729) % 1000) as f32 / 500.0 - 1.0).collect()
        };
        let cpus: Vec<Cpu> = match Cpu::detect() {
            Cpu::Avx512 => vec![Cpu::Avx512, Cpu::Other],
            Cpu::Avx2 => vec![Cpu::Avx2, Cpu::Other],
            Cpu::Other => vec![Cpu::Other],
        };
        for cpu in cpus {
            for (rows, k, n) in [(1, 8, 192), (7, 16, 192), (13, 5, 384), (3, 4, 10)] {
                let (x, w) = (values(rows * k, 1), values(k * n, 2));
                let expected = reference(rows, k, n, &x, &w);
                let mut y = vec![0.5f32; rows * n];
                Matrix::new(k, n, w, cpu).multiply_add(rows, &x, &mut y);
                for (got, want) in y.iter().zip(&expected) {
                    // f16 weights: relative error up to 2^-11 per weight.
                    assert!((got - 0.5 - want).abs() < 1e-2, "{cpu:?} {rows}×{k}×{n}: {got} vs {want}");
                }
            }
        }
    }
}
