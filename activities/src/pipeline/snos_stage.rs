//! The SNOS activity body: gathers the block's data, runs the configured runner and stores
//! the PIE and program output.

use super::{PipelineActivitiesImpl, errors, source_error};
use crate::da;
use crate::snos::{self, DaInput, SnosJob, SnosRunner};
use orchestrator_workflows::activities::SnosInput;
use orchestrator_workflows::types::SnosOutput;
use temporalio_sdk::activities::ActivityError;
use tracing::info;

fn snos_error(error: snos::SnosError) -> ActivityError {
    let retryable = error.is_retryable();
    errors::failure(error.to_string(), error.failure_type(), retryable)
}

/// Runs SNOS for one block and stores its PIE and program output.
pub(super) async fn run(activities: &PipelineActivitiesImpl, input: SnosInput) -> Result<SnosOutput, ActivityError> {
    let block = &input.block;
    let number = block.block_number;
    let header = activities.source.block_header(number).await.map_err(source_error)?;
    let parent = match number {
        0 => None,
        _ => Some(activities.source.block_header(number - 1).await.map_err(source_error)?),
    };

    // The DA felts are the blobs' polynomial coefficients; padding beyond felt_count is zero.
    let blobs = activities.load_blobs(&input.da.blobs).await?;
    let mut felts = da::blob::blobs_to_felts(&blobs).map_err(|e| errors::permanent(e, "InvalidBlob"))?;
    felts.truncate(input.da.felt_count as usize);

    let job = SnosJob {
        chain_id: block.chain_id.clone(),
        block_number: number,
        block_hash: header.hash,
        prev_block_hash: header.parent_hash,
        prev_state_root: parent.map(|p| p.new_root).unwrap_or_default(),
        new_state_root: header.new_root,
        da: DaInput { felts, blobs },
    };
    let output = activities.snos.run(&job).await.map_err(snos_error)?;
    let stored = snos::store_run_output(&activities.store, &block.chain_id, number, &output)
        .await
        .map_err(snos_error)?;
    info!(chain_id = %block.chain_id, block_number = number, steps = output.step_count, "SNOS run finished");
    Ok(stored)
}
