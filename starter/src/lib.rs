//! Client-side operations of the orchestrator, shared by the `orchestrator` CLI and the tests.

pub mod follow;
pub mod load;
pub mod ops;
pub mod status;
pub mod wait;
