//! The loop of one worker over the steps of a run: receive, step its chunk, publish, meet
//! the others at the barrier; worker 0 also records the network's spikes.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::barrier::SpinBarrier;
use super::chunk::Chunk;
use super::exchange::Exchange;
use super::modulation::{Acetylcholine, ModulationBuffer};
use super::{RunCtx, StepCtx, lock};
use engram_core::SpikeSink;

/// What the workers of one run share: the read-only run context and the places where
/// they meet.
pub(super) struct Region<'a> {
    /// The read-only context of the run.
    pub(super) run: &'a RunCtx,
    /// The chunks, one per worker.
    pub(super) chunks: &'a [Mutex<Chunk>],
    /// The spike and gap buffers between steps.
    pub(super) exchange: &'a Exchange,
    /// The modulation of each population, step by step.
    pub(super) modulation: &'a ModulationBuffer,
    /// Where the workers meet once per step.
    pub(super) barrier: &'a SpinBarrier,
    /// The first step whose spikes the sink refused (`u64::MAX`: none).
    pub(super) failed_at: &'a AtomicU64,
}

/// What worker 0 does besides its chunk: it hands the spikes of the run to the sink, and
/// computes the next step's modulation from ACh.
pub(super) struct Recorder<'a, S: SpikeSink> {
    /// The run's sink.
    pub(super) sink: &'a mut S,
    /// Spikes so far, per population.
    pub(super) counts: &'a mut Vec<u64>,
    /// The sink's error, if it failed.
    pub(super) error: Option<S::Error>,
    /// Acetylcholine, if it drives the modulation.
    pub(super) ach: Option<&'a mut Acetylcholine>,
}

impl Region<'_> {
    /// The loop of worker `w` over the steps `first_step..first_step + steps`.
    pub(super) fn worker<S: SpikeSink>(
        &self,
        w: usize,
        first_step: u64,
        steps: u64,
        recorder: &Mutex<Recorder<'_, S>>,
    ) {
        let mut guard = lock(&self.chunks[w]);
        let chunk: &mut Chunk = &mut guard;
        let mut recorder = if w == 0 { Some(lock(recorder)) } else { None };
        let mut received = self.exchange.receiver();
        let gaps = !self.run.gap_projs.is_empty();
        for k in 0..steps {
            let step = first_step + k;
            self.exchange.receive(step, gaps, &mut received);
            let modulation = self.modulation.read(step);
            let ctx = StepCtx {
                run: self.run,
                step,
                received: &received,
                modulation: &modulation,
            };
            chunk.step(&ctx);
            if chunk.gated() {
                // Gain control: every chunk decides from the network's crossings.
                chunk.gate_candidates(&ctx);
                self.exchange.publish_candidates(w, &chunk.candidates);
                self.barrier.wait();
                self.exchange.network_candidates(&mut chunk.candidates);
                chunk.apply_gates(&ctx);
            }
            chunk.finish_step(&ctx);
            received.release();
            drop(modulation);
            if let Some(ach) = recorder.as_mut().and_then(|r| r.ach.as_mut()) {
                // The next step's factors, from the concentration at its start, written
                // before the barrier into the buffer that no one reads in this step.
                if k + 1 < steps {
                    ach.advance(&mut self.modulation.write(step + 1));
                }
            }
            let gap_out = gaps.then_some(&mut chunk.gaps.out);
            self.exchange.publish(w, step, &chunk.spikes, gap_out);
            self.barrier.wait();
            if self.failed_at.load(Ordering::Acquire) < step {
                break;
            }
            if let Some(rec) = recorder.as_mut() {
                rec.record(self, step, &mut chunk.gather);
            }
        }
    }
}

impl<S: SpikeSink> Recorder<'_, S> {
    /// Hands the network's spikes of step `step` to the sink and counts them per
    /// population (`all`: scratch space), unless the sink failed before.
    fn record(&mut self, region: &Region<'_>, step: u64, all: &mut Vec<u32>) {
        if self.error.is_some() {
            return;
        }
        // The end of the step: the decimal time (step + 1) dt, so spikes fall in (0, T].
        let time_ms = region.run.clock.time_ms(step + 1);
        // The chunks' lists, in chunk order, are the network's list in id order: read
        // each once, count per population, hand it to the sink.
        all.clear();
        region.exchange.network_spikes(step, all);
        let mut p = 0;
        for &g in all.iter() {
            while g >= region.run.pop_ranges[p].end {
                p += 1;
            }
            self.counts[p] += 1;
        }
        if let Err(e) = self.sink.record(step, time_ms, all) {
            self.error = Some(e);
            region.failed_at.store(step, Ordering::Release);
        }
    }
}
