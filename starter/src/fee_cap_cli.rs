//! `orchestrator fee-cap`: raise the L1 fee cap of blocks that wait for fees to drop.

use crate::temporal_cli::ChainArgs;
use anyhow::Context;
use futures::StreamExt;
use orchestrator_starter::ops;
use orchestrator_workflows::BlockWorkflow;
use orchestrator_workflows::types::block_workflow_id;
use temporalio_client::{WorkflowListOptions, WorkflowSignalOptions};

/// `orchestrator fee-cap`.
#[derive(Debug, clap::Args)]
pub struct FeeCapArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// New cap on a settlement transaction's total fee, in wei (decimal), for example
    /// 50000000000000000 for 0.05 ETH.
    pub wei: String,
    /// Block number or inclusive range to raise it for; by default every running block of the
    /// chain.
    pub blocks: Option<String>,
}

/// Sends `raise_fee_cap` to the chosen blocks and prints which ones got it.
pub async fn run(args: FeeCapArgs) -> anyhow::Result<()> {
    let wei = args.wei.trim();
    if wei.is_empty() || !wei.bytes().all(|b| b.is_ascii_digit()) || wei.parse::<u128>().is_err() {
        anyhow::bail!(
            "fee cap {wei:?} is not a decimal number of wei below 2^128; write it with digits \
             only, for example 50000000000000000"
        );
    }
    let client = ops::connect().await?;
    let chain = &args.chain.chain_id;
    let blocks: Vec<u64> = match args.blocks.as_deref() {
        Some(range) => ops::parse_block_range(range)?.collect(),
        None => running_blocks(&client, chain).await?,
    };
    if blocks.is_empty() {
        println!(
            "no running block of chain {chain}; later blocks use the worker's cap \
             (MADARA_ORCHESTRATOR_ETHEREUM_L2_STATE_UPDATE_MAX_FEE_WEI)"
        );
        return Ok(());
    }
    let mut failed = Vec::new();
    for block in &blocks {
        let handle = client.get_workflow_handle::<BlockWorkflow>(block_workflow_id(chain, *block));
        match handle
            .signal(
                BlockWorkflow::raise_fee_cap,
                wei.to_string(),
                WorkflowSignalOptions::default(),
            )
            .await
        {
            Ok(()) => println!("block {block}: fee cap raised to {wei} wei"),
            Err(error) => {
                println!("block {block}: not changed: {error}");
                failed.push(*block);
            }
        }
    }
    println!(
        "blocks started later still use the worker's cap: raise \
         MADARA_ORCHESTRATOR_ETHEREUM_L2_STATE_UPDATE_MAX_FEE_WEI and restart the workers for them"
    );
    if !failed.is_empty() {
        anyhow::bail!(
            "could not signal block(s) {failed:?}: they are not running; `orchestrator status` \
             shows their state"
        );
    }
    Ok(())
}

async fn running_blocks(
    client: &temporalio_client::Client,
    chain: &str,
) -> anyhow::Result<Vec<u64>> {
    let query = format!(
        "WorkflowType = 'BlockWorkflow' AND ChainId = '{chain}' AND ExecutionStatus = 'Running'"
    );
    let prefix = block_workflow_id(chain, 0);
    let prefix = prefix.trim_end_matches('0');
    let mut stream = client.list_workflows(query, WorkflowListOptions::default());
    let mut blocks = Vec::new();
    while let Some(execution) = stream.next().await {
        let execution = execution.context("failed to list the chain's running blocks")?;
        if let Some(number) = execution
            .id()
            .strip_prefix(prefix)
            .and_then(|n| n.parse().ok())
        {
            blocks.push(number);
        }
    }
    blocks.sort_unstable();
    blocks.dedup();
    Ok(blocks)
}
