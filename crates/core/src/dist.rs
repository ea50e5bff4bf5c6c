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
