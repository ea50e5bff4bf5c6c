//! Concentration dynamics: tonic level, release pulses, exponential decay.

use std::collections::BTreeSet;

use crate::{AchError, non_negative, positive};
use engram_core::number::short;

/// One release of acetylcholine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AchPulse {
    /// Start of the release, from the start of the run (ms).
    pub time_ms: f64,
    /// Amount released (dimensionless): without decay, `A` would rise by exactly this much.
    pub amplitude: f64,
    /// Length of the release, at constant rate `amplitude / duration_ms` (ms); 0 makes the
    /// pulse an instantaneous jump of `A` by `amplitude` at `time_ms`.
    pub duration_ms: f64,
}

impl Default for AchPulse {
    fn default() -> Self {
        AchPulse {
            time_ms: 0.0,
            amplitude: 1.0,
            duration_ms: 0.0,
        }
    }
}

impl AchPulse {
    /// True if the release takes no time: a zero duration, or one too short to move
    /// `time_ms` in floating point.
    fn is_instant(&self) -> bool {
        self.time_ms + self.duration_ms == self.time_ms
    }

    fn end_ms(&self) -> f64 {
        self.time_ms + self.duration_ms
    }

    fn rate(&self) -> f64 {
        self.amplitude / self.duration_ms
    }
}

/// Parameters of the acetylcholine concentration, with units in the field names.
///
/// These may hold any value; [`AchParams::checked`] turns them into [`ValidAchParams`],
/// the only type the kinetics accept. Pulses may come in any order and may overlap.
#[derive(Debug, Clone, PartialEq)]
pub struct AchParams {
    /// Tonic level (dimensionless): the concentration at the start of the run and the
    /// level it relaxes to.
    pub tonic: f64,
    /// Decay time constant towards the tonic level (ms).
    pub tau_ach_ms: f64,
    /// Release pulses.
    pub pulses: Vec<AchPulse>,
}

impl Default for AchParams {
    fn default() -> Self {
        AchParams {
            tonic: 0.0,
            tau_ach_ms: 100.0,
            pulses: Vec::new(),
        }
    }
}

impl AchParams {
    /// Validates every field and precomputes the release schedule.
    ///
    /// Errors name the field: `tonic`, `tau_ach_ms`, `pulses[i].time_ms`,
    /// `pulses[i].amplitude`, `pulses[i].duration_ms`.
    pub fn checked(self) -> Result<ValidAchParams, AchError> {
        non_negative("tonic", self.tonic)?;
        positive("tau_ach_ms", self.tau_ach_ms)?;
        let mut total = self.tonic;
        for (i, p) in self.pulses.iter().enumerate() {
            non_negative(format!("pulses[{i}].time_ms"), p.time_ms)?;
            non_negative(format!("pulses[{i}].amplitude"), p.amplitude)?;
            non_negative(format!("pulses[{i}].duration_ms"), p.duration_ms)?;
            if !p.end_ms().is_finite() {
                return Err(AchError::new(
                    format!("pulses[{i}].duration_ms"),
                    p.duration_ms,
                    "the pulse must end at a finite time",
                ));
            }
            if !p.is_instant() && !(p.rate() * self.tau_ach_ms).is_finite() {
                return Err(AchError::new(
                    format!("pulses[{i}].duration_ms"),
                    p.duration_ms,
                    "too short for the pulse's amplitude: the release rate overflows",
                ));
            }
            total += p.amplitude;
            if !total.is_finite() {
                return Err(AchError::new(
                    format!("pulses[{i}].amplitude"),
                    p.amplitude,
                    "the tonic level plus the summed amplitudes must be finite",
                ));
            }
        }
        let schedule = schedule(&self.pulses, self.tau_ach_ms)?;
        Ok(ValidAchParams {
            params: self,
            schedule,
        })
    }
}

/// An instant at which the release changes: the start or end of a pulse, or a jump.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Breakpoint {
    /// When (ms).
    time_ms: f64,
    /// Sum of the amplitudes of the instantaneous pulses at this time.
    jump: f64,
    /// Total release rate from this time to the next breakpoint (1/ms).
    rate: f64,
}

/// Sorted breakpoints of the piecewise-constant release rate. The rate of each interval is
/// summed afresh over the pulses active in it (in pulse order), so it is exactly 0 where no
/// pulse releases and does not carry rounding from one interval to the next.
fn schedule(pulses: &[AchPulse], tau_ms: f64) -> Result<Vec<Breakpoint>, AchError> {
    let mut times: Vec<f64> = Vec::with_capacity(2 * pulses.len());
    for p in pulses {
        times.push(p.time_ms);
        if !p.is_instant() {
            times.push(p.end_ms());
        }
    }
    times.sort_by(f64::total_cmp);
    times.dedup();

    let by = |key: fn(&AchPulse) -> f64, keep: fn(&AchPulse) -> bool| {
        let mut idx: Vec<usize> = (0..pulses.len()).filter(|&i| keep(&pulses[i])).collect();
        idx.sort_by(|&a, &b| key(&pulses[a]).total_cmp(&key(&pulses[b])).then(a.cmp(&b)));
        idx
    };
    let starts = by(|p| p.time_ms, |p| !p.is_instant());
    let ends = by(AchPulse::end_ms, |p| !p.is_instant());
    let jumps = by(|p| p.time_ms, AchPulse::is_instant);

    let (mut s, mut e, mut j) = (0, 0, 0);
    let mut active = BTreeSet::new();
    let mut out = Vec::with_capacity(times.len());
    for t in times {
        while e < ends.len() && pulses[ends[e]].end_ms() <= t {
            active.remove(&ends[e]);
            e += 1;
        }
        while s < starts.len() && pulses[starts[s]].time_ms <= t {
            active.insert(starts[s]);
            s += 1;
        }
        let mut jump = 0.0;
        while j < jumps.len() && pulses[jumps[j]].time_ms <= t {
            jump += pulses[jumps[j]].amplitude;
            j += 1;
        }
        let rate = active.iter().fold(0.0, |sum, &i| sum + pulses[i].rate());
        if !(rate * tau_ms).is_finite() {
            let first = *active.first().expect("a non-zero rate has an active pulse");
            return Err(AchError::new(
                format!("pulses[{first}].duration_ms"),
                pulses[first].duration_ms,
                "overlapping pulses release too fast: the summed release rate overflows",
            ));
        }
        out.push(Breakpoint {
            time_ms: t,
            jump,
            rate,
        });
    }
    Ok(out)
}

/// Parameters that passed [`AchParams::checked`], with the release schedule precomputed.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidAchParams {
    params: AchParams,
    schedule: Vec<Breakpoint>,
}

impl ValidAchParams {
    /// The underlying parameter values.
    pub fn get(&self) -> &AchParams {
        &self.params
    }

    /// Checks that every pulse releases inside a run of `duration_ms`: it starts in
    /// `[0, duration_ms)` and its release ends no later than `duration_ms`.
    ///
    /// A pulse that starts too late names `pulses[i].time_ms`; one that starts in time but
    /// would still be releasing when the run ends names `pulses[i].duration_ms`.
    pub fn validate_within(&self, duration_ms: f64) -> Result<(), AchError> {
        for (i, p) in self.params.pulses.iter().enumerate() {
            let starts_in_run = p.time_ms < duration_ms; // false for NaN
            if !starts_in_run {
                return Err(AchError::new(
                    format!("pulses[{i}].time_ms"),
                    p.time_ms,
                    format!(
                        "the pulse must start before the end of the run ({} ms)",
                        short(duration_ms)
                    ),
                ));
            }
            let ends_in_run = p.end_ms() <= duration_ms;
            if !ends_in_run {
                return Err(AchError::new(
                    format!("pulses[{i}].duration_ms"),
                    p.duration_ms,
                    format!(
                        "the pulse releases until {} ms, after the end of the run ({} ms)",
                        short(p.end_ms()),
                        short(duration_ms)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Kinetics for time step `dt_ms`, starting at time 0 at the tonic level.
    pub fn kinetics(&self, dt_ms: f64) -> Result<AchKinetics, AchError> {
        AchKinetics::new(self, dt_ms)
    }
}

/// The concentration `A` advancing in steps of `dt`, integrated exactly.
///
/// Step `k` covers `[k dt, (k + 1) dt)`. Holds its own copy of the release schedule, so it
/// can be moved to wherever the simulation loop runs.
#[derive(Debug, Clone, PartialEq)]
pub struct AchKinetics {
    tonic: f64,
    tau_ms: f64,
    dt_ms: f64,
    /// `e^{-dt/tau}`.
    decay: f64,
    /// `1 - e^{-dt/tau}`.
    growth: f64,
    schedule: Vec<Breakpoint>,
    /// Index of the first breakpoint not yet passed.
    next: usize,
    /// Release rate in force (1/ms).
    rate: f64,
    concentration: f64,
    steps: u64,
}

impl AchKinetics {
    /// Kinetics for time step `dt_ms` (finite, > 0; error field `dt_ms`), starting at time 0
    /// at the tonic level.
    pub fn new(params: &ValidAchParams, dt_ms: f64) -> Result<Self, AchError> {
        positive("dt_ms", dt_ms)?;
        let tau_ms = params.params.tau_ach_ms;
        let x = -dt_ms / tau_ms;
        Ok(AchKinetics {
            tonic: params.params.tonic,
            tau_ms,
            dt_ms,
            decay: x.exp(),
            growth: -x.exp_m1(),
            schedule: params.schedule.clone(),
            next: 0,
            rate: 0.0,
            concentration: params.params.tonic,
            steps: 0,
        })
    }

    /// Goes back to time 0 and the tonic level.
    pub fn reset(&mut self) {
        self.next = 0;
        self.rate = 0.0;
        self.concentration = self.tonic;
        self.steps = 0;
    }

    /// The concentration now (at [`AchKinetics::time_ms`]).
    pub fn concentration(&self) -> f64 {
        self.concentration
    }

    /// Overrides the concentration now (finite, >= 0; error field `concentration`). The
    /// release schedule and the time are unchanged.
    pub fn set_concentration(&mut self, concentration: f64) -> Result<(), AchError> {
        non_negative("concentration", concentration)?;
        self.concentration = concentration;
        Ok(())
    }

    /// The time step (ms).
    pub fn dt_ms(&self) -> f64 {
        self.dt_ms
    }

    /// Steps taken since the start (or the last reset).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The current time, `steps * dt` (ms).
    pub fn time_ms(&self) -> f64 {
        self.steps as f64 * self.dt_ms
    }

    /// Advances by one step and returns the concentration at its end.
    ///
    /// Within the step the release rate is piecewise constant; the step is split at each
    /// pulse start, pulse end and jump inside it, and each piece is integrated exactly.
    /// Steps are half-open, `[k dt, (k + 1) dt)`: a jump or pulse start at exactly
    /// `(k + 1) dt` belongs to the next step, so the value returned is the limit from the
    /// left at the step's end.
    pub fn step(&mut self) -> f64 {
        let t0 = self.steps as f64 * self.dt_ms;
        let t1 = (self.steps + 1) as f64 * self.dt_ms;
        let (decay, growth) = (self.decay, self.growth);
        if self.schedule.get(self.next).is_none_or(|b| b.time_ms >= t1) {
            self.relax(decay, growth);
        } else {
            let mut t = t0;
            while let Some(&b) = self.schedule.get(self.next).filter(|b| b.time_ms < t1) {
                self.relax_for(b.time_ms - t);
                self.concentration += b.jump;
                self.rate = b.rate;
                t = t.max(b.time_ms);
                self.next += 1;
            }
            self.relax_for(t1 - t);
        }
        self.steps += 1;
        self.concentration
    }

    /// Exact solution over `h_ms` at the current release rate.
    fn relax_for(&mut self, h_ms: f64) {
        if h_ms > 0.0 {
            let x = -h_ms / self.tau_ms;
            self.relax(x.exp(), -x.exp_m1());
        }
    }

    /// `A <- A_tonic + (A - A_tonic) decay + r tau growth`. The exact solution moves
    /// monotonically from `A` towards `A_tonic + r tau`; the result is clamped to that
    /// range so that rounding cannot overshoot either end.
    fn relax(&mut self, decay: f64, growth: f64) {
        let a = self.concentration;
        let drive = self.rate * self.tau_ms;
        let target = self.tonic + drive;
        let next = self.tonic + (a - self.tonic) * decay + drive * growth;
        self.concentration = next.clamp(a.min(target), a.max(target));
    }
}

/// The concentration at the end of each of `steps` steps of `dt_ms`, from time 0 (the
/// starting tonic level itself is not included: element `k` is `A((k + 1) dt)`).
pub fn trace(params: &ValidAchParams, dt_ms: f64, steps: usize) -> Result<Vec<f64>, AchError> {
    let mut kinetics = AchKinetics::new(params, dt_ms)?;
    Ok((0..steps).map(|_| kinetics.step()).collect())
}
