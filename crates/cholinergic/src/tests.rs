use super::*;
use approx::assert_relative_eq;
use proptest::prelude::*;

/// Time steps used by the closed-form checks: grid-aligned and not, smaller and larger
/// than the pulses.
const DTS: [f64; 6] = [0.01, 0.1, 0.25, 0.3, 1.0, 7.0];

fn pulse(time_ms: f64, amplitude: f64, duration_ms: f64) -> AchPulse {
    AchPulse {
        time_ms,
        amplitude,
        duration_ms,
    }
}

fn params(tonic: f64, tau_ach_ms: f64, pulses: Vec<AchPulse>) -> ValidAchParams {
    AchParams {
        tonic,
        tau_ach_ms,
        pulses,
    }
    .checked()
    .unwrap()
}

/// Number of steps of `dt` that cover `t_ms`.
fn steps_for(t_ms: f64, dt: f64) -> usize {
    (t_ms / dt).ceil() as usize
}

/// Closed form of `A(t)` for a start value `a0` and pulses (superposition of the linear
/// system): the decay of `a0 - tonic`, plus for each square pulse its rise
/// `r tau (1 - e^{-s/tau})` over the released time `s`, decayed since the release ended,
/// plus for each jump `amplitude e^{-(t - t_p)/tau}` for `t > t_p`.
fn closed_form(t: f64, tonic: f64, tau: f64, a0: f64, pulses: &[AchPulse]) -> f64 {
    let mut a = tonic + (a0 - tonic) * (-t / tau).exp();
    for p in pulses {
        // Step ends sample the left limit: a jump at exactly `t` belongs to the next step.
        if t <= p.time_ms {
            continue;
        }
        if p.duration_ms == 0.0 {
            a += p.amplitude * (-(t - p.time_ms) / tau).exp();
        } else {
            let released = (t.min(p.time_ms + p.duration_ms) - p.time_ms).max(0.0);
            let since_end = t - p.time_ms - released;
            a += p.amplitude / p.duration_ms
                * tau
                * (-(-released / tau).exp_m1())
                * (-since_end / tau).exp();
        }
    }
    a
}

fn assert_matches_closed_form(
    tonic: f64,
    tau: f64,
    a0: f64,
    pulses: &[AchPulse],
    dt: f64,
    steps: usize,
) {
    let valid = params(tonic, tau, pulses.to_vec());
    let mut kinetics = valid.kinetics(dt).unwrap();
    kinetics.set_concentration(a0).unwrap();
    for k in 0..steps {
        let a = kinetics.step();
        let t = (k + 1) as f64 * dt;
        let expected = closed_form(t, tonic, tau, a0, pulses);
        assert!(
            approx::relative_eq!(a, expected, max_relative = 1e-12, epsilon = 1e-14),
            "dt {dt} step {k}: {a} vs {expected}"
        );
        assert_eq!(kinetics.steps(), k as u64 + 1);
    }
}

#[test]
fn decay_towards_tonic_is_exact() {
    // A(t) = tonic + (A0 - tonic) e^{-t/tau}, from above and from below.
    for (tonic, a0) in [(0.1, 1.3), (0.0, 2.0), (0.8, 0.05), (0.3, 0.3)] {
        for dt in DTS {
            assert_matches_closed_form(tonic, 20.0, a0, &[], dt, steps_for(200.0, dt));
        }
    }
}

#[test]
fn square_pulse_matches_closed_form() {
    // Rise tonic + amp/dur tau (1 - e^{-t/tau}) during the pulse, decay after it. Pulses on
    // and off the step grid, longer and shorter than a step, inside a single step.
    let cases = [
        pulse(10.0, 1.0, 5.0),
        pulse(3.05, 0.7, 2.33),
        pulse(0.0, 1.0, 0.37),
        pulse(12.345, 2.5, 0.011),
    ];
    for p in cases {
        for dt in DTS {
            for (tonic, a0) in [(0.05, 0.05), (0.2, 0.9)] {
                assert_matches_closed_form(tonic, 13.0, a0, &[p], dt, steps_for(80.0, dt));
            }
        }
    }
}

#[test]
fn overlapping_pulses_and_jumps_match_closed_form() {
    let pulses = [
        pulse(4.0, 0.5, 10.0),
        pulse(6.55, 0.3, 1.0),
        pulse(6.55, 0.2, 0.0),
        pulse(14.0, 0.4, 3.0), // starts when the first ends
        pulse(30.01, 1.0, 0.0),
    ];
    for dt in DTS {
        assert_matches_closed_form(0.1, 25.0, 0.1, &pulses, dt, steps_for(120.0, dt));
    }
}

#[test]
fn zero_duration_pulse_is_a_jump() {
    let tau = 40.0;
    let valid = params(0.1, tau, vec![pulse(2.05, 0.8, 0.0)]);
    let dt = 0.1;
    let a = trace(&valid, dt, 500).unwrap();
    for (k, &value) in a.iter().enumerate() {
        let t = (k + 1) as f64 * dt;
        if t <= 2.0 + 1e-9 {
            assert_eq!(value, 0.1, "step {k}: before the pulse");
        } else {
            let expected = 0.1 + 0.8 * (-(t - 2.05) / tau).exp();
            assert_relative_eq!(value, expected, max_relative = 1e-12);
        }
    }
    // A duration too short to move the start time in floating point is a jump too.
    let tiny = params(0.1, tau, vec![pulse(2.05, 0.8, 1e-300)]);
    assert_eq!(trace(&tiny, dt, 500).unwrap(), a);
    // A jump on a step boundary takes effect in the step that starts there.
    let on_grid = params(0.0, tau, vec![pulse(0.0, 1.0, 0.0)]);
    let first = trace(&on_grid, 1.0, 1).unwrap()[0];
    assert_relative_eq!(first, (-1.0 / tau).exp(), max_relative = 1e-15);
}

#[test]
fn a_pulse_raises_a_by_its_amplitude_when_decay_is_negligible() {
    // With tau huge, the total rise is the amplitude, whatever the duration or dt.
    for (amp, dur) in [(0.7, 3.0), (1.0, 0.0), (2.0, 0.013), (0.25, 50.0)] {
        for dt in DTS {
            let valid = params(0.2, 1e15, vec![pulse(1.234, amp, dur)]);
            let a = trace(&valid, dt, steps_for(60.0, dt)).unwrap();
            let last = *a.last().unwrap();
            assert_relative_eq!(last - 0.2, amp, max_relative = 1e-9);
        }
    }
}

#[test]
fn results_depend_on_dt_only_through_sampling() {
    let pulses = vec![
        pulse(1.37, 0.6, 4.2),
        pulse(3.0, 0.4, 0.0),
        pulse(5.5, 0.9, 0.05),
    ];
    let valid = params(0.05, 8.0, pulses);
    let fine = trace(&valid, 0.05, 2000).unwrap();
    let coarse = trace(&valid, 1.0, 100).unwrap();
    for (k, c) in coarse.iter().enumerate() {
        assert_relative_eq!(*c, fine[20 * k + 19], max_relative = 1e-12);
    }
}

#[test]
fn pulses_in_any_order_give_the_same_trace() {
    let a = vec![
        pulse(5.0, 0.3, 2.0),
        pulse(1.0, 0.5, 6.0),
        pulse(3.3, 0.2, 0.0),
    ];
    let mut b = a.clone();
    b.reverse();
    assert_eq!(
        trace(&params(0.1, 10.0, a), 0.1, 300).unwrap(),
        trace(&params(0.1, 10.0, b), 0.1, 300).unwrap()
    );
}

#[test]
fn no_pulse_keeps_the_tonic_level_exactly() {
    let a = trace(&params(0.37, 5.0, vec![]), 0.1, 1000).unwrap();
    assert!(a.iter().all(|&x| x == 0.37));
    // After a pulse has fully decayed the rate is exactly zero again: A never undershoots.
    let a = trace(&params(0.37, 1.0, vec![pulse(1.0, 1.0, 1.0)]), 0.1, 2000).unwrap();
    assert!(a.iter().all(|&x| x >= 0.37));
    assert_relative_eq!(*a.last().unwrap(), 0.37, max_relative = 1e-12);
}

#[test]
fn reset_replays_the_same_trace() {
    let valid = params(0.1, 10.0, vec![pulse(2.0, 1.0, 3.0)]);
    let mut kinetics = valid.kinetics(0.1).unwrap();
    let first: Vec<f64> = (0..400).map(|_| kinetics.step()).collect();
    assert_relative_eq!(kinetics.time_ms(), 40.0, max_relative = 1e-12);
    assert_eq!(kinetics.dt_ms(), 0.1);
    kinetics.reset();
    assert_eq!(kinetics.concentration(), 0.1);
    assert_eq!(kinetics.time_ms(), 0.0);
    let second: Vec<f64> = (0..400).map(|_| kinetics.step()).collect();
    assert_eq!(first, second);
    assert_eq!(first, trace(&valid, 0.1, 400).unwrap());
}

#[test]
fn validate_within_names_the_pulse_outside_the_run() {
    let valid = params(
        0.0,
        10.0,
        vec![
            pulse(10.0, 1.0, 5.0),
            pulse(99.0, 1.0, 0.0),
            pulse(100.0, 1.0, 0.0),
        ],
    );
    let err = valid.validate_within(100.0).unwrap_err();
    assert_eq!(err.field, "pulses[2].time_ms");
    assert!(
        err.to_string().starts_with("pulses[2].time_ms = 100:"),
        "{err}"
    );
    assert!(valid.validate_within(100.5).is_ok());
    let err = valid.validate_within(14.0).unwrap_err();
    assert_eq!(err.field, "pulses[0].duration_ms");
    // A release that ends exactly at the end of the run is inside it.
    assert!(
        params(0.0, 10.0, vec![pulse(10.0, 1.0, 5.0)])
            .validate_within(15.0)
            .is_ok()
    );
}

#[test]
fn invalid_ach_params_name_the_field() {
    let good = pulse(1.0, 1.0, 1.0);
    let base = AchParams {
        tonic: 0.1,
        tau_ach_ms: 10.0,
        pulses: vec![good; 3],
    };
    let with_pulse = |i: usize, p: AchPulse| {
        let mut params = base.clone();
        params.pulses[i] = p;
        params
    };
    let cases = [
        (
            AchParams {
                tau_ach_ms: 0.0,
                ..base.clone()
            },
            "tau_ach_ms",
        ),
        (
            AchParams {
                tau_ach_ms: f64::INFINITY,
                ..base.clone()
            },
            "tau_ach_ms",
        ),
        (
            AchParams {
                tonic: -0.1,
                ..base.clone()
            },
            "tonic",
        ),
        (
            AchParams {
                tonic: f64::NAN,
                ..base.clone()
            },
            "tonic",
        ),
        (
            with_pulse(2, pulse(1.0, 1.0, -1.0)),
            "pulses[2].duration_ms",
        ),
        (with_pulse(0, pulse(-0.5, 1.0, 1.0)), "pulses[0].time_ms"),
        (
            with_pulse(1, pulse(f64::NAN, 1.0, 1.0)),
            "pulses[1].time_ms",
        ),
        (with_pulse(1, pulse(1.0, -1.0, 1.0)), "pulses[1].amplitude"),
        (
            with_pulse(1, pulse(1.0, f64::INFINITY, 1.0)),
            "pulses[1].amplitude",
        ),
        (
            with_pulse(2, pulse(0.0, 1e300, 1e-300)),
            "pulses[2].duration_ms",
        ),
        (
            with_pulse(0, pulse(f64::MAX, 1.0, f64::MAX)),
            "pulses[0].duration_ms",
        ),
    ];
    for (p, field) in cases {
        let err = p.checked().unwrap_err();
        assert_eq!(err.field, field);
        assert!(err.to_string().starts_with(field), "{err}");
    }
    let valid = base.checked().unwrap();
    assert_eq!(valid.kinetics(0.0).unwrap_err().field, "dt_ms");
    assert_eq!(trace(&valid, f64::NAN, 10).unwrap_err().field, "dt_ms");
    let mut kinetics = valid.kinetics(0.1).unwrap();
    assert_eq!(
        kinetics.set_concentration(-1.0).unwrap_err().field,
        "concentration"
    );
    let err = AchError::new("tau_ach_ms", 0.0, "x").prefixed("ach");
    assert_eq!(err.field, "ach.tau_ach_ms");
}

fn curve(min: f64, max: f64, k: f64, hill: f64) -> ValidHillCurve {
    HillCurve { min, max, k, hill }.checked().unwrap()
}

#[test]
fn hill_curve_values_at_zero_half_and_saturation() {
    for (min, max, k, h) in [
        (0.0, 1.0, 0.5, 2.0),
        (1.0, 0.2, 0.3, 4.0),
        (-3.0, 2.0, 1.7, 0.8),
    ] {
        let c = curve(min, max, k, h);
        assert_eq!(c.value(0.0), min);
        assert_relative_eq!(c.value(k), (min + max) / 2.0, max_relative = 1e-15);
        assert_relative_eq!(c.value(1e12 * k), max, max_relative = 1e-6);
        assert_eq!(c.value(f64::INFINITY), max);
        // Closed form at an arbitrary point.
        let a: f64 = 0.77;
        let expected = min + (max - min) * a.powf(h) / (a.powf(h) + k.powf(h));
        assert_relative_eq!(c.value(a), expected, max_relative = 1e-14);
    }
    // Negative and NaN concentrations count as zero.
    let c = curve(0.25, 1.0, 0.5, 2.0);
    assert_eq!(c.value(-1.0), 0.25);
    assert_eq!(c.value(f64::NAN), 0.25);
}

#[test]
fn hill_curve_is_monotonic_in_the_direction_of_max() {
    let rising = curve(0.1, 2.0, 0.4, 3.0);
    let falling = curve(1.0, 0.2, 0.4, 3.0);
    let grid: Vec<f64> = (0..2000).map(|i| f64::from(i) * 0.005).collect();
    for w in grid.windows(2) {
        assert!(rising.value(w[1]) >= rising.value(w[0]));
        assert!(falling.value(w[1]) <= falling.value(w[0]));
    }
    assert!(rising.value(0.5) > rising.value(0.3));
    assert!(falling.value(0.5) < falling.value(0.3));
}

fn effect(min: f64, max: f64, populations: Option<Vec<usize>>) -> Option<Effect> {
    Some(Effect {
        curve: HillCurve {
            min,
            max,
            k: 0.5,
            hill: 2.0,
        },
        populations,
    })
}

#[test]
fn neutral_modulator_gives_neutral_factors() {
    let m = EffectParams::default().checked().unwrap();
    assert!(m.is_neutral());
    assert_eq!(m, Modulator::neutral());
    for a in [0.0, 0.5, 100.0] {
        for pop in 0..3 {
            assert_eq!(m.factors(a, pop), Modulation::NEUTRAL);
        }
    }
    assert_eq!(Modulation::default(), Modulation::NEUTRAL);
    for t in Target::ALL {
        let expected = if t == Target::ThresholdShift {
            0.0
        } else {
            1.0
        };
        assert_eq!(t.neutral(), expected);
    }
}

#[test]
fn each_target_sets_its_own_factor() {
    for target in Target::ALL {
        let mut p = EffectParams::default();
        let e = effect(0.0, 2.0, None);
        match target {
            Target::BapGain => p.bap_gain = e,
            Target::GapGain => p.gap_gain = e,
            Target::ForwardGain => p.forward_gain = e,
            Target::PlasticityRate => p.plasticity_rate = e,
            Target::ThresholdShift => p.threshold_shift_mv = e,
            Target::AdaptationGain => p.adaptation_gain = e,
        }
        let m = p.checked().unwrap();
        let f = m.factors(0.5, 0);
        for other in Target::ALL {
            let expected = if other == target {
                1.0
            } else {
                other.neutral()
            };
            assert_relative_eq!(f.get(other), expected, max_relative = 1e-15);
        }
        assert!(m.effect(target).is_some());
    }
}

#[test]
fn a_curve_restricted_to_one_population_leaves_the_others_neutral() {
    let m = EffectParams {
        gap_gain: effect(0.0, 1.0, Some(vec![1])),
        forward_gain: effect(1.0, 0.2, Some(vec![1, 2])),
        bap_gain: effect(0.0, 1.0, None),
        ..EffectParams::default()
    }
    .checked()
    .unwrap();
    let a = 2.0;
    let f0 = m.factors(a, 0);
    let f1 = m.factors(a, 1);
    let f2 = m.factors(a, 2);
    assert_eq!(f0.gap_gain(), 1.0);
    assert_eq!(f0.forward_gain(), 1.0);
    assert!(f1.gap_gain() < 1.0 && f1.gap_gain() > 0.9);
    assert!(f1.forward_gain() < 0.3);
    assert_eq!(f2.gap_gain(), 1.0);
    assert_eq!(f2.forward_gain(), f1.forward_gain());
    for f in [f0, f1, f2] {
        assert_eq!(f.bap_gain(), f1.bap_gain());
    }
    // fill_factors agrees with factors, and ignores indices beyond the slice.
    let mut out = [Modulation::NEUTRAL; 2];
    m.fill_factors(a, &mut out);
    assert_eq!(out, [f0, f1]);
    assert!(m.effect(Target::GapGain).unwrap().applies_to(1));
    assert!(!m.effect(Target::GapGain).unwrap().applies_to(0));
    assert_eq!(
        m.effect(Target::ForwardGain).unwrap().populations(),
        Some(&[1, 2][..])
    );
    assert!(m.validate_populations(3).is_ok());
    let err = m.validate_populations(2).unwrap_err();
    assert_eq!(err.field, "effects.forward_gain.populations[1]");
    assert_eq!(err.value, 2.0);
}

#[test]
fn invalid_effects_name_the_field() {
    let bad_curve = |min: f64, max: f64, k: f64, hill: f64| {
        Some(Effect {
            curve: HillCurve { min, max, k, hill },
            populations: None,
        })
    };
    let cases = [
        (
            EffectParams {
                gap_gain: bad_curve(0.0, 1.0, 0.0, 2.0),
                ..EffectParams::default()
            },
            "effects.gap_gain.k",
        ),
        (
            EffectParams {
                bap_gain: bad_curve(0.0, 1.0, 0.5, -1.0),
                ..EffectParams::default()
            },
            "effects.bap_gain.hill",
        ),
        (
            EffectParams {
                forward_gain: bad_curve(-0.1, 1.0, 0.5, 2.0),
                ..EffectParams::default()
            },
            "effects.forward_gain.min",
        ),
        (
            EffectParams {
                gap_gain: bad_curve(1.0, -2.0, 0.5, 2.0),
                ..EffectParams::default()
            },
            "effects.gap_gain.max",
        ),
        (
            EffectParams {
                threshold_shift_mv: bad_curve(0.0, f64::NAN, 0.5, 2.0),
                ..EffectParams::default()
            },
            "effects.threshold_shift_mv.max",
        ),
        (
            EffectParams {
                adaptation_gain: bad_curve(1.0, -0.1, 0.3, 2.0),
                ..EffectParams::default()
            },
            "effects.adaptation_gain.max",
        ),
        (
            EffectParams {
                plasticity_rate: bad_curve(-f64::MAX, f64::MAX, 0.5, 2.0),
                ..EffectParams::default()
            },
            "effects.plasticity_rate.max",
        ),
        (
            EffectParams {
                plasticity_rate: effect(0.0, 1.0, Some(vec![])),
                ..EffectParams::default()
            },
            "effects.plasticity_rate.populations",
        ),
    ];
    for (p, field) in cases {
        let err = p.checked().unwrap_err();
        assert_eq!(err.field, field);
        assert!(err.to_string().starts_with(field), "{err}");
    }
    // Negative bounds are allowed where they mean something.
    let ok = EffectParams {
        plasticity_rate: effect(1.0, -0.5, None),
        threshold_shift_mv: effect(0.0, -4.0, None),
        ..EffectParams::default()
    }
    .checked()
    .unwrap();
    assert_relative_eq!(ok.factors(0.5, 0).threshold_shift_mv(), -2.0);
    assert_eq!(HillCurve::default().checked().unwrap().get().k, 0.5);
}

fn arb_pulse() -> impl Strategy<Value = AchPulse> {
    (
        0.0f64..50.0,
        0.0f64..3.0,
        prop_oneof![Just(0.0), 0.0f64..20.0, 0.0f64..0.01],
    )
        .prop_map(|(t, a, d)| pulse(t, a, d))
}

proptest! {
    #[test]
    fn factors_stay_within_the_curve_bounds(
        min in -10.0f64..10.0,
        max in -10.0f64..10.0,
        k in 1e-3f64..10.0,
        hill in 0.1f64..20.0,
        ach in prop_oneof![0.0f64..2.0, 0.0f64..1e6, Just(0.0), Just(f64::INFINITY)],
    ) {
        let m = EffectParams {
            threshold_shift_mv: Some(Effect {
                curve: HillCurve { min, max, k, hill },
                populations: None,
            }),
            plasticity_rate: Some(Effect {
                curve: HillCurve { min, max, k, hill },
                populations: Some(vec![0]),
            }),
            ..EffectParams::default()
        }
        .checked()
        .unwrap();
        let f = m.factors(ach, 0);
        let (lo, hi) = (min.min(max), min.max(max));
        for v in [f.threshold_shift_mv(), f.plasticity_rate()] {
            prop_assert!(v >= lo && v <= hi, "{} outside [{}, {}]", v, lo, hi);
        }
    }

    #[test]
    fn concentration_stays_finite_and_above_its_floor(
        tonic in 0.0f64..2.0,
        a0 in 0.0f64..5.0,
        tau in 0.05f64..500.0,
        dt in prop_oneof![Just(0.1), 0.001f64..5.0],
        pulses in proptest::collection::vec(arb_pulse(), 0..8),
    ) {
        let valid = params(tonic, tau, pulses.clone());
        let mut kinetics = valid.kinetics(dt).unwrap();
        kinetics.set_concentration(a0).unwrap();
        let floor = tonic.min(a0);
        let total: f64 = pulses.iter().map(|p| p.amplitude).sum();
        let ceiling = tonic.max(a0) + total;
        for _ in 0..steps_for(100.0, dt).min(20_000) {
            let a = kinetics.step();
            prop_assert!(a.is_finite());
            prop_assert!(a >= floor, "{} below {}", a, floor);
            prop_assert!(a <= ceiling * (1.0 + 1e-12), "{} above {}", a, ceiling);
        }
    }

    #[test]
    fn curves_are_monotonic(
        min in -10.0f64..10.0,
        max in -10.0f64..10.0,
        k in 1e-3f64..10.0,
        hill in 0.1f64..20.0,
        a in 0.0f64..20.0,
        da in 0.0f64..20.0,
    ) {
        let c = curve(min, max, k, hill);
        if max >= min {
            prop_assert!(c.value(a + da) >= c.value(a));
        } else {
            prop_assert!(c.value(a + da) <= c.value(a));
        }
    }
}
