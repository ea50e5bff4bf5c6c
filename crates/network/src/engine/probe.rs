//! State recording: samples of chosen neurons' state variables at fixed intervals.
//!
//! A report ([`ReportSpec`]) names one population, one [`StateVariable`], the neurons
//! (indices within the population, ascending) and the sample times. Every chunk keeps one
//! [`ChunkProbe`] per report with the report's neurons that it owns, and at the end of each
//! step whose end time is a sample time it appends their values to its buffer. The buffers
//! are reserved before the parallel region of a run (for the samples that the run's steps
//! can take) and drained after it, row by row in chunk order, into the [`ReportData`] of
//! the simulation: no allocation, lock or dynamic dispatch in the step, and the same
//! numbers whatever the chunking (a sample is a function of the neuron's state, which
//! does not depend on it).
//!
//! # When a sample is taken
//!
//! The sample of step `k` is taken after everything the step does (delivery, inputs, gap
//! currents, the neuron update, k-WTA vetoes, learning): it is the state at the end of
//! step `k`, time `(k + 1) dt`, the time stamped on the step's spikes. A neuron that fired
//! in step `k` is sampled at its reset potential. The sample times of a report are the
//! multiples of its interval in `(start, stop]` (NEST's multimeter convention): with the
//! defaults, `dt, 2 dt, ..., T`; the state at time 0 is never sampled.
//!
//! What each variable holds at that moment:
//!
//! - `v`: the membrane potential (mV, absolute);
//! - `i_syn`: the total synaptic current (pA) after the step's decay and jumps, the
//!   current the next step starts with;
//! - `bap`: the dendritic bAP trace (mV);
//! - `i_gap`: the gap-junction current (pA) that was held during step `k` (the interval
//!   that ends at the sample time), computed as the step's stimulation current minus the
//!   current inputs; 0 in steps without gap currents;
//! - `theta`: the spike threshold (mV, absolute) that step `k` tested against: `V_th`
//!   plus the adaptive rise, with the modulation of the step (threshold shift, adaptation
//!   gain).

use super::StepCtx;
use super::chunk::{Chunk, Segment};
use crate::NetworkError;

/// A state variable that a report can record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateVariable {
    /// Membrane potential (mV, absolute).
    V,
    /// Total synaptic current (pA).
    ISyn,
    /// Dendritic bAP trace (mV).
    Bap,
    /// Gap-junction current (pA).
    IGap,
    /// Spike threshold (mV, absolute): `V_th` plus the adaptive rise, modulated.
    Theta,
}

impl StateVariable {
    /// Every variable, in the order of their names in configs.
    pub const ALL: [StateVariable; 5] = [
        StateVariable::V,
        StateVariable::ISyn,
        StateVariable::Bap,
        StateVariable::IGap,
        StateVariable::Theta,
    ];

    /// The name in configs and files (`v`, `i_syn`, `bap`, `i_gap`, `theta`).
    pub fn name(self) -> &'static str {
        match self {
            StateVariable::V => "v",
            StateVariable::ISyn => "i_syn",
            StateVariable::Bap => "bap",
            StateVariable::IGap => "i_gap",
            StateVariable::Theta => "theta",
        }
    }

    /// The variable called `name` in configs, if any.
    pub fn from_name(name: &str) -> Option<StateVariable> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The unit of the values (`mV` or `pA`).
    pub fn units(self) -> &'static str {
        match self {
            StateVariable::V | StateVariable::Bap | StateVariable::Theta => "mV",
            StateVariable::ISyn | StateVariable::IGap => "pA",
        }
    }

    /// What the variable is, in a few words (for plots).
    pub fn description(self) -> &'static str {
        match self {
            StateVariable::V => "membrane potential",
            StateVariable::ISyn => "synaptic current",
            StateVariable::Bap => "dendritic bAP trace",
            StateVariable::IGap => "gap-junction current",
            StateVariable::Theta => "spike threshold",
        }
    }
}

/// What a report records: one variable of some neurons of one population, at the end of
/// every step whose end time `e dt` has `e` a multiple of `interval_steps` with
/// `start_step < e <= stop_step` (see the module docs of `engine::probe`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSpec {
    /// Population index.
    pub population: usize,
    /// The variable.
    pub variable: StateVariable,
    /// Neurons, as indices within the population, strictly ascending.
    pub neurons: Vec<u32>,
    /// Steps between samples (at least 1).
    pub interval_steps: u64,
    /// Samples are taken at step ends after this one (in steps from the start).
    pub start_step: u64,
    /// The last step end that may be sampled (in steps from the start).
    pub stop_step: u64,
}

impl ReportSpec {
    /// Number of samples at step ends `first_end..=last_end`.
    pub fn samples_in(&self, first_end: u64, last_end: u64) -> u64 {
        let lo = first_end.max(self.start_step + 1);
        let hi = last_end.min(self.stop_step);
        if lo > hi {
            0
        } else {
            hi / self.interval_steps - (lo - 1) / self.interval_steps
        }
    }

    /// The first sampled step end at or after `end`, if any.
    pub fn first_sample_from(&self, end: u64) -> Option<u64> {
        let lo = end.max(self.start_step + 1);
        let e = lo.div_ceil(self.interval_steps) * self.interval_steps;
        (e <= self.stop_step).then_some(e)
    }

    /// Whether the state at the end of step `end - 1` (time `end * dt`) is sampled.
    #[inline]
    fn due(&self, end: u64) -> bool {
        end > self.start_step && end <= self.stop_step && end % self.interval_steps == 0
    }

    /// Bytes that the samples of a run of `steps` steps take.
    pub fn memory_bytes(&self, steps: u64) -> f64 {
        self.samples_in(1, steps) as f64 * self.neurons.len() as f64 * 8.0
    }
}

/// The samples of one report so far.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportData {
    /// What is recorded.
    pub spec: ReportSpec,
    /// The step end of the first row (its time is `first_end_step * dt`), once there is
    /// one; rows follow every `interval_steps` steps.
    pub first_end_step: Option<u64>,
    /// Rows of `spec.neurons.len()` values, one per sample time, in time order; columns
    /// in the order of `spec.neurons`.
    pub data: Vec<f64>,
}

impl ReportData {
    /// Number of rows (sample times).
    pub fn rows(&self) -> usize {
        self.data
            .len()
            .checked_div(self.spec.neurons.len())
            .unwrap_or(0)
    }
}

/// A report as one chunk sees it: the report's neurons that the chunk owns, and their
/// samples of the current run.
#[derive(Debug, Clone)]
pub(super) struct ChunkProbe {
    times: ReportSpec,
    variable: StateVariable,
    /// Index of the segment of the report's population in the chunk (unused when the
    /// chunk owns none of the report's neurons).
    seg: usize,
    /// Index within the segment of each recorded neuron the chunk owns.
    in_seg: Vec<u32>,
    /// Chunk-local index of each of them.
    local: Vec<u32>,
    /// Samples of the current run: rows of `in_seg.len()` values.
    buf: Vec<f64>,
}

impl ChunkProbe {
    /// The part of report `spec` (of a population whose first global id is `pop_start`)
    /// that a chunk with these segments owns.
    pub(super) fn new(spec: &ReportSpec, pop_start: u32, segments: &[Segment]) -> ChunkProbe {
        let mut probe = ChunkProbe {
            times: ReportSpec {
                neurons: Vec::new(),
                ..spec.clone()
            },
            variable: spec.variable,
            seg: 0,
            in_seg: Vec::new(),
            local: Vec::new(),
            buf: Vec::new(),
        };
        if let Some((s, seg)) = segments
            .iter()
            .enumerate()
            .find(|(_, s)| s.pop == spec.population)
        {
            probe.seg = s;
            let first = seg.global_start - pop_start;
            let n = seg.local.len() as u32;
            for &i in &spec.neurons {
                if i >= first && i < first + n {
                    probe.in_seg.push(i - first);
                    probe.local.push((seg.local.start as u32) + i - first);
                }
            }
        }
        probe
    }
}

impl Chunk {
    /// Samples the state of the step just taken for every report that is due (see the
    /// module docs for what a sample holds). Nothing to do without reports.
    pub(super) fn sample_state(&mut self, ctx: &StepCtx<'_>) {
        if self.probes.is_empty() {
            return;
        }
        let end = ctx.step + 1;
        for p in &mut self.probes {
            if p.in_seg.is_empty() || !p.times.due(end) {
                continue;
            }
            debug_assert!(p.buf.capacity() - p.buf.len() >= p.in_seg.len());
            let seg = &self.segments[p.seg];
            let model = &ctx.run.models[seg.pop];
            let state = &seg.state;
            let at = p.in_seg.iter().map(|&i| i as usize);
            match p.variable {
                StateVariable::V => p.buf.extend(at.map(|i| model.potential_mv(state, i))),
                StateVariable::ISyn => {
                    p.buf
                        .extend(at.map(|i| model.synaptic_current_pa(state, i)));
                }
                StateVariable::Bap => {
                    p.buf.extend(at.map(|i| model.dendritic_trace_mv(state, i)));
                }
                StateVariable::Theta => {
                    let m = &ctx.modulation[seg.pop];
                    p.buf.extend(at.map(|i| model.threshold_mv(state, i, m)));
                }
                StateVariable::IGap => {
                    let s = &self.stim;
                    if s.total_used {
                        p.buf.extend(p.local.iter().map(|&l| {
                            let l = l as usize;
                            s.i_total[l] - s.i_stim[l]
                        }));
                    } else {
                        p.buf.extend(p.local.iter().map(|_| 0.0));
                    }
                }
            }
        }
    }

    /// Makes room for the samples of steps `first_step..first_step + steps`, so that the
    /// step never allocates.
    pub(super) fn reserve_samples(&mut self, first_step: u64, steps: u64) {
        for p in &mut self.probes {
            let rows = p.times.samples_in(first_step + 1, first_step + steps);
            p.buf.clear();
            p.buf.reserve_exact(rows as usize * p.in_seg.len());
        }
    }
}

/// Moves the samples of the last run from the chunks' buffers into `reports`, row by row,
/// the chunks' columns in chunk order (which is ascending id order); `first_step` is the
/// run's first step.
pub(super) fn drain_samples(
    chunks: &mut [&mut Chunk],
    reports: &mut [ReportData],
    first_step: u64,
) {
    for (r, report) in reports.iter_mut().enumerate() {
        let widths: Vec<usize> = chunks.iter().map(|c| c.probes[r].in_seg.len()).collect();
        let rows = chunks
            .iter()
            .zip(&widths)
            .filter(|(_, w)| **w > 0)
            .map(|(c, w)| c.probes[r].buf.len() / w)
            .min()
            .unwrap_or(0);
        if rows > 0 && report.first_end_step.is_none() {
            report.first_end_step = report.spec.first_sample_from(first_step + 1);
        }
        report.data.reserve(rows * report.spec.neurons.len());
        for row in 0..rows {
            for (c, &w) in chunks.iter().zip(&widths) {
                report
                    .data
                    .extend_from_slice(&c.probes[r].buf[row * w..(row + 1) * w]);
            }
        }
        for c in chunks.iter_mut() {
            c.probes[r].buf.clear();
        }
    }
}

/// Checks a report against the populations' sizes (`sizes`).
pub(super) fn validate(spec: &ReportSpec, sizes: &[u32]) -> Result<(), NetworkError> {
    let invalid = |message: String| NetworkError::Invalid {
        path: "report".into(),
        message,
    };
    let Some(&n) = sizes.get(spec.population) else {
        return Err(invalid(format!("no population {}", spec.population)));
    };
    if spec.interval_steps == 0 {
        return Err(invalid("interval_steps must be at least 1".into()));
    }
    if spec.start_step >= spec.stop_step {
        return Err(invalid(format!(
            "start_step {} must be before stop_step {}",
            spec.start_step, spec.stop_step
        )));
    }
    if spec.neurons.windows(2).any(|w| w[0] >= w[1]) {
        return Err(invalid("neurons must be strictly ascending".into()));
    }
    if let Some(&last) = spec.neurons.last().filter(|&&i| i >= n) {
        return Err(invalid(format!(
            "neuron {last} is outside the population of {n}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
