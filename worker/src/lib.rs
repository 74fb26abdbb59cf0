//! Library side of the `orchestrator-worker` binary: the parts that integration tests also
//! run.

pub mod telemetry;
