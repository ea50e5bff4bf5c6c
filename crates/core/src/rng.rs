//! Random streams keyed by `(seed, purpose, id)`.
//!
//! Every random number in a simulation comes from a stream named by what it is for and
//! whom it is for: the connections onto target neuron 17 of projection 2, the initial
//! potential of neuron 40 000, the Poisson train of input 1 into neuron 3. A stream is a
//! ChaCha8 generator whose key is derived from the seed and the purpose and whose stream
//! number is the id, so streams are independent, and the numbers a neuron sees never
//! depend on how neurons are split across threads or in which order threads run.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a stream of random numbers is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Initial membrane potential of neurons (id: global neuron id).
    InitialPotential,
    /// Which sources or targets a projection connects (id: target or source index).
    Connect(u32),
    /// Synaptic weights of a projection (id: target or source index).
    Weight(u32),
    /// Synaptic delays of a projection (id: target or source index).
    Delay(u32),
    /// Spike trains of a Poisson input (id: target neuron index in its population).
    Poisson(u32),
    /// Anything a protocol draws (stimulus patterns, cue order); id chosen by the protocol.
    Protocol(u32),
}

impl Purpose {
    fn code(self) -> u64 {
        match self {
            Purpose::InitialPotential => 1,
            Purpose::Connect(p) => (2 << 32) | u64::from(p),
            Purpose::Weight(p) => (3 << 32) | u64::from(p),
            Purpose::Delay(p) => (4 << 32) | u64::from(p),
            Purpose::Poisson(p) => (5 << 32) | u64::from(p),
            Purpose::Protocol(p) => (6 << 32) | u64::from(p),
        }
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
        let draw = |seed, purpose, id| -> Vec<u64> {
            let mut r = stream(seed, purpose, id);
            (0..4).map(|_| r.random()).collect()
        };
        assert_eq!(
            draw(1, Purpose::Connect(0), 5),
            draw(1, Purpose::Connect(0), 5)
        );
        assert_ne!(
            draw(1, Purpose::Connect(0), 5),
            draw(1, Purpose::Connect(0), 6)
        );
        assert_ne!(
            draw(1, Purpose::Connect(0), 5),
            draw(1, Purpose::Connect(1), 5)
        );
        assert_ne!(
            draw(1, Purpose::Connect(0), 5),
            draw(1, Purpose::Weight(0), 5)
        );
        assert_ne!(
            draw(1, Purpose::Connect(0), 5),
            draw(2, Purpose::Connect(0), 5)
        );
    }
}
