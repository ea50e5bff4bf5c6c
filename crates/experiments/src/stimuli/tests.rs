use approx::assert_abs_diff_eq;

use super::*;

fn count_shared(a: &Pattern, b: &Pattern) -> usize {
    a.intensities()
        .iter()
        .zip(b.intensities())
        .filter(|(x, y)| **x > 0.0 && **y > 0.0)
        .count()
}

// ---------------------------------------------------------------- Pattern

#[test]
fn pattern_new_checks_values_and_shape() {
    let p = Pattern::new(vec![0.0, 0.5, 1.0, 0.25], Some((2, 2))).unwrap();
    assert_eq!(p.len(), 4);
    assert!(!p.is_empty());
    assert_eq!(p.shape(), Some((2, 2)));
    assert_eq!(p.active(), vec![1, 2, 3]);
    assert_eq!(p.n_active(), 3);
    assert_eq!(
        p.binarized(0.5).unwrap().intensities(),
        &[0.0, 1.0, 1.0, 0.0]
    );

    let e = Pattern::new(vec![], None).unwrap_err();
    assert_eq!(e.field(), "pattern.intensities");
    let e = Pattern::new(vec![0.0, 1.5], None).unwrap_err();
    assert!(e.to_string().contains("cell 1 is 1.5"), "{e}");
    let e = Pattern::new(vec![f64::NAN], None).unwrap_err();
    assert_eq!(e.field(), "pattern.intensities");
    let e = Pattern::new(vec![0.0; 5], Some((2, 2))).unwrap_err();
    assert_eq!(e.field(), "pattern.shape");
    let e = Pattern::new(vec![0.0; 4], Some((usize::MAX, 2))).unwrap_err();
    assert_eq!(e.field(), "pattern.shape");
    for t in [0.0, 1.1, f64::NAN] {
        assert_eq!(p.binarized(t).unwrap_err().field(), "stimuli.threshold");
    }
}

// ---------------------------------------------------------------- random patterns

#[test]
fn random_patterns_have_the_asked_size_and_are_binary() {
    let ps = random_patterns(400, 12, 40, 0.3, 7).unwrap();
    assert_eq!(ps.len(), 12);
    for p in &ps {
        assert_eq!(p.len(), 400);
        assert_eq!(p.shape(), None);
        assert_eq!(p.n_active(), 40);
        assert!(p.intensities().iter().all(|&v| v == 0.0 || v == 1.0));
    }
}

#[test]
fn random_patterns_are_deterministic_and_prefix_stable() {
    let a = random_patterns(200, 5, 20, 0.5, 42).unwrap();
    let b = random_patterns(200, 5, 20, 0.5, 42).unwrap();
    assert_eq!(a, b);
    let longer = random_patterns(200, 8, 20, 0.5, 42).unwrap();
    assert_eq!(&longer[..5], &a[..]);
    let other = random_patterns(200, 5, 20, 0.5, 43).unwrap();
    assert_ne!(a, other);
}

#[test]
fn full_patterns_are_allowed() {
    let ps = random_patterns(10, 3, 10, 0.9, 1).unwrap();
    assert!(ps.iter().all(|p| p.n_active() == 10));
}

/// Mean pairwise shared fraction of a set of patterns.
fn mean_pair_shared(ps: &[Pattern], active: usize) -> f64 {
    let (mut sum, mut pairs) = (0.0, 0);
    for i in 0..ps.len() {
        for j in i + 1..ps.len() {
            sum += count_shared(&ps[i], &ps[j]) as f64 / active as f64;
            pairs += 1;
        }
    }
    sum / pairs as f64
}

#[test]
fn overlap_zero_gives_chance_overlap() {
    // Independent draws: two patterns share active / n of their cells on average.
    let (n, active) = (400, 40);
    let ps = random_patterns(n, 60, active, 0.0, 3).unwrap();
    let shared = mean_pair_shared(&ps, active);
    assert_abs_diff_eq!(shared, active as f64 / n as f64, epsilon = 0.01);
}

#[test]
fn overlap_statistics_match_the_model() {
    let (n, active) = (400, 40);
    for overlap in [0.25, 0.5, 0.8] {
        let ps = random_patterns(n, 60, active, overlap, 11).unwrap();
        // The prototype is the set of cells in the most patterns: with overlap >= 0.25
        // every prototype cell is in >= 25 % of patterns, others in about 10 %.
        let mut usage = vec![0usize; n];
        for p in &ps {
            for i in p.active() {
                usage[i] += 1;
            }
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| usage[b].cmp(&usage[a]));
        let mut prototype = vec![false; n];
        for &i in &order[..active] {
            prototype[i] = true;
        }
        let inside: f64 = ps
            .iter()
            .map(|p| p.active().iter().filter(|&&i| prototype[i]).count() as f64)
            .sum::<f64>()
            / (ps.len() * active) as f64;
        // The model's exact expectations (m = overlap * active is an integer here).
        let (a, n) = (active as f64, n as f64);
        let m = overlap * a;
        let q_p = m / a + (1.0 - m / a) * (a - m) / (n - m);
        let q_o = (a - m) / (n - m);
        assert_abs_diff_eq!(inside, q_p, epsilon = 0.02);

        let pair = mean_pair_shared(&ps, active);
        let pair_expected = (a * q_p * q_p + (n - a) * q_o * q_o) / a;
        assert_abs_diff_eq!(pair, pair_expected, epsilon = 0.02);
    }
}

#[test]
fn overlap_copies_nearly_the_same_count_into_every_pattern() {
    // overlap * active = 10.5: every pattern takes 10 or 11 prototype cells, so with a
    // small population of 1000 the number in the most-used 21 cells stays in a band.
    let ps = random_patterns(1000, 40, 21, 0.5, 5).unwrap();
    let mut usage = vec![0usize; 1000];
    for p in &ps {
        for i in p.active() {
            usage[i] += 1;
        }
    }
    let mut order: Vec<usize> = (0..1000).collect();
    order.sort_by(|&a, &b| usage[b].cmp(&usage[a]));
    let top: Vec<usize> = order[..21].to_vec();
    for p in &ps {
        let k = p.active().iter().filter(|i| top.contains(i)).count();
        assert!((10..=13).contains(&k), "{k} prototype cells");
    }
}

#[test]
fn random_patterns_reject_bad_parameters() {
    let cases = [
        (random_patterns(0, 1, 1, 0.0, 0), "stimuli.n_sensory"),
        (random_patterns(10, 0, 1, 0.0, 0), "stimuli.n_memories"),
        (random_patterns(10, 1, 0, 0.0, 0), "stimuli.active"),
        (random_patterns(10, 1, 11, 0.0, 0), "stimuli.active"),
        (random_patterns(10, 1, 5, 1.0, 0), "stimuli.overlap"),
        (random_patterns(10, 1, 5, -0.1, 0), "stimuli.overlap"),
        (random_patterns(10, 1, 5, f64::NAN, 0), "stimuli.overlap"),
    ];
    for (result, field) in cases {
        let e = result.unwrap_err();
        assert_eq!(e.field(), field);
        assert!(e.to_string().starts_with(field), "{e}");
    }
}

// ---------------------------------------------------------------- bars

fn at(p: &Pattern, x: usize, y: usize) -> f64 {
    let (w, _) = p.shape().unwrap();
    p.intensities()[y * w + x]
}

#[test]
fn bars_rotate_from_horizontal_through_vertical() {
    let bars = bar_patterns(16, 16, 4, 2.0).unwrap();
    assert_eq!(bars.len(), 4);
    let (h, diag, v, anti) = (&bars[0], &bars[1], &bars[2], &bars[3]);
    // 0 degrees: rows 7 and 8 fully on, everything else off.
    for y in 0..16 {
        for x in 0..16 {
            let want = if y == 7 || y == 8 { 1.0 } else { 0.0 };
            assert_eq!(at(h, x, y), want, "horizontal at ({x}, {y})");
        }
    }
    // 90 degrees: the transpose.
    for y in 0..16 {
        for x in 0..16 {
            assert_abs_diff_eq!(at(v, x, y), at(h, y, x), epsilon = 1e-12);
        }
    }
    // 45 degrees rises to the right (row 0 is the top): top-right and bottom-left lit.
    assert!(at(diag, 12, 3) > 0.9 && at(diag, 3, 12) > 0.9);
    assert!(at(diag, 3, 3) == 0.0 && at(diag, 12, 12) == 0.0);
    // 135 degrees is its mirror image.
    for y in 0..16 {
        for x in 0..16 {
            assert_abs_diff_eq!(at(anti, x, y), at(diag, 15 - x, y), epsilon = 1e-12);
        }
    }
}

#[test]
fn bars_are_distinct_and_have_similar_area() {
    let bars = bar_patterns(20, 20, 8, 3.0).unwrap();
    let mass: Vec<f64> = bars.iter().map(|b| b.intensities().iter().sum()).collect();
    let mean = mass.iter().sum::<f64>() / mass.len() as f64;
    for m in &mass {
        assert!((m - mean).abs() / mean < 0.1, "areas {mass:?}");
    }
    for i in 0..bars.len() {
        for j in i + 1..bars.len() {
            let (a, b) = (bars[i].intensities(), bars[j].intensities());
            let diff: f64 = a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum();
            assert!(diff > 0.2 * mean, "bars {i} and {j} are too alike ({diff})");
        }
    }
    // Graded edges: some values strictly between 0 and 1 at an oblique angle.
    assert!(bars[1].intensities().iter().any(|&v| v > 0.0 && v < 1.0));
    assert!(
        bars.iter()
            .flat_map(|b| b.intensities())
            .all(|v| (0.0..=1.0).contains(v))
    );
}

#[test]
fn bars_on_a_rectangle_and_binarized() {
    let bars = bar_patterns(30, 10, 3, 1.0).unwrap();
    for b in &bars {
        assert_eq!(b.shape(), Some((30, 10)));
        assert_eq!(b.len(), 300);
        let bin = b.binarized(0.5).unwrap();
        assert!(bin.n_active() >= 8, "{}", bin.n_active());
        assert!(bin.intensities().iter().all(|&v| v == 0.0 || v == 1.0));
    }
}

#[test]
fn bars_reject_bad_parameters() {
    let cases = [
        (bar_patterns(0, 4, 1, 1.0), "stimuli.width"),
        (bar_patterns(4, 0, 1, 1.0), "stimuli.height"),
        (bar_patterns(4, 4, 0, 1.0), "stimuli.n_memories"),
        (bar_patterns(4, 4, 1, 0.0), "stimuli.thickness"),
        (bar_patterns(4, 4, 1, f64::INFINITY), "stimuli.thickness"),
        (bar_patterns(usize::MAX, 2, 1, 1.0), "stimuli.width"),
    ];
    for (result, field) in cases {
        assert_eq!(result.unwrap_err().field(), field);
    }
}

// ---------------------------------------------------------------- encodings

#[test]
fn normalized_rates_sum_to_the_total_whatever_the_size_and_ink() {
    // A 4-cell pattern with ink 0.5 + 1.5 = 2 and a 16-cell one with ink 4: both sum to
    // the total above the background.
    let small = Pattern::new(vec![0.0, 0.5, 1.0, 0.5], None).unwrap();
    assert_eq!(
        normalized_rates(&small, 400.0, 1000.0, 0.0).unwrap(),
        vec![0.0, 100.0, 200.0, 100.0]
    );
    let large = Pattern::new([vec![1.0; 4], vec![0.0; 12]].concat(), None).unwrap();
    let r = normalized_rates(&large, 400.0, 1000.0, 2.0).unwrap();
    assert_eq!(&r[..5], &[102.0, 102.0, 102.0, 102.0, 2.0]);
    assert_eq!(r.iter().map(|x| x - 2.0).sum::<f64>(), 400.0);
    // The cap cuts a lone bright cell; a dark pattern gives the background.
    let lone = Pattern::new(vec![0.0, 1.0], None).unwrap();
    assert_eq!(
        normalized_rates(&lone, 400.0, 150.0, 0.0).unwrap(),
        vec![0.0, 150.0]
    );
    let dark = Pattern::new(vec![0.0; 3], None).unwrap();
    assert_eq!(
        normalized_rates(&dark, 400.0, 150.0, 1.0).unwrap(),
        vec![1.0; 3]
    );
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = normalized_rates(&small, bad, 100.0, 0.0).unwrap_err();
        assert_eq!(e.field(), "stimuli.total_rate_hz");
    }
    let e = normalized_rates(&small, 400.0, 10.0, 20.0).unwrap_err();
    assert_eq!(e.field(), "stimuli.max_rate_hz");
}

#[test]
fn poisson_rates_are_linear_in_intensity() {
    let p = Pattern::new(vec![0.0, 0.25, 1.0], None).unwrap();
    assert_eq!(
        poisson_rates(&p, 100.0, 0.0).unwrap(),
        vec![0.0, 25.0, 100.0]
    );
    assert_eq!(
        poisson_rates(&p, 100.0, 20.0).unwrap(),
        vec![20.0, 40.0, 100.0]
    );
    assert_eq!(poisson_rates(&p, 5.0, 5.0).unwrap(), vec![5.0; 3]);
    let cases = [
        (poisson_rates(&p, 100.0, -1.0), "stimuli.min_rate_hz"),
        (poisson_rates(&p, 100.0, f64::NAN), "stimuli.min_rate_hz"),
        (poisson_rates(&p, 10.0, 20.0), "stimuli.max_rate_hz"),
        (poisson_rates(&p, f64::INFINITY, 0.0), "stimuli.max_rate_hz"),
    ];
    for (result, field) in cases {
        assert_eq!(result.unwrap_err().field(), field);
    }
}

#[test]
fn rank_order_latencies_put_brighter_cells_first() {
    let p = Pattern::new(vec![0.2, 0.0, 1.0, 0.5, 0.5], None).unwrap();
    let lat = rank_order_latencies(&p, 8.0).unwrap();
    // Four active cells: 1.0 has rank 0, the two 0.5 share rank 1, 0.2 has rank 3.
    assert_eq!(lat, vec![Some(6.0), None, Some(0.0), Some(2.0), Some(2.0)]);

    let binary = Pattern::new(vec![1.0, 0.0, 1.0], None).unwrap();
    assert_eq!(
        rank_order_latencies(&binary, 5.0).unwrap(),
        vec![Some(0.0), None, Some(0.0)]
    );
    let silent = Pattern::new(vec![0.0; 3], None).unwrap();
    assert_eq!(rank_order_latencies(&silent, 5.0).unwrap(), vec![None; 3]);
    for w in [0.0, -1.0, f64::NAN] {
        assert_eq!(
            rank_order_latencies(&p, w).unwrap_err().field(),
            "stimuli.window_ms"
        );
    }
}

#[test]
fn latencies_of_an_image_lie_in_the_window_and_follow_brightness() {
    let bars = bar_patterns(12, 12, 3, 2.0).unwrap();
    let p = &bars[1];
    let lat = rank_order_latencies(p, 10.0).unwrap();
    let v = p.intensities();
    for i in 0..v.len() {
        match lat[i] {
            None => assert_eq!(v[i], 0.0),
            Some(t) => assert!((0.0..10.0).contains(&t)),
        }
        for j in 0..v.len() {
            if let (Some(a), Some(b)) = (lat[i], lat[j]) {
                if v[i] > v[j] {
                    assert!(a < b);
                }
            }
        }
    }
}

#[test]
fn partial_cells_are_a_seeded_subset_of_the_pattern_of_the_right_size() {
    let patterns = random_patterns(200, 3, 20, 0.0, 7).unwrap();
    for (m, p) in patterns.iter().enumerate() {
        let active = p.active();
        for (fraction, want) in [(0.2, 4), (0.5, 10), (0.6, 12), (0.51, 11), (1.0, 20)] {
            let cells = partial_cells(p, m, fraction, 7).unwrap();
            assert_eq!(cells.len(), want, "fraction {fraction}");
            assert!(cells.iter().all(|c| active.contains(c)), "{cells:?}");
            assert!(
                cells.windows(2).all(|w| w[0] < w[1]),
                "increasing: {cells:?}"
            );
            // Deterministic for a seed.
            assert_eq!(cells, partial_cells(p, m, fraction, 7).unwrap());
        }
        // A smaller fraction presents a subset of a larger one's cells.
        let small = partial_cells(p, m, 0.2, 7).unwrap();
        let large = partial_cells(p, m, 0.6, 7).unwrap();
        assert!(small.iter().all(|c| large.contains(c)));
        // Another seed chooses other cells (of 20 choose 10, equal by chance ~5e-6).
        assert_ne!(
            partial_cells(p, m, 0.5, 7).unwrap(),
            partial_cells(p, m, 0.5, 8).unwrap()
        );
        // The restricted pattern keeps exactly those cells.
        assert_eq!(p.restricted(&small).active(), small);
    }
    // Different memories with the same active cells are keyed apart.
    let p = &patterns[0];
    assert_ne!(
        partial_cells(p, 0, 0.5, 7).unwrap(),
        partial_cells(p, 1, 0.5, 7).unwrap()
    );
    for bad in [0.0, -0.5, 1.5, f64::NAN] {
        let e = partial_cells(p, 0, bad, 7).unwrap_err();
        assert_eq!(e.field(), "experiment.cue.content_fraction");
        assert!(e.to_string().contains("must be in (0, 1]"), "{e}");
    }
}
