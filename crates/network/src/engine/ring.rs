//! Ring buffers of synaptic input, one slot per step of the largest delay.
//!
//! Neuron `i`'s input for slot `k` is at `start + k * stride + i`: the slots of a chunk's
//! neurons are contiguous, and each ring starts at a page offset chosen by [`RingLayout`].

/// Bytes in a page, and the period of the cache's set index.
const PAGE_BYTES: usize = 4096;

/// Offset of a slice's first element within its page.
pub(super) fn page_offset(x: &[f64]) -> usize {
    x.as_ptr() as usize % PAGE_BYTES
}

/// The excitatory and inhibitory input rings of one chunk (pA).
pub(super) struct Rings {
    ex: Vec<f64>,
    inh: Vec<f64>,
    ex_start: usize,
    in_start: usize,
    /// Distance between slots, in elements.
    pub(super) stride: usize,
    /// Number of slots: the largest delay plus one.
    pub(super) slots: u64,
}

impl Rings {
    /// Rings not yet allocated.
    pub(super) fn empty(n: usize) -> Rings {
        Rings {
            ex: Vec::new(),
            inh: Vec::new(),
            ex_start: 0,
            in_start: 0,
            stride: n,
            slots: 1,
        }
    }

    /// Rings with `slots` slots for `n` neurons, laid out by [`RingLayout`] away from the
    /// page offsets `taken` of the arrays that the neuron update reads at the same index.
    pub(super) fn allocate(n: usize, slots: usize, mut taken: Vec<usize>) -> Rings {
        let layout = RingLayout::new(n, slots);
        let ex = vec![0.0; layout.len];
        let inh = vec![0.0; layout.len];
        let ex_start = layout.start(&ex, &taken);
        taken.push(page_offset(&ex[ex_start..]));
        let in_start = layout.start(&inh, &taken);
        Rings {
            ex,
            inh,
            ex_start,
            in_start,
            stride: layout.stride,
            slots: slots as u64,
        }
    }

    /// The inhibitory or the excitatory ring, with the index of its slot 0.
    #[inline]
    pub(super) fn ring_mut(&mut self, inhibitory: bool) -> (&mut [f64], usize) {
        if inhibitory {
            (&mut self.inh, self.in_start)
        } else {
            (&mut self.ex, self.ex_start)
        }
    }

    /// Index of the first element of step `step`'s slot in the excitatory and the
    /// inhibitory ring.
    #[inline]
    pub(super) fn slot_starts(&self, step: u64) -> (usize, usize) {
        let slot = (step % self.slots) as usize * self.stride;
        (self.ex_start + slot, self.in_start + slot)
    }

    /// Both rings, whole.
    #[inline]
    pub(super) fn both_mut(&mut self) -> (&mut [f64], &mut [f64]) {
        (&mut self.ex, &mut self.inh)
    }

    /// Heap memory in bytes.
    pub(super) fn memory_bytes(&self) -> usize {
        (self.ex.capacity() + self.inh.capacity()) * 8
    }
}

/// Where the slots of a ring buffer sit in its allocation.
///
/// The neuron update streams through the membrane and current arrays and the current
/// slot of both ring buffers at the same index. Large allocations all start at the same
/// offset within a page (the allocator maps them fresh), so at every index all those
/// streams would fall into the same cache set and evict each other (the update ran up to
/// 20 % slower). So each ring starts a little into its allocation, at a page offset far
/// from the others, and the slot stride is a whole number of pages, so that every slot
/// keeps that offset. The padding changes where numbers are kept, never which.
struct RingLayout {
    /// Distance between slots, in elements (a multiple of a page).
    stride: usize,
    /// Length of the allocation: room for the padding and `slots` strides.
    len: usize,
}

impl RingLayout {
    const PAGE_ELEMS: usize = PAGE_BYTES / std::mem::size_of::<f64>();

    fn new(n: usize, slots: usize) -> RingLayout {
        let stride = n.div_ceil(Self::PAGE_ELEMS) * Self::PAGE_ELEMS;
        RingLayout {
            stride,
            len: Self::PAGE_ELEMS + slots * stride,
        }
    }

    /// The first element of slot 0 in `ring`: the one whose page offset lies farthest
    /// from the page offsets `taken` (on the circle of one page).
    fn start(&self, ring: &[f64], taken: &[usize]) -> usize {
        let base = page_offset(ring);
        let distance = |a: usize, b: usize| {
            let d = a.abs_diff(b);
            d.min(PAGE_BYTES - d)
        };
        (0..Self::PAGE_ELEMS)
            .max_by_key(|&k| {
                let off = (base + k * std::mem::size_of::<f64>()) % PAGE_BYTES;
                let nearest = taken.iter().map(|&t| distance(off, t)).min();
                // Farthest from the nearest taken offset; among equals, the smallest pad.
                (nearest.unwrap_or(0), std::cmp::Reverse(k))
            })
            .unwrap_or(0)
    }
}
