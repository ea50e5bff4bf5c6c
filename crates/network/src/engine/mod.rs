//! The time loop: the one place in engram that runs on several threads.
//!
//! Neurons are split into contiguous chunks, one per thread. A run is one parallel region
//! (see [`worker`]) in which every worker steps its own chunk, on its own memory only, in
//! the order of [`schedule`]: delivery of the previous step's spikes, gap currents,
//! inputs, the neuron update, gain control and learning. Between steps, chunks see each
//! other only through the [`exchange`] and meet at the [`barrier`]; worker 0 hands each
//! step's spikes to the [`SpikeSink`]. Nothing in a step takes a contended lock or
//! allocates once buffers have grown, and the result does not depend on the number of
//! chunks (see [`crate::connect`] for why the summation order is fixed).
//!
//! Modules, one per mechanism: [`delivery`], [`inputs`], [`gap`], [`learning`], [`gain`]
//! (k-WTA), [`neurons`], [`ring`] (ring buffers), [`probe`] (state reports); and [`build`]
//! (chunk construction) with [`stability`] (the gap stability check).

mod barrier;
mod build;
mod chunk;
mod delivery;
mod exchange;
mod gain;
mod gap;
mod inputs;
mod learning;
mod modulation;
mod neurons;
mod probe;
mod ring;
mod schedule;
mod stability;
mod worker;

use engram_neuron::{Model, ModelState};
use std::ops::Range;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

use crate::synapses::ChunkCsr;
use chunk::Chunk;
use engram_core::time::StepClock;
use engram_core::{Modulation, SpikeSink};
use exchange::{Exchange, Received};
pub use gain::Kwta;
use gain::{Clamp, Gate};
use gap::{GapProj, tag_decay};
use learning::{Learner, Rule};
use modulation::{Acetylcholine, ModulationBuffer};
pub use probe::{ReportData, ReportSpec, StateVariable};

/// What the step needs to know of each projection.
#[derive(Debug, Clone, Copy)]
struct ProjInfo {
    /// Target population (its modulation applies).
    target_pop: usize,
    /// Index into the gap projections, when the projection has gap junctions.
    gap: Option<usize>,
    /// Tag window in steps, when the projection has gap junctions.
    tag_window_steps: Option<u64>,
    /// `(1 / weight unit of the junctions, dt / tau_g)` when the junctions track the
    /// weights with a time constant: a weight change must first bring them up to date.
    track: Option<(f64, f64)>,
    /// Plasticity rule in steps and units, if any.
    rule: Option<Rule>,
}

/// The read-only context of a run: what every worker reads and none writes. Owned by the
/// [`Simulation`], which changes it only between runs.
struct RunCtx {
    /// Time step (ms).
    dt_ms: f64,
    /// The times of the steps (decimal multiples of `dt_ms`).
    clock: StepClock,
    /// Global id range of each population.
    pop_ranges: Vec<Range<u32>>,
    /// Neuron model constants of each population.
    models: Vec<Model>,
    /// The gap-coupled projections.
    gap_projs: Vec<GapProj>,
    /// Length of the ring of pending gap currents (largest backward delay + 1).
    gap_ring_len: u64,
    /// Every projection, as the step sees it.
    proj_info: Vec<ProjInfo>,
    /// Whether plasticity is on.
    plasticity_on: bool,
    /// Whether encoding tags are on.
    tagging_on: bool,
    /// Whether any projection is plastic.
    any_plastic: bool,
    /// Whether any projection has gap junctions or feedback synapses.
    any_gap: bool,
    /// Whether any projection has gap junctions proper (driven by bAP traces).
    any_junction: bool,
    /// Whether any projection has feedback synapses (driven by spikes).
    any_feedback: bool,
}

impl RunCtx {
    /// Plasticity or tagging may change something in a step.
    #[inline]
    fn learning(&self) -> bool {
        (self.plasticity_on && self.any_plastic) || (self.tagging_on && self.any_gap)
    }
}

/// What one step of one chunk reads: the run context, the step, what the previous step
/// left in the exchange, and the modulation of each population.
struct StepCtx<'a> {
    run: &'a RunCtx,
    step: u64,
    received: &'a Received<'a>,
    modulation: &'a [Modulation],
}

/// A network that runs: state, synapses and buffers, built from a [`NetworkSpec`].
///
/// A run is one parallel region: each worker owns one chunk for the whole run and the
/// workers meet at a barrier once per step. The spikes of step `k` go to buffer `k % 2` of
/// their chunk, which every worker reads in step `k + 1` while the owner writes the other
/// buffer: the barrier orders the two, so the buffers' locks are never contended.
///
/// [`NetworkSpec`]: crate::NetworkSpec
pub struct Simulation {
    run: RunCtx,
    step: u64,
    /// The modulation set by [`Simulation::set_modulation`].
    modulation: Vec<Modulation>,
    /// The modulation of the steps of a run.
    step_modulation: ModulationBuffer,
    ach: Option<Acetylcholine>,
    chunks: Vec<Mutex<Chunk>>,
    exchange: Exchange,
    pool: Option<rayon::ThreadPool>,
    spike_counts: Vec<u64>,
    n_synapses: u64,
    /// The state reports and their samples so far.
    reports: Vec<ReportData>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A worker that panicked poisons its chunk; the panic itself is propagated by rayon.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Simulation {
    /// Advances the network by `steps` steps, handing each step's spikes to `sink`.
    ///
    /// If the sink fails, the run stops one step later and returns the error; the network is
    /// then in an unspecified state and should not be run further.
    pub fn run<S: SpikeSink + Send>(&mut self, steps: u64, sink: &mut S) -> Result<(), S::Error>
    where
        S::Error: Send,
    {
        if steps == 0 {
            return Ok(());
        }
        let barrier = barrier::SpinBarrier::new(self.chunks.len());
        let failed_at = AtomicU64::new(u64::MAX);
        let first_step = self.step;
        if !self.reports.is_empty() {
            self.chunks
                .iter()
                .for_each(|c| lock(c).reserve_samples(first_step, steps));
        }
        self.step_modulation
            .start(first_step, &self.modulation, self.ach.as_mut());
        let region = worker::Region {
            run: &self.run,
            chunks: &self.chunks,
            exchange: &self.exchange,
            modulation: &self.step_modulation,
            barrier: &barrier,
            failed_at: &failed_at,
        };
        let recorder = Mutex::new(worker::Recorder {
            sink,
            counts: &mut self.spike_counts,
            error: None,
            ach: self.ach.as_mut(),
        });
        let work = |w: usize| region.worker(w, first_step, steps, &recorder);
        match &self.pool {
            Some(pool) => {
                pool.broadcast(|ctx| work(ctx.index()));
            }
            None => work(0),
        }
        let recorder = recorder
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !self.reports.is_empty() {
            let mut guards: Vec<_> = self.chunks.iter().map(lock).collect();
            let mut chunks: Vec<&mut Chunk> = guards.iter_mut().map(|g| &mut **g).collect();
            probe::drain_samples(&mut chunks, &mut self.reports, first_step);
        }
        if let Some(e) = recorder.error {
            // The workers stopped one step after the failing one; the state is that of
            // an unfinished run.
            self.step = first_step + steps;
            return Err(e);
        }
        self.step = first_step + steps;
        Ok(())
    }

    /// Adds a state report (see [`ReportSpec`] for what it samples and when) and returns
    /// its index; its samples collect in [`Simulation::report`]. Reports cost nothing when
    /// there are none; with some, each run reserves its samples' memory before it starts.
    pub fn add_report(&mut self, spec: ReportSpec) -> Result<usize, crate::NetworkError> {
        let sizes: Vec<u32> = self
            .run
            .pop_ranges
            .iter()
            .map(|r| r.end - r.start)
            .collect();
        probe::validate(&spec, &sizes)?;
        let pop_start = self.run.pop_ranges[spec.population].start;
        for c in &self.chunks {
            let mut c = lock(c);
            let probe = probe::ChunkProbe::new(&spec, pop_start, &c.segments);
            c.probes.push(probe);
        }
        self.reports.push(ReportData {
            spec,
            first_end_step: None,
            data: Vec::new(),
        });
        Ok(self.reports.len() - 1)
    }

    /// The samples of report `r` so far (see [`Simulation::add_report`]).
    ///
    /// # Panics
    /// If `r` is not a report index.
    pub fn report(&self, r: usize) -> &ReportData {
        &self.reports[r]
    }

    /// The state reports and their samples so far, in the order they were added.
    pub fn reports(&self) -> &[ReportData] {
        &self.reports
    }

    /// Gates population `pop` (`Some`) or lifts its gate (`None`): at most `k` distinct
    /// neurons may fire within any `window_ms` (the rule and the tie-break are those of
    /// [`Kwta`]). A gate that changes its `k` or window keeps its record of recent spikes.
    /// Deterministic whatever the thread count.
    ///
    /// # Panics
    /// If `pop` is not a population index, `k` is 0, or the window is not a positive
    /// finite number.
    pub fn set_kwta(&mut self, pop: usize, gate: Option<Kwta>) {
        let range = self.run.pop_ranges[pop].clone();
        let window = gate.map(|g| {
            assert!(g.k > 0, "a k-WTA gate needs k >= 1");
            assert!(
                g.window_ms.is_finite() && g.window_ms > 0.0,
                "a k-WTA window must be a positive time"
            );
            ((g.window_ms / self.run.dt_ms).round() as u64).max(1)
        });
        for chunk in &self.chunks {
            let mut chunk = lock(chunk);
            match (gate, window) {
                (Some(g), Some(w)) => match chunk.gates.iter_mut().find(|x| x.pop == pop) {
                    Some(x) => x.resize(g.k, w),
                    None => chunk.gates.push(Gate::new(pop, range.clone(), g.k, w)),
                },
                _ => chunk.gates.retain(|x| x.pop != pop),
            }
        }
    }

    /// Forgets the recent spikes of every gate: all neurons may compete again.
    pub fn clear_gates(&mut self) {
        for chunk in &self.chunks {
            for gate in &mut lock(chunk).gates {
                gate.clear();
            }
        }
    }

    /// Clamps population `pop` to `allowed` (indices within the population: only they may
    /// fire; their crossings still go through the population's gate), or lifts the clamp
    /// (`None`). A teacher's imposition on a layer.
    ///
    /// # Panics
    /// If `pop` is not a population index or an index is out of range.
    pub fn set_clamp(&mut self, pop: usize, allowed: Option<&[u32]>) {
        let range = self.run.pop_ranges[pop].clone();
        let mask = allowed.map(|ids| {
            let mut mask = vec![false; range.len()];
            for &i in ids {
                mask[i as usize] = true;
            }
            mask
        });
        for chunk in &self.chunks {
            let mut chunk = lock(chunk);
            chunk.clamps.retain(|c| c.pop != pop);
            if let Some(mask) = &mask {
                chunk.clamps.push(Clamp {
                    pop,
                    range: range.clone(),
                    allowed: mask.clone(),
                });
            }
        }
    }

    /// Switches plasticity on or off for the following steps (off after `build`).
    pub fn set_plasticity(&mut self, on: bool) {
        self.run.plasticity_on = on;
    }

    /// Switches encoding tags on or off for the following steps (off after `build`).
    pub fn set_tagging(&mut self, on: bool) {
        self.run.tagging_on = on;
    }

    /// Drives the modulation of every population from acetylcholine: `kinetics` gives the
    /// concentration step by step (it must start at this simulation's current step) and
    /// `effects` turns it into factors; they replace [`Simulation::set_modulation`]'s
    /// values. The factors of a step come from the concentration at the step's start.
    pub fn set_acetylcholine(
        &mut self,
        kinetics: engram_cholinergic::AchKinetics,
        effects: engram_cholinergic::Modulator,
    ) {
        self.ach = Some(Acetylcholine { kinetics, effects });
    }

    /// ACh concentration at the start of the next step, if ACh is set.
    pub fn ach_concentration(&self) -> Option<f64> {
        self.ach.as_ref().map(|a| a.kinetics.concentration())
    }

    /// Sets the modulation of population `pop` for the following steps.
    pub fn set_modulation(&mut self, pop: usize, m: Modulation) {
        self.modulation[pop] = m;
    }

    /// Steps done so far.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// Simulated time so far (ms): the decimal time of the steps done (see
    /// [`StepClock`]).
    pub fn time_ms(&self) -> f64 {
        self.run.clock.time_ms(self.step)
    }

    /// The times of the steps: step `k` ends at `clock().time_ms(k + 1)`, the time of its
    /// spikes.
    pub fn clock(&self) -> StepClock {
        self.run.clock
    }

    /// Time step (ms).
    pub fn dt_ms(&self) -> f64 {
        self.run.dt_ms
    }

    /// Global id range of each population.
    pub fn population_ranges(&self) -> &[Range<u32>] {
        &self.run.pop_ranges
    }

    /// Spikes emitted so far, per population.
    pub fn spike_counts(&self) -> &[u64] {
        &self.spike_counts
    }

    /// Number of chemical synapses.
    pub fn n_synapses(&self) -> u64 {
        self.n_synapses
    }

    /// Synaptic events (spike deliveries to one synapse) so far.
    pub fn syn_events(&self) -> u64 {
        self.chunks.iter().map(|c| lock(c).syn_events).sum()
    }

    /// Number of threads (and chunks).
    pub fn threads(&self) -> usize {
        self.chunks.len()
    }

    /// Heap memory held by state, buffers and synapses (bytes).
    pub fn memory_bytes(&self) -> usize {
        self.chunks.iter().map(|c| lock(c).memory_bytes()).sum()
    }

    /// Stimulation current (pA) of every neuron in the last step: current inputs plus gap
    /// junctions, in global id order.
    pub fn stimulation_currents_pa(&self) -> Vec<f64> {
        self.per_neuron(|c| c.stim.last())
    }

    /// The chunks' slices `field(chunk)` one after the other: a per-neuron quantity in
    /// global id order.
    fn per_neuron(&self, field: impl Fn(&Chunk) -> &[f64]) -> Vec<f64> {
        let mut out = Vec::new();
        for c in &self.chunks {
            out.extend_from_slice(field(&lock(c)));
        }
        out
    }

    /// The synapses of projection `proj` as `(source index, target index, weight in pA)`,
    /// indices within their populations, sorted by source then target.
    pub fn weights(&self, proj: usize) -> Vec<(u32, u32, f32)> {
        self.per_synapse(proj, |csr, _, e| csr.weights.get(e))
    }

    /// The encoding tags of projection `proj`'s junctions at the current step, as
    /// `(source index, target index, e)` in the order of [`Simulation::weights`]: `e` is 1
    /// when the tag was set (decaying with `tau_tag` since), 0 for an untagged junction. The
    /// junction conducts with `c = c0 + (1 - c0) e`. `None` without gap junctions.
    pub fn tags(&self, proj: usize) -> Option<Vec<(u32, u32, f32)>> {
        let k = self.run.proj_info[proj].gap?;
        let decay = self.run.gap_projs[k].tag_decay_per_step;
        let now = self.step;
        Some(self.per_synapse(proj, |_, learner, e| {
            let index = &learner
                .expect("a gap projection has a junction index")
                .index;
            match index.tag_step[e] {
                u32::MAX => 0.0,
                at => tag_decay(at, now, decay) as f32,
            }
        }))
    }

    /// `value(csr, learner, edge)` for every synapse of projection `proj`, as `(source index,
    /// target index, value)` with indices within their populations, sorted by source then
    /// target (synapses between the same pair keep their generation order).
    fn per_synapse(
        &self,
        proj: usize,
        value: impl Fn(&ChunkCsr, Option<&Learner>, usize) -> f32,
    ) -> Vec<(u32, u32, f32)> {
        let mut out = Vec::new();
        for c in &self.chunks {
            let c = lock(c);
            let csrs = c.csrs.iter().zip(&c.learners);
            for (csr, learner) in csrs.filter(|(x, _)| x.proj == proj) {
                for s in 0..csr.row_ptr.len() - 1 {
                    for e in csr.row_ptr[s] as usize..csr.row_ptr[s + 1] as usize {
                        let g = c.range.start + csr.targets[e];
                        out.push((s as u32, g, value(csr, learner.as_ref(), e)));
                    }
                }
            }
        }
        // Targets as population indices.
        for x in &mut out {
            let r = self
                .run
                .pop_ranges
                .iter()
                .find(|r| r.contains(&x.1))
                .expect("target in a population");
            x.1 -= r.start;
        }
        out.sort_by_key(|x| (x.0, x.1));
        out
    }

    /// Dendritic bAP trace (mV) of every neuron, in global id order.
    pub fn bap_traces_mv(&self) -> Vec<f64> {
        self.per_model_neuron(|m, s, i| m.dendritic_trace_mv(s, i))
    }

    /// Adaptive threshold rise (mV above `V_th`) of every neuron, in global id order.
    pub fn threshold_adaptation_mv(&self) -> Vec<f64> {
        self.per_model_neuron(|m, s, i| m.threshold_rise_mv(s, i))
    }

    /// `value(model, state, i)` of every neuron, in global id order.
    fn per_model_neuron(&self, value: impl Fn(&Model, &ModelState, usize) -> f64) -> Vec<f64> {
        let n = self.run.pop_ranges.last().map_or(0, |r| r.end as usize);
        let mut out = Vec::with_capacity(n);
        for c in &self.chunks {
            for seg in &lock(c).segments {
                let model = &self.run.models[seg.pop];
                out.extend((0..seg.state.len()).map(|i| value(model, &seg.state, i)));
            }
        }
        out
    }

    /// Sets membrane potentials (mV, absolute) of the neurons `first..first + v.len()` of
    /// population `pop`.
    pub fn set_membrane_potentials_mv(&mut self, pop: usize, first: u32, v: &[f64]) {
        let model = &self.run.models[pop];
        let start = self.run.pop_ranges[pop].start + first;
        for (k, &x) in v.iter().enumerate() {
            let g = start + k as u32;
            for c in &self.chunks {
                let mut c = lock(c);
                if c.range.contains(&g) {
                    let i = (g - c.range.start) as usize;
                    let (seg, k) = chunk::locate_mut(&mut c.segments, i);
                    model.set_potential_mv(&mut seg.state, k, x);
                }
            }
        }
    }

    /// Membrane potential (mV, absolute) of every neuron, in global id order.
    pub fn membrane_potentials_mv(&self) -> Vec<f64> {
        self.per_model_neuron(|m, s, i| m.potential_mv(s, i))
    }
}

#[cfg(test)]
impl Simulation {
    /// Hands every chunk's synapses to `f`, for tests that store synapses by hand.
    pub(crate) fn edit_synapses(&mut self, mut f: impl FnMut(&mut ChunkCsr)) {
        for c in &mut self.chunks {
            let c = c
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            c.csrs.iter_mut().for_each(&mut f);
        }
    }
}
