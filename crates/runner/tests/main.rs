//! End-to-end tests of the `engram` command: it is run as a process on the configs in
//! `tests/` and `configs/`, and its exit codes, messages and HDF5 output are checked.

mod architecture;
mod bad_configs;
mod common;
mod completions;
mod configs;
mod conventions;
mod determinism;
mod export;
mod golden;
mod guards;
mod inputs;
mod output;
mod output_safety;
mod plot;
mod provenance;
mod rates;
mod recall;
mod reports;
mod set;
mod storage;
mod sweep;
mod times;
