//! The stability check of gap coupling, done once when a network is built.

use std::ops::Range;

use super::chunk::Chunk;
use super::gap::GapProj;
use crate::NetworkError;
use crate::spec::NetworkSpec;
use engram_neuron::Model;

/// Rejects gap coupling that would make the explicit update of the coupling unstable:
/// for every presynaptic neuron, `dt * sum g / C_m < 1`, with `g` at its largest
/// (tag `c = 1`, gain 1), with the weights as built. Learning can raise the coupling
/// later; a rectifying junction stops conducting once the presynaptic cell reaches the
/// dendritic potential, which bounds the overshoot. Feedback synapses are not checked (see
/// [`coupling_per_neuron`]).
pub(super) fn check_gap_stability(
    spec: &NetworkSpec,
    pop_ranges: &[Range<u32>],
    models: &[Model],
    gap_projs: &[GapProj],
    chunks: &[Chunk],
) -> Result<(), NetworkError> {
    if gap_projs.is_empty() {
        return Ok(());
    }
    let (sum_g, owner) = coupling_per_neuron(pop_ranges, gap_projs, chunks);
    for (pop, range) in pop_ranges.iter().enumerate() {
        let c_m = models[pop].capacitance_pf();
        for g in range.clone() {
            let x = spec.dt_ms * sum_g[g as usize] / c_m;
            if x >= 1.0 {
                let proj = &spec.projections[owner[g as usize].expect("coupled")];
                return Err(NetworkError::Invalid {
                    path: format!("projections.{}.gap.kappa_ns", proj.name),
                    message: format!(
                        "neuron {} of population {} is coupled by {:.1} nS in all: \
                         dt * sum g / C_m = {x:.3} >= 1 makes the update unstable; lower \
                         kappa_ns or dt_ms",
                        g - range.start,
                        spec.populations[pop].name,
                        sum_g[g as usize]
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The largest total junction conductance (nS) onto each presynaptic neuron, by global id,
/// and the projection of (one of) its junctions.
fn coupling_per_neuron(
    pop_ranges: &[Range<u32>],
    gap_projs: &[GapProj],
    chunks: &[Chunk],
) -> (Vec<f64>, Vec<Option<usize>>) {
    let n_total = pop_ranges.last().map_or(0, |r| r.end) as usize;
    let mut sum_g = vec![0.0f64; n_total];
    let mut owner: Vec<Option<usize>> = vec![None; n_total];
    for c in chunks {
        for (csr, learner) in c.csrs.iter().zip(&c.learners) {
            // The in-edge index also exists for projections that are plastic only.
            let Some(index) = learner.as_ref().map(|l| &l.index) else {
                continue;
            };
            let Some(gp) = gap_projs.iter().find(|g| g.proj == csr.proj) else {
                continue;
            };
            if gp.feedback {
                // A feedback synapse adds a fixed current jump to the synaptic current,
                // whatever the presynaptic potential: it does not feed the potential back
                // into itself as a conductance does, so the explicit update cannot turn
                // unstable (like any chemical synapse, it can only drive the cell hard).
                continue;
            }
            for (j, &e) in index.in_edges.iter().enumerate() {
                let w = (f64::from(csr.weights.get(e as usize)) * gp.inv_weight_unit).max(0.0);
                let pre = index.in_src[j] as usize;
                sum_g[pre] += gp.kappa_ns * w;
                owner[pre] = Some(gp.proj);
            }
        }
    }
    (sum_g, owner)
}
