//! The memory a run may use, and estimates checked against it before anything is
//! allocated.
//!
//! Each part of a run (stimuli, network, inputs, recorded traces) adds its estimate to a
//! [`MemoryEstimate`] from sizes alone; [`MemoryEstimate::check`] compares the total with
//! a [`MemoryLimit`] (which the front end finds out from the machine) and names the
//! largest parts when it does not fit. This crate does not read the machine's memory.

const MIB: f64 = 1024.0 * 1024.0;

/// The bytes a run may allocate, and where that number comes from (for the message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryLimit {
    /// Bytes.
    pub bytes: u64,
    /// Where the limit comes from, e.g. "available memory (MemAvailable)".
    pub source: String,
}

/// An estimate of a run's memory, part by part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryEstimate {
    parts: Vec<(String, f64)>,
}

/// A run that would need more memory than its limit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("needs about {} MiB ({parts}), more than the {:.1} MiB allowed by {origin}", mib(*needed), *limit as f64 / MIB)]
pub struct MemoryError {
    /// Estimated bytes (may exceed what a `u64` holds).
    pub needed: f64,
    /// The limit (bytes).
    pub limit: u64,
    /// Where the limit comes from.
    pub origin: String,
    /// The largest parts, e.g. "synapses 9000.0 MiB, neuron state 40.0 MiB".
    pub parts: String,
}

/// Bytes as MiB for a message: one decimal, or short scientific form when huge.
fn mib(bytes: f64) -> String {
    let m = bytes / MIB;
    if m.is_finite() && m < 1e9 {
        format!("{m:.1}")
    } else {
        crate::number::short(m)
    }
}

impl MemoryEstimate {
    /// An empty estimate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `bytes` (a float: estimates may exceed `u64` for absurd sizes) for `part`.
    pub fn add(&mut self, part: impl Into<String>, bytes: f64) -> &mut Self {
        let part = part.into();
        let bytes = if bytes.is_nan() {
            f64::INFINITY
        } else {
            bytes.max(0.0)
        };
        match self.parts.iter_mut().find(|(p, _)| *p == part) {
            Some((_, b)) => *b += bytes,
            None => self.parts.push((part, bytes)),
        }
        self
    }

    /// Adds every part of `other`.
    pub fn extend(&mut self, other: &MemoryEstimate) -> &mut Self {
        for (p, b) in &other.parts {
            self.add(p.clone(), *b);
        }
        self
    }

    /// The parts, in the order they were first added: `(part, bytes)`.
    pub fn parts(&self) -> &[(String, f64)] {
        &self.parts
    }

    /// The total in bytes (saturating at `u64::MAX`).
    pub fn total(&self) -> u64 {
        let t: f64 = self.parts.iter().map(|(_, b)| b).sum();
        if t >= u64::MAX as f64 {
            u64::MAX
        } else {
            t as u64
        }
    }

    /// Ok if the total fits under `limit` (always Ok without a limit); else the error
    /// names the three largest parts.
    pub fn check(&self, limit: Option<&MemoryLimit>) -> Result<(), MemoryError> {
        let Some(limit) = limit else { return Ok(()) };
        let needed: f64 = self.parts.iter().map(|(_, b)| b).sum();
        if needed <= limit.bytes as f64 {
            return Ok(());
        }
        let mut parts: Vec<&(String, f64)> = self.parts.iter().filter(|(_, b)| *b > 0.0).collect();
        parts.sort_by(|a, b| b.1.total_cmp(&a.1));
        let parts = parts
            .iter()
            .take(3)
            .map(|(p, b)| format!("{p} {} MiB", mib(*b)))
            .collect::<Vec<_>>()
            .join(", ");
        Err(MemoryError {
            needed,
            limit: limit.bytes,
            origin: limit.source.clone(),
            parts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_add_up_and_the_largest_are_named() {
        let mut e = MemoryEstimate::new();
        e.add("synapses", 3.0 * MIB)
            .add("neurons", 1.0 * MIB)
            .add("synapses", 1.0 * MIB)
            .add("inputs", 0.5 * MIB)
            .add("traces", 0.25 * MIB);
        assert_eq!(e.total(), (5.75 * MIB) as u64);
        assert_eq!(e.parts()[0], ("synapses".to_string(), 4.0 * MIB));
        assert_eq!(e.check(None), Ok(()));
        let roomy = MemoryLimit {
            bytes: 6 * 1024 * 1024,
            source: "test".into(),
        };
        assert_eq!(e.check(Some(&roomy)), Ok(()));
        let tight = MemoryLimit {
            bytes: 1024 * 1024,
            source: "a test limit".into(),
        };
        let err = e.check(Some(&tight)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "needs about 5.8 MiB (synapses 4.0 MiB, neurons 1.0 MiB, inputs 0.5 MiB), more \
             than the 1.0 MiB allowed by a test limit"
        );
    }

    #[test]
    fn absurd_sizes_saturate() {
        let mut e = MemoryEstimate::new();
        e.add("stimuli", 1e30).add("nan", f64::NAN);
        assert_eq!(e.total(), u64::MAX);
        let limit = MemoryLimit {
            bytes: 1 << 30,
            source: "x".into(),
        };
        assert!(e.check(Some(&limit)).is_err());
    }
}
