use super::*;
use engram_neuron::LifParams;

fn cuba_like(n: u32) -> NetworkSpec {
    let params = LifParams {
        c_m_pf: 250.0,
        tau_m_ms: 20.0,
        tau_syn_ex_ms: 5.0,
        tau_syn_in_ms: 10.0,
        t_ref_ms: 5.0,
        e_l_mv: -49.0,
        v_th_mv: -50.0,
        v_reset_mv: -60.0,
        ..LifParams::default()
    };
    let ne = n * 4 / 5;
    let mut e = PopulationSpec::new("E", ne, params).unwrap();
    e.v_init_mv = ValueDist::Uniform {
        low: -60.0,
        high: -50.0,
    };
    let mut i = PopulationSpec::new("I", n - ne, params).unwrap();
    i.v_init_mv = ValueDist::Uniform {
        low: -60.0,
        high: -50.0,
    };
    let p = 80.0 / f64::from(n);
    let proj = |name: &str, s, t, w| ProjectionSpec {
        name: name.into(),
        source: s,
        target: t,
        rule: ConnRule::FixedProbability {
            p,
            allow_autapses: true,
        },
        weight_pa: ValueDist::Constant(w),
        delay_ms: ValueDist::Constant(0.1),
    };
    NetworkSpec {
        dt_ms: 0.1,
        populations: vec![e, i],
        projections: vec![
            proj("EE", 0, 0, 20.25),
            proj("EI", 0, 1, 20.25),
            proj("IE", 1, 0, -112.5),
            proj("II", 1, 1, -112.5),
        ],
        inputs: vec![],
    }
}

fn run(spec: &NetworkSpec, seed: u64, threads: usize, steps: u64) -> (Vec<(u64, u32)>, Simulation) {
    let mut sim = Simulation::build(spec, seed, threads).unwrap();
    let mut sink = VecSink::default();
    sim.run(steps, &mut sink).unwrap();
    (sink.spikes, sim)
}

#[test]
fn same_seed_same_spikes_for_any_thread_count() {
    let mut spec = cuba_like(2000);
    // Add every kind of randomness: drawn weights and delays, Poisson input.
    spec.projections[0].weight_pa = ValueDist::Normal {
        mean: 20.0,
        std: 5.0,
        min: 0.0,
        max: 40.0,
    };
    spec.projections[1].delay_ms = ValueDist::Uniform {
        low: 0.1,
        high: 3.0,
    };
    spec.projections.push(ProjectionSpec {
        name: "out".into(),
        source: 1,
        target: 0,
        rule: ConnRule::FixedOutDegree {
            k: 10,
            allow_autapses: false,
            allow_multapses: true,
        },
        weight_pa: ValueDist::Uniform {
            low: -10.0,
            high: 0.0,
        },
        delay_ms: ValueDist::Constant(1.0),
    });
    spec.inputs.push(InputSpec {
        name: "noise".into(),
        target: 0,
        neurons: (0..200).collect(),
        kind: InputKind::Poisson {
            rate_hz: 500.0,
            weight_pa: 50.0,
            start_ms: 0.0,
            stop_ms: 200.0,
        },
    });
    let (one, sim1) = run(&spec, 7, 1, 2000);
    assert!(
        one.len() > 1000,
        "the network is active: {} spikes",
        one.len()
    );
    for threads in [2, 3, 4] {
        let (many, sim) = run(&spec, 7, threads, 2000);
        assert_eq!(one, many, "{threads} threads");
        assert_eq!(sim1.n_synapses(), sim.n_synapses());
        assert_eq!(sim1.syn_events(), sim.syn_events());
        assert_eq!(sim1.membrane_potentials_mv(), sim.membrane_potentials_mv());
    }
    let (other, _) = run(&spec, 8, 1, 2000);
    assert_ne!(one, other, "another seed gives another network");
}

#[test]
fn cuba_rate_is_in_the_published_range() {
    // Brian2's CUBA example gives 5.4-6.0 Hz at 4000 neurons; a shorter run of a smaller
    // network with the same in-degree must be in the same regime.
    let spec = cuba_like(4000);
    let (spikes, sim) = run(&spec, 1, 2, 5000);
    let rate = spikes.len() as f64 / 4000.0 / 0.5;
    assert!((4.0..8.0).contains(&rate), "rate {rate} Hz");
    // Mean in-degree 80: about 320 000 synapses.
    let n = sim.n_synapses() as f64;
    assert!((n - 320_000.0).abs() < 3000.0, "{n} synapses");
}

fn single_pop(n: u32) -> NetworkSpec {
    NetworkSpec {
        dt_ms: 0.1,
        populations: vec![PopulationSpec::new("P", n, LifParams::default()).unwrap()],
        projections: vec![],
        inputs: vec![],
    }
}

/// The synapses of projection 0 as (source, target) pairs, with weights, via a probe:
/// one spike of each source at a time is not practical, so count degrees instead.
fn degrees(spec: &NetworkSpec, threads: usize) -> u64 {
    Simulation::build(spec, 3, threads).unwrap().n_synapses()
}

#[test]
fn connection_rules_give_the_right_counts() {
    let mut spec = single_pop(50);
    spec.populations
        .push(PopulationSpec::new("Q", 30, LifParams::default()).unwrap());
    let proj = |rule| ProjectionSpec {
        name: "x".into(),
        source: 0,
        target: 1,
        rule,
        weight_pa: ValueDist::Constant(1.0),
        delay_ms: ValueDist::Constant(1.0),
    };
    let cases = [
        (
            ConnRule::AllToAll {
                allow_autapses: true,
            },
            1500,
        ),
        (
            ConnRule::FixedInDegree {
                k: 7,
                allow_autapses: true,
                allow_multapses: false,
            },
            210,
        ),
        (
            ConnRule::FixedOutDegree {
                k: 4,
                allow_autapses: true,
                allow_multapses: false,
            },
            200,
        ),
        (
            ConnRule::FixedProbability {
                p: 1.0,
                allow_autapses: true,
            },
            1500,
        ),
        (
            ConnRule::FixedProbability {
                p: 0.0,
                allow_autapses: true,
            },
            0,
        ),
    ];
    for (rule, expected) in cases {
        spec.projections = vec![proj(rule)];
        for threads in [1, 3] {
            assert_eq!(degrees(&spec, threads), expected, "{rule:?}");
        }
    }
    // Autapses excluded within one population.
    let mut spec = single_pop(20);
    spec.projections = vec![ProjectionSpec {
        source: 0,
        target: 0,
        ..proj(ConnRule::AllToAll {
            allow_autapses: false,
        })
    }];
    assert_eq!(degrees(&spec, 2), 380);
    spec.projections[0].rule = ConnRule::OneToOne;
    assert_eq!(degrees(&spec, 2), 20);
    // Fixed probability: binomial count within 5 standard deviations.
    let mut spec = single_pop(400);
    spec.projections = vec![ProjectionSpec {
        source: 0,
        target: 0,
        ..proj(ConnRule::FixedProbability {
            p: 0.1,
            allow_autapses: false,
        })
    }];
    let n = degrees(&spec, 1) as f64;
    let (mean, sd) = (400.0 * 399.0 * 0.1, (400.0f64 * 399.0 * 0.1 * 0.9).sqrt());
    assert!((n - mean).abs() < 5.0 * sd, "{n} vs {mean}");
}

#[test]
fn one_to_one_spike_arrives_after_the_delay() {
    // A spike-times input makes neuron 0 of A fire; it drives B through a one-to-one
    // projection with a 2 ms delay and a huge weight. B must fire exactly 2 ms + one step
    // (the current first moves V in the step after it arrives) after A.
    let mut spec = single_pop(3);
    spec.populations
        .push(PopulationSpec::new("B", 3, LifParams::default()).unwrap());
    spec.projections.push(ProjectionSpec {
        name: "ab".into(),
        source: 0,
        target: 1,
        rule: ConnRule::OneToOne,
        weight_pa: ValueDist::Constant(1.0e5),
        delay_ms: ValueDist::Constant(2.0),
    });
    spec.inputs.push(InputSpec {
        name: "kick".into(),
        target: 0,
        neurons: vec![1],
        kind: InputKind::SpikeTimes {
            times_ms: vec![5.0],
            weight_pa: 1.0e5,
        },
    });
    for threads in [1, 2] {
        let (spikes, _) = run(&spec, 1, threads, 200);
        let first = |id: u32| spikes.iter().find(|s| s.1 == id).map(|s| s.0);
        // Input at step 50 enters I_ex at the end of step 50, V crosses in step 51; the
        // spike reaches B 20 steps later and moves V in the step after that.
        assert_eq!(first(1), Some(51), "{threads} threads");
        assert_eq!(first(3 + 1), Some(51 + 20 + 1), "{threads} threads");
        assert!(
            spikes.iter().all(|s| s.1 == 1 || s.1 == 4),
            "only the kicked pair fires"
        );
    }
}

#[test]
fn dc_input_matches_the_single_neuron_rate() {
    let mut spec = single_pop(4);
    spec.inputs.push(InputSpec {
        name: "dc".into(),
        target: 0,
        neurons: vec![0, 2],
        kind: InputKind::Dc {
            amplitude_pa: 600.0,
            start_ms: 100.0,
            stop_ms: 600.0,
        },
    });
    let (spikes, _) = run(&spec, 1, 2, 8000);
    // LIF f-I: t_ref + tau_m ln(RI / (RI - theta)) with R = tau/C.
    let p = LifParams::default();
    let ri = p.tau_m_ms / p.c_m_pf * 600.0;
    let isi = p.t_ref_ms + p.tau_m_ms * (ri / (ri - 15.0)).ln();
    let expected = (500.0 / isi).floor() as usize;
    for id in [0, 2] {
        let mine: Vec<u64> = spikes.iter().filter(|s| s.1 == id).map(|s| s.0).collect();
        assert!(
            mine.len() == expected || mine.len() + 1 == expected,
            "{} vs {expected}",
            mine.len()
        );
        assert!(mine.iter().all(|&s| (1000..6000 + 1).contains(&s)));
    }
    assert!(spikes.iter().all(|s| s.1 == 0 || s.1 == 2));
}

#[test]
fn poisson_input_has_the_asked_rate() {
    // Each input spike makes the neuron fire once: a huge, very brief synaptic current
    // (tau_syn 0.05 ms) that has vanished by the end of the 0.5 ms refractory period.
    let params = LifParams {
        t_ref_ms: 0.5,
        tau_syn_ex_ms: 0.05,
        ..LifParams::default()
    };
    let mut spec = NetworkSpec {
        dt_ms: 0.1,
        populations: vec![PopulationSpec::new("P", 50, params).unwrap()],
        projections: vec![],
        inputs: vec![],
    };
    spec.inputs.push(InputSpec {
        name: "p".into(),
        target: 0,
        neurons: (0..50).collect(),
        kind: InputKind::Poisson {
            rate_hz: 20.0,
            weight_pa: 1.0e6,
            start_ms: 0.0,
            stop_ms: 10_000.0,
        },
    });
    let (spikes, _) = run(&spec, 5, 2, 100_000);
    // 50 neurons x 10 s x 20 Hz = 10 000 expected; two input spikes within 0.6 ms give
    // one output spike (probability ~1 %).
    let n = spikes.len() as f64;
    assert!((n - 10_000.0).abs() < 5.0 * 100.0, "{n} spikes");
}

#[test]
fn invalid_specs_name_the_field() {
    let mut spec = single_pop(10);
    spec.projections.push(ProjectionSpec {
        name: "pp".into(),
        source: 0,
        target: 0,
        rule: ConnRule::FixedProbability {
            p: 1.5,
            allow_autapses: false,
        },
        weight_pa: ValueDist::Constant(1.0),
        delay_ms: ValueDist::Constant(1.0),
    });
    let err = Simulation::build(&spec, 1, 1).err().unwrap().to_string();
    assert!(err.starts_with("projections.pp.connectivity.p:"), "{err}");
    spec.projections[0].rule = ConnRule::AllToAll {
        allow_autapses: true,
    };
    spec.projections[0].weight_pa = ValueDist::Uniform {
        low: -1.0,
        high: 1.0,
    };
    let err = Simulation::build(&spec, 1, 1).err().unwrap().to_string();
    assert!(err.starts_with("projections.pp.weight_pa:"), "{err}");
    spec.projections[0].weight_pa = ValueDist::Constant(1.0);
    spec.projections[0].rule = ConnRule::FixedInDegree {
        k: 10,
        allow_autapses: false,
        allow_multapses: false,
    };
    let err = Simulation::build(&spec, 1, 1).err().unwrap().to_string();
    assert!(err.starts_with("projections.pp.connectivity.k:"), "{err}");
}
