//! What a spike leaves besides the reset, shared by the LIF models: the dendritic bAP trace
//! (the depolarisation that gap junctions carry backwards) and the adaptive threshold.

use crate::{Modulation, ParamError, non_negative, positive};

/// The constants of the bAP trace and the adaptive threshold for one `dt`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpikeTraces {
    /// bAP jump per spike before modulation (mV); 0: no bAP.
    pub a_bap: f64,
    /// `e^{-dt/tau_bap}`: decay of the dendritic trace over one step.
    pub p_bap: f64,
    /// Rise of the adaptive threshold per spike (mV); 0: no adaptation.
    pub theta_plus: f64,
    /// `e^{-dt/tau_theta}`: decay of the adaptive threshold over one step.
    pub p_theta: f64,
}

impl SpikeTraces {
    /// Checks the four parameters (names as in configs).
    pub fn check(
        a_bap_mv: f64,
        tau_bap_ms: f64,
        theta_plus_mv: f64,
        tau_theta_ms: f64,
    ) -> Result<(), ParamError> {
        positive("tau_bap_ms", tau_bap_ms)?;
        positive("tau_theta_ms", tau_theta_ms)?;
        non_negative("a_bap_mv", a_bap_mv)?;
        non_negative("theta_plus_mv", theta_plus_mv)
    }

    /// The constants for time step `dt_ms`.
    pub fn new(
        a_bap_mv: f64,
        tau_bap_ms: f64,
        theta_plus_mv: f64,
        tau_theta_ms: f64,
        dt_ms: f64,
    ) -> Self {
        SpikeTraces {
            a_bap: a_bap_mv,
            p_bap: (-dt_ms / tau_bap_ms).exp(),
            theta_plus: theta_plus_mv,
            p_theta: (-dt_ms / tau_theta_ms).exp(),
        }
    }

    /// Whether spikes raise the threshold.
    #[inline]
    pub fn adapts(&self) -> bool {
        self.theta_plus > 0.0
    }

    /// Decays both traces of every neuron by one step. Without a bAP (or without
    /// adaptation) that trace is left alone: it stays zero.
    #[inline]
    pub fn decay(&self, bap: &mut [f64], theta_adapt: &mut [f64]) {
        if self.a_bap > 0.0 {
            for b in bap.iter_mut() {
                *b *= self.p_bap;
            }
        }
        if self.adapts() {
            for a in theta_adapt.iter_mut() {
                *a *= self.p_theta;
            }
        }
    }

    /// A spike: the bAP trace jumps by `A_bap * bap_gain` (`jump`, from
    /// [`SpikeTraces::jump`]) and the threshold rises by `theta_plus`.
    #[inline]
    pub fn on_spike(&self, bap: &mut f64, theta_adapt: &mut f64, jump: f64) {
        if self.a_bap > 0.0 {
            *bap += jump;
        }
        if self.adapts() {
            *theta_adapt += self.theta_plus;
        }
    }

    /// The bAP jump of a spike under modulation `m`.
    #[inline]
    pub fn jump(&self, m: &Modulation) -> f64 {
        self.a_bap * m.bap_gain()
    }

    /// Takes back what [`SpikeTraces::on_spike`] did (gain control's veto).
    #[inline]
    pub fn veto(&self, bap: &mut f64, theta_adapt: &mut f64, m: &Modulation) {
        *bap -= self.jump(m);
        *theta_adapt -= self.theta_plus;
    }
}

/// Checks that the reset lies below the threshold.
pub(crate) fn reset_below_threshold(v_reset_mv: f64, v_th_mv: f64) -> Result<(), ParamError> {
    if v_reset_mv >= v_th_mv {
        return Err(ParamError::new(
            "v_reset_mv",
            v_reset_mv,
            format!("must be below the threshold v_th_mv = {v_th_mv}"),
        ));
    }
    Ok(())
}
