//! The step of one chunk, as a list of mechanisms in order.
//!
//! This is the update order of NEST's `iaf_psc_exp` (see ARCHITECTURE.md, "The step"): the
//! spikes of step `n - 1` are delivered into the rings before the neurons integrate, so a
//! spike with delay `d` first moves the membrane potential `d + 1` steps after it was
//! emitted. A mechanism is added by writing its module and one line here.

use super::StepCtx;
use super::chunk::Chunk;

impl Chunk {
    /// Advances the chunk by step `ctx.step` up to its threshold crossings. With gain
    /// control (see [`super::gain`]) the worker then publishes the crossings in gated
    /// populations, meets the others and calls [`Chunk::apply_gates`]; in any case it
    /// ends the step with [`Chunk::finish_step`].
    pub(super) fn step(&mut self, ctx: &StepCtx<'_>) {
        self.deliver_spikes(ctx); // delivery: spikes of n - 1 into the rings (+ STDP at pre)
        self.exchange_gap_currents(ctx); // gap: collect n - 1's currents, send n's
        self.add_inputs(ctx); // inputs: Poisson, spike times, currents of step n
        self.apply_gap_currents(ctx); // gap: currents arriving now, with V at step start
        self.update_neurons(ctx); // neurons: integrate, cross threshold, reset
    }

    /// Ends step `ctx.step` once its spikes are final.
    pub(super) fn finish_step(&mut self, ctx: &StepCtx<'_>) {
        self.update_bap_active(ctx); // gap: neurons whose bAP trace drives junctions
        self.learn_at_post_spikes(ctx); // learning: STDP, tags, normalization at post
        self.emit_feedback(ctx); // gap: feedback synapses' jumps from this step's spikes
        self.sample_state(ctx); // probe: state reports, the state at time (n + 1) dt
    }

    /// Adds this step's protocol inputs (see [`super::inputs`]).
    fn add_inputs(&mut self, ctx: &StepCtx<'_>) {
        let dt_ms = ctx.run.dt_ms;
        self.inputs
            .add(ctx.step, dt_ms, &mut self.rings, &mut self.stim.i_stim);
    }
}
