//! Synapse storage: the synapses of one projection onto the neurons of one chunk, in CSR
//! over sources ([`ChunkCsr`]), with their weights ([`Weights`]) and delays ([`Delays`]).
//!
//! A weight or delay that is the same for every synapse and never changes is stored once.
//! Weights may also be shared through a kernel (convolutional projections): each synapse
//! then keeps only its index into the kernel. Learning changes one weight per synapse, so
//! it needs them stored per synapse: [`Weights::per_edge_mut`] gives them only then, the
//! builder stores the weights of every projection that learns or has gap junctions per
//! synapse, and the spec's validation rejects learning and junctions on projections with
//! shared weights.

/// Axonal delays of one projection, in steps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Delays {
    /// All synapses share one delay.
    Constant(u16),
    /// One delay per synapse, in CSR order.
    PerEdge(Vec<u16>),
}

/// Synaptic weights of one projection (pA).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Weights {
    /// All synapses share one weight, which never changes (no plasticity, no junctions).
    Constant(f32),
    /// One weight per synapse, in CSR order.
    PerEdge(Vec<f32>),
    /// Weights shared through a kernel, which never change: synapse `e` has weight
    /// `kernel[index[e]]`.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "built by the first rule that shares weights; tests build it by hand"
        )
    )]
    Shared {
        /// The shared weights (pA).
        kernel: Vec<f32>,
        /// Index into `kernel` of each synapse, in CSR order.
        index: Vec<u32>,
    },
}

impl Weights {
    /// Weight of edge `e`.
    #[inline]
    pub fn get(&self, e: usize) -> f32 {
        match self {
            Weights::Constant(w) => *w,
            Weights::PerEdge(w) => w[e],
            Weights::Shared { kernel, index } => kernel[index[e] as usize],
        }
    }

    /// The weights, when stored one per synapse (always so for a projection that learns or
    /// has gap junctions); `None` for constant and shared weights.
    pub fn per_edge_mut(&mut self) -> Option<&mut [f32]> {
        match self {
            Weights::PerEdge(w) => Some(w),
            Weights::Constant(_) | Weights::Shared { .. } => None,
        }
    }

    /// Heap memory in bytes.
    fn memory_bytes(&self) -> usize {
        match self {
            Weights::Constant(_) => 0,
            Weights::PerEdge(w) => w.capacity() * 4,
            Weights::Shared { kernel, index } => kernel.capacity() * 4 + index.capacity() * 4,
        }
    }
}

/// The synapses of one projection onto the neurons of one chunk, in CSR over sources.
#[derive(Debug, Clone)]
pub(crate) struct ChunkCsr {
    /// Index of the projection in the spec.
    pub proj: usize,
    /// Global id of the first neuron of the source population.
    pub src_start: u32,
    /// `row_ptr[s]..row_ptr[s + 1]` are the synapses of source `s` (population index).
    pub row_ptr: Vec<u64>,
    /// Target of each synapse, as an index local to the chunk.
    pub targets: Vec<u32>,
    /// Weight of each synapse (pA).
    pub weights: Weights,
    /// Delay of each synapse (steps >= 1).
    pub delays: Delays,
    /// True for an inhibitory projection (weights <= 0).
    pub inhibitory: bool,
}

impl ChunkCsr {
    /// Number of synapses.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Largest delay in steps (0 if there are no synapses).
    pub fn max_delay(&self) -> u16 {
        match &self.delays {
            Delays::Constant(d) => *d,
            Delays::PerEdge(d) => d.iter().copied().max().unwrap_or(0),
        }
    }

    /// Heap memory in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.row_ptr.capacity() * 8
            + self.targets.capacity() * 4
            + self.weights.memory_bytes()
            + match &self.delays {
                Delays::Constant(_) => 0,
                Delays::PerEdge(d) => d.capacity() * 2,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_storage_gives_the_weight_of_each_edge() {
        let kernel = vec![0.5f32, -2.0, 7.25];
        let index = vec![2u32, 0, 0, 1, 2, 1];
        let per_edge: Vec<f32> = index.iter().map(|&k| kernel[k as usize]).collect();
        let mut shared = Weights::Shared { kernel, index };
        let mut stored = Weights::PerEdge(per_edge.clone());
        for e in 0..per_edge.len() {
            assert_eq!(shared.get(e), stored.get(e), "edge {e}");
            assert_eq!(Weights::Constant(3.0).get(e), 3.0);
        }
        assert!(shared.per_edge_mut().is_none());
        assert!(Weights::Constant(3.0).per_edge_mut().is_none());
        assert_eq!(stored.per_edge_mut().map(|w| w.to_vec()), Some(per_edge));
    }
}
