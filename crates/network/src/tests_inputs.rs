//! Inputs against known answers: spike times with a delay against NEST's
//! `spike_generator`.

use super::*;
use engram_core::time::StepClock;
use engram_neuron::LifParams;

/// A spike-times input into neuron 0: `(name, weight_pa, times_ms, delay_ms)`.
type Kicks<'a> = (&'a str, f64, &'a [f64], Option<f64>);

/// One `lif_exp` neuron with NEST's `iaf_psc_exp` defaults (`LifParams::default`), driven
/// by spike-times inputs, at `dt = 0.1 ms`.
fn one_neuron(inputs: &[Kicks<'_>]) -> NetworkSpec {
    NetworkSpec {
        dt_ms: 0.1,
        populations: vec![PopulationSpec::new("n", 1, LifParams::default()).unwrap()],
        projections: vec![],
        inputs: inputs
            .iter()
            .map(|&(name, weight_pa, times, delay_ms)| InputSpec {
                name: name.into(),
                target: 0,
                neurons: vec![0],
                kind: InputKind::SpikeTimes {
                    times_ms: times.to_vec(),
                    weight_pa,
                    delay_ms,
                },
            })
            .collect(),
    }
}

/// The output spike times (ms) of a run of `steps` steps.
fn output_times(spec: &NetworkSpec, steps: u64) -> Vec<f64> {
    spec.validate().unwrap();
    let mut sim = Simulation::build(spec, 1, 1).unwrap();
    let mut sink = VecSink::default();
    sim.run(steps, &mut sink).unwrap();
    let clock = StepClock::new(spec.dt_ms);
    sink.spikes
        .iter()
        .map(|&(step, _)| clock.time_ms(step + 1))
        .collect()
}

/// The "kicks" scenario of `scripts/compare_nest_spike_times.py`, with the delays of the
/// kick, the volley and the inhibitory spikes.
fn kicks(d_kick: Option<f64>, d_volley: Option<f64>, d_inh: Option<f64>) -> NetworkSpec {
    one_neuron(&[
        ("kick", 5000.0, &[10.0], d_kick),
        (
            "volley",
            1800.0,
            &[30.0, 30.4, 31.0, 50.0, 50.2, 50.3, 50.5, 70.0, 70.1, 70.2],
            d_volley,
        ),
        ("inh", -2500.0, &[49.0, 69.5], d_inh),
    ])
}

/// NEST 3.10's output spike times for the "kicks" scenario
/// (`results/spike-times-delay-vs-nest.md`): each spike generator connected with delay d
/// to one `iaf_psc_exp` neuron with default parameters, resolution 0.1 ms. engram's
/// `spike_times` input with `delay_ms = d` gives the same times, spike for spike.
///
/// The first spike of the mixed case, derived by hand from the exact solution: the kick
/// (5000 pA at 10.0 ms, delay 1.5 ms) makes the synaptic current jump to `w = 5000 pA` at
/// `t0 = 11.5 ms`, with the neuron at rest and nothing else arriving before 30 ms. For
/// `s = t - t0` the exact solution of `C dV/dt = -C (V - E_L) / tau_m + I`,
/// `I = w exp(-s / tau_s)`, is
///
/// ```text
/// V - E_L = (w / C) tau_m tau_s / (tau_m - tau_s) (exp(-s / tau_m) - exp(-s / tau_s))
///         = 20 mV/ms * 2.5 ms * (exp(-s / 10) - exp(-s / 2))        (C = 250 pF)
/// s = 1.0 ms: 50 * (0.904837 - 0.606531) = 14.915 mV  -> V = -55.085 mV < V_th = -55
/// s = 1.1 ms: 50 * (0.895834 - 0.576950) = 15.944 mV  -> V = -54.056 mV >= V_th
/// ```
///
/// V is tested at the ends of steps, so the neuron fires at `t0 + 1.1 = 12.6 ms`. (With
/// the delay left out, one step, the jump is at 10.1 ms and the spike at 11.2 ms: NEST's
/// time for d = 0.1 ms.)
#[test]
fn spike_times_with_delay_fire_when_nest_does() {
    type Delays = (Option<f64>, Option<f64>, Option<f64>);
    let cases: [(Delays, &[f64]); 6] = [
        ((None, None, None), &[11.2, 31.4, 51.7, 72.7]),
        ((Some(0.1), Some(0.1), Some(0.1)), &[11.2, 31.4, 51.7, 72.7]),
        ((Some(0.5), Some(0.5), Some(0.5)), &[11.6, 31.8, 52.1, 73.1]),
        ((Some(1.0), Some(1.0), Some(1.0)), &[12.1, 32.3, 52.6, 73.6]),
        ((Some(2.3), Some(2.3), Some(2.3)), &[13.4, 33.6, 53.9, 74.9]),
        ((Some(1.5), Some(0.1), Some(2.3)), &[12.6, 31.4, 50.9, 71.0]),
    ];
    for ((dk, dv, di), nest) in cases {
        let got = output_times(&kicks(dk, dv, di), 2000);
        assert_eq!(got, nest, "delays kick {dk:?}, volley {dv:?}, inh {di:?}");
    }
}

#[test]
fn the_default_delay_is_one_step() {
    // Leaving the delay out is the same as one step, to the bit: the potentials too.
    let run = |d: Option<f64>| {
        let spec = one_neuron(&[("a", 1500.0, &[1.0, 1.3, 2.0, 7.7], d)]);
        let mut sim = Simulation::build(&spec, 1, 1).unwrap();
        let mut v = Vec::new();
        for _ in 0..150 {
            sim.run(1, &mut NullSink).unwrap();
            v.push(sim.membrane_potentials_mv()[0].to_bits());
        }
        v
    };
    assert_eq!(run(None), run(Some(0.1)));
    assert_ne!(run(None), run(Some(0.2)));
}

#[test]
fn input_delays_must_be_whole_steps_of_at_least_one() {
    for (d, says) in [
        (0.05, "must be at least one step"),
        (0.0, "must be at least one step"),
        (-1.0, "must be at least one step"),
        (f64::NAN, "must be at least one step"),
        (0.25, "is not a whole number of steps"),
    ] {
        let spec = one_neuron(&[("cue", 100.0, &[1.0], Some(d))]);
        match spec.validate() {
            Err(NetworkError::Invalid { path, message }) => {
                assert_eq!(path, "inputs.cue.delay_ms");
                assert!(message.contains(says), "{d}: {message}");
            }
            other => panic!("{d}: {other:?}"),
        }
    }
}

/// `n` neurons of `params` under one noise current (`mean_pa`, `std_pa`, interval
/// `dt_ms`, window `[start_ms, stop_ms)`), plus the extra `inputs`.
fn noisy(
    n: u32,
    params: LifParams,
    (mean_pa, std_pa, dt_ms): (f64, f64, Option<f64>),
    (start_ms, stop_ms): (f64, f64),
    mut inputs: Vec<InputSpec>,
) -> NetworkSpec {
    inputs.insert(
        0,
        InputSpec {
            name: "noise".into(),
            target: 0,
            neurons: (0..n).collect(),
            kind: InputKind::NoiseCurrent {
                mean_pa,
                std_pa,
                dt_ms,
                start_ms,
                stop_ms,
            },
        },
    );
    let spec = NetworkSpec {
        dt_ms: 0.1,
        populations: vec![PopulationSpec::new("P", n, params).unwrap()],
        projections: vec![],
        inputs,
    };
    spec.validate().unwrap();
    spec
}

/// The stimulation current of every neuron in each of `steps` steps: `[step][neuron]`.
fn currents(spec: &NetworkSpec, threads: usize, steps: u64) -> Vec<Vec<f64>> {
    let mut sim = Simulation::build(spec, 7, threads).unwrap();
    (0..steps)
        .map(|_| {
            sim.run(1, &mut NullSink).unwrap();
            sim.stimulation_currents_pa()
        })
        .collect()
}

/// A neuron that never fires: NEST's `iaf_psc_exp` defaults with a threshold far away.
fn silent() -> LifParams {
    LifParams {
        v_th_mv: 1.0e6,
        ..LifParams::default()
    }
}

#[test]
fn noise_currents_have_the_drawn_mean_and_variance() {
    // 200 neurons x 500 steps = 100 000 values of mean 50 pA and sd 20 pA. Standard errors:
    // of the mean 20 / sqrt(1e5) = 0.063 pA, of the variance 400 * sqrt(2 / 1e5) =
    // 1.8 pA^2; the bounds are 5 of them.
    let (mu, sigma) = (50.0, 20.0);
    let i = currents(
        &noisy(
            200,
            silent(),
            (mu, sigma, None),
            (0.0, f64::INFINITY),
            vec![],
        ),
        1,
        500,
    );
    let all: Vec<f64> = i.iter().flatten().copied().collect();
    let n = all.len() as f64;
    let mean = all.iter().sum::<f64>() / n;
    let var = all.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    assert!((mean - mu).abs() < 5.0 * sigma / n.sqrt(), "mean {mean}");
    let se_var = sigma * sigma * (2.0 / n).sqrt();
    assert!((var - sigma * sigma).abs() < 5.0 * se_var, "variance {var}");
    // Independent between neurons and from step to step: correlations within 5 standard
    // errors of 0 (1 / sqrt(pairs)).
    let corr = |pairs: &[(f64, f64)]| {
        let k = pairs.len() as f64;
        let c = pairs.iter().map(|(a, b)| (a - mu) * (b - mu)).sum::<f64>();
        (c / k / (sigma * sigma), 5.0 / k.sqrt())
    };
    let across: Vec<(f64, f64)> = i
        .iter()
        .flat_map(|row| row.windows(2).map(|w| (w[0], w[1])))
        .collect();
    let (r, bound) = corr(&across);
    assert!(r.abs() < bound, "neighbouring neurons correlate: {r}");
    let lagged: Vec<(f64, f64)> = i
        .windows(2)
        .flat_map(|w| w[0].iter().copied().zip(w[1].iter().copied()))
        .collect();
    let (r, bound) = corr(&lagged);
    assert!(r.abs() < bound, "successive steps correlate: {r}");
}

#[test]
fn noise_holds_over_its_interval_and_stops_exactly() {
    // A value every 0.5 ms (5 steps) in [1.0, 3.2) ms: steps 10-14, 15-19, ..., 30-31; a
    // dc current of 100 pA on top, from 0 on. Outside the window the current is the dc's
    // 100 pA exactly, however the noise values summed.
    let dc = InputSpec {
        name: "dc".into(),
        target: 0,
        neurons: vec![0, 1, 2],
        kind: InputKind::Dc {
            amplitude_pa: 100.0,
            start_ms: 0.0,
            stop_ms: f64::INFINITY,
        },
    };
    let spec = noisy(3, silent(), (0.0, 30.0, Some(0.5)), (1.0, 3.2), vec![dc]);
    let i = currents(&spec, 1, 40);
    for (step, row) in i.iter().enumerate() {
        if !(10..32).contains(&step) {
            assert_eq!(row, &[100.0; 3], "step {step}");
        } else if (step - 10) % 5 != 0 {
            assert_eq!(row, &i[step - 1], "step {step}: a value holds for 5 steps");
        } else if step > 10 {
            for k in 0..3 {
                assert_ne!(row[k], i[step - 1][k], "step {step}: a new value");
            }
        }
    }
    // Different neurons, different values.
    assert_ne!(i[10][0], i[10][1]);
    assert_ne!(i[10][1], i[10][2]);
}

/// The membrane potential of `n` silent neurons under noise of `(mean_pa, std_pa)` held
/// for `k` steps: its mean and variance over `steps` steps after a burn-in of 50 ms
/// (5 tau_m; the neurons start at the stationary mean).
fn membrane_moments(n: u32, (mean_pa, std_pa): (f64, f64), k: u64, steps: u64) -> (f64, f64) {
    let p = silent();
    let r = p.tau_m_ms / p.c_m_pf; // mV per pA
    let mut spec = noisy(
        n,
        p,
        (mean_pa, std_pa, Some(k as f64 * 0.1)),
        (0.0, f64::INFINITY),
        vec![],
    );
    let v0 = p.e_l_mv + r * mean_pa;
    spec.populations[0].v_init_mv = ValueDist::Constant(v0);
    let mut sim = Simulation::build(&spec, 3, 1).unwrap();
    sim.run(500, &mut NullSink).unwrap();
    let (mut s1, mut s2) = (0.0, 0.0);
    for _ in 0..steps {
        sim.run(1, &mut NullSink).unwrap();
        for v in sim.membrane_potentials_mv() {
            let x = v - v0;
            s1 += x;
            s2 += x * x;
        }
    }
    let m = (n as u64 * steps) as f64;
    let mean = s1 / m;
    (v0 + mean, s2 / m - mean * mean)
}

/// The free membrane potential under piecewise-constant noise, against its closed form.
///
/// Between value changes the current `I` is constant and `tau dV/dt = -(V - E_L) + R I`
/// (`R = tau_m / C_m`) is solved exactly: with `x = V - E_L`, over a time `s`,
/// `x(t + s) = e^{-s/tau} x(t) + (1 - e^{-s/tau}) R I`. At the starts of the intervals
/// of length `h` (values `I_j` independent, mean `mu`, variance `sigma^2`) this is
/// `x_{j+1} = A x_j + (1 - A) R I_j` with `A = e^{-h/tau}`, stationary with mean `R mu`
/// and variance `v_b = R^2 sigma^2 (1 - A)^2 / (1 - A^2) = R^2 sigma^2 (1 - A) / (1 + A)`.
/// A time `s` into an interval, `x_j` and `I_j` are independent, so the variance is
/// `e^{-2s/tau} v_b + (1 - e^{-s/tau})^2 R^2 sigma^2`; sampled at the end of every step
/// (`s = dt, 2 dt, ..., h`) the pooled variance is its average over those `s`, and the
/// mean is `R mu` at every `s`.
///
/// Tolerances: the samples of a neuron are correlated over `tau_m`; with `rho =
/// e^{-dt/tau}` per step the standard error of the variance is about
/// `v sqrt(2 (1 + rho^2) / ((1 - rho^2) N))` and that of the mean `sqrt(v (1 + rho) /
/// ((1 - rho) N))` for `N` samples (an AR(1) process; the held noise adds up to `h` to the
/// correlation time, a few per cent at `h = 0.5 ms`). The bounds are 5 of them.
#[test]
fn free_membrane_variance_matches_the_closed_form() {
    let p = silent();
    let (tau, dt) = (p.tau_m_ms, 0.1);
    let r = tau / p.c_m_pf;
    let (mu, sigma) = (100.0, 200.0);
    let (n, steps) = (500u32, 20_000u64);
    for k in [1u64, 5] {
        let h = k as f64 * dt;
        let a = (-h / tau).exp();
        let vb = r * r * sigma * sigma * (1.0 - a) / (1.0 + a);
        let expected_var = (1..=k)
            .map(|j| {
                let e = (-(j as f64) * dt / tau).exp();
                e * e * vb + (1.0 - e) * (1.0 - e) * r * r * sigma * sigma
            })
            .sum::<f64>()
            / k as f64;
        let expected_mean = p.e_l_mv + r * mu;
        let (mean, var) = membrane_moments(n, (mu, sigma), k, steps);
        let samples = f64::from(n) * steps as f64;
        let rho = (-dt / tau).exp();
        let se_var =
            expected_var * (2.0 * (1.0 + rho * rho) / ((1.0 - rho * rho) * samples)).sqrt();
        let se_mean = (expected_var * (1.0 + rho) / ((1.0 - rho) * samples)).sqrt();
        assert!(
            (var - expected_var).abs() < 5.0 * se_var,
            "h = {h} ms: variance {var} mV^2, closed form {expected_var}"
        );
        assert!(
            (mean - expected_mean).abs() < 5.0 * se_mean,
            "h = {h} ms: mean {mean} mV, closed form {expected_mean}"
        );
    }
}

#[test]
fn noise_is_the_same_at_1_2_and_4_threads() {
    // Spiking neurons under two overlapping noise inputs (one held for 0.3 ms) and a
    // stopping dc: the same spikes and potentials, bit for bit, on any thread count.
    let extra = vec![
        InputSpec {
            name: "slow".into(),
            target: 0,
            neurons: (0..97).step_by(2).collect(),
            kind: InputKind::NoiseCurrent {
                mean_pa: 50.0,
                std_pa: 150.0,
                dt_ms: Some(0.3),
                start_ms: 5.0,
                stop_ms: 60.0,
            },
        },
        InputSpec {
            name: "dc".into(),
            target: 0,
            neurons: (10..60).collect(),
            kind: InputKind::Dc {
                amplitude_pa: 80.0,
                start_ms: 20.0,
                stop_ms: 40.0,
            },
        },
    ];
    let spec = noisy(
        97,
        LifParams::default(),
        (330.0, 120.0, None),
        (0.0, f64::INFINITY),
        extra,
    );
    let run = |threads: usize| {
        let mut sim = Simulation::build(&spec, 11, threads).unwrap();
        let mut sink = VecSink::default();
        sim.run(1000, &mut sink).unwrap();
        let v: Vec<u64> = sim
            .membrane_potentials_mv()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        (sink.spikes, v)
    };
    let one = run(1);
    assert!(one.0.len() > 50, "{} spikes", one.0.len());
    assert_eq!(one, run(2));
    assert_eq!(one, run(4));
}

/// Spikes of a run replayed as spike trains into another: a population `B` driven one to
/// one by `A` over synapses of `weight` and `delay_ms` fires exactly as a lone `B` that
/// receives `A`'s recorded spikes (at their recorded times) as a `SpikeTrains` input of the
/// same weight and delay.
#[test]
fn recorded_spikes_replayed_as_trains_act_as_the_synapses_did() {
    let (n, weight, delay_ms) = (40u32, 900.0, 0.7);
    let clock = StepClock::new(0.1);
    let mut first = NetworkSpec {
        dt_ms: 0.1,
        populations: vec![
            PopulationSpec::new("A", n, LifParams::default()).unwrap(),
            PopulationSpec::new("B", n, LifParams::default()).unwrap(),
        ],
        projections: vec![ProjectionSpec {
            name: "AB".into(),
            source: 0,
            target: 1,
            rule: std::sync::Arc::new(crate::connect::OneToOne {}),
            weight_pa: ValueDist::Constant(weight),
            delay_ms: ValueDist::Constant(delay_ms),
            gap: None,
            plasticity: None,
        }],
        inputs: vec![InputSpec {
            name: "drive".into(),
            target: 0,
            neurons: (0..n).collect(),
            kind: InputKind::Poisson {
                rate_hz: 9000.0,
                weight_pa: 80.0,
                start_ms: 0.0,
                stop_ms: f64::INFINITY,
            },
        }],
    };
    // B also gets a little drive of its own, so that the replayed spikes add to a moving
    // potential.
    first.inputs.push(InputSpec {
        name: "b_drive".into(),
        target: 1,
        neurons: (0..n).collect(),
        kind: InputKind::Poisson {
            rate_hz: 3000.0,
            weight_pa: 60.0,
            start_ms: 0.0,
            stop_ms: f64::INFINITY,
        },
    });
    first.validate().unwrap();
    let steps = 3000;
    let mut sim = Simulation::build(&first, 5, 2).unwrap();
    let mut sink = VecSink::default();
    sim.run(steps, &mut sink).unwrap();
    let (a, b): (Vec<_>, Vec<_>) = sink.spikes.iter().partition(|&&(_, g)| g < n);
    assert!(a.len() > 200 && b.len() > 100, "{} / {}", a.len(), b.len());
    // A's spikes, as a file would hold them: times (ms) per node.
    let mut trains = vec![Vec::new(); n as usize];
    for &(step, g) in &a {
        trains[g as usize].push(clock.time_ms(step + 1));
    }
    let second = NetworkSpec {
        populations: vec![PopulationSpec::new("B", n, LifParams::default()).unwrap()],
        projections: vec![],
        inputs: vec![
            InputSpec {
                name: "replay".into(),
                target: 0,
                neurons: (0..n).collect(),
                kind: InputKind::SpikeTrains {
                    trains: std::sync::Arc::new(SpikeTrains::from_trains(&trains)),
                    weight_pa: weight,
                    delay_ms: Some(delay_ms),
                },
            },
            InputSpec {
                target: 0,
                ..first.inputs[1].clone()
            },
        ],
        ..first.clone()
    };
    second.validate().unwrap();
    for threads in [1, 3] {
        let mut sim = Simulation::build(&second, 5, threads).unwrap();
        let mut sink = VecSink::default();
        sim.run(steps, &mut sink).unwrap();
        let replayed: Vec<(u64, u32)> = sink.spikes.iter().map(|&(s, g)| (s, g + n)).collect();
        assert_eq!(replayed, b, "{threads} threads");
    }
    // The trains are checked against the target list.
    let mut bad = second.clone();
    bad.inputs[0].neurons.pop();
    match bad.validate() {
        Err(NetworkError::Invalid { path, message }) => {
            assert_eq!(path, "inputs.replay.trains");
            assert!(
                message.contains("40 trains for 39 target neurons"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}
