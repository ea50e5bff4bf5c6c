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
