//! The engram runner: TOML configs, SONATA HDF5 output and the `engram` command.
//!
//! The binary (`src/main.rs`) is a thin layer over these modules: [`config`] turns a TOML
//! file into a checked network description, [`output`] writes spikes and provenance.

pub mod config;
pub mod experiment;
pub mod metrics;
pub mod output;
pub mod plot;
pub mod run;
pub mod stimuli;
pub mod sweep;
