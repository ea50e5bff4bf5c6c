//! Building a [`Simulation`] from a spec: the chunks (state, synapses, inputs, rings) and
//! the read-only run context.

use engram_neuron::Model;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::Mutex;

use super::chunk::{Chunk, Segment, Stimulation};
use super::exchange::Exchange;
use super::gap::{GapProj, GapState};
use super::inputs::Inputs;
use super::learning::{Learner, Rule};
use super::modulation::ModulationBuffer;
use super::ring::Rings;
use super::stability::check_gap_stability;
use super::{ProjInfo, RunCtx, Simulation};
use crate::NetworkError;
use crate::connect::{ConnectJob, ConnectScratch};
use crate::spec::{JunctionKind, NetworkSpec, PlasticityRule, ValueDist};
use crate::synapses::ChunkCsr;
use engram_core::Modulation;
use engram_core::rng::{Purpose, stream};

impl Simulation {
    /// Builds the network described by `spec` with random streams from `seed`, to run on
    /// `threads` threads (at least 1). The result of a run does not depend on `threads`.
    pub fn build(
        spec: &NetworkSpec,
        seed: u64,
        threads: usize,
    ) -> Result<Simulation, NetworkError> {
        spec.validate()?;
        let threads = threads.max(1);
        let pop_ranges = population_ranges(spec);
        let models = models(spec)?;
        let pool = thread_pool(threads)?;
        let chunk_ranges = chunk_ranges(pop_ranges.last().map_or(0, |r| r.end), threads);
        let build_chunk =
            |range: &Range<u32>| build_chunk(spec, seed, &pop_ranges, &models, range.clone());
        let mut chunks: Vec<Chunk> = match &pool {
            Some(pool) => pool.install(|| chunk_ranges.par_iter().map(build_chunk).collect()),
            None => chunk_ranges.iter().map(build_chunk).collect(),
        };
        let max_delay = chunks
            .iter()
            .flat_map(|c| c.csrs.iter().map(ChunkCsr::max_delay))
            .max()
            .unwrap_or(1)
            .max(1);
        let gap_projs = gap_projections(spec);
        // Feedback synapses deliver into the same rings as chemical synapses.
        let max_delay = gap_projs
            .iter()
            .filter(|g| g.feedback)
            .map(|g| g.delay_steps as u16)
            .fold(max_delay, u16::max);
        let gap_ring_len = gap_projs.iter().map(|g| g.delay_steps).max().unwrap_or(0) + 1;
        for c in &mut chunks {
            c.allocate_rings(usize::from(max_delay) + 1);
            c.gaps = GapState::new(gap_projs.len(), gap_ring_len);
        }
        check_gap_stability(spec, &pop_ranges, &models, &gap_projs, &chunks)?;
        let n_synapses = chunks
            .iter()
            .flat_map(|c| c.csrs.iter())
            .map(|c| c.len() as u64)
            .sum();
        let any_junction = gap_projs.iter().any(|g| !g.feedback);
        let any_feedback = gap_projs.iter().any(|g| g.feedback);
        let run = RunCtx {
            dt_ms: spec.dt_ms,
            clock: engram_core::time::StepClock::new(spec.dt_ms),
            models,
            proj_info: projection_info(spec, &gap_projs),
            gap_projs,
            gap_ring_len,
            plasticity_on: false,
            tagging_on: false,
            any_plastic: spec.projections.iter().any(|p| p.plasticity.is_some()),
            any_gap: spec.projections.iter().any(|p| p.gap.is_some()),
            any_junction,
            any_feedback,
            pop_ranges,
        };
        Ok(Simulation {
            step: 0,
            modulation: vec![Modulation::default(); spec.populations.len()],
            step_modulation: ModulationBuffer::new(spec.populations.len()),
            spike_counts: vec![0; spec.populations.len()],
            exchange: Exchange::new(chunks.len(), run.gap_projs.len()),
            chunks: chunks.into_iter().map(Mutex::new).collect(),
            run,
            ach: None,
            pool,
            n_synapses,
            reports: Vec::new(),
        })
    }
}

/// Global id range of each population: populations are numbered one after the other.
fn population_ranges(spec: &NetworkSpec) -> Vec<Range<u32>> {
    let mut start = 0u32;
    spec.populations
        .iter()
        .map(|p| {
            start += p.n;
            start - p.n..start
        })
        .collect()
}

/// The model constants of each population for the spec's `dt`.
fn models(spec: &NetworkSpec) -> Result<Vec<Model>, NetworkError> {
    spec.populations
        .iter()
        .map(|p| {
            p.params
                .for_dt(spec.dt_ms)
                .map_err(|e| NetworkError::Param {
                    owner: format!("populations.{}", p.name),
                    source: e,
                })
        })
        .collect()
}

/// `threads` contiguous chunks of `0..n_total`, as even as can be.
fn chunk_ranges(n_total: u32, threads: usize) -> Vec<Range<u32>> {
    (0..threads as u64)
        .map(|c| {
            let lo = (u64::from(n_total) * c / threads as u64) as u32;
            let hi = (u64::from(n_total) * (c + 1) / threads as u64) as u32;
            lo..hi
        })
        .collect()
}

/// A pool of `threads` workers, or none for one thread.
fn thread_pool(threads: usize) -> Result<Option<rayon::ThreadPool>, NetworkError> {
    if threads <= 1 {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("engram-{i}"))
        .build()
        .map(Some)
        .map_err(|e| NetworkError::Threads {
            threads,
            message: e.to_string(),
        })
}

/// The gap-coupled projections, in spec order.
fn gap_projections(spec: &NetworkSpec) -> Vec<GapProj> {
    spec.projections
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.gap.map(|g| GapProj {
                proj: i,
                target_pop: p.target,
                kappa_ns: g.kappa_ns,
                inv_weight_unit: 1.0 / g.weight_unit_pa,
                c0: g.c0,
                rectifying: g.kind == JunctionKind::Rectifying,
                feedback: matches!(g.kind, JunctionKind::Feedback { .. }),
                feedback_pa: match g.kind {
                    JunctionKind::Feedback { weight_pa } => weight_pa,
                    _ => 0.0,
                },
                delay_steps: engram_core::time::delay_steps(g.delay_ms, spec.dt_ms).into(),
                tag_decay_per_step: if g.tau_tag_ms.is_finite() {
                    spec.dt_ms / g.tau_tag_ms
                } else {
                    0.0
                },
                g_decay_per_step: if g.tau_g_ms > 0.0 {
                    spec.dt_ms / g.tau_g_ms
                } else {
                    0.0
                },
                // ms / pF = 1 / nS per step: G (nS) * dt / C_d is the decay exponent.
                drain_per_ns: g.dendrite_pf.map_or(0.0, |c_d| spec.dt_ms / c_d),
            })
        })
        .collect()
}

/// What the step needs to know of each projection.
fn projection_info(spec: &NetworkSpec, gap_projs: &[GapProj]) -> Vec<ProjInfo> {
    let steps_of = |ms: f64| (ms / spec.dt_ms).round() as u64;
    spec.projections
        .iter()
        .enumerate()
        .map(|(i, p)| ProjInfo {
            target_pop: p.target,
            gap: gap_projs.iter().position(|g| g.proj == i),
            tag_window_steps: p.gap.map(|g| steps_of(g.tag_window_ms)),
            track: p
                .gap
                .filter(|g| g.tau_g_ms > 0.0)
                .map(|g| (1.0 / g.weight_unit_pa, spec.dt_ms / g.tau_g_ms)),
            rule: p.plasticity.map(|pl| match pl.rule {
                PlasticityRule::SoftBounded {
                    eta_plus,
                    eta_minus,
                    window_ms,
                } => Rule::SoftBounded {
                    eta_plus,
                    eta_minus,
                    window_steps: steps_of(window_ms),
                    unit_pa: pl.weight_unit_pa,
                },
                PlasticityRule::PairTrace {
                    a_plus,
                    a_minus,
                    tau_plus_ms,
                    tau_minus_ms,
                } => Rule::PairTrace {
                    a_plus,
                    a_minus,
                    decay_plus: spec.dt_ms / tau_plus_ms,
                    decay_minus: spec.dt_ms / tau_minus_ms,
                    unit_pa: pl.weight_unit_pa,
                },
            }),
        })
        .collect()
}

/// Builds the state, synapses and inputs of the neurons `range`.
fn build_chunk(
    spec: &NetworkSpec,
    seed: u64,
    pop_ranges: &[Range<u32>],
    models: &[Model],
    range: Range<u32>,
) -> Chunk {
    let n = (range.end - range.start) as usize;
    let segments = segments(spec, seed, pop_ranges, models, &range);
    let (csrs, learners) = chunk_synapses(spec, seed, pop_ranges, &range);
    let inputs = Inputs::build(spec, seed, pop_ranges, &range);
    Chunk {
        range,
        segments,
        rings: Rings::empty(n),
        stim: Stimulation::new(n, inputs.has_currents()),
        csrs,
        learners,
        inputs,
        spikes: Vec::new(),
        gather: Vec::new(),
        fired: Vec::new(),
        syn_events: 0,
        gaps: GapState::default(),
        gates: Vec::new(),
        clamps: Vec::new(),
        candidates: Vec::new(),
        probes: Vec::new(),
    }
}

/// The population segments of the neurons `range`, with their state at rest but for the
/// initial potentials.
fn segments(
    spec: &NetworkSpec,
    seed: u64,
    pop_ranges: &[Range<u32>],
    models: &[Model],
    range: &Range<u32>,
) -> Vec<Segment> {
    let mut segments = Vec::new();
    for (pop, pr) in pop_ranges.iter().enumerate() {
        let lo = pr.start.max(range.start);
        let hi = pr.end.min(range.end);
        if lo >= hi {
            continue;
        }
        let local = (lo - range.start) as usize..(hi - range.start) as usize;
        let model = &models[pop];
        let mut state = model.new_state(local.len());
        for i in 0..local.len() {
            let v = match spec.populations[pop].v_init_mv {
                ValueDist::Constant(v) => v,
                dist => {
                    let pop_spec = &spec.populations[pop];
                    let index = u64::from(lo - pr.start) + i as u64;
                    dist.sample(&mut stream(
                        seed,
                        Purpose::InitialPotential(&pop_spec.name),
                        index,
                    ))
                }
            };
            model.set_potential_mv(&mut state, i, v);
        }
        segments.push(Segment {
            pop,
            local,
            global_start: lo,
            state,
        });
    }
    segments
}

/// The synapses of every projection onto the neurons `range`, with the junction index and
/// learning state of those that have junctions or learn.
fn chunk_synapses(
    spec: &NetworkSpec,
    seed: u64,
    pop_ranges: &[Range<u32>],
    range: &Range<u32>,
) -> (Vec<ChunkCsr>, Vec<Option<Learner>>) {
    let n = (range.end - range.start) as usize;
    let mut csrs = Vec::new();
    let mut learners = Vec::new();
    let mut scratch = ConnectScratch::default();
    for (i, proj) in spec.projections.iter().enumerate() {
        let tr = &pop_ranges[proj.target];
        if tr.end <= range.start || tr.start >= range.end {
            continue;
        }
        let sr = &pop_ranges[proj.source];
        let job = ConnectJob {
            seed,
            proj_index: i,
            proj,
            dt_ms: spec.dt_ms,
            src_start: sr.start,
            n_src: sr.end - sr.start,
            tgt_start: tr.start,
            n_tgt: tr.end - tr.start,
            chunk: range.clone(),
        };
        let mut csr = job.build(&mut scratch);
        let learner = (proj.gap.is_some() || proj.plasticity.is_some()).then(|| {
            let mut learner = Learner::new(&csr, n);
            // Weights that learn, or that junctions follow, are stored per edge.
            if let Some(weights) = csr.weights.per_edge_mut() {
                if let Some(g) = proj.gap.filter(|g| g.tau_g_ms > 0.0) {
                    learner.index.track_weights(weights, 1.0 / g.weight_unit_pa);
                }
                if proj.plasticity.is_some_and(|pl| pl.normalize) {
                    learner.plasticity.record_totals(&learner.index, weights);
                }
            }
            learner
        });
        csrs.push(csr);
        learners.push(learner);
    }
    (csrs, learners)
}
