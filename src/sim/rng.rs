//! A small seeded generator: xoshiro256** seeded through SplitMix64, with the few
//! distributions the simulator draws from.
//!
//! The simulator's output must be byte-identical for a seed across platforms and crate
//! versions, so it owns its generator instead of depending on one whose stream may change.
//! Every draw uses only integer arithmetic and IEEE-754 operations (`ln`, `sqrt`, `sin`,
//! `cos` from std), so the same seed gives the same numbers wherever Rust runs.

use std::f64::consts::TAU;

/// SplitMix64: a 64-bit counter passed through a mixing function (Steele, Lea, Flood 2014).
///
/// Used to expand one `u64` seed into the 256-bit xoshiro state, and to derive independent
/// streams from a seed and a stream number.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub(crate) const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman and Vigna 2018): the simulator's generator.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose state is filled by SplitMix64 from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        let s = [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()];
        Rng::from_state(s)
    }

    /// Stream number `stream` of `seed`: independent of the other streams of the same seed,
    /// so that adding draws to one part of a night does not reshuffle another part.
    pub(crate) fn stream(seed: u64, stream: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        let a = sm.next_u64();
        let mut sm2 = SplitMix64::new(stream.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ a);
        Rng::new(sm2.next_u64())
    }

    /// A generator with the given raw state (must not be all zero).
    pub(crate) fn from_state(s: [u64; 4]) -> Self {
        if s == [0; 4] {
            // The all-zero state is the generator's only fixed point; SplitMix64 never yields
            // four zero words in a row, so this is for `from_state` callers only.
            return Rng::new(0);
        }
        Rng { s }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform number in [0, 1), with 53 random bits.
    pub(crate) fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform number in [a, b).
    pub(crate) fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.f64()
    }

    /// A number whose logarithm is uniform between ln a and ln b (a, b > 0).
    pub(crate) fn log_uniform(&mut self, a: f64, b: f64) -> f64 {
        (a.ln() + (b.ln() - a.ln()) * self.f64()).exp()
    }

    /// A uniform integer in [0, n) (0 when n is 0), by Lemire's multiply-shift.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform index in [0, n) (0 when n is 0).
    #[allow(clippy::cast_possible_truncation)] // the result is below n, itself a usize
    pub(crate) fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// A standard normal number (Box–Muller; one of the pair is discarded so that each call
    /// consumes exactly two draws, which keeps streams easy to reason about).
    pub(crate) fn normal(&mut self) -> f64 {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let u = 1.0 - self.f64();
        let v = self.f64();
        (-2.0 * u.ln()).sqrt() * (TAU * v).cos()
    }

    /// A pair of independent standard normal numbers (Box–Muller, both halves used).
    pub(crate) fn normal_pair(&mut self) -> (f64, f64) {
        let u = 1.0 - self.f64();
        let v = self.f64();
        let r = (-2.0 * u.ln()).sqrt();
        let (s, c) = (TAU * v).sin_cos();
        (r * c, r * s)
    }

    /// A Poisson count with mean `lambda` (Knuth's product method in slices of 30, exact
    /// in distribution, fine for the small means a night needs).
    pub(crate) fn poisson(&mut self, lambda: f64) -> u32 {
        if lambda.is_nan() || lambda <= 0.0 {
            return 0;
        }
        let mut remaining = lambda;
        let mut k = 0u32;
        while remaining > 0.0 {
            let step = remaining.min(30.0);
            remaining -= step;
            let limit = (-step).exp();
            let mut p = self.f64();
            while p > limit {
                k = k.saturating_add(1);
                p *= self.f64();
            }
        }
        k
    }

    /// A random unit vector, uniform on the sphere.
    pub(crate) fn unit_vector(&mut self) -> [f64; 3] {
        let z = self.uniform(-1.0, 1.0);
        let phi = self.uniform(0.0, TAU);
        let r = (1.0 - z * z).max(0.0).sqrt();
        [r * phi.cos(), r * phi.sin(), z]
    }

    /// An index drawn with the given (non-negative) weights; the last index if all are zero.
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published SplitMix64 outputs for seed 1234567 (the sequence Rosetta Code and other
    /// ports of the reference C code list), also reproduced with plain Python integers.
    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        let mut sm = SplitMix64::new(1_234_567);
        let expected = [
            6_457_827_717_110_365_317u64,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
            4_593_380_528_125_082_431,
            16_408_922_859_458_223_821,
        ];
        for e in expected {
            assert_eq!(sm.next_u64(), e);
        }
    }

    /// Outputs of the reference C xoshiro256** from the state {1, 2, 3, 4}, as published
    /// with several independent ports.
    #[test]
    fn xoshiro256starstar_matches_the_reference_sequence() {
        let mut r = Rng::from_state([1, 2, 3, 4]);
        let expected = [
            11_520u64,
            0,
            1_509_978_240,
            1_215_971_899_390_074_240,
            1_216_172_134_540_287_360,
            607_988_272_756_665_600,
            16_172_922_978_634_559_625,
            8_476_171_486_693_032_832,
            10_595_114_339_597_558_777,
            2_904_607_092_377_533_576,
        ];
        for e in expected {
            assert_eq!(r.next_u64(), e);
        }
    }

    #[test]
    fn uniform_draws_stay_in_range_and_fill_it() {
        let mut r = Rng::new(3);
        let (mut lo, mut hi) = (1.0f64, 0.0f64);
        for _ in 0..100_000 {
            let x = r.f64();
            assert!((0.0..1.0).contains(&x));
            lo = lo.min(x);
            hi = hi.max(x);
        }
        // With 1e5 draws the extremes are within 1e-3 of the ends except with
        // probability 2·(1 - 1e-3)^1e5 ≈ 1e-43.
        assert!(lo < 1e-3 && hi > 1.0 - 1e-3);
    }

    #[test]
    fn normal_has_zero_mean_and_unit_variance() {
        let mut r = Rng::new(11);
        let n = 200_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n / 2 {
            let (a, b) = r.normal_pair();
            s += a + b;
            s2 += a * a + b * b;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        // Standard errors: mean 1/√n ≈ 0.0022, variance √(2/n) ≈ 0.0032; 5 SE bounds.
        assert!(mean.abs() < 0.011, "mean {mean}");
        assert!((var - 1.0).abs() < 0.016, "variance {var}");
    }

    #[test]
    fn poisson_mean_matches_lambda() {
        let mut r = Rng::new(5);
        for lambda in [0.5, 4.0, 75.0] {
            let n = 20_000;
            let total: u64 = (0..n).map(|_| u64::from(r.poisson(lambda))).sum();
            let mean = total as f64 / n as f64;
            // Standard error √(λ/n); 5 SE.
            let se = (lambda / n as f64).sqrt();
            assert!((mean - lambda).abs() < 5.0 * se, "λ {lambda}: mean {mean}");
        }
        assert_eq!(r.poisson(0.0), 0);
    }

    #[test]
    fn streams_differ_and_repeat() {
        let a: Vec<u64> = (0..4).map(|_| Rng::stream(7, 1).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::stream(7, 1).next_u64(), Rng::stream(7, 2).next_u64());
        assert_ne!(Rng::stream(7, 1).next_u64(), Rng::stream(8, 1).next_u64());
    }

    #[test]
    fn below_is_in_range() {
        let mut r = Rng::new(9);
        let mut seen = [false; 5];
        for _ in 0..1000 {
            let k = r.index(5);
            seen[k] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(r.below(0), 0);
    }
}
