//! Side effects of the appchain orchestrator: everything that talks to the world.
//!
//! The deterministic workflow code in `orchestrator-workflows` declares the activities; this
//! crate implements them on top of the libraries below.

pub mod da;
pub mod pipeline;
pub mod prover;
pub mod settlement;
pub mod snos;
pub mod store;
pub mod telemetry;
pub mod source;
