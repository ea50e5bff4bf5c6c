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

// ---------------------------------------------------------------- summary

fn latencies() -> Vec<PopulationLatency> {
    ["mtl", "cortex", "sensory"]
        .iter()
        .zip([2.0, 4.5, 7.25])
        .map(|(p, ms)| PopulationLatency {
            population: (*p).to_owned(),
            ms: Some(ms),
        })
        .collect()
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
    let s = RecallSummary::compute(&encoded, &encoded, latencies(), Some(&naming)).unwrap();
    assert_eq!(s.n_memories, 3);
    assert_eq!(s.identification_accuracy, 1.0);
    assert_abs_diff_eq!(s.fidelity_mean, 1.0, epsilon = 1e-12);
    assert_abs_diff_eq!(s.fidelity_cosine_mean, 1.0, epsilon = 1e-12);
    assert_eq!(s.jaccard_mean, 1.0);
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
    assert_abs_diff_eq!(s.naming_accuracy.unwrap(), 2.0 / 3.0);
}

#[test]
fn summary_of_a_silent_recall_scores_zero() {
    let encoded = vec![vec![1.0, 0.0, 1.0, 0.0], vec![0.0, 1.0, 0.0, 1.0]];
    let silent = vec![vec![0.0; 4]; 2];
    let mut lat = latencies();
    lat[2].ms = None;
    let s = RecallSummary::compute(&silent, &encoded, lat, None).unwrap();
    assert_eq!(s.identification_accuracy, 0.0);
    assert_eq!(s.fidelity_mean, 0.0);
    assert_eq!(s.fidelity_cosine_mean, 0.0);
    assert_eq!(s.specificity_mean, Some(0.0));
    assert_eq!(s.jaccard_mean, 0.0);
    assert_eq!(s.jaccard_chance, 0.0);
    assert!(!s.latency_ordered);
    assert_eq!(s.naming_accuracy, None);
}

#[test]
fn summary_with_one_memory_and_bad_input() {
    let one = vec![vec![1.0, 0.0, 2.0]];
    let s = RecallSummary::compute(&one, &one, vec![], None).unwrap();
    assert_eq!(s.specificity_mean, None);
    assert_eq!(s.identification_accuracy, 1.0);
    assert!(!s.latency_ordered);

    let e = RecallSummary::compute(&[], &[], vec![], None).unwrap_err();
    assert_eq!(e.to_string(), "encoded: needs at least one memory");
    let e =
        RecallSummary::compute(&one, &[one[0].clone(), one[0].clone()], vec![], None).unwrap_err();
    assert!(
        e.to_string().starts_with("recalled: length 1, expected 2"),
        "{e}"
    );
    let e = RecallSummary::compute(&one, &one, vec![], Some(&[])).unwrap_err();
    assert_eq!(e.to_string(), "counts: has no rows");
}

#[cfg(feature = "serde")]
#[test]
fn summary_json_has_recall_and_naming_sections() {
    let encoded = vec![vec![1.0, 0.0, 1.0, 0.0], vec![0.0, 1.0, 0.0, 1.0]];
    let naming = vec![vec![3.0, 0.0], vec![0.0, 2.0]];
    let mut lat = latencies();
    lat[1].ms = None;
    let s = RecallSummary::compute(&encoded, &encoded, lat, Some(&naming)).unwrap();
    let json = serde_json::to_value(&s).unwrap();
    let recall = &json["recall"];
    assert_eq!(recall["n_memories"], 2);
    assert_eq!(recall["identification_accuracy"], 1.0);
    for key in [
        "fidelity_mean",
        "fidelity_cosine_mean",
        "specificity_mean",
        "jaccard_mean",
        "jaccard_chance",
    ] {
        assert!(recall[key].is_f64(), "{key}: {json}");
    }
    assert_eq!(recall["latency_ms"][0]["population"], "mtl");
    assert_eq!(recall["latency_ms"][0]["ms"], 2.0);
    assert!(recall["latency_ms"][1]["ms"].is_null());
    assert_eq!(recall["latency_ordered"], false);
    assert!(recall.get("naming_accuracy").is_none());
    assert_eq!(json["naming"]["accuracy"], 1.0);

    let without = RecallSummary::compute(&encoded, &encoded, vec![], None).unwrap();
    assert!(serde_json::to_value(&without).unwrap()["naming"].is_null());
}

#[test]
fn summary_prints_one_metric_per_line() {
    let encoded = vec![vec![1.0, 0.0, 1.0, 0.0], vec![0.0, 1.0, 0.0, 1.0]];
    let naming = vec![vec![3.0, 0.0], vec![0.0, 2.0]];
    let s = RecallSummary::compute(&encoded, &encoded, latencies(), Some(&naming)).unwrap();
    let text = s.to_string();
    assert_eq!(text.lines().count(), 7, "{text}");
    assert!(text.starts_with("identification accuracy  1.000  (2 memories, chance 0.500)"));
    assert!(
        text.contains("mtl 2.00 -> cortex 4.50 -> sensory 7.25  (ordered)"),
        "{text}"
    );
    assert!(text.ends_with("naming accuracy          1.000"), "{text}");
}
