//! Deterministic workflow code of the appchain orchestrator.
//!
//! This crate holds only what runs inside Temporal workflows: the per-block pipeline
//! ([`BlockWorkflow`]), the per-chain settlement ordering ([`SettlementSequencer`]), the
//! per-chain block follower ([`ChainFollower`]), the declarations of the activities they call
//! ([`activities`]) and the payload types. It uses no clock, randomness, I/O or async runtime of
//! its own: time comes from the workflow context and every side effect is an activity,
//! implemented in `orchestrator-activities`.
//!
//! Workflow and activity type names are pinned with explicit `name = …` attributes, so Rust
//! renames never break workflows that are already running.

pub mod activities;
pub mod attributes;
pub mod block;
pub mod follower;
pub mod sequencer;
pub mod types;

pub use block::BlockWorkflow;
pub use follower::ChainFollower;
pub use sequencer::SettlementSequencer;

/// Default task queue of the workers.
pub const TASK_QUEUE: &str = "orchestrator";
