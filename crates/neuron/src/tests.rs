use super::*;
use approx::assert_relative_eq;
use engram_core::Target;
use proptest::prelude::*;

const DT: f64 = 0.1;

/// Runs one neuron for `steps` steps with a constant stimulation current and synaptic
/// jumps given per step; returns the trace of `v_rel` after each step and the spike steps.
fn run_one(
    params: LifParams,
    steps: usize,
    i_stim_pa: f64,
    jumps: &[(usize, f64)],
) -> (Vec<f64>, Vec<usize>) {
    let prop = params.checked().unwrap().propagators(DT).unwrap();
    let mut state = LifState::new(1);
    let mut trace = Vec::with_capacity(steps);
    let mut spike_steps = Vec::new();
    let stim = [i_stim_pa];
    for step in 0..steps {
        let mut ex = [0.0];
        let mut inh = [0.0];
        for &(at, w) in jumps {
            if at == step {
                if w >= 0.0 {
                    ex[0] += w;
                } else {
                    inh[0] += w;
                }
            }
        }
        let mut spikes = Vec::new();
        let input = StepInput {
            ex: &mut ex,
            inh: &mut inh,
            i_stim: Some(&stim),
        };
        prop.step(
            state.slices_mut(0..1),
            input,
            &Modulation::NEUTRAL,
            0,
            &mut spikes,
        );
        if !spikes.is_empty() {
            spike_steps.push(step);
        }
        trace.push(state.v_rel[0]);
    }
    (trace, spike_steps)
}

fn no_spikes() -> LifParams {
    LifParams {
        v_th_mv: 1e6,
        ..LifParams::default()
    }
}

#[test]
fn subthreshold_step_current_matches_closed_form() {
    // V(t) - E_L = R I (1 - e^{-t/tau_m}), R = tau_m / C_m.
    let p = no_spikes();
    let i = 300.0;
    let (trace, _) = run_one(p, 2000, i, &[]);
    let r = p.tau_m_ms / p.c_m_pf;
    for (k, v) in trace.iter().enumerate() {
        let t = (k + 1) as f64 * DT;
        let expected = r * i * (1.0 - (-t / p.tau_m_ms).exp());
        assert_relative_eq!(*v, expected, max_relative = 1e-12, epsilon = 1e-12);
    }
}

#[test]
fn bias_current_is_the_same_as_a_stimulation_current() {
    let p = LifParams {
        i_e_pa: 123.0,
        ..no_spikes()
    };
    let (a, _) = run_one(p, 500, 0.0, &[]);
    let (b, _) = run_one(no_spikes(), 500, 123.0, &[]);
    assert_eq!(a, b);
}

#[test]
fn psp_of_one_synaptic_jump_matches_closed_form() {
    // A jump w at the end of step 0 gives I(t) = w e^{-t/ts} from t0 = dt on, and
    // V(t) = w tm ts / (C (ts - tm)) (e^{-(t-t0)/ts} - e^{-(t-t0)/tm}).
    for (ts, w) in [(2.0, 100.0), (5.0, -80.0), (17.0, 50.0)] {
        let p = LifParams {
            tau_syn_ex_ms: ts,
            tau_syn_in_ms: ts,
            ..no_spikes()
        };
        let (trace, _) = run_one(p, 1000, 0.0, &[(0, w)]);
        let tm = p.tau_m_ms;
        for (k, v) in trace.iter().enumerate() {
            let t = k as f64 * DT; // time since the jump took effect
            let expected =
                w * tm * ts / (p.c_m_pf * (ts - tm)) * ((-t / ts).exp() - (-t / tm).exp());
            assert_relative_eq!(*v, expected, max_relative = 1e-9, epsilon = 1e-12);
        }
    }
}

#[test]
fn psp_is_continuous_when_tau_syn_equals_tau_m() {
    let base = no_spikes();
    let at = |ts: f64| {
        let p = LifParams {
            tau_syn_ex_ms: ts,
            ..base
        };
        run_one(p, 300, 0.0, &[(0, 100.0)]).0
    };
    let equal = at(base.tau_m_ms);
    let near = at(base.tau_m_ms * (1.0 + 1e-7));
    for (a, b) in equal.iter().zip(&near) {
        assert_relative_eq!(*a, *b, max_relative = 1e-5);
    }
    // The limit h/C e^{-h/tau_m} for the alpha-shaped response.
    let t = 300.0 * DT - DT;
    let expected = 100.0 * t / base.c_m_pf * (-t / base.tau_m_ms).exp();
    assert_relative_eq!(equal[299], expected, max_relative = 1e-9);
}

/// Analytic firing rate of a LIF under constant current (Hz).
fn analytic_rate_hz(p: &LifParams, i_pa: f64) -> f64 {
    let ri = p.tau_m_ms / p.c_m_pf * i_pa;
    let theta = p.v_th_mv - p.e_l_mv;
    let reset = p.v_reset_mv - p.e_l_mv;
    if ri <= theta {
        return 0.0;
    }
    let isi_ms = p.t_ref_ms + p.tau_m_ms * ((ri - reset) / (ri - theta)).ln();
    1000.0 / isi_ms
}

#[test]
fn rate_under_constant_input_matches_the_lif_formula() {
    // f = 1 / (t_ref + tau_m ln(R I / (R I - (V_th - E_L)))) for V_reset = E_L. Each
    // interspike interval is quantised up to the next step, so every measured interval
    // lies in [T, T + dt].
    let p = LifParams::default();
    for i in [400.0, 600.0, 1000.0, 2500.0] {
        let (_, spikes) = run_one(p, 20_000, i, &[]);
        let isi_exact = 1000.0 / analytic_rate_hz(&p, i);
        assert!(spikes.len() > 10);
        for w in spikes.windows(2) {
            let isi = (w[1] - w[0]) as f64 * DT;
            assert!(
                isi >= isi_exact - 1e-9 && isi <= isi_exact + DT + 1e-9,
                "I = {i} pA: interval {isi} ms outside [{isi_exact}, {}]",
                isi_exact + DT
            );
        }
    }
}

#[test]
fn below_rheobase_never_fires() {
    let p = LifParams::default();
    let rheobase = (p.v_th_mv - p.e_l_mv) * p.c_m_pf / p.tau_m_ms;
    let (trace, spikes) = run_one(p, 50_000, rheobase * 0.999, &[]);
    assert!(spikes.is_empty());
    assert!(trace.iter().all(|v| *v < p.v_th_mv - p.e_l_mv));
}

#[test]
fn refractory_neuron_is_clamped_for_t_ref() {
    let p = LifParams {
        t_ref_ms: 2.0,
        ..LifParams::default()
    };
    let (trace, spikes) = run_one(p, 5000, 5000.0, &[]);
    let first = spikes[0];
    let reset = p.v_reset_mv - p.e_l_mv;
    // 20 steps of refractoriness after the spike step: V stays at reset.
    for (k, v) in trace.iter().enumerate().skip(first).take(21) {
        assert_eq!(*v, reset, "step {k}");
    }
    assert!(trace[first + 21] > reset);
}

/// One step of one neuron without input; spikes are pushed to `spikes` as id 0.
fn step_alone(prop: &LifPropagators, state: &mut LifState, m: Modulation, spikes: &mut Vec<u32>) {
    let (mut ex, mut inh) = ([0.0], [0.0]);
    let input = StepInput {
        ex: &mut ex,
        inh: &mut inh,
        i_stim: Some(&[0.0]),
    };
    prop.step(state.slices_mut(0..1), input, &m, 0, spikes);
}

#[test]
fn bap_trace_jumps_and_decays_exponentially() {
    let p = LifParams {
        a_bap_mv: 10.0,
        tau_bap_ms: 4.0,
        ..LifParams::default()
    };
    let prop = p.checked().unwrap().propagators(DT).unwrap();
    let mut state = LifState::new(1);
    state.v_rel[0] = 100.0; // above threshold: spikes in the first step
    let mut spikes = Vec::new();
    let gain = 0.5;
    let m = Modulation::NEUTRAL.with(Target::BapGain, gain);
    for _ in 0..101 {
        step_alone(&prop, &mut state, m, &mut spikes);
    }
    assert_eq!(spikes, vec![0]);
    // 100 steps of decay after the jump of A * gain.
    let expected = 10.0 * gain * (-100.0 * DT / 4.0_f64).exp();
    assert_relative_eq!(state.bap[0], expected, max_relative = 1e-12);
}

#[test]
fn adaptive_threshold_jumps_and_decays_exponentially() {
    let p = LifParams {
        theta_plus_mv: 3.0,
        tau_theta_ms: 50.0,
        ..LifParams::default()
    };
    let prop = p.checked().unwrap().propagators(DT).unwrap();
    let mut state = LifState::new(1);
    state.v_rel[0] = 100.0; // above threshold: spikes in the first step
    let mut spikes = Vec::new();
    let step = |state: &mut LifState, spikes: &mut Vec<u32>| {
        step_alone(&prop, state, Modulation::NEUTRAL, spikes)
    };
    for _ in 0..101 {
        step(&mut state, &mut spikes);
    }
    assert_eq!(spikes, vec![0]);
    // 100 steps of decay after the jump.
    let a = 3.0 * (-100.0 * DT / 50.0_f64).exp();
    assert_relative_eq!(state.theta_adapt[0], a, max_relative = 1e-12);
    // The raised threshold: V between V_th and V_th + a (after this step's decay) stays
    // silent; above it, the neuron fires and the threshold rises again.
    let theta = p.v_th_mv - p.e_l_mv;
    state.v_rel[0] = (theta + 0.5 * a) / prop.p22;
    step(&mut state, &mut spikes);
    assert_eq!(spikes.len(), 1, "V_th < V < V_th + a must not fire");
    let a = a * prop.traces.p_theta;
    assert_relative_eq!(state.theta_adapt[0], a, max_relative = 1e-12);
    state.v_rel[0] = (theta + a * prop.traces.p_theta + 0.01) / prop.p22;
    step(&mut state, &mut spikes);
    assert_eq!(spikes.len(), 2, "V > V_th + a fires");
    assert_relative_eq!(
        state.theta_adapt[0],
        a * prop.traces.p_theta + 3.0,
        max_relative = 1e-12
    );
}

#[test]
fn adaptation_gain_scales_the_felt_threshold_rise_not_the_rise_itself() {
    // A neuron carrying a = 4 mV (after this step's decay) at V = V_th + 1.5 mV: silent
    // with the full rise (gain 1) and with half of it (gain 0.5: V_th + 2 mV); fires when
    // a quarter is felt (gain 0.25: V_th + 1 mV) or none (gain 0). `a` decays and jumps
    // by theta_plus as without modulation.
    let p = LifParams {
        theta_plus_mv: 3.0,
        tau_theta_ms: 50.0,
        ..LifParams::default()
    };
    let prop = p.checked().unwrap().propagators(DT).unwrap();
    let theta = p.v_th_mv - p.e_l_mv;
    for (gain, fires) in [(1.0, false), (0.5, false), (0.25, true), (0.0, true)] {
        let mut state = LifState::new(1);
        state.theta_adapt[0] = 4.0 / prop.traces.p_theta;
        state.v_rel[0] = (theta + 1.5) / prop.p22;
        let m = Modulation::NEUTRAL.with(Target::AdaptationGain, gain);
        let mut spikes = Vec::new();
        step_alone(&prop, &mut state, m, &mut spikes);
        assert_eq!(!spikes.is_empty(), fires, "gain {gain}");
        let a = if fires { 4.0 + 3.0 } else { 4.0 };
        assert_relative_eq!(state.theta_adapt[0], a, max_relative = 1e-12);
    }
}

#[test]
fn adaptation_lengthens_intervals_to_the_closed_form_steady_state() {
    // Constant current I: between spikes V - E_L = R I (1 - e^{-s/tau_m}), s the time
    // since the refractory period ended (V_reset = E_L), and the threshold is
    // V_th + A e^{-t/tau_theta}, t the time since the spike, A the rise just after it. In
    // the steady state A = theta_plus / (1 - e^{-T/tau_theta}) for the interval T, which
    // solves  R I (1 - e^{-(T - t_ref)/tau_m}) = (V_th - E_L) + A e^{-T/tau_theta}.
    let p = LifParams {
        theta_plus_mv: 2.0,
        tau_theta_ms: 30.0,
        ..LifParams::default()
    };
    let i = 500.0;
    let (_, spikes) = run_one(p, 20_000, i, &[]);
    let (_, plain) = run_one(LifParams::default(), 20_000, i, &[]);
    // The first spike comes at the same time; the adapted neuron then fires less.
    assert_eq!(spikes[0], plain[0]);
    assert!(
        spikes.len() < plain.len(),
        "{} vs {}",
        spikes.len(),
        plain.len()
    );
    let isi: Vec<usize> = spikes.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(isi.windows(2).take(5).all(|w| w[1] >= w[0]), "{isi:?}");
    let r_i = p.tau_m_ms / p.c_m_pf * i;
    let theta = p.v_th_mv - p.e_l_mv;
    let gap = |t: f64| {
        let a = p.theta_plus_mv / (1.0 - (-t / p.tau_theta_ms).exp());
        r_i * (1.0 - (-(t - p.t_ref_ms) / p.tau_m_ms).exp())
            - theta
            - a * (-t / p.tau_theta_ms).exp()
    };
    let (mut lo, mut hi) = (p.t_ref_ms + 1e-9, 1000.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if gap(mid) < 0.0 { lo = mid } else { hi = mid }
    }
    let expected = lo;
    let last = *isi.last().unwrap() as f64 * DT;
    // Spike times fall on the grid: the interval is the closed form rounded up to dt.
    assert!(
        last >= expected - 1e-9 && last <= expected + DT + 1e-9,
        "simulated {last} ms, closed form {expected} ms"
    );
}

#[test]
fn threshold_shift_moves_the_threshold() {
    let p = LifParams::default();
    let prop = p.checked().unwrap().propagators(DT).unwrap();
    let mut state = LifState::new(2);
    state.v_rel[0] = 14.0;
    state.v_rel[1] = 14.0;
    let zeros = [0.0, 0.0];
    let mut spikes = Vec::new();
    let (mut ex, mut inh) = ([0.0; 2], [0.0; 2]);
    // V decays slightly below 14 in one step; a shift of -2 mV brings theta to 13.
    let input = StepInput {
        ex: &mut ex,
        inh: &mut inh,
        i_stim: Some(&zeros),
    };
    let m = Modulation::NEUTRAL.with(Target::ThresholdShift, -2.0);
    prop.step(state.slices_mut(0..2), input, &m, 7, &mut spikes);
    assert_eq!(spikes, vec![7, 8]);
}

#[test]
fn invalid_parameters_name_the_field() {
    let cases = [
        (
            LifParams {
                tau_m_ms: -1.0,
                ..LifParams::default()
            },
            "tau_m_ms",
        ),
        (
            LifParams {
                c_m_pf: 0.0,
                ..LifParams::default()
            },
            "c_m_pf",
        ),
        (
            LifParams {
                tau_syn_in_ms: f64::NAN,
                ..LifParams::default()
            },
            "tau_syn_in_ms",
        ),
        (
            LifParams {
                t_ref_ms: -0.1,
                ..LifParams::default()
            },
            "t_ref_ms",
        ),
        (
            LifParams {
                v_reset_mv: -50.0,
                ..LifParams::default()
            },
            "v_reset_mv",
        ),
        (
            LifParams {
                a_bap_mv: -1.0,
                ..LifParams::default()
            },
            "a_bap_mv",
        ),
        (
            LifParams {
                tau_bap_ms: 0.0,
                ..LifParams::default()
            },
            "tau_bap_ms",
        ),
        (
            LifParams {
                theta_plus_mv: -0.5,
                ..LifParams::default()
            },
            "theta_plus_mv",
        ),
        (
            LifParams {
                tau_theta_ms: 0.0,
                ..LifParams::default()
            },
            "tau_theta_ms",
        ),
    ];
    for (p, field) in cases {
        let err = p.checked().unwrap_err();
        assert_eq!(err.field, field);
        assert!(err.to_string().starts_with(field));
    }
    let ok = LifParams::default().checked().unwrap();
    assert_eq!(ok.propagators(0.0).unwrap_err().field, "dt_ms");
}

proptest! {
    #[test]
    fn v_is_reset_after_every_spike(i in 0.0f64..5000.0, jumps in proptest::collection::vec((0usize..3000, -500.0f64..500.0), 0..50)) {
        let p = LifParams::default();
        let (trace, spikes) = run_one(p, 3000, i, &jumps);
        for s in spikes {
            prop_assert_eq!(trace[s], p.v_reset_mv - p.e_l_mv);
        }
        // Nothing stays above threshold after a step.
        prop_assert!(trace.iter().all(|v| *v < p.v_th_mv - p.e_l_mv));
    }

    #[test]
    fn rate_never_falls_as_input_rises(i in 0.0f64..3000.0, delta in 0.0f64..500.0) {
        let p = LifParams::default();
        let (_, low) = run_one(p, 5000, i, &[]);
        let (_, high) = run_one(p, 5000, i + delta, &[]);
        prop_assert!(high.len() >= low.len(), "{} pA: {} spikes, {} pA: {} spikes", i, low.len(), i + delta, high.len());
    }
}

#[test]
fn a_vetoed_crossing_leaves_only_the_reset() {
    // A neuron with a bAP trace b and a threshold rise a crosses threshold in one step; the
    // veto takes back the bAP jump, the threshold rise and the refractory period: b and a
    // have only decayed, the next step integrates, and V is at reset.
    let p = LifParams {
        a_bap_mv: 20.0,
        theta_plus_mv: 2.0,
        t_ref_ms: 2.0,
        ..LifParams::default()
    };
    let prop = p.checked().unwrap().propagators(DT).unwrap();
    let mut state = LifState::new(1);
    state.bap[0] = 5.0;
    state.theta_adapt[0] = 1.0;
    state.v_rel[0] = 100.0;
    let m = Modulation::NEUTRAL.with(Target::BapGain, 0.5);
    let mut spikes = Vec::new();
    step_alone(&prop, &mut state, m, &mut spikes);
    assert_eq!(spikes, vec![0], "the crossing happened");
    NeuronModel::veto(&prop, &mut state, 0, &m);
    assert_relative_eq!(state.bap[0], 5.0 * prop.traces.p_bap, max_relative = 1e-12);
    assert_relative_eq!(
        state.theta_adapt[0],
        1.0 * prop.traces.p_theta,
        max_relative = 1e-12
    );
    assert_eq!(state.refractory[0], 0);
    assert_eq!(state.v_rel[0], p.v_reset_mv - p.e_l_mv);
    // Not refractory: the next step integrates V from the reset with the bias current.
    let p2 = LifParams { i_e_pa: 100.0, ..p };
    let prop2 = p2.checked().unwrap().propagators(DT).unwrap();
    step_alone(&prop2, &mut state, m, &mut spikes);
    let v_reset = p.v_reset_mv - p.e_l_mv;
    assert_relative_eq!(
        state.v_rel[0],
        prop2.p22 * v_reset + prop2.p20 * 100.0,
        max_relative = 1e-12
    );
}

#[test]
fn model_enum_dispatches_to_lif_exp() {
    let params = LifParams {
        e_l_mv: -65.0,
        a_bap_mv: 10.0,
        ..LifParams::default()
    }
    .checked()
    .unwrap();
    let model = ModelParams::from(params).for_dt(DT).unwrap();
    assert_eq!(model, Model::LifExp(params.propagators(DT).unwrap()));
    let mut state = model.new_state(3);
    assert_eq!(state.len(), 3);
    model.set_potential_mv(&mut state, 1, -60.0);
    assert_eq!(model.potential_mv(&state, 1), -60.0);
    assert_eq!(model.junction_potential_mv(&state, 1), 5.0);
    assert_eq!(model.capacitance_pf(), 250.0);
    model.reset_to_rest(&mut state);
    assert_eq!(model.potential_mv(&state, 1), -65.0);
    assert_eq!(model.dendritic_trace_mv(&state, 1), 0.0);
}
