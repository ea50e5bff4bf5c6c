//! `lif_exp`: leaky integrate-and-fire neurons with exponential synaptic currents,
//! integrated exactly (the same dynamics as NEST's `iaf_psc_exp`).
//!
//! # Model
//!
//! ```text
//! C_m dV/dt   = -(V - E_L) C_m / tau_m + I_ex + I_in + I_e + I_stim
//! dI_ex/dt    = -I_ex / tau_syn_ex          (+ jump w at each excitatory spike, pA)
//! dI_in/dt    = -I_in / tau_syn_in          (+ jump w at each inhibitory spike, w < 0)
//! V >= V_th   -> spike; V = V_reset for t_ref; refractory neurons do not integrate
//! db/dt       = -b / tau_bap                (+ jump A_bap * m_bap at each spike, mV)
//! da/dt       = -a / tau_theta              (+ jump theta_plus at each spike, mV)
//! ```
//!
//! The linear system is integrated with its exact propagator over one step `dt`
//! (Rotter and Diesmann, 1999): with `I_stim` constant within a step, the update is exact
//! and the only error left is that spike times are placed on the `dt` grid.
//! `b` is the dendritic trace of the backpropagating action potential: the depolarisation
//! that the spike leaves in the dendrite, which gap junctions carry backwards.
//! `a` is an adaptive threshold (off by default): each spike raises the neuron's threshold
//! to `V_th + a` by `theta_plus`, and the rise fades with `tau_theta` (the homeostatic
//! threshold of Diehl and Cook, 2015; GLIF models call it the spike-induced threshold
//! component). A neuron that has just fired a lot becomes harder to recruit, so a layer that
//! selects its most strongly driven cells spreads successive inputs over different cells.
//!
//! # Parameters
//!
//! | field            | default | unit | symbol      | meaning                                   |
//! |------------------|---------|------|-------------|-------------------------------------------|
//! | `c_m_pf`         | 250     | pF   | C_m         | membrane capacitance                      |
//! | `tau_m_ms`       | 10      | ms   | tau_m       | membrane time constant                    |
//! | `tau_syn_ex_ms`  | 2       | ms   | tau_syn_ex  | excitatory synaptic current decay         |
//! | `tau_syn_in_ms`  | 2       | ms   | tau_syn_in  | inhibitory synaptic current decay         |
//! | `t_ref_ms`       | 2       | ms   | t_ref       | absolute refractory period                |
//! | `e_l_mv`         | -70     | mV   | E_L         | resting potential                         |
//! | `v_th_mv`        | -55     | mV   | V_th        | spike threshold                           |
//! | `v_reset_mv`     | -70     | mV   | V_reset     | reset potential                           |
//! | `i_e_pa`         | 0       | pA   | I_e         | constant bias current                     |
//! | `a_bap_mv`       | 0       | mV   | A_bap       | bAP jump of the dendritic trace per spike |
//! | `tau_bap_ms`     | 5       | ms   | tau_bap     | decay of the dendritic bAP trace          |
//! | `theta_plus_mv`  | 0       | mV   | theta_plus  | threshold rise per spike (adaptation)     |
//! | `tau_theta_ms`   | 1000    | ms   | tau_theta   | decay of the threshold rise               |
//!
//! The defaults are NEST's `iaf_psc_exp` defaults; the bAP is off unless `a_bap_mv > 0`,
//! the adaptive threshold unless `theta_plus_mv > 0`.

use std::ops::Range;

use crate::traces::{SpikeTraces, reset_below_threshold};
use crate::{Modulation, NeuronModel, ParamError, StepInput, finite, non_negative, positive};

/// User-facing parameters of a `lif_exp` neuron, with units in the field names.
///
/// These may hold any value; [`LifParams::checked`] turns them into [`ValidLifParams`],
/// the only type the dynamics accept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifParams {
    /// Membrane capacitance (pF).
    pub c_m_pf: f64,
    /// Membrane time constant (ms).
    pub tau_m_ms: f64,
    /// Decay time constant of the excitatory synaptic current (ms).
    pub tau_syn_ex_ms: f64,
    /// Decay time constant of the inhibitory synaptic current (ms).
    pub tau_syn_in_ms: f64,
    /// Absolute refractory period (ms).
    pub t_ref_ms: f64,
    /// Resting potential (mV).
    pub e_l_mv: f64,
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

impl Default for LifParams {
    fn default() -> Self {
        LifParams {
            c_m_pf: 250.0,
            tau_m_ms: 10.0,
            tau_syn_ex_ms: 2.0,
            tau_syn_in_ms: 2.0,
            t_ref_ms: 2.0,
            e_l_mv: -70.0,
            v_th_mv: -55.0,
            v_reset_mv: -70.0,
            i_e_pa: 0.0,
            a_bap_mv: 0.0,
            tau_bap_ms: 5.0,
            theta_plus_mv: 0.0,
            tau_theta_ms: 1000.0,
        }
    }
}

crate::param_fields!(LifParams {
    c_m_pf,
    tau_m_ms,
    tau_syn_ex_ms,
    tau_syn_in_ms,
    t_ref_ms,
    e_l_mv,
    v_th_mv,
    v_reset_mv,
    i_e_pa,
    a_bap_mv,
    tau_bap_ms,
    theta_plus_mv,
    tau_theta_ms,
});

impl LifParams {
    /// Validates every field and returns parameters the dynamics can use.
    pub fn checked(self) -> Result<ValidLifParams, ParamError> {
        positive("c_m_pf", self.c_m_pf)?;
        positive("tau_m_ms", self.tau_m_ms)?;
        positive("tau_syn_ex_ms", self.tau_syn_ex_ms)?;
        positive("tau_syn_in_ms", self.tau_syn_in_ms)?;
        finite("e_l_mv", self.e_l_mv)?;
        finite("v_th_mv", self.v_th_mv)?;
        finite("v_reset_mv", self.v_reset_mv)?;
        finite("i_e_pa", self.i_e_pa)?;
        non_negative("t_ref_ms", self.t_ref_ms)?;
        SpikeTraces::check(
            self.a_bap_mv,
            self.tau_bap_ms,
            self.theta_plus_mv,
            self.tau_theta_ms,
        )?;
        reset_below_threshold(self.v_reset_mv, self.v_th_mv)?;
        Ok(ValidLifParams(self))
    }
}

/// Parameters that passed [`LifParams::checked`]; cannot hold invalid values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidLifParams(LifParams);

impl ValidLifParams {
    /// The underlying parameter values.
    pub fn get(&self) -> &LifParams {
        &self.0
    }

    /// Precomputes the exact propagators for time step `dt_ms`.
    pub fn propagators(&self, dt_ms: f64) -> Result<LifPropagators, ParamError> {
        positive("dt_ms", dt_ms)?;
        let p = &self.0;
        let h = dt_ms;
        let p22 = (-h / p.tau_m_ms).exp();
        let p20 = -p.tau_m_ms / p.c_m_pf * (-h / p.tau_m_ms).exp_m1();
        let ref_steps = (p.t_ref_ms / h).round();
        if ref_steps > f64::from(u32::MAX) {
            return Err(ParamError::new(
                "t_ref_ms",
                p.t_ref_ms,
                "is too many steps of dt",
            ));
        }
        Ok(LifPropagators {
            dt_ms: h,
            p22,
            p20,
            p11_ex: (-h / p.tau_syn_ex_ms).exp(),
            p11_in: (-h / p.tau_syn_in_ms).exp(),
            p21_ex: propagator_31(p.tau_syn_ex_ms, p.tau_m_ms, p.c_m_pf, h),
            p21_in: propagator_31(p.tau_syn_in_ms, p.tau_m_ms, p.c_m_pf, h),
            traces: SpikeTraces::new(p.a_bap_mv, p.tau_bap_ms, p.theta_plus_mv, p.tau_theta_ms, h),
            theta: p.v_th_mv - p.e_l_mv,
            v_reset: p.v_reset_mv - p.e_l_mv,
            i_e: p.i_e_pa,
            ref_steps: ref_steps as u32,
            c_m_pf: p.c_m_pf,
            e_l_mv: p.e_l_mv,
        })
    }
}

/// Membrane response at time `h` to a unit synaptic current that decays with `tau_s`,
/// starting at V = 0: `tau_m tau_s / (C (tau_s - tau_m)) (e^{-h/tau_s} - e^{-h/tau_m})`.
/// Computed with `expm1` so that it stays accurate as `tau_s -> tau_m`, where it becomes
/// `h / C e^{-h/tau_m}`.
fn propagator_31(tau_s: f64, tau_m: f64, c_m: f64, h: f64) -> f64 {
    let limit = h / c_m * (-h / tau_m).exp();
    let rate_diff = 1.0 / tau_m - 1.0 / tau_s;
    if (rate_diff * h).abs() < 1e-12 {
        return limit;
    }
    // e^{-h/ts} - e^{-h/tm} = e^{-h/tm} (e^{h (1/tm - 1/ts)} - 1)
    let value =
        tau_m * tau_s / (c_m * (tau_s - tau_m)) * (-h / tau_m).exp() * (h * rate_diff).exp_m1();
    if value.is_finite() { value } else { limit }
}

/// Constants of the exact update for one parameter set and one `dt`
/// (NEST calls these the model's "variables", recomputed in `pre_run_hook`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifPropagators {
    /// Time step (ms).
    pub dt_ms: f64,
    /// `e^{-dt/tau_m}`: decay of V over one step.
    pub p22: f64,
    /// Response of V to a constant current of 1 pA held for one step (mV/pA).
    pub p20: f64,
    /// `e^{-dt/tau_syn_ex}`.
    pub p11_ex: f64,
    /// `e^{-dt/tau_syn_in}`.
    pub p11_in: f64,
    /// Response of V to 1 pA of excitatory synaptic current at the start of the step.
    pub p21_ex: f64,
    /// Response of V to 1 pA of inhibitory synaptic current at the start of the step.
    pub p21_in: f64,
    /// The bAP trace and the adaptive threshold.
    pub traces: SpikeTraces,
    /// Threshold relative to rest (mV).
    pub theta: f64,
    /// Reset potential relative to rest (mV).
    pub v_reset: f64,
    /// Bias current (pA).
    pub i_e: f64,
    /// Refractory period in steps (`t_ref / dt`, rounded).
    pub ref_steps: u32,
    /// Membrane capacitance (pF), needed by the stability check of gap coupling.
    pub c_m_pf: f64,
    /// Resting potential (mV), to convert state back to absolute potentials.
    pub e_l_mv: f64,
}

/// Mutable views on the state of a contiguous range of neurons.
pub struct LifSlices<'a> {
    /// Membrane potential relative to rest, `V - E_L` (mV).
    pub v_rel: &'a mut [f64],
    /// Excitatory synaptic current (pA).
    pub i_ex: &'a mut [f64],
    /// Inhibitory synaptic current (pA, <= 0).
    pub i_in: &'a mut [f64],
    /// Remaining refractory steps.
    pub refractory: &'a mut [u32],
    /// Dendritic bAP trace (mV).
    pub bap: &'a mut [f64],
    /// Adaptive threshold rise above `V_th` (mV).
    pub theta_adapt: &'a mut [f64],
    /// How far V was above threshold at the last crossing (mV).
    pub overshoot: &'a mut [f64],
}

/// State of a set of neurons, as a structure of arrays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LifState {
    /// Membrane potential relative to rest (mV).
    pub v_rel: Vec<f64>,
    /// Excitatory synaptic current (pA).
    pub i_ex: Vec<f64>,
    /// Inhibitory synaptic current (pA).
    pub i_in: Vec<f64>,
    /// Remaining refractory steps.
    pub refractory: Vec<u32>,
    /// Dendritic bAP trace (mV).
    pub bap: Vec<f64>,
    /// Adaptive threshold rise above `V_th` (mV); stays zero without adaptation.
    pub theta_adapt: Vec<f64>,
    /// How far V was above threshold at the last crossing (mV), written only when the
    /// neuron crosses: which of two crossings in one step came first, for gain control.
    pub overshoot: Vec<f64>,
}

impl LifState {
    /// State for `n` neurons, all at rest with no synaptic current.
    pub fn new(n: usize) -> Self {
        LifState {
            v_rel: vec![0.0; n],
            i_ex: vec![0.0; n],
            i_in: vec![0.0; n],
            refractory: vec![0; n],
            bap: vec![0.0; n],
            theta_adapt: vec![0.0; n],
            overshoot: vec![0.0; n],
        }
    }

    /// Number of neurons.
    pub fn len(&self) -> usize {
        self.v_rel.len()
    }

    /// True if the state holds no neurons.
    pub fn is_empty(&self) -> bool {
        self.v_rel.is_empty()
    }

    /// Puts every neuron at rest, with no current, no refractoriness and no bAP.
    pub fn reset_to_rest(&mut self) {
        self.v_rel.fill(0.0);
        self.i_ex.fill(0.0);
        self.i_in.fill(0.0);
        self.refractory.fill(0);
        self.bap.fill(0.0);
        self.theta_adapt.fill(0.0);
        self.overshoot.fill(0.0);
    }

    /// Mutable views on the neurons in `range`.
    pub fn slices_mut(&mut self, range: Range<usize>) -> LifSlices<'_> {
        LifSlices {
            v_rel: &mut self.v_rel[range.clone()],
            i_ex: &mut self.i_ex[range.clone()],
            i_in: &mut self.i_in[range.clone()],
            refractory: &mut self.refractory[range.clone()],
            bap: &mut self.bap[range.clone()],
            theta_adapt: &mut self.theta_adapt[range.clone()],
            overshoot: &mut self.overshoot[range],
        }
    }
}

impl LifPropagators {
    /// Advances the neurons in `s` by one step.
    ///
    /// Order within the step (as NEST's `iaf_psc_exp`): V is propagated with the synaptic
    /// currents and the stimulation current of the step's start (refractory neurons stay
    /// clamped and count down), then the synaptic currents decay and take the jumps that
    /// arrive in this step (so a spike arriving now first moves V in the next step), then
    /// neurons with `V >= V_th + theta_shift_mv + adaptation_gain * a` spike (the terms of
    /// `m`): V is reset, the refractory counter set, the bAP trace jumps by
    /// `A_bap * bap_gain`, the adaptive threshold `a` by `theta_plus`, and `offset + i` is
    /// pushed to `spikes`. The bAP trace and the adaptive threshold of every neuron decay
    /// by one step first.
    ///
    /// Without a bAP (`A_bap = 0`) the trace is left alone, and without adaptation
    /// (`theta_plus = 0`) so is the threshold rise: both stay zero.
    pub fn step(
        &self,
        s: LifSlices<'_>,
        input: StepInput<'_>,
        m: &Modulation,
        offset: u32,
        spikes: &mut Vec<u32>,
    ) {
        let n = s.v_rel.len();
        let theta = self.theta + m.threshold_shift_mv();
        let jump = self.traces.jump(m);
        self.traces.decay(&mut s.bap[..n], &mut s.theta_adapt[..n]);
        // Blocks of BLOCK neurons: the linear update of a block is written without branches
        // so that it vectorises, and reports whether any neuron crossed threshold; only such
        // blocks are scanned for spikes. A block stays in L1 between the two passes. The
        // adaptive part of the threshold is never negative (nor is its gain), so the block
        // test against the fixed threshold finds every block that may hold a spike.
        const BLOCK: usize = 64;
        let mut start = 0;
        while start < n {
            let end = (start + BLOCK).min(n);
            let v = &mut s.v_rel[start..end];
            let i_ex = &mut s.i_ex[start..end];
            let i_in = &mut s.i_in[start..end];
            let refr = &mut s.refractory[start..end];
            let ex = &mut input.ex[start..end];
            let inh = &mut input.inh[start..end];
            let crossed = match input.i_stim {
                Some(stim) => self.linear(v, i_ex, i_in, refr, ex, inh, &stim[start..end], theta),
                None => self.linear(v, i_ex, i_in, refr, ex, inh, &[], theta),
            };
            if crossed {
                let bap = &mut s.bap[start..end];
                let th = &mut s.theta_adapt[start..end];
                let over = &mut s.overshoot[start..end];
                let gain = m.adaptation_gain();
                for i in 0..v.len() {
                    // `th[i]` is zero without adaptation.
                    let threshold = theta + gain * th[i];
                    if v[i] >= threshold {
                        over[i] = v[i] - threshold;
                        v[i] = self.v_reset;
                        refr[i] = self.ref_steps;
                        self.traces.on_spike(&mut bap[i], &mut th[i], jump);
                        spikes.push(offset + (start + i) as u32);
                    }
                }
            }
            start = end;
        }
    }

    /// The linear part of a step for one block; `stim` is empty when there is no
    /// stimulation current. Returns whether any neuron is at or above `theta`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn linear(
        &self,
        v: &mut [f64],
        i_ex: &mut [f64],
        i_in: &mut [f64],
        refr: &mut [u32],
        ex: &mut [f64],
        inh: &mut [f64],
        stim: &[f64],
        theta: f64,
    ) -> bool {
        let n = v.len();
        let (i_ex, i_in, refr, ex, inh) = (
            &mut i_ex[..n],
            &mut i_in[..n],
            &mut refr[..n],
            &mut ex[..n],
            &mut inh[..n],
        );
        let mut crossed = false;
        let base = self.p20 * self.i_e;
        for i in 0..n {
            let drive = if stim.is_empty() {
                base
            } else {
                self.p20 * (self.i_e + stim[i])
            };
            let v_old = v[i];
            let v_next = drive + self.p21_ex * i_ex[i] + self.p21_in * i_in[i] + self.p22 * v_old;
            // A refractory neuron keeps `v_old + 0.0`, the same number (only -0.0 becomes
            // +0.0): storing `v_old` itself lets the compiler skip the store for those
            // lanes, which it does with a masked store (`vmaskmovpd`) that is slow on x86.
            v[i] = if refr[i] == 0 { v_next } else { v_old + 0.0 };
            refr[i] = refr[i].saturating_sub(1);
            i_ex[i] = self.p11_ex * i_ex[i] + ex[i];
            i_in[i] = self.p11_in * i_in[i] + inh[i];
            ex[i] = 0.0;
            inh[i] = 0.0;
            crossed |= v[i] >= theta;
        }
        crossed
    }

    /// Absolute membrane potential (mV) of a state value `v_rel`.
    pub fn absolute_mv(&self, v_rel: f64) -> f64 {
        v_rel + self.e_l_mv
    }
}

impl NeuronModel for LifPropagators {
    const NAME: &'static str = "lif_exp";
    type Params = LifParams;
    type ValidParams = ValidLifParams;
    type State = LifState;

    fn check(params: LifParams) -> Result<ValidLifParams, ParamError> {
        params.checked()
    }

    fn rest_mv(params: &ValidLifParams) -> f64 {
        params.get().e_l_mv
    }

    fn for_dt(params: &ValidLifParams, dt_ms: f64) -> Result<Self, ParamError> {
        params.propagators(dt_ms)
    }

    fn new_state(&self, n: usize) -> LifState {
        LifState::new(n)
    }

    fn len(state: &LifState) -> usize {
        state.len()
    }

    #[inline]
    fn step(
        &self,
        state: &mut LifState,
        input: StepInput<'_>,
        m: &Modulation,
        offset: u32,
        spikes: &mut Vec<u32>,
    ) {
        let n = state.len();
        LifPropagators::step(self, state.slices_mut(0..n), input, m, offset, spikes);
    }

    /// Takes back what the crossing did besides the reset: the bAP jump, the threshold
    /// rise and the refractory count. The membrane stays at the reset potential.
    #[inline]
    fn veto(&self, state: &mut LifState, i: usize, m: &Modulation) {
        self.traces
            .veto(&mut state.bap[i], &mut state.theta_adapt[i], m);
        state.refractory[i] = 0;
    }

    #[inline]
    fn junction_potential_mv(state: &LifState, i: usize) -> f64 {
        state.v_rel[i]
    }

    #[inline]
    fn dendritic_trace_mv(state: &LifState, i: usize) -> f64 {
        state.bap[i]
    }

    fn scale_dendritic_trace(state: &mut LifState, i: usize, factor: f64) {
        state.bap[i] *= factor;
    }

    fn threshold_rise_mv(&self, state: &LifState, i: usize) -> f64 {
        state.theta_adapt[i]
    }

    fn crossing_overshoot_mv(&self, state: &LifState, i: usize) -> f64 {
        state.overshoot[i]
    }

    fn potential_mv(&self, state: &LifState, i: usize) -> f64 {
        self.absolute_mv(state.v_rel[i])
    }

    /// `I_ex + I_in` after the step's decay and jumps: the current the next step starts
    /// with.
    #[inline]
    fn synaptic_current_pa(&self, state: &LifState, i: usize) -> f64 {
        state.i_ex[i] + state.i_in[i]
    }

    /// `V_th + theta_shift + adaptation_gain * a` (the terms of `m`), the threshold of
    /// [`LifPropagators::step`].
    #[inline]
    fn threshold_mv(&self, state: &LifState, i: usize, m: &Modulation) -> f64 {
        let theta = self.theta + m.threshold_shift_mv();
        self.absolute_mv(theta + m.adaptation_gain() * state.theta_adapt[i])
    }

    fn set_potential_mv(&self, state: &mut LifState, i: usize, v_mv: f64) {
        state.v_rel[i] = v_mv - self.e_l_mv;
    }

    fn capacitance_pf(&self) -> f64 {
        self.c_m_pf
    }

    fn reset_to_rest(&self, state: &mut LifState) {
        state.reset_to_rest();
    }

    fn streamed(state: &LifState) -> Vec<&[f64]> {
        vec![&state.v_rel, &state.i_ex, &state.i_in]
    }
}
