//! Waiting for started blocks to settle, for `orchestrator start --wait`.
//!
//! Progress comes from the closed state of each block's latest run. A `BlockWorkflow` run
//! completes only once its block is settled and fails only once a stage gave up, so `describe`
//! reads it without a worker. Ctrl-C stops the wait and never touches the workflows.

use crate::ops;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use orchestrator_workflows::BlockWorkflow;
use orchestrator_workflows::types::block_workflow_id;
use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::time::Duration;
use temporalio_client::{Client, WorkflowExecutionStatus};

/// Interval between two polls of the unsettled blocks.
const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Progress output of [`wait_for_settlement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// A progress bar on stderr, for a terminal.
    Bar,
    /// One line on stdout each time the settled count changes, for logs and scripts.
    Lines,
}

/// Closed state of one block's latest run.
enum BlockState {
    Settled,
    Running,
    /// The run ended without settling: failed, terminated, cancelled or timed out.
    Stopped(WorkflowExecutionStatus),
}

async fn block_state(client: &Client, chain_id: &str, block: u64) -> anyhow::Result<BlockState> {
    let workflow_id = block_workflow_id(chain_id, block);
    let description = client
        .get_workflow_handle::<BlockWorkflow>(workflow_id.clone())
        .describe(Default::default())
        .await
        .map_err(|error| {
            anyhow::anyhow!(
                "failed to describe {workflow_id} of block {block}: {error}; check that the Temporal \
                 server at TEMPORAL_ADDRESS is up"
            )
        })?;
    Ok(match description.status() {
        WorkflowExecutionStatus::Completed => BlockState::Settled,
        WorkflowExecutionStatus::Running | WorkflowExecutionStatus::ContinuedAsNew => {
            BlockState::Running
        }
        other => BlockState::Stopped(other),
    })
}

/// End of a wait that did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// Every block is settled.
    Settled,
    /// Ctrl-C stopped the wait; the workflows keep running.
    Interrupted,
}

/// Waits until every block of `range` is settled, polling every two seconds.
///
/// Returns an error naming the blocks when one stops without settling, since those need an
/// operator (`orchestrator retry`). Ctrl-C ends the wait with [`WaitOutcome::Interrupted`].
pub async fn wait_for_settlement(
    client: &Client,
    chain_id: &str,
    range: RangeInclusive<u64>,
    display: Display,
) -> anyhow::Result<WaitOutcome> {
    let (first, last) = (*range.start(), *range.end());
    let total = last - first + 1;
    let mut unsettled: BTreeSet<u64> = range.collect();
    let bar = match display {
        Display::Bar => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
        Display::Lines => ProgressBar::hidden(),
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed}] {wide_bar} {pos}/{len} blocks settled, {per_sec:.2}, ETA {eta} {msg}",
        )
        .expect("the progress template is valid"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut reported_settled = None;
    let mut first_poll = true;

    loop {
        let mut stopped = Vec::new();
        for block in unsettled.clone() {
            match block_state(client, chain_id, block).await? {
                BlockState::Settled => {
                    unsettled.remove(&block);
                }
                BlockState::Running => {}
                BlockState::Stopped(status) => stopped.push((block, status)),
            }
        }
        let settled = total - unsettled.len() as u64;
        bar.set_position(settled);
        if first_poll {
            // Blocks settled before the wait began would otherwise count towards the rate.
            bar.reset_eta();
            first_poll = false;
        }
        if display == Display::Lines && reported_settled != Some(settled) {
            println!("chain {chain_id}: {settled}/{total} blocks settled");
            reported_settled = Some(settled);
        }
        if !stopped.is_empty() {
            bar.finish_and_clear();
            return Err(stopped_error(client, chain_id, &stopped).await);
        }
        if unsettled.is_empty() {
            bar.finish_and_clear();
            println!("chain {chain_id}: all {total} blocks {first}..{last} settled");
            return Ok(WaitOutcome::Settled);
        }
        if let Some(next) = unsettled.first() {
            bar.set_message(format!("next: block {next}"));
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
            _ = tokio::signal::ctrl_c() => {
                bar.finish_and_clear();
                return Ok(WaitOutcome::Interrupted);
            }
        }
    }
}

async fn stopped_error(
    client: &Client,
    chain_id: &str,
    stopped: &[(u64, WorkflowExecutionStatus)],
) -> anyhow::Error {
    let mut lines = Vec::new();
    for (block, status) in stopped {
        let reason = match ops::block_status(client, chain_id, *block).await {
            Ok(block_status) => block_status
                .last_error
                .unwrap_or_else(|| format!("run ended as {status:?}")),
            Err(_) => format!("run ended as {status:?}"),
        };
        lines.push(format!("  block {block}: {reason}"));
    }
    let blocks: Vec<String> = stopped.iter().map(|(block, _)| block.to_string()).collect();
    let fix = match blocks.as_slice() {
        [one] => format!("`orchestrator retry {one}`"),
        _ => format!("`orchestrator retry N` for each of {}", blocks.join(", ")),
    };
    anyhow::anyhow!(
        "{} block(s) stopped without settling:\n{}\nfix the cause, then run {fix}; the later blocks wait for them",
        lines.len(),
        lines.join("\n")
    )
}
