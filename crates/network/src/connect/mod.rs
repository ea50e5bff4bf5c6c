//! Connection rules, and drawing synapses from them into CSR per chunk.
//!
//! A connection rule says which neurons of the source population a projection connects
//! to which of the target population. Each rule is a type implementing [`ConnectRule`],
//! in a file of its own, and is named in the table of rules below ([`Connectivity`]),
//! which gives it its config name: adding a rule is writing its file and adding one line
//! to that table. Rules are asked only while the network is built (dynamic dispatch is
//! fine there), never during a step.
//!
//! The engine splits neurons into contiguous chunks, one per worker. Each chunk stores
//! the synapses *onto its own neurons*, grouped by source neuron (CSR over sources), so a
//! worker delivers every spike of the network into its own input buffers and never writes
//! into another worker's memory. Synapses are drawn from random streams keyed by the
//! target neuron (or, for a source-keyed rule such as [`FixedOutDegree`], by the source
//! neuron), so the synapses a neuron gets do not depend on the chunking, and neither does
//! the order in which the contributions to one neuron are summed: that is what makes runs
//! bit-identical for any thread count. A rule that fixes only the projection's total
//! ([`FixedTotalNumber`]) first splits it over the targets from streams keyed by the
//! projection ([`ConnectRule::shares`]), which every chunk draws alike.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::fmt::Debug;
use std::ops::Range;
use std::sync::Arc;

use engram_core::FieldError;

mod build;

pub(crate) use build::{ConnectJob, ConnectScratch};

/// Declares the rule modules and the table of rules by config name.
macro_rules! rules {
    ($($module:ident :: $rule:ident = $name:literal,)*) => {
        $(
            mod $module;
            pub use $module::$rule;
        )*

        /// A connection rule as a config names it: `rule = "<name>"` and the rule's own
        /// fields (with the `serde` feature, `connectivity = { rule = "fixed_probability",
        /// p = 0.1 }` deserializes into it, unknown rules and fields being errors).
        #[derive(Debug, Clone, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Deserialize), serde(tag = "rule"))]
        pub enum Connectivity {
            $(
                #[doc = concat!("`rule = \"", $name, "\"`: [`", stringify!($rule), "`].")]
                #[cfg_attr(feature = "serde", serde(rename = $name))]
                $rule($rule),
            )*
        }

        impl Connectivity {
            /// The config names of all rules.
            pub const NAMES: &[&str] = &[$($name),*];

            /// The rule, for [`crate::ProjectionSpec::rule`].
            pub fn rule(&self) -> Arc<dyn ConnectRule> {
                match self {
                    $(Connectivity::$rule(r) => Arc::new(r.clone()),)*
                }
            }
        }
    };
}

// The rules: `file::Type = "config name"`. A new rule is its file plus one line here.
rules! {
    all_to_all::AllToAll = "all_to_all",
    one_to_one::OneToOne = "one_to_one",
    fixed_probability::FixedProbability = "fixed_probability",
    fixed_indegree::FixedInDegree = "fixed_indegree",
    fixed_outdegree::FixedOutDegree = "fixed_outdegree",
    fixed_total_number::FixedTotalNumber = "fixed_total_number",
}

/// The two populations of a projection, as its rule sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Populations {
    /// Size of the source population.
    pub n_src: u32,
    /// Size of the target population.
    pub n_tgt: u32,
    /// True when source and target are the same population and the rule does not allow
    /// autapses: neuron `i` must not connect to itself.
    pub skip_self: bool,
}

impl Populations {
    /// The populations of a projection with `rule` from `n_src` neurons onto `n_tgt`;
    /// `same_population` when source and target are one population.
    pub fn new(rule: &dyn ConnectRule, n_src: u32, n_tgt: u32, same_population: bool) -> Self {
        Populations {
            n_src,
            n_tgt,
            skip_self: same_population && !rule.allows_autapses(),
        }
    }

    /// Number of pairs a neuron of each side could form (without the self-pairs when
    /// they are skipped).
    pub fn pairs(&self) -> f64 {
        if self.skip_self {
            f64::from(self.n_src) * (f64::from(self.n_src) - 1.0)
        } else {
            f64::from(self.n_src) * f64::from(self.n_tgt)
        }
    }

    /// Sources a target may draw from (one fewer when it must not pick itself).
    pub fn available_sources(&self) -> u32 {
        if self.skip_self {
            self.n_src.saturating_sub(1)
        } else {
            self.n_src
        }
    }

    /// Targets a source may draw from (one fewer when it must not pick itself).
    pub fn available_targets(&self) -> u32 {
        if self.skip_self {
            self.n_tgt.saturating_sub(1)
        } else {
            self.n_tgt
        }
    }
}

/// Whose random stream a rule draws from, and what it draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keying {
    /// Each target draws its sources from its own stream: a chunk draws only for its own
    /// neurons.
    Target,
    /// Each source draws its targets from its own stream: every chunk replays every
    /// source's draws and keeps the targets that fall inside it.
    Source,
}

/// A connection rule: which pairs of neurons a projection connects.
///
/// A rule is asked while the network is checked and built, never while it runs. Its
/// draws come from the stream the builder hands it (keyed by the seed, the projection
/// and the target or source neuron, see [`Keying`]), so the same rule, seed and sizes
/// always give the same synapses whatever the chunking.
pub trait ConnectRule: Debug + Send + Sync {
    /// Whether a neuron may connect to itself when source and target are the same
    /// population; when not, [`Populations::skip_self`] is set for the other methods.
    fn allows_autapses(&self) -> bool;

    /// Checks the rule against the population sizes. The error's path is relative to the
    /// projection (`connectivity.p`), and its message says what is allowed.
    fn validate(&self, pops: &Populations) -> Result<(), FieldError> {
        let _ = pops;
        Ok(())
    }

    /// Expected number of synapses of the whole projection (the mean, for random counts).
    fn expected_synapses(&self, pops: &Populations) -> f64;

    /// Whose stream the rule draws from; by default each target draws its sources.
    fn keying(&self) -> Keying {
        Keying::Target
    }

    /// For a target-keyed rule that fixes the number of synapses of the whole projection
    /// rather than of each target: the share of that total each target in `targets` gets,
    /// in order. The split must be drawn only from `split_stream(node)` (the projection's
    /// streams, numbered by the rule) and must give every target the same share whichever
    /// range it is asked in, so that chunks agree. `None` (the default): each target's
    /// [`ConnectRule::draw`] decides how many sources it draws.
    fn shares(
        &self,
        pops: &Populations,
        targets: Range<u32>,
        split_stream: &dyn Fn(u64) -> ChaCha8Rng,
    ) -> Option<Vec<u32>> {
        let _ = (pops, targets, split_stream);
        None
    }

    /// Appends to `out` (empty on entry) the sources of target `id` (population indices,
    /// in the order drawn) for a target-keyed rule, or the targets of source `id` for a
    /// source-keyed one, drawing from `rng`. `share` is the target's share of the total
    /// when the rule has [`ConnectRule::shares`], else `None`. Only the builder calls this.
    fn draw(
        &self,
        pops: &Populations,
        id: u32,
        share: Option<u32>,
        rng: &mut ChaCha8Rng,
        out: &mut Vec<u32>,
    );

    /// Whether the synapses share the weights of one kernel instead of each having its
    /// own (convolutional rules; stored as the kernel and one index into it per synapse).
    /// Shared weights cannot learn synapse by synapse, so validation rejects plasticity and gap
    /// junctions on such a projection. No rule shares weights yet: the first one brings
    /// its kernel to the builder.
    fn shares_weights(&self) -> bool {
        false
    }
}

/// `k` indices in `0..avail`, with or without repeats. With `skip = Some(i)` (a neuron
/// that must not pick itself), `avail` leaves `i` out and the indices from `i` on move up
/// by one.
fn draw_indices(
    rng: &mut impl Rng,
    avail: u32,
    k: u32,
    multapses: bool,
    skip: Option<u32>,
    out: &mut Vec<u32>,
) {
    out.clear();
    if k == 0 || avail == 0 {
        return;
    }
    if multapses {
        out.extend((0..k).map(|_| rng.random_range(0..avail)));
    } else {
        let picked = rand::seq::index::sample(rng, avail as usize, k as usize);
        out.extend(picked.into_iter().map(|i| i as u32));
    }
    if let Some(me) = skip {
        for i in out.iter_mut() {
            if *i >= me {
                *i += 1;
            }
        }
    }
}

/// Checks that a degree of `k` (`what`: "in-degree" drawing among `avail` "sources", or
/// "out-degree" among "targets") can be drawn.
fn check_degree(
    what: &str,
    among: &str,
    k: u32,
    avail: u32,
    multapses: bool,
) -> Result<(), FieldError> {
    if k > 0 && avail == 0 || (!multapses && k > avail) {
        return Err(FieldError::new(
            "connectivity.k",
            format!("{what} {k} needs at least {k} distinct {among}, there are {avail}"),
        ));
    }
    Ok(())
}

/// The default of `allow_autapses` in configs (as NEST and Brian2).
#[cfg(feature = "serde")]
fn default_true() -> bool {
    true
}
