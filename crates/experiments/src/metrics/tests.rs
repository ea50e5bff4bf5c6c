use approx::assert_abs_diff_eq;
use rand::SeedableRng;
use rand::seq::index;
use rand_chacha::ChaCha8Rng;

use super::*;

// ---------------------------------------------------------------- similarities

#[test]
fn pearson_known_answers() {
    assert_abs_diff_eq!(pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap(), 1.0);
    assert_abs_diff_eq!(pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap(), -1.0);
    // Means 2.5; deviations (-1.5, -0.5, 0.5, 1.5) and (-1.5, 0.5, -0.5, 1.5):
    // sxy = 4, sxx = syy = 5, r = 0.8.
    let r = pearson(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
    assert_abs_diff_eq!(r, 0.8, epsilon = 1e-15);
    // Shift and scale invariant.
    let r2 = pearson(&[10.0, 20.0, 30.0, 40.0], &[5.0, 7.0, 6.0, 8.0]).unwrap();
    assert_abs_diff_eq!(r2, 0.8, epsilon = 1e-15);
}

#[test]
fn pearson_degenerate_cases_are_zero() {
    assert_eq!(pearson(&[], &[]).unwrap(), 0.0);
    assert_eq!(pearson(&[3.0], &[1.0]).unwrap(), 0.0);
    assert_eq!(pearson(&[0.0; 4], &[1.0, 2.0, 3.0, 4.0]).unwrap(), 0.0);
    assert_eq!(pearson(&[1.0, 2.0, 3.0], &[0.1; 3]).unwrap(), 0.0);
    assert_eq!(pearson(&[2.0; 3], &[2.0; 3]).unwrap(), 0.0);
}

#[test]
fn cosine_known_answers_and_degenerate_cases() {
    assert_abs_diff_eq!(
        cosine(&[1.0, 0.0, 1.0], &[1.0, 1.0, 0.0]).unwrap(),
        0.5,
        epsilon = 1e-15
    );
    assert_abs_diff_eq!(
        cosine(&[3.0, 4.0], &[4.0, 3.0]).unwrap(),
        0.96,
        epsilon = 1e-15
    );
    assert_abs_diff_eq!(
        cosine(&[1.0, 2.0], &[2.0, 4.0]).unwrap(),
        1.0,
        epsilon = 1e-15
    );
    assert_abs_diff_eq!(cosine(&[1.0, 0.0], &[0.0, 5.0]).unwrap(), 0.0);
    assert_eq!(cosine(&[0.0; 3], &[1.0, 2.0, 3.0]).unwrap(), 0.0);
    assert_eq!(cosine(&[0.0; 3], &[0.0; 3]).unwrap(), 0.0);
    assert_eq!(cosine(&[], &[]).unwrap(), 0.0);
}

#[test]
fn similarities_reject_bad_input() {
    let e = pearson(&[1.0, 2.0], &[1.0]).unwrap_err();
    assert!(matches!(
        e,
        MetricError::LengthMismatch {
            found: 1,
            expected: 2,
            ..
        }
    ));
    assert!(e.to_string().starts_with("b: length 1, expected 2"), "{e}");
    let e = cosine(&[1.0, f64::NAN], &[1.0, 2.0]).unwrap_err();
    assert_eq!(e.to_string(), "a[1]: value NaN is not finite");
    let e = jaccard(&[1.0], &[f64::INFINITY]).unwrap_err();
    assert!(e.to_string().starts_with("b[0]"), "{e}");
}

// ---------------------------------------------------------------- matrices

fn designed() -> Vec<Vec<f64>> {
    vec![
        vec![0.9, 0.1, 0.2],
        vec![0.3, 0.2, 0.5],
        vec![0.4, 0.4, 0.6],
    ]
}

#[test]
fn fidelity_matrix_compares_every_recall_with_every_memory() {
    let encoded = vec![vec![1.0, 0.0, 0.0, 1.0], vec![0.0, 1.0, 1.0, 0.0]];
    let recalled = vec![
        vec![2.0, 0.0, 0.0, 2.0],
        vec![1.0, 1.0, 0.0, 0.0],
        vec![0.0; 4],
    ];
    let m = fidelity_matrix(&recalled, &encoded, Metric::Cosine).unwrap();
    assert_eq!(m.len(), 3);
    assert_abs_diff_eq!(m[0][0], 1.0, epsilon = 1e-15);
    assert_abs_diff_eq!(m[0][1], 0.0);
    assert_abs_diff_eq!(m[1][0], 0.5, epsilon = 1e-15);
    assert_abs_diff_eq!(m[1][1], 0.5, epsilon = 1e-15);
    assert_eq!(m[2], vec![0.0, 0.0]);
    let p = fidelity_matrix(&recalled, &encoded, Metric::Pearson).unwrap();
    assert_abs_diff_eq!(p[0][0], 1.0, epsilon = 1e-15);
    assert_abs_diff_eq!(p[0][1], -1.0, epsilon = 1e-15);
    assert_abs_diff_eq!(p[1][0], 0.0, epsilon = 1e-15);

    assert!(
        fidelity_matrix(&[], &encoded, Metric::Pearson)
            .unwrap()
            .is_empty()
    );
    let e = fidelity_matrix(&[vec![1.0; 3]], &encoded, Metric::Pearson).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("recalled[0]: length 3, expected 4"),
        "{e}"
    );
    let e = fidelity_matrix(&recalled, &[vec![1.0; 4], vec![1.0; 5]], Metric::Pearson).unwrap_err();
    assert!(e.to_string().starts_with("encoded[1]"), "{e}");
    let e =
        fidelity_matrix(&[vec![0.0, 0.0, f64::NAN, 0.0]], &encoded, Metric::Cosine).unwrap_err();
    assert_eq!(e.to_string(), "recalled[0][2]: value NaN is not finite");
}

#[test]
fn identification_on_a_designed_matrix() {
    // Row 0 peaks on the diagonal, row 1 does not (0.5 > 0.2), row 2 does.
    assert_abs_diff_eq!(identification_accuracy(&designed()).unwrap(), 2.0 / 3.0);
    let identity: Vec<Vec<f64>> = (0..5)
        .map(|i| (0..5).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    assert_eq!(identification_accuracy(&identity).unwrap(), 1.0);
}

#[test]
fn identification_ties_fail() {
    assert_eq!(
        identification_accuracy(&[vec![0.5, 0.5], vec![0.1, 0.3]]).unwrap(),
        0.5
    );
    let silent = vec![vec![0.0; 3]; 3];
    assert_eq!(identification_accuracy(&silent).unwrap(), 0.0);
}

#[test]
fn identification_accepts_extra_columns_and_rejects_bad_matrices() {
    // Two recalls against three stored memories.
    assert_eq!(
        identification_accuracy(&[vec![0.9, 0.1, 0.95], vec![0.1, 0.8, 0.2]]).unwrap(),
        0.5
    );
    assert_eq!(identification_accuracy(&[vec![0.3]]).unwrap(), 1.0);
    let e = identification_accuracy(&[]).unwrap_err();
    assert_eq!(e.to_string(), "matrix: has no rows");
    let e = identification_accuracy(&[vec![1.0, 0.0], vec![0.0]]).unwrap_err();
    assert!(
        e.to_string().starts_with("matrix[1]: length 1, expected 2"),
        "{e}"
    );
    let e = identification_accuracy(&[vec![1.0], vec![0.0]]).unwrap_err();
    assert!(
        e.to_string().contains("at least as many columns as rows"),
        "{e}"
    );
    let e = identification_accuracy(&[vec![1.0, f64::NAN]]).unwrap_err();
    assert_eq!(e.to_string(), "matrix[0][1]: value NaN is not finite");
}

#[test]
fn specificity_on_a_designed_matrix() {
    let s = specificity(&designed()).unwrap();
    // 0.9 - (0.1 + 0.2) / 2, 0.2 - (0.3 + 0.5) / 2, 0.6 - (0.4 + 0.4) / 2.
    for (got, want) in s.iter().zip([0.75, -0.2, 0.2]) {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-15);
    }
    let e = specificity(&[vec![0.7]]).unwrap_err();
    assert!(e.to_string().contains("at least two columns"), "{e}");
}

// ---------------------------------------------------------------- Jaccard

#[test]
fn jaccard_known_answers() {
    // A = {0, 2, 4}, B = {2, 3, 4}: 2 shared of 4.
    let j = jaccard(&[1.0, 0.0, 2.0, 0.0, 1.0], &[0.0, 0.0, 3.0, 1.0, 1.0]).unwrap();
    assert_abs_diff_eq!(j, 0.5);
    assert_eq!(jaccard(&[1.0, 1.0], &[5.0, 2.0]).unwrap(), 1.0);
    assert_eq!(jaccard(&[1.0, 0.0], &[0.0, 2.0]).unwrap(), 0.0);
    // Degenerate: both silent.
    assert_eq!(jaccard(&[0.0; 4], &[0.0; 4]).unwrap(), 0.0);
    assert_eq!(jaccard(&[], &[]).unwrap(), 0.0);
}

#[test]
fn jaccard_chance_exact_small_cases() {
    // n = 4, k1 = k2 = 2: P(X = 0, 1, 2) = 1/6, 4/6, 1/6; E[J] = 4/6 * 1/3 + 1/6 * 1 = 7/18.
    assert_abs_diff_eq!(
        jaccard_chance(2, 2, 4).unwrap(),
        7.0 / 18.0,
        epsilon = 1e-14
    );
    // n = 3, k1 = k2 = 2: X is 1 or 2 with probabilities 2/3, 1/3: E[J] = 2/9 + 1/3 = 5/9.
    assert_abs_diff_eq!(jaccard_chance(2, 2, 3).unwrap(), 5.0 / 9.0, epsilon = 1e-14);
    // A full set contains the other: J = k2 / n.
    assert_abs_diff_eq!(jaccard_chance(10, 3, 10).unwrap(), 0.3, epsilon = 1e-14);
    assert_eq!(jaccard_chance(0, 5, 10).unwrap(), 0.0);
    assert_eq!(jaccard_chance(0, 0, 10).unwrap(), 0.0);
    assert_eq!(jaccard_chance(0, 0, 0).unwrap(), 0.0);
    assert_abs_diff_eq!(jaccard_chance(1, 1, 1).unwrap(), 1.0, epsilon = 1e-15);
    assert!(
        jaccard_chance(11, 2, 10)
            .unwrap_err()
            .to_string()
            .starts_with("k1:")
    );
    assert!(
        jaccard_chance(2, 11, 10)
            .unwrap_err()
            .to_string()
            .starts_with("k2:")
    );
}

#[test]
fn jaccard_chance_matches_monte_carlo() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    for (k1, k2, n) in [(10, 20, 100), (40, 40, 400), (3, 5, 12)] {
        let trials = 20_000;
        let mut sum = 0.0;
        for _ in 0..trials {
            let mut a = vec![0.0; n];
            let mut b = vec![0.0; n];
            for i in index::sample(&mut rng, n, k1) {
                a[i] = 1.0;
            }
            for i in index::sample(&mut rng, n, k2) {
                b[i] = 1.0;
            }
            sum += jaccard(&a, &b).unwrap();
        }
        let mc = sum / trials as f64;
        let exact = jaccard_chance(k1, k2, n).unwrap();
        // The standard deviation of J is below 0.15 in these cases: 3 standard errors.
        assert_abs_diff_eq!(mc, exact, epsilon = 3.0 * 0.15 / (trials as f64).sqrt());
    }
}

#[test]
fn jaccard_chance_approaches_the_usual_approximation_for_large_n() {
    let (k, n) = (10_000, 100_000);
    let p = k as f64 / n as f64;
    let approx = p * p / (2.0 * p - p * p);
    let exact = jaccard_chance(k, k, n).unwrap();
    assert_abs_diff_eq!(exact, approx, epsilon = 1e-4);
    // For small sets the approximation is too low.
    assert!(jaccard_chance(2, 2, 4).unwrap() > 0.25 / 0.75);
}

// ---------------------------------------------------------------- latencies

#[test]
fn first_spike_latency_is_the_mean_first_spike_of_responding_neurons() {
    let spikes = vec![vec![5.0, 12.0, 11.0], vec![], vec![9.0, 15.0], vec![10.0]];
    // Neuron 0 first fires at 11 (1 ms), neuron 2 at 15 (5 ms); neuron 3 fires at the
    // cue, not after it; neuron 1 is silent. Mean 3 ms.
    assert_eq!(first_spike_latency(&spikes, 10.0), Some(3.0));
    assert_eq!(first_spike_latency(&spikes, 20.0), None);
    assert_eq!(first_spike_latency(&[], 0.0), None);
    assert_eq!(first_spike_latency(&spikes, f64::NAN), None);
    assert_eq!(
        first_spike_latency(&[vec![f64::NAN, 12.0]], 10.0),
        Some(2.0)
    );

    // The same spikes as SONATA events, unsorted.
    let t = [12.0, 5.0, 15.0, 10.0, 11.0, 9.0];
    let id = [0, 0, 2, 3, 0, 2];
    assert_eq!(
        first_spike_latency_events(&t, &id, 10.0).unwrap(),
        Some(3.0)
    );
    assert_eq!(first_spike_latency_events(&t, &id, 20.0).unwrap(), None);
    assert!(first_spike_latency_events(&t, &id[..2], 10.0).is_err());
}

#[test]
fn strict_ordering_along_a_path() {
    assert!(strictly_ordered(&[Some(1.0), Some(2.5), Some(4.0)]));
    assert!(!strictly_ordered(&[Some(1.0), Some(4.0), Some(2.5)]));
    assert!(!strictly_ordered(&[Some(1.0), Some(1.0)]));
    assert!(!strictly_ordered(&[Some(1.0), None, Some(3.0)]));
    assert!(!strictly_ordered(&[Some(1.0)]));
    assert!(!strictly_ordered(&[]));
}

// ---------------------------------------------------------------- naming

#[test]
fn naming_counts_strict_winners_only() {
    // Stimulus 0: group 0 wins; 1: tie between groups 0 and 1; 2: nobody fired.
    let counts = vec![
        vec![5.0, 1.0, 0.0],
        vec![2.0, 2.0, 0.0],
        vec![0.0, 0.0, 0.0],
    ];
    assert_abs_diff_eq!(naming_accuracy(&counts).unwrap(), 1.0 / 3.0);
    let e = naming_accuracy(&[vec![1.0], vec![2.0, 3.0]]).unwrap_err();
    assert!(e.to_string().starts_with("counts[1]"), "{e}");
}

// ---------------------------------------------------------------- significance under noise

/// Poisson draws by inversion (small means only), for the tests' spontaneous activity.
fn poisson_draw(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    use rand::Rng;
    let u: f64 = rng.random();
    let (mut k, mut p) = (0u32, (-mean).exp());
    let mut cdf = p;
    while u > cdf && k < 10_000 {
        k += 1;
        p *= mean / f64::from(k);
        cdf += p;
    }
    f64::from(k)
}

#[test]
fn poisson_threshold_known_answers() {
    // Poisson(0.2): P(X >= 3) = 0.00115, P(X >= 4) = 5.7e-5.
    assert_eq!(poisson_threshold(0.2, 0.01).unwrap(), 3);
    assert_eq!(poisson_threshold(0.2, 0.001).unwrap(), 4);
    // Poisson(1): P(X >= 4) = 0.0190, P(X >= 5) = 0.00366, P(X >= 6) = 0.000594.
    assert_eq!(poisson_threshold(1.0, 0.02).unwrap(), 4);
    assert_eq!(poisson_threshold(1.0, 0.001).unwrap(), 6);
    // A silent baseline: one event is significant; a tiny mean too.
    assert_eq!(poisson_threshold(0.0, 0.001).unwrap(), 1);
    assert_eq!(poisson_threshold(1e-9, 0.001).unwrap(), 1);
    // A large mean: about mean + 3.1 sd at 0.001 (normal approximation 10_000 + 309).
    let c = poisson_threshold(10_000.0, 0.001).unwrap();
    assert!((10_300..=10_330).contains(&c), "{c}");
    assert!(poisson_threshold(-1.0, 0.01).is_err());
    assert!(poisson_threshold(1.0, 0.0).is_err());
    assert!(poisson_threshold(1.0, 1.0).is_err());
}

#[test]
fn binomial_threshold_known_answers() {
    // Binomial(10, 0.1): P(X >= 4) = 0.0128, P(X >= 5) = 0.00163, P(X >= 6) = 0.000147.
    assert_eq!(binomial_threshold(10, 0.1, 0.01).unwrap(), 5);
    assert_eq!(binomial_threshold(10, 0.1, 0.001).unwrap(), 6);
    assert_eq!(binomial_threshold(10, 0.0, 0.001).unwrap(), 1);
    // Binomial(2, 0.5): even P(X = 2) = 0.25 exceeds 0.1: nothing is significant.
    assert_eq!(binomial_threshold(2, 0.5, 0.1).unwrap(), 3);
    assert_eq!(binomial_threshold(5, 1.0, 0.1).unwrap(), 6);
    assert!(binomial_threshold(5, 1.5, 0.1).is_err());
}

#[test]
fn ensemble_is_the_cells_above_the_spontaneous_expectation() {
    let counts = [0.0, 1.0, 2.0, 3.0, 4.0, 9.0];
    // No spontaneous activity: every cell that fired.
    assert_eq!(
        ensemble(&counts, 0.0, 0.001).unwrap(),
        [false, true, true, true, true, true]
    );
    // 2 Hz over 100 ms (0.2 spikes expected): 4 spikes or more at 0.001.
    assert_eq!(
        ensemble(&counts, 0.2, 0.001).unwrap(),
        [false, false, false, false, true, true]
    );
    assert!(ensemble(&[f64::NAN], 0.2, 0.001).is_err());
}

fn quiet(min_fraction: f64) -> SizeRule {
    SizeRule {
        min_fraction,
        spontaneous_p: 0.0,
        alpha: 0.001,
    }
}

#[test]
fn a_two_spike_recall_is_weak_and_the_threshold_itself_is_full() {
    // An ensemble of 8 cells (0..8) in 20; the minimum 0.25 is 2 cells.
    let ens: Vec<bool> = (0..20).map(|i| i < 8).collect();
    let mut recalled = vec![0.0; 20];
    assert_eq!(
        recall_size(&recalled, &ens, &quiet(0.25)).unwrap(),
        (0, RecallSize::Silent)
    );
    // Two spikes from one ensemble cell: one cell, below the minimum.
    recalled[3] = 2.0;
    assert_eq!(
        recall_size(&recalled, &ens, &quiet(0.25)).unwrap(),
        (1, RecallSize::Weak)
    );
    // Spikes outside the ensemble do not count.
    recalled[15] = 5.0;
    assert_eq!(
        recall_size(&recalled, &ens, &quiet(0.25)).unwrap(),
        (1, RecallSize::Weak)
    );
    // Exactly at the threshold: 2 of 8.
    recalled[5] = 1.0;
    assert_eq!(
        recall_size(&recalled, &ens, &quiet(0.25)).unwrap(),
        (2, RecallSize::Full)
    );
    // An empty ensemble: every recall is silent.
    assert_eq!(
        recall_size(&recalled, &[false; 20], &quiet(0.25)).unwrap(),
        (0, RecallSize::Silent)
    );
    assert!(recall_size(&recalled, &ens[..5], &quiet(0.25)).is_err());
    assert!(recall_size(&recalled, &ens, &quiet(0.0)).is_err());
    assert!(recall_size(&recalled, &ens, &quiet(1.5)).is_err());
}

#[test]
fn under_noise_a_recall_must_beat_spontaneous_activity() {
    // 40 ensemble cells, each active by chance with p = 0.11 (2 Hz over 60 ms): the
    // binomial threshold at 0.001 is 12 cells.
    let ens = vec![true; 40];
    let rule = SizeRule {
        min_fraction: 0.25,
        spontaneous_p: 0.11,
        alpha: 0.001,
    };
    let threshold = binomial_threshold(40, 0.11, 0.001).unwrap();
    assert_eq!(threshold, 12);
    let active = |k: usize| -> Vec<f64> { (0..40).map(|i| f64::from(u8::from(i < k))).collect() };
    // 10 cells reach the minimum fraction but not the noise threshold: silent.
    assert_eq!(
        recall_size(&active(10), &ens, &rule).unwrap(),
        (10, RecallSize::Silent)
    );
    assert_eq!(
        recall_size(&active(12), &ens, &rule).unwrap(),
        (12, RecallSize::Full)
    );
    // A low minimum fraction: above the noise but below the minimum is weak.
    let rule = SizeRule {
        min_fraction: 0.5,
        ..rule
    };
    assert_eq!(
        recall_size(&active(12), &ens, &rule).unwrap(),
        (12, RecallSize::Weak)
    );
}

#[test]
fn identification_needs_the_best_match_and_the_minimum_size() {
    // Ensembles of 8 cells each, disjoint; counts while encoding are the ensembles.
    let encoded: Vec<Vec<f64>> = (0..3)
        .map(|m| (0..24).map(|i| f64::from(u8::from(i / 8 == m))).collect())
        .collect();
    let ensembles: Vec<Vec<bool>> = encoded
        .iter()
        .map(|e| ensemble(e, 0.0, 0.001).unwrap())
        .collect();
    let mut recalled = vec![vec![0.0; 24]; 3];
    // Recall 0: the whole ensemble. Recall 1: two spikes in one of its cells (best match,
    // but 1 cell of 8). Recall 2: silent.
    recalled[0][..8].fill(1.0);
    recalled[1][9] = 2.0;
    let judged = LayerRecall::judge(&recalled, &encoded, &ensembles, &quiet(0.25)).unwrap();
    assert_eq!(judged.best_match, [true, true, false]);
    assert_eq!(judged.active, [8, 1, 0]);
    assert_eq!(
        judged.size,
        [RecallSize::Full, RecallSize::Weak, RecallSize::Silent]
    );
    assert_eq!(judged.identified, [true, false, false]);
    assert_abs_diff_eq!(judged.accuracy(), 1.0 / 3.0);
    assert_abs_diff_eq!(judged.best_match_accuracy(), 2.0 / 3.0);
    assert_eq!(judged.count(RecallSize::Weak), 1);
    assert_eq!(judged.count(RecallSize::Silent), 1);
    // Recall 1 at the threshold (2 of 8 cells) is identified.
    recalled[1][10] = 1.0;
    let judged = LayerRecall::judge(&recalled, &encoded, &ensembles, &quiet(0.25)).unwrap();
    assert_eq!(judged.identified, [true, true, false]);
    assert!(LayerRecall::judge(&recalled[..2], &encoded, &ensembles, &quiet(0.25)).is_err());
}

#[test]
fn fidelity_mean_and_minimum_with_its_memory() {
    let encoded = vec![
        vec![1.0, 0.0, 0.0, 0.0],
        vec![0.0, 1.0, 0.0, 0.0],
        vec![0.0, 0.0, 1.0, 1.0],
    ];
    // Recall 1 is anti-correlated with its memory; recall 0 and 2 are perfect.
    let recalled = vec![
        vec![2.0, 0.0, 0.0, 0.0],
        vec![1.0, 0.0, 1.0, 1.0],
        vec![0.0, 0.0, 3.0, 3.0],
    ];
    let ens: Vec<Vec<bool>> = encoded
        .iter()
        .map(|e| e.iter().map(|&x| x > 0.0).collect())
        .collect();
    let judged = LayerRecall::judge(&recalled, &encoded, &ens, &quiet(0.25)).unwrap();
    let f = judged.fidelity();
    assert_abs_diff_eq!(f[0], 1.0, epsilon = 1e-12);
    assert_abs_diff_eq!(f[1], -1.0, epsilon = 1e-12);
    assert_abs_diff_eq!(f[2], 1.0, epsilon = 1e-12);
    assert_abs_diff_eq!(judged.fidelity_mean(), 1.0 / 3.0, epsilon = 1e-12);
    let (min, worst) = judged.fidelity_min();
    assert_abs_diff_eq!(min, -1.0, epsilon = 1e-12);
    assert_eq!(worst, 1);
}

#[test]
fn overlap_between_memories_on_hand_made_sets() {
    // A = {0, 1, 2, 3}, B = {2, 3, 4, 5}, C = {6, 7}: J(A, B) = 2/6, J(A, C) = J(B, C) = 0.
    let set = |cells: &[usize]| -> Vec<bool> { (0..8).map(|i| cells.contains(&i)).collect() };
    let sets = vec![set(&[0, 1, 2, 3]), set(&[2, 3, 4, 5]), set(&[6, 7])];
    let mean = mean_pairwise_jaccard(&sets).unwrap().unwrap();
    assert_abs_diff_eq!(mean, (2.0 / 6.0) / 3.0, epsilon = 1e-15);
    assert_eq!(mean_pairwise_jaccard(&sets[..1]).unwrap(), None);
    assert!(mean_pairwise_jaccard(&[set(&[0]), vec![true; 3]]).is_err());
}

#[test]
fn latency_onset_is_the_step_under_poisson_background() {
    // Background of 0.8 spikes per bin (400 cells at 2 Hz, 1 ms bins), 58 bins; from bin
    // 20 on the population adds 15 spikes per bin. Every seed finds bin 20.
    for seed in 0..50 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let counts: Vec<f64> = (0..58)
            .map(|k| poisson_draw(&mut rng, 0.8) + if k >= 20 { 15.0 } else { 0.0 })
            .collect();
        assert_eq!(
            onset_bin(&counts, 0.8, 0.001).unwrap(),
            Some(20),
            "seed {seed}"
        );
    }
    // A silent baseline: the first spike is the onset; none at all: None.
    assert_eq!(
        onset_bin(&[0.0, 0.0, 1.0, 0.0], 0.0, 0.001).unwrap(),
        Some(2)
    );
    assert_eq!(onset_bin(&[0.0; 4], 0.0, 0.001).unwrap(), None);
    assert_eq!(onset_bin(&[], 0.8, 0.001).unwrap(), None);
    assert!(onset_bin(&[f64::NAN], 0.8, 0.001).is_err());
}

#[test]
fn pure_background_gives_no_onset_but_at_the_documented_rate() {
    // The Bonferroni rule bounds the fraction of background-only windows with an onset by
    // alpha (Poisson counts are discrete, so the rate is below it). 20 000 windows of 58
    // bins at 0.8 spikes per bin, alpha 0.05 (to see the rate) and 0.001.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let trials = 20_000;
    let (mut hits_05, mut hits_001) = (0, 0);
    for _ in 0..trials {
        let counts: Vec<f64> = (0..58).map(|_| poisson_draw(&mut rng, 0.8)).collect();
        hits_05 += usize::from(onset_bin(&counts, 0.8, 0.05).unwrap().is_some());
        hits_001 += usize::from(onset_bin(&counts, 0.8, 0.001).unwrap().is_some());
    }
    let rate_05 = hits_05 as f64 / trials as f64;
    let rate_001 = hits_001 as f64 / trials as f64;
    // Binomial standard error at 0.05 is 0.0015: allow 3 of them above the bound.
    assert!(rate_05 <= 0.05 + 0.0046, "{rate_05}");
    // The bound is not vacuous: the rule does fire on background at a visible rate.
    assert!(rate_05 > 0.005, "{rate_05}");
    assert!(rate_001 <= 0.001 + 0.0007, "{rate_001}");
}

// ---------------------------------------------------------------- summary

fn latencies() -> Vec<PopulationLatency> {
    ["mtl", "cortex", "sensory"]
        .iter()
        .zip([2.0, 4.5, 7.25])
        .map(|(p, ms)| PopulationLatency::from_onsets(p, &[Some(ms)], 0.0, None))
        .collect()
}

/// The summary with ensembles taken as every cell that fired while encoding (no
/// spontaneous activity) and the default minimum fraction.
fn summary(
    recalled: &[Vec<f64>],
    encoded: &[Vec<f64>],
    latency_ms: Vec<PopulationLatency>,
    naming: Option<&[Vec<f64>]>,
) -> Result<RecallSummary, MetricError> {
    let ensembles: Vec<Vec<bool>> = encoded
        .iter()
        .map(|e| e.iter().map(|&x| x > 0.0).collect())
        .collect();
    RecallSummary::compute(
        recalled,
        encoded,
        &ensembles,
        &quiet(0.25),
        latency_ms,
        naming,
    )
}

#[test]
fn summary_of_a_perfect_recall() {
    let encoded = vec![
        vec![3.0, 0.0, 0.0, 2.0, 0.0, 0.0],
        vec![0.0, 4.0, 0.0, 0.0, 1.0, 0.0],
        vec![0.0, 0.0, 5.0, 0.0, 0.0, 2.0],
    ];
    let naming = vec![
        vec![9.0, 0.0, 1.0],
        vec![0.0, 7.0, 0.0],
        vec![3.0, 3.0, 0.0],
    ];
    let s = summary(&encoded, &encoded, latencies(), Some(&naming)).unwrap();
    assert_eq!(s.n_memories, 3);
    assert_eq!(s.identification_accuracy, 1.0);
    assert_abs_diff_eq!(s.sensory.fidelity_mean(), 1.0, epsilon = 1e-12);
    assert_abs_diff_eq!(s.fidelity_cosine_mean, 1.0, epsilon = 1e-12);
    assert_eq!(s.jaccard_mean, 1.0);
    // Disjoint ensembles: no overlap between memories, nor with the others' ensembles.
    assert_eq!(s.jaccard_between_memories, Some(0.0));
    assert_eq!(s.jaccard_recalled_vs_others, Some(0.0));
    // Two active cells of six, twice: E[J] for k1 = k2 = 2, n = 6.
    // P(X = 0, 1, 2) = 6/15, 8/15, 1/15: E[J] = 8/15 * 1/3 + 1/15 = 11/45.
    assert_abs_diff_eq!(s.jaccard_chance, 11.0 / 45.0, epsilon = 1e-14);
    // Specificity: 1 minus the mean off-diagonal correlation, averaged over rows.
    let mut want = 0.0;
    for i in 0..3 {
        let others: f64 = (0..3)
            .filter(|&j| j != i)
            .map(|j| pearson(&encoded[i], &encoded[j]).unwrap())
            .sum();
        want += (1.0 - others / 2.0) / 3.0;
    }
    assert!(want > 1.0);
    assert_abs_diff_eq!(s.specificity_mean.unwrap(), want, epsilon = 1e-12);
    assert!(s.latency_ordered);
    assert_eq!(s.latency_ordered_below_pointer, Some(true));
    assert_abs_diff_eq!(s.naming_accuracy.unwrap(), 2.0 / 3.0);
}

#[test]
fn summary_of_a_silent_recall_scores_zero() {
    let encoded = vec![vec![1.0, 0.0, 1.0, 0.0], vec![0.0, 1.0, 0.0, 1.0]];
    let silent = vec![vec![0.0; 4]; 2];
    let mut lat = latencies();
    lat[2] = PopulationLatency::from_onsets("sensory", &[None], 0.0, None);
    let s = summary(&silent, &encoded, lat, None).unwrap();
    assert_eq!(s.identification_accuracy, 0.0);
    assert_eq!(s.sensory.count(RecallSize::Silent), 2);
    assert_eq!(s.sensory.fidelity_mean(), 0.0);
    assert_eq!(s.fidelity_cosine_mean, 0.0);
    assert_eq!(s.specificity_mean, Some(0.0));
    assert_eq!(s.jaccard_mean, 0.0);
    assert_eq!(s.jaccard_chance, 0.0);
    assert!(!s.latency_ordered);
    assert_eq!(s.latency_ordered_below_pointer, Some(false));
    assert_eq!(s.naming_accuracy, None);
}

#[test]
fn summary_counts_a_weak_best_match_as_a_failure() {
    // Ensembles of 8 cells; recall 0 reinstates 1 cell of its ensemble (2 spikes) and
    // nothing else: its fidelity row peaks at memory 0, but it is weak.
    let encoded: Vec<Vec<f64>> = (0..2)
        .map(|m| (0..16).map(|i| f64::from(u8::from(i / 8 == m))).collect())
        .collect();
    let mut recalled = encoded.clone();
    recalled[0] = vec![0.0; 16];
    recalled[0][0] = 2.0;
    let s = summary(&recalled, &encoded, vec![], None).unwrap();
    assert_eq!(s.sensory.best_match, [true, true]);
    assert_eq!(s.sensory.size, [RecallSize::Weak, RecallSize::Full]);
    assert_abs_diff_eq!(s.identification_accuracy, 0.5);
}

#[test]
fn summary_with_one_memory_and_bad_input() {
    let one = vec![vec![1.0, 0.0, 2.0]];
    let s = summary(&one, &one, vec![], None).unwrap();
    assert_eq!(s.specificity_mean, None);
    assert_eq!(s.jaccard_between_memories, None);
    assert_eq!(s.identification_accuracy, 1.0);
    assert!(!s.latency_ordered);
    assert_eq!(s.latency_ordered_below_pointer, None);

    let e = summary(&[], &[], vec![], None).unwrap_err();
    assert_eq!(e.to_string(), "encoded: needs at least one memory");
    let e = summary(&one, &[one[0].clone(), one[0].clone()], vec![], None).unwrap_err();
    assert!(
        e.to_string().starts_with("recalled: length 1, expected 2"),
        "{e}"
    );
    let e = summary(&one, &one, vec![], Some(&[])).unwrap_err();
    assert_eq!(e.to_string(), "counts: has no rows");
}

#[cfg(feature = "serde")]
#[test]
fn summary_json_has_recall_and_naming_sections() {
    let encoded = vec![vec![1.0, 0.0, 1.0, 0.0], vec![0.0, 1.0, 0.0, 1.0]];
    let naming = vec![vec![3.0, 0.0], vec![0.0, 2.0]];
    let mut lat = latencies();
    lat[1] = PopulationLatency::from_onsets("cortex", &[None], 0.0, None);
    let s = summary(&encoded, &encoded, lat, Some(&naming)).unwrap();
    let json = serde_json::to_value(&s).unwrap();
    let recall = &json["recall"];
    assert_eq!(recall["n_memories"], 2);
    assert_eq!(recall["identification_accuracy"], 1.0);
    assert_eq!(recall["identified"], 2);
    assert_eq!(recall["weak"], 0);
    assert_eq!(recall["silent"], 0);
    for key in [
        "fidelity_mean",
        "fidelity_min",
        "fidelity_cosine_mean",
        "specificity_mean",
        "jaccard_mean",
        "jaccard_between_memories",
        "jaccard_chance",
        "min_recall_fraction",
        "best_match_accuracy",
    ] {
        assert!(recall[key].is_f64(), "{key}: {json}");
    }
    assert_eq!(recall["fidelity_min_memory"], 0);
    assert_eq!(recall["latency_ms"][0]["population"], "mtl");
    assert_eq!(recall["latency_ms"][0]["mean_ms"], 2.0);
    assert_eq!(recall["latency_ms"][0]["found"], 1);
    assert!(recall["latency_ms"][1]["mean_ms"].is_null());
    assert_eq!(recall["latency_ms"][1]["found"], 0);
    assert_eq!(recall["latency_ordered"], false);
    assert_eq!(recall["per_memory"]["size"][0], "full");
    assert_eq!(recall["per_memory"]["identified"][1], true);
    assert!(recall.get("naming_accuracy").is_none());
    assert_eq!(json["naming"]["accuracy"], 1.0);

    let without = summary(&encoded, &encoded, vec![], None).unwrap();
    assert!(serde_json::to_value(&without).unwrap()["naming"].is_null());
}

#[test]
fn summary_prints_one_metric_per_line() {
    let encoded = vec![vec![1.0, 0.0, 1.0, 0.0], vec![0.0, 1.0, 0.0, 1.0]];
    let naming = vec![vec![3.0, 0.0], vec![0.0, 2.0]];
    let s = summary(&encoded, &encoded, latencies(), Some(&naming)).unwrap();
    let text = s.to_string();
    assert_eq!(text.lines().count(), 7, "{text}");
    assert!(
        text.starts_with(
            "identification accuracy  1.000  (2 memories, chance 0.500; 2 identified, 0 weak, \
             0 silent; minimum 0.25 of the ensemble)"
        ),
        "{text}"
    );
    assert!(
        text.contains("(between memories 0.000, random sets"),
        "{text}"
    );
    assert!(
        text.contains("mtl 2.00 (1/1) -> cortex 4.50 (1/1) -> sensory 7.25 (1/1)  (ordered)"),
        "{text}"
    );
    assert!(text.ends_with("naming accuracy          1.000"), "{text}");
}

// ---------------------------------------------------------------- content cues

#[test]
fn completion_counts_uncued_pattern_cells_only() {
    // Six cells; the pattern is cells 0-3, the cue presented cells 0 and 1.
    let pattern = vec![true, true, true, true, false, false];
    let cued = vec![true, true, false, false, false, false];
    // Cued cells fire hard (driven by the stimulus), one uncued cell fires 3 spikes, the
    // other 1; outside the pattern one cell fires 5 spikes.
    let recalled = vec![vec![9.0, 9.0, 3.0, 1.0, 5.0, 0.0]];
    let (patterns, cues) = (vec![pattern.clone()], vec![cued.clone()]);
    let c = Completion::compute(&recalled, &patterns, &cues, 2).unwrap();
    assert_eq!(c.cued, vec![2]);
    assert_eq!(c.cued_fired, vec![2]);
    assert_eq!(c.uncued, vec![2]);
    assert_eq!(c.completed, vec![1]);
    assert_eq!(c.outside, vec![2]);
    assert_eq!(c.false_fired, vec![1]);
    assert_eq!(c.completion(), vec![Some(0.5)]);
    assert_eq!(c.false_completion(), vec![Some(0.5)]);
    assert_eq!(c.cued_fired_fraction(), vec![Some(1.0)]);
    // With the one-spike rule the weak uncued cell counts too.
    let any = Completion::compute(&recalled, &patterns, &cues, 1).unwrap();
    assert_eq!(any.completion(), vec![Some(1.0)]);
    // The cued cells never count: silent uncued cells give 0 however hard the cue fires.
    let driven_only = vec![vec![50.0, 50.0, 0.0, 0.0, 0.0, 0.0]];
    let c = Completion::compute(&driven_only, &patterns, &cues, 1).unwrap();
    assert_eq!(c.completion(), vec![Some(0.0)]);
    // A cue of the whole pattern leaves nothing to complete.
    let c = Completion::compute(&driven_only, &patterns, &patterns, 1).unwrap();
    assert_eq!(c.completion(), vec![None]);
    assert_eq!(mean_of_some(&c.completion()), None);
    // Bad input is an error naming the argument.
    let e = Completion::compute(&recalled, &patterns, &[vec![false; 5]], 1).unwrap_err();
    assert!(e.to_string().starts_with("cued[0]: length 5"), "{e}");
    let outside = vec![false, false, false, false, true, false];
    let e = Completion::compute(&recalled, &[pattern], &[outside], 1).unwrap_err();
    assert!(
        e.to_string()
            .contains("cell 4 is cued but not in the pattern"),
        "{e}"
    );
}

#[test]
fn means_and_extremes_skip_missing_values() {
    let v = [Some(0.5), None, Some(0.25), Some(0.25)];
    assert_eq!(mean_of_some(&v), Some(1.0 / 3.0));
    assert_eq!(extreme_of_some(&v, false), Some((0.25, 2)));
    assert_eq!(extreme_of_some(&v, true), Some((0.5, 0)));
    assert_eq!(extreme_of_some(&[None], true), None);
}
