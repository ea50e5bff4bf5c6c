//! Acetylcholine kinetics and receptor effect curves.
//!
//! The concentration model and effect curves are described in the project's design notes;
//! this crate provides them as pure functions returning modulation factors.
