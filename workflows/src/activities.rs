//! Declarations of every activity the workflows call.
//!
//! The `orchestrator-activities` crate implements each one with
//! `#[activity(definition = pipeline_activities::X)]`, so a signature that drifts from the
//! declaration is a compile error. The names are pinned: renaming a Rust method never changes
//! the activity type recorded in running workflows' history.

#![allow(unused_variables)]

use crate::types::{
    AlertInput, ConfirmInput, ConfirmOutcome, DaOutput, FactCheckInput, FactCheckOutput,
    FollowerPoll, FollowerPollInput, ProverStatus, ProverSubmitInput, SendOutcome, SettleInput,
    SnosOutput,
};
use serde::{Deserialize, Serialize};
use temporalio_macros::activity_definitions;
use temporalio_sdk::activities::ActivityError;

/// Identifies one block of one chain as an activity input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRef {
    /// Chain id.
    pub chain_id: String,
    /// L2 block number.
    pub block_number: u64,
}

/// Input of the SNOS activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnosInput {
    /// Block to run.
    pub block: BlockRef,
    /// The block's blobs, which the program output commits to.
    pub da: DaOutput,
}

/// Input of the prover poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProverPollInput {
    /// Prover query id returned by the submission.
    pub query_id: String,
}

/// Activities of the block pipeline.
pub struct PipelineActivities;

#[activity_definitions]
impl PipelineActivities {
    /// Encodes the block's state diff into blobs and stores them.
    #[activity(name = "da_encode")]
    pub fn da_encode(block: BlockRef) -> Result<DaOutput, ActivityError> {
        unimplemented!()
    }

    /// Runs the Starknet OS (or its stand-in) for the block and stores the PIE and output.
    #[activity(name = "snos_run")]
    pub fn snos_run(input: SnosInput) -> Result<SnosOutput, ActivityError> {
        unimplemented!()
    }

    /// Submits the PIE to the prover, reusing a live query with the same dedup id.
    #[activity(name = "prover_submit")]
    pub fn prover_submit(input: ProverSubmitInput) -> Result<String, ActivityError> {
        unimplemented!()
    }

    /// Reads the status of a prover query once.
    #[activity(name = "prover_poll")]
    pub fn prover_poll(input: ProverPollInput) -> Result<ProverStatus, ActivityError> {
        unimplemented!()
    }

    /// Computes the PIE's fact and checks that the L1 fact registry contains it.
    #[activity(name = "fact_check")]
    pub fn fact_check(input: FactCheckInput) -> Result<FactCheckOutput, ActivityError> {
        unimplemented!()
    }

    /// Sends (or replaces) the block's `updateStateKzgDA` transaction, unless already settled.
    #[activity(name = "settle_send")]
    pub fn settle_send(input: SettleInput) -> Result<SendOutcome, ActivityError> {
        unimplemented!()
    }

    /// Checks once whether the block's settlement transaction is confirmed and verified.
    #[activity(name = "settle_confirm")]
    pub fn settle_confirm(input: ConfirmInput) -> Result<ConfirmOutcome, ActivityError> {
        unimplemented!()
    }

    /// Reads the last L2 block number the core contract holds, if any.
    #[activity(name = "l1_settled_block")]
    pub fn l1_settled_block(chain_id: String) -> Result<Option<u64>, ActivityError> {
        unimplemented!()
    }

    /// Reads the node's latest block and the core contract, and returns the next blocks to
    /// start, each checked against its parent's hash.
    #[activity(name = "follower_poll")]
    pub fn follower_poll(input: FollowerPollInput) -> Result<FollowerPoll, ActivityError> {
        unimplemented!()
    }

    /// Logs an operator alert and counts it in the alert metric.
    #[activity(name = "raise_alert")]
    pub fn raise_alert(input: AlertInput) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

/// Marker types of the declarations above, for `#[activity(definition = definitions::X)]`
/// in the crate that implements them.
pub mod definitions {
    pub use super::pipeline_activities::*;
}
