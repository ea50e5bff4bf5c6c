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

// ---------------------------------------------------------------- significance under noise

/// Smallest count `c >= 1` such that `P(X >= c) <= alpha` for `X ~ Poisson(mean)`: a count
/// of `c` or more is significantly above a spontaneous expectation of `mean` at level
/// `alpha`.
///
/// With `mean = 0` (a silent baseline) one event is significant (`c = 1`). The tail is
/// summed from a pmf built by its ratio recursion around the mode (relative weights below
/// 1e-40 are dropped), so large means neither underflow nor lose the tail. `alpha` must be
/// in `(0, 1)` and `mean` finite and `>= 0`; other values give an error.
pub fn poisson_threshold(mean: f64, alpha: f64) -> Result<u64, MetricError> {
    check_alpha(alpha)?;
    if !(mean.is_finite() && mean >= 0.0) {
        return Err(invalid(
            "mean",
            format!("{mean} must be a finite number >= 0"),
        ));
    }
    if mean == 0.0 {
        return Ok(1);
    }
    let mode = mean.floor() as u64;
    Ok(upper_threshold(
        mode,
        u64::MAX,
        |k| mean / (k + 1) as f64,
        alpha,
    ))
}

/// Smallest count `c >= 1` such that `P(X >= c) <= alpha` for `X ~ Binomial(n, p)`; `n + 1`
/// when even `P(X = n)` exceeds `alpha` (no count can be significant).
///
/// With `p = 0` one success is significant. `alpha` must be in `(0, 1)` and `p` in `[0, 1]`.
pub fn binomial_threshold(n: u64, p: f64, alpha: f64) -> Result<u64, MetricError> {
    check_alpha(alpha)?;
    if !(0.0..=1.0).contains(&p) {
        return Err(invalid("p", format!("{p} must be a probability in [0, 1]")));
    }
    if p == 0.0 {
        return Ok(1);
    }
    if p == 1.0 {
        return Ok(n + 1);
    }
    let odds = p / (1.0 - p);
    let mode = (((n + 1) as f64 * p).floor() as u64).min(n);
    Ok(upper_threshold(
        mode,
        n,
        |k| (n - k) as f64 / (k + 1) as f64 * odds,
        alpha,
    ))
}

fn check_alpha(alpha: f64) -> Result<(), MetricError> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(())
    } else {
        Err(invalid(
            "alpha",
            format!("{alpha} must be a significance level in (0, 1)"),
        ))
    }
}

/// The threshold of [`poisson_threshold`] for a unimodal distribution on `0..=max` given by
/// its mode and the ratio `ratio(k) = P(k + 1) / P(k)`.
fn upper_threshold(mode: u64, max: u64, ratio: impl Fn(u64) -> f64, alpha: f64) -> u64 {
    const NEGLIGIBLE: f64 = 1e-40;
    // Weights relative to the mode, upwards (index 0 = the mode) and downwards.
    let mut up = vec![1.0f64];
    let mut k = mode;
    while k < max {
        let w = up[up.len() - 1] * ratio(k);
        if w < NEGLIGIBLE {
            break;
        }
        up.push(w);
        k += 1;
    }
    let mut below = 0.0;
    let (mut w, mut k) = (1.0f64, mode);
    while k > 0 {
        w /= ratio(k - 1);
        if w < NEGLIGIBLE {
            break;
        }
        below += w;
        k -= 1;
    }
    let total = below + up.iter().sum::<f64>();
    // Tail sums from the top: the smallest c with P(X >= c) <= alpha.
    let mut tail = 0.0;
    let mut c = mode + up.len() as u64; // P(X >= c) is negligible
    for (i, w) in up.iter().enumerate().rev() {
        if (tail + w) / total > alpha {
            return c.max(1);
        }
        tail += w;
        c = mode + i as u64;
    }
    // Every count from the mode up is in the tail: go on below the mode.
    let (mut w, mut k) = (1.0f64, mode);
    while k > 0 {
        w /= ratio(k - 1);
        if (tail + w) / total > alpha {
            return k.max(1);
        }
        tail += w;
        k -= 1;
    }
    1
}

/// The encoded ensemble of one memory in one layer: cell `i` belongs to it when its
/// encoding count is significantly above its spontaneous expectation,
/// `counts[i] >= poisson_threshold(expected, alpha)`, where `expected` is the spikes a cell
/// fires spontaneously in the encoding window (the layer's spontaneous rate per cell times
/// the window). With a silent baseline (`expected = 0`) every cell that fired belongs.
pub fn ensemble(counts: &[f64], expected: f64, alpha: f64) -> Result<Vec<bool>, MetricError> {
    check_finite("counts", counts)?;
    let c = poisson_threshold(expected, alpha)? as f64;
    Ok(counts.iter().map(|&x| x >= c).collect())
}

/// How much of its encoded ensemble a recall reinstated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum RecallSize {
    /// No more ensemble cells active than spontaneous activity gives (none, without it).
    Silent,
    /// Above spontaneous activity, but fewer than the minimum fraction of the ensemble.
    Weak,
    /// At least the minimum fraction of the ensemble (and above spontaneous activity).
    Full,
}

/// The minimum-size rule of a recall (see [`recall_size`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeRule {
    /// Fraction of the encoded ensemble that must be active, in `(0, 1]`.
    pub min_fraction: f64,
    /// Probability that a cell fires at least once spontaneously in a recall window:
    /// `1 - exp(-rate * window)`; 0 without spontaneous activity.
    pub spontaneous_p: f64,
    /// Significance level of "above spontaneous activity".
    pub alpha: f64,
}

/// The size of a recall against its encoded ensemble: `(active, size)`, where `active` is
/// the number of distinct ensemble cells with at least one spike in the recall window.
///
/// - **Silent**: `active` is not significantly above what spontaneous activity alone gives,
///   `active < binomial_threshold(|ensemble|, spontaneous_p, alpha)`; without spontaneous
///   activity that is `active = 0`. An empty ensemble makes every recall silent.
/// - **Weak**: above spontaneous activity, but `active < min_fraction * |ensemble|`.
/// - **Full**: `active >= min_fraction * |ensemble|` and not silent.
///
/// Errors if the lengths differ, a count is not finite, or the rule's numbers are out of
/// range.
pub fn recall_size(
    recalled: &[f64],
    ensemble: &[bool],
    rule: &SizeRule,
) -> Result<(usize, RecallSize), MetricError> {
    if recalled.len() != ensemble.len() {
        return Err(MetricError::LengthMismatch {
            what: "recalled".into(),
            found: recalled.len(),
            expected: ensemble.len(),
            reason: "the length of the ensemble".into(),
        });
    }
    check_finite("recalled", recalled)?;
    check_rule(rule)?;
    let size = ensemble.iter().filter(|&&e| e).count();
    let active = recalled
        .iter()
        .zip(ensemble)
        .filter(|&(&c, &e)| e && c > 0.0)
        .count();
    let above = binomial_threshold(size as u64, rule.spontaneous_p, rule.alpha)?;
    let kind = if size == 0 || (active as u64) < above {
        RecallSize::Silent
    } else if (active as f64) < rule.min_fraction * size as f64 {
        RecallSize::Weak
    } else {
        RecallSize::Full
    };
    Ok((active, kind))
}

fn check_rule(rule: &SizeRule) -> Result<(), MetricError> {
    if !(rule.min_fraction > 0.0 && rule.min_fraction <= 1.0) {
        return Err(invalid(
            "min_fraction",
            format!("{} must be in (0, 1]", rule.min_fraction),
        ));
    }
    if !(0.0..=1.0).contains(&rule.spontaneous_p) {
        return Err(invalid(
            "spontaneous_p",
            format!("{} must be a probability in [0, 1]", rule.spontaneous_p),
        ));
    }
    check_alpha(rule.alpha)
}

/// Mean [`jaccard`] index between the sets of different memories (every unordered pair
/// `i < j`): the overlap that a recall must beat to be specific. `None` with fewer than two
/// sets. Errors if the sets differ in length.
pub fn mean_pairwise_jaccard(sets: &[Vec<bool>]) -> Result<Option<f64>, MetricError> {
    check_mask_lengths("sets", sets)?;
    let (mut sum, mut n) = (0.0, 0usize);
    for i in 0..sets.len() {
        for j in i + 1..sets.len() {
            sum += jaccard_masks(&sets[i], &sets[j]);
            n += 1;
        }
    }
    Ok((n > 0).then(|| sum / n as f64))
}

fn check_mask_lengths(what: &str, sets: &[Vec<bool>]) -> Result<(), MetricError> {
    if let Some(first) = sets.first() {
        for (i, s) in sets.iter().enumerate() {
            if s.len() != first.len() {
                return Err(MetricError::LengthMismatch {
                    what: format!("{what}[{i}]"),
                    found: s.len(),
                    expected: first.len(),
                    reason: format!("the length of {what}[0]"),
                });
            }
        }
    }
    Ok(())
}

/// [`jaccard`] of two sets given as masks; two empty sets give 0.
fn jaccard_masks(a: &[bool], b: &[bool]) -> f64 {
    let (mut both, mut either) = (0usize, 0usize);
    for (&x, &y) in a.iter().zip(b) {
        both += usize::from(x && y);
        either += usize::from(x || y);
    }
    if either == 0 {
        0.0
    } else {
        both as f64 / either as f64
    }
}

/// The onset of a population's response after a cue, against its spontaneous baseline.
///
/// `counts[k]` is the population's spike count in bin `k` after the cue (bin 0 starts at
/// the cue) and `baseline_per_bin` the count a bin holds on average without stimulus or
/// cue. The onset is the first bin whose count reaches [`poisson_threshold`]`(baseline_per_bin,
/// alpha / counts.len())`: a Bonferroni correction over the bins, so that pure spontaneous
/// activity (Poisson with that mean) gives an onset in at most a fraction `alpha` of
/// windows. One bin suffices (a cued group may fire in a single synchronous volley).
/// `None` when no bin reaches it, or there are no bins.
pub fn onset_bin(
    counts: &[f64],
    baseline_per_bin: f64,
    alpha: f64,
) -> Result<Option<usize>, MetricError> {
    check_finite("counts", counts)?;
    check_alpha(alpha)?;
    if counts.is_empty() {
        return Ok(None);
    }
    let c = poisson_threshold(baseline_per_bin, alpha / counts.len() as f64)? as f64;
    Ok(counts.iter().position(|&x| x >= c))
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
///
/// Under spontaneous activity this is not a response latency (a background spike just
/// after the cue counts); the recall experiment reports [`onset_bin`] instead.
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

/// One layer's recalls judged against its encodings: the fidelity of each recall and the
/// identification rule.
///
/// A recall of memory `i` is **identified** when both hold:
///
/// 1. its row of the Pearson [`fidelity_matrix`] peaks strictly at its own memory `i`
///    (`best_match`; ties fail), and
/// 2. it reinstates enough of the encoded ensemble: [`recall_size`] is
///    [`RecallSize::Full`] (at least `min_fraction` of the ensemble's cells active, and
///    more than spontaneous activity alone makes active).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRecall {
    /// The Pearson fidelity matrix `[recall][memory]`.
    pub matrix: Vec<Vec<f64>>,
    /// Whether each recall's fidelity row peaks at its own memory.
    pub best_match: Vec<bool>,
    /// Cells of each memory's encoded ensemble.
    pub ensemble_size: Vec<usize>,
    /// Ensemble cells with at least one spike in each recall window.
    pub active: Vec<usize>,
    /// The size class of each recall.
    pub size: Vec<RecallSize>,
    /// Whether each recall is identified (`best_match` and [`RecallSize::Full`]).
    pub identified: Vec<bool>,
}

impl LayerRecall {
    /// Judges `recalled[i]` (spike counts in recall window `i`) against `encoded` (counts
    /// while encoding) and `ensembles` (from [`ensemble`]) under `rule`. The three sets
    /// need one entry per memory (at least one) and vectors of one length.
    pub fn judge(
        recalled: &[Vec<f64>],
        encoded: &[Vec<f64>],
        ensembles: &[Vec<bool>],
        rule: &SizeRule,
    ) -> Result<LayerRecall, MetricError> {
        if encoded.is_empty() {
            return Err(invalid("encoded", "needs at least one memory"));
        }
        for (what, len) in [("recalled", recalled.len()), ("ensembles", ensembles.len())] {
            if len != encoded.len() {
                return Err(MetricError::LengthMismatch {
                    what: what.into(),
                    found: len,
                    expected: encoded.len(),
                    reason: "one per encoded memory".into(),
                });
            }
        }
        let matrix = fidelity_matrix(recalled, encoded, Metric::Pearson)?;
        let best_match: Vec<bool> = matrix
            .iter()
            .enumerate()
            .map(|(i, row)| row.iter().enumerate().all(|(j, &x)| j == i || row[i] > x))
            .collect();
        let (mut ensemble_size, mut active, mut size) = (Vec::new(), Vec::new(), Vec::new());
        for (i, (r, e)) in recalled.iter().zip(ensembles).enumerate() {
            let (a, s) = recall_size(r, e, rule).map_err(|err| match err {
                MetricError::LengthMismatch {
                    found, expected, ..
                } => MetricError::LengthMismatch {
                    what: format!("ensembles[{i}]"),
                    found: expected,
                    expected: found,
                    reason: format!("the length of recalled[{i}]"),
                },
                other => other,
            })?;
            ensemble_size.push(e.iter().filter(|&&x| x).count());
            active.push(a);
            size.push(s);
        }
        let identified = best_match
            .iter()
            .zip(&size)
            .map(|(&b, &s)| b && s == RecallSize::Full)
            .collect();
        Ok(LayerRecall {
            matrix,
            best_match,
            ensemble_size,
            active,
            size,
            identified,
        })
    }

    /// Pearson fidelity of each recall to its own memory (the matrix's diagonal).
    pub fn fidelity(&self) -> Vec<f64> {
        (0..self.matrix.len()).map(|i| self.matrix[i][i]).collect()
    }

    /// Mean of [`fidelity`](Self::fidelity).
    pub fn fidelity_mean(&self) -> f64 {
        self.fidelity().iter().sum::<f64>() / self.matrix.len() as f64
    }

    /// The lowest fidelity and its memory (the first, on ties).
    pub fn fidelity_min(&self) -> (f64, usize) {
        let f = self.fidelity();
        let mut worst = 0;
        for (i, &x) in f.iter().enumerate() {
            if x < f[worst] {
                worst = i;
            }
        }
        (f[worst], worst)
    }

    /// Fraction of recalls identified.
    pub fn accuracy(&self) -> f64 {
        self.identified.iter().filter(|&&x| x).count() as f64 / self.identified.len() as f64
    }

    /// Fraction of recalls whose fidelity row peaks at their own memory, without the
    /// size rule (the identification accuracy as [`identification_accuracy`] computes it).
    pub fn best_match_accuracy(&self) -> f64 {
        self.best_match.iter().filter(|&&x| x).count() as f64 / self.best_match.len() as f64
    }

    /// Number of recalls of size class `kind`.
    pub fn count(&self, kind: RecallSize) -> usize {
        self.size.iter().filter(|&&s| s == kind).count()
    }
}

/// Pattern completion from content cues, memory by memory: which cells of the sensory
/// layer fire in each recall window, split into the cells the cue presented (driven by the
/// stimulus), the pattern's other cells (completed, if they fire) and the cells outside
/// the pattern (false completion, if they fire).
///
/// A cell **fires** when its count in the recall window reaches `min_spikes`: for firing
/// significantly above its spontaneous expectation, the rule of [`ensemble`]
/// (`poisson_threshold(expected, alpha)`) applied to the recall window; `1` for the rule
/// of [`recall_size`] (one spike or more). The cued cells never count toward completion.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// Spikes a cell must fire in a recall window to count as firing.
    pub min_spikes: u64,
    /// Cells the cue presented, per memory.
    pub cued: Vec<usize>,
    /// Of those, the ones that fired.
    pub cued_fired: Vec<usize>,
    /// The pattern's cells the cue did not present.
    pub uncued: Vec<usize>,
    /// Of those, the ones that fired (completed).
    pub completed: Vec<usize>,
    /// Cells outside the pattern.
    pub outside: Vec<usize>,
    /// Of those, the ones that fired (false completion).
    pub false_fired: Vec<usize>,
}

impl Completion {
    /// Judges `recalled[m]` (spike counts of the recall window of memory `m`) against the
    /// memory's pattern (`patterns[m][cell]`: an active cell of its stimulus) and the cells
    /// its cue presented (`cued[m][cell]`, a subset of the pattern); a cell fires with
    /// `min_spikes` spikes or more. Errors for sets of different sizes or vector lengths, a
    /// non-finite count, or a cued cell outside the pattern.
    pub fn compute(
        recalled: &[Vec<f64>],
        patterns: &[Vec<bool>],
        cued: &[Vec<bool>],
        min_spikes: u64,
    ) -> Result<Completion, MetricError> {
        for (what, len) in [("patterns", patterns.len()), ("cued", cued.len())] {
            if len != recalled.len() {
                return Err(MetricError::LengthMismatch {
                    what: what.into(),
                    found: len,
                    expected: recalled.len(),
                    reason: "one per recall".into(),
                });
            }
        }
        let mut c = Completion {
            min_spikes,
            cued: Vec::new(),
            cued_fired: Vec::new(),
            uncued: Vec::new(),
            completed: Vec::new(),
            outside: Vec::new(),
            false_fired: Vec::new(),
        };
        for (m, r) in recalled.iter().enumerate() {
            for (what, v) in [("patterns", &patterns[m]), ("cued", &cued[m])] {
                if v.len() != r.len() {
                    return Err(MetricError::LengthMismatch {
                        what: format!("{what}[{m}]"),
                        found: v.len(),
                        expected: r.len(),
                        reason: format!("the length of recalled[{m}]"),
                    });
                }
            }
            check_finite(&format!("recalled[{m}]"), r)?;
            let mut n = [0usize; 6];
            for (i, &count) in r.iter().enumerate() {
                let f = count >= min_spikes as f64;
                let slot = match (patterns[m][i], cued[m][i]) {
                    (true, true) => 0,
                    (true, false) => 2,
                    (false, false) => 4,
                    (false, true) => {
                        return Err(invalid(
                            &format!("cued[{m}]"),
                            format!("cell {i} is cued but not in the pattern"),
                        ));
                    }
                };
                n[slot] += 1;
                n[slot + 1] += usize::from(f);
            }
            c.cued.push(n[0]);
            c.cued_fired.push(n[1]);
            c.uncued.push(n[2]);
            c.completed.push(n[3]);
            c.outside.push(n[4]);
            c.false_fired.push(n[5]);
        }
        Ok(c)
    }

    /// Per memory: the fraction of the uncued pattern cells that fired; `None` when the
    /// cue presented the whole pattern.
    pub fn completion(&self) -> Vec<Option<f64>> {
        ratios(&self.completed, &self.uncued)
    }

    /// Per memory: the fraction of the cells outside the pattern that fired; `None` when
    /// the pattern covers the layer.
    pub fn false_completion(&self) -> Vec<Option<f64>> {
        ratios(&self.false_fired, &self.outside)
    }

    /// Per memory: the fraction of the cued cells that fired (the stimulus got through);
    /// `None` for an empty cue.
    pub fn cued_fired_fraction(&self) -> Vec<Option<f64>> {
        ratios(&self.cued_fired, &self.cued)
    }
}

/// `a[i] / b[i]`, `None` where `b[i]` is 0.
fn ratios(a: &[usize], b: &[usize]) -> Vec<Option<f64>> {
    a.iter()
        .zip(b)
        .map(|(&x, &n)| (n > 0).then(|| x as f64 / n as f64))
        .collect()
}

/// The mean of the values that are there; `None` if none is.
pub fn mean_of_some(values: &[Option<f64>]) -> Option<f64> {
    let got: Vec<f64> = values.iter().flatten().copied().collect();
    (!got.is_empty()).then(|| got.iter().sum::<f64>() / got.len() as f64)
}

/// The smallest (`largest = false`) or largest of the values that are there, with its
/// index (the first on ties); `None` if none is.
pub fn extreme_of_some(values: &[Option<f64>], largest: bool) -> Option<(f64, usize)> {
    let mut best: Option<(f64, usize)> = None;
    for (i, v) in values.iter().enumerate() {
        if let Some(v) = *v {
            let better = match best {
                None => true,
                Some((b, _)) => (largest && v > b) || (!largest && v < b),
            };
            if better {
                best = Some((v, i));
            }
        }
    }
    best
}

/// Recall latency of one population, from the cue, against its spontaneous baseline.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PopulationLatency {
    /// Population name.
    pub population: String,
    /// Mean over the recalls with an onset ([`onset_bin`], as the onset bin's start, ms
    /// after the cue); `None` (`null` in JSON) if no recall had one.
    pub mean_ms: Option<f64>,
    /// Recalls with an onset.
    pub found: usize,
    /// Recalls.
    pub recalls: usize,
    /// The population's spontaneous rate per cell in the baseline window (Hz).
    pub baseline_hz: f64,
    /// Why this latency holds by construction, if it does (`null` in JSON otherwise).
    pub sanity_check: Option<String>,
}

impl PopulationLatency {
    /// The mean of the onsets that were found (`onsets_ms[m]`: recall `m`, `None` when
    /// none was found).
    pub fn from_onsets(
        population: &str,
        onsets_ms: &[Option<f64>],
        baseline_hz: f64,
        sanity_check: Option<String>,
    ) -> PopulationLatency {
        PopulationLatency {
            population: population.to_owned(),
            mean_ms: mean_of_some(onsets_ms),
            found: onsets_ms.iter().flatten().count(),
            recalls: onsets_ms.len(),
            baseline_hz,
            sanity_check,
        }
    }
}

/// The outcome of a recall experiment, ready to print (`Display`) or serialize.
///
/// It serializes as two sections, so that it can be merged into a run's `--json` output:
///
/// ```text
/// {"recall": {"n_memories": 10, "identification_accuracy": 0.9, "identified": 9,
///             "weak": 1, "silent": 0, "min_recall_fraction": 0.25,
///             "best_match_accuracy": 1.0, "fidelity_mean": 0.75, "fidelity_min": 0.41,
///             "fidelity_min_memory": 3, "fidelity_cosine_mean": 0.8,
///             "specificity_mean": 0.7, "jaccard_mean": 0.5,
///             "jaccard_between_memories": 0.06, "jaccard_recalled_vs_others": 0.05,
///             "jaccard_chance": 0.05,
///             "latency_ms": [{"population": "mtl", "mean_ms": 2.0, "found": 10,
///                             "recalls": 10, "baseline_hz": 2.1,
///                             "sanity_check": "..."}, ...],
///             "latency_ordered": true, "latency_ordered_below_pointer": true,
///             "per_memory": {"fidelity": [...], "identified": [...], "size": ["full", ...],
///                            "active": [...], "ensemble_size": [...]}},
///  "naming": {"accuracy": 1.0}}
/// ```
///
/// `"naming"` is `null` when naming was not tested.
#[derive(Debug, Clone, PartialEq)]
pub struct RecallSummary {
    /// Number of memories stored and cued.
    pub n_memories: usize,
    /// Fraction of recalls identified by [`LayerRecall`]'s rule (chance `1 / n_memories`
    /// for the fidelity part; the size part has no chance level).
    pub identification_accuracy: f64,
    /// The minimum fraction of the encoded ensemble a recall must reinstate.
    pub min_recall_fraction: f64,
    /// The sensory layer's recalls, memory by memory.
    pub sensory: LayerRecall,
    /// Mean cosine similarity between each recall and the memory cued.
    pub fidelity_cosine_mean: f64,
    /// Mean [`specificity`] of the Pearson matrix; `None` with a single memory.
    pub specificity_mean: Option<f64>,
    /// Mean [`jaccard`] index between each recall's active cells (one spike or more) and
    /// the cued memory's encoded ensemble.
    pub jaccard_mean: f64,
    /// The baseline for `jaccard_mean`: [`mean_pairwise_jaccard`] of the encoded
    /// ensembles of different memories; `None` with a single memory.
    pub jaccard_between_memories: Option<f64>,
    /// Mean Jaccard index between each recall's active cells and the ensembles of the
    /// memories that were not cued; `None` with a single memory.
    pub jaccard_recalled_vs_others: Option<f64>,
    /// Mean [`jaccard_chance`] for random sets of the same sizes.
    pub jaccard_chance: f64,
    /// Recall latency per population, ordered along the backward path (pointer first).
    pub latency_ms: Vec<PopulationLatency>,
    /// [`strictly_ordered`] applied to the mean latencies of `latency_ms`.
    pub latency_ordered: bool,
    /// [`strictly_ordered`] without the first (pointer) population, whose lead holds by
    /// construction (the cue drives it); `None` with fewer than two other populations.
    pub latency_ordered_below_pointer: Option<bool>,
    /// [`naming_accuracy`], if naming was tested.
    pub naming_accuracy: Option<f64>,
}

impl RecallSummary {
    /// Computes every recall metric of the sensory layer.
    ///
    /// `recalled[i]` is the sensory spike-count vector when memory `i` was cued,
    /// `encoded[i]` the one recorded while it was encoded and `ensembles[i]` its encoded
    /// ensemble ([`ensemble`]); `rule` is the minimum-size rule ([`recall_size`]).
    /// `latency_ms` lists the populations in backward-path order, pointer first;
    /// `naming_counts` is the input of [`naming_accuracy`].
    pub fn compute(
        recalled: &[Vec<f64>],
        encoded: &[Vec<f64>],
        ensembles: &[Vec<bool>],
        rule: &SizeRule,
        latency_ms: Vec<PopulationLatency>,
        naming_counts: Option<&[Vec<f64>]>,
    ) -> Result<RecallSummary, MetricError> {
        let sensory = LayerRecall::judge(recalled, encoded, ensembles, rule)?;
        let n = encoded.len();
        let n_cells = encoded[0].len();
        let active: Vec<Vec<bool>> = recalled
            .iter()
            .map(|r| r.iter().map(|&x| x > 0.0).collect())
            .collect();
        let (mut cosine_sum, mut own, mut others, mut chance) = (0.0, 0.0, 0.0, 0.0);
        for i in 0..n {
            cosine_sum += cosine_unchecked(&recalled[i], &encoded[i]);
            own += jaccard_masks(&active[i], &ensembles[i]);
            for (j, e) in ensembles.iter().enumerate() {
                if j != i {
                    others += jaccard_masks(&active[i], e);
                }
            }
            let count = |m: &[bool]| m.iter().filter(|&&x| x).count();
            chance += jaccard_chance(count(&active[i]), count(&ensembles[i]), n_cells)?;
        }
        let specificity_mean = if n >= 2 {
            Some(specificity(&sensory.matrix)?.iter().sum::<f64>() / n as f64)
        } else {
            None
        };
        let naming_accuracy = naming_counts.map(naming_accuracy).transpose()?;
        let order: Vec<Option<f64>> = latency_ms.iter().map(|l| l.mean_ms).collect();
        Ok(RecallSummary {
            n_memories: n,
            identification_accuracy: sensory.accuracy(),
            min_recall_fraction: rule.min_fraction,
            fidelity_cosine_mean: cosine_sum / n as f64,
            specificity_mean,
            jaccard_mean: own / n as f64,
            jaccard_between_memories: mean_pairwise_jaccard(ensembles)?,
            jaccard_recalled_vs_others: (n >= 2).then(|| others / (n * (n - 1)) as f64),
            jaccard_chance: chance / n as f64,
            latency_ordered: strictly_ordered(&order),
            latency_ordered_below_pointer: (order.len() >= 3)
                .then(|| strictly_ordered(&order[1..])),
            latency_ms,
            naming_accuracy,
            sensory,
        })
    }
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
pub(crate) struct PerMemory<'a> {
    fidelity: Vec<f64>,
    identified: &'a [bool],
    best_match: &'a [bool],
    size: &'a [RecallSize],
    active: &'a [usize],
    ensemble_size: &'a [usize],
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
pub(crate) struct RecallSection<'a> {
    n_memories: usize,
    identification_accuracy: f64,
    identified: usize,
    weak: usize,
    silent: usize,
    min_recall_fraction: f64,
    best_match_accuracy: f64,
    fidelity_mean: f64,
    fidelity_min: f64,
    fidelity_min_memory: usize,
    fidelity_cosine_mean: f64,
    specificity_mean: Option<f64>,
    jaccard_mean: f64,
    jaccard_between_memories: Option<f64>,
    jaccard_recalled_vs_others: Option<f64>,
    jaccard_chance: f64,
    latency_ms: &'a [PopulationLatency],
    latency_ordered: bool,
    latency_ordered_below_pointer: Option<bool>,
    per_memory: PerMemory<'a>,
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
        let s = &self.sensory;
        let (fidelity_min, fidelity_min_memory) = s.fidelity_min();
        Sections {
            recall: RecallSection {
                n_memories: self.n_memories,
                identification_accuracy: self.identification_accuracy,
                identified: s.identified.iter().filter(|&&x| x).count(),
                weak: s.count(RecallSize::Weak),
                silent: s.count(RecallSize::Silent),
                min_recall_fraction: self.min_recall_fraction,
                best_match_accuracy: s.best_match_accuracy(),
                fidelity_mean: s.fidelity_mean(),
                fidelity_min,
                fidelity_min_memory,
                fidelity_cosine_mean: self.fidelity_cosine_mean,
                specificity_mean: self.specificity_mean,
                jaccard_mean: self.jaccard_mean,
                jaccard_between_memories: self.jaccard_between_memories,
                jaccard_recalled_vs_others: self.jaccard_recalled_vs_others,
                jaccard_chance: self.jaccard_chance,
                latency_ms: &self.latency_ms,
                latency_ordered: self.latency_ordered,
                latency_ordered_below_pointer: self.latency_ordered_below_pointer,
                per_memory: PerMemory {
                    fidelity: s.fidelity(),
                    identified: &s.identified,
                    best_match: &s.best_match,
                    size: &s.size,
                    active: &s.active,
                    ensemble_size: &s.ensemble_size,
                },
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
        let s = &self.sensory;
        writeln!(
            f,
            "identification accuracy  {:.3}  ({} memories, chance {:.3}; {} identified, {} weak, \
             {} silent; minimum {} of the ensemble)",
            self.identification_accuracy,
            self.n_memories,
            1.0 / self.n_memories.max(1) as f64,
            s.identified.iter().filter(|&&x| x).count(),
            s.count(RecallSize::Weak),
            s.count(RecallSize::Silent),
            self.min_recall_fraction
        )?;
        let (min, worst) = s.fidelity_min();
        writeln!(
            f,
            "fidelity (Pearson)       {:.3}  (min {min:.3}, memory {worst})",
            s.fidelity_mean()
        )?;
        writeln!(
            f,
            "fidelity (cosine)        {:.3}",
            self.fidelity_cosine_mean
        )?;
        match self.specificity_mean {
            Some(s) => writeln!(f, "specificity (Pearson)    {s:.3}")?,
            None => writeln!(f, "specificity (Pearson)    n/a (one memory)")?,
        }
        let opt = |x: Option<f64>| x.map_or("n/a".to_owned(), |x| format!("{x:.3}"));
        writeln!(
            f,
            "Jaccard                  {:.3}  (between memories {}, random sets {:.3})",
            self.jaccard_mean,
            opt(self.jaccard_between_memories),
            self.jaccard_chance
        )?;
        write!(f, "latency from cue (ms)   ")?;
        if self.latency_ms.is_empty() {
            write!(f, " n/a")?;
        }
        for (k, l) in self.latency_ms.iter().enumerate() {
            let sep = if k == 0 { " " } else { " -> " };
            match l.mean_ms {
                Some(ms) => write!(
                    f,
                    "{sep}{} {ms:.2} ({}/{})",
                    l.population, l.found, l.recalls
                )?,
                None => write!(f, "{sep}{} none", l.population)?,
            }
        }
        if !self.latency_ms.is_empty() {
            let verdict = match (self.latency_ordered, self.latency_ordered_below_pointer) {
                (true, _) => "ordered",
                (false, Some(true)) => "ordered below the pointer layer",
                (false, _) => "not ordered",
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
