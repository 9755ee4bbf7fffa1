//! Seeded randomness.
//!
//! Every random stream is a ChaCha8 generator seeded from the user's seed and a small tuple
//! naming its purpose (for example `(DAY, tenant, day)`), so the rows of one tenant-day do not
//! depend on how many numbers another tenant or another day consumed. [`mix64`] is the SplitMix64
//! finaliser: a bijection on `u64`, used both to derive seeds and to turn unique counters into
//! opaque-looking but still unique identifiers.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Purpose tags for [`Rand::derive`]: one per independent stream.
pub(crate) mod stream {
    /// The world: tenants, channels, templates, flows.
    pub const WORLD: u64 = 1;
    /// One tenant's contact population.
    pub const CONTACTS: u64 = 2;
    /// One tenant-day of activity.
    pub const DAY: u64 = 3;
    /// End-of-run bookkeeping (pending expiries, snapshots).
    pub const FINAL: u64 = 5;
}

/// SplitMix64 finaliser: a fast bijective mixing function on `u64`.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit hash of the seed and a tuple of parts (order matters).
pub(crate) fn derive(seed: u64, parts: &[u64]) -> u64 {
    let mut h = mix64(seed ^ 0x5EED_0FC4_A71A_4E00);
    for (i, p) in parts.iter().enumerate() {
        h = mix64(h ^ mix64(p.wrapping_add((i as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407))));
    }
    h
}

/// A seeded random stream with the few distributions the generator needs.
pub(crate) struct Rand(ChaCha8Rng);

impl Rand {
    /// The stream named by `parts` under `seed`.
    pub fn derive(seed: u64, parts: &[u64]) -> Self {
        Rand(ChaCha8Rng::seed_from_u64(derive(seed, parts)))
    }

    /// A raw 64-bit value.
    #[cfg(test)]
    pub fn u64(&mut self) -> u64 {
        self.0.random::<u64>()
    }

    /// Uniform in `[0, 1)`.
    pub fn f64(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    /// True with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            false
        } else if p >= 1.0 {
            true
        } else {
            self.f64() < p
        }
    }

    /// Uniform integer in `[0, n)`; 0 when `n == 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.0.random_range(0..n) }
    }

    /// Uniform real in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = (1.0 - self.f64()).max(1e-300);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal with the given median and shape `sigma`.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Poisson with mean `lambda` (Knuth below 30, rounded normal above).
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda < 30.0 {
            let limit = (-lambda).exp();
            let mut k = 0u64;
            let mut p = 1.0;
            loop {
                p *= self.f64();
                if p <= limit {
                    return k;
                }
                k += 1;
            }
        }
        let x = lambda + lambda.sqrt() * self.normal();
        if x <= 0.0 { 0 } else { x.round() as u64 }
    }

    /// Index drawn with probability proportional to `weights` (0 for an empty or all-zero slice).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        if weights.is_empty() || total <= 0.0 {
            return 0;
        }
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// One element of a non-empty array.
    pub fn pick<T: Copy, const N: usize>(&mut self, xs: &[T; N]) -> T {
        xs[self.below(N as u64) as usize % N.max(1)]
    }

    /// One element of a slice, `None` when it is empty.
    pub fn pick_slice<'a, T>(&mut self, xs: &'a [T]) -> Option<&'a T> {
        xs.get(self.below(xs.len() as u64) as usize)
    }

    /// A geometric skip: the number of failures before the first success of probability `p`.
    pub fn geometric(&mut self, p: f64) -> u64 {
        if p >= 1.0 {
            return 0;
        }
        if p <= 0.0 {
            return u64::MAX;
        }
        let u = (1.0 - self.f64()).max(1e-300);
        let k = (u.ln() / (1.0 - p).ln()).floor();
        if k >= u64::MAX as f64 {
            u64::MAX
        } else {
            k as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_parts_same_stream_and_parts_are_ordered() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rand::derive(7, &[1, 2]);
                move |_| r.u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = Rand::derive(7, &[1, 2]);
                move |_| r.u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(derive(7, &[1, 2]), derive(7, &[2, 1]));
        assert_ne!(derive(7, &[1, 2]), derive(8, &[1, 2]));
    }

    #[test]
    fn mix64_is_injective_on_a_range() {
        let mut seen: Vec<u64> = (0..100_000u64).map(mix64).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 100_000);
    }

    #[test]
    fn poisson_mean_is_close() {
        let mut r = Rand::derive(1, &[9]);
        for lambda in [0.3, 4.0, 80.0] {
            let n = 20_000;
            let s: u64 = (0..n).map(|_| r.poisson(lambda)).sum();
            let mean = s as f64 / n as f64;
            assert!(
                (mean - lambda).abs() < 0.05 * lambda + 0.02,
                "{lambda} -> {mean}"
            );
        }
    }
}
