//! The native part of the `engram` Python package (`engram._engram`), built with PyO3 and
//! maturin; the Python part is in `python/engram/`.
//!
//! It adds no science of its own: [`run`](bindings) loads a config with `engram_config`
//! exactly as `engram run` does and runs it with `engram::run::execute_observed`, the
//! CLI's own pipeline, into an HDF5 file; the package then reads that file back with
//! `engram_io` into numpy arrays. So a run from Python gives the CLI's spikes, bit for
//! bit, and `Result.save` is the CLI's file.
//!
//! # Building without Python
//!
//! Everything here sits behind the cargo feature `python`, off by default: `cargo build`,
//! `cargo test` and `cargo clippy --workspace` see an empty crate and need neither a
//! Python interpreter nor its headers, and link no test binary against libpython (which an
//! extension module must not do). maturin turns the feature on (`pyproject.toml`,
//! `[tool.maturin] features`), with PyO3's `extension-module` and `abi3-py39`: one wheel
//! for CPython 3.9 and later. `make python` builds and installs it into `.venv-python`;
//! `make test-python` runs the pytest suite in `tests/`.
//!
//! # Errors
//!
//! Errors become the exceptions of `engram/_errors.py`: a config error is an
//! `engram.ConfigError` with the CLI's message and its parts (`file`, `line`, `path`,
//! `message`, `kind`); other bad input (exit code 2 in the CLI) an `engram.InputError`;
//! failures while running (exit code 1) an `engram.RunFailed`; Ctrl-C a
//! `KeyboardInterrupt`, after the run's temporary file is removed.

#[cfg(feature = "python")]
mod bindings;
