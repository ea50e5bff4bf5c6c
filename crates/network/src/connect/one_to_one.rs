//! `one_to_one`: source `i` to target `i`.

use rand_chacha::ChaCha8Rng;

use super::{ConnectRule, Populations};
use engram_core::FieldError;

/// Source `i` to target `i`; both populations must have the same size. (A struct with
/// no fields rather than a unit struct, so that a config giving it a field is told
/// "unknown field".)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct OneToOne {}

impl ConnectRule for OneToOne {
    fn allows_autapses(&self) -> bool {
        true
    }

    fn validate(&self, pops: &Populations) -> Result<(), FieldError> {
        let (ns, nt) = (pops.n_src, pops.n_tgt);
        if ns != nt {
            return Err(FieldError::new(
                "connectivity.rule",
                format!(
                    "one_to_one needs populations of the same size (source has {ns}, target {nt})"
                ),
            ));
        }
        Ok(())
    }

    fn expected_synapses(&self, pops: &Populations) -> f64 {
        f64::from(pops.n_src)
    }

    fn draw(&self, _: &Populations, t: u32, _: Option<u32>, _: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        out.push(t);
    }
}
