//! `[experiment]`: the experiment kinds a config can name, and the choice between them by
//! `kind`.
//!
//! The table is read after the rest of the config: its `kind` picks the parameters type,
//! which then reads the whole table (its own `kind` included) and is compiled through
//! [`Compile`]: prepared before the network spec exists (it may size populations), built
//! into a [`Plan`] after.
//!
//! Adding a kind: write its module in engram-experiments (parameters that implement
//! [`Compile`] and, with the `serde` feature, `Deserialize`; a plan in the `kinds!` list
//! of that crate), then add one line to the `experiment_kinds!` list at the end of this
//! file.

use engram_core::FieldError;
use engram_core::memory::MemoryLimit;
use engram_experiments::recall::{self, StimulusParams};
use engram_experiments::stimuli::ImageLoader;
use engram_experiments::{Compile, Plan};
use engram_network::NetworkSpec;
use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, IgnoredAny};

/// `(dotted field path, message)`.
type Invalid = (String, String);

/// Declares the kinds: one line `Name(parameters type)` per kind, selected by
/// `kind = "name"` (snake case). Generates [`ExperimentParams`], [`Prepared`] and the
/// dispatch between them.
macro_rules! experiment_kinds {
    ($($kind:ident($params:ty)),* $(,)?) => {
        /// The value of `[experiment] kind`.
        #[derive(Debug, Clone, Copy, Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Kind {
            $($kind,)*
        }

        /// The parameters of an `[experiment]`, of the kind it names.
        #[derive(Debug, Clone)]
        pub enum ExperimentParams {
            $(
                #[doc = concat!("[`", stringify!($params), "`].")]
                $kind($params),
            )*
        }

        /// What preparing an experiment hands on to building it.
        #[derive(Debug)]
        pub enum Prepared {
            $(
                #[doc = concat!("Of [`", stringify!($params), "`].")]
                $kind(<$params as Compile>::Prepared),
            )*
        }

        impl ExperimentParams {
            /// The parameters of `kind`, read from the whole table.
            fn of_kind(kind: Kind, table: toml::Value) -> Result<Self, Invalid> {
                Ok(match kind {
                    $(Kind::$kind => ExperimentParams::$kind(read(table)?),)*
                })
            }

            /// The parameters of the first kind, read from `table`: what a table without
            /// a `kind` gives (its errors, then the missing `kind`).
            fn of_first_kind(table: toml::Value) -> Result<Self, Invalid> {
                let first = [$(Kind::$kind),*][0];
                Self::of_kind(first, table)
            }

            /// Checks the parameters against the populations and prepares the stimuli; see
            /// [`Compile::prepare`].
            pub fn prepare(
                &self,
                stimuli: Option<&StimulusParams>,
                populations: &mut IndexMap<String, Option<u32>>,
                seed: u64,
                images: &mut ImageLoader<'_>,
                memory: Option<&MemoryLimit>,
            ) -> Result<Prepared, FieldError> {
                Ok(match self {
                    $(ExperimentParams::$kind(p) => {
                        Prepared::$kind(p.prepare(stimuli, populations, seed, images, memory)?)
                    })*
                })
            }

            /// Adds the experiment's inputs to `spec` and lays out its plan; see
            /// [`Compile::build`].
            pub fn build(
                &self,
                stimuli: Option<&StimulusParams>,
                prepared: Prepared,
                spec: &mut NetworkSpec,
                memory: Option<&MemoryLimit>,
            ) -> Result<Plan, FieldError> {
                #[allow(unreachable_patterns)]
                match (self, prepared) {
                    $((ExperimentParams::$kind(p), Prepared::$kind(x)) => p.build(stimuli, x, spec, memory),)*
                    _ => panic!("prepared for another kind of experiment"),
                }
            }
        }
    };
}

/// Skips `[experiment]` while the rest of the file is read, so that the table is known
/// there (an unknown top-level key lists it); [`parse`] reads it afterwards.
pub(crate) fn later<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ExperimentParams>, D::Error> {
    IgnoredAny::deserialize(d)?;
    Ok(None)
}

/// Reads the `[experiment]` table: `kind`, then the parameters of that kind. Paths in
/// errors start at the config's root (`experiment.kind`).
pub(crate) fn parse(value: toml::Value) -> Result<ExperimentParams, Invalid> {
    let kind = match &value {
        toml::Value::Table(t) => t.get("kind").cloned(),
        _ => None,
    };
    match kind {
        Some(kind) => {
            let kind: Kind = read(kind).map_err(|(_, m)| ("experiment.kind".into(), m))?;
            ExperimentParams::of_kind(kind, value)
        }
        None => ExperimentParams::of_first_kind(value),
    }
}

/// Deserializes `value`, the table at `experiment`, keeping the path of an error.
fn read<T: DeserializeOwned>(value: toml::Value) -> Result<T, Invalid> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = crate::clean_path(&e.path().to_string());
        let path = if path.is_empty() {
            "experiment".to_string()
        } else {
            format!("experiment.{path}")
        };
        (path, e.inner().message().trim().to_string())
    })
}

// The experiment kinds a config can name: one line per kind.
experiment_kinds! {
    Recall(recall::RecallParams),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Value {
        toml::Value::Table(toml::from_str(text).expect("TOML"))
    }

    #[test]
    fn kind_chooses_the_parameters_and_errors_name_the_field() {
        let p = parse(table("kind = \"recall\"\nlayers = [\"a\", \"b\"]")).expect("valid");
        assert!(matches!(p, ExperimentParams::Recall(_)));
        let e = parse(table("kind = \"nope\"\nlayers = [\"a\", \"b\"]")).unwrap_err();
        assert_eq!(e.0, "experiment.kind");
        assert_eq!(e.1, "unknown variant `nope`, expected `recall`");
        let e = parse(table("layers = [\"a\", \"b\"]")).unwrap_err();
        assert_eq!(e, ("experiment".into(), "missing field `kind`".into()));
        let e = parse(table("kind = \"recall\"\nlayers = [\"a\"]\nencode = 1")).unwrap_err();
        assert_eq!(e.0, "experiment.encode");
        assert!(
            e.1.starts_with("unknown field `encode`, expected one of `kind`, `layers`"),
            "{}",
            e.1
        );
        let e = parse(toml::Value::Integer(5)).unwrap_err();
        assert_eq!(e.0, "experiment");
    }
}
