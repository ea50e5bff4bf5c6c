//! Random streams keyed by `(seed, purpose, id)`, where the purpose carries a stable name.
//!
//! Every random number in a simulation comes from a stream named by what it is for and
//! whom it is for: the connections onto target neuron 17 of projection `E_to_I`, the
//! initial potential of neuron 40 000 of population `E`, the Poisson train of input
//! `drive` into neuron 3. A stream is a ChaCha8 generator whose key is derived from the
//! seed and the purpose (its kind and its name) and whose stream number is the id, so
//! streams are independent; the numbers a neuron sees never depend on how neurons are
//! split across threads or in which order threads run; and they never depend on a
//! position in the config either: inserting a projection, an input or a population
//! before another leaves the other's streams as they were.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a stream of random numbers is used for, named by the stable name of its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose<'a> {
    /// Initial membrane potential of a population's neurons (name: the population; id:
    /// the neuron's index in its population).
    InitialPotential(&'a str),
    /// Which sources or targets a projection connects (name: the projection; id: target
    /// or source index).
    Connect(&'a str),
    /// How a projection's total number of synapses is split over its targets, when its
    /// rule fixes only the total (name: the projection; id: a node of the split, see
    /// `fixed_total_number` in engram-network).
    Shares(&'a str),
    /// Synaptic weights of a projection (name: the projection; id: target or source index).
    Weight(&'a str),
    /// Synaptic delays of a projection (name: the projection; id: target or source index).
    Delay(&'a str),
    /// Spike trains of a Poisson input (name: the input; id: target neuron index in its
    /// population).
    Poisson(&'a str),
    /// The Gaussian values of a noise-current input (name: the input; id: target neuron
    /// index in its population; one draw per noise interval, in order).
    Noise(&'a str),
    /// Anything an experiment or a stimulus generator draws (name: what it draws, e.g.
    /// `stimuli.random`; id chosen by the drawer).
    Protocol(&'a str),
}

impl Purpose<'_> {
    /// A 64-bit code of the kind and the name (FNV-1a over a kind tag and the name's
    /// bytes): equal purposes give equal codes on every platform and in every release.
    fn code(self) -> u64 {
        let (tag, name) = match self {
            Purpose::InitialPotential(n) => (1u8, n),
            Purpose::Connect(n) => (2, n),
            Purpose::Weight(n) => (3, n),
            Purpose::Delay(n) => (4, n),
            Purpose::Poisson(n) => (5, n),
            Purpose::Protocol(n) => (6, n),
            Purpose::Shares(n) => (7, n),
            Purpose::Noise(n) => (8, n),
        };
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in std::iter::once(tag).chain(name.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
}

/// SplitMix64 finaliser: a bijective mix of 64 bits.
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The random stream for `(seed, purpose, id)`.
pub fn stream(seed: u64, purpose: Purpose, id: u64) -> ChaCha8Rng {
    let a = mix64(seed);
    let b = mix64(a ^ purpose.code());
    let c = mix64(b ^ 0x5851_F42D_4C95_7F2D);
    let d = mix64(c ^ seed.rotate_left(17));
    let mut key = [0u8; 32];
    for (chunk, word) in key.chunks_exact_mut(8).zip([a, b, c, d]) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(id);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |seed, purpose: Purpose<'_>, id| -> Vec<u64> {
            let mut r = stream(seed, purpose, id);
            (0..4).map(|_| r.random()).collect()
        };
        assert_eq!(
            draw(1, Purpose::Connect("a"), 5),
            draw(1, Purpose::Connect("a"), 5)
        );
        assert_ne!(
            draw(1, Purpose::Connect("a"), 5),
            draw(1, Purpose::Connect("a"), 6)
        );
        assert_ne!(
            draw(1, Purpose::Connect("a"), 5),
            draw(1, Purpose::Connect("b"), 5)
        );
        assert_ne!(
            draw(1, Purpose::Connect("a"), 5),
            draw(1, Purpose::Weight("a"), 5)
        );
        assert_ne!(
            draw(1, Purpose::Connect("a"), 5),
            draw(2, Purpose::Connect("a"), 5)
        );
        assert_ne!(
            draw(1, Purpose::Poisson("a"), 5),
            draw(1, Purpose::Noise("a"), 5)
        );
    }
}
