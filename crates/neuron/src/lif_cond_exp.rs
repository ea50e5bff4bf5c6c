//! `lif_cond_exp`: leaky integrate-and-fire neurons with exponentially decaying synaptic
//! conductances (the neuron of the COBA benchmark; the dynamics of NEST's `iaf_cond_exp`).
//!
//! # Model
//!
//! ```text
//! C_m dV/dt   = -g_L (V - E_L) - g_ex (V - E_ex) - g_in (V - E_in) + I_e + I_stim
//! dg_ex/dt    = -g_ex / tau_syn_ex          (+ jump w at each excitatory spike, nS)
//! dg_in/dt    = -g_in / tau_syn_in          (+ jump |w| at each inhibitory spike, w < 0)
//! V >= V_th   -> spike; V = V_reset for t_ref; refractory neurons do not integrate
//! db/dt       = -b / tau_bap                (+ jump A_bap * m_bap at each spike, mV)
//! da/dt       = -a / tau_theta              (+ jump theta_plus at each spike, mV)
//! ```
//!
//! Synaptic weights onto a `lif_cond_exp` population are conductance jumps in nS (the
//! `weight_pa` of a projection is read as nS); as in NEST, a negative weight is
//! inhibitory and opens `g_in` by its magnitude. The bAP trace `b` and the adaptive
//! threshold `a` are those of [`crate::lif_exp`].
//!
//! # Integrator
//!
//! The membrane equation is linear in `V` with time-varying coefficients, and has no
//! closed-form propagator. Within a step the conductances decay exactly (no spike arrives
//! inside a step), so their integral over the step is known exactly: the step average of
//! `g_ex` is `g_ex(0) tau_syn_ex (1 - e^{-dt/tau_syn_ex}) / dt`. engram advances `V` with
//! the **exponential integrator on step-averaged conductances**: with `G` the step average
//! of `g_L + g_ex + g_in` and `V_inf = (g_L E_L + <g_ex> E_ex + <g_in> E_in + I) / G`,
//!
//! ```text
//! V(t + dt) = V_inf + (V(t) - V_inf) e^{-dt G / C_m}
//! ```
//!
//! The decay factor `e^{-dt G / C_m}` is the exact propagator of the homogeneous part; the
//! only approximation is that the driving term is weighted with a constant rather than the
//! true time-varying decay, which makes the scheme second order in `dt` (the global error
//! falls four-fold when `dt` halves; the unit tests measure it against a fine Runge-Kutta
//! reference). The update never becomes unstable, whatever the conductance: `V` always
//! relaxes toward a weighted mean of the reversal potentials. NEST integrates the same
//! equations with an adaptive Runge-Kutta-Fehlberg 4(5) method (GSL); the difference to
//! NEST on a single driven neuron is measured by `scripts/compare_nest_cond.py`
//! (`results/lif-cond-exp-vs-nest.md`) and checked by a test against a stored NEST trace.
//!
//! # Parameters
//!
//! | field            | default  | unit | symbol      | meaning                                   |
//! |------------------|----------|------|-------------|-------------------------------------------|
//! | `c_m_pf`         | 250      | pF   | C_m         | membrane capacitance                      |
//! | `g_l_ns`         | 16.6667  | nS   | g_L         | leak conductance                          |
//! | `e_l_mv`         | -70      | mV   | E_L         | leak reversal (resting) potential         |
//! | `e_ex_mv`        | 0        | mV   | E_ex        | excitatory reversal potential             |
//! | `e_in_mv`        | -85      | mV   | E_in        | inhibitory reversal potential             |
//! | `tau_syn_ex_ms`  | 0.2      | ms   | tau_syn_ex  | excitatory conductance decay              |
//! | `tau_syn_in_ms`  | 2        | ms   | tau_syn_in  | inhibitory conductance decay              |
//! | `t_ref_ms`       | 2        | ms   | t_ref       | absolute refractory period                |
//! | `v_th_mv`        | -55      | mV   | V_th        | spike threshold                           |
//! | `v_reset_mv`     | -60      | mV   | V_reset     | reset potential                           |
//! | `i_e_pa`         | 0        | pA   | I_e         | constant bias current                     |
//! | `a_bap_mv`       | 0        | mV   | A_bap       | bAP jump of the dendritic trace per spike |
//! | `tau_bap_ms`     | 5        | ms   | tau_bap     | decay of the dendritic bAP trace          |
//! | `theta_plus_mv`  | 0        | mV   | theta_plus  | threshold rise per spike (adaptation)     |
//! | `tau_theta_ms`   | 1000     | ms   | tau_theta   | decay of the threshold rise               |
//!
//! The defaults are NEST's `iaf_cond_exp` defaults (`g_L` = 16.6667 nS gives
//! `tau_m` = 15 ms); the bAP and the adaptive threshold are off by default.

use crate::traces::{SpikeTraces, reset_below_threshold};
use crate::{Modulation, NeuronModel, ParamError, StepInput, finite, non_negative, positive};

/// User-facing parameters of a `lif_cond_exp` neuron, with units in the field names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CondParams {
    /// Membrane capacitance (pF).
    pub c_m_pf: f64,
    /// Leak conductance (nS).
    pub g_l_ns: f64,
    /// Leak reversal (resting) potential (mV).
    pub e_l_mv: f64,
    /// Excitatory reversal potential (mV).
    pub e_ex_mv: f64,
    /// Inhibitory reversal potential (mV).
    pub e_in_mv: f64,
    /// Decay time constant of the excitatory conductance (ms).
    pub tau_syn_ex_ms: f64,
    /// Decay time constant of the inhibitory conductance (ms).
    pub tau_syn_in_ms: f64,
    /// Absolute refractory period (ms).
    pub t_ref_ms: f64,
    /// Spike threshold (mV).
    pub v_th_mv: f64,
    /// Reset potential (mV).
    pub v_reset_mv: f64,
    /// Constant bias current (pA).
    pub i_e_pa: f64,
    /// Jump of the dendritic bAP trace at each spike, before ACh gain (mV).
    pub a_bap_mv: f64,
    /// Decay time constant of the dendritic bAP trace (ms).
    pub tau_bap_ms: f64,
    /// Rise of the adaptive threshold at each spike (mV); 0 turns adaptation off.
    pub theta_plus_mv: f64,
    /// Decay time constant of the adaptive threshold (ms).
    pub tau_theta_ms: f64,
}

impl Default for CondParams {
    fn default() -> Self {
        CondParams {
            c_m_pf: 250.0,
            g_l_ns: 16.6667,
            e_l_mv: -70.0,
            e_ex_mv: 0.0,
            e_in_mv: -85.0,
            tau_syn_ex_ms: 0.2,
            tau_syn_in_ms: 2.0,
            t_ref_ms: 2.0,
            v_th_mv: -55.0,
            v_reset_mv: -60.0,
            i_e_pa: 0.0,
            a_bap_mv: 0.0,
            tau_bap_ms: 5.0,
            theta_plus_mv: 0.0,
            tau_theta_ms: 1000.0,
        }
    }
}

crate::param_fields!(CondParams {
    c_m_pf,
    g_l_ns,
    e_l_mv,
    e_ex_mv,
    e_in_mv,
    tau_syn_ex_ms,
    tau_syn_in_ms,
    t_ref_ms,
    v_th_mv,
    v_reset_mv,
    i_e_pa,
    a_bap_mv,
    tau_bap_ms,
    theta_plus_mv,
    tau_theta_ms,
});

impl CondParams {
    /// Validates every field and returns parameters the dynamics can use.
    pub fn checked(self) -> Result<ValidCondParams, ParamError> {
        positive("c_m_pf", self.c_m_pf)?;
        positive("g_l_ns", self.g_l_ns)?;
        positive("tau_syn_ex_ms", self.tau_syn_ex_ms)?;
        positive("tau_syn_in_ms", self.tau_syn_in_ms)?;
        for (field, v) in [
            ("e_l_mv", self.e_l_mv),
            ("e_ex_mv", self.e_ex_mv),
            ("e_in_mv", self.e_in_mv),
            ("v_th_mv", self.v_th_mv),
            ("v_reset_mv", self.v_reset_mv),
            ("i_e_pa", self.i_e_pa),
        ] {
            finite(field, v)?;
        }
        non_negative("t_ref_ms", self.t_ref_ms)?;
        SpikeTraces::check(
            self.a_bap_mv,
            self.tau_bap_ms,
            self.theta_plus_mv,
            self.tau_theta_ms,
        )?;
        reset_below_threshold(self.v_reset_mv, self.v_th_mv)?;
        Ok(ValidCondParams(self))
    }
}

/// Parameters that passed [`CondParams::checked`]; cannot hold invalid values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidCondParams(CondParams);

impl ValidCondParams {
    /// The underlying parameter values.
    pub fn get(&self) -> &CondParams {
        &self.0
    }

    /// Precomputes the constants of the update for time step `dt_ms`.
    pub fn constants(&self, dt_ms: f64) -> Result<CondConstants, ParamError> {
        positive("dt_ms", dt_ms)?;
        let p = &self.0;
        let h = dt_ms;
        let ref_steps = (p.t_ref_ms / h).round();
        if ref_steps > f64::from(u32::MAX) {
            return Err(ParamError::new(
                "t_ref_ms",
                p.t_ref_ms,
                "is too many steps of dt",
            ));
        }
        // Step average of a unit conductance that decays with `tau`: -tau/h expm1(-h/tau).
        let mean = |tau: f64| -tau / h * (-h / tau).exp_m1();
        Ok(CondConstants {
            dt_ms: h,
            h_over_c: h / p.c_m_pf,
            g_l: p.g_l_ns,
            leak_drive: p.g_l_ns * p.e_l_mv + p.i_e_pa,
            e_l: p.e_l_mv,
            e_ex: p.e_ex_mv,
            e_in: p.e_in_mv,
            p_ex: (-h / p.tau_syn_ex_ms).exp(),
            p_in: (-h / p.tau_syn_in_ms).exp(),
            mean_ex: mean(p.tau_syn_ex_ms),
            mean_in: mean(p.tau_syn_in_ms),
            traces: SpikeTraces::new(p.a_bap_mv, p.tau_bap_ms, p.theta_plus_mv, p.tau_theta_ms, h),
            v_th: p.v_th_mv,
            v_reset: p.v_reset_mv,
            ref_steps: ref_steps as u32,
            c_m_pf: p.c_m_pf,
        })
    }
}

/// Constants of the update for one parameter set and one `dt`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CondConstants {
    /// Time step (ms).
    pub dt_ms: f64,
    /// `dt / C_m` (ms/pF).
    pub h_over_c: f64,
    /// Leak conductance (nS).
    pub g_l: f64,
    /// `g_L E_L + I_e` (pA): the drive of the leak and the bias current.
    pub leak_drive: f64,
    /// Leak reversal (mV).
    pub e_l: f64,
    /// Excitatory reversal (mV).
    pub e_ex: f64,
    /// Inhibitory reversal (mV).
    pub e_in: f64,
    /// `e^{-dt/tau_syn_ex}`.
    pub p_ex: f64,
    /// `e^{-dt/tau_syn_in}`.
    pub p_in: f64,
    /// Step average of an excitatory conductance of 1 nS at the step's start (nS).
    pub mean_ex: f64,
    /// Step average of an inhibitory conductance of 1 nS at the step's start (nS).
    pub mean_in: f64,
    /// The bAP trace and the adaptive threshold.
    pub traces: SpikeTraces,
    /// Threshold (mV, absolute).
    pub v_th: f64,
    /// Reset potential (mV, absolute).
    pub v_reset: f64,
    /// Refractory period in steps.
    pub ref_steps: u32,
    /// Membrane capacitance (pF).
    pub c_m_pf: f64,
}

/// State of a set of `lif_cond_exp` neurons, as a structure of arrays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CondState {
    /// Resting potential `E_L` of the population (mV): junctions see `V - E_L`.
    pub e_l: f64,
    /// Membrane potential (mV, absolute).
    pub v: Vec<f64>,
    /// Excitatory conductance (nS).
    pub g_ex: Vec<f64>,
    /// Inhibitory conductance (nS, >= 0).
    pub g_in: Vec<f64>,
    /// Remaining refractory steps.
    pub refractory: Vec<u32>,
    /// Dendritic bAP trace (mV).
    pub bap: Vec<f64>,
    /// Adaptive threshold rise above `V_th` (mV).
    pub theta_adapt: Vec<f64>,
    /// How far V was above threshold at the last crossing (mV).
    pub overshoot: Vec<f64>,
}

impl CondState {
    /// State for `n` neurons at rest (`V = E_L`, no conductance).
    pub fn at_rest(n: usize, e_l_mv: f64) -> Self {
        CondState {
            e_l: e_l_mv,
            v: vec![e_l_mv; n],
            g_ex: vec![0.0; n],
            g_in: vec![0.0; n],
            refractory: vec![0; n],
            bap: vec![0.0; n],
            theta_adapt: vec![0.0; n],
            overshoot: vec![0.0; n],
        }
    }
}

impl CondConstants {
    /// Advances every neuron of `s` by one step, in the order of NEST's `iaf_cond_exp`:
    /// V is integrated with the conductances and the stimulation current of the step's
    /// start (refractory neurons stay at `V_reset` and count down), then the conductances
    /// decay and take the jumps that arrive in this step, then neurons at or above the
    /// threshold spike (as in [`crate::lif_exp`]: reset, refractory count, bAP jump,
    /// threshold rise).
    fn advance(
        &self,
        s: &mut CondState,
        input: StepInput<'_>,
        m: &Modulation,
        offset: u32,
        spikes: &mut Vec<u32>,
    ) {
        let n = s.v.len();
        let base_th = self.v_th + m.threshold_shift_mv();
        let gain = m.adaptation_gain();
        let jump = self.traces.jump(m);
        self.traces.decay(&mut s.bap[..n], &mut s.theta_adapt[..n]);
        let (v, g_ex, g_in, refr) = (
            &mut s.v[..n],
            &mut s.g_ex[..n],
            &mut s.g_in[..n],
            &mut s.refractory[..n],
        );
        let (ex, inh) = (&mut input.ex[..n], &mut input.inh[..n]);
        for i in 0..n {
            if refr[i] == 0 {
                let ge = self.mean_ex * g_ex[i];
                let gi = self.mean_in * g_in[i];
                let g = self.g_l + ge + gi;
                let stim = input.i_stim.map_or(0.0, |st| st[i]);
                let v_inf = (self.leak_drive + ge * self.e_ex + gi * self.e_in + stim) / g;
                v[i] = v_inf + (v[i] - v_inf) * (-self.h_over_c * g).exp();
            } else {
                refr[i] -= 1;
            }
            g_ex[i] = self.p_ex * g_ex[i] + ex[i];
            g_in[i] = self.p_in * g_in[i] - inh[i];
            ex[i] = 0.0;
            inh[i] = 0.0;
            let threshold = base_th + gain * s.theta_adapt[i];
            if v[i] >= threshold {
                s.overshoot[i] = v[i] - threshold;
                v[i] = self.v_reset;
                refr[i] = self.ref_steps;
                self.traces
                    .on_spike(&mut s.bap[i], &mut s.theta_adapt[i], jump);
                spikes.push(offset + i as u32);
            }
        }
    }
}

impl NeuronModel for CondConstants {
    const NAME: &'static str = "lif_cond_exp";
    type Params = CondParams;
    type ValidParams = ValidCondParams;
    type State = CondState;

    fn check(params: CondParams) -> Result<ValidCondParams, ParamError> {
        params.checked()
    }

    fn rest_mv(params: &ValidCondParams) -> f64 {
        params.get().e_l_mv
    }

    fn for_dt(params: &ValidCondParams, dt_ms: f64) -> Result<Self, ParamError> {
        params.constants(dt_ms)
    }

    fn new_state(&self, n: usize) -> CondState {
        CondState::at_rest(n, self.e_l)
    }

    fn len(state: &CondState) -> usize {
        state.v.len()
    }

    #[inline]
    fn step(
        &self,
        state: &mut CondState,
        input: StepInput<'_>,
        m: &Modulation,
        offset: u32,
        spikes: &mut Vec<u32>,
    ) {
        self.advance(state, input, m, offset, spikes);
    }

    /// Takes back what the crossing did besides the reset (bAP jump, threshold rise,
    /// refractory count).
    #[inline]
    fn veto(&self, state: &mut CondState, i: usize, m: &Modulation) {
        self.traces
            .veto(&mut state.bap[i], &mut state.theta_adapt[i], m);
        state.refractory[i] = 0;
    }

    #[inline]
    fn junction_potential_mv(state: &CondState, i: usize) -> f64 {
        state.v[i] - state.e_l
    }

    #[inline]
    fn dendritic_trace_mv(state: &CondState, i: usize) -> f64 {
        state.bap[i]
    }

    fn scale_dendritic_trace(state: &mut CondState, i: usize, factor: f64) {
        state.bap[i] *= factor;
    }

    fn threshold_rise_mv(&self, state: &CondState, i: usize) -> f64 {
        state.theta_adapt[i]
    }

    fn crossing_overshoot_mv(&self, state: &CondState, i: usize) -> f64 {
        state.overshoot[i]
    }

    fn potential_mv(&self, state: &CondState, i: usize) -> f64 {
        state.v[i]
    }

    /// `-g_ex (V - E_ex) - g_in (V - E_in)` at the current potential and conductances.
    #[inline]
    fn synaptic_current_pa(&self, state: &CondState, i: usize) -> f64 {
        let v = state.v[i];
        -state.g_ex[i] * (v - self.e_ex) - state.g_in[i] * (v - self.e_in)
    }

    #[inline]
    fn threshold_mv(&self, state: &CondState, i: usize, m: &Modulation) -> f64 {
        self.v_th + m.threshold_shift_mv() + m.adaptation_gain() * state.theta_adapt[i]
    }

    fn set_potential_mv(&self, state: &mut CondState, i: usize, v_mv: f64) {
        state.v[i] = v_mv;
    }

    fn capacitance_pf(&self) -> f64 {
        self.c_m_pf
    }

    fn reset_to_rest(&self, state: &mut CondState) {
        state.v.fill(self.e_l);
        state.g_ex.fill(0.0);
        state.g_in.fill(0.0);
        state.refractory.fill(0);
        state.bap.fill(0.0);
        state.theta_adapt.fill(0.0);
        state.overshoot.fill(0.0);
    }

    fn streamed(state: &CondState) -> Vec<&[f64]> {
        vec![&state.v, &state.g_ex, &state.g_in]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs one neuron for `steps` steps of `dt`, with excitatory and inhibitory jumps
    /// (nS) arriving at the given steps; returns V after every step and the spike steps.
    fn run(
        p: CondParams,
        dt: f64,
        steps: usize,
        ex_at: &[(usize, f64)],
        in_at: &[(usize, f64)],
    ) -> (Vec<f64>, Vec<usize>) {
        let c = p.checked().unwrap().constants(dt).unwrap();
        let mut s = c.new_state(1);
        let (mut vs, mut spikes, mut out) = (Vec::new(), Vec::new(), Vec::new());
        for k in 0..steps {
            let mut ex = [ex_at.iter().filter(|e| e.0 == k).map(|e| e.1).sum::<f64>()];
            let mut inh = [-in_at.iter().filter(|e| e.0 == k).map(|e| e.1).sum::<f64>()];
            let input = StepInput {
                ex: &mut ex,
                inh: &mut inh,
                i_stim: None,
            };
            out.clear();
            c.step(&mut s, input, &Modulation::NEUTRAL, 0, &mut out);
            if !out.is_empty() {
                spikes.push(k);
            }
            vs.push(s.v[0]);
        }
        (vs, spikes)
    }

    /// The same neuron below threshold, integrated with classic Runge-Kutta 4 at a step
    /// 1000 times finer than `dt`, jumps at the same times: V at the end of every `dt`.
    fn reference(
        p: CondParams,
        dt: f64,
        steps: usize,
        ex_at: &[(usize, f64)],
        in_at: &[(usize, f64)],
    ) -> Vec<f64> {
        let sub = 1000;
        let h = dt / sub as f64;
        let f = |y: [f64; 3]| {
            let [v, ge, gi] = y;
            [
                (-p.g_l_ns * (v - p.e_l_mv) - ge * (v - p.e_ex_mv) - gi * (v - p.e_in_mv)
                    + p.i_e_pa)
                    / p.c_m_pf,
                -ge / p.tau_syn_ex_ms,
                -gi / p.tau_syn_in_ms,
            ]
        };
        let add = |y: [f64; 3], k: [f64; 3], a: f64| [0, 1, 2].map(|i| y[i] + a * k[i]);
        let mut y = [p.e_l_mv, 0.0, 0.0];
        let mut out = Vec::new();
        for k in 0..steps {
            for _ in 0..sub {
                let k1 = f(y);
                let k2 = f(add(y, k1, h / 2.0));
                let k3 = f(add(y, k2, h / 2.0));
                let k4 = f(add(y, k3, h));
                y = [0, 1, 2].map(|i| y[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]));
            }
            y[1] += ex_at.iter().filter(|e| e.0 == k).map(|e| e.1).sum::<f64>();
            y[2] += in_at.iter().filter(|e| e.0 == k).map(|e| e.1).sum::<f64>();
            out.push(y[0]);
        }
        out
    }

    fn max_error(dt: f64, p: CondParams) -> f64 {
        // Inputs at fixed times (ms), so that every dt sees the same input.
        let t_ms = 40.0;
        let steps = (t_ms / dt).round() as usize;
        let at = |ms: f64, w: f64| ((ms / dt).round() as usize, w);
        let ex = [at(2.0, 3.0), at(5.0, 2.0), at(5.5, 4.0), at(20.0, 6.0)];
        let inh = [at(8.0, 5.0), at(21.0, 3.0)];
        let (v, spikes) = run(p, dt, steps, &ex, &inh);
        assert!(spikes.is_empty(), "the test trace stays below threshold");
        let r = reference(p, dt, steps, &ex, &inh);
        v.iter()
            .zip(&r)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }

    /// The integrator's error against a fine Runge-Kutta reference, on a trace of
    /// excitatory and inhibitory conductance jumps (peaks of about 9 mV): second order,
    /// with the size measured at dt = 0.1 ms.
    #[test]
    fn the_integrator_is_second_order_against_a_fine_reference() {
        let p = CondParams {
            tau_syn_ex_ms: 2.0,
            tau_syn_in_ms: 5.0,
            ..CondParams::default()
        };
        let e1 = max_error(0.1, p);
        let e2 = max_error(0.05, p);
        let e4 = max_error(0.025, p);
        eprintln!("max |V - V_ref| at dt 0.1, 0.05, 0.025 ms: {e1:.2e} {e2:.2e} {e4:.2e} mV");
        assert!(e1 < 5e-4, "error at dt = 0.1 ms: {e1} mV");
        for (a, b) in [(e1, e2), (e2, e4)] {
            let order = (a / b).log2();
            assert!((1.8..2.2).contains(&order), "order {order} ({a} -> {b})");
        }
        // NEST's default excitatory decay (0.2 ms) is only two steps long at dt = 0.1 ms.
        let e_fast = max_error(0.1, CondParams::default());
        eprintln!("max |V - V_ref| at dt 0.1 ms with tau_syn_ex = 0.2 ms: {e_fast:.2e} mV");
        assert!(e_fast < 5e-4, "error with tau_syn_ex = 0.2 ms: {e_fast} mV");
    }

    /// Without synaptic input the update is the exact solution: V relaxes to
    /// `E_L + I_e / g_L` with time constant `C_m / g_L`.
    #[test]
    fn a_bias_current_alone_is_integrated_exactly() {
        let p = CondParams {
            i_e_pa: 200.0,
            ..CondParams::default()
        };
        let (v, spikes) = run(p, 0.1, 500, &[], &[]);
        assert!(spikes.is_empty());
        let tau = p.c_m_pf / p.g_l_ns;
        let v_inf = p.e_l_mv + p.i_e_pa / p.g_l_ns;
        for (k, v) in v.iter().enumerate() {
            let t = (k + 1) as f64 * 0.1;
            let exact = v_inf + (p.e_l_mv - v_inf) * (-t / tau).exp();
            assert!((v - exact).abs() < 1e-10, "step {k}: {v} vs {exact}");
        }
    }

    /// Under a constant suprathreshold current the interspike interval is the closed form
    /// `t_ref + tau ln((V_inf - V_reset) / (V_inf - V_th))`, up to the step grid.
    #[test]
    fn the_firing_period_matches_the_closed_form() {
        let p = CondParams {
            i_e_pa: 400.0,
            ..CondParams::default()
        };
        let dt = 0.1;
        let (_, spikes) = run(p, dt, 10_000, &[], &[]);
        let tau = p.c_m_pf / p.g_l_ns;
        let v_inf = p.e_l_mv + p.i_e_pa / p.g_l_ns;
        let isi = p.t_ref_ms + tau * ((v_inf - p.v_reset_mv) / (v_inf - p.v_th_mv)).ln();
        assert!(spikes.len() > 10);
        for w in spikes.windows(2).skip(1) {
            let measured = (w[1] - w[0]) as f64 * dt;
            // Crossings land on the grid: each interval is the exact one rounded up, plus
            // the step in which the neuron sits at reset after its refractory period.
            assert!(
                (measured - isi).abs() <= 2.0 * dt,
                "interval {measured} ms vs {isi} ms"
            );
        }
    }

    /// The conductances decay with their time constants, inhibition opens `g_in` by the
    /// magnitude of a negative weight, and a large inhibitory conductance pulls V toward
    /// `E_in`, never past it.
    #[test]
    fn conductances_decay_and_inhibition_stays_above_its_reversal() {
        let p = CondParams::default().checked().unwrap();
        let c = p.constants(0.1).unwrap();
        let mut s = c.new_state(1);
        let mut out = Vec::new();
        let (mut ex, mut inh) = ([0.0], [-1e5]);
        let input = StepInput {
            ex: &mut ex,
            inh: &mut inh,
            i_stim: None,
        };
        c.step(&mut s, input, &Modulation::NEUTRAL, 0, &mut out);
        assert_eq!(s.g_in[0], 1e5);
        for _ in 0..10 {
            let (mut ex, mut inh) = ([0.0], [0.0]);
            let input = StepInput {
                ex: &mut ex,
                inh: &mut inh,
                i_stim: None,
            };
            c.step(&mut s, input, &Modulation::NEUTRAL, 0, &mut out);
            assert!(s.v[0] >= p.get().e_in_mv - 1e-9, "V = {}", s.v[0]);
        }
        assert!((s.v[0] - p.get().e_in_mv).abs() < 0.5);
        let expected = 1e5 * (-1.0f64 / 2.0).exp();
        assert!((s.g_in[0] - expected).abs() < 1e-6 * expected);
    }

    /// The stored NEST 3.10 `iaf_cond_exp` traces (`tests/reference/`, written by
    /// `scripts/compare_nest_cond.py`): V within 0.01 mV at every step, the same spike
    /// steps. NEST's spike at `t` over a delay of one step is the jump of the step of `t`.
    #[test]
    fn matches_nest_iaf_cond_exp() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/reference/nest_iaf_cond_exp.csv"
        );
        let text = std::fs::read_to_string(path).expect("the stored NEST reference");
        let dt = 0.1;
        let step = |t: f64| (t / dt).round() as usize;
        for scenario in ["subthreshold", "spiking"] {
            let rows: Vec<(&str, f64, f64)> = text
                .lines()
                .filter(|l| !l.starts_with('#'))
                .skip(1)
                .filter_map(|l| {
                    let f: Vec<&str> = l.split(',').collect();
                    (f[0] == scenario).then(|| (f[1], f[2].parse().unwrap(), f[3].parse().unwrap()))
                })
                .collect();
            let of = |kind: &'static str| rows.iter().filter(move |r| r.0 == kind);
            let p = CondParams {
                i_e_pa: of("i_e").next().unwrap().2,
                ..CondParams::default()
            };
            let ex: Vec<_> = of("ex").map(|r| (step(r.1), r.2)).collect();
            let inh: Vec<_> = of("in").map(|r| (step(r.1), r.2)).collect();
            let nest_v: Vec<(usize, f64)> = of("v").map(|r| (step(r.1), r.2)).collect();
            let nest_spikes: Vec<usize> = of("spike").map(|r| step(r.1)).collect();
            let steps = nest_v.iter().map(|v| v.0).max().unwrap();
            let (v, spikes) = run(p, dt, steps, &ex, &inh);
            // V after step k is the state at time (k + 1) dt.
            let worst = nest_v
                .iter()
                .map(|&(k, vn)| (v[k - 1] - vn).abs())
                .fold(0.0, f64::max);
            eprintln!("{scenario}: max |V - V_NEST| = {worst:.2e} mV");
            assert!(worst < 0.01, "{scenario}: {worst} mV");
            let ours: Vec<usize> = spikes.iter().map(|k| k + 1).collect();
            assert_eq!(ours, nest_spikes, "{scenario}: spike steps");
        }
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let bad = CondParams {
            g_l_ns: 0.0,
            ..CondParams::default()
        };
        assert_eq!(bad.checked().unwrap_err().field, "g_l_ns");
        let bad = CondParams {
            v_reset_mv: -50.0,
            ..CondParams::default()
        };
        assert_eq!(bad.checked().unwrap_err().field, "v_reset_mv");
        let mut p = CondParams::default();
        assert!(crate::ParamFields::set(&mut p, "e_in_mv", -80.0));
        assert!(!crate::ParamFields::set(&mut p, "tau_m_ms", 10.0));
        assert_eq!(crate::ParamFields::get(&p, "e_in_mv"), Some(-80.0));
    }
}
