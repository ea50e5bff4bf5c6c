//! Value distributions: how a parameter, weight or delay is drawn per element.

/// A value that is either constant or drawn per element.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueDist {
    /// The same value everywhere.
    Constant(f64),
    /// Uniform on `[low, high)`.
    Uniform {
        /// Lower bound (inclusive).
        low: f64,
        /// Upper bound (exclusive).
        high: f64,
    },
    /// Normal with mean and standard deviation, redrawn until within `[min, max]`
    /// (NEST's `normal_clipped`); after 1000 failed draws the value is clamped.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (>= 0).
        std: f64,
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
}

impl ValueDist {
    /// Smallest and largest value the distribution can produce.
    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            ValueDist::Constant(v) => (v, v),
            ValueDist::Uniform { low, high } => (low, high),
            ValueDist::Normal { min, max, .. } => (min, max),
        }
    }

    /// The distribution of `factor * x` for `factor > 0`: every location and scale
    /// parameter and both bounds multiplied, so that with the same random numbers each
    /// drawn value is the unscaled draw times `factor`.
    pub fn scaled(&self, factor: f64) -> ValueDist {
        match *self {
            ValueDist::Constant(v) => ValueDist::Constant(v * factor),
            ValueDist::Uniform { low, high } => ValueDist::Uniform {
                low: low * factor,
                high: high * factor,
            },
            ValueDist::Normal {
                mean,
                std,
                min,
                max,
            } => ValueDist::Normal {
                mean: mean * factor,
                std: std * factor,
                min: min * factor,
                max: max * factor,
            },
        }
    }

    /// Checks the distribution's own parameters (the caller checks the range of values).
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            ValueDist::Constant(v) if !v.is_finite() => Err(format!("{v} is not finite")),
            ValueDist::Uniform { low, high }
                if !(low.is_finite() && high.is_finite() && low <= high) =>
            {
                Err(format!(
                    "uniform = [{low}, {high}] needs finite bounds with low <= high"
                ))
            }
            ValueDist::Normal {
                mean,
                std,
                min,
                max,
            } if !(mean.is_finite() && std.is_finite() && std >= 0.0 && min <= max) => {
                Err(format!(
                    "normal with mean {mean}, std {std}, min {min}, max {max} needs finite \
                     mean, std >= 0 and min <= max"
                ))
            }
            _ => Ok(()),
        }
    }

    /// Draws one value.
    pub fn sample<R: rand::Rng>(&self, rng: &mut R) -> f64 {
        match *self {
            ValueDist::Constant(v) => v,
            ValueDist::Uniform { low, high } => {
                if low == high {
                    low
                } else {
                    low + (high - low) * rng.random::<f64>()
                }
            }
            ValueDist::Normal {
                mean,
                std,
                min,
                max,
            } => {
                use rand_distr::{Distribution, StandardNormal};
                for _ in 0..1000 {
                    let z: f64 = StandardNormal.sample(rng);
                    let v = mean + std * z;
                    if (min..=max).contains(&v) {
                        return v;
                    }
                }
                mean.clamp(min, max)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ValueDist;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn a_scaled_distribution_draws_the_scaled_values() {
        let dists = [
            ValueDist::Constant(-150.0),
            ValueDist::Uniform {
                low: 0.0,
                high: 300.0,
            },
            ValueDist::Normal {
                mean: 87.8,
                std: 8.78,
                min: 0.0,
                max: f64::INFINITY,
            },
        ];
        for d in dists {
            let s = d.scaled(0.25);
            let (lo, hi) = d.bounds();
            assert_eq!(s.bounds(), (lo * 0.25, hi * 0.25));
            let mut a = ChaCha8Rng::seed_from_u64(7);
            let mut b = ChaCha8Rng::seed_from_u64(7);
            for _ in 0..100 {
                // 0.25 is a power of two: the scaled draw is exactly the draw times it.
                assert_eq!(s.sample(&mut b), d.sample(&mut a) * 0.25);
            }
        }
    }
}
