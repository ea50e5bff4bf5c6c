//! State reports against closed forms, and their independence of the chunking.

use std::sync::Arc;

use engram_neuron::LifParams;

use super::{ReportSpec, StateVariable};
use crate::connect::{FixedProbability, OneToOne};
use crate::{
    GapSpec, InputKind, InputSpec, JunctionKind, NetworkSpec, PopulationSpec, ProjectionSpec,
    Simulation, ValueDist, VecSink,
};

const DT: f64 = 0.1;

/// Every sample time of `variable` for the `neurons` of population `pop`, every
/// `interval` steps over the whole run.
fn report(pop: usize, variable: StateVariable, neurons: Vec<u32>, interval: u64) -> ReportSpec {
    ReportSpec {
        population: pop,
        variable,
        neurons,
        interval_steps: interval,
        start_step: 0,
        stop_step: u64::MAX,
    }
}

/// `|a - b| <= tol * max(|b|, floor)`.
fn close(a: f64, b: f64, tol: f64, floor: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(floor)
}

fn one_neuron(input: InputKind) -> NetworkSpec {
    NetworkSpec {
        dt_ms: DT,
        populations: vec![PopulationSpec::new("n", 1, LifParams::default()).unwrap()],
        projections: vec![],
        inputs: vec![InputSpec {
            name: "drive".into(),
            target: 0,
            neurons: vec![0],
            kind: input,
        }],
    }
}

#[test]
fn membrane_under_dc_below_threshold_follows_the_closed_form() {
    // V(t) = E_L + R I (1 - e^{-t / tau_m}), R = tau_m / C: 300 pA gives R I = 12 mV,
    // below the 15 mV to threshold. Sampled every 0.5 ms from 1 ms to 80 ms, in two runs.
    let p = LifParams::default();
    let i_pa = 300.0;
    let spec = one_neuron(InputKind::Dc {
        amplitude_pa: i_pa,
        start_ms: 0.0,
        stop_ms: f64::INFINITY,
    });
    let mut sim = Simulation::build(&spec, 1, 1).unwrap();
    let r = sim
        .add_report(ReportSpec {
            start_step: 5,
            stop_step: 800,
            ..report(0, StateVariable::V, vec![0], 5)
        })
        .unwrap();
    let mut sink = VecSink::default();
    sim.run(333, &mut sink).unwrap();
    sim.run(667, &mut sink).unwrap();
    assert!(sink.spikes.is_empty());
    let data = sim.report(r);
    assert_eq!(
        data.first_end_step,
        Some(10),
        "the first multiple of 5 after 5"
    );
    assert_eq!(data.rows(), 159, "10, 15, ..., 800 steps");
    let ri = p.tau_m_ms / p.c_m_pf * i_pa;
    for (k, &v) in data.data.iter().enumerate() {
        let t = (10 + 5 * k) as f64 * DT;
        let expected = p.e_l_mv + ri * (1.0 - (-t / p.tau_m_ms).exp());
        // Relative to the depolarisation, the quantity the integration computes.
        let (got, want) = (v - p.e_l_mv, expected - p.e_l_mv);
        assert!(
            close(got, want, 1e-9, 0.0),
            "t = {t} ms: {got} vs {want} mV"
        );
    }
}

#[test]
fn membrane_after_one_input_spike_follows_the_closed_form() {
    // A spike of weight w at 1 ms (step 10) enters the synaptic current at the end of
    // step 10, t0 = 1.1 ms; from then on I(t) = w e^{-x / tau_s} and
    // V(t) = E_L + w tau_m tau_s / (C (tau_m - tau_s)) (e^{-x / tau_m} - e^{-x / tau_s}),
    // x = t - t0. Before t0 both are zero.
    let p = LifParams::default();
    let w = 200.0;
    let spec = one_neuron(InputKind::SpikeTimes {
        times_ms: vec![1.0],
        weight_pa: w,
        delay_ms: None,
    });
    let mut sim = Simulation::build(&spec, 1, 1).unwrap();
    let rv = sim
        .add_report(report(0, StateVariable::V, vec![0], 1))
        .unwrap();
    let ri = sim
        .add_report(report(0, StateVariable::ISyn, vec![0], 1))
        .unwrap();
    let mut sink = VecSink::default();
    sim.run(600, &mut sink).unwrap();
    assert!(sink.spikes.is_empty());
    let (tm, ts, c) = (p.tau_m_ms, p.tau_syn_ex_ms, p.c_m_pf);
    let t0 = 1.1;
    let v = &sim.report(rv).data;
    let i = &sim.report(ri).data;
    assert_eq!((v.len(), i.len()), (600, 600));
    let peak = w * tm * ts / (c * (tm - ts));
    for k in 0..600 {
        let t = (k + 1) as f64 * DT;
        let x = t - t0;
        let (v_want, i_want) = if x < -1e-9 {
            (0.0, 0.0)
        } else {
            let x = x.max(0.0);
            (
                peak * ((-x / tm).exp() - (-x / ts).exp()),
                w * (-x / ts).exp(),
            )
        };
        let got = v[k] - p.e_l_mv;
        // The floor: at x = 0 both V terms cancel.
        assert!(
            close(got, v_want, 1e-9, 1e-6 * peak),
            "t = {t}: {got} vs {v_want}"
        );
        assert!(
            close(i[k], i_want, 1e-9, 0.0),
            "t = {t}: {} vs {i_want}",
            i[k]
        );
    }
}

#[test]
fn bap_gap_current_and_threshold_are_sampled_at_the_step_end() {
    // pre -> post, g = 6 nS (as in the gap closed-form test of the network): post fires
    // in step 51 with A_bap = 10 mV; the trace reaches pre's soma in step 53, where the
    // junction current is g b = 60 pA over that step, with b decayed by one step later.
    let lif = |name: &str, a_bap_mv: f64, theta_plus_mv: f64| {
        PopulationSpec::new(
            name,
            1,
            LifParams {
                a_bap_mv,
                theta_plus_mv,
                tau_syn_ex_ms: 0.1,
                ..LifParams::default()
            },
        )
        .unwrap()
    };
    let spec = NetworkSpec {
        dt_ms: DT,
        populations: vec![lif("pre", 0.0, 0.0), lif("post", 10.0, 2.0)],
        projections: vec![ProjectionSpec {
            name: "pp".into(),
            source: 0,
            target: 1,
            rule: Arc::new(OneToOne {}),
            weight_pa: ValueDist::Constant(2.0),
            delay_ms: ValueDist::Constant(1.0),
            gap: Some(GapSpec {
                kappa_ns: 3.0,
                weight_unit_pa: 1.0,
                kind: JunctionKind::Ohmic,
                delay_ms: 0.1,
                c0: 1.0,
                tag_window_ms: 20.0,
                tau_tag_ms: f64::INFINITY,
                tau_g_ms: 0.0,
                dendrite_pf: None,
            }),
            plasticity: None,
        }],
        inputs: vec![InputSpec {
            name: "kick".into(),
            target: 1,
            neurons: vec![0],
            kind: InputKind::SpikeTimes {
                times_ms: vec![5.0],
                weight_pa: 1.0e5,
                delay_ms: None,
            },
        }],
    };
    let mut sim = Simulation::build(&spec, 1, 1).unwrap();
    let gap = sim
        .add_report(report(0, StateVariable::IGap, vec![0], 1))
        .unwrap();
    let v_pre = sim
        .add_report(report(0, StateVariable::V, vec![0], 1))
        .unwrap();
    let bap = sim
        .add_report(report(1, StateVariable::Bap, vec![0], 1))
        .unwrap();
    let theta = sim
        .add_report(report(1, StateVariable::Theta, vec![0], 1))
        .unwrap();
    let v_post = sim
        .add_report(report(1, StateVariable::V, vec![0], 1))
        .unwrap();
    let mut sink = VecSink::default();
    sim.run(60, &mut sink).unwrap();
    assert_eq!(sink.spikes, vec![(51, 1)]);
    // Row k is the end of step k.
    let row = |r: usize, k: usize| sim.report(r).data[k];
    assert_eq!(row(v_post, 51), -70.0, "sampled after the reset");
    assert_eq!(row(bap, 50), 0.0);
    assert_eq!(row(bap, 51), 10.0);
    assert!(close(row(bap, 52), 10.0 * (-DT / 5.0).exp(), 1e-12, 0.0));
    assert_eq!((row(theta, 50), row(theta, 51)), (-55.0, -53.0));
    assert!(close(
        row(theta, 52),
        -55.0 + 2.0 * (-DT / 1000.0).exp(),
        1e-12,
        0.0
    ));
    assert!((0..53).all(|k| row(gap, k) == 0.0));
    assert!(close(row(gap, 53), 60.0, 1e-12, 0.0));
    // The next step's current uses the decayed trace and pre's potential at its start.
    let b = 10.0 * (-DT / 5.0).exp();
    let v = row(v_pre, 53) + 70.0;
    assert!(close(row(gap, 54), 6.0 * (b - v), 1e-9, 0.0));
}

/// Two populations, gap junctions with bAP, adaptation and Poisson drive: every variable
/// moves.
fn busy_network() -> NetworkSpec {
    let a = PopulationSpec::new("A", 300, LifParams::default()).unwrap();
    let b = PopulationSpec::new(
        "B",
        200,
        LifParams {
            a_bap_mv: 6.0,
            theta_plus_mv: 1.0,
            ..LifParams::default()
        },
    )
    .unwrap();
    NetworkSpec {
        dt_ms: DT,
        populations: vec![a, b],
        projections: vec![ProjectionSpec {
            name: "ab".into(),
            source: 0,
            target: 1,
            rule: Arc::new(FixedProbability {
                p: 0.1,
                allow_autapses: true,
            }),
            weight_pa: ValueDist::Uniform {
                low: 0.0,
                high: 600.0,
            },
            delay_ms: ValueDist::Constant(1.0),
            plasticity: None,
            gap: Some(GapSpec {
                kappa_ns: 0.05,
                weight_unit_pa: 600.0,
                kind: JunctionKind::Ohmic,
                delay_ms: 0.3,
                c0: 1.0,
                tag_window_ms: 20.0,
                tau_tag_ms: f64::INFINITY,
                tau_g_ms: 0.0,
                dendrite_pf: None,
            }),
        }],
        inputs: vec![InputSpec {
            name: "drive".into(),
            target: 0,
            neurons: (0..300).collect(),
            kind: InputKind::Poisson {
                rate_hz: 2000.0,
                weight_pa: 120.0,
                start_ms: 0.0,
                stop_ms: 100.0,
            },
        }],
    }
}

/// Spikes and (with `reports`) every variable of a spread of neurons of both
/// populations, over 1500 steps in three runs.
fn run_busy(threads: usize, reports: bool) -> (Vec<(u64, u32)>, Vec<Vec<f64>>) {
    let mut sim = Simulation::build(&busy_network(), 3, threads).unwrap();
    if reports {
        for pop in [0, 1] {
            for v in StateVariable::ALL {
                let neurons = (0..200).step_by(7).collect();
                sim.add_report(ReportSpec {
                    start_step: 3,
                    stop_step: 1400,
                    ..report(pop, v, neurons, 2)
                })
                .unwrap();
            }
        }
    }
    let mut sink = VecSink::default();
    for steps in [1, 700, 799] {
        sim.run(steps, &mut sink).unwrap();
    }
    let data = sim.reports().iter().map(|r| r.data.clone()).collect();
    (sink.spikes, data)
}

#[test]
fn reports_change_no_spike_and_do_not_depend_on_the_thread_count() {
    let (plain, _) = run_busy(1, false);
    let (one, samples) = run_busy(1, true);
    assert_eq!(plain, one, "recording changed the spikes");
    assert!(one.iter().any(|s| s.1 >= 300), "B fires");
    // Every variable moves, so the comparison below compares something, but those that
    // cannot: A has no bAP and no adaptation, and no junction carries current into B.
    let still = [2, 4, 8];
    for (r, d) in samples.iter().enumerate() {
        assert_eq!(
            d.len(),
            29 * 699,
            "report {r}: 29 neurons, steps 4, 6, ..., 1400"
        );
        let moved = d.iter().any(|&x| x != d[0]);
        assert_eq!(moved, !still.contains(&r), "report {r}");
    }
    for threads in [2, 3] {
        let (many, s) = run_busy(threads, true);
        assert_eq!(one, many, "{threads} threads: spikes");
        for (a, b) in samples.iter().zip(&s) {
            let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(a), bits(b), "{threads} threads: samples");
        }
    }
}

#[test]
fn invalid_reports_are_refused() {
    let mut sim = Simulation::build(&busy_network(), 1, 1).unwrap();
    let ok = report(1, StateVariable::V, vec![0, 199], 1);
    for (bad, why) in [
        (
            ReportSpec {
                population: 2,
                ..ok.clone()
            },
            "no population 2",
        ),
        (
            ReportSpec {
                neurons: vec![0, 200],
                ..ok.clone()
            },
            "outside the population",
        ),
        (
            ReportSpec {
                neurons: vec![3, 3],
                ..ok.clone()
            },
            "strictly ascending",
        ),
        (
            ReportSpec {
                interval_steps: 0,
                ..ok.clone()
            },
            "at least 1",
        ),
        (
            ReportSpec {
                start_step: 5,
                stop_step: 5,
                ..ok.clone()
            },
            "before stop_step",
        ),
    ] {
        let e = sim.add_report(bad).unwrap_err().to_string();
        assert!(e.contains(why), "{e}");
    }
    assert_eq!(sim.add_report(ok).unwrap(), 0);
}
