//! The SNOS activity body: gathers the block's data, runs the configured runner and stores
//! the PIE and program output.

use super::{PipelineActivitiesImpl, errors::permanent};
use orchestrator_workflows::activities::SnosInput;
use orchestrator_workflows::types::SnosOutput;
use temporalio_sdk::activities::ActivityError;

/// Runs SNOS for one block.
pub(super) async fn run(_activities: &PipelineActivitiesImpl, input: SnosInput) -> Result<SnosOutput, ActivityError> {
    Err(permanent(
        format!("no SNOS runner is available yet for block {}", input.block.block_number),
        "SnosUnavailable",
    ))
}
