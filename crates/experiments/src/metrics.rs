//! Recall metrics: how well a cued recall reinstates the encoded pattern.
//!
//! Inputs are spike-count vectors (one `f64` per neuron, usually of the sensory layer)
//! collected during encoding and during recall, spike times for latencies, and spike
//! counts of the pointer groups for naming. Outputs are plain numbers, gathered in a
//! [`RecallSummary`] that prints (`Display`) and serializes to
//! `{"recall": {...}, "naming": {"accuracy": ...}}`.
//!
//! Conventions:
//!
//! - **Degenerate similarities are 0.** [`pearson`] is 0 when either vector has zero
//!   variance (all values equal, including empty and one-element vectors); [`cosine`] is 0
//!   when either vector is all zeros; [`jaccard`] is 0 when both sets are empty. A silent
//!   recall therefore scores 0, never NaN, and never as a perfect match.
//! - **Ties fail.** A row of a matrix counts as identified only if its diagonal entry is
//!   strictly larger than every other entry, so an all-silent recall (all entries equal)
//!   is a failure, not a lucky guess.
//! - **Bad input is an error, never a panic.** Vectors of different lengths, non-finite
//!   values and ragged matrices give a [`MetricError`] naming the argument (`recalled[3]`,
//!   `matrix[2][5]`).

use std::collections::BTreeMap;
use std::fmt;

/// Input a metric cannot be computed from: which argument, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// Two vectors that must have the same length do not.
    #[error("{what}: length {found}, expected {expected} ({reason})")]
    LengthMismatch {
        /// The argument (`b`, `recalled[3]`).
        what: String,
        /// Its length.
        found: usize,
        /// The length it must have.
        expected: usize,
        /// Where the expected length comes from.
        reason: String,
    },
    /// A value is NaN or infinite.
    #[error("{what}: value {value} is not finite")]
    NotFinite {
        /// The argument and index (`a[7]`, `matrix[1][2]`).
        what: String,
        /// The value.
        value: f64,
    },
    /// Any other unusable input (empty matrix, too few memories, set larger than the
    /// population).
    #[error("{what}: {message}")]
    Invalid {
        /// The argument.
        what: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

fn invalid(what: &str, message: impl Into<String>) -> MetricError {
    MetricError::Invalid {
        what: what.to_owned(),
        message: message.into(),
    }
}

fn check_finite(what: &str, v: &[f64]) -> Result<(), MetricError> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(MetricError::NotFinite {
            what: format!("{what}[{i}]"),
            value: v[i],
        }),
        None => Ok(()),
    }
}

fn check_pair(a: &[f64], b: &[f64]) -> Result<(), MetricError> {
    if a.len() != b.len() {
        return Err(MetricError::LengthMismatch {
            what: "b".into(),
            found: b.len(),
            expected: a.len(),
            reason: "the length of a".into(),
        });
    }
    check_finite("a", a)?;
    check_finite("b", b)
}

/// Which similarity a [`fidelity_matrix`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Pearson correlation ([`pearson`]).
    Pearson,
    /// Cosine similarity ([`cosine`]).
    Cosine,
}

impl Metric {
    fn apply(self, a: &[f64], b: &[f64]) -> f64 {
        match self {
            Metric::Pearson => pearson_unchecked(a, b),
            Metric::Cosine => cosine_unchecked(a, b),
        }
    }
}

/// Pearson correlation of `a` and `b`, in `[-1, 1]`.
///
/// Degenerate case: if either vector has zero variance (all its values equal; this
/// includes empty and one-element vectors) the correlation is undefined and this returns
/// 0.0. Errors if the lengths differ or a value is not finite.
pub fn pearson(a: &[f64], b: &[f64]) -> Result<f64, MetricError> {
    check_pair(a, b)?;
    Ok(pearson_unchecked(a, b))
}

fn is_constant(v: &[f64]) -> bool {
    v.iter().all(|&x| x == v[0])
}

fn pearson_unchecked(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || is_constant(a) || is_constant(b) {
        return 0.0;
    }
    let n = a.len() as f64;
    let mean_a = a.iter().sum::<f64>() / n;
    let mean_b = b.iter().sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (x - mean_a, y - mean_b);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    let denom = (saa * sbb).sqrt();
    if denom > 0.0 && denom.is_finite() {
        (sab / denom).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// Cosine similarity of `a` and `b`: `a.b / (|a| |b|)`, in `[-1, 1]` (`[0, 1]` for
/// counts).
///
/// Degenerate case: if either vector is all zeros (or empty) this returns 0.0. Errors if
/// the lengths differ or a value is not finite.
pub fn cosine(a: &[f64], b: &[f64]) -> Result<f64, MetricError> {
    check_pair(a, b)?;
    Ok(cosine_unchecked(a, b))
}

fn cosine_unchecked(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    let denom = na * nb;
    if denom > 0.0 && denom.is_finite() {
        (dot / denom).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// Checks that every vector of both sets has the same length and finite values.
fn check_sets(recalled: &[Vec<f64>], encoded: &[Vec<f64>]) -> Result<(), MetricError> {
    let reference = encoded
        .first()
        .map(|v| (v.len(), "the length of encoded[0]"))
        .or_else(|| {
            recalled
                .first()
                .map(|v| (v.len(), "the length of recalled[0]"))
        });
    let Some((len, reason)) = reference else {
        return Ok(());
    };
    for (name, set) in [("encoded", encoded), ("recalled", recalled)] {
        for (i, v) in set.iter().enumerate() {
            let what = format!("{name}[{i}]");
            if v.len() != len {
                return Err(MetricError::LengthMismatch {
                    what,
                    found: v.len(),
                    expected: len,
                    reason: reason.into(),
                });
            }
            check_finite(&what, v)?;
        }
    }
    Ok(())
}

/// Similarity of every recalled pattern to every encoded pattern: entry `[i][j]` is
/// `metric(recalled[i], encoded[j])`, so the diagonal compares a recall with the memory
/// that was cued.
///
/// The result has `recalled.len()` rows of `encoded.len()` entries (empty if `recalled` is
/// empty). Errors if any vector differs in length from `encoded[0]` or holds a
/// non-finite value.
pub fn fidelity_matrix(
    recalled: &[Vec<f64>],
    encoded: &[Vec<f64>],
    metric: Metric,
) -> Result<Vec<Vec<f64>>, MetricError> {
    check_sets(recalled, encoded)?;
    Ok(recalled
        .iter()
        .map(|r| encoded.iter().map(|e| metric.apply(r, e)).collect())
        .collect())
}

/// Checks that `matrix` has at least one row, rows of equal length with a diagonal entry
/// (`n_cols >= n_rows`), and finite values. Returns the number of columns.
fn check_matrix(what: &str, matrix: &[Vec<f64>]) -> Result<usize, MetricError> {
    let Some(first) = matrix.first() else {
        return Err(invalid(what, "has no rows"));
    };
    let n_cols = first.len();
    for (i, row) in matrix.iter().enumerate() {
        if row.len() != n_cols {
            return Err(MetricError::LengthMismatch {
                what: format!("{what}[{i}]"),
                found: row.len(),
                expected: n_cols,
                reason: format!("the length of {what}[0]"),
            });
        }
        check_finite(&format!("{what}[{i}]"), row)?;
    }
    if n_cols < matrix.len() {
        return Err(invalid(
            what,
            format!(
                "{} rows but {n_cols} columns; row i is compared with column i, so there \
                 must be at least as many columns as rows",
                matrix.len()
            ),
        ));
    }
    Ok(n_cols)
}

/// Fraction of rows whose diagonal entry is the strict maximum of the row.
fn diagonal_wins(matrix: &[Vec<f64>]) -> f64 {
    let wins = matrix
        .iter()
        .enumerate()
        .filter(|(i, row)| {
            let own = row[*i];
            row.iter().enumerate().all(|(j, &x)| j == *i || own > x)
        })
        .count();
    wins as f64 / matrix.len() as f64
}

/// Fraction of recalls identified: rows `i` of a [`fidelity_matrix`] whose largest entry
/// is on the diagonal (the cued memory `i` matches best among all stored).
///
/// Ties count as failures: row `i` is identified only if `matrix[i][i]` is strictly larger
/// than every other entry of the row. Chance level is `1 / n_columns`. A matrix may have
/// more columns than rows (extra stored memories that were not cued). Errors for an
/// empty or ragged matrix, fewer columns than rows, or a non-finite entry.
pub fn identification_accuracy(matrix: &[Vec<f64>]) -> Result<f64, MetricError> {
    check_matrix("matrix", matrix)?;
    Ok(diagonal_wins(matrix))
}

/// Specificity of each recall: the diagonal entry minus the mean of the other entries of
/// its row (`matrix[i][i] - mean_{j != i} matrix[i][j]`), one value per row.
///
/// Positive values mean the recall resembles the cued memory more than the others.
/// Errors as [`identification_accuracy`], and for fewer than two columns (there is nothing
/// to compare with).
pub fn specificity(matrix: &[Vec<f64>]) -> Result<Vec<f64>, MetricError> {
    let n_cols = check_matrix("matrix", matrix)?;
    if n_cols < 2 {
        return Err(invalid(
            "matrix",
            "needs at least two columns (memories) to compare the cued one with the others",
        ));
    }
    Ok(matrix
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let others: f64 = row
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, x)| x)
                .sum();
            row[i] - others / (n_cols - 1) as f64
        })
        .collect())
}

/// Jaccard index `|A ∩ B| / |A ∪ B|` of the sets of active neurons, `A = {i : a[i] > 0}`
/// and `B = {i : b[i] > 0}`.
///
/// Degenerate case: two empty sets give 0.0 (silence does not match silence). Errors if
/// the lengths differ or a value is not finite.
pub fn jaccard(a: &[f64], b: &[f64]) -> Result<f64, MetricError> {
    check_pair(a, b)?;
    Ok(jaccard_unchecked(a, b))
}

fn jaccard_unchecked(a: &[f64], b: &[f64]) -> f64 {
    let (mut both, mut either) = (0usize, 0usize);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x > 0.0, y > 0.0);
        both += usize::from(x && y);
        either += usize::from(x || y);
    }
    if either == 0 {
        0.0
    } else {
        both as f64 / either as f64
    }
}

/// Expected Jaccard index of two independent uniformly random subsets of sizes `k1` and
/// `k2` of a population of `n`: the chance level of [`jaccard`].
///
/// Computed exactly: the intersection size `X` is hypergeometric,
/// `P(X = x) = C(k1, x) C(n - k1, k2 - x) / C(n, k2)`, and the result is
/// `sum_x P(X = x) * x / (k1 + k2 - x)` (a term with an empty union counts 0, as in
/// [`jaccard`]). The probabilities are built in log space from the ratio
/// `P(x + 1) / P(x) = (k1 - x)(k2 - x) / ((x + 1)(n - k1 - k2 + x + 1))` and normalised,
/// so the cost is `O(min(k1, k2))` and nothing overflows. For large `n` it approaches
/// the usual approximation `p1 p2 / (p1 + p2 - p1 p2)` with `p = k / n`, which
/// underestimates it for small sets (it ignores the variance of `X`).
///
/// Errors if `k1` or `k2` exceeds `n`.
pub fn jaccard_chance(k1: usize, k2: usize, n: usize) -> Result<f64, MetricError> {
    if k1 > n {
        return Err(invalid(
            "k1",
            format!("{k1} is larger than the population {n}"),
        ));
    }
    if k2 > n {
        return Err(invalid(
            "k2",
            format!("{k2} is larger than the population {n}"),
        ));
    }
    // Support of X: max(0, k1 + k2 - n)..=min(k1, k2), written so nothing overflows.
    let lo = k1.saturating_sub(n - k2);
    let hi = k1.min(k2);
    // log of the unnormalised probability of x = lo..=hi.
    let mut log_w = Vec::with_capacity(hi - lo + 1);
    log_w.push(0.0f64);
    for x in lo..hi {
        let num = ((k1 - x) as f64).ln() + ((k2 - x) as f64).ln();
        let den = ((x + 1) as f64).ln() + (((n - k1) - (k2 - x) + 1) as f64).ln();
        let last = *log_w.last().unwrap_or(&0.0);
        log_w.push(last + num - den);
    }
    let max = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (mut total, mut expected) = (0.0, 0.0);
    for (offset, lw) in log_w.iter().enumerate() {
        let x = lo + offset;
        let w = (lw - max).exp();
        total += w;
        let union = (k1 - x) + k2;
        if union > 0 {
            expected += w * x as f64 / union as f64;
        }
    }
    Ok(expected / total)
}

/// Mean first-spike latency of a population after a cue, in ms relative to the cue.
///
/// `spike_times_ms[i]` holds the spike times (ms, any order) of neuron `i`. For each
/// neuron that fired strictly after `cue_time_ms`, its first such spike is taken; the
/// result is the mean of these first-spike times minus `cue_time_ms`, over the neurons
/// that fired. Silent neurons are left out (they have no latency), so the value says
/// *when* the population responded, not how much of it did. `None` if no neuron fired
/// after the cue or `cue_time_ms` is not finite; non-finite spike times are ignored. Pass
/// only the spikes of the recall window: a spike from a later trial would count.
pub fn first_spike_latency(spike_times_ms: &[Vec<f64>], cue_time_ms: f64) -> Option<f64> {
    if !cue_time_ms.is_finite() {
        return None;
    }
    let (mut sum, mut n) = (0.0, 0usize);
    for times in spike_times_ms {
        let first = times
            .iter()
            .copied()
            .filter(|&t| t.is_finite() && t > cue_time_ms)
            .fold(f64::INFINITY, f64::min);
        if first.is_finite() {
            sum += first - cue_time_ms;
            n += 1;
        }
    }
    (n > 0).then(|| sum / n as f64)
}

/// [`first_spike_latency`] from spikes stored as events, as in a SONATA file: the spike
/// `k` of the population is neuron `node_ids[k]` at `timestamps_ms[k]`.
///
/// Errors if the two slices differ in length.
pub fn first_spike_latency_events(
    timestamps_ms: &[f64],
    node_ids: &[u64],
    cue_time_ms: f64,
) -> Result<Option<f64>, MetricError> {
    if timestamps_ms.len() != node_ids.len() {
        return Err(MetricError::LengthMismatch {
            what: "node_ids".into(),
            found: node_ids.len(),
            expected: timestamps_ms.len(),
            reason: "the length of timestamps_ms".into(),
        });
    }
    if !cue_time_ms.is_finite() {
        return Ok(None);
    }
    let mut first: BTreeMap<u64, f64> = BTreeMap::new();
    for (&t, &id) in timestamps_ms.iter().zip(node_ids) {
        if t.is_finite() && t > cue_time_ms {
            first.entry(id).and_modify(|f| *f = f.min(t)).or_insert(t);
        }
    }
    if first.is_empty() {
        return Ok(None);
    }
    let sum: f64 = first.values().map(|t| t - cue_time_ms).sum();
    Ok(Some(sum / first.len() as f64))
}

/// Whether latencies along a path strictly increase: `latencies_ms[0] <
/// latencies_ms[1] < ...`.
///
/// For the backward recall path (pointer, cortex, sensory) this is the flow reversal
/// test. `false` if any population is silent (`None`), if two latencies are equal, or if
/// there are fewer than two latencies (there is no order to check).
pub fn strictly_ordered(latencies_ms: &[Option<f64>]) -> bool {
    latencies_ms.len() >= 2
        && latencies_ms.iter().all(Option::is_some)
        && latencies_ms.windows(2).all(|w| match (w[0], w[1]) {
            (Some(a), Some(b)) => a < b,
            _ => false,
        })
}

/// Forward naming accuracy: the fraction of stimuli for which the right pointer group
/// fired most.
///
/// `counts[s][g]` is the spike count of pointer group `g` while stimulus `s` was shown;
/// group `s` is the right one. Stimulus `s` is named if `counts[s][s]` is strictly larger
/// than every other group's count, so ties (including no spike at all) are failures.
/// Errors as [`identification_accuracy`] (argument named `counts`).
pub fn naming_accuracy(counts: &[Vec<f64>]) -> Result<f64, MetricError> {
    check_matrix("counts", counts)?;
    Ok(diagonal_wins(counts))
}

/// Recall latency of one population.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PopulationLatency {
    /// Population name.
    pub population: String,
    /// Mean first-spike latency after the cue (ms, [`first_spike_latency`]); `None`
    /// (`null` in JSON) if the population stayed silent.
    pub ms: Option<f64>,
}

/// The outcome of a recall experiment, ready to print (`Display`) or serialize.
///
/// It serializes as two sections, so that it can be merged into a run's `--json` output:
///
/// ```text
/// {"recall": {"n_memories": 10, "identification_accuracy": 1.0, "fidelity_mean": 0.75,
///             "fidelity_cosine_mean": 0.8, "specificity_mean": 0.7, "jaccard_mean": 0.5,
///             "jaccard_chance": 0.05, "latency_ms": [{"population": "mtl", "ms": 2.1},
///             ...], "latency_ordered": true},
///  "naming": {"accuracy": 1.0}}
/// ```
///
/// `"naming"` is `null` when naming was not tested.
#[derive(Debug, Clone, PartialEq)]
pub struct RecallSummary {
    /// Number of memories stored and cued.
    pub n_memories: usize,
    /// [`identification_accuracy`] of the Pearson fidelity matrix (chance `1 /
    /// n_memories`).
    pub identification_accuracy: f64,
    /// Mean Pearson correlation between each recall and the memory cued (sensory layer).
    pub fidelity_mean: f64,
    /// Mean cosine similarity between each recall and the memory cued.
    pub fidelity_cosine_mean: f64,
    /// Mean [`specificity`] of the Pearson matrix; `None` with a single memory.
    pub specificity_mean: Option<f64>,
    /// Mean [`jaccard`] index between each recall and the memory cued.
    pub jaccard_mean: f64,
    /// Mean [`jaccard_chance`] for sets of the same sizes, the level to compare
    /// `jaccard_mean` with.
    pub jaccard_chance: f64,
    /// Recall latency per population, ordered along the backward path (pointer first).
    pub latency_ms: Vec<PopulationLatency>,
    /// [`strictly_ordered`] applied to `latency_ms`: the flow is reversed as predicted.
    pub latency_ordered: bool,
    /// [`naming_accuracy`], if naming was tested.
    pub naming_accuracy: Option<f64>,
}

impl RecallSummary {
    /// Computes every recall metric.
    ///
    /// `recalled[i]` is the spike-count vector of the sensory layer when memory `i` was
    /// cued and `encoded[i]` the one recorded while it was encoded; both sets must have the
    /// same number of memories (at least one) and every vector the same length.
    /// `latency_ms` lists the populations in backward-path order (compute the values with
    /// [`first_spike_latency`]); `naming_counts` is the input of [`naming_accuracy`].
    pub fn compute(
        recalled: &[Vec<f64>],
        encoded: &[Vec<f64>],
        latency_ms: Vec<PopulationLatency>,
        naming_counts: Option<&[Vec<f64>]>,
    ) -> Result<RecallSummary, MetricError> {
        if encoded.is_empty() {
            return Err(invalid("encoded", "needs at least one memory"));
        }
        if recalled.len() != encoded.len() {
            return Err(MetricError::LengthMismatch {
                what: "recalled".into(),
                found: recalled.len(),
                expected: encoded.len(),
                reason: "one recall per encoded memory".into(),
            });
        }
        let n = encoded.len();
        let pearson_m = fidelity_matrix(recalled, encoded, Metric::Pearson)?;
        let n_cells = encoded[0].len();
        let n_active = |v: &[f64]| v.iter().filter(|&&x| x > 0.0).count();
        let (mut fidelity, mut fidelity_cosine, mut jaccard_sum, mut chance) = (0.0, 0.0, 0.0, 0.0);
        for (i, (r, e)) in recalled.iter().zip(encoded).enumerate() {
            fidelity += pearson_m[i][i];
            fidelity_cosine += cosine_unchecked(r, e);
            jaccard_sum += jaccard_unchecked(r, e);
            chance += jaccard_chance(n_active(r), n_active(e), n_cells)?;
        }
        let specificity_mean = if n >= 2 {
            Some(specificity(&pearson_m)?.iter().sum::<f64>() / n as f64)
        } else {
            None
        };
        let naming_accuracy = naming_counts.map(naming_accuracy).transpose()?;
        let order: Vec<Option<f64>> = latency_ms.iter().map(|l| l.ms).collect();
        Ok(RecallSummary {
            n_memories: n,
            identification_accuracy: diagonal_wins(&pearson_m),
            fidelity_mean: fidelity / n as f64,
            fidelity_cosine_mean: fidelity_cosine / n as f64,
            specificity_mean,
            jaccard_mean: jaccard_sum / n as f64,
            jaccard_chance: chance / n as f64,
            latency_ordered: strictly_ordered(&order),
            latency_ms,
            naming_accuracy,
        })
    }
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
pub(crate) struct RecallSection<'a> {
    n_memories: usize,
    identification_accuracy: f64,
    fidelity_mean: f64,
    fidelity_cosine_mean: f64,
    specificity_mean: Option<f64>,
    jaccard_mean: f64,
    jaccard_chance: f64,
    latency_ms: &'a [PopulationLatency],
    latency_ordered: bool,
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
pub(crate) struct NamingSection {
    accuracy: f64,
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
pub(crate) struct Sections<'a> {
    pub(crate) recall: RecallSection<'a>,
    pub(crate) naming: Option<NamingSection>,
}

#[cfg(feature = "serde")]
impl RecallSummary {
    /// The two sections it serializes as.
    pub(crate) fn sections(&self) -> Sections<'_> {
        Sections {
            recall: RecallSection {
                n_memories: self.n_memories,
                identification_accuracy: self.identification_accuracy,
                fidelity_mean: self.fidelity_mean,
                fidelity_cosine_mean: self.fidelity_cosine_mean,
                specificity_mean: self.specificity_mean,
                jaccard_mean: self.jaccard_mean,
                jaccard_chance: self.jaccard_chance,
                latency_ms: &self.latency_ms,
                latency_ordered: self.latency_ordered,
            },
            naming: self
                .naming_accuracy
                .map(|accuracy| NamingSection { accuracy }),
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for RecallSummary {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&self.sections(), serializer)
    }
}

impl fmt::Display for RecallSummary {
    /// Several lines, one metric per line, without a trailing newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "identification accuracy  {:.3}  ({} memories, chance {:.3})",
            self.identification_accuracy,
            self.n_memories,
            1.0 / self.n_memories.max(1) as f64
        )?;
        writeln!(f, "fidelity (Pearson)       {:.3}", self.fidelity_mean)?;
        writeln!(
            f,
            "fidelity (cosine)        {:.3}",
            self.fidelity_cosine_mean
        )?;
        match self.specificity_mean {
            Some(s) => writeln!(f, "specificity (Pearson)    {s:.3}")?,
            None => writeln!(f, "specificity (Pearson)    n/a (one memory)")?,
        }
        writeln!(
            f,
            "Jaccard                  {:.3}  (chance {:.3})",
            self.jaccard_mean, self.jaccard_chance
        )?;
        write!(f, "latency (ms)            ")?;
        if self.latency_ms.is_empty() {
            write!(f, " n/a")?;
        }
        for (k, l) in self.latency_ms.iter().enumerate() {
            let sep = if k == 0 { " " } else { " -> " };
            match l.ms {
                Some(ms) => write!(f, "{sep}{} {ms:.2}", l.population)?,
                None => write!(f, "{sep}{} silent", l.population)?,
            }
        }
        if !self.latency_ms.is_empty() {
            let verdict = if self.latency_ordered {
                "ordered"
            } else {
                "not ordered"
            };
            write!(f, "  ({verdict})")?;
        }
        match self.naming_accuracy {
            Some(a) => write!(f, "\nnaming accuracy          {a:.3}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
