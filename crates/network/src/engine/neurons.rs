//! The neuron update: every population segment of the chunk advanced by one step with its
//! model's constants (static dispatch: one `match` on the model per segment and step), its slice of the step's ring slot and stimulation current, and its
//! modulation; threshold crossings go to the chunk's spike list.

use engram_neuron::StepInput;

use super::StepCtx;
use super::chunk::Chunk;

impl Chunk {
    /// Advances the chunk's neurons by one step, collecting their spikes in id order.
    pub(super) fn update_neurons(&mut self, ctx: &StepCtx<'_>) {
        self.spikes.clear();
        let (slot_ex, slot_in) = self.rings.slot_starts(ctx.step);
        let (ring_ex, ring_in) = self.rings.both_mut();
        let stim = self.stim.for_step();
        for seg in &mut self.segments {
            let r = seg.local.clone();
            let input = StepInput {
                ex: &mut ring_ex[slot_ex + r.start..slot_ex + r.end],
                inh: &mut ring_in[slot_in + r.start..slot_in + r.end],
                i_stim: stim.map(|s| &s[r.clone()]),
            };
            ctx.run.models[seg.pop].step(
                &mut seg.state,
                input,
                &ctx.modulation[seg.pop],
                seg.global_start,
                &mut self.spikes,
            );
        }
    }
}
