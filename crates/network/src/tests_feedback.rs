//! Feedback synapses (`JunctionKind::Feedback`): the ablation in which a learned synapse
//! pre -> post is mirrored by an ordinary chemical synapse post -> pre instead of a gap
//! junction driven by the bAP.

use super::*;
use crate::connect::{AllToAll, FixedInDegree, FixedProbability, OneToOne};
use crate::tests::{gap, kick, lif};
use engram_neuron::LifParams;
use std::sync::Arc;

/// Feedback synapses of `weight_pa` per unit weight (unit 1 pA), `delay_ms` back, tags off.
fn feedback(weight_pa: f64, delay_ms: f64) -> GapSpec {
    GapSpec {
        kappa_ns: 0.0,
        delay_ms,
        ..gap(0.0, JunctionKind::Feedback { weight_pa })
    }
}

/// pre -> post, one synapse of 2 pA (no visible effect on post) carrying `fb`, plus an
/// optional ordinary projection post -> pre `(weight, delay)`. The pre cell has the
/// default 2 ms synapse; the post cell, a bAP of `a_bap_mv`, is kicked to fire once at
/// 5 ms (unless `kicked` is false).
fn pair(fb: Option<GapSpec>, back: Option<(f64, f64)>, a_bap_mv: f64, kicked: bool) -> NetworkSpec {
    let mut projections = vec![ProjectionSpec {
        name: "fwd".into(),
        source: 0,
        target: 1,
        rule: Arc::new(OneToOne {}),
        weight_pa: ValueDist::Constant(2.0),
        delay_ms: ValueDist::Constant(1.0),
        gap: fb,
        plasticity: None,
    }];
    if let Some((w, d)) = back {
        projections.push(ProjectionSpec {
            name: "back".into(),
            source: 1,
            target: 0,
            rule: Arc::new(OneToOne {}),
            weight_pa: ValueDist::Constant(w),
            delay_ms: ValueDist::Constant(d),
            gap: None,
            plasticity: None,
        });
    }
    NetworkSpec {
        dt_ms: 0.1,
        populations: vec![
            PopulationSpec::new("pre", 1, LifParams::default()).unwrap(),
            lif("post", 1, a_bap_mv),
        ],
        projections,
        inputs: if kicked {
            vec![kick("k", 1, 0, 5.0)]
        } else {
            vec![]
        },
    }
}

/// The membrane potential of neuron `id` after each of `steps` steps, the spikes, and the
/// largest stimulation current (current inputs and gap junctions) seen by that neuron.
fn trace(sim: &mut Simulation, id: usize, steps: u64) -> (Vec<f64>, Vec<(u64, u32)>, f64) {
    let mut sink = VecSink::default();
    let mut v = Vec::new();
    let mut stim = 0.0f64;
    for _ in 0..steps {
        sim.run(1, &mut sink).unwrap();
        v.push(sim.membrane_potentials_mv()[id]);
        stim = stim.max(sim.stimulation_currents_pa()[id].abs());
    }
    (v, sink.spikes, stim)
}

#[test]
fn a_feedback_synapse_is_a_chemical_synapse_post_to_pre() {
    // One post spike sends m_gap * weight_pa * w * c = 1 * 150 * 2 * 1 = 300 pA, 1.5 ms
    // later, into pre's excitatory synaptic current: the pre cell's trace must be that of a
    // network where an ordinary synapse post -> pre of 300 pA and 1.5 ms delivers it, to
    // the bit, with or without a bAP in the post cell.
    let (reference, ref_spikes, _) = trace(
        &mut Simulation::build(&pair(None, Some((300.0, 1.5)), 0.0, true), 1, 1).unwrap(),
        0,
        400,
    );
    assert_eq!(ref_spikes, vec![(51, 1)], "the post cell fires once");
    let peak = reference.iter().fold(f64::MIN, |a, &b| a.max(b)) + 70.0;
    assert!(peak > 1.0 && peak < 15.0, "a subthreshold PSP of {peak} mV");
    for a_bap_mv in [0.0, 10.0] {
        let spec = pair(Some(feedback(150.0, 1.5)), None, a_bap_mv, true);
        let mut sim = Simulation::build(&spec, 1, 1).unwrap();
        let (v, spikes, stim) = trace(&mut sim, 0, 400);
        assert_eq!(spikes, ref_spikes, "bAP {a_bap_mv} mV");
        assert_eq!(
            v, reference,
            "bAP {a_bap_mv} mV: the PSP of a chemical synapse"
        );
        assert_eq!(stim, 0.0, "no current through the gap-junction path");
    }
}

#[test]
fn no_post_spike_no_feedback_whatever_the_bap_trace() {
    // A bAP trace (10 mV, decaying for tens of ms after the spike) drives a junction for
    // as long as it lasts, but a feedback synapse only at the spike: the pre cell's trace is
    // the same with and without the bAP (above), and without a post spike nothing at all.
    let spec = pair(Some(feedback(150.0, 1.5)), None, 10.0, false);
    let mut sim = Simulation::build(&spec, 1, 1).unwrap();
    let (v, spikes, _) = trace(&mut sim, 0, 400);
    assert!(spikes.is_empty());
    assert!(v.iter().all(|&x| x == -70.0), "pre at rest throughout");
    // The same pair with a junction of the same weight does pass current while the trace
    // lasts (a check that the bAP exists).
    let mut junction = pair(Some(gap(1.0, JunctionKind::Rectifying)), None, 10.0, true);
    junction.projections[0].gap.as_mut().unwrap().delay_ms = 1.5;
    let (_, _, stim) = trace(&mut Simulation::build(&junction, 1, 1).unwrap(), 0, 400);
    assert!(stim > 10.0, "junction current {stim} pA");
}

#[test]
fn feedback_scales_with_the_gap_gain() {
    // The gain of the projection's target (post) population scales every jump: m = 0.5 is
    // bit for bit an ordinary synapse of 150 pA, m = 0 is no feedback, and the deflection
    // of the pre cell is linear in m.
    let spec = pair(Some(feedback(150.0, 1.5)), None, 0.0, true);
    let deflection = |m: f64| {
        let mut sim = Simulation::build(&spec, 1, 1).unwrap();
        sim.set_modulation(1, Modulation::NEUTRAL.with(Target::GapGain, m));
        let (v, spikes, _) = trace(&mut sim, 0, 400);
        assert_eq!(spikes, vec![(51, 1)]);
        v
    };
    let (half_ref, _, _) = trace(
        &mut Simulation::build(&pair(None, Some((150.0, 1.5)), 0.0, true), 1, 1).unwrap(),
        0,
        400,
    );
    assert_eq!(deflection(0.5), half_ref);
    assert!(deflection(0.0).iter().all(|&x| x == -70.0));
    let full = deflection(1.0);
    let quarter = deflection(0.25);
    assert!(full.iter().any(|&x| x + 70.0 > 1.0));
    for (a, b) in full.iter().zip(&quarter) {
        assert!(((b + 70.0) - 0.25 * (a + 70.0)).abs() < 1e-12, "{a} {b}");
    }
}

#[test]
fn feedback_scales_with_the_encoding_tag() {
    // A0, A1 -> B0 (w = 0.5 units), feedback of 400 pA per unit: a jump of 200 c pA.
    // Encoding (tagging on): A0 fires at 5 ms, B0 at 6 ms, so only A0 -> B0 is tagged, at
    // B0's spike. Recall: B0 fires again at 300 ms; the jump into A0 has
    // c = c0 + (1 - c0) e^{-t / tau_tag}, that into A1 has c = c0.
    for c0 in [0.0, 0.25] {
        let tau_tag_ms = 200.0;
        let spec = NetworkSpec {
            dt_ms: 0.1,
            populations: vec![lif("A", 2, 0.0), lif("B", 1, 0.0)],
            projections: vec![ProjectionSpec {
                name: "ab".into(),
                source: 0,
                target: 1,
                rule: Arc::new(AllToAll {
                    allow_autapses: true,
                }),
                weight_pa: ValueDist::Constant(0.5),
                delay_ms: ValueDist::Constant(1.0),
                gap: Some(GapSpec {
                    c0,
                    tau_tag_ms,
                    ..feedback(400.0, 1.0)
                }),
                plasticity: Some(PlasticitySpec {
                    rule: PlasticityRule::SoftBounded {
                        eta_plus: 0.0,
                        eta_minus: 0.0,
                        window_ms: 20.0,
                    },
                    weight_unit_pa: 1.0,
                    normalize: false,
                }),
            }],
            inputs: vec![
                kick("a0", 0, 0, 5.0),
                kick("b0", 1, 0, 6.0),
                kick("b0_again", 1, 0, 300.0),
            ],
        };
        let mut sim = Simulation::build(&spec, 1, 2).unwrap();
        let mut sink = VecSink::default();
        sim.set_tagging(true);
        sim.run(200, &mut sink).unwrap();
        sim.set_tagging(false);
        sim.run(2800, &mut sink).unwrap();
        assert_eq!(
            sim.membrane_potentials_mv()[1],
            -70.0,
            "A1 has received nothing"
        );
        let (mut a0, mut a1) = (Vec::new(), Vec::new());
        for _ in 0..100 {
            sim.run(1, &mut sink).unwrap();
            let v = sim.membrane_potentials_mv();
            a0.push(v[0]);
            a1.push(v[1]);
        }
        let b_spikes: Vec<u64> = sink
            .spikes
            .iter()
            .filter(|s| s.1 == 2)
            .map(|s| s.0)
            .collect();
        assert_eq!(b_spikes.len(), 2, "B0 fires twice: {b_spikes:?}");
        let e = (-((b_spikes[1] - b_spikes[0]) as f64) * 0.1 / tau_tag_ms).exp();
        let c_a0 = c0 + (1.0 - c0) * e;
        let peak = a0.iter().fold(f64::MIN, |a, &b| a.max(b)) + 70.0;
        assert!(peak > 0.01, "A0 receives its jump: {peak} mV");
        for (x0, x1) in a0.iter().zip(&a1) {
            let expected = (x0 + 70.0) * c0 / c_a0;
            assert!(
                ((x1 + 70.0) - expected).abs() < 1e-9 * peak,
                "c0 = {c0}: {x1} vs {expected}"
            );
        }
        if c0 == 0.0 {
            assert!(a1.iter().all(|&x| x == -70.0), "untagged: no feedback");
        }
    }
}

#[test]
fn feedback_network_is_identical_for_any_thread_count() {
    // Random weights and delays, two feedback projections (one onto the other's source,
    // one with junction weights that follow the chemical ones with tau_g), learning and
    // tags, post cells without a bAP.
    let spec = NetworkSpec {
        dt_ms: 0.1,
        populations: vec![
            PopulationSpec::new("A", 300, LifParams::default()).unwrap(),
            PopulationSpec::new("B", 200, LifParams::default()).unwrap(),
        ],
        projections: vec![
            ProjectionSpec {
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
                delay_ms: ValueDist::Uniform {
                    low: 0.5,
                    high: 2.0,
                },
                plasticity: Some(PlasticitySpec {
                    rule: PlasticityRule::SoftBounded {
                        eta_plus: 0.2,
                        eta_minus: 0.02,
                        window_ms: 20.0,
                    },
                    weight_unit_pa: 600.0,
                    normalize: true,
                }),
                gap: Some(GapSpec {
                    weight_unit_pa: 600.0,
                    c0: 0.3,
                    tau_tag_ms: 50.0,
                    ..feedback(40.0, 0.7)
                }),
            },
            ProjectionSpec {
                name: "bb".into(),
                source: 1,
                target: 1,
                rule: Arc::new(FixedInDegree {
                    k: 10,
                    allow_autapses: false,
                    allow_multapses: true,
                }),
                weight_pa: ValueDist::Constant(40.0),
                delay_ms: ValueDist::Constant(1.0),
                plasticity: None,
                gap: Some(GapSpec {
                    weight_unit_pa: 40.0,
                    tau_g_ms: 20.0,
                    dendrite_pf: None,
                    ..feedback(30.0, 2.5)
                }),
            },
        ],
        inputs: vec![InputSpec {
            name: "drive".into(),
            target: 0,
            neurons: (0..300).collect(),
            kind: InputKind::Poisson {
                rate_hz: 2000.0,
                weight_pa: 120.0,
                start_ms: 0.0,
                stop_ms: 150.0,
            },
        }],
    };
    let run = |spec: &NetworkSpec, threads: usize| {
        let mut sim = Simulation::build(spec, 3, threads).unwrap();
        sim.set_tagging(true);
        sim.set_plasticity(true);
        let mut sink = VecSink::default();
        sim.run(1500, &mut sink).unwrap();
        (sink.spikes, sim.membrane_potentials_mv(), sim.weights(0))
    };
    let one = run(&spec, 1);
    assert!(one.0.iter().filter(|s| s.1 >= 300).count() > 50, "B fires");
    for threads in [2, 3] {
        assert!(one == run(&spec, threads), "{threads} threads");
    }
    // The feedback is not idle: without it, A fires differently.
    let mut without = spec.clone();
    for p in &mut without.projections {
        p.gap = None;
    }
    let a_spikes = |s: &[(u64, u32)]| s.iter().filter(|x| x.1 < 300).count();
    let fed_back = a_spikes(&one.0);
    let plain = a_spikes(&run(&without, 1).0);
    assert!(
        fed_back > plain,
        "feedback excites A: {fed_back} vs {plain} spikes"
    );
}

#[test]
fn feedback_synapses_are_validated_and_skip_the_gap_stability_check() {
    let mut spec = pair(Some(feedback(150.0, 1.5)), None, 0.0, true);
    spec.projections[0].gap.as_mut().unwrap().kappa_ns = 1.0;
    let err = Simulation::build(&spec, 1, 1).err().unwrap().to_string();
    assert!(err.starts_with("projections.fwd.gap.kappa_ns:"), "{err}");
    assert!(err.contains("meaningless"), "{err}");
    spec.projections[0].gap = Some(feedback(-1.0, 1.5));
    let err = Simulation::build(&spec, 1, 1).err().unwrap().to_string();
    assert!(err.starts_with("projections.fwd.gap.weight_pa:"), "{err}");
    // 100 partners of a weight that, as junctions of 30 nS, would be unstable (see
    // `coupling_that_would_be_unstable_is_rejected`): a current jump is not a
    // conductance, so the check does not apply.
    let strong = NetworkSpec {
        dt_ms: 0.1,
        populations: vec![lif("pre", 2, 0.0), lif("post", 100, 0.0)],
        projections: vec![ProjectionSpec {
            name: "strong".into(),
            source: 0,
            target: 1,
            rule: Arc::new(AllToAll {
                allow_autapses: true,
            }),
            weight_pa: ValueDist::Constant(1.0),
            delay_ms: ValueDist::Constant(1.0),
            gap: Some(feedback(1.0e4, 0.1)),
            plasticity: None,
        }],
        inputs: vec![],
    };
    assert!(Simulation::build(&strong, 1, 1).is_ok());
}
